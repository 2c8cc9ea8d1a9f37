"""NumPy 2 semantics that a new-user trial found silently wrong, end to end on the CPU target:
each compiled function is compared with the same Python source run by CPython/NumPy (values,
dtypes and the exception classes raised), and constructs NumPy rejects at every call give a
compile-time error at their source line."""

import warnings

import numpy as np
import pytest

from test_cli import run, write
from test_numpy_surface import build_pair

SOURCE = '''
import numpy as np

#pythran export int8_compare(int8[:])
def int8_compare(x):
    return x > -200, x < 300, x == 256, x != 256, -200 < x, 300 >= x, x[0] > 1000, x[1] <= -129

#pythran export uint8_compare(uint8[:], int)
def uint8_compare(u, k):
    return u > -1, u == -1, u >= k, u < k, u == k

#pythran export uint64_runtime_compare(uint64[:], int)
def uint64_runtime_compare(u, k):
    return u > k, u == k, k >= u, u[0] < k, u != k

#pythran export int8_runtime_compare(int8[:], int)
def int8_runtime_compare(x, k):
    return x > k, x == k, k <= x, x[0] < k

#pythran export int8_clip(int8[:])
def int8_clip(x):
    return np.clip(x, -200, 300), np.clip(x, -3, 300), x + 127, x + (-128), x * -1

#pythran export builtin_sum(float64[:,:], int8[:,:], float32[:], bool[:])
def builtin_sum(A, I, f, b):
    return sum(A), sum(A[0]), sum(I), sum(I[-1]), sum(f), sum(b), sum(A, 10.0), sum(I, start=1)

#pythran export builtin_extremes(float64[:], int32[:], float64, float64)
def builtin_extremes(x, i, a, b):
    return max(x), min(x), max(i), min(i), max(a, b), min(a, b), max(a, b, 0.5)

#pythran export extremes(float64[:])
def extremes(x):
    return x.max(), np.min(x), np.argmax(x), x.argmin(), np.amax(x), np.maximum.reduce(x)

#pythran export extremes_axis0(float64[:,:])
def extremes_axis0(A):
    return np.max(A, axis=0), np.argmin(A, axis=0)

#pythran export extremes_axis1(float64[:,:])
def extremes_axis1(A):
    return np.min(A, axis=1), np.argmax(A, axis=1)

#pythran export guarded_max(float64[:])
def guarded_max(x):
    if x.shape[0] == 0:
        return -1.0
    return np.max(x)

#pythran export selected_max(float64[:], float64)
def selected_max(x, t):
    return np.max(x[x > t])

#pythran export loop_max(float64[:], int)
def loop_max(x, n):
    s = 0.0
    for i in range(n):
        s += np.max(x[:i])
    return s

#pythran export int_power(int64[:], int)
def int_power(a, k):
    return a ** k, np.power(a[0], k)

#pythran export int_power_arrays(int32[:], int64[:])
def int_power_arrays(a, b):
    return a ** b, 2 ** -2, a ** 0

#pythran export int_power_loop(int64[:], int)
def int_power_loop(a, n):
    s = 0
    for i in range(n):
        s += np.sum(a ** (i - 1))
    return s

#pythran export f32_sums(float32[:], float32[:,:], complex64[:])
def f32_sums(x, A, z):
    return (x.sum(), np.sum(x * x), np.mean(x), x.var(), x.std(ddof=1), A.sum(axis=0), np.mean(A, axis=1),
            np.std(A, axis=0), z.sum(), np.mean(z), np.add.reduce(x), np.sum(x[x > 0.5]))

#pythran export float_functions(int16[:], int64[:], int8[:], bool[:])
def float_functions(s, i, b8, b):
    return (np.exp(s), np.sqrt(i), np.arctan2(s, i), np.floor(i), np.ceil(b8), np.trunc(b), np.fix(s),
            np.fabs(i), np.floor(b8 * 2), np.exp(s.astype(np.float32)))

#pythran export linspaces(int, float64, float64)
def linspaces(n, a, b):
    return (np.linspace(0, 1, 1), np.linspace(a, b, n), np.linspace(a, b, 1, endpoint=False),
            np.linspace(-3, 2, 7, dtype=np.int64), np.linspace(a, b, n, endpoint=False))

#pythran export selections(float64[:], float64[:], float64)
def selections(x, y, t):
    return np.dot(x[x > t], y[x > t]), np.sum(x[x > t] - y[y > t]), np.cumsum(x[x > t])[-1:]

#pythran export selection_sums(float64[:], float64[:], float)
def selection_sums(x, y, t):
    return np.dot(x[x > t], y[x > t]), np.sum(x[x > t] - y[y > t])

#pythran export histogram_nan(float64[:])
def histogram_nan(x):
    return np.histogram(x, bins=3)[0]

#pythran export builtin_max_empty(float64[:])
def builtin_max_empty(x):
    return max(x)

#pythran export float_floor_divide(float64[:], float64[:], float32[:], float)
def float_floor_divide(a, b, f, s):
    return a // b, a // s, s // b, f // np.float32(0.7), np.floor_divide(a, b), a[0] // b[0], f // f[::-1], -0.0 // b

#pythran export rebound_types(float32[:], float64[:])
def rebound_types(f, x):
    g = np.float32(0.0)
    e = f[0]
    g += e
    e = x[0]
    s = 0.0
    s = f[1]
    t = s * f
    k = 3
    k = k / 2
    return g, e, t, k * f
'''


