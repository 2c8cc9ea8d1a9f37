#!/usr/bin/env bash
# The project's single test command: Swift build (once), Swift tests, then the Python tests
# (annotation package, compare tool, and the end-to-end corpus against NumPy).
set -euo pipefail
cd "$(dirname "$0")/.."

stage=""
trap 'status=$?; if [ $status -ne 0 ]; then echo; echo "tools/test.sh: FAILED at stage: ${stage} (exit ${status})" >&2; fi' EXIT

stage="swift build --build-tests"
echo "==> ${stage}"
swift build --build-tests

stage="swift test --skip-build"
echo "==> ${stage}"
swift test --skip-build

stage="python tests (pytest tools/tests)"
echo "==> ${stage}"
BRAID="${BRAID:-$(swift build --show-bin-path)/braid}"
export BRAID
export PYTHONPATH="${PWD}/tools${PYTHONPATH:+:${PYTHONPATH}}"
python3 -m pytest -q tools/tests

stage=""
echo "==> all stages passed"
