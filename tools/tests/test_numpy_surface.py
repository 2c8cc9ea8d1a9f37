"""End-to-end checks of the NumPy surface beyond the corpus: each function below is compiled
from a plain NumPy file with an export signature, run, and compared with NumPy on the same
inputs (dtypes and shapes must match too)."""

import importlib.util
import warnings

import numpy as np
import pytest

from test_cli import run, write


def build_pair(directory, name, source):
    """Builds `source` as module `name` in `directory`; returns (compiled, reference) modules."""
    src = write(directory, f"{name}.py", source)
    r = run("build", src, "-o", directory)
    assert r.returncode == 0, r.stderr
    modules = []
    for mod_name, path in ((name, directory / f"{name}.abi3.so"), (f"{name}_ref", src)):
        spec = importlib.util.spec_from_file_location(mod_name, path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        modules.append(module)
    return tuple(modules)

SOURCE = '''
import numpy as np

#pythran export views(float64[:,:], float64[:])
def views(A, v):
    r = A[::-1, ::2]
    t = A.T @ v[:A.shape[0]]
    outer = v[:, np.newaxis] * v[np.newaxis, :]
    col = A[:, None, 1]
    back = A.reshape(-1)[::-3]
    B = A.copy()
    B[1:, :] = B[:-1, :].T.T + 1.0
    return r, t, outer, col, back, B, v[-2:0:-1], A.T.reshape(A.shape[1], A.shape[0]), A[..., 0]

#pythran export reductions(float64[:,:,:], int32[:,:])
def reductions(X, I):
    return (np.mean(X, axis=(0, 2)), X.std(axis=1, keepdims=True), np.var(X, ddof=1), np.argmax(X[0]),
            np.argmin(X, axis=2), np.any(X > 0.9, axis=0), np.all(I >= 0), I.mean(), np.sum(X, axis=(1, 2)),
            np.max(X, axis=(0, 1)), np.prod(I, axis=0))

#pythran export creation(int, float64[:])
def creation(n, v):
    return (np.arange(n), np.arange(2, 3 * n, 3), np.arange(0.5, 3.0, 0.25), np.linspace(0.0, 1.0, n),
            np.linspace(-1.0, 1.0, 7, endpoint=False), np.eye(n), np.eye(n, n + 2, k=1, dtype=np.int32),
            np.identity(3), np.full((2, n), 7), np.zeros_like(v), np.ones(n, dtype=np.float32))

#pythran export manipulation(float64[:,:], float64[:,:])
def manipulation(A, B):
    return (np.concatenate((A, B), axis=0), np.concatenate((A, B, A), axis=1), np.stack((A, B)),
            np.stack((A, B), axis=2), np.vstack((A[0], B[1])), np.hstack((A, B)), np.flip(A), np.flip(A, axis=1),
            np.repeat(A, 2, axis=0), np.repeat(A[0], 3), np.triu(A), np.tril(A, k=-1), np.outer(A[0], B[:, 1]),
            np.clip(A, 0.2, 0.7), np.ravel(B.T))

#pythran export ufuncs(float64[:], float64[:], int64[:])
def ufuncs(x, y, k):
    out = np.zeros_like(x)
    np.add(x, y, out=out)
    w = np.ones_like(x)
    np.multiply(x, 10.0, out=w, where=x > 0.5)
    return (out, w, np.square(x), np.reciprocal(y + 1.0), np.sign(x - 0.5), np.trunc(10 * x), np.rint(10 * x),
            np.exp2(x), np.cbrt(x), np.arcsinh(x), np.arctanh(x * 0.5), np.fmod(10 * x, 3.0), np.copysign(x, y - 0.5),
            np.logical_and(x > 0.3, y < 0.6), np.logical_xor(x > 0.5, y > 0.5), np.logical_not(x > 0.5),
            np.isnan(x), np.isfinite(x), np.deg2rad(x), np.fmax(x, y), np.logaddexp(x, y), np.negative(k),
            np.invert(k), np.left_shift(k, 2), np.floor_divide(k, 3), np.remainder(k, -3), np.hypot(x, y))
'''


@pytest.fixture(scope="module")
def modules(tmp_path_factory):
    return build_pair(tmp_path_factory.mktemp("surface"), "surface", SOURCE)


def check(compiled, reference, name, *args):
    got = getattr(compiled, name)(*[np.copy(a) if isinstance(a, np.ndarray) else a for a in args])
    want = getattr(reference, name)(*[np.copy(a) if isinstance(a, np.ndarray) else a for a in args])
    assert len(got) == len(want)
    for k, (g, w) in enumerate(zip(got, want)):
        g, w = np.asarray(g), np.asarray(w)
        assert g.shape == w.shape, f"{name} result {k}: shape {g.shape} != {w.shape}"
        assert g.dtype == w.dtype, f"{name} result {k}: dtype {g.dtype} != {w.dtype}"
        if w.dtype.kind in "biu":
            np.testing.assert_array_equal(g, w, err_msg=f"{name} result {k}")
        elif w.dtype in (np.float32, np.complex64):
            # Single precision summed in another order than NumPy's BLAS call: the project's tolerance.
            np.testing.assert_allclose(g, w, rtol=1e-5, atol=1e-8, err_msg=f"{name} result {k}")
        else:
            np.testing.assert_allclose(g, w, rtol=1e-12, atol=1e-12, err_msg=f"{name} result {k}")


rng = np.random.default_rng(7)


def test_views(modules):
    check(*modules, "views", rng.random((5, 7)), rng.random(9))


def test_reductions(modules):
    check(*modules, "reductions", rng.random((4, 5, 6)), rng.integers(-2, 10, (3, 4)).astype(np.int32))


def test_creation(modules):
    check(*modules, "creation", 5, rng.random(4))


def test_manipulation(modules):
    check(*modules, "manipulation", rng.random((3, 4)), rng.random((3, 4)))


def test_ufuncs(modules):
    check(*modules, "ufuncs", rng.random(11), rng.random(11), rng.integers(-50, 50, 11))


INDEXING = '''
import numpy as np

#pythran export masks(float64[:,:], float64[:,:])
def masks(A, B):
    C = A.copy()
    C[C > 0.5] = 0.0
    D = A.copy()
    m = B < 0.3
    D[m] = B[m]
    return C, D, np.sum(A[A > 0.2]), np.max(A[B > 0.1]), np.mean(B[A < 0.7]), np.count_nonzero(A > 0.5), np.any(A[m] > 0.9)

#pythran export fancy(float64[:], int64[:], float64[:,:], int32[:])
def fancy(x, idx, M, cols):
    y = x[idx] * 2.0
    z = M[:, cols]
    w = M[cols[1:]]
    s = x.copy()
    s[idx] = -1.0
    t = np.zeros(x.shape[0])
    t[idx] += 1.0
    return y, z, w, s, t, np.sum(x[idx])
'''


@pytest.fixture(scope="module")
def indexing(tmp_path_factory):
    return build_pair(tmp_path_factory.mktemp("indexing"), "indexing", INDEXING)


def test_boolean_masks(indexing):
    check(*indexing, "masks", rng.random((6, 5)), rng.random((6, 5)))


def test_fancy_indexing_with_repeated_and_negative_indices(indexing):
    check(*indexing, "fancy", rng.random(10), np.array([3, -1, 3, 0, 9, 2]), rng.random((4, 6)),
          np.array([5, 0, 2], dtype=np.int32))


def test_out_of_bounds_index_raises_instead_of_reading_outside(indexing):
    compiled, _ = indexing
    with pytest.raises(RuntimeError, match="out of bounds"):
        compiled.fancy(rng.random(10), np.array([1, 10]), rng.random((4, 6)), np.array([5, 0, 2], dtype=np.int32))
    with pytest.raises(RuntimeError, match="out of bounds"):
        compiled.fancy(rng.random(10), np.array([1, -11]), rng.random((4, 6)), np.array([5, 0, 2], dtype=np.int32))


REGRESSIONS = '''
import numpy as np

#pythran export back(float64[:], float32[:], float)
def back(v, f, eps):
    out = np.zeros_like(v)
    for j in range(v.shape[0] - 2, 0, -1):
        out[j] = out[j + 1] + v[j]
    return out, f * eps

#pythran export tri(float64[:,:], float64[:])
def tri(A, x):
    n = A.shape[0]
    y = np.zeros(n)
    for i in range(n):
        y[i] = A[i, i + 1:] @ x[i + 1:]
    C = np.zeros((n, n))
    for i in range(n):
        C[i, :] = A[i, :i] @ A[:i, :]
    return y, C

#pythran export yn(float64[:], int)
def yn(x, yn):
    return (np.zeros(yn) + x[0],)
'''


@pytest.fixture(scope="module")
def regressions(tmp_path_factory):
    return build_pair(tmp_path_factory.mktemp("regressions"), "regressions", REGRESSIONS)


def test_descending_range_and_weak_python_float_parameter(regressions):
    check(*regressions, "back", rng.random(7), rng.random(3).astype(np.float32), 1e-5)


def test_empty_blas_contractions_and_loop_dependent_shape_checks(regressions):
    check(*regressions, "tri", rng.random((5, 5)), rng.random(5))
    with pytest.raises(ValueError, match="shapes do not agree"):
        regressions[0].tri(rng.random((5, 5)), rng.random(4))


def test_integer_parameter_named_like_a_c_function_sizes_arrays(regressions):
    check(*regressions, "yn", rng.random(3), 4)


BRANCHES = '''
import numpy as np

def match(a, b):
    if a + b == 3:
        return 1
    elif a == b:
        return 2
    else:
        return 0

#pythran export pairs(int32[:], float64[:])
def pairs(s, x):
    t = 0
    for i in range(s.shape[0] - 1):
        t += match(s[i], s[i + 1])
    m = x > 0.5
    return t, x[m].mean(), x[m].sum()

#pythran export pick(float64[:], bool)
def pick(x, c):
    if c:
        y = x * 2
    else:
        y = x * 3
    return (y,)
'''


def test_helper_returning_from_branches_masked_methods_and_arrays_bound_in_branches(tmp_path):
    compiled, reference = build_pair(tmp_path, "branches", BRANCHES)
    s = rng.integers(0, 4, 30).astype(np.int32)
    check(compiled, reference, "pairs", s, rng.random(9))
    for c in (True, False):
        check(compiled, reference, "pick", rng.random(6), c)


def test_array_bound_to_different_arrays_by_branch_is_an_error(tmp_path):
    src = write(tmp_path, "alias_branch.py", (
        "import numpy as np\n#pythran export f(float64[:], float64[:], bool)\n"
        "def f(a, b, c):\n    y = a\n    if c:\n        y = b\n    return y * 2\n"))
    r = run("build", src, "-o", tmp_path)
    assert r.returncode == 1
    assert "alias_branch.py:5:5: error: array 'y' is bound to different arrays" in r.stderr


SCANS = '''
import numpy as np

#pythran export rolls(float64[:], int64[:,:], float32[:,:,:], int)
def rolls(x, M, T, s):
    return (np.roll(x, 2), np.roll(x, -3), np.roll(x, 25), np.roll(x, -25), np.roll(x, s), np.roll(x, -s),
            np.roll(M, 1, axis=0), np.roll(M, -1, axis=1), np.roll(M, s, axis=-1), np.roll(M, 3),
            np.roll(M, -7), np.roll(M, (1, -2), axis=(0, 1)), np.roll(T, 2, axis=1), np.roll(T, s),
            np.roll(T.transpose(2, 0, 1), 1, axis=2), np.roll(x[::-2], 1), np.roll(M, (2, s), axis=1),
            np.roll(T, -1, axis=(0, 2)))

#pythran export roll_copies(float64[:])
def roll_copies(x):
    r = np.roll(x, 1)
    x[0] = 100.0
    y = x.copy()
    y[:] = np.roll(y, -1)
    return r, y

#pythran export cumulative(float64[:,:], int32[:,:], bool[:], uint8[:], float32[:])
def cumulative(A, I, b, u, f):
    return (np.cumsum(A), np.cumsum(A, axis=0), np.cumsum(A, axis=1), np.cumprod(A, axis=-1), np.cumsum(I),
            np.cumsum(I, axis=1), np.cumprod(I, axis=0), np.cumsum(b), np.cumsum(u), np.cumsum(f),
            np.cumsum(I, dtype=np.float64), np.add.accumulate(A), np.add.accumulate(I, axis=1),
            np.multiply.accumulate(A, axis=1), np.maximum.accumulate(A, axis=1), np.minimum.accumulate(I),
            np.maximum.accumulate(b), np.add.accumulate(b), np.cumsum(A[:, ::-1].T, axis=1))

#pythran export ufunc_methods(float64[:,:], int32[:,:], float64[:], int64[:], bool[:])
def ufunc_methods(A, I, x, k, b):
    return (np.add.reduce(A), np.add.reduce(A, axis=1), np.add.reduce(A, axis=None), np.multiply.reduce(I),
            np.maximum.reduce(A, axis=1, keepdims=True), np.minimum.reduce(k, axis=None), np.add.reduce(I, axis=1),
            np.maximum.reduce(I), np.add.reduce(b), np.add.outer(x, k), np.multiply.outer(A, x),
            np.maximum.outer(k, x), np.minimum.outer(I[0], k), np.add.outer(b, b), np.maximum.reduce(x))

#pythran export scatter(float64[:], int64[:], float64[:], int32[:,:], int32[:], float64[:,:])
def scatter(a, idx, v, G, gi, W):
    b = a.copy()
    np.add.at(b, idx, v)
    c = a.copy()
    np.add.at(c, idx, 1.0)
    d = a.copy()
    np.subtract.at(d, idx, 2 * v)
    e = a.copy()
    np.maximum.at(e, idx, v)
    f = a.copy()
    np.minimum.at(f, idx, v)
    g = a.copy()
    np.multiply.at(g, idx, v)
    H = G.copy()
    np.add.at(H, gi, 1)
    X = W.copy()
    np.add.at(X, idx[:3], W[0])
    y = a.copy()
    np.add.at(y, 3, 5.0)
    z = np.zeros(4, dtype=np.int64)
    np.add.at(z, idx % 4, v)
    P = W.copy()
    np.add.at(P, (idx, idx % 3 - 1), v)
    Q = W.copy()
    np.maximum.at(Q, (idx[::2], 1), 10 * v[::2])
    R = W.copy()
    np.add.at(R, (idx[:4], np.array([0, 2])[:, None]), 1.0)
    return b, c, d, e, f, g, H, X, y, z, P, Q, R
'''


@pytest.fixture(scope="module")
def scans(tmp_path_factory):
    return build_pair(tmp_path_factory.mktemp("scans"), "scans", SCANS)


def test_roll_any_shift_and_axis(scans):
    for s in (0, 3, -4, 17, -40):
        check(*scans, "rolls", rng.random(11), rng.integers(-9, 9, (4, 5)), rng.random((3, 4, 5)).astype(np.float32), s)


def test_roll_returns_a_copy(scans):
    check(*scans, "roll_copies", rng.random(6))


def test_cumsum_cumprod_and_accumulate(scans):
    check(*scans, "cumulative", rng.random((4, 5)), rng.integers(-5, 5, (3, 4)).astype(np.int32), rng.random(7) > 0.5,
          rng.integers(0, 255, 40).astype(np.uint8), rng.random(9).astype(np.float32))


def test_accumulate_max_propagates_nan(scans):
    A = rng.random((4, 5))
    A[1, 2] = np.nan
    check(*scans, "cumulative", A, rng.integers(-5, 5, (3, 4)).astype(np.int32), rng.random(7) > 0.5,
          rng.integers(0, 255, 40).astype(np.uint8), rng.random(9).astype(np.float32))


def test_ufunc_reduce_and_outer(scans):
    check(*scans, "ufunc_methods", rng.random((3, 4)), rng.integers(-4, 4, (3, 4)).astype(np.int32), rng.random(4),
          rng.integers(-3, 3, 4), rng.random(5) > 0.5)


def test_ufunc_at_repeated_and_negative_indices(scans):
    a = rng.random(8)
    idx = np.array([1, 1, -1, 7, 0, 1, 5, 5])
    check(*scans, "scatter", a, idx, rng.random(8), rng.integers(0, 9, (6, 3)).astype(np.int32),
          np.array([0, 5, 5, -6, 2], dtype=np.int32), rng.random((8, 3)))


def test_ufunc_at_out_of_bounds_raises(scans):
    compiled, _ = scans
    args = [rng.random(8), np.array([1, 8, 0, 0, 0, 0, 0, 0]), rng.random(8), rng.integers(0, 9, (6, 3)).astype(np.int32),
            np.array([0, 5], dtype=np.int32), rng.random((8, 3))]
    with pytest.raises(RuntimeError, match="out of bounds"):
        compiled.scatter(*args)
    args[1] = np.array([1, -9, 0, 0, 0, 0, 0, 0])
    with pytest.raises(RuntimeError, match="out of bounds"):
        compiled.scatter(*args)
    args[1] = np.array([1, 7, 0, 0, 0, 0, 0, 5])  # idx % 3 - 1 stays in range; (idx[:4], [0, 2]) too
    compiled.scatter(*args)
    args[5] = rng.random((8, 2))  # column 2 of the last scatter is out of bounds
    with pytest.raises((RuntimeError, ValueError)):
        compiled.scatter(*args)


STATISTICS = '''
import numpy as np

#pythran export selecting(float64[:], int32[:], float32[:,:])
def selecting(x, k, F):
    return (np.select([x < 0.3, x > 0.7], [x * 10, -x]), np.select([x < 0.5, x >= 0.5], [k, 2]),
            np.select([F > 0.5], [F], default=-1.0), np.select([x > 0.2, x > 0.4], [k, x], default=7),
            np.select([k > 0], [k], default=np.int64(-1)))

#pythran export matrices(float64[:,:], int32[:,:], float64[:], int64[:,:], float64[:,:])
def matrices(A, I, v, P, Q):
    return (np.trace(A), np.trace(A, offset=1), np.trace(A, -2), np.trace(I), np.diag(v), np.diag(v, k=2),
            np.diag(v, -1), np.diag(A), np.diag(A, 1), np.diag(A, k=-2), np.diag(I), np.cross(P, Q), np.cross(Q[0], P[1]))

#pythran export statistics(float64[:,:], int64[:,:], float64[:])
def statistics(X, N, y):
    return (np.cov(X), np.cov(X, rowvar=False), np.cov(X, bias=True), np.cov(X, ddof=0), np.cov(N), np.cov(y),
            np.corrcoef(X), np.corrcoef(X, rowvar=False), np.corrcoef(y))

#pythran export histograms(float64[:], int32[:], float64[:,:], int)
def histograms(x, k, M, nb):
    h1, e1 = np.histogram(x, bins=7)
    h2, e2 = np.histogram(x, bins=5, range=(0.2, 0.8))
    h3, e3 = np.histogram(k, 4)
    h4, e4 = np.histogram(M, bins=nb, range=(-1, 2))
    h5, e5 = np.histogram(k, bins=3, range=(0, 10))
    return h1, e1, h2, e2, h3, e3, h4, e4, h5, e5

#pythran export weighted(float64[:], float64[:], int32[:], float32[:], int)
def weighted(x, w, iw, fw, nb):
    h1, e1 = np.histogram(x, bins=nb, weights=w)
    h2, e2 = np.histogram(x, bins=nb, range=(0.1, 0.9), weights=iw)
    h3, e3 = np.histogram(x, bins=nb, weights=fw)
    d1, f1 = np.histogram(x, bins=nb, density=True)
    d2, f2 = np.histogram(x, bins=nb, range=(-0.5, 1.0), weights=w, density=True)
    return h1, e1, h2, e2, h3, e3, d1, f1, d2, f2

#pythran export sorting(float64[:], float64[:,:], int32[:,:], int64[:])
def sorting(x, A, I, t):
    return (np.sort(x), np.sort(A), np.sort(A, axis=0), np.sort(A, axis=None), np.sort(I), np.argsort(x),
            np.argsort(A, axis=1), np.argsort(I, kind="stable"), np.argsort(t, kind="stable"), np.argsort(A, axis=None),
            np.argsort(I, axis=0, kind="stable"), np.sort(t[::-1]), np.argsort(np.floor(3 * x), kind="stable"))
'''


@pytest.fixture(scope="module")
def statistics(tmp_path_factory):
    return build_pair(tmp_path_factory.mktemp("statistics"), "statistics", STATISTICS)


def test_select_first_true_condition_and_weak_defaults(statistics):
    check(*statistics, "selecting", rng.random(9), rng.integers(-3, 3, 9).astype(np.int32),
          rng.random((3, 4)).astype(np.float32))


def test_trace_diag_cross(statistics):
    check(*statistics, "matrices", rng.random((5, 6)), rng.integers(-9, 9, (4, 4)).astype(np.int32), rng.random(4),
          rng.integers(-5, 5, (6, 3)), rng.random((6, 3)))


def test_cov_and_corrcoef(statistics):
    check(*statistics, "statistics", rng.random((3, 8)), rng.integers(-9, 9, (4, 6)), rng.random(10))


def test_histogram_equal_width_bins(statistics):
    x = rng.random(200)
    x[:3] = [0.2, 0.8, 0.5]  # on the range's edges
    for nb in (1, 3, 10):
        check(*statistics, "histograms", x, rng.integers(-5, 20, 50).astype(np.int32),
              rng.standard_normal((6, 7)), nb)
    # All values equal: NumPy widens the range to a unit interval.
    check(*statistics, "histograms", np.full(5, 0.5), np.full(4, 3, dtype=np.int32), np.zeros((2, 2)), 2)


def test_histogram_weights_and_density(statistics):
    # More than one of NumPy's 65536-element blocks: weight sums are rounded per block as NumPy.
    for n in (50, 150001):
        x = rng.random(n)
        check(*statistics, "weighted", x, rng.standard_normal(n), rng.integers(-3, 9, n).astype(np.int32),
              rng.random(n).astype(np.float32), 13)


def test_histogram_without_range_raises_on_nan(statistics):
    x = rng.random(20)
    x[4] = np.nan
    with pytest.raises(RuntimeError):
        statistics[0].histograms(x, np.arange(4, dtype=np.int32), np.zeros((2, 2)), 2)
    with pytest.raises(RuntimeError):  # NumPy: ValueError, bins must be positive
        statistics[0].histograms(rng.random(5), np.arange(4, dtype=np.int32), np.zeros((2, 2)), 0)
    x[4] = np.inf
    with pytest.raises(RuntimeError):
        statistics[0].histograms(x, np.arange(4, dtype=np.int32), np.zeros((2, 2)), 2)
    with pytest.raises(ValueError):
        np.histogram(x, bins=2)


def test_sort_and_stable_argsort(statistics):
    x = rng.random(37)  # distinct values: every argsort kind agrees
    x[20] = np.nan  # one NaN: every argsort kind puts it last
    A = rng.random((5, 9))
    I = rng.integers(0, 4, (6, 7)).astype(np.int32)  # many ties: compare with kind='stable'
    t = rng.integers(-3, 3, 64)
    check(*statistics, "sorting", x, A, I, t)
    x[[2, 9, 30]] = np.nan  # ties and several NaNs: the stable order of np.floor(3 * x) keeps them in order
    x[[4, 5]] = -0.0, 0.0
    compiled, reference = statistics
    got, want = compiled.sorting(x, A, I, t)[-1], reference.sorting(x, A, I, t)[-1]
    np.testing.assert_array_equal(got, want)
    check(*statistics, "sorting", rng.random(1), rng.random((1, 1)), I[:1, :1].copy(), t[:1].copy())


BATCHED = '''
import numpy as np

#pythran export stacks(float64[:,:,:], float64[:,:,:], float64[:,:], float64[:], int32[:,:,:], float32[:,:,:,:])
def stacks(A, B, M, v, I, F):
    return (A @ B, np.matmul(A, M), M @ B, A @ v, v @ B, A[:1] @ B, I @ I.transpose(0, 2, 1), A @ I,
            F @ F.transpose(0, 1, 3, 2), F[:, :1] @ F, A.transpose(0, 2, 1) @ A)
'''


def test_batched_matmul_broadcasts_batches_and_vectors(tmp_path):
    compiled, reference = build_pair(tmp_path, "batched", BATCHED)
    check(compiled, reference, "stacks", rng.random((3, 4, 5)), rng.random((3, 5, 2)), rng.random((5, 5)), rng.random(5),
          rng.integers(-9, 9, (3, 5, 5)).astype(np.int32), rng.random((2, 3, 4, 4)).astype(np.float32))
    with pytest.raises(ValueError, match="shapes do not agree"):
        compiled.stacks(rng.random((3, 4, 5)), rng.random((2, 5, 2)), rng.random((5, 5)), rng.random(5),
                        rng.integers(-9, 9, (3, 5, 5)).astype(np.int32), rng.random((2, 3, 4, 4)).astype(np.float32))


MORE_METHODS = '''
import numpy as np

#pythran export more(float64[:,:], int32[:], bool[:,:])
def more(A, k, b):
    B = A.copy()
    B.sort()
    C = A.copy()
    C[1:].sort(axis=0)
    return (np.subtract.outer(k, k), np.divide.outer(A[0], k), np.power.outer(k, np.abs(k[:3])), np.equal.outer(k, k),
            np.less.outer(A[:, 0], A[0]), np.floor_divide.outer(k, k + 10), np.logical_and.outer(b[0], b[1]),
            np.bitwise_xor.outer(k, k[::-1]), np.logical_and.reduce(b), np.logical_or.reduce(b, axis=1),
            np.logical_and.reduce(k, axis=None), A.cumsum(axis=0), k.cumprod(), A.argsort(axis=0, kind="stable"),
            A.trace(), B, C)
'''


def test_more_ufunc_methods_and_array_methods(tmp_path):
    compiled, reference = build_pair(tmp_path, "more", MORE_METHODS)
    check(compiled, reference, "more", rng.random((5, 4)), rng.integers(-3, 4, 6).astype(np.int32), rng.random((3, 4)) > 0.4)


@pytest.mark.parametrize("line, message", [
    ("h, e = np.histogram(x, bins=y)", "np.histogram with bins as an array of edges is not supported"),
    ("h = np.roll(x, idx)", "np.roll with an array of shifts is not supported"),
    ("h = np.cov(x, y)", "np.cov with a second array (y) is not supported"),
    ("h = np.dot(np.ones((2, 2, 2)), x[:2])", "np.dot of an array with more than 2 dimensions is not supported"),
    ("h = np.add.accumulate(x, axis=None)", "add.accumulate needs an axis"),
])
def test_unsupported_forms_are_located(tmp_path, line, message):
    src = write(tmp_path, "unsupported.py", (
        "import numpy as np\n#pythran export f(float64[:], float64[:], int64[:])\n"
        f"def f(x, y, idx):\n    {line}\n    return x\n"))
    r = run("build", src, "-o", tmp_path)
    assert r.returncode == 1
    assert f"{src}:4:" in r.stderr and f"error: {message}" in r.stderr, r.stderr


DTYPES = ["bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64", "float32", "float64"]
PER_DTYPE = '''
#pythran export f_{t}({t}[:,:], {t}[:])
def f_{t}(A, v):
    return (np.cumsum(A), np.cumsum(A, axis=0), np.cumprod(v), np.add.accumulate(A, axis=1),
            np.maximum.accumulate(A), np.minimum.accumulate(v), np.multiply.accumulate(A, axis=1),
            np.add.reduce(A), np.multiply.reduce(A, axis=1), np.maximum.reduce(A, axis=None, keepdims=True),
            np.add.outer(v, v), np.maximum.outer(v, A[0]), np.sort(v), np.argsort(A, kind="stable"),
            np.trace(A), np.diag(v), np.diag(A, 1), np.select([v > v[0]], [v]), np.select([A > A[0, 0]], [A], default=3),
            np.roll(A, 2, axis=1), np.cumsum(A, dtype=np.float64))
'''


@pytest.fixture(scope="module")
def per_dtype(tmp_path_factory):
    source = "import numpy as np\n" + "".join(PER_DTYPE.format(t=t) for t in DTYPES)
    return build_pair(tmp_path_factory.mktemp("per_dtype"), "per_dtype", source)


@pytest.mark.parametrize("t", DTYPES)
def test_result_dtypes_follow_numpy(per_dtype, t):
    A = rng.integers(0, 4, (4, 5)) if t != "bool" else rng.random((4, 5)) > 0.5
    v = rng.integers(0, 4, 6) if t != "bool" else rng.random(6) > 0.5
    if t.startswith("float"):
        A, v = A + rng.random(A.shape), v + rng.random(v.shape)
    with np.errstate(over="ignore"):
        check(*per_dtype, f"f_{t}", A.astype(t), v.astype(t))


NONZERO = '''
import numpy as np

#pythran export indices(float64[:,:], int32[:])
def indices(A, k):
    # Arrays of data-dependent length cannot be returned yet: return what they determine.
    r, c = np.nonzero(A > 0.5)
    w = np.where(k)
    f = np.flatnonzero(A > 0.3)
    g = np.argwhere(A < 0.2)
    rows = np.nonzero(A[:, 0] > 0.7)[0]
    return (len(r), np.sum(r * 1000 + c), np.sum(f * f), len(f), np.sum(g[:, 0] * 10 + g[:, 1] * 3), len(g),
            np.sum(w[0] * w[0]), len(w[0]), np.sum(np.nonzero(k)[0]), np.sum(A[rows]))
'''


def test_nonzero_flatnonzero_argwhere_and_one_argument_where(tmp_path):
    compiled, reference = build_pair(tmp_path, "nonzero", NONZERO)
    for A in (rng.random((5, 6)), np.zeros((3, 2))):
        check(compiled, reference, "indices", A, rng.integers(-1, 2, 9).astype(np.int32))


ARRAYS = '''
import numpy as np

#pythran export arrays(float64[:,:], int32[:], float)
def arrays(A, k, s):
    B = np.array(A)
    B[0, 0] = -1.0
    C = np.asarray(A)
    C[1, 1] = -2.0
    return (np.array([1, 2, 3]), np.array([1, 2.5]), np.array([[1, 2], [3, 4]], dtype=np.float32), np.array([True, False]),
            np.array([k[0], 2]), np.array([s, 1]), np.array(k, dtype=np.float64), np.asarray(k, dtype=np.int64),
            np.array([[s, 2 * s, 0.5]]), B, C, A, np.array(3), np.array(np.float32(2)))
'''


def test_array_and_asarray(tmp_path):
    compiled, reference = build_pair(tmp_path, "arrays", ARRAYS)
    check(compiled, reference, "arrays", rng.random((3, 3)), np.array([5, 6], dtype=np.int32), 0.25)


SEARCH = '''
import numpy as np

#pythran export search(float64[:], float64[:], int64[:], int32[:], float)
def search(s, v, t, k, x):
    return (np.searchsorted(s, v), np.searchsorted(s, v, side="right"), np.searchsorted(t, k), np.searchsorted(t, k, "right"),
            np.searchsorted(s, x), np.searchsorted(t, 2.5), np.searchsorted(s, np.sort(v)), np.searchsorted(t[:0], k))

#pythran export diffs(float64[:,:], uint8[:], bool[:], int32[:])
def diffs(A, u, b, k):
    return (np.diff(A), np.diff(A, axis=0), np.diff(A, n=2), np.diff(A, 3, 0), np.diff(u), np.diff(b), np.diff(k, n=0),
            np.diff(k), np.diff(A[:, :1]), np.diff(A, n=9))
'''


@pytest.fixture(scope="module")
def search(tmp_path_factory):
    return build_pair(tmp_path_factory.mktemp("search"), "search", SEARCH)


def test_searchsorted_left_right_with_ties_and_nan(search):
    s = np.sort(np.concatenate([rng.random(9), [0.5, 0.5, np.nan]]))
    v = np.concatenate([rng.random(7), [0.5, np.nan, -1.0, 2.0]])
    t = np.array([-3, 0, 0, 2, 2, 2, 7])
    check(*search, "search", s, v, t, np.array([-5, 0, 2, 3, 7, 9], dtype=np.int32), 0.5)


def test_diff_orders_axes_and_dtypes(search):
    check(*search, "diffs", rng.random((4, 6)), np.array([5, 1, 200, 3], dtype=np.uint8), rng.random(7) > 0.5,
          rng.integers(-9, 9, 5).astype(np.int32))


INTERP = '''
import numpy as np

#pythran export interp(float64[:], float64[:], float64[:], int32[:], float)
def interp(x, xp, fp, k, s):
    return (np.interp(x, xp, fp), np.interp(x, xp, fp, left=-1.0, right=9.0), np.interp(k, xp, fp), np.interp(s, xp, fp),
            np.interp(x, xp[:1], fp[:1]), np.interp(xp, xp, fp))
'''


def test_interp_inside_outside_at_samples_and_nan(tmp_path):
    compiled, reference = build_pair(tmp_path, "interp", INTERP)
    xp = np.cumsum(rng.random(8)) - 1.0
    fp = rng.standard_normal(8)
    x = np.concatenate([rng.uniform(-2.0, 5.0, 20), xp[[0, 3, 7]], [np.nan, -np.inf, np.inf]])
    check(compiled, reference, "interp", x, xp, fp, np.array([-3, 0, 1, 2, 6], dtype=np.int32), 0.3)
    fp[2] = np.inf  # a non-finite sample: NumPy's retry from the other end of the interval
    check(compiled, reference, "interp", x, xp, fp, np.array([0, 1], dtype=np.int32), xp[2])
    with pytest.raises(RuntimeError):  # NumPy: ValueError, the array of sample points is empty
        compiled.interp(x, xp[:0], fp[:0], np.array([0], dtype=np.int32), 0.0)


EXTRAS = '''
import numpy as np

#pythran export shapes(float64[:,:], float64[:])
def shapes(A, v):
    return (np.expand_dims(A, 0), np.expand_dims(v, (0, 2)), np.squeeze(A[None, :, None]), np.squeeze(A[:1], axis=0),
            np.swapaxes(A, 0, 1), np.moveaxis(A[None], 0, -1), A.swapaxes(1, 0), A[:, :1].squeeze(axis=1),
            np.column_stack((v[:A.shape[0]], A)), np.append(A, v), np.append(A, A, axis=0), np.append(v, 1.5))

#pythran export grids(float64[:], float64[:], float64[:,:])
def grids(x, y, A):
    X, Y = np.meshgrid(x, y)
    I, J = np.meshgrid(x, y, indexing='ij')
    S, T = np.meshgrid(x, y, sparse=True)
    X[0, 0] = -5.0
    return (X, Y, I, J, S, T, x, np.tile(x, 2), np.tile(A, (2, 3)), np.tile(x, (2, 1)), np.tile(A, 2),
            np.pad(A, 1), np.pad(x, (2, 1), constant_values=-1.0), np.pad(A, ((1, 0), (0, 2)), mode='edge'),
            np.pad(x, 3, mode='wrap'), np.pad(A, ((0, 1), (2, 2)), 'constant', constant_values=7.0))

#pythran export elementwise(float64[:], complex128[:], int64[:], float32[:])
def elementwise(x, z, k, f):
    return (np.angle(z), np.angle(z, deg=True), np.angle(x), np.round(x, 2), np.around(x), np.round(x * 1000, -2), x.round(1),
            np.round(k), np.round(f, 3), np.isclose(x, x + 1e-9), np.isclose(x, 0.5, atol=0.3), np.allclose(x, x * (1 + 1e-7)),
            np.allclose(x, x + 1.0), np.isclose(f, f), np.isclose(k, k + 1, rtol=0.5), np.ptp(x), np.ptp(k), np.logspace(0.0, 2.0, 5),
            np.logspace(0, 1, 4, base=2.0, endpoint=False), np.vdot(x, x), np.vdot(z, z), np.inner(x, x), np.angle(k))

#pythran export indices(float64[:,:], int)
def indices(A, n):
    iu = np.triu_indices(n, 1)
    il = np.tril_indices(n)
    return iu[0], iu[1], il[0], il[1], A[iu], A[np.tril_indices(A.shape[0], -1, A.shape[1])], A[np.nonzero(A > 0.5)]
'''


@pytest.fixture(scope="module")
def extras(tmp_path_factory):
    return build_pair(tmp_path_factory.mktemp("extras"), "extras", EXTRAS)


def test_expand_squeeze_swap_move_column_stack_append(extras):
    check(*extras, "shapes", rng.random((3, 4)), rng.random(5))


def test_squeeze_of_a_run_time_length_of_one_raises(extras):
    compiled, _ = extras
    with pytest.raises(ValueError):
        compiled.shapes(rng.random((1, 4)), rng.random(5))


def test_meshgrid_tile_pad(extras):
    check(*extras, "grids", rng.random(3), rng.random(4), rng.random((2, 3)))


def test_angle_round_isclose_ptp_logspace_vdot_inner(extras):
    x = np.array([0.125, 0.5, 0.77777, 1.5, 2.5, -0.5, -2.5, 0.015])
    check(*extras, "elementwise", x, np.array([1 + 1j, -1, 0, -2j, 3 + 0.5j]), np.array([3, -7, 12]), x.astype(np.float32))


def test_triangle_indices_and_index_tuples(extras):
    check(*extras, "indices", rng.random((4, 5)), 4)


COUNTING = '''
import numpy as np

#pythran export counts(int64[:], float64[:], int32[:])
def counts(k, w, s):
    return (np.bincount(k), np.bincount(k, minlength=10), np.bincount(k, weights=w), np.bincount(s, w[:s.shape[0]], 2),
            np.unique(k), np.unique(w), np.unique(s.reshape(2, -1)))

#pythran export stats(float64[:], float32[:], int64[:], float64[:,:])
def stats(x, f, k, A):
    return (np.median(x), np.median(x[:-1]), np.median(f), np.median(k), np.median(A), np.quantile(x, 0.3), np.percentile(x, 50),
            np.percentile(x, [25, 75, 100, 0]), np.quantile(f, 0.9), np.percentile(k, 33.3), np.quantile(A, [0.1]))

#pythran export conv(float64[:], float64[:], int64[:])
def conv(a, v, k):
    return (np.convolve(a, v), np.convolve(a, v, mode='same'), np.convolve(a, v, 'valid'), np.convolve(v, a, mode='same'),
            np.convolve(v, a, 'valid'), np.convolve(k, k), np.convolve(a, k[:2], mode='same'))
'''


@pytest.fixture(scope="module")
def counting(tmp_path_factory):
    return build_pair(tmp_path_factory.mktemp("counting"), "counting", COUNTING)


def test_bincount_and_unique(counting):
    check(*counting, "counts", np.array([3, 1, 1, 0, 7, 3]), rng.random(6), np.array([0, 1, 1, 4, 4, 4], np.int32))
    check(*counting, "counts", np.array([2, 0]), rng.random(2), np.array([3, 3], np.int32))
    # Empty with weights: NumPy's result would be int64 zeros, a dtype that depends on the data.
    with pytest.raises(ValueError):
        counting[0].counts(np.array([], dtype=np.int64), rng.random(0), np.array([], np.int32))


def test_bincount_of_a_negative_value_raises(counting):
    with pytest.raises(ValueError):
        counting[0].counts(np.array([1, -1]), rng.random(2), np.array([0], np.int32))


def test_median_quantile_percentile(counting):
    x = rng.random(9)
    x[3] = x[5]
    check(*counting, "stats", x, rng.random(6).astype(np.float32), np.array([5, 1, 9, 3]), rng.random((3, 4)))
    check(*counting, "stats", np.array([1.0, np.nan, 2.0]), np.array([1, 2, 3], np.float32), np.array([4]), np.ones((1, 1)))


def test_convolve_modes_either_input_longer(counting):
    check(*counting, "conv", rng.random(7), rng.random(3), np.array([1, 2, 3]))
    check(*counting, "conv", rng.random(2), rng.random(5), np.array([1, -2]))


METHODS = '''
import numpy as np

#pythran export meth(float64[:,:], float64[:], int64[:], float32[:])
def meth(A, x, k, f):
    y = x.copy()
    y.fill(2.0)
    B = A.copy()
    B[0].fill(-1.0)
    return (A.dot(x[:A.shape[1]]), x.dot(x), A.clip(0.2, 0.5), x.clip(min=0.3), x.nonzero()[0], A[:1, :1].item(), x.item(1), A.item(1, 2),
            k.repeat(2), A.diagonal(), np.diagonal(A, 1), A.take(k), np.take(A, k, axis=1), x.take([0, -1]), y, B,
            np.sum(k, dtype=np.int32), np.sum(x, dtype=np.float32), np.prod(k, axis=0, dtype=np.float64), np.mean(x, dtype=np.float32),
            np.std(f, dtype=np.float64), k.sum(dtype=np.int8))

#pythran export fns(float64[:,:], float64[:], int64[:])
def fns(A, x, k):
    S = A[:, :A.shape[0]]
    return (np.kron(A, A), np.kron(x, k), np.linalg.matrix_power(S, 3), np.linalg.matrix_power(S, 0), np.linalg.matrix_power(S, 1),
            np.trapezoid(x), np.trapezoid(A), np.trapezoid(x, dx=0.5), np.trapezoid(A, axis=0), np.trapezoid(x, x ** 2), np.trapezoid(A, x[:A.shape[1]]),
            np.gradient(x), np.gradient(x, 0.5), np.gradient(k), np.heaviside(x - 0.5, 0.5), np.heaviside(k, 2))

#pythran export single(float64[:])
def single(x):
    return x.item()

#pythran export norms(float64[:,:], float32[:], int64[:])
def norms(A, f, k):
    return (np.linalg.norm(A, 1), np.linalg.norm(A, np.inf), np.linalg.norm(A[0], 1), np.linalg.norm(A[0], np.inf), np.linalg.norm(A, "fro"),
            np.linalg.norm(A[0], ord=3), np.linalg.norm(A, -1), np.linalg.norm(A, -np.inf), np.linalg.norm(A, 1, axis=(1, 0)), np.linalg.norm(f, 1),
            np.linalg.norm(f, 0), np.linalg.norm(k, np.inf), np.linalg.norm(A, 1, axis=1), np.linalg.norm(A, -np.inf, axis=0, keepdims=True), np.linalg.norm(f, 0.5))
'''


@pytest.fixture(scope="module")
def methods(tmp_path_factory):
    return build_pair(tmp_path_factory.mktemp("methods"), "methods", METHODS)


def test_array_methods_and_reduction_dtypes(methods):
    x = rng.random(5)
    x[2] = 0.0
    check(*methods, "meth", rng.random((3, 4)), x, np.array([3, 1, 2]), rng.random(4).astype(np.float32))


def test_kron_matrix_power_trapezoid_gradient_heaviside(methods):
    check(*methods, "fns", rng.random((3, 5)), np.array([0.5, 0.1, 0.0, 0.9, 0.3]), np.array([2, 0, -1]))


def test_norms_of_other_orders(methods):
    check(*methods, "norms", np.arange(12.0).reshape(3, 4) - 5, np.array([1, 0, -2], np.float32), np.array([3, -9]))


def test_item_of_an_array_of_several_elements_raises(methods):
    assert methods[0].single(np.array([2.5])) == 2.5
    with pytest.raises(ValueError):
        methods[0].single(np.array([1.0, 2.0]))


NAN_AND_EDITS = '''
import numpy as np
#pythran export nans(float64[:,:], float32[:], int64[:])
def nans(A, f, k):
    return (np.nansum(A), np.nansum(A, axis=0), np.nanprod(A, axis=1), np.nanmax(A), np.nanmax(A, axis=1), np.nanmin(A, axis=0, keepdims=True),
            np.nanmean(A), np.nanmean(A, axis=1), np.nanvar(A, axis=0), np.nanstd(A), np.nanstd(A, axis=1, ddof=1), np.nanmean(f), np.nanvar(f),
            np.nansum(k), np.nanmax(k), np.nanmean(k), np.nanargmax(A, axis=1), np.nanargmin(A), np.nanmax(f))

#pythran export ins(float64[:], float64[:,:], int64[:,:], int)
def ins(x, A, I, k):
    return (np.insert(x, 0, 0.0), np.insert(x, -1, 9.5), np.insert(x, x.shape[0], 7), np.insert(A, 1, 5.0, axis=1), np.insert(A, k, A[0], axis=0),
            np.delete(x, 0), np.delete(x, -1), np.delete(A, 1, axis=1), np.delete(A, k), np.take_along_axis(A, I, axis=1),
            np.take_along_axis(A, np.argsort(A, axis=0), axis=0), np.take_along_axis(A, I[:1, :1], 0), np.polyval(x, 0.5), np.polyval(x, A),
            np.polyval(np.array([1, 2, 3]), np.array([1, -2])), np.vander(x), np.vander(x, 2, increasing=True), np.vander(np.array([2, 3]), 4))
'''


@pytest.fixture(scope="module")
def nan_edits(tmp_path_factory):
    return build_pair(tmp_path_factory.mktemp("nan_edits"), "nan_edits", NAN_AND_EDITS)


def test_nan_reductions(nan_edits):
    A = np.array([[1.0, np.nan, 3.0], [np.nan, np.nan, 2.0], [0.5, 4.0, np.nan], [1.0, 2.0, 3.0]])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check(*nan_edits, "nans", A, np.array([1.0, np.nan, 2.5], np.float32), np.array([3, -1, 2]))


def test_nanargmax_of_an_all_nan_slice_raises(nan_edits):
    A = np.ones((2, 3))
    A[1] = np.nan
    with pytest.raises(ValueError):
        nan_edits[0].nans(A, np.array([1.0], np.float32), np.array([3]))


def test_insert_delete_take_along_axis_polyval_vander(nan_edits):
    check(*nan_edits, "ins", np.array([0.5, -1.0, 2.0]), np.arange(12.0).reshape(3, 4) % 5, np.array([[0, 3], [1, 1], [-1, 2]]), 2)


def test_insert_at_an_index_out_of_range_raises(nan_edits):
    with pytest.raises(RuntimeError, match="out of bounds"):
        nan_edits[0].ins(np.array([0.5, -1.0, 2.0]), np.arange(12.0).reshape(3, 4), np.array([[0, 3], [1, 1], [-1, 2]]), 7)


SMALL_FUNCTIONS = '''
import numpy as np
#pythran export a1(float64[:,:], float64[:])
def a1(A, x):
    B = np.empty_like(A)
    np.copyto(B, A)
    C = np.zeros_like(A)
    np.copyto(C, x[:A.shape[1]])
    return (B, C, np.ascontiguousarray(A.T), np.atleast_2d(x), np.atleast_3d(A).shape[2], np.atleast_1d(x[0]), np.broadcast_to(x[:A.shape[1]], A.shape),
            np.nan_to_num(np.log(x - 0.3)), np.nan_to_num(x / (x - x), nan=-1.0, posinf=9.0))

#pythran export a2(float64[:,:], float64[:])
def a2(A, x):
    return (np.rot90(A), np.rot90(A, 2), np.rot90(A, -1), np.rot90(A, 3, axes=(1, 0)), np.fliplr(A), np.flipud(A),
            np.digitize(x, np.array([0.2, 0.5, 0.8])), np.digitize(x, np.array([0.2, 0.5, 0.8]), right=True),
            np.isin(np.array([1, 2, 3]), np.array([2, 5])), np.isin(A, x[:2], invert=True), np.sinc(x - 0.5))

#pythran export a3(float64[:,:], float64[:])
def a3(A, x):
    a, b = np.split(x[:4], 2)
    c = np.hsplit(A, 2)
    d = np.array_split(x, 3)
    e = np.vsplit(A, 1)[0]
    return (a, b, c[0], c[1], d[0], d[1], d[2], e, np.tensordot(A, A, axes=([1], [1])), np.tensordot(A, A), np.tensordot(x, x, axes=1),
            np.dstack((A, A)), np.dstack((x, x)), np.indices((2, 3)))

#pythran export med(float64[:,:], float32[:,:], int64[:,:,:])
def med(A, F, K):
    return (np.median(A, axis=0), np.median(A, axis=1), np.median(A, axis=-1), np.median(F, axis=0), np.median(K, axis=1), np.median(A),
            np.percentile(A, 90, axis=0), np.quantile(A, [0.25, 0.5], axis=1), np.quantile(F, 0.3, axis=1), np.percentile(K, [10, 90], axis=2))
'''


@pytest.fixture(scope="module")
def small_functions(tmp_path_factory):
    return build_pair(tmp_path_factory.mktemp("small_functions"), "small_functions", SMALL_FUNCTIONS)


@pytest.mark.parametrize("name", ["a1", "a2", "a3"])
def test_copyto_atleast_rot90_digitize_isin_sinc_split_tensordot_dstack_indices(small_functions, name):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check(*small_functions, name, np.arange(12.0).reshape(3, 4) / 10, np.array([0.1, 0.5, 0.9, 0.3, 0.8]))


def test_split_into_unequal_sections_raises(small_functions):
    with pytest.raises(ValueError):
        small_functions[0].a3(np.arange(15.0).reshape(3, 5), np.arange(5.0))


def test_median_and_quantiles_along_an_axis(small_functions):
    check(*small_functions, "med", np.array([[1.0, np.nan, 3.0, 0.0], [2.0, 5.0, -1.0, 4.0], [0.5, 0.25, 9.0, 7.0]]),
          np.arange(12, dtype=np.float32).reshape(4, 3) % 5, np.arange(24).reshape(2, 3, 4) % 7)


REPEATS = '''
import numpy as np
#pythran export rep(float64[:,:], int64[:], int32[:])
def rep(A, c, d):
    return (np.repeat(A[0], c[:A.shape[1]]), np.repeat(A, c[:A.shape[0]], axis=0), np.repeat(A, d, axis=1), np.repeat(np.arange(3), np.array([2, 0, 1])),
            np.repeat(A[0], np.array([3])), np.repeat(A, c[:A.size]))

#pythran export sum_of_arrays(float64[:], float64[:])
def sum_of_arrays(x, y):
    return sum([x, y, x * 2]), sum((x[:2], y[1:3]), 1.0)
'''


@pytest.fixture(scope="module")
def repeats(tmp_path_factory):
    return build_pair(tmp_path_factory.mktemp("repeats"), "repeats", REPEATS)


def test_repeat_with_a_count_per_element(repeats):
    check(*repeats, "rep", np.arange(6.0).reshape(2, 3), np.array([1, 0, 3, 2, 1, 1]), np.array([2, 1, 0], np.int32))


def test_repeat_with_a_negative_count_raises(repeats):
    with pytest.raises(ValueError):
        repeats[0].rep(np.arange(6.0).reshape(2, 3), np.array([1, -1, 3, 2, 1, 1]), np.array([2, 1, 0], np.int32))


def test_builtin_sum_of_a_list_of_arrays(repeats):
    check(*repeats, "sum_of_arrays", np.arange(4.0), np.linspace(0, 1, 4))