@pytest.fixture(scope="module")
def modules(tmp_path_factory):
    return build_pair(tmp_path_factory.mktemp("semantics"), "semantics", SOURCE)


def same(got, want, rtol=1e-12):
    """Equal values, shapes and dtypes (NumPy scalars included)."""
    got = got if isinstance(got, tuple) else (got,)
    want = want if isinstance(want, tuple) else (want,)
    assert len(got) == len(want)
    for k, (g, w) in enumerate(zip(got, want)):
        wa = np.asarray(w)
        ga = np.asarray(g)
        assert ga.shape == wa.shape, (k, ga.shape, wa.shape)
        assert ga.dtype == wa.dtype, (k, ga.dtype, wa.dtype)
        if wa.dtype.kind in "biu":
            assert np.array_equal(ga, wa), k
        else:
            np.testing.assert_allclose(ga, wa, rtol=rtol, atol=1e-12, err_msg=str(k))


def both_raise(exception, f, g, *args):
    with pytest.raises(exception):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            g(*args)
    with pytest.raises(exception):
        f(*args)


rng = np.random.default_rng(5)


def int8_samples():
    return [np.array([1, -5, 0, 127, -128], dtype=np.int8), rng.integers(-128, 128, 200).astype(np.int8)]


# C3: Python ints beyond a small integer dtype (NEP 50).

def test_out_of_range_python_ints_compare_exactly(modules):
    compiled, reference = modules
    for x in int8_samples():
        same(compiled.int8_compare(x), reference.int8_compare(x))
    u = np.array([0, 1, 255], dtype=np.uint8)
    for k in (-1, 0, 1, 200, 255, 256, 1000, -1000):
        same(compiled.uint8_compare(u, k), reference.uint8_compare(u, k))


def test_run_time_python_ints_compare_exactly(modules):
    compiled, reference = modules
    for x in int8_samples():
        for k in (-1000, -129, -128, -1, 0, 5, 127, 128, 300, 2**40):
            same(compiled.int8_runtime_compare(x, k), reference.int8_runtime_compare(x, k))


def test_uint64_compares_exactly_with_negative_python_ints(modules):
    compiled, reference = modules
    u = np.array([0, 1, 2**63, 2**64 - 1], dtype=np.uint64)
    for k in (-2**63, -1, 0, 1, 2**63 - 1):
        same(compiled.uint64_runtime_compare(u, k), reference.uint64_runtime_compare(u, k))


def test_histogram_errors_are_value_errors(modules):
    compiled, reference = modules
    x = rng.random(20)
    x[3] = np.nan
    both_raise(ValueError, compiled.histogram_nan, reference.histogram_nan, x)


def test_in_range_python_ints_and_clip_bounds_beyond_the_dtype(modules):
    compiled, reference = modules
    for x in int8_samples():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            want = reference.int8_clip(x)
        same(compiled.int8_clip(x), want)


@pytest.mark.parametrize("expr,dtype,wider", [
    ("x + 300", "int8", "int16"),
    ("300 - x", "int8", "int16"),
    ("x * 128", "int8", "int16"),
    ("x // -129", "int8", "int16"),
    ("np.maximum(x, -200)", "int8", "int16"),
    ("x & 256", "int8", "int16"),
    ("x + -1", "uint8", "int16"),
    ("x[0] + 70000", "int16", "int32"),
    ("np.clip(x, 300, None)", "int8", "int16"),
    ("np.full(3, 300, dtype=np.int8)", "int8", "int16"),
    ("np.full_like(x, -1)", "uint8", "int16"),
    ("np.array([1, 300], dtype=np.int8)", "int8", "int16"),
])
def test_out_of_range_python_int_arithmetic_is_a_compile_error(tmp_path, expr, dtype, wider):
    src = f"import numpy as np\n\n#pythran export f({dtype}[:])\ndef f(x):\n    return {expr}\n"
    x = np.zeros(3, dtype=dtype)
    with pytest.raises(OverflowError):
        exec(compile(src, "f.py", "exec"), namespace := {})
        namespace["f"](x)
    r = run("build", write(tmp_path, "f.py", src), "-o", tmp_path)
    assert r.returncode == 1
    assert "f.py:5:" in r.stderr
    assert "OverflowError" in r.stderr
    assert f".astype(np.{wider})" in r.stderr or "wider dtype" in r.stderr


