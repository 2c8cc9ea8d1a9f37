"""Matmuls with transposed operands (`A.T @ B`, `x @ A.T`, ...) read the stored matrix in
place with BLAS's transpose flag, and agree with NumPy, also where the loop-nest expansion
(integer operands, the OpenCL target) does the work."""

import importlib.util
import subprocess

import numpy as np
import pytest

from test_corpus import braid_binary

SOURCE = '''import numpy as np


def tn(A, B):
    return A.T @ B


def nt(A, B):
    return A @ B.T


def tt(A, B):
    return A.T @ B.T


def tv(A, x):
    return A.T @ x


def vt(x, A):
    return x @ A.T


def gram(X, y):
    return X.T @ X, X.T @ y


def sliced(A, B):
    return A[1:, 2:].T @ B[:, ::2]
'''

SIGS = {
    "float64": ["tn(float64[:,:], float64[:,:])", "nt(float64[:,:], float64[:,:])", "tt(float64[:,:], float64[:,:])",
                "tv(float64[:,:], float64[:])", "vt(float64[:], float64[:,:])", "gram(float64[:,:], float64[:])",
                "sliced(float64[:,:], float64[:,:])"],
}
SIGS["float32"] = [s.replace("float64", "float32") for s in SIGS["float64"]]
SIGS["int64"] = [s.replace("float64", "int64") for s in SIGS["float64"]]


def build(tmp_path, dtype, *extra):
    src = tmp_path / f"mt_{dtype}.py"
    src.write_text(SOURCE)
    args = [str(braid_binary()), "build", str(src), "-o", str(tmp_path), *extra]
    for s in SIGS[dtype]:
        args += ["--signature", s]
    r = subprocess.run(args, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    spec = importlib.util.spec_from_file_location(f"mt_{dtype}", next(tmp_path.glob(f"mt_{dtype}*.so")))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.mark.parametrize("dtype,target", [("float64", "cpu"), ("float32", "cpu"), ("int64", "cpu"), ("float64", "opencl")])
def test_transposed_operands_match_numpy(tmp_path, dtype, target):
    mod = build(tmp_path, dtype, "--target", target)
    ref = {}
    exec(compile(SOURCE, "mt.py", "exec"), ref)
    rng = np.random.default_rng(11)

    def arr(*shape):
        a = rng.random(shape) * 10 - 5
        return a.astype(dtype)

    tol = dict(rtol=1e-5, atol=1e-6) if dtype == "float32" else dict(rtol=1e-12, atol=0)
    cases = [("tn", arr(7, 5), arr(7, 3)), ("nt", arr(4, 6), arr(3, 6)), ("tt", arr(6, 4), arr(5, 6)),
             ("tv", arr(7, 5), arr(7)), ("vt", arr(6), arr(4, 6)), ("sliced", arr(8, 9), arr(7, 6)),
             ("tn", arr(0, 5), arr(0, 3))]
    for name, a, b in cases:
        got, want = getattr(mod, name)(a, b), ref[name](a, b)
        assert got.dtype == want.dtype and got.shape == want.shape, name
        np.testing.assert_allclose(got, want, **tol, err_msg=name)
    X, y = arr(50, 4), arr(50)
    for got, want in zip(mod.gram(X, y), ref["gram"](X, y)):
        np.testing.assert_allclose(got, want, **tol)


def test_transposed_operand_is_not_copied(tmp_path):
    src = tmp_path / "t.py"
    src.write_text(SOURCE)
    r = subprocess.run([str(braid_binary()), "build", str(src), "--emit", "c", "--signature", SIGS["float64"][0],
                        "--signature", SIGS["float64"][3]], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert "cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans" in r.stdout
    assert "cblas_dgemv(CblasRowMajor, CblasTrans" in r.stdout
    assert "*restrict operand" not in r.stdout  # no copy of the transposed view
