"""Pairs of matrix-vector products over one matrix that the fuse-matvec pass computes in one
pass over its rows give NumPy's results: both orders, A.T @ (A @ x), accumulation, transposed
operands, strided views, float32, and empty dimensions."""

import numpy as np
import pytest

from test_numpy_surface import build_pair

SOURCE = '''
import numpy as np

#pythran export bicg(float64[:,:], float64[:], float64[:])
def bicg(A, p, r):
    s = r @ A
    q = A @ p
    return s, q

#pythran export atax(float64[:,:], float64[:])
def atax(A, x):
    t = A @ x
    return t @ A

#pythran export mvt(float64[:], float64[:], float64[:], float64[:], float64[:,:])
def mvt(x1, x2, y1, y2, A):
    x1 += A @ y1
    x2 += y2 @ A

#pythran export transposed(float64[:,:], float64[:], float64[:])
def transposed(A, p, r):
    s = A.T @ r
    q = p @ A.T
    return s, q

#pythran export strided(float64[:,:], float64[:], float64[:])
def strided(A, p, r):
    B = A[::2, 1:]
    q = B @ p[::2]
    s = r[1:] @ B
    return s, q

#pythran export single(float32[:,:], float32[:], float32[:])
def single(A, p, r):
    q = A @ p
    s = r @ A
    return s, q

#pythran export rows(float64[:,:,:], float64[:], float64[:,:], float64[:,:])
def rows(A, p, Q, S):
    for i in range(A.shape[0]):
        Q[i] = A[i] @ p
        S[i] = p @ A[i]
'''


@pytest.fixture(scope="module")
def pair(tmp_path_factory):
    return build_pair(tmp_path_factory.mktemp("fuse_matvec"), "fuse_matvec", SOURCE)


def rng(seed=0):
    return np.random.default_rng(seed)


def close(got, want, rtol=1e-10):
    if isinstance(want, tuple):
        assert len(got) == len(want)
        for g, w in zip(got, want):
            close(g, w, rtol)
        return
    assert got.dtype == want.dtype and got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=rtol, atol=1e-12)


# Sizes on both sides of the one-thread threshold (rows * columns = 32768), and empty ones.
SHAPES = [(3, 5), (1, 1), (300, 257), (700, 97), (0, 4), (4, 0)]


@pytest.mark.parametrize("n, m", SHAPES)
def test_bicg(pair, n, m):
    compiled, reference = pair
    A, p, r = rng().standard_normal((n, m)), rng(1).standard_normal(m), rng(2).standard_normal(n)
    close(compiled.bicg(A, p, r), reference.bicg(A, p, r))


@pytest.mark.parametrize("n, m", SHAPES)
def test_atax(pair, n, m):
    compiled, reference = pair
    A, x = rng().standard_normal((n, m)), rng(1).standard_normal(m)
    close(compiled.atax(A, x), reference.atax(A, x))


@pytest.mark.parametrize("n", [1, 6, 300])
def test_mvt_accumulates_into_both(pair, n):
    compiled, reference = pair
    A = rng().standard_normal((n, n))
    args = [rng(k).standard_normal(n) for k in range(1, 5)]
    mine, theirs = [a.copy() for a in args], [a.copy() for a in args]
    compiled.mvt(*mine, A)
    reference.mvt(*theirs, A)
    close(mine[0], theirs[0])
    close(mine[1], theirs[1])
    np.testing.assert_array_equal(mine[2], args[2])


@pytest.mark.parametrize("n, m", [(5, 3), (257, 300)])
def test_transposed_operands(pair, n, m):
    compiled, reference = pair
    A, p, r = rng().standard_normal((n, m)), rng(1).standard_normal(m), rng(2).standard_normal(n)
    close(compiled.transposed(A, p, r), reference.transposed(A, p, r))


@pytest.mark.parametrize("n, m", [(9, 7), (600, 301)])
def test_strided_views(pair, n, m):
    compiled, reference = pair
    A = rng().standard_normal((n, m))
    p = rng(1).standard_normal(2 * (m - 1))
    r = rng(2).standard_normal((n + 1) // 2 + 1)
    close(compiled.strided(A, p, r), reference.strided(A, p, r))


@pytest.mark.parametrize("n, m", [(4, 6), (400, 333)])
def test_float32(pair, n, m):
    # float32 sums in another order than OpenBLAS's sgemv: single-precision tolerance.
    compiled, reference = pair
    A = rng().standard_normal((n, m)).astype(np.float32)
    p, r = rng(1).standard_normal(m).astype(np.float32), rng(2).standard_normal(n).astype(np.float32)
    close(compiled.single(A, p, r), reference.single(A, p, r), rtol=2e-4)


def test_pair_in_a_loop(pair):
    compiled, reference = pair
    A, p = rng().standard_normal((4, 200, 200)), rng(1).standard_normal(200)
    Q1, S1, Q2, S2 = (np.zeros((4, 200)) for _ in range(4))
    compiled.rows(A, p, Q1, S1)
    reference.rows(A, p, Q2, S2)
    close(Q1, Q2)
    close(S1, S2)


def test_the_pass_applied(tmp_path):
    # The functions above do go through the fused node (not BLAS twice).
    import subprocess, os
    src = tmp_path / "fm.py"
    src.write_text(SOURCE)
    r = subprocess.run([os.environ["BRAID"], "build", str(src), "--explain", "-o", str(tmp_path)],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    fused = [l for l in r.stdout.splitlines() + r.stderr.splitlines() if "[fuse-matvec]" in l]
    assert len(fused) == 7, fused
