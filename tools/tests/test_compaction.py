"""Arrays whose size depends on data, end to end on the CPU target against NumPy: boolean
selections used as new arrays (x[mask], A[rows], x[idx[mask]]), A[mask] = values, and names
rebound inside loops to arrays of other shapes (the compacting Mandelbrot pattern).
Integers are compared exactly, floats at rtol 1e-12 (the same operations in the same order)."""

import numpy as np
import pytest

from test_cli import run, write
from test_numpy_surface import build_pair

SOURCE = '''
import numpy as np

#pythran export select(float64[:], float64)
def select(x, t):
    y = x[x > t]
    z = y * 2.0 + 1.0
    return np.sum(z), y.shape[0], np.max(x[x > t]) if y.shape[0] > 0 else -1.0

#pythran export select2d(float64[:,:], float64[:,:])
def select2d(A, B):
    m = A > 0.5
    a = A[m]
    b = B[m]
    rows = A[A[:, 0] > 0.3]
    cols = A[:, B[-1] > 0.4]
    none = np.sum(A[:, A[0] > 2.0], axis=1)
    return np.sum(a * b), a.shape[0], np.sum(rows, axis=0), rows.shape[0], np.sum(cols, axis=1), cols.shape[1], none

#pythran export gather(float64[:], int64[:])
def gather(x, idx):
    j = idx[idx >= 2]
    w = x[j]
    return np.sum(w * np.arange(w.shape[0])), w.shape[0]

#pythran export put(float64[:], float64[:])
def put(x, v):
    y = x.copy()
    y[y > 0.5] = v[: np.count_nonzero(y > 0.5)]
    return y

#pythran export compact(float64[:], float64[:], int)
def compact(cr, ci, maxiter):
    C = cr + 1j * ci
    Z = np.zeros_like(C)
    idx = np.arange(cr.shape[0])
    out = np.zeros(cr.shape[0], dtype=np.int64)
    for it in range(maxiter):
        Z = Z * Z + C
        I = np.abs(Z) <= 2.0
        out[idx[~I]] = it + 1
        Z = Z[I]
        C = C[I]
        idx = idx[I]
    return out, np.sum(np.abs(Z)), Z.shape[0]

#pythran export branches(float64[:], bool)
def branches(x, c):
    y = x
    if c:
        y = x[x > 0.5]
    else:
        y = y * 2.0
    return np.sum(y * 3.0), y.shape[0]

#pythran export tree(float64[:])
def tree(x):
    y = x * 1.0
    while y.shape[0] > 1:
        if y.shape[0] % 2 == 1:
            y = np.concatenate((y, np.zeros(1)))
        y = y[::2] + y[1::2]
    return y[0]

#pythran export halve(float64[:])
def halve(x):
    y = x * 1.0
    while y.shape[0] > 1:
        y = y[: y.shape[0] // 2] * 2.0
    return np.sum(y), y.shape[0]

#pythran export indices(float64[:,:], float64)
def indices(A, t):
    r, c = np.nonzero(A > t)
    flat = np.flatnonzero(A > t)
    w = np.argwhere(A > t)
    (q,) = np.where(A[0] > t)
    return np.sum(r * 1000 + c), np.sum(flat), np.sum(w[:, 0] * 7 + w[:, 1]), w.shape[0], np.sum(q), r.shape[0]

#pythran export calls(float64[:])
def calls(x):
    r = x[x > 0.5].astype(np.float32)
    c = np.cumsum(x[x < 0.5] * 2)
    return np.sum(r), np.sum(c * np.arange(c.shape[0])) + np.sum(np.sqrt(x[x > 0.5] + 1) * np.arange(3, 3 + np.count_nonzero(x > 0.5))), np.std(x[x > 0.2]), np.argmax(x[x > 0.1]), x[x > 0.3].copy().sum()

#pythran export shrink(float64[:], int)
def shrink(c, n):
    total = 0.0
    for it in range(n):
        c = c[c < 0.9] * 1.1
        total += np.sum(c)
    return total, c.shape[0]
'''


@pytest.fixture(scope="module")
def modules(tmp_path_factory):
    return build_pair(tmp_path_factory.mktemp("compaction"), "compaction", SOURCE)


def same(got, want):
    got = got if isinstance(got, tuple) else (got,)
    want = want if isinstance(want, tuple) else (want,)
    assert len(got) == len(want)
    for g, w in zip(got, want):
        g, w = np.asarray(g), np.asarray(w)
        assert g.shape == w.shape
        if w.dtype.kind in "biu":
            assert np.array_equal(g, w)
        else:
            np.testing.assert_allclose(g, w, rtol=1e-12, atol=1e-12)


rng = np.random.default_rng(11)


@pytest.mark.parametrize("n", [0, 1, 9, 1000])
def test_selection_as_a_new_array(modules, n):
    compiled, reference = modules
    x = rng.random(n)
    for t in (0.5, 2.0, -1.0):  # some, none, all selected
        same(compiled.select(x, t), reference.select(x, t))