# C6: builtin sum/min/max iterate over the first axis, in order, with NumPy's typing of each step.

def test_builtin_sum_adds_rows_in_order(modules):
    compiled, reference = modules
    for m, n in ((1, 1), (4, 3), (50, 70)):
        A = rng.random((m, n))
        I = rng.integers(-128, 128, (m, n)).astype(np.int8)
        f = rng.random(1000).astype(np.float32)
        b = rng.random(m) > 0.5
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # int8 overflow in CPython's loop
            want = reference.builtin_sum(A, I, f, b)
        got = compiled.builtin_sum(A, I, f, b)
        same(got, want)
        assert got[4] == want[4]  # float32, added in the same order


def test_builtin_min_max_are_pythons_loops(modules):
    compiled, reference = modules
    for x in (rng.random(30), np.array([np.nan, 1.0, 2.0]), np.array([1.0, np.nan, 0.5]), np.array([2.0])):
        i = rng.integers(-1000, 1000, x.shape[0]).astype(np.int32)
        for a, b in ((1.0, 2.0), (np.nan, 1.0), (1.0, np.nan), (3.0, 3.0)):
            same(compiled.builtin_extremes(x, i, a, b), reference.builtin_extremes(x, i, a, b))
    both_raise(ValueError, compiled.builtin_max_empty, reference.builtin_max_empty, np.empty(0))


def test_builtin_max_of_a_2d_array_is_a_compile_error(tmp_path):
    src = "import numpy as np\n\n#pythran export f(float64[:,:])\ndef f(A):\n    return max(A)\n"
    r = run("build", write(tmp_path, "f.py", src), "-o", tmp_path)
    assert r.returncode == 1
    assert "f.py:5:" in r.stderr and "np.max(A, axis=0)" in r.stderr


# C4: max/min/argmax/argmin have no identity: empty inputs raise ValueError.

def test_extremes_of_empty_arrays_raise(modules):
    compiled, reference = modules
    x = rng.random(17)
    same(compiled.extremes(x), reference.extremes(x))
    both_raise(ValueError, compiled.extremes, reference.extremes, np.empty(0))
    for shape in ((3, 0), (0, 3), (0, 0), (4, 5)):
        A = rng.random(shape)
        for name in ("extremes_axis0", "extremes_axis1"):
            try:
                want = getattr(reference, name)(A)
            except ValueError:
                with pytest.raises(ValueError):
                    getattr(compiled, name)(A)
                continue
            same(getattr(compiled, name)(A), want)


def test_guarded_and_run_time_empty_reductions(modules):
    compiled, reference = modules
    for x in (np.empty(0), rng.random(9)):
        same(compiled.guarded_max(x), reference.guarded_max(x))
    x = rng.random(40)
    same(compiled.selected_max(x, 0.5), reference.selected_max(x, 0.5))
    both_raise(ValueError, compiled.selected_max, reference.selected_max, x, 2.0)
    same(compiled.loop_max(x, 0), reference.loop_max(x, 0))
    both_raise(ValueError, compiled.loop_max, reference.loop_max, x, 3)


# C8: integers to negative integer powers raise ValueError.

def test_integer_powers(modules):
    compiled, reference = modules
    a = np.array([1, 2, 3, -4])
    for k in (0, 1, 3):
        same(compiled.int_power(a, k), reference.int_power(a, k))
    both_raise(ValueError, compiled.int_power, reference.int_power, a, -1)
    b = np.array([0, 1, 2, 5])
    same(compiled.int_power_arrays(a.astype(np.int32), b), reference.int_power_arrays(a.astype(np.int32), b))
    both_raise(ValueError, compiled.int_power_arrays, reference.int_power_arrays, a.astype(np.int32), -b)
    same(compiled.int_power_loop(a, 0), reference.int_power_loop(a, 0))
    both_raise(ValueError, compiled.int_power_loop, reference.int_power_loop, a, 2)


@pytest.mark.parametrize("expr", ["x ** -1", "np.power(x, -2)", "x[0] ** -1"])
def test_constant_negative_integer_power_is_a_compile_error(tmp_path, expr):
    src = f"import numpy as np\n\n#pythran export f(int64[:])\ndef f(x):\n    return {expr}\n"
    with pytest.raises(ValueError):
        exec(compile(src, "f.py", "exec"), namespace := {})
        namespace["f"](np.arange(1, 4))
    r = run("build", write(tmp_path, "f.py", src), "-o", tmp_path)
    assert r.returncode == 1
    assert "f.py:5:" in r.stderr and "Integers to negative integer powers are not allowed" in r.stderr


