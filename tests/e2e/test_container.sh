#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# The container images and the sidecar test (deploy/container-test.sh) as a
# suite of make check: both images built with podman on a Debian 12 base made
# by debootstrap (cached after the first run: about 100 s from nothing, a few
# seconds after), the collector container on a veth between two namespaces
# with only its three capabilities, the consumer container printing the
# exact flows.
cd "$(dirname "$0")/../.." || exit 1
BUILD=$(cd "${BUILD:-build}" && pwd) exec deploy/container-test.sh
