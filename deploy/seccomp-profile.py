#!/usr/bin/env python3
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
"""Writes the seccomp profile the collector container runs under.

It is the container runtime's own default profile with one change: bpf()
is allowed to a container that holds CAP_BPF. Older profiles (Debian 12's
containers-common, podman 4.3) allow bpf() only with CAP_SYS_ADMIN, which
would force the collector to hold CAP_SYS_ADMIN for nothing: the kernel
itself asks for CAP_BPF (+ CAP_NET_ADMIN for XDP, CAP_PERFMON for the
verifier). Newer default profiles already contain this rule, and then the
output equals the input apart from order.

    seccomp-profile.py [DEFAULT_PROFILE] > profile.json
"""
import json
import sys

DEFAULT = "/usr/share/containers/seccomp.json"


def opens_bpf(rule):
    inc = rule.get("includes") or {}
    return rule.get("action") == "SCMP_ACT_ALLOW" and "bpf" in rule.get("names", []) and \
        "CAP_BPF" in (inc.get("caps") or [])


def main():
    src = sys.argv[1] if len(sys.argv) > 1 else DEFAULT
    with open(src) as f:
        profile = json.load(f)
    rules = profile.get("syscalls") or []
    if any(opens_bpf(r) for r in rules):
        json.dump(profile, sys.stdout, indent=1)
        return
    # The rule that answers EPERM to bpf() without CAP_SYS_ADMIN must not
    # also fire when CAP_BPF is held: take bpf out of it, and deny it in a
    # rule of its own that CAP_BPF (or CAP_SYS_ADMIN) skips.
    for r in rules:
        exc = (r.get("excludes") or {}).get("caps") or []
        if r.get("action") == "SCMP_ACT_ERRNO" and "bpf" in r.get("names", []) and exc:
            r["names"] = [n for n in r["names"] if n != "bpf"]
    rules[:] = [r for r in rules if r.get("names")]
    rules.append({"names": ["bpf"], "action": "SCMP_ACT_ALLOW", "args": [],
                  "comment": "nfxdp: bpf() for CAP_BPF", "includes": {"caps": ["CAP_BPF"]},
                  "excludes": {}})
    rules.append({"names": ["bpf"], "action": "SCMP_ACT_ERRNO", "args": [],
                  "comment": "nfxdp: EPERM, not ENOSYS, without the capabilities",
                  "includes": {}, "excludes": {"caps": ["CAP_SYS_ADMIN", "CAP_BPF"]},
                  "errnoRet": 1, "errno": "EPERM"})
    profile["syscalls"] = rules
    json.dump(profile, sys.stdout, indent=1)


if __name__ == "__main__":
    main()
