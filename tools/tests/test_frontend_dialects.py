"""End to end, as a new user writes files: scalar results have NumPy's scalar types, Pythran's
`T[][]` signatures, several exports per comment, DaCe's generator symbol declarations, and
Python that only runs under CPython (helpers of `initialize`) not stopping the build."""

import importlib.util
import subprocess

import numpy as np
import pytest

from test_corpus import braid_binary


def build(tmp_path, name, text, *extra):
    src = tmp_path / name
    src.write_text(text)
    r = subprocess.run([str(braid_binary()), "build", str(src), "-o", str(tmp_path), *extra],
                       capture_output=True, text=True)
    return r, src


def load(path, name):
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


SCALARS = """\
import numpy as np

#pythran export sums(float32[:], float64[:], int32[:], int64[:], uint8[:], complex64[:], complex128[:])
def sums(f4, f8, i4, i8, u1, c8, c16):
    return f4.sum(), f8.mean(), i4.max(), i8.sum(), u1.min(), c8.sum(), c16.prod()

#pythran export flags(float64[:]), counts(float64[:]), arg(float64[:]), norm(float32[:])
def flags(x):
    return (x > 0.5).any(), np.all(x >= 0)

def counts(x):
    return np.count_nonzero(x > 0.5)

def arg(x):
    return np.argmax(x)

def norm(x):
    return np.linalg.norm(x)
"""


def test_scalar_results_have_numpys_types(tmp_path):
    r, src = build(tmp_path, "scalars.py", SCALARS)
    assert r.returncode == 0, r.stderr
    mod = load(tmp_path / "scalars.abi3.so", "scalars")
    ref = load(src, "scalars_ref")
    rng = np.random.default_rng(3)
    args = (rng.random(5, dtype=np.float32), rng.random(5), rng.integers(-9, 9, 5, dtype=np.int32),
            rng.integers(-9, 9, 5), rng.integers(0, 200, 5, dtype=np.uint8),
            (rng.random(5) + 1j * rng.random(5)).astype(np.complex64), rng.random(5) + 1j * rng.random(5))
    x = rng.random(7)
    cases = [("sums", args), ("flags", (x,)), ("counts", (x,)), ("arg", (x,)), ("norm", (x.astype(np.float32),))]
    for name, a in cases:
        got, want = getattr(mod, name)(*a), getattr(ref, name)(*a)
        got = got if isinstance(got, tuple) else (got,)
        want = want if isinstance(want, tuple) else (want,)
        assert [type(g) for g in got] == [type(w) for w in want], name
        for g, w in zip(got, want):
            assert np.isclose(g, w, rtol=1e-5), (name, g, w)


def test_old_pythran_array_syntax_builds(tmp_path):
    text = """\
import numpy as np

#pythran export specialconvolve(uint32 [][])
def specialconvolve(a):
    rowconvol = a[1:-1, :] + a[:-2, :] + a[2:, :]
    return rowconvol[:, 1:-1] + rowconvol[:, :-2] + rowconvol[:, 2:] - 9 * a[1:-1, 1:-1]
"""
    r, src = build(tmp_path, "conv.py", text)
    assert r.returncode == 0, r.stderr
    mod = load(tmp_path / "conv.abi3.so", "conv")
    a = np.arange(30, dtype=np.uint32).reshape(5, 6) ** 2
    np.testing.assert_array_equal(mod.specialconvolve(a), load(src, "conv_ref").specialconvolve(a))


def test_bad_signature_points_at_the_parameter(tmp_path):
    r, src = build(tmp_path, "bad.py", "#pythran export f(float64[:], float64 list)\ndef f(x, y):\n    return x\n")
    assert r.returncode == 1
    assert f"{src}:1:31: error: Python list parameters" in r.stderr, r.stderr


def test_generator_symbols_and_python_only_helpers(tmp_path):
    text = """\
import numpy as np
import dace as dc

M, N = (dc.symbol(s, dtype=dc.int64) for s in ('M', 'N'))


def make(*shape, seed=0, **unused):
    return np.random.default_rng(seed).random(shape)


@dc.program
def rowdot(A: dc.float64[M, N], B: dc.float64[M, N]):
    return np.sum(A * B, axis=1)


def initialize(M, N):
    return {"A": make(M, N, seed=1), "B": make(M, N)}
"""
    r, src = build(tmp_path, "rowdot.py", text)
    assert r.returncode == 0, r.stderr
    mod = load(tmp_path / "rowdot.abi3.so", "rowdot")
    import braid

    braid.install_dace_alias()  # the reference imports dace; braid stands in for it
    args = load(src, "rowdot_ref").initialize(4, 3)
    np.testing.assert_allclose(mod.rowdot(**args), np.sum(args["A"] * args["B"], axis=1), rtol=1e-12)


