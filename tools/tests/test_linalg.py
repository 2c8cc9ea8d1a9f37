"""np.linalg end to end: small annotated files built with the Braid compiler (CPU target, LAPACK)
and compared with NumPy on random well-conditioned inputs.

Tolerances: rtol=1e-8 for double precision. Braid calls the same LAPACK routines NumPy does
(gesv, potrf, getrf) but on its own copies with its own BLAS threading, so results differ from
NumPy's by rounding only; 1e-8 leaves a wide margin for the condition numbers used here (< 1e3).
Single-precision inputs are, as in NumPy, computed in double and rounded, so they are compared
at rtol=1e-5 (float32 has 24 bits).
"""

import shutil
import subprocess
import sys

import numpy as np
import pytest

from test_cli import load, run, write

RTOL = 1e-8

PLAIN = """\
import numpy as np

#pythran export solve_vec(float64[:,:], float64[:])
def solve_vec(A, b):
    return np.linalg.solve(A, b)

#pythran export solve_mat(float64[:,:], float64[:,:])
def solve_mat(A, B):
    return np.linalg.solve(A, B)

#pythran export zsolve_vec(complex128[:,:], complex128[:])
def zsolve_vec(A, b):
    return np.linalg.solve(A, b)

#pythran export zsolve_mat(complex128[:,:], complex128[:,:])
def zsolve_mat(A, B):
    return np.linalg.solve(A, B)

#pythran export ssolve(float32[:,:], float32[:])
def ssolve(A, b):
    return np.linalg.solve(A, b)

#pythran export inv(float64[:,:])
def inv(A):
    return np.linalg.inv(A)

#pythran export zinv(complex128[:,:])
def zinv(A):
    return np.linalg.inv(A)

#pythran export cinv(complex64[:,:])
def cinv(A):
    return np.linalg.inv(A)

#pythran export chol(float64[:,:])
def chol(A):
    return np.linalg.cholesky(A)

#pythran export zchol(complex128[:,:])
def zchol(A):
    return np.linalg.cholesky(A)

#pythran export det(float64[:,:])
def det(A):
    return np.linalg.det(A)

#pythran export zdet(complex128[:,:])
def zdet(A):
    return np.linalg.det(A)

#pythran export norm_vec(float64[:])
def norm_vec(x):
    return np.linalg.norm(x)

#pythran export norm_mat(float64[:,:])
def norm_mat(A):
    return np.linalg.norm(A)

#pythran export znorm_vec(complex128[:])
def znorm_vec(x):
    return np.linalg.norm(x)

#pythran export znorm_mat(complex128[:,:])
def znorm_mat(A):
    return np.linalg.norm(A, 'fro')

#pythran export norm_rows(float64[:,:])
def norm_rows(A):
    return np.linalg.norm(A, axis=1)

#pythran export views(float64[:,:], float64[:])
def views(A, b):
    # a transposed operand, a sliced (strided) operand, and an expression operand
    x = np.linalg.solve(A.T, b)
    y = np.linalg.solve(A[::2, ::2], b[::2])
    z = np.linalg.inv(2.0 * A)
    return x, y, z
"""

DATA_CENTRIC = """\
import numpy as np
import braid as br

N, K = br.symbol("N"), br.symbol("K")


@br.program
def residual(A: br.complex128[N, N], B: br.complex128[N, K], X: br.complex128[N, K]):
    X[:] = np.linalg.solve(A, B)
    return np.linalg.norm(A @ X - B) / np.linalg.norm(B)


@br.program
def shifted_inverses(A: br.float64[N, N], shifts: br.float64[K], out: br.float64[K, N, N]):
    for k in range(K):
        out[k] = np.linalg.inv(A + shifts[k] * np.eye(N))


@br.program
def chol_det(A: br.float64[N, N], L: br.float64[N, N]):
    L[:] = np.linalg.cholesky(A)
    return np.linalg.det(L) ** 2
"""


def well_conditioned(n, complex_=False, seed=0):
    r = np.random.default_rng(seed)
    A = r.standard_normal((n, n))
    if complex_:
        A = A + 1j * r.standard_normal((n, n))
    return A + 2 * np.sqrt(n) * np.eye(n)  # diagonally dominant enough: cond(A) ~ 10


def hermitian_pd(n, complex_=False, seed=0):
    M = well_conditioned(n, complex_, seed)
    return M @ M.conj().T + n * np.eye(n)


def vector(n, complex_=False, seed=1):
    r = np.random.default_rng(seed)
    v = r.standard_normal(n)
    return v + 1j * r.standard_normal(n) if complex_ else v


def matrix(n, k, complex_=False, seed=2):
    r = np.random.default_rng(seed)
    m = r.standard_normal((n, k))
    return m + 1j * r.standard_normal((n, k)) if complex_ else m


