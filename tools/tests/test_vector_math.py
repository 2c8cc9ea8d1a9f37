"""Math functions in vectorized loops (glibc's libmvec on x86-64) against NumPy, over ordinary
values and edge values spread through the array (NaN, infinities, signed zeros, huge, tiny and
subnormal, negative, overflow and underflow thresholds), for float64 and float32: NaN where
NumPy has NaN, the same infinities, the same sign of zero results, and every other value within
rtol 1e-5."""

import platform
import shutil
import subprocess

import numpy as np
import pytest

from test_numpy_surface import build_pair

UNARY = ["exp", "log", "sin", "cos", "tan", "sinh", "cosh", "tanh", "arcsin", "arccos", "arctan",
         "arcsinh", "arccosh", "arctanh", "exp2", "expm1", "log10", "log2", "log1p", "cbrt"]
BINARY = ["power", "arctan2", "hypot"]


def _source():
    lines = ["import numpy as np", ""]
    for f in UNARY:
        lines += [f"#pythran export u_{f}(float64[:])", f"#pythran export u_{f}(float32[:])",
                  f"def u_{f}(x):", f"    return np.{f}(x)", ""]
    for f in BINARY:
        lines += [f"#pythran export b_{f}(float64[:], float64[:])", f"#pythran export b_{f}(float32[:], float32[:])",
                  f"def b_{f}(x, y):", f"    return np.{f}(x, y)", ""]
    lines += ["#pythran export cube(float64[:])", "#pythran export cube(float32[:])",
              "def cube(x):", "    return x**3, x ** -1.5, 0.5 * x * (1.0 + np.tanh(np.sqrt(2.0 / np.pi) * (x + 0.044715 * x**3)))", ""]
    return "\n".join(lines)


@pytest.fixture(scope="module")
def modules(tmp_path_factory):
    directory = tmp_path_factory.mktemp("vector_math")
    compiled, reference = build_pair(directory, "vector_math", _source())
    return compiled, reference, directory / "vector_math.abi3.so"


def edge_values(dtype):
    info = np.finfo(dtype)
    return np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, info.max, -info.max, info.tiny, -info.tiny,
                     info.smallest_subnormal, -info.smallest_subnormal, 1.0, -1.0, 0.5, -0.5, 2.0, -2.5,
                     1e-8, -1e-8, 710.0, -746.0, 88.8, -104.0, 1e4, -1e4, 1e30, -1e30, np.pi, 1.0 - 1e-7,
                     -1.0 + 1e-7, 19.5, -20.5, 3.0, -3.0], dtype=dtype)


def with_edges(dtype, seed, scale=4.0):
    """1031 ordinary values with the edge values at spread-out positions (vector bodies, the
    vectorized loop's remainder, both ends)."""
    rng = np.random.default_rng(seed)
    x = (scale * rng.standard_normal(1031)).astype(dtype)
    edges = edge_values(dtype)
    positions = np.concatenate([np.arange(8), rng.choice(np.arange(8, 1020), len(edges) - 15, replace=False),
                                np.arange(1024, 1031)])
    x[positions] = edges[:len(positions)]
    return x


def assert_like_numpy(got, want, what, atol=0.0):
    """Exact NaNs, infinities and zeros (with their signs) and rtol 1e-5 elsewhere; with `atol`
    (an expression that cancels, as 1 + tanh(x) does where tanh(x) is about -1), zeros are
    compared with the other finite values, as NumPy's assert_allclose does."""
    assert got.dtype == want.dtype, (what, got.dtype, want.dtype)
    assert got.shape == want.shape, what
    nan = np.isnan(want)
    np.testing.assert_array_equal(np.isnan(got), nan, err_msg=f"{what}: NaN positions")
    inf = np.isinf(want)
    np.testing.assert_array_equal(got[inf], want[inf], err_msg=f"{what}: infinities")
    zero = (want == 0) if atol == 0 else np.zeros_like(nan)
    np.testing.assert_array_equal(got[zero], want[zero], err_msg=f"{what}: zeros")
    np.testing.assert_array_equal(np.signbit(got[zero]), np.signbit(want[zero]), err_msg=f"{what}: signs of zeros")
    finite = ~nan & ~inf & ~zero
    np.testing.assert_allclose(got[finite], want[finite], rtol=1e-5, atol=atol, err_msg=what)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("f", UNARY)
def test_unary_functions_over_edge_values(modules, f, dtype):
    compiled, reference, _ = modules
    scale = 0.5 if f in ("arcsin", "arccos", "arctanh") else 4.0
    x = with_edges(dtype, UNARY.index(f), scale)
    with np.errstate(all="ignore"):
        want = getattr(reference, f"u_{f}")(x.copy())
    assert_like_numpy(getattr(compiled, f"u_{f}")(x), want, f"np.{f} {np.dtype(dtype)}")


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("f", BINARY)
def test_binary_functions_over_edge_values(modules, f, dtype):
    compiled, reference, _ = modules
    x = with_edges(dtype, 100 + BINARY.index(f))
    y = with_edges(dtype, 200 + BINARY.index(f))
    # Every pair of edge values, too (powers of negative bases to integer and fractional
    # exponents, 1 ** nan, nan ** 0, zeros to negative powers, ...).
    e = edge_values(dtype)
    xs = np.concatenate([x, np.repeat(e, len(e)), np.abs(x)])
    ys = np.concatenate([y, np.tile(e, len(e)), y])
    with np.errstate(all="ignore"):
        want = getattr(reference, f"b_{f}")(xs.copy(), ys.copy())
    assert_like_numpy(getattr(compiled, f"b_{f}")(xs, ys), want, f"np.{f} {np.dtype(dtype)}")


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_cubes_and_the_tanh_gelu(modules, dtype):
    compiled, reference, _ = modules
    x = with_edges(dtype, 7)
    with np.errstate(all="ignore"):
        want = reference.cube(x.copy())
    got = compiled.cube(x)
    assert len(got) == len(want) == 3
    assert_like_numpy(got[0], want[0], f"x**3 {np.dtype(dtype)}")
    assert_like_numpy(got[1], want[1], f"x**-1.5 {np.dtype(dtype)}")
    # The GELU of layernorm_gelu.py (tanh in float64: np.sqrt's result is a float64 scalar).
    # Where tanh is -1 to within an ulp, 1 + tanh(...) cancels to zero or to a few ulp.
    assert_like_numpy(got[2], want[2], f"tanh GELU {np.dtype(dtype)}", atol=1e-8)


def _has_libmvec():
    try:
        out = subprocess.run(["ldd", "--version"], capture_output=True, text=True).stdout
        major, minor = out.splitlines()[0].split()[-1].split(".")[:2]
        return (int(major), int(minor)) >= (2, 35)
    except (OSError, ValueError, IndexError):
        return False


@pytest.mark.skipif(platform.machine() != "x86_64" or shutil.which("objdump") is None or not _has_libmvec(),
                    reason="libmvec's vector variants are used on x86-64 glibc 2.35 and later")
def test_the_module_calls_the_vector_variants(modules):
    _, _, library = modules
    text = subprocess.run(["objdump", "-d", str(library)], capture_output=True, text=True, check=True).stdout
    for symbol in ["v_tanh", "v_tanhf", "vv_pow", "vv_powf", "vv_atan2", "v_exp", "v_log1pf"]:
        assert any(w.startswith("<_ZGV") and w.split("@")[0].endswith(symbol) for w in text.split()), symbol
