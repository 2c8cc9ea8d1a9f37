"""Returning arrays whose size depends on data (x[x > 0], np.flatnonzero(a), a name rebound in a
loop to compacted arrays), end to end against NumPy: the native code allocates the result and
hands it to the wrapper with its shape, which copies it into a new NumPy array. Also: no leak
on success or failure, the mpi target on one case, and the clear error of the opencl and hls
targets. Integers and booleans are compared exactly, floats at rtol 1e-12 (the same operations
in the same order)."""

import shutil
import subprocess
import sys

import numpy as np
import pytest

from test_cli import run, write
from test_numpy_surface import build_pair

SOURCE = '''
import numpy as np

#pythran export positive(float64[:])
def positive(x):
    return x[x > 0]

#pythran export above(float64[:,:], float64)
def above(A, t):
    return A[A > t]

#pythran export rows(float64[:,:], float64)
def rows(A, t):
    return A[A[:, 0] > t]

#pythran export flat(float64[:,:], float64)
def flat(A, t):
    return np.flatnonzero(A > t)

#pythran export first_axis(int64[:])
def first_axis(a):
    return np.nonzero(a)[0]

#pythran export mixed(float64[:], float64)
def mixed(x, t):
    y = x * 2.0
    return y, np.sum(x), x[x > t]

#pythran export twice(float64[:], float64)
def twice(x, t):
    y = x[x > t]
    return y, y * 2.0, y

#pythran export as_bool(int64[:])
def as_bool(a):
    b = a[a != 0]
    return b > 0

#pythran export compact(float64[:], float64[:], int)
def compact(cr, ci, maxiter):
    C = cr + 1j * ci
    Z = np.zeros_like(C)
    for it in range(maxiter):
        Z = Z * Z + C
        I = np.abs(Z) <= 2.0
        Z = Z[I]
        C = C[I]
    return Z

#pythran export early(float64[:], float64)
def early(x, t):
    if t > 0:
        return x[x > t]
    y = x * 2.0
    return y

#pythran export search(float64[:])
def search(x):
    for i in range(4):
        y = x[x > i * 0.25]
        if y.shape[0] < 10:
            return y * 3.0
    return x[x > 100.0]

#pythran export fixed_first(float64[:,:], float64)
def fixed_first(A, t):
    if t > 1.0:
        return A + 1.0, t
    if t < 0.0:
        return A[A[:, 0] > 0.5], t * 2
    return A[:, A[0] > t], t

#pythran export nonzero_tuple(float64[:,:], float64)
def nonzero_tuple(A, t):
    return np.nonzero(A > t)

#pythran export argwhere(float64[:,:], float64)
def argwhere(A, t):
    return np.argwhere(A > t)

#pythran export views(float64[:,:])
def views(A):
    y = A[:, 0][A[:, 0] > 0.3]
    r = A[A[:, 0] > 0.5]
    return y[1:], r.T

#pythran export narrow(float64[:], int32[:])
def narrow(x, a):
    return x[x > 0.5].astype(np.float32), a[a % 2 == 0]

#pythran export shrink(float64[:])
def shrink(x):
    y = x * 1.0
    while y.shape[0] > 3:
        y = y[y > np.mean(y)]
    return y

#pythran export gather(float64[:], int64[:])
def gather(x, idx):
    j = idx[idx >= 0]
    return x[j]

#pythran export pick(float64[:], int64[:])
def pick(x, idx):
    y = x[x > 0.5]
    return y, x[idx]
'''


@pytest.fixture(scope="module")
def modules(tmp_path_factory):
    return build_pair(tmp_path_factory.mktemp("dynamic_results"), "dynamic_results", SOURCE)


def same(got, want):
    got = got if isinstance(got, tuple) else (got,)
    want = want if isinstance(want, tuple) else (want,)
    assert len(got) == len(want)
    for g, w in zip(got, want):
        g, w = np.asarray(g), np.asarray(w)
        assert g.shape == w.shape
        assert g.dtype == w.dtype
        if w.dtype.kind in "biu":
            assert np.array_equal(g, w)
        else:
            np.testing.assert_allclose(g, w, rtol=1e-12, atol=1e-12)


rng = np.random.default_rng(5)


@pytest.mark.parametrize("n", [0, 1, 17, 10000])
def test_selection_some_none_all(modules, n):
    compiled, reference = modules
    x = rng.standard_normal(n)
    same(compiled.positive(x), reference.positive(x))
    same(compiled.positive(np.abs(x) + 1.0), reference.positive(np.abs(x) + 1.0))  # all selected
    empty = compiled.positive(-np.abs(x) - 1.0)  # none selected
    assert empty.shape == (0,) and empty.dtype == np.float64


@pytest.mark.parametrize("shape", [(1, 1), (7, 5), (60, 40)])
def test_nd_mask_gives_1d_and_row_selection_keeps_2d(modules, shape):
    compiled, reference = modules
    A = rng.random(shape)
    for t in (0.5, 2.0, -1.0):
        same(compiled.above(A, t), reference.above(A, t))
        same(compiled.rows(A, t), reference.rows(A, t))
        same(compiled.flat(A, t), reference.flat(A, t))


def test_nonzero_int64(modules):
    compiled, reference = modules
    a = rng.integers(-2, 3, 500)
    same(compiled.first_axis(a), reference.first_axis(a))
    same(compiled.first_axis(np.zeros(3, dtype=np.int64)), reference.first_axis(np.zeros(3, dtype=np.int64)))


def test_tuple_of_fixed_scalar_and_dynamic(modules):
    compiled, reference = modules
    x = rng.random(300)
    for t in (0.3, 0.9, 2.0):
        same(compiled.mixed(x, t), reference.mixed(x, t))
        same(compiled.twice(x, t), reference.twice(x, t))
    a, _, c = compiled.twice(x, 0.5)
    assert not np.shares_memory(a, c)  # two results, two arrays, as NumPy would return the same one twice


