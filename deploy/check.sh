#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# Every deployment check (make deploy-check): Kubernetes manifests, systemd
# unit, metrics endpoint, man pages, container images end to end. Ends with
# "N passed, N failed"; exit status 0 only when nothing failed.
set -u
cd "$(dirname "$0")/.."
B=${BUILD:-$PWD/build}
export BUILD=$B
log=$(mktemp)
trap 'rm -f "$log"' EXIT

# run NAME CMD...: a check that dies without a result line still fails.
run() {
	local name=$1 before status
	shift
	echo "== $name"
	before=$(grep -c '^FAIL ' "$log")
	"$@" 2>&1 | tee -a "$log"
	status=${PIPESTATUS[0]}
	if [ "$status" -ne 0 ] && [ "$(grep -c '^FAIL ' "$log")" = "$before" ]; then
		echo "FAIL $name: exited with status $status" | tee -a "$log"
	fi
}

# The man pages: present, free of groff warnings, with the extra sections.
man_pages() {
	local page sec failed=0
	for page in "$B/man/nfxdp.8" "$B/man/nfxdp-cat.1"; do
		if [ ! -s "$page" ]; then
			echo "FAIL deploy-man: $(basename "$page") built"
			failed=1
			continue
		fi
		if [ -z "$(groff -man -ww -z "$page" 2>&1)" ]; then
			echo "PASS deploy-man: $(basename "$page"): no groff warnings"
		else
			echo "FAIL deploy-man: $(basename "$page"): groff warnings"
			groff -man -ww -z "$page" >&2
			failed=1
		fi
		for sec in NAME SYNOPSIS DESCRIPTION "EXPIRATION IDS" FILES SIGNALS EXAMPLES "SEE ALSO"; do
			if grep -q "^\.SH \"\?$sec\"\?$" "$page"; then
				echo "PASS deploy-man: $(basename "$page"): $sec"
			else
				echo "FAIL deploy-man: $(basename "$page"): $sec"
				failed=1
			fi
		done
	done
	return $failed
}

run deploy-man man_pages
run e2e-manifests bash tests/e2e/test_manifests.sh
run e2e-systemd bash tests/e2e/test_systemd.sh
run e2e-metrics bash tests/e2e/test_metrics.sh
run deploy bash deploy/container-test.sh

passed=$(grep -c '^PASS ' "$log")
failed=$(grep -c '^FAIL ' "$log")
if [ "$failed" -gt 0 ]; then
	echo
	echo "Failed:"
	grep '^FAIL ' "$log"
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
