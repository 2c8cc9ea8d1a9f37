"""Run-time indices and slice bounds follow Python: a negative index wraps once, an index
outside [-n, n) raises IndexError, slice bounds are clamped to the array; compiled code never
reads outside an array. Also `.real` / `.imag` and np.mgrid / np.ogrid. Each function is
compiled once (one module) and compared with NumPy running the same source."""

import numpy as np
import pytest

from test_numpy_surface import build_pair

SOURCE = '''
import numpy as np

#pythran export item(float64[:], int)
def item(x, k):
    return x[k]

#pythran export item2(float64[:,:], int, int)
def item2(A, k, m):
    return A[k, m], A[k, :].sum(), A[:, m].sum()

#pythran export store(float64[:], int)
def store(x, k):
    y = x.copy()
    y[k] = -1.0
    return y

#pythran export computed(float64[:], int64[:])
def computed(x, idx):
    return x[idx[0]] + x[idx[1] - 1]

#pythran export runtime_slices(float64[:], int)
def runtime_slices(x, k):
    # Position-weighted sums check which elements the slices hold, in order.
    a = x[k:] * (np.arange(x[k:].shape[0]) + 1.0)
    b = x[:k] * (np.arange(x[:k].shape[0]) + 1.0)
    return x[k:].sum(), x[:k].sum(), x[k:].shape[0], x[:k].shape[0], a.sum(), b.sum()

#pythran export slice_results(float64[:], int)
def slice_results(x, k):
    return x[k:] * 2.0, x[:k] + 1.0

#pythran export window(float64[:], int, int)
def window(x, a, b):
    return x[a:b].sum(), x[a:b].shape[0], x[a:b:2].sum(), x[b:a:-1].sum(), x[a::-1].sum(), x[:a:-2].sum()

#pythran export window2(float64[:,:], int, int)
def window2(A, a, b):
    return A[a:, b].sum(), A[a:b, :b].sum(), A[a:b, :b].shape[0], A[a:b, :b].shape[1]

#pythran export constant_slices(float64[:])
def constant_slices(x):
    return (x[:100].sum(), x[5:100:3], x[-100:3], x[12:].shape[0], x[-100:].sum(), x[3:-100].shape[0],
            x[100::-1].sum(), x[:-100:-1].sum(), x[1:] - x[:-1], x[1:-1] * 2.0)

#pythran export size_slices(float64[:])
def size_slices(x):
    n = x.shape[0]
    return (x[0:n - 2] + x[1:n - 1] - x[2:n], x[n - 1:].sum(), x[n - 2:n].sum(), x[0:n - 3].sum(),
            x[n - 3:].sum(), x[0:n + 1].sum(), x[n - 5:n - 1:2].sum())

#pythran export ends(float64[:], float64[:,:])
def ends(x, B):
    return x[:1] * 2.0, x[-1:] + B, B[:, :1] * B, B[-1:, :] - B

#pythran export periodic(float64[:])
def periodic(x):
    n = x.shape[0]
    y = np.empty_like(x)
    for i in range(n):
        y[i] = x[i - 1] + x[i] + x[(i + 1) % n]
    return y

#pythran export periodic2(float64[:,:])
def periodic2(A):
    B = np.zeros_like(A)
    for i in range(A.shape[0]):
        for j in range(A.shape[1]):
            B[i, j] = A[i - 1, j] + A[i, j - 2] - A[i - A.shape[0], j]
    return B

#pythran export interior(float64[:])
def interior(x):
    y = x.copy()
    for i in range(1, x.shape[0] - 1):
        y[i] = x[i - 1] + x[i + 1]
    return y

#pythran export first_in_loop(float64[:], float64[:])
def first_in_loop(x, w):
    y = np.empty_like(x)
    for i in range(x.shape[0]):
        y[i] = x[i] * x[0] + x[-1] + w[0]
    return y

#pythran export past_end(float64[:])
def past_end(x):
    s = 0.0
    for i in range(x.shape[0]):
        s += x[i + 1]
    return s

#pythran export guarded(float64[:])
def guarded(x):
    n = x.shape[0]
    s = 0.0
    c = 0
    for i in range(n):
        s += x[i + 1] if i + 1 < n else 0.0
        if i + 1 < n and x[i + 1] > 0.5:
            c += 1
        if i + 1 >= n or x[i + 1] < 0.25:
            c += 10
    return s, c

#pythran export parts(complex128[:], float64[:])
def parts(z, x):
    w = z * 2.0
    return z.real + z.imag, w.real, w.imag, z[0].real, z[1].imag, x.real, x.imag, z.conj(), z[z.real > 0].imag.sum()

#pythran export grids(int)
def grids(n):
    a = np.mgrid[0:3, 0:4]
    b, c = np.ogrid[0:n, 1:7:2]
    d = np.mgrid[0:1:5j]
    e = np.mgrid[-1:1:0.5, 0:n]
    f, g = np.ogrid[0:1:3j, 0:2]
    return a, b, c, d, e, np.mgrid[2:n], f, g, np.ogrid[1:n:2], np.mgrid[0:n, 0:2].sum(axis=0)
'''