@pytest.fixture(scope="module")
def plain(tmp_path_factory):
    d = tmp_path_factory.mktemp("linalg-plain")
    f = write(d, "laplain.py", PLAIN)
    r = run("build", f, "-o", d)
    assert r.returncode == 0, r.stderr
    return load(d / "laplain.abi3.so")


@pytest.fixture(scope="module")
def dc(tmp_path_factory):
    d = tmp_path_factory.mktemp("linalg-dc")
    f = write(d, "ladc.py", DATA_CENTRIC)
    r = run("build", f, "-o", d)
    assert r.returncode == 0, r.stderr
    return load(d / "ladc.abi3.so")


def unchanged(*arrays):
    """Calls must never write their arguments: keep copies to compare afterwards."""
    return [a.copy() for a in arrays]


@pytest.mark.parametrize("n", [1, 5, 40])
@pytest.mark.parametrize("complex_", [False, True], ids=["float64", "complex128"])
def test_solve_vector(plain, n, complex_):
    A, b = well_conditioned(n, complex_), vector(n, complex_)
    before = unchanged(A, b)
    f = plain.zsolve_vec if complex_ else plain.solve_vec
    x = f(A, b)
    assert x.dtype == np.linalg.solve(A, b).dtype and x.shape == (n,)
    np.testing.assert_allclose(x, np.linalg.solve(A, b), rtol=RTOL)
    np.testing.assert_array_equal(A, before[0])
    np.testing.assert_array_equal(b, before[1])


@pytest.mark.parametrize("n, k", [(5, 1), (5, 3), (40, 7)])
@pytest.mark.parametrize("complex_", [False, True], ids=["float64", "complex128"])
def test_solve_matrix(plain, n, k, complex_):
    A, B = well_conditioned(n, complex_), matrix(n, k, complex_)
    before = unchanged(A, B)
    f = plain.zsolve_mat if complex_ else plain.solve_mat
    np.testing.assert_allclose(f(A, B), np.linalg.solve(A, B), rtol=RTOL)
    np.testing.assert_array_equal(A, before[0])
    np.testing.assert_array_equal(B, before[1])


def test_solve_float32_stays_float32(plain):
    A, b = well_conditioned(12).astype(np.float32), vector(12).astype(np.float32)
    x = plain.ssolve(A, b)
    assert x.dtype == np.float32
    np.testing.assert_allclose(x, np.linalg.solve(A, b), rtol=1e-5)


@pytest.mark.parametrize("n", [1, 6, 30])
@pytest.mark.parametrize("complex_", [False, True], ids=["float64", "complex128"])
def test_inv(plain, n, complex_):
    A = well_conditioned(n, complex_)
    before = unchanged(A)
    f = plain.zinv if complex_ else plain.inv
    np.testing.assert_allclose(f(A), np.linalg.inv(A), rtol=RTOL, atol=1e-12)
    np.testing.assert_array_equal(A, before[0])


