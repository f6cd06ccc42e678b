#!/bin/sh
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# Runs in the Containerfile's build stage: copies programs and exactly the
# shared libraries they load (as ldd resolves them, dynamic loader included;
# and those they load when first used, with theirs) into a root directory
# that becomes a FROM-scratch image, with the Debian copyright file of every
# package a library comes from.
#
#   stage-runtime.sh ROOT PROGRAM...
set -eu

root=$1
shift

# The package that ships @1, for its copyright file. bookworm still lists
# some libraries under /lib, others under /usr/lib.
package_of() {
	dpkg -S "$1" 2>/dev/null | head -1 | cut -d: -f1 ||
		true
}

copy_lib() {
	lib=$1
	[ -e "$root$lib" ] && return 0
	mkdir -p "$root$(dirname "$lib")"
	cp -L "$lib" "$root$lib"
	real=$(readlink -f "$lib")
	pkg=$(package_of "$real")
	[ -n "$pkg" ] || pkg=$(package_of "${real#/usr}")
	if [ -n "$pkg" ] && [ -r "/usr/share/doc/$pkg/copyright" ]; then
		mkdir -p "$root/usr/share/doc/$pkg"
		cp "/usr/share/doc/$pkg/copyright" "$root/usr/share/doc/$pkg/"
	else
		echo "stage-runtime: no copyright file found for $lib" >&2
	fi
}

# What @1 loads at start: "name => /path (addr)" lines, and the loader's own
# "/path (addr)" line.
libs_of() {
	ldd "$1" | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }'
}

# What @1 loads when first used (ZeroMQ, libpcap, MQTT, --metrics, --dpi:
# user/common/lazylib.h): their sonames are strings in the program.
lazy_libs_of() {
	for so in $(strings "$1" | grep -E '^lib[a-z0-9_+-]+\.so\.[0-9.]+$' | sort -u); do
		ldconfig -p | awk -v so="$so" '$1 == so { print $NF; exit }'
	done
}

for prog in "$@"; do
	install -D -m 0755 "$prog" "$root/usr/bin/$(basename "$prog")"
	for lib in $(libs_of "$prog"); do
		copy_lib "$lib"
	done
	for lazy in $(lazy_libs_of "$prog"); do
		for lib in "$lazy" $(libs_of "$lazy"); do
			copy_lib "$lib"
		done
	done
done

# Name lookups for numeric ids only; no shell, no package manager.
mkdir -p "$root/etc" "$root/run" "$root/tmp"
chmod 1777 "$root/tmp"
printf 'root:x:0:0:root:/:/nonexistent\nnobody:x:65534:65534:nobody:/nonexistent:/nonexistent\n' \
	>"$root/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' >"$root/etc/group"