def test_compiled_helper_with_star_args_is_located(tmp_path):
    text = """\
import numpy as np

def total(*xs):
    return xs[0].sum()

#pythran export f(float64[:])
def f(x):
    return total(x)
"""
    r, src = build(tmp_path, "star.py", text)
    assert r.returncode == 1
    assert f"{src}:3:1: error: function 'total': `*args` parameters (`*xs`) are not supported" in r.stderr, r.stderr
    assert "'f' uses it" in r.stderr


OVERLOADS = """\
import numpy as np

#pythran export scale(float64[:], float)
#pythran export scale(float32[:], float), scale(int64[:,:], int)
#pythran export scale(float64[:], float)
def scale(x, a):
    return x * a
"""


def test_pythran_overloads_dispatch_on_argument_types(tmp_path):
    r, src = build(tmp_path, "ov.py", OVERLOADS)
    assert r.returncode == 0, r.stderr
    mod = load(tmp_path / "ov.abi3.so", "ov")
    ref = load(src, "ov_ref")
    for args in [(np.arange(4.0), 2.5), (np.arange(4, dtype=np.float32), 2.5), (np.arange(6).reshape(2, 3), 3)]:
        got, want = mod.scale(*args), ref.scale(*args)
        assert got.dtype == want.dtype and got.shape == want.shape
        np.testing.assert_allclose(got, want, rtol=1e-6)
    with pytest.raises(TypeError) as info:
        mod.scale(np.arange(3, dtype=np.int32), 1.0)
    text = str(info.value)
    assert "match none of its 3 exported signatures" in text
    assert "scale(x: float32[x_shape_0], a: float64): scale(): argument 'x' must be float32, got int32" in text
    assert "Overloads" in mod.scale.__doc__


def test_command_line_signature_replaces_the_comment(tmp_path):
    r, src = build(tmp_path, "cl.py", OVERLOADS, "--signature", "scale(complex128[:], complex)")
    assert r.returncode == 0, r.stderr
    mod = load(tmp_path / "cl.abi3.so", "cl")
    z = np.array([1 + 2j, 3j])
    np.testing.assert_allclose(mod.scale(z, 1j), z * 1j)
    with pytest.raises(TypeError, match="complex128"):
        mod.scale(np.arange(4.0), 2.5)


def test_native_failures_raise_numpys_exception_classes(tmp_path):
    text = """\
import numpy as np

#pythran export solve(float64[:,:], float64[:]), pick(float64[:], int64[:])
def solve(A, b):
    return np.linalg.solve(A, b)

def pick(x, i):
    return x[i]
"""
    r, src = build(tmp_path, "fail.py", text)
    assert r.returncode == 0, r.stderr
    mod = load(tmp_path / "fail.abi3.so", "fail")
    with pytest.raises(np.linalg.LinAlgError, match="Singular matrix") as info:
        mod.solve(np.zeros((2, 2)), np.ones(2))
    assert isinstance(info.value, RuntimeError)  # what compiled modules raised before
    with pytest.raises(IndexError, match="out of bounds"):
        mod.pick(np.ones(3), np.array([0, 3]))
    np.testing.assert_array_equal(mod.pick(np.arange(3.0), np.array([2, 0])), [2.0, 0.0])


def test_list_comprehensions_over_literal_sequences_compile(tmp_path):
    text = """\
import numpy as np

#pythran export f(float64[:,:], float64[:])
def f(A, w):
    rows = np.stack([A[i] * w[i] for i in range(3)])
    total = sum([A[i, i] for i in range(3)])
    cols = np.concatenate([A[:, j] for j in (0, 2)])
    return rows, total, cols
"""
    r, src = build(tmp_path, "lc.py", text)
    assert r.returncode == 0, r.stderr
    mod, ref = load(tmp_path / "lc.abi3.so", "lc"), load(src, "lc_ref")
    A, w = np.arange(12.0).reshape(3, 4), np.array([1.0, 2.0, 3.0])
    for got, want in zip(mod.f(A, w), ref.f(A, w)):
        assert type(got) is type(want)
        np.testing.assert_allclose(got, want, rtol=1e-12)
    r, _ = build(tmp_path, "gen.py", text.replace("np.stack([A[i] * w[i] for i in range(3)])",
                                                  "np.stack(A[i] * w[i] for i in range(3))"))
    assert r.returncode == 1 and "unsupported expression 'GeneratorExp'" in r.stderr, r.stderr
