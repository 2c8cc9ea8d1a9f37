"""Loops that can raise run in parallel speculatively (the speculate-checks pass): with valid
data they give NumPy's results; with an index out of bounds they raise Python's IndexError and
leave every written array exactly as Python leaves it (the earlier iterations' writes done, none
of the later ones), at sizes on both sides of the one-thread threshold."""

from pathlib import Path

import numpy as np
import pytest

from test_numpy_surface import build_pair

# The corpus kernel itself (plain NumPy, `spmv` exported), then loops written for these tests.
SPMV = Path(__file__).resolve().parents[2] / "corpus" / "kernels" / "spmv.py"
SOURCE = SPMV.read_text() + '''

#pythran export gather_sum(float64[:], int64[:], float64[:])
def gather_sum(x, idx, out):
    total = 0.0
    for i in range(idx.shape[0]):
        v = x[idx[i]]
        out[i] = 2.0 * v
        total += v
    return total

#pythran export rows(float64[:,:], int64[:], float64[:,:])
def rows(A, perm, B):
    for i in range(perm.shape[0]):
        B[i, :] = A[perm[i], :] * 3.0

#pythran export few(float64[:], int64[:], float64[:])
def few(x, idx, big):
    for i in range(idx.shape[0]):
        big[i] = x[idx[i]]
'''


@pytest.fixture(scope="module")
def pair(tmp_path_factory):
    return build_pair(tmp_path_factory.mktemp("speculate_checks"), "speculate_checks", SOURCE)


def csr(n, m, seed=0):
    rng = np.random.default_rng(seed)
    counts = rng.integers(0, 9, n)
    rowptr = np.zeros(n + 1, dtype=np.int32)
    rowptr[1:] = np.cumsum(counts)
    nnz = int(rowptr[-1])
    return rowptr, rng.integers(-m, m, nnz).astype(np.int32), rng.random(nnz), rng.random(m)


def raises_index_error(f, *args):
    """Calls f; whether it raised IndexError (Braid's is a subclass)."""
    try:
        f(*args)
    except IndexError:
        return True
    return False


@pytest.mark.parametrize("n", [0, 1, 7, 5000, 40000])
def test_spmv_valid(pair, n):
    compiled, reference = pair
    rowptr, col, val, x = csr(n, 300)
    y1, y2 = np.zeros(n), np.zeros(n)
    compiled.spmv(n, rowptr, col, val, x, y1)
    reference.spmv(n, rowptr, col, val, x, y2)
    np.testing.assert_allclose(y1, y2, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("n", [7, 5000, 40000])
@pytest.mark.parametrize("where", [0.0, 0.3, 0.99])
def test_spmv_out_of_bounds_leaves_pythons_state(pair, n, where):
    compiled, reference = pair
    rowptr, col, val, x = csr(n, 300, seed=1)
    bad = col.copy()
    bad[int(where * (len(bad) - 1))] = 300  # one past the end of x
    y1, y2 = np.full(n, -1.0), np.full(n, -1.0)
    with pytest.raises(IndexError):
        compiled.spmv(n, rowptr, bad, val, x, y1)
    with pytest.raises(IndexError):
        reference.spmv(n, rowptr, bad, val, x, y2)
    np.testing.assert_array_equal(y1, y2)


def test_spmv_short_rowptr_raises(pair):
    compiled, reference = pair
    rowptr, col, val, x = csr(5000, 300)
    y1, y2 = np.zeros(5001), np.zeros(5001)
    assert raises_index_error(compiled.spmv, 5001, rowptr, col, val, x, y1)
    assert raises_index_error(reference.spmv, 5001, rowptr, col, val, x, y2)
    np.testing.assert_array_equal(y1, y2)


@pytest.mark.parametrize("n", [3, 50000])
def test_gather_sum_accumulates(pair, n):
    compiled, reference = pair
    rng = np.random.default_rng(2)
    x, idx = rng.random(1000), rng.integers(-1000, 1000, n)
    o1, o2 = np.zeros(n), np.zeros(n)
    t1, t2 = compiled.gather_sum(x, idx, o1), reference.gather_sum(x, idx, o2)
    assert t1 == pytest.approx(t2, rel=1e-12)
    np.testing.assert_array_equal(o1, o2)


@pytest.mark.parametrize("n", [3, 50000])
def test_gather_sum_failure_restores_outputs(pair, n):
    compiled, reference = pair
    rng = np.random.default_rng(3)
    x, idx = rng.random(1000), rng.integers(0, 1000, n)
    idx[n // 2] = -1001
    o1, o2 = np.full(n, 7.0), np.full(n, 7.0)
    assert raises_index_error(compiled.gather_sum, x, idx, o1)
    assert raises_index_error(reference.gather_sum, x, idx, o2)
    np.testing.assert_array_equal(o1, o2)


@pytest.mark.parametrize("n", [4, 3000])
def test_row_gather(pair, n):
    compiled, reference = pair
    rng = np.random.default_rng(4)
    A, perm = rng.random((n, 40)), rng.permutation(n)
    B1, B2 = np.zeros((n, 40)), np.zeros((n, 40))
    compiled.rows(A, perm, B1)
    reference.rows(A, perm, B2)
    np.testing.assert_array_equal(B1, B2)
    perm[-2] = n
    B1[:], B2[:] = 1.0, 1.0
    assert raises_index_error(compiled.rows, A, perm, B1)
    assert raises_index_error(reference.rows, A, perm, B2)
    np.testing.assert_array_equal(B1, B2)


def test_large_output_written_in_few_places(pair):
    # The written array is far larger than the loop's trip count: no copy is made, the loop
    # runs as written, and it still raises with Python's state.
    compiled, reference = pair
    x = np.arange(10.0)
    idx = np.array([1, 2, 11, 3])
    b1, b2 = np.zeros(200000), np.zeros(200000)
    assert raises_index_error(compiled.few, x, idx, b1)
    assert raises_index_error(reference.few, x, idx, b2)
    np.testing.assert_array_equal(b1, b2)
    idx[2] = -4
    compiled.few(x, idx, b1)
    reference.few(x, idx, b2)
    np.testing.assert_array_equal(b1, b2)
