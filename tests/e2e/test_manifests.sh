#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# The Kubernetes manifests in deploy/k8s, parsed with python3-yaml: security
# context (capabilities add exactly CAP_BPF, CAP_NET_ADMIN, CAP_PERFMON to
# the collector and nothing to the consumer, drop ALL, never privileged, a
# reason for every container that runs as root), probes on the health
# endpoint nfxdp is told to serve, resources, volumes, and options that
# nfxdp and nfxdp-cat really have. No cluster needed.
set -u
SUITE=e2e-manifests
TOP=$(cd "$(dirname "$0")/../.." && pwd)
B=${BUILD:-$TOP/build}
PY=${PYTHON:-/usr/bin/python3} # Debian's python3-yaml lives there
K8S=${K8S_DIR:-$TOP/deploy/k8s} # another directory: for testing this test
T=$(mktemp -d /tmp/nfxdp-manifests.XXXXXX)
trap 'rm -rf "$T"' EXIT
FAILED=0

pass() { echo "PASS $SUITE: $*"; }
fail() { echo "FAIL $SUITE: $*"; FAILED=1; }

"$PY" -c 'import yaml' 2>/dev/null || { fail "python3-yaml is installed"; exit 1; }
for p in nfxdp nfxdp-cat; do
	if [ -x "$B/$p" ]; then
		"$B/$p" --help >"$T/$p.help" 2>&1
	else
		echo "SKIP $SUITE: $B/$p not built: option names not checked"
		: >"$T/$p.help"
	fi
done

"$PY" - "$K8S" "$T/nfxdp.help" "$T/nfxdp-cat.help" >"$T/out" 2>&1 <<'EOF'
import glob
import os
import re
import sys

import yaml

k8s_dir, nfxdp_help, cat_help = sys.argv[1:4]
COLLECTOR_CAPS = {"BPF", "NET_ADMIN", "PERFMON"}
BYTES_PER_FLOW = 250
DEFAULT_MAX_FLOWS = 1048576


def res(name, ok, detail=""):
    print("%s\t%s\t%s" % ("PASS" if ok else "FAIL", name, detail))


def quantity(q):
    """A Kubernetes quantity (cpu or memory) as a float."""
    q = str(q)
    units = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "k": 1e3, "M": 1e6,
             "G": 1e9, "m": 1e-3}
    for u, f in sorted(units.items(), key=lambda x: -len(x[0])):
        if q.endswith(u):
            return float(q[:-len(u)]) * f
    return float(q)


def options(help_file):
    text = open(help_file).read()
    return set(re.findall(r"(--[a-z][a-z-]*)", text)), bool(text)


def arg_value(args, opt, default=None):
    for i, a in enumerate(args):
        if a == opt and i + 1 < len(args):
            return args[i + 1]
    return default


def pod_specs(docs):
    """(label, pod spec, pod metadata) of every workload."""
    for d in docs:
        if d["kind"] == "Pod":
            yield "%s %s" % (d["kind"], d["metadata"]["name"]), d["spec"], d["metadata"]
        elif d["kind"] in ("DaemonSet", "Deployment", "StatefulSet"):
            t = d["spec"]["template"]
            yield "%s %s" % (d["kind"], d["metadata"]["name"]), t["spec"], t["metadata"]


def is_collector(c):
    return "--iface" in (c.get("args") or [])


def check_security(where, spec, meta, c):
    n = "%s/%s" % (where, c["name"])
    sc = c.get("securityContext") or {}
    caps = sc.get("capabilities") or {}
    add = caps.get("add") or []
    res(n + ": privileged is false", sc.get("privileged") is False, sc.get("privileged"))
    res(n + ": no privilege escalation", sc.get("allowPrivilegeEscalation") is False)
    res(n + ": read-only root", sc.get("readOnlyRootFilesystem") is True)
    res(n + ": drops ALL", caps.get("drop") == ["ALL"], caps.get("drop"))
    if is_collector(c):
        res(n + ": adds exactly BPF, NET_ADMIN, PERFMON",
            len(add) == 3 and set(add) == COLLECTOR_CAPS, add)
    else:
        res(n + ": adds no capability", add == [], add)
    res(n + ": runAsNonRoot stated", "runAsNonRoot" in sc)
    root = sc.get("runAsNonRoot") is False or sc.get("runAsUser") == 0
    if root:
        why = (meta.get("annotations") or {}).get("nfxdp/why-root", "")
        res(n + ": runs as root and says why", (c["name"] + ":") in why, why[:60])
    else:
        res(n + ": non-root", sc.get("runAsNonRoot") is True)
    seccomp = sc.get("seccompProfile") or (spec.get("securityContext") or {}).get("seccompProfile")
    res(n + ": seccomp profile", bool(seccomp) and seccomp.get("type") in
        ("RuntimeDefault", "Localhost"), seccomp)


