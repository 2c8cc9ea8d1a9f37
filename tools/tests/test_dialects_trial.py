"""End to end, files as DaCe and Pythran users write them: module-level constant expressions,
DaCe storage and schedule hints, compared against the same source run by CPython."""

import subprocess

import numpy as np
import pytest

import braid
from test_corpus import braid_binary
from test_numpy_surface import build_pair


def build(tmp_path, name, text):
    src = tmp_path / f"{name}.py"
    src.write_text(text)
    r = subprocess.run([str(braid_binary()), "build", str(src), "-o", str(tmp_path)], capture_output=True, text=True)
    return r, src


CONSTANTS = """\
#pythran export gauss(float64[:], float, float)
import numpy as np
import math
from math import pi, sqrt as msqrt

TWO = 2
TWO_PI = TWO * np.pi
EPS = 1e-3
SHIFT = -7 // 2


def gauss(x, mu, sigma):
    c = 1.0 / (sigma * msqrt(TWO_PI))
    return c * np.exp(-(x - mu) ** 2 / (TWO * sigma ** 2)) + EPS * SHIFT + math.cos(pi / 3)
"""


def test_module_constant_expressions_match_cpython(tmp_path):
    mod, ref = build_pair(tmp_path, "consts", CONSTANTS)
    x = np.linspace(-2.0, 2.0, 11)
    np.testing.assert_allclose(mod.gauss(x, 0.7, 1.3), ref.gauss(x, 0.7, 1.3), rtol=1e-5, atol=1e-8)


def test_tuple_module_constant_is_a_located_error(tmp_path):
    text = "import numpy as np\nCOEFFS = (1.0, np.ones(2))\n\n#pythran export f(float64[:])\ndef f(x):\n    return x * COEFFS[0]\n"
    r, src = build(tmp_path, "tup", text)
    assert r.returncode == 1
    assert f"{src}:2:10: error: module-level 'COEFFS' is a tuple" in r.stderr
    assert "pass it as a parameter" in r.stderr


STORAGE = """\
import numpy as np
import dace as dc

N, M = (dc.symbol(s, dtype=dc.int64) for s in ('N', 'M'))


@dc.program
def mv(A: dc.float64[N, M] @ dc.StorageType.CPU_Heap, x: dc.float64[M], out: dc.float64[N]):
    for i in dc.map[0:N] @ dc.ScheduleType.Sequential:
        out[i] = A[i] @ x
"""


def test_storage_and_schedule_hints_match_cpython(tmp_path):
    braid.install_dace_alias()
    mod, ref = build_pair(tmp_path, "storage", STORAGE)
    rng = np.random.default_rng(4)
    A, x = rng.random((5, 4)), rng.random(4)
    got, want = np.zeros(5), np.zeros(5)
    mod.mv(A, x, got)
    ref.mv(A, x, want)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-8)
    assert np.any(want != 0)


def test_hints_that_are_not_storage_or_schedule_raise_under_cpython():
    with pytest.raises(TypeError, match="StorageType"):
        braid.float64[3] @ braid.ScheduleType.Sequential
    with pytest.raises(TypeError, match="ScheduleType"):
        braid.map[0:3] @ braid.StorageType.CPU_Heap


NEWTON = """\
#pythran export newton(float64[:])
#pythran export newton(float64[:], float64, int)
import numpy as np

EPS = 1e-12


def newton(a, tol=EPS, maxit=50, lo=-1.0):
    x = np.ones_like(a)
    it = 0
    err = 1.0
    while err > tol and it < maxit:
        xn = 0.5 * (x + a / x)
        err = np.max(np.abs(xn - x))
        x = xn
        it += 1
    return x + 0 * lo, it
"""


def test_exports_that_leave_out_defaulted_parameters(tmp_path):
    mod, ref = build_pair(tmp_path, "newton", NEWTON)
    a = np.linspace(1.0, 50.0, 9)
    for args in [(a,), (a, 1e-3, 3)]:
        (gx, gi), (wx, wi) = mod.newton(*args), ref.newton(*args)
        np.testing.assert_allclose(gx, wx, rtol=1e-5, atol=1e-8)
        assert gi == wi
    assert mod.newton(a, 1e-3, 3)[1] == 3


def test_symbols_returned_from_a_program_are_their_values():
    N, M = braid.symbol("N"), braid.symbol("M")

    @braid.program
    def sizes(A: braid.float64[N, M]):
        return N, max(N, M), [min(N, M), M], N * M

    got = sizes(np.zeros((3, 5)))
    assert got == (3, 5, [3, 5], 15)
    assert all(type(v) is int for v in (got[0], got[1], *got[2], got[3]))


def test_dace_allocation_helpers_run_under_cpython():
    a = braid.define_local([2, 3], braid.float32)
    assert a.shape == (2, 3) and a.dtype == np.float32
    s = braid.define_local_scalar(braid.uint32)
    assert type(s) is np.uint32
    b = braid.ndarray((4,), dtype=np.int64)
    assert b.shape == (4,) and b.dtype == np.int64


STAR = """\
#pythran export f(float64[:,:], float64[:])
from math import *
from numpy import *
from numpy.linalg import solve
norm2 = linalg.norm


def f(A, b):
    y = zeros_like(A)
    y[:, newaxis, 0] = sqrt(A[:, 0:1]) * pi + e
    M = A @ A.T + A.shape[0] * eye(A.shape[0])
    return y, max(A, axis=0), sum(A), abs(-A), solve(M, b), norm2(b), floor(2.5)
"""


def test_star_imports_submodules_and_aliases_match_cpython(tmp_path):
    mod, ref = build_pair(tmp_path, "star", STAR)
    rng = np.random.default_rng(6)
    A, b = rng.random((4, 4)), rng.random(4)
    got, want = mod.f(A, b), ref.f(A, b)
    assert len(got) == len(want)
    for g, w in zip(got, want):
        assert np.asarray(g).dtype == np.asarray(w).dtype
        np.testing.assert_allclose(g, w, rtol=1e-5, atol=1e-8)