# C9: float32 sums are accurate to float32 rounding, as NumPy's pairwise sums.

@pytest.mark.parametrize("n", [10, 100_000, 3_000_000])
def test_float32_sums_keep_float32_accuracy(modules, n):
    compiled, reference = modules
    x = rng.random(n, dtype=np.float32)
    A = x[: (n // 1000) * 1000].reshape(-1, 1000) if n >= 1000 else x.reshape(1, -1)
    z = (x + 1j * x[::-1]).astype(np.complex64)
    got, want = compiled.f32_sums(x, A, z), reference.f32_sums(x, A, z)
    same(got, want, rtol=1e-5)
    exact = x.astype(np.float64).sum()
    # Rounded once: within half an ulp of float32 of the exact sum.
    assert abs(float(got[0]) - exact) <= np.spacing(np.float32(exact)) / 2 + 1e-12 * exact


# C10: float functions of 1-byte integers and bools are float16 in NumPy: a compile-time error.

def test_float_function_dtypes(modules):
    compiled, reference = modules
    s = rng.integers(-80, 80, 20).astype(np.int16)
    i = rng.integers(1, 10**6, 20)
    b8 = rng.integers(-128, 128, 20).astype(np.int8)
    b = rng.random(20) > 0.5
    same(compiled.float_functions(s, i, b8, b), reference.float_functions(s, i, b8, b), rtol=1e-6)


@pytest.mark.parametrize("expr,dtype", [("np.exp(x)", "uint8"), ("np.sqrt(x)", "int8"), ("np.sin(x)", "bool"),
                                        ("np.fabs(x)", "int8"), ("np.arctan2(x, x)", "uint8"), ("np.rint(x[0])", "int8")])
def test_float16_results_are_a_compile_error(tmp_path, expr, dtype):
    src = f"import numpy as np\n\n#pythran export f({dtype}[:])\ndef f(x):\n    return {expr}\n"
    exec(compile(src, "f.py", "exec"), namespace := {})
    assert np.asarray(namespace["f"](np.ones(3, dtype=dtype))).dtype == np.float16
    r = run("build", write(tmp_path, "f.py", src), "-o", tmp_path)
    assert r.returncode == 1
    assert "f.py:5:" in r.stderr and "float16" in r.stderr and ".astype(np.float32)" in r.stderr


# C7: linspace with one sample is start.

def test_linspace(modules):
    compiled, reference = modules
    for n, a, b in ((1, 2.0, 5.0), (2, -1.0, 1.0), (9, 0.5, -3.0), (0, 1.0, 2.0)):
        same(compiled.linspaces(n, a, b), reference.linspaces(n, a, b))


# Boolean selections used as values are new arrays.

def test_selections_as_values(modules):
    compiled, reference = modules
    x = rng.random(200)
    y = x[::-1].copy()
    same(compiled.selections(x, y, 0.5), reference.selections(x, y, 0.5))
    # Empty selections: dot and sum of nothing are 0.0.
    same(compiled.selection_sums(x, y, 2.0), reference.selection_sums(x, y, 2.0))
    # x[-1:] keeps extent 1 so that it broadcasts (see test_bounds); of an empty array, where
    # NumPy gives an empty slice, it raises IndexError instead of reading outside the array.
    with pytest.raises(IndexError):
        compiled.selections(x, y, 2.0)
    x[0] = 0.0
    z = np.ones(200)  # every element selected, not every x
    both_raise(ValueError, compiled.selections, reference.selections, x, z, 0.3)


def test_a_name_rebound_to_another_type_keeps_each_value_its_own_type(modules):
    # e is float32 where g += e reads it, float64 after; s is np.float32 once rebound.
    compiled, reference = modules
    f, x = np.array([0.5, 1.5], np.float32), np.array([2.25])
    same(compiled.rebound_types(f, x), reference.rebound_types(f, x))


def test_float_floor_division_is_numpys_divmod_not_floor_of_the_quotient(modules):
    # -3.5 / 0.7 rounds to -5.0, but the exact quotient is just below: NumPy (and Python) give -6.0.
    compiled, reference = modules
    a = np.array([-3.5, 3.5, 1.0, -1.0, 0.0, 7.0, np.inf, -2.0, 5.0])
    b = np.array([0.7, 0.7, 0.1, 0.1, -3.0, 0.0, 2.0, np.inf, -0.3])
    f = np.array([1.4, -2.1, 0.35], np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        want = reference.float_floor_divide(a, b, f, 0.7)
    got = compiled.float_floor_divide(a, b, f, 0.7)
    same(got, want, rtol=0)
    assert np.signbit(got[0][4]) == np.signbit(want[0][4])
