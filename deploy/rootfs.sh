#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# The Debian 12 base image the Containerfile builds FROM, made without a
# registry: debootstrap (minbase) from the host's own Debian mirror, then
# podman import.
#
#   deploy/rootfs.sh [--refresh] [IMAGE]     (IMAGE: localhost/nfxdp-base:bookworm)
#
# Cached twice: when IMAGE exists nothing is done; otherwise the root
# filesystem tarball in $NFXDP_CACHE (/var/cache/nfxdp) is imported if
# present, and debootstrap runs only when it is not. --refresh rebuilds both.
# Environment: PODMAN (podman), DEBIAN_MIRROR, DEBIAN_SECURITY_MIRROR.
set -euo pipefail

SUITE=bookworm
IMAGE=localhost/nfxdp-base:$SUITE
CACHE=${NFXDP_CACHE:-/var/cache/nfxdp}
PODMAN=${PODMAN:-podman}
REFRESH=0

for a in "$@"; do
	case $a in
	--refresh) REFRESH=1 ;;
	-h|--help) sed -n '3,12p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	-*) echo "rootfs: unknown option $a" >&2; exit 2 ;;
	*) IMAGE=$a ;;
	esac
done

TARBALL=$CACHE/debian-$SUITE-minbase.tar
WORK=

cleanup() {
	# debootstrap leaves proc and sys mounted in the target when it fails.
	if [ -n "$WORK" ] && [ -d "$WORK" ]; then
		umount -R "$WORK/rootfs/proc" "$WORK/rootfs/sys" 2>/dev/null || true
		rm -rf --one-file-system "$WORK"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# mirror SUITE: the URI apt uses for SUITE (deb822 sources, then the
# one-line format), so debootstrap goes where apt already goes.
mirror() {
	local f uri
	for f in /etc/apt/sources.list.d/*.sources; do
		[ -r "$f" ] || continue
		uri=$(awk -v want="$1" '
			/^[ \t]*$/ { if (ok && u != "") { print u; exit } ok = 0; u = ""; next }
			/^URIs:/ { u = $2 }
			/^Suites:/ { for (i = 2; i <= NF; i++) if ($i == want) ok = 1 }
			END { if (ok && u != "") print u }' "$f" | head -1)
		[ -n "$uri" ] && { echo "${uri%/}"; return; }
	done
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
		[ -r "$f" ] || continue
		uri=$(awk -v want="$1" '$1 == "deb" && $3 == want { print $2; exit }' "$f")
		[ -n "$uri" ] && { echo "${uri%/}"; return; }
	done
	return 1
}

have_image() {
	"$PODMAN" image exists "$IMAGE" 2>/dev/null
}

# The image's own apt sources: the same mirrors, with updates and security,
# so the build stage installs the fixed versions of what it ships.
write_sources() {
	local root=$1 main=$2 sec=$3
	rm -f "$root/etc/apt/sources.list"
	cat >"$root/etc/apt/sources.list.d/debian.sources" <<EOF
Types: deb
URIs: $main
Suites: $SUITE $SUITE-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: $sec
Suites: $SUITE-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
}

# Container images do not need these; they only make the tarball larger.
slim() {
	local root=$1
	rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin \
		"$root"/var/cache/apt/archives/*.deb "$root"/var/log/*.log \
		"$root"/var/cache/debconf/*-old "$root"/tmp/* "$root"/root/.bash_history
	: >"$root/etc/machine-id"
	# Containers get their own resolver and host name from the runtime.
	rm -f "$root/etc/resolv.conf" "$root/etc/hostname"
}

make_tarball() {
	local main sec
	main=${DEBIAN_MIRROR:-$(mirror "$SUITE" || echo http://deb.debian.org/debian)}
	sec=${DEBIAN_SECURITY_MIRROR:-$(mirror "$SUITE-security" || echo http://deb.debian.org/debian-security)}
	command -v debootstrap >/dev/null || {
		echo "rootfs: debootstrap is missing (apt-get install debootstrap)" >&2
		exit 1
	}
	mkdir -p "$CACHE"
	WORK=$(mktemp -d "$CACHE/rootfs.XXXXXX")
	echo "rootfs: debootstrap $SUITE (minbase) from $main"
	if ! debootstrap --variant=minbase --keyring=/usr/share/keyrings/debian-archive-keyring.gpg \
		"$SUITE" "$WORK/rootfs" "$main" >"$WORK/debootstrap.log" 2>&1; then
		echo "rootfs: debootstrap failed; the end of its log:" >&2
		tail -20 "$WORK/debootstrap.log" >&2
		exit 1
	fi
	write_sources "$WORK/rootfs" "$main" "$sec"
	slim "$WORK/rootfs"
	# Numeric owners: the image must not depend on this host's user names.
	tar -C "$WORK/rootfs" --numeric-owner --xattrs -cf "$WORK/rootfs.tar" .
	mv "$WORK/rootfs.tar" "$TARBALL"
}

[ "$(id -u)" -eq 0 ] || { echo "rootfs: needs root (debootstrap, podman)" >&2; exit 1; }

# One run at a time: a second one waits and then finds the cache filled.
mkdir -p "$CACHE"
exec 9>"$CACHE/.rootfs.lock"
flock 9

if [ "$REFRESH" = 1 ]; then
	rm -f "$TARBALL"
	"$PODMAN" rmi -f "$IMAGE" >/dev/null 2>&1 || true
fi
if have_image; then
	echo "rootfs: $IMAGE present (cached)"
	exit 0
fi
[ -s "$TARBALL" ] || make_tarball
echo "rootfs: importing $TARBALL as $IMAGE"
"$PODMAN" import --quiet --change 'CMD ["/bin/bash"]' \
	--message "Debian $SUITE minbase (deploy/rootfs.sh)" "$TARBALL" "$IMAGE" >/dev/null
have_image || { echo "rootfs: podman import did not create $IMAGE" >&2; exit 1; }
echo "rootfs: $IMAGE ready"
