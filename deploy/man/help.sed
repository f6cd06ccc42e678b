# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# Adapts `--help` text to what help2man parses, without changing the text
# the programs print: a second usage line becomes an "or:" line, the short
# descriptions after usage lines go (SYNOPSIS holds forms, not prose), and a
# word split by a hyphen at the end of a line is joined again.
/^Usage: /{
	s/\(\]\)  *[a-z][^][]*$/\1/
	n
	s/^       \(nfxdp[-a-z]* .*\)$/  or:  \1/
	s/\(\]\)  *[a-z][^][]*$/\1/
}
/[a-z]-$/{
	N
	s/-\n  *\([a-z]\)/-\1/
}
