#!/usr/bin/env bash
# Benchmarks of the corpus: Braid against CPython/NumPy and the peers (Numba, Pythran, DaCe).
#
#   tools/bench/run.sh setup          # create the peers' virtual environments (once; needs PyPI)
#   tools/bench/run.sh                # every program, every tool: results/*.json + peers-report.md
#   tools/bench/run.sh run --programs gemm jacobi_2d --tools braid numba --repeat 3
#   tools/bench/run.sh calibrate      # recompute sizes.json (NumPy >= 0.1 s per call)
#   tools/bench/run.sh report results/X.json
#   tools/bench/run.sh numpy          # the older Braid-vs-NumPy table at the default preset (braid.compare)
#
# The peers are benchmark-only: nothing here is needed by the build or the tests.
set -euo pipefail
cd "$(dirname "$0")/../.."
bench=tools/bench
braid="${BRAID:-.build/debug/braid}"

setup() {
    # Numba and Pythran beside the system NumPy; DaCe 1.0.2 in its own environment (numpy<2,
    # networkx<3.6). Pythran needs g++ with OpenMP; DaCe needs cmake and LAPACKE/OpenBLAS
    # (Debian: cmake liblapacke-dev libopenblas-dev).
    [ -x $bench/.venv/bin/python ] || python3 -m venv --system-site-packages $bench/.venv
    $bench/.venv/bin/pip install -q numba pythran
    [ -x $bench/.venv-dace/bin/python ] || python3 -m venv $bench/.venv-dace
    $bench/.venv-dace/bin/pip install -q "dace==1.0.2" "numpy<2" "networkx<3.6"
}

py=python3
[ -x $bench/.venv/bin/python ] && py=$bench/.venv/bin/python
case "${1:-run}" in
    setup) setup ;;
    numpy)
        out="$(mktemp -d)"
        files=$(grep -L "expect-error" corpus/*/*.py)
        for f in $files; do "$braid" build "$f" -o "$out" > /dev/null; done
        PYTHONPATH=tools python3 -m braid.compare $files --module-dir "$out" --preset default --repeat "${REPEAT:-5}"
        ;;
    run) shift || true; BRAID="$braid" exec $py $bench/peers.py run "$@" ;;
    *) exec $py $bench/peers.py "$@" ;;
esac