def test_inv_complex64(plain):
    A = well_conditioned(8, True).astype(np.complex64)
    got = plain.cinv(A)
    assert got.dtype == np.complex64
    np.testing.assert_allclose(got, np.linalg.inv(A), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("n", [1, 6, 30])
@pytest.mark.parametrize("complex_", [False, True], ids=["float64", "complex128"])
def test_cholesky(plain, n, complex_):
    A = hermitian_pd(n, complex_)
    before = unchanged(A)
    f = plain.zchol if complex_ else plain.chol
    L = f(A)
    np.testing.assert_allclose(L, np.linalg.cholesky(A), rtol=RTOL, atol=1e-12)
    assert np.all(np.triu(L, 1) == 0)
    np.testing.assert_array_equal(A, before[0])


@pytest.mark.parametrize("complex_", [False, True], ids=["float64", "complex128"])
def test_det(plain, complex_):
    A = well_conditioned(9, complex_)
    f = plain.zdet if complex_ else plain.det
    np.testing.assert_allclose(f(A), np.linalg.det(A), rtol=RTOL)
    # An odd permutation flips the sign; a singular matrix has determinant 0.
    np.testing.assert_allclose(f(A[::-1].copy()), np.linalg.det(A[::-1]), rtol=RTOL)
    S = np.zeros((3, 3), dtype=A.dtype)
    assert f(S) == 0


def test_norm(plain):
    v, A = vector(50), matrix(20, 30)
    zv, zA = vector(50, True), matrix(20, 30, True)
    np.testing.assert_allclose(plain.norm_vec(v), np.linalg.norm(v), rtol=RTOL)
    np.testing.assert_allclose(plain.norm_mat(A), np.linalg.norm(A), rtol=RTOL)
    np.testing.assert_allclose(plain.znorm_vec(zv), np.linalg.norm(zv), rtol=RTOL)
    np.testing.assert_allclose(plain.znorm_mat(zA), np.linalg.norm(zA, "fro"), rtol=RTOL)
    np.testing.assert_allclose(plain.norm_rows(A), np.linalg.norm(A, axis=1), rtol=RTOL)
    assert isinstance(plain.znorm_mat(zA), float)


def test_views_as_operands(plain):
    A, b = well_conditioned(10), vector(10)
    x, y, z = plain.views(A, b)
    np.testing.assert_allclose(x, np.linalg.solve(A.T, b), rtol=RTOL)
    np.testing.assert_allclose(y, np.linalg.solve(A[::2, ::2], b[::2]), rtol=RTOL)
    np.testing.assert_allclose(z, np.linalg.inv(2.0 * A), rtol=RTOL, atol=1e-12)


def test_singular_matrix_raises(plain):
    # NumPy raises numpy.linalg.LinAlgError("Singular matrix"); compiled code raises RuntimeError.
    S = np.array([[1.0, 2.0], [2.0, 4.0]])
    with pytest.raises(RuntimeError, match="Singular"):
        plain.solve_vec(S, np.ones(2))
    with pytest.raises(RuntimeError, match="Singular"):
        plain.zsolve_mat(S.astype(complex), np.ones((2, 3), dtype=complex))
    with pytest.raises(RuntimeError, match="Singular"):
        plain.inv(np.zeros((4, 4)))


def test_not_positive_definite_raises(plain):
    with pytest.raises(RuntimeError, match="positive definite"):
        plain.chol(-np.eye(3))


def test_shape_mismatch_raises_value_error(plain):
    # NumPy raises LinAlgError, a subclass of ValueError.
    with pytest.raises(ValueError, match="square"):
        plain.inv(np.ones((3, 4)))
    with pytest.raises(ValueError, match="rows"):
        plain.solve_vec(np.eye(3), np.ones(4))


def test_data_centric_residual(dc):
    n, k = 24, 3
    A, B = well_conditioned(n, True), matrix(n, k, True)
    X = np.zeros((n, k), dtype=complex)
    res = dc.residual(A, B, X)
    np.testing.assert_allclose(X, np.linalg.solve(A, B), rtol=RTOL)
    assert res < 1e-12


def test_data_centric_inverses_in_a_loop(dc):
    n, k = 12, 4
    A = well_conditioned(n)
    shifts = np.linspace(0.5, 2.0, k)
    out = np.zeros((k, n, n))
    dc.shifted_inverses(A, shifts, out)
    for q in range(k):
        np.testing.assert_allclose(out[q], np.linalg.inv(A + shifts[q] * np.eye(n)), rtol=RTOL, atol=1e-12)


def test_data_centric_cholesky_and_det(dc):
    A = hermitian_pd(10)
    L = np.zeros_like(A)
    d = dc.chol_det(A, L)
    np.testing.assert_allclose(L, np.linalg.cholesky(A), rtol=RTOL, atol=1e-12)
    np.testing.assert_allclose(d, np.linalg.det(A), rtol=1e-7)  # det(L)**2: one more rounding step


@pytest.mark.parametrize("target", ["opencl", "hls"])
def test_targets_without_lapack_reject_at_the_line(tmp_path, target):
    f = write(tmp_path, "lanolapack.py", "import numpy as np\n\n#pythran export f(float64[:,:], float64[:])\n"
                                          "def f(A, b):\n    return np.linalg.solve(A, b)\n")
    r = run("build", f, "-o", tmp_path, "--target", target)
    assert r.returncode == 1, r.stdout + r.stderr
    assert f"{f}:5:" in r.stderr
    assert f"np.linalg.solve is not supported on the {target} target yet" in r.stderr


@pytest.mark.skipif(shutil.which("mpicc") is None, reason="MPI target needs mpicc")
def test_mpi_target_runs_lapack_replicated(tmp_path):
    f = write(tmp_path, "lampi.py", "import numpy as np\n\n#pythran export f(complex128[:,:], complex128[:])\n"
                                    "def f(A, b):\n    return np.linalg.solve(A, b), np.linalg.inv(A)\n")
    r = run("build", f, "-o", tmp_path, "--target", "mpi")
    assert r.returncode == 0, r.stderr
    # In a subprocess (a singleton MPI world under plain python3), so MPI stays out of this one.
    check = (
        "import numpy as np, lampi\n"
        "r = np.random.default_rng(0)\n"
        "A = r.standard_normal((8, 8)) + 1j * r.standard_normal((8, 8)) + 6 * np.eye(8)\n"
        "b = r.standard_normal(8) + 1j * r.standard_normal(8)\n"
        "x, Ai = lampi.f(A, b)\n"
        f"np.testing.assert_allclose(x, np.linalg.solve(A, b), rtol={RTOL})\n"
        f"np.testing.assert_allclose(Ai, np.linalg.inv(A), rtol={RTOL}, atol=1e-12)\n"
    )
    done = subprocess.run([sys.executable, "-c", check], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