def check_resources(where, c):
    n = "%s/%s" % (where, c["name"])
    r = c.get("resources") or {}
    ok = all(k in r.get(s, {}) for s in ("requests", "limits") for k in ("cpu", "memory"))
    res(n + ": cpu and memory requests and limits", ok, r)
    if not ok:
        return
    res(n + ": limits >= requests", all(quantity(r["limits"][k]) >= quantity(r["requests"][k])
                                         for k in ("cpu", "memory")))
    if is_collector(c):
        flows = int(arg_value(c["args"], "--max-flows", DEFAULT_MAX_FLOWS))
        need = flows * BYTES_PER_FLOW + 32 * 2**20
        res(n + ": memory limit holds the flow map (%d flows)" % flows,
            quantity(r["limits"]["memory"]) >= need,
            "%s < %d" % (r["limits"]["memory"], need))


def metrics_addr(c):
    m = arg_value(c.get("args") or [], "--metrics")
    if not m:
        return None, None
    host, _, port = m.rpartition(":")
    return host, int(port)


def check_probes(where, spec, c):
    n = "%s/%s" % (where, c["name"])
    host, port = metrics_addr(c)
    res(n + ": serves --metrics", port is not None)
    if port is None:
        return
    env = {e["name"]: e for e in c.get("env") or []}
    for var in re.findall(r"\$\((\w+)\)", host):
        res(n + ": $(%s) is defined" % var, var in env)
    for kind in ("livenessProbe", "readinessProbe"):
        p = (c.get(kind) or {}).get("httpGet") or {}
        res("%s: %s on /healthz port %d" % (n, kind, port),
            p.get("path") == "/healthz" and p.get("port") == port, p)
        # The kubelet probes the Pod IP unless told otherwise; a loopback
        # address is reachable only when the Pod shares the host's network.
        if host in ("127.0.0.1", "[::1]"):
            res("%s: %s reaches loopback" % (n, kind),
                spec.get("hostNetwork") is True and p.get("host") == host.strip("[]"), p)
        else:
            res("%s: %s probes the Pod address" % (n, kind), "host" not in p, p)


def check_volumes(where, spec, c):
    n = "%s/%s" % (where, c["name"])
    vols = {v["name"]: v for v in spec.get("volumes") or []}
    for m in c.get("volumeMounts") or []:
        res(n + ": volume %s is defined" % m["name"], m["name"] in vols)
        v = vols.get(m["name"], {})
        if m["mountPath"] == "/sys/fs/bpf":
            res(n + ": bpffs from the host", (v.get("hostPath") or {}).get("path") == "/sys/fs/bpf")
            res(n + ": bpffs propagation is not Bidirectional (that needs privileged)",
                m.get("mountPropagation") != "Bidirectional")
        if m["mountPath"] == "/sys":
            res(n + ": /sys read-only", m.get("readOnly") is True)


def check_daemonset(d):
    n = "DaemonSet " + d["metadata"]["name"]
    t = d["spec"]["template"]
    sel = d["spec"]["selector"]["matchLabels"]
    res(n + ": selector matches the template", all(t["metadata"]["labels"].get(k) == v
                                                   for k, v in sel.items()))
    spec = t["spec"]
    res(n + ": hostNetwork", spec.get("hostNetwork") is True)
    res(n + ": no hostPID or hostIPC", not spec.get("hostPID") and not spec.get("hostIPC"))
    res(n + ": time to flush on SIGTERM", spec.get("terminationGracePeriodSeconds", 30) >= 10)
    col = [c for c in spec["containers"] if is_collector(c)]
    res(n + ": one collector container", len(col) == 1)
    mounts = {m["mountPath"] for c in col for m in c.get("volumeMounts") or []}
    res(n + ": mounts bpffs and /sys", {"/sys/fs/bpf", "/sys"} <= mounts, sorted(mounts))
    # Crash-safe: the cache pinned where the next container finds it.
    args = col[0].get("args") or [] if col else []
    pins = arg_value(args, "--pin-dir", "/sys/fs/bpf/nfxdp")
    res(n + ": crash-safe: --persist, pins on the host's bpffs (%s)" % pins,
        "--persist" in args and (pins + "/").startswith("/sys/fs/bpf/"), args)


