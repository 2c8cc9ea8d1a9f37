"""The optimizing passes seen end to end: loops that become parallel maps compute what
CPython computes, `--explain` names what was parallelized and what stayed sequential (with
the dependence and its line), and every pass can be switched off by name."""

import importlib.util
import subprocess
from pathlib import Path

import numpy as np
import pytest

from test_corpus import braid_binary

REPO = Path(__file__).resolve().parents[2]

SOURCE = '''import numpy as np


def row_norms(A):
    out = np.empty(A.shape[0])
    for i in range(A.shape[0]):
        s = 0.0
        for j in range(A.shape[1]):
            s += A[i, j] * A[i, j]
        out[i] = np.sqrt(s)
    return out


def total(x):
    s = 0.0
    for i in range(x.shape[0]):
        s = s + x[i] * 2.0
    return s


def prefix(x):
    for i in range(1, x.shape[0]):
        x[i] = x[i] + x[i - 1]
    return x


def imax(v):
    m = v[0]
    for i in range(v.shape[0]):
        m = max(m, v[i])
    return m


def escape(Z, C, K, n):
    I = np.abs(Z) < 2.0
    K[I] = n
    Z[I] = Z[I] ** 2 + C[I]
'''

SIGNATURES = ["row_norms(float64[:,:])", "total(float64[:])", "prefix(float64[:])", "imax(int32[:])",
              "escape(complex128[:,:], complex128[:,:], int64[:,:], int64)"]