@pytest.fixture(scope="module")
def mods(tmp_path_factory):
    return build_pair(tmp_path_factory.mktemp("bounds"), "bounds_mod", SOURCE)


def same(got, want):
    if isinstance(want, tuple):
        assert isinstance(got, tuple) and len(got) == len(want)
        for g, w in zip(got, want):
            same(g, w)
        return
    g, w = np.asarray(got), np.asarray(want)
    assert g.shape == w.shape, (g.shape, w.shape)
    if w.dtype.kind in "iub":
        np.testing.assert_array_equal(g, w)
    else:
        np.testing.assert_allclose(g, w, rtol=1e-5, atol=1e-8)


def check(mods, name, *args):
    compiled, ref = mods
    try:
        want = getattr(ref, name)(*args)
    except IndexError:
        with pytest.raises(IndexError):
            getattr(compiled, name)(*args)
        return
    same(getattr(compiled, name)(*args), want)


X = np.arange(1.0, 6.0)


@pytest.mark.parametrize("k", [-6, -5, -3, -1, 0, 2, 4, 5, 7, -100, 100])
def test_runtime_index(mods, k):
    check(mods, "item", X, k)
    check(mods, "store", X, k)


@pytest.mark.parametrize("k,m", [(0, 0), (-1, -1), (2, -4), (-3, 3), (3, 0), (0, 4), (-4, 0), (1, -5)])
def test_runtime_index_2d(mods, k, m):
    check(mods, "item2", np.arange(12.0).reshape(3, 4), k, m)


@pytest.mark.parametrize("idx", [[0, 0], [-5, 5], [4, -4], [5, 1], [0, 6], [-6, 1], [2, -5]])
def test_computed_index(mods, idx):
    check(mods, "computed", X, np.array(idx, dtype=np.int64))


def test_index_error_message(mods):
    with pytest.raises(IndexError):
        mods[0].item(X, 5)
    with pytest.raises(IndexError):
        mods[0].item(np.empty(0), 0)


@pytest.mark.parametrize("k", [-7, -5, -2, 0, 1, 3, 5, 6, 9])
def test_runtime_slices(mods, k):
    check(mods, "runtime_slices", X, k)
    if k >= 0:  # integer parameters in result shapes must be non-negative (the wrapper's rule)
        check(mods, "slice_results", X, k)


@pytest.mark.parametrize("a,b", [(0, 5), (1, 3), (-3, -1), (-9, 2), (2, 9), (4, 1), (-1, -4), (7, 8), (-8, -6), (3, 3)])
def test_window(mods, a, b):
    check(mods, "window", np.arange(1.0, 8.0), a, b)
    check(mods, "window2", np.arange(20.0).reshape(4, 5), a, b)


@pytest.mark.parametrize("n", [0, 1, 2, 3, 4, 10, 13])
def test_constant_slices(mods, n):
    check(mods, "constant_slices", np.arange(float(n)) + 0.5)
    check(mods, "size_slices", np.arange(float(n)) ** 2 + 0.5)


def test_one_element_slices_broadcast(mods):
    check(mods, "ends", np.arange(1.0, 4.0), np.arange(6.0).reshape(2, 3))
    # x[:1] and x[-1:] keep extent 1 so that they broadcast; on an empty array (where NumPy
    # gives an empty slice) they raise IndexError instead.
    with pytest.raises(IndexError):
        mods[0].ends(np.empty(0), np.ones((2, 0)))


@pytest.mark.parametrize("n", [1, 2, 5])
def test_loop_negative_index_wraps(mods, n):
    x = np.arange(1.0, n + 1.0) ** 2
    check(mods, "periodic", x)
    check(mods, "interior", x)
    check(mods, "periodic2", np.arange(float(n * (n + 2))).reshape(n, n + 2))


@pytest.mark.parametrize("n,m", [(3, 1), (0, 0), (1, 0), (2, 2)])
def test_constant_index_in_loop(mods, n, m):
    check(mods, "first_in_loop", np.arange(1.0, n + 1.0), np.arange(5.0, 5.0 + m))


def test_loop_index_past_end_raises(mods):
    with pytest.raises(IndexError):
        mods[0].past_end(X)


def test_guarded_reads_are_not_checked_when_not_evaluated(mods):
    check(mods, "guarded", np.array([0.1, 0.9, 0.3, 0.7, 0.2]))


def test_real_imag(mods):
    z = np.array([1.0 + 2.0j, -3.0 + 0.5j, 2.5 - 1.0j])
    check(mods, "parts", z, X[:3])


@pytest.mark.parametrize("n", [1, 4])
def test_grids(mods, n):
    check(mods, "grids", n)
