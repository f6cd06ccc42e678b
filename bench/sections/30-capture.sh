#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# Capture files: packets/s of nfxdp --pcap and of each peer's offline mode
# over the same files, best of $BENCH_RUNS runs each, with the flow counts
# each produced. Writes a Markdown section to stdout.
set -u
. "$(dirname "$0")/../lib.sh"

REF=$(nfstream_ref) || { log "NFStream reference captures not found"; exit 1; }

# The reference captures with an Ethernet link type, concatenated.
make_ref_capture() {
	local out=$WORK/reference.pcap files=()
	[ -s "$out" ] && { echo "$out"; return; }
	for f in "$REF"/pcaps/*; do
		[ "$("$B/tests/pcapinfo" "$f" | awk '{print $2}')" = 1 ] && files+=("$f")
	done
	mergecap -a -F pcap -w "$out" "${files[@]}" || return 1
	echo "$out"
}

make_gen_capture() {
	local out=$WORK/generated.pcap
	[ -s "$out" ] || "$B/nfxdp-gencap" -o "$out" --packets 2000000 --flows 50000 >&2 || return 1
	echo "$out"
}

# Each tool: run it, then count the flows it produced. Output: seconds flows.
run_nfxdp() {
	local s
	s=$(wall "$B/nfxdp" --pcap "$1" --output "$WORK/nfxdp.pb" --format pb)
	echo "$s $("$B/nfxdp-cat" --input "$WORK/nfxdp.pb" --format csv | tail -n +2 | wc -l)"
}

run_softflowd() {
	local s
	s=$(wall softflowd -6 -r "$1")
	echo "$s $(grep -o 'Flows exported: [0-9]*' "$WORK/last.out" "$WORK/last.err" | head -1 | awk '{print $NF}')"
}

run_nfpcapd() {
	local s
	nfpcapd_once() {
		rm -rf "$WORK/nfpcapd"
		mkdir -p "$WORK/nfpcapd"
		nfpcapd -r "$1" -l "$WORK/nfpcapd"
	}
	s=$(wall nfpcapd_once "$1")
	echo "$s $(nfdump -R "$WORK/nfpcapd" -q -o fmt:%pr 2>/dev/null | wc -l)"
}

run_argus() {
	local s
	s=$(wall argus -r "$1" -w "$WORK/argus.out")
	echo "$s $(ra -r "$WORK/argus.out" -n -L -1 2>/dev/null | wc -l)"
}

run_ndpi() {
	local s
	s=$(wall ndpiReader -i "$1" -v 2 -C "$WORK/ndpi.csv")
	echo "$s $(($(wc -l <"$WORK/ndpi.csv") - 1))"
}

measure() {
	local file=$1 label=$2 packets best_peer=0 best_name="" nfxdp_rate
	packets=$("$B/tests/pcapinfo" "$file" | awk '{print $3}')
	echo
	echo "**$label**: $(du -m "$file" | cut -f1) MB, $packets packets"
	echo
	echo "| tool | command | seconds | M packets/s | flows | nfxdp is faster by |"
	echo "| --- | --- | ---: | ---: | ---: | ---: |"
	local rows=() t
	for t in nfxdp softflowd nfpcapd argus ndpi; do
		local r secs flows mpps
		r=$(run_$t "$file")
		secs=${r% *}
		flows=${r#* }
		mpps=$(rate "$packets" "$secs")
		rows+=("$t $secs $flows $mpps")
		if [ "$t" = nfxdp ]; then
			nfxdp_rate=$mpps
		elif awk -v a="$mpps" -v b="$best_peer" 'BEGIN { exit !(a > b) }'; then
			best_peer=$mpps
			best_name=$t
		fi
	done
	for r in "${rows[@]}"; do
		set -- $r
		local cmd
		case $1 in
		nfxdp) cmd='`nfxdp --pcap F --output F.pb --format pb`' ;;
		softflowd) cmd='`softflowd -6 -r F`' ;;
		nfpcapd) cmd='`nfpcapd -r F -l DIR`' ;;
		argus) cmd='`argus -r F -w F.argus`' ;;
		ndpi) cmd='`ndpiReader -i F -v 2 -C F.csv`' ;;
		esac
		echo "| $1 | $cmd | $2 | $4 | $3 | $(ratio "$nfxdp_rate" "$4")x |"
	done
	echo
	echo "nfxdp: **$(ratio "$nfxdp_rate" "$best_peer")x** the fastest peer ($best_name)."
}

log "capture files: preparing"
ref=$(make_ref_capture) || exit 1
gen=$(make_gen_capture) || exit 1
echo "## Capture files"
echo
echo "Packets per second metering a whole capture file, best of $RUNS runs, every tool"
echo "on the same file in the same run; \"flows\" is what each tool produced (they"
echo "split and count flows differently: nfpcapd and argus count each direction,"
echo "softflowd splits at TCP teardown). nfxdp writes its flows as protobuf, the"
echo "peers their own binary formats (softflowd only counts them)."
log "capture files: reference set"
measure "$ref" "The NFStream reference captures (Ethernet), concatenated"
log "capture files: generated capture"
measure "$gen" "A generated capture (\`nfxdp-gencap --packets 2000000 --flows 50000\`: TCP with handshakes and teardowns, UDP, ICMP, 20% IPv6)"