def test_bool_result(modules):
    compiled, reference = modules
    a = rng.integers(-3, 4, 200)
    same(compiled.as_bool(a), reference.as_bool(a))


@pytest.mark.parametrize("n,maxiter", [(0, 5), (1, 5), (400, 30)])
def test_compacting_loop_returns_complex128(modules, n, maxiter):
    compiled, reference = modules
    cr, ci = rng.uniform(-2.0, 0.8, n), rng.uniform(-1.3, 1.3, n)
    same(compiled.compact(cr, ci, maxiter), reference.compact(cr, ci, maxiter))


def test_several_return_statements(modules):
    compiled, reference = modules
    x = rng.random(100)
    for t in (-1.0, 0.5, 0.99):
        same(compiled.early(x, t), reference.early(x, t))
    for x in (rng.random(100), rng.random(100) * 0.9, rng.random(5), np.zeros(0)):
        same(compiled.search(x), reference.search(x))


def test_fixed_size_first_return_then_selections(modules):
    compiled, reference = modules
    A = rng.random((30, 20))
    for t in (2.0, -1.0, 0.5, 0.0):
        same(compiled.fixed_first(A, t), reference.fixed_first(A, t))


@pytest.mark.parametrize("n", [0, 1, 6, 300])
def test_index_tuples_views_dtypes_and_while_loops(modules, n):
    compiled, reference = modules
    A, x = rng.random((n, 4)), rng.random(n)
    a = rng.integers(-9, 9, n).astype(np.int32)
    for t in (0.5, 2.0, -1.0):
        same(compiled.nonzero_tuple(A, t), reference.nonzero_tuple(A, t))
        same(compiled.argwhere(A, t), reference.argwhere(A, t))
    if n > 0:
        same(compiled.views(A), reference.views(A))
    got, want = compiled.narrow(x, a), reference.narrow(x, a)
    assert got[0].dtype == np.float32
    np.testing.assert_allclose(got[0], want[0], rtol=1e-6)
    same(got[1:], want[1:])
    same(compiled.shrink(x), reference.shrink(x))


def _rss_mib():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096 / 2**20


def test_no_leak_on_success_or_failure(modules):
    compiled, reference = modules
    x = rng.random(1_000_000)
    good = np.arange(1_000_000)
    bad = good.copy()
    bad[-1] = 1_000_000  # out of bounds: fails after the result was allocated
    same(compiled.gather(x, good), reference.gather(x, good))
    same(compiled.pick(x, good), reference.pick(x, good))
    with pytest.raises(RuntimeError, match="index out of bounds"):
        compiled.gather(x, bad)
    # pick fails after its dynamic result (x[x > 0.5], about 4 MB) was allocated and filled.
    with pytest.raises(RuntimeError, match="index out of bounds"):
        compiled.pick(x, bad)
    before = _rss_mib()
    for _ in range(1000):
        with pytest.raises(RuntimeError):
            compiled.pick(x, bad)
    for _ in range(200):
        r = compiled.positive(x)
    del r
    grown = _rss_mib() - before
    # A leak of the 4 MB or 8 MB results would grow the process by gigabytes.
    assert grown < 200, f"resident memory grew by {grown:.0f} MiB"


def test_mpi_target_two_ranks(tmp_path):
    mpiexec = shutil.which("mpiexec")
    if mpiexec is None:
        pytest.fail("mpiexec not found: install MPICH (tools/setup.sh does)", pytrace=False)
    src = write(tmp_path, "dynres_mpi.py", SOURCE)
    r = run("build", src, "-o", tmp_path, "--target", "mpi")
    assert r.returncode == 0, r.stderr
    script = write(tmp_path, "check.py", f'''
import importlib.util, sys
import numpy as np
spec = importlib.util.spec_from_file_location("dynres_mpi", {str(tmp_path / "dynres_mpi.abi3.so")!r})
m = importlib.util.module_from_spec(spec); spec.loader.exec_module(m)
rng = np.random.default_rng(3)
x = rng.standard_normal(5000)
A = rng.random((40, 30))
cr, ci = rng.uniform(-2.0, 0.8, 500), rng.uniform(-1.3, 1.3, 500)
C = cr + 1j * ci
Z = np.zeros_like(C)
for it in range(20):
    Z = Z * Z + C
    I = np.abs(Z) <= 2.0
    Z = Z[I]
    C = C[I]
checks = [
    (m.positive(x), x[x > 0]),
    (m.rows(A, 0.5), A[A[:, 0] > 0.5]),
    (m.mixed(x, 0.5)[2], x[x > 0.5]),
    (m.compact(cr, ci, 20), Z),
]
for k, (got, want) in enumerate(checks):
    if got.shape != want.shape or got.dtype != want.dtype or not np.allclose(got, want, rtol=1e-12, atol=1e-12):
        print("mismatch in check", k, got.shape, want.shape)
        sys.exit(1)
print("ok")
''')
    done = subprocess.run([mpiexec, "-n", "2", sys.executable, str(script)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.count("ok") == 2


@pytest.mark.parametrize("target", ["hls"])
def test_other_targets_reject_clearly(tmp_path, target):
    src = write(tmp_path, "dynres_reject.py", "import numpy as np\n\n#pythran export positive(float64[:])\ndef positive(x):\n    return x[x > 0]\n")
    r = run("build", src, "-o", tmp_path, "--target", target)
    assert r.returncode == 1
    assert "size depends on data" in r.stderr and f"not supported by the {target} target" in r.stderr
    assert "dynres_reject.py:5:" in r.stderr