def compile_module(tmp_path, name, source, signatures=(), extra=()):
    """Builds `source` as module `name`; returns (compiled module, CPython namespace, braid's stdout)."""
    src = tmp_path / f"{name}.py"
    src.write_text(source)
    args = [str(braid_binary()), "build", str(src), "-o", str(tmp_path), *extra]
    for s in signatures:
        args += ["--signature", s]
    r = subprocess.run(args, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    spec = importlib.util.spec_from_file_location(name, next(tmp_path.glob(f"{name}*.so")))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    ref = {}
    exec(compile(source, f"{name}.py", "exec"), ref)
    return mod, ref, r.stdout


def build(tmp_path, *extra):
    mod, _, out = compile_module(tmp_path, "loops", SOURCE, SIGNATURES, extra)
    return mod, out


def python_module():
    ns = {}
    exec(compile(SOURCE, "loops.py", "exec"), ns)
    return ns


@pytest.mark.parametrize("disabled", [[], ["loop-to-map"], ["map-fusion"], ["strength-reduction"], ["schedule-maps"]])
def test_loops_match_python_with_and_without_each_pass(tmp_path, disabled):
    extra = [a for d in disabled for a in ("--disable-pass", d)]
    mod, _ = build(tmp_path, *extra)
    ref = python_module()
    rng = np.random.default_rng(7)
    A = rng.random((300, 70))
    np.testing.assert_allclose(mod.row_norms(A), ref["row_norms"](A), rtol=1e-12)
    x = rng.random(100_000)
    # A parallel reduction adds in another order than Python's left fold.
    np.testing.assert_allclose(mod.total(x), ref["total"](x), rtol=1e-9)
    p1, p2 = x[:1000].copy(), x[:1000].copy()
    np.testing.assert_allclose(mod.prefix(p1), ref["prefix"](p2), rtol=1e-12)
    v = rng.integers(-10**6, 10**6, 50_001).astype(np.int32)
    assert mod.imax(v) == ref["imax"](v)
    Z = (rng.random((40, 50)) - 0.5) * 4 + 1j * (rng.random((40, 50)) - 0.5) * 4
    C = Z.copy()
    Z1, K1 = Z.copy(), np.zeros(Z.shape, np.int64)
    Z2, K2 = Z.copy(), np.zeros(Z.shape, np.int64)
    for n in range(6):
        mod.escape(Z1, C, K1, n)
        ref["escape"](Z2, C, K2, n)
    np.testing.assert_allclose(Z1, Z2, rtol=1e-12)
    np.testing.assert_array_equal(K1, K2)


def test_explain_names_parallel_loops_and_the_dependence_that_kept_one_sequential(tmp_path):
    _, out = build(tmp_path, "--explain", "--no-cache")
    lines = out.splitlines()

    def at(line):
        return [l for l in lines if f"loops.py:{line}:" in l]

    assert any("parallel: for-loop over i has independent iterations" in l and "private per iteration: s" in l
               for l in at(6)), out
    assert any("with reduction add:s" in l for l in at(16)), out
    prefix = " ".join(at(22))
    assert "sequential: for-loop over i stays sequential" in prefix and "x[i - 1]" in prefix, out
    assert any("with reduction max:m" in l for l in at(29)), out
    assert any("fused" in l for l in lines), out


def test_unknown_pass_name_is_a_usage_error(tmp_path):
    src = tmp_path / "k.py"
    src.write_text("def f(x):\n    return x + 1.0\n")
    r = subprocess.run([str(braid_binary()), "build", str(src), "--signature", "f(float64[:])",
                        "--disable-pass", "no-such-pass"], capture_output=True, text=True)
    assert r.returncode == 2
    assert "loop-to-map" in r.stderr and "map-fusion" in r.stderr


NAN_SOURCE = '''import numpy as np


def extremes(x):
    return np.max(x), x.min()


def loop_max(x):
    m = -np.inf
    for i in range(x.shape[0]):
        m = max(m, x[i])
    return m


def int_extremes(v):
    return np.max(v), np.min(v)
'''


@pytest.mark.parametrize("threads", ["1", "2"])
def test_parallel_max_min_propagate_nan_like_numpy(tmp_path, threads):
    src = tmp_path / "ext.py"
    src.write_text(NAN_SOURCE)
    r = subprocess.run([str(braid_binary()), "build", str(src), "-o", str(tmp_path),
                        "--signature", "extremes(float64[:])", "--signature", "loop_max(float32[:])",
                        "--signature", "int_extremes(int16[:])"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    code = f"""
import importlib.util, sys, numpy as np
spec = importlib.util.spec_from_file_location("ext", sys.argv[1])
m = importlib.util.module_from_spec(spec); spec.loader.exec_module(m)
x = np.random.default_rng(1).random(200_001)
x[123_457] = np.nan
a, b = m.extremes(x)
assert np.isnan(a) and np.isnan(b), (a, b)
a, b = m.extremes(x[:1000])
assert (a, b) == (np.max(x[:1000]), np.min(x[:1000])), (a, b)
y = x.astype(np.float32)
# Builtin max keeps its first argument unless the second is greater: a NaN element never wins.
def python_loop_max(x):
    r = -np.inf
    for v in x:
        r = max(r, v)
    return r
assert m.loop_max(y) == python_loop_max(y) == np.nanmax(y), (m.loop_max(y), python_loop_max(y))
assert m.loop_max(y[:1000]) == np.max(y[:1000])
v = np.random.default_rng(2).integers(-30000, 30000, 100_003).astype(np.int16)
assert m.int_extremes(v) == (v.max(), v.min())
"""
    so = next(tmp_path.glob("ext*.so"))
    env = dict(__import__("os").environ, OMP_NUM_THREADS=threads)
    r = subprocess.run([__import__("sys").executable, "-c", code, str(so)], capture_output=True, text=True, env=env)
    assert r.returncode == 0, r.stderr


@pytest.mark.parametrize("program", ["fluids/cavity_flow.py", "fluids/channel_flow.py", "deep_learning/resnet_basic.py",
                                     "complex/mandelbrot.py"])
def test_generated_code_is_the_same_every_time(program):
    """The build cache keys on the generated source: it must not depend on hash order."""
    path = REPO / "corpus" / program
    outs = {subprocess.run([str(braid_binary()), "build", str(path), "--emit", "c"], capture_output=True, text=True).stdout
            for _ in range(4)}
    assert len(outs) == 1


UNPACK_SOURCE = '''import numpy as np


def step(a, b):
    a, b = a + b, a * b
    return a, b


def julia(zr, zi, cr, ci, n):
    k = 0
    for _ in range(n):
        zr, zi = zr * zr - zi * zi + cr, 2.0 * zr * zi + ci
        if zr * zr + zi * zi > 4.0:
            break
        k += 1
    return k


def rotate(u, v):
    u, v = u + v, u - v
    return u * v


def fib(n):
    a, b = 0, 1
    for _ in range(n):
        a, b = b, a + b
    return a
'''


def test_tuple_assignment_evaluates_the_whole_right_side_first(tmp_path):
    sigs = ["step(float, float)", "julia(float, float, float, float, int)", "rotate(float64[:], float64[:])", "fib(int)"]
    mod, ref, _ = compile_module(tmp_path, "unpack", UNPACK_SOURCE, sigs)
    assert mod.step(2.0, 3.0) == ref["step"](2.0, 3.0) == (5.0, 6.0)
    rng = np.random.default_rng(3)
    pts = rng.random((40, 2)) - 0.5
    assert [mod.julia(a, b, -0.4, 0.6, 200) for a, b in pts] == [ref["julia"](a, b, -0.4, 0.6, 200) for a, b in pts]
    x, y = rng.random(10), rng.random(10)
    np.testing.assert_allclose(mod.rotate(x, y), ref["rotate"](x, y), rtol=1e-12)
    assert mod.fib(20) == ref["fib"](20) == 6765


VALUE_ERRORS = '''import numpy as np


def top_of_masked(x, k):
    if k > 100:
        return 0.0
    return np.max(x[x > k])


def power(x, k):
    return np.sum(x ** k)
'''


def test_run_time_value_errors_say_what_numpy_says(tmp_path):
    mod, ref, _ = compile_module(tmp_path, "verr", VALUE_ERRORS, ["top_of_masked(float64[:], float)", "power(int64[:], int)"])
    with pytest.raises(ValueError, match="zero-size array to reduction operation"):
        mod.top_of_masked(np.ones(3), 5.0)
    with pytest.raises(ValueError, match="zero-size array to reduction operation"):
        ref["top_of_masked"](np.ones(3), 5.0)
    with pytest.raises(ValueError, match="negative integer power"):
        mod.power(np.arange(3), -1)
    assert mod.power(np.arange(3), 2) == ref["power"](np.arange(3), 2)


def test_calls_give_back_the_callers_openmp_team_size(tmp_path):
    # Compiled functions size their teams to the machine's load while they run; the calling
    # thread's own team size is restored afterwards, also when the call raises.
    import ctypes

    mod, _, _ = compile_module(tmp_path, "teams", "def total(x):\n    s = 0.0\n    for i in range(x.shape[0]):\n"
                               "        s = s + x[i]\n    return s\n\n\ndef pick(x, i):\n    return x[i]\n",
                               ["total(float64[:])", "pick(float64[:], int64)"])
    gomp = ctypes.CDLL("libgomp.so.1")
    x = np.random.default_rng(3).random(1_000_000)
    before = gomp.omp_get_max_threads()
    try:
        for setting in (1, 2, 5):
            gomp.omp_set_num_threads(setting)
            np.testing.assert_allclose(mod.total(x), np.sum(x), rtol=1e-9)
            assert gomp.omp_get_max_threads() == setting
        with pytest.raises(IndexError):
            mod.pick(x, x.shape[0])  # the native code's error exit restores it too
        assert gomp.omp_get_max_threads() == 5
    finally:
        gomp.omp_set_num_threads(before)


def test_batched_blas_inside_parallel_maps_on_any_team_size(tmp_path):
    # OpenBLAS called from a parallel map over a batch, with teams of one and two threads
    # (its own threads must never wait for threads OpenMP did not start).
    import ctypes

    src = "def bmm(a, b):\n    return a @ b\n"
    mod, _, _ = compile_module(tmp_path, "bmm", src, ["bmm(float32[:,:,:], float32[:,:,:])"])
    gomp = ctypes.CDLL("libgomp.so.1")
    rng = np.random.default_rng(5)
    a, b = rng.random((16, 96, 64), dtype=np.float32), rng.random((16, 64, 80), dtype=np.float32)
    before = gomp.omp_get_max_threads()
    try:
        for setting in (1, 2):
            gomp.omp_set_num_threads(setting)
            np.testing.assert_allclose(mod.bmm(a, b), a @ b, rtol=1e-4)
    finally:
        gomp.omp_set_num_threads(before)