def check_sidecar(where, spec):
    cols = [c for c in spec["containers"] if is_collector(c)]
    cats = [c for c in spec["containers"] if "nfxdp-cat" in c.get("image", "")]
    if not cols or not cats:
        return
    col, cat = cols[0], cats[0]
    ep = arg_value(col["args"], "--zmq", "")
    res(where + ": collector publishes on ipc://", ep.startswith("ipc://"), ep)
    res(where + ": sidecar reads that endpoint", (cat.get("args") or [None])[0] == ep,
        cat.get("args"))
    path = ep[len("ipc://"):]
    vols = {v["name"]: v for v in spec.get("volumes") or []}

    def holder(c):
        for m in c.get("volumeMounts") or []:
            if path.startswith(m["mountPath"].rstrip("/") + "/"):
                return m
        return None
    mc, mk = holder(col), holder(cat)
    res(where + ": socket directory is a shared volume",
        bool(mc and mk) and mc["name"] == mk["name"] and mc["mountPath"] == mk["mountPath"])
    if mc:
        res(where + ": shared volume is an emptyDir", "emptyDir" in vols.get(mc["name"], {}))
        res(where + ": sidecar may write the socket (connect needs it)", not mk or
            not mk.get("readOnly"))


def check_options(where, c, help_file):
    opts, known = options(help_file)
    if not known:
        return
    used = [a for a in c.get("args") or [] if a.startswith("--")]
    for o in used:
        if o not in opts and o == "--metrics":
            print("SKIP\t%s/%s: --metrics is not in nfxdp --help yet (integration pending)\t"
                  % (where, c["name"]))
            continue
        res("%s/%s: %s is an option of the program" % (where, c["name"], o), o in opts)


files = sorted(glob.glob(os.path.join(k8s_dir, "*.yaml")))
res("manifests present", len(files) >= 2, files)
docs = []
for f in files:
    try:
        ds = [d for d in yaml.safe_load_all(open(f)) if d]
        res("parses: " + os.path.basename(f), True)
    except yaml.YAMLError as e:
        res("parses: " + os.path.basename(f), False, str(e).replace("\n", " "))
        continue
    for d in ds:
        ok = all(k in d for k in ("apiVersion", "kind", "metadata")) and "name" in d["metadata"]
        res("%s: apiVersion, kind, name" % os.path.basename(f), ok)
        if d["kind"] != "Namespace":
            res("%s %s: in namespace nfxdp" % (d["kind"], d["metadata"]["name"]),
                d["metadata"].get("namespace") == "nfxdp")
        docs.append(d)

kinds = [d["kind"] for d in docs]
res("a DaemonSet and an example Pod", "DaemonSet" in kinds and "Pod" in kinds, kinds)
for d in docs:
    if d["kind"] == "DaemonSet":
        check_daemonset(d)
for where, spec, meta in pod_specs(docs):
    for c in spec["containers"]:
        check_security(where, spec, meta, c)
        check_resources(where, c)
        check_volumes(where, spec, c)
        if is_collector(c):
            check_probes(where, spec, c)
            check_options(where, c, nfxdp_help)
        else:
            check_options(where, c, cat_help)
    check_sidecar(where, spec)
    text = yaml.safe_dump(spec)
    res(where + ": never SYS_ADMIN", "SYS_ADMIN" not in text)
EOF
status=$?
while IFS=$'\t' read -r verdict name detail; do
	case $verdict in
	PASS) pass "$name" ;;
	SKIP) echo "SKIP $SUITE: $name" ;;
	FAIL) fail "$name"; echo "  got: $detail" >&2 ;;
	*) echo "$verdict $name $detail" >&2; FAILED=1 ;;
	esac
done <"$T/out"
[ "$status" -eq 0 ] || fail "manifest checks ran (python exited $status)"
exit $FAILED