@pytest.mark.parametrize("shape", [(1, 1), (7, 5), (60, 40)])
def test_nd_mask_and_row_selection(modules, shape):
    compiled, reference = modules
    A, B = rng.random(shape), rng.random(shape)
    same(compiled.select2d(A, B), reference.select2d(A, B))


def test_gather_through_a_selected_index_array(modules):
    compiled, reference = modules
    x = rng.random(50)
    idx = rng.integers(-50, 50, 200)
    same(compiled.gather(x, idx), reference.gather(x, idx))
    with pytest.raises(RuntimeError, match="index out of bounds"):
        compiled.gather(x, np.array([3, 50]))


def test_masked_assignment_from_an_array(modules):
    compiled, reference = modules
    x, v = rng.random(100), rng.random(100)
    same(compiled.put(x, v), reference.put(x, v))


@pytest.mark.parametrize("n,maxiter", [(0, 5), (1, 5), (300, 40)])
def test_compacting_mandelbrot(modules, n, maxiter):
    compiled, reference = modules
    cr, ci = rng.uniform(-2.0, 0.8, n), rng.uniform(-1.3, 1.3, n)
    same(compiled.compact(cr, ci, maxiter), reference.compact(cr, ci, maxiter))


def test_branches_binding_arrays_of_different_lengths(modules):
    compiled, reference = modules
    x = rng.random(200)
    for c in (True, False):
        same(compiled.branches(x, c), reference.branches(x, c))


@pytest.mark.parametrize("n", [1, 2, 7, 100, 1001])
def test_shapes_that_halve_inside_a_while_loop(modules, n):
    compiled, reference = modules
    x = rng.random(n)
    same(compiled.tree(x), reference.tree(x))
    same(compiled.halve(x), reference.halve(x))


@pytest.mark.parametrize("shape", [(1, 1), (4, 9), (50, 30)])
def test_nonzero_flatnonzero_argwhere(modules, shape):
    compiled, reference = modules
    A = rng.random(shape)
    for t in (0.5, 2.0, -1.0):
        same(compiled.indices(A, t), reference.indices(A, t))


def test_selections_passed_to_functions_and_methods(modules):
    compiled, reference = modules
    x = rng.random(300)
    got, want = compiled.calls(x), reference.calls(x)
    assert np.asarray(got[0]).dtype == np.float32
    np.testing.assert_allclose(got[0], want[0], rtol=1e-5)
    same(got[1:], want[1:])


def test_parameter_rebound_to_shrinking_arrays(modules):
    compiled, reference = modules
    c = rng.random(500)
    before = c.copy()
    same(compiled.shrink(c, 6), reference.shrink(c, 6))
    assert np.array_equal(c, before)  # the caller's array is not modified


def test_selection_lengths_that_disagree_raise(tmp_path):
    compiled, _ = build_pair(tmp_path, "disagree", (
        "import numpy as np\n#pythran export f(float64[:], float64[:])\n"
        "def f(x, y):\n    return np.sum(x[x > 0.5] * y[y > 0.5])\n"))
    with pytest.raises(RuntimeError, match="shapes do not agree"):
        compiled.f(np.array([0.9, 0.1]), np.array([0.9, 0.9]))
    assert compiled.f(np.array([0.9, 0.1]), np.array([0.1, 0.7])) == pytest.approx(0.63)


def test_returning_selections_of_different_ranks_is_a_located_error(tmp_path):
    # Returning a selection works (test_dynamic_results.py); its number of dimensions is fixed.
    src = write(tmp_path, "ret_sel.py", (
        "import numpy as np\n#pythran export f(float64[:])\ndef f(x):\n    if x[0] > 0:\n"
        "        return x[x > 0]\n    return np.zeros((2, 2))\n"))
    r = run("build", src, "-o", tmp_path)
    assert r.returncode == 1
    assert "ret_sel.py:6:5: error: return statements return arrays of different numbers of dimensions" in r.stderr


def test_complex_abs_keeps_extreme_magnitudes(tmp_path):
    # |z| takes a fast sqrt(re^2 + im^2) path and falls back to hypot where that would
    # overflow or underflow; both must agree with NumPy.
    compiled, reference = build_pair(tmp_path, "cabs", (
        "import numpy as np\n#pythran export f(complex128[:], complex64[:])\n"
        "def f(z, w):\n    return np.abs(z), np.abs(w)\n"))
    big, tiny = 1e300, 1e-300
    z = np.array([3 + 4j, big + big * 1j, tiny - tiny * 1j, -big, 1j * tiny, 0, np.inf + 1j, np.nan + 0j,
                  complex(np.inf, np.nan)], dtype=np.complex128)
    w = np.array([3 + 4j, 1e30 + 1e30j, 1e-30 + 1e-30j, 1e-45, 0], dtype=np.complex64)
    got, want = compiled.f(z, w), reference.f(z, w)
    for g, e in zip(got, want):
        assert g.dtype == e.dtype
        np.testing.assert_allclose(g, e, rtol=2 * np.finfo(e.dtype).eps, atol=0)
