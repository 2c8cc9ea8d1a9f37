#!/usr/bin/env bash
# Builds every corpus program that compiles today and times it against CPython/NumPy at its
# `default` preset; prints the side-by-side table (see cpu-vs-numpy.md for the last report).
set -euo pipefail
cd "$(dirname "$0")/../.."
braid="${BRAID:-.build/debug/braid}"
out="$(mktemp -d)"
files=$(grep -L "expect-error" corpus/*/*.py)
for f in $files; do "$braid" build "$f" -o "$out" > /dev/null; done
PYTHONPATH=tools python3 -m braid.compare $files --module-dir "$out" --preset default --repeat "${REPEAT:-5}"
