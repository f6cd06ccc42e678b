#!/usr/bin/env python3
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
"""The one-way dependency rule of user/, read off the #include lines.

Each folder of user/ is a layer (README, "Architecture"); a file may include
its own folder and the layers listed for it below, nothing else. Prints one
PASS or FAIL line per rule (tests/run.sh counts them) and exits 1 on a
failure:
  - no include reaches a layer its folder may not use (upward or sideways);
  - no cycle among user/'s headers;
  - user/ headers are included by their path from user/ ("meter/meter.h").
"""
import os
import re
import sys

# Layers below each folder, bottom up. main.c is user/'s only loose file.
ALLOWED = {
    "common": [],
    "select": ["common"],
    "record": ["common"],
    "capture": ["common"],
    "gencap": ["common"],
    "meter": ["common", "select"],
    "export": ["common", "record"],
    "ops": ["common", "meter"],
    "collector": ["common", "meter", "select", "record", "export", "ops"],
    "cli": ["common", "meter", "select", "record", "export", "ops", "collector",
            "capture"],
    "modes": ["common", "meter", "select", "record", "export", "ops", "collector",
              "capture", "cli"],
    "main": ["common", "modes", "cli"],
    "cat": ["common", "record", "export", "select"],
}
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)


def sources(top):
    for d, _, files in os.walk(os.path.join(top, "user")):
        for f in sorted(files):
            if f.endswith((".c", ".h")):
                yield os.path.relpath(os.path.join(d, f), os.path.join(top, "user"))


def layer_of(path):
    return path.split("/")[0] if "/" in path else "main"


def main():
    top = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    files = list(sources(top))
    known = set(files)
    edges = {}
    errors = {"layer": [], "bare": [], "unknown": []}
    for f in files:
        text = open(os.path.join(top, "user", f)).read()
        here = layer_of(f)
        if here not in ALLOWED:
            errors["unknown"].append(f"{f}: folder '{here}' is not a layer of the rule")
            continue
        edges[f] = []
        for inc in INCLUDE.findall(text):
            sibling = os.path.join(os.path.dirname(f), inc)
            if "/" not in inc and sibling in known:
                errors["bare"].append(f'{f}: #include "{inc}": write "{sibling}"')
                inc = sibling
            if inc not in known:
                continue  # bpf/, generated or system headers
            edges[f].append(inc)
            there = layer_of(inc)
            if there != here and there not in ALLOWED[here]:
                errors["layer"].append(f"{f} includes {inc}: {here}/ may not use {there}/")
    cycle = find_cycle(edges)
    results = [
        ("every include goes down the layers (README, Architecture)", errors["layer"]),
        ("every folder of user/ is a layer of the rule", errors["unknown"]),
        ("user/ headers are included by their path from user/", errors["bare"]),
        ("no include cycle among user/'s files", [" -> ".join(cycle)] if cycle else []),
    ]
    failed = 0
    for name, errs in results:
        print(("FAIL" if errs else "PASS") + " layout: " + name)
        for e in errs:
            print("  " + e, file=sys.stderr)
        failed += bool(errs)
    return 1 if failed else 0


def find_cycle(edges):
    state = {}
    stack = []

    def visit(n):
        state[n] = 1
        stack.append(n)
        for m in edges.get(n, []):
            if state.get(m) == 1:
                return stack[stack.index(m):] + [m]
            if m not in state:
                c = visit(m)
                if c:
                    return c
        stack.pop()
        state[n] = 2
        return None

    for n in sorted(edges):
        if n not in state:
            c = visit(n)
            if c:
                return c
    return None


if __name__ == "__main__":
    sys.exit(main())
