import Foundation
import Testing
import BraidIR
@testable import BraidCodegen
import BraidToolchain

// MARK: - Specs shared by the text and end-to-end tests

private let N = SymExpr.sym("N")
private let M = SymExpr.sym("M")

/// A module exercising every kind of parameter, result and binding the emitter supports.
private func endToEndSpec(moduleName: String) -> ExtensionModuleSpec {
    let f64 = DType.float64
    let functions: [ExtensionFunction] = [
        ExtensionFunction(
            pythonName: "saxpy", nativeName: "saxpy_native",
            params: [.array(name: "x", dtype: f64, shape: [N], writable: false),
                     .array(name: "y", dtype: f64, shape: [N], writable: false),
                     .scalar(name: "a", dtype: f64)],
            symbols: ["N"], results: [.array(dtype: f64, shape: [N])],
            doc: "Returns a * x + y."),
        ExtensionFunction(
            pythonName: "matvec", nativeName: "matvec_native",
            params: [.array(name: "A", dtype: f64, shape: [M, N], writable: false),
                     .array(name: "x", dtype: f64, shape: [N], writable: false)],
            symbols: ["M", "N"], results: [.array(dtype: f64, shape: [M])],
            doc: "Matrix-vector product."),
        ExtensionFunction(
            pythonName: "scale", nativeName: "scale_native",
            params: [.array(name: "A", dtype: f64, shape: [N], writable: true), .scalar(name: "s", dtype: f64)],
            symbols: ["N"], results: [], doc: "Scales A in place."),
        ExtensionFunction(
            pythonName: "accum", nativeName: "accum_native",
            params: [.array(name: "x", dtype: f64, shape: [N], writable: false),
                     .array(name: "y", dtype: f64, shape: [N], writable: true),
                     .scalar(name: "a", dtype: f64)],
            symbols: ["N"], results: [], doc: "y += a * x."),
        ExtensionFunction(
            pythonName: "stats", nativeName: "stats_native",
            params: [.array(name: "x", dtype: f64, shape: [N], writable: false)],
            symbols: ["N"], results: [.array(dtype: f64, shape: [N]), .scalar(dtype: f64)],
            doc: "Cumulative sum and total."),
        ExtensionFunction(
            pythonName: "mix", nativeName: "mix_native",
            params: [.scalar(name: "n", dtype: .int32), .scalar(name: "flag", dtype: .bool),
                     .scalar(name: "z", dtype: .complex128), .scalar(name: "k", dtype: .uint8)],
            symbols: [], results: [.scalar(dtype: .complex128)], doc: "(n if flag else -n) * z + k"),
        ExtensionFunction(
            pythonName: "fill", nativeName: "fill_native",
            params: [.scalar(name: "N", dtype: .int64), .scalar(name: "v", dtype: f64)],
            defaults: ["v": "1.5"], symbols: ["N"], results: [.array(dtype: f64, shape: [N])],
            doc: "An array of N copies of v."),
        ExtensionFunction(
            pythonName: "diff", nativeName: "diff_native",
            params: [.array(name: "x", dtype: f64, shape: [N + 1], writable: false)],
            symbols: ["N"], results: [.array(dtype: f64, shape: [N])], doc: "x[1:] - x[:-1]"),
        ExtensionFunction(
            pythonName: "fails", nativeName: "fails_native",
            params: [.scalar(name: "code", dtype: .int64)], symbols: [], results: [],
            doc: "Returns the status it is given."),
        ExtensionFunction(
            pythonName: "ones", nativeName: "ones_native", params: [], symbols: ["N"],
            results: [.array(dtype: f64, shape: [N])], doc: "N ones; N must be given."),
        ExtensionFunction(
            pythonName: "addv", nativeName: "addv_native",
            params: [.array(name: "a", dtype: f64, shape: [N], writable: false),
                     .array(name: "b", dtype: f64, shape: [M], writable: false)],
            symbols: ["N", "M"], results: [.array(dtype: f64, shape: [N])],
            shapeAssertions: [ShapeAssertion(lhs: N, rhs: M, message: "addv(): a and b must have the same length")],
            doc: "a + b"),
        ExtensionFunction(
            pythonName: "isum", nativeName: "isum_native",
            params: [.array(name: "x", dtype: .int32, shape: [N], writable: false)],
            symbols: ["N"], results: [.scalar(dtype: .int64)], doc: "Sum of int32 values."),
        ExtensionFunction(
            pythonName: "cabs2", nativeName: "cabs2_native",
            params: [.array(name: "z", dtype: .complex128, shape: [N], writable: false)],
            symbols: ["N"], results: [.array(dtype: f64, shape: [N])], doc: "|z|**2"),
        ExtensionFunction(
            pythonName: "count", nativeName: "count_native",
            params: [.array(name: "mask", dtype: .bool, shape: [N], writable: false)],
            symbols: ["N"], results: [.scalar(dtype: .uint64)], doc: "Number of true entries."),
        ExtensionFunction(
            pythonName: "halve32", nativeName: "halve32_native",
            params: [.array(name: "x", dtype: .float32, shape: [N], writable: false)],
            symbols: ["N"], results: [.array(dtype: .float32, shape: [N])], doc: "x / 2 in float32"),
        ExtensionFunction(  // an overload: same Python name, another element type
            pythonName: "halve32", nativeName: "halve64_native",
            params: [.array(name: "x", dtype: f64, shape: [N], writable: false)],
            symbols: ["N"], results: [.array(dtype: f64, shape: [N])], doc: "x / 2 in float64"),
        ExtensionFunction(
            pythonName: "rows3", nativeName: "rows3_native",
            params: [.array(name: "A", dtype: f64, shape: [N, .int(3)], writable: false)],
            symbols: ["N"], results: [.array(dtype: f64, shape: [N]), .scalar(dtype: .bool)],
            doc: "Row sums of an (N, 3) array, and whether all are positive."),
        ExtensionFunction(
            pythonName: "narrow", nativeName: "narrow_native",
            params: [.array(name: "x", dtype: .float32, shape: [N], writable: false)],
            symbols: ["N"],
            results: [.scalar(dtype: .float32), .scalar(dtype: .int8), .scalar(dtype: .uint16),
                      .scalar(dtype: .complex64), .scalar(dtype: .int32)],
            doc: "Scalar results of the narrow dtypes: float32 sum, int8 -N, uint16 N, complex64 (sum, 1), int32 N."),
    ]
    return ExtensionModuleSpec(moduleName: moduleName, functions: functions, hasErrorMessages: true)
}

/// Hand-written native code with the calling convention `ExtensionFunction` documents.
private let nativeSource = """
    #include <stdbool.h>
    #include <stdint.h>
    #include <string.h>

    const char *braid_error_message(int code)
    {
        switch (code) {
        case 7: return "fails(): the native code reported code 7";
        case 8: return "IndexError: index out of bounds";
        case 9: return "LinAlgError: Singular matrix";
        case 10: return "ValueError: shapes do not agree";
        case 11: return "MemoryError: out of memory";
        default: return NULL;
        }
    }

    int saxpy_native(int64_t N, double *restrict x, double *restrict y, double a, double *restrict out)
    {
        for (int64_t i = 0; i < N; i++) out[i] = a * x[i] + y[i];
        return 0;
    }

    int matvec_native(int64_t M, int64_t N, double *restrict A, double *restrict x, double *restrict out)
    {
        for (int64_t i = 0; i < M; i++) {
            double acc = 0.0;
            for (int64_t j = 0; j < N; j++) acc += A[i * N + j] * x[j];
            out[i] = acc;
        }
        return 0;
    }

    int scale_native(int64_t N, double *restrict A, double s)
    {
        for (int64_t i = 0; i < N; i++) A[i] *= s;
        return 0;
    }

    int accum_native(int64_t N, double *restrict x, double *restrict y, double a)
    {
        for (int64_t i = 0; i < N; i++) y[i] += a * x[i];
        return 0;
    }

    int stats_native(int64_t N, double *restrict x, double *restrict cum, double *total)
    {
        double acc = 0.0;
        for (int64_t i = 0; i < N; i++) { acc += x[i]; cum[i] = acc; }
        *total = acc;
        return 0;
    }

    int mix_native(int32_t n, bool flag, double _Complex z, uint8_t k, double _Complex *out)
    {
        *out = (double)(flag ? n : -n) * z + (double)k;
        return 0;
    }

    int fill_native(int64_t N, int64_t n, double v, double *restrict out)
    {
        if (N != n) return 99;
        for (int64_t i = 0; i < N; i++) out[i] = v;
        return 0;
    }

    int diff_native(int64_t N, double *restrict x, double *restrict out)
    {
        for (int64_t i = 0; i < N; i++) out[i] = x[i + 1] - x[i];
        return 0;
    }

    int fails_native(int64_t code)
    {
        return (int)code;
    }

    int ones_native(int64_t N, double *restrict out)
    {
        for (int64_t i = 0; i < N; i++) out[i] = 1.0;
        return 0;
    }

    int addv_native(int64_t N, int64_t M, double *restrict a, double *restrict b, double *restrict out)
    {
        (void)M;
        for (int64_t i = 0; i < N; i++) out[i] = a[i] + b[i];
        return 0;
    }

    int isum_native(int64_t N, int32_t *restrict x, int64_t *out)
    {
        int64_t acc = 0;
        for (int64_t i = 0; i < N; i++) acc += x[i];
        *out = acc;
        return 0;
    }

    int cabs2_native(int64_t N, double _Complex *restrict z, double *restrict out)
    {
        for (int64_t i = 0; i < N; i++) {
            double parts[2];
            memcpy(parts, &z[i], sizeof parts);
            out[i] = parts[0] * parts[0] + parts[1] * parts[1];
        }
        return 0;
    }

    int count_native(int64_t N, bool *restrict mask, uint64_t *out)
    {
        uint64_t c = 0;
        for (int64_t i = 0; i < N; i++) c += mask[i] ? 1u : 0u;
        *out = c;
        return 0;
    }

    int halve32_native(int64_t N, float *restrict x, float *restrict out)
    {
        for (int64_t i = 0; i < N; i++) out[i] = x[i] / 2.0f;
        return 0;
    }

    int halve64_native(int64_t N, double *restrict x, double *restrict out)
    {
        for (int64_t i = 0; i < N; i++) out[i] = x[i] / 2.0;
        return 0;
    }

    int rows3_native(int64_t N, double *restrict A, double *restrict out, bool *all_positive)
    {
        bool ok = true;
        for (int64_t i = 0; i < N; i++) {
            out[i] = A[3 * i] + A[3 * i + 1] + A[3 * i + 2];
            if (!(out[i] > 0.0)) ok = false;
        }
        *all_positive = ok;
        return 0;
    }

    int narrow_native(int64_t N, float *restrict x, float *total, int8_t *neg, uint16_t *count,
                      float _Complex *z, int32_t *k)
    {
        float acc = 0.0f;
        float parts[2];
        for (int64_t i = 0; i < N; i++) acc += x[i];
        *total = acc;
        *neg = (int8_t)(-N);
        *count = (uint16_t)N;
        parts[0] = acc;
        parts[1] = 1.0f;
        memcpy(z, parts, sizeof parts);
        *k = (int32_t)N;
        return 0;
    }

    """

/// Checks run by the user's interpreter against the compiled module; prints the sentinel and
/// exits 0 only when every check passes.
private let pythonChecks = #"""
import array, inspect, sys
import numpy as np

sys.path.insert(0, sys.argv[1])
m = __import__(sys.argv[2])

failures = []

def check(cond, what):
    if not cond:
        failures.append(what)

def raises(exc, fn, *args, _match=(), **kwargs):
    try:
        fn(*args, **kwargs)
    except exc as e:
        for part in ((_match,) if isinstance(_match, str) else _match):
            if part not in str(e):
                failures.append(f"{fn.__name__}: message {str(e)!r} lacks {part!r}")
        return
    except Exception as e:
        failures.append(f"{fn.__name__}: expected {exc.__name__}, got {type(e).__name__}: {e}")
        return
    failures.append(f"{fn.__name__}{args!r}{kwargs!r}: expected {exc.__name__}, nothing raised")

x = np.arange(5.0)
y = np.ones(5)

# Results vs NumPy, positional and keyword arguments, symbol keywords.
check(np.allclose(m.saxpy(x, y, 2.0), 2 * x + y), "saxpy positional")
check(np.allclose(m.saxpy(a=2.0, y=y, x=x), 2 * x + y), "saxpy keywords")
check(np.allclose(m.saxpy(x, y, a=3), 3 * x + y), "saxpy int for float param")
check(np.allclose(m.saxpy(x, y, np.float32(0.5)), 0.5 * x + y), "saxpy numpy scalar")
check(np.allclose(m.saxpy(x, y, 2.0, N=5), 2 * x + y), "saxpy N= agreeing")
check(np.allclose(m.saxpy(array.array("d", [1, 2, 3]), np.zeros(3), 1.0), [1, 2, 3]), "array.array input")
raises(ValueError, m.saxpy, x, y, 2.0, N=6, _match=("'x'", "(N,) = (6,)"))
raises(ValueError, m.saxpy, x, y, 2.0, N=-1, _match="non-negative")
raises(TypeError, m.saxpy, x, y, 2.0, N=5.0, _match="integer")
check(m.saxpy(np.empty(0), np.empty(0), 1.0).shape == (0,), "saxpy empty")

# Argument errors.
raises(TypeError, m.saxpy, x.astype(np.int32), y, 2.0, _match=("'x'", "float64", "int32"))
raises(TypeError, m.saxpy, x, y.astype(np.float32), 2.0, _match=("'y'", "float32"))
raises(TypeError, m.saxpy, x.astype(">f8"), y, 2.0, _match="non-native")
raises(TypeError, m.saxpy, np.array([True] * 5), y, 2.0, _match="bool")
raises(ValueError, m.saxpy, np.ones((5, 1)), y, 2.0, _match=("'x'", "1-dimensional", "2-dimensional"))
raises(ValueError, m.saxpy, np.ones(4), y, 2.0, _match=("'y'", "(5,)", "(N,) = (4,)", "(N = 4 from the shape of 'x')"))
raises(ValueError, m.saxpy, x, y, 2.0, N=4, _match=("'x'", "(N = 4 from the keyword argument N)"))
# Read-only arguments take any layout and lists, as NumPy does (through a C-contiguous copy).
check(np.allclose(m.saxpy(np.arange(10.0)[::2], y, 2.0), 2.0 * np.arange(10.0)[::2] + y), "saxpy strided x")
check(np.allclose(m.saxpy(np.arange(10.0)[::-2], y, 2.0), 2.0 * np.arange(10.0)[::-2] + y), "saxpy reversed x")
check(np.allclose(m.saxpy([0.0, 1.0, 2.0, 3.0, 4.0], y, 2.0), 2.0 * np.arange(5.0) + y), "saxpy list x")
check(np.allclose(m.saxpy((0.0, 1.0, 2.0, 3.0, 4.0), y, 2.0), 2.0 * np.arange(5.0) + y), "saxpy tuple x")
raises(TypeError, m.saxpy, [0, 1, 2, 3, 4], y, 2.0, _match=("'x'", "float64", "int64"))
raises(TypeError, m.saxpy, "abc", y, 2.0, _match=("'x'", "float64", "str"))
raises(TypeError, m.saxpy, x, y, _match="missing required argument 'a'")
raises(TypeError, m.saxpy, x, y, 2.0, X=1, _match="unexpected keyword argument 'X'")
raises(TypeError, m.saxpy, x, y, 2.0, x=x, _match="multiple values for argument 'x'")
raises(TypeError, m.saxpy, x, y, 2.0, 3.0, _match="positional")
raises(TypeError, m.saxpy, x, y, "2", _match=("'a'", "real number"))
raises(TypeError, m.saxpy, x, y, 1j, _match="'a'")
buf = bytearray(8 * 5 + 1)
misaligned = np.frombuffer(buf, dtype=np.float64, count=5, offset=1)
misaligned[:] = np.arange(5.0)
check(np.allclose(m.saxpy(misaligned, y, 1.0), np.arange(5.0) + y), "saxpy misaligned read-only x")
raises(ValueError, m.scale, np.frombuffer(bytearray(8 * 3 + 1), dtype=np.float64, count=3, offset=1), 2.0,
       _match=("'A'", "aligned"))  # written in place: no copy can stand in for it

# 2-D: shape binding from two arrays, keywords for both symbols, layouts, empty arrays.
rng = np.random.default_rng(0)
A = rng.random((3, 4))
v = rng.random(4)
check(np.allclose(m.matvec(A, v), A @ v), "matvec")
check(np.allclose(m.matvec(A, v, M=3, N=4), A @ v), "matvec M=, N=")
raises(ValueError, m.matvec, A, v, M=2, _match=("'A'", "(3, 4)", "(M, N) = (2, 4)"))
raises(ValueError, m.matvec, A, rng.random(5), _match=("'x'", "(N,) = (4,)"))
check(np.allclose(m.matvec(np.asfortranarray(A), v), A @ v), "matvec Fortran-ordered A")
check(np.allclose(m.matvec(A[:, ::2], v[::2]), A[:, ::2] @ v[::2]), "matvec strided views")
check(np.allclose(m.matvec(A[:, :], v), A @ v), "matvec full view")
check(m.matvec(np.empty((0, 4)), v).shape == (0,), "matvec empty rows")
check(np.allclose(m.matvec(np.asfortranarray(np.empty((3, 0))), np.empty(0)), np.zeros(3)), "matvec empty cols")

# In-place parameters: writable, read-only, aliasing.
B = np.arange(3.0)
check(m.scale(B, 2.0) is None and np.allclose(B, [0, 2, 4]), "scale in place")
R = np.ones(3)
R.setflags(write=False)
raises(ValueError, m.scale, R, 2.0, _match=("'A'", "writable"))
raises(ValueError, m.scale, b"\0" * 24, 2.0, _match="writable")
raises(ValueError, m.scale, np.arange(6.0)[::2], 2.0, _match=("'A'", "C-contiguous", "writes it in place"))
z = np.arange(10.0)
raises(ValueError, m.accum, z, z, 1.0, _match="share memory")
# A strided read-only argument is copied, but overlap is judged on the caller's memory.
raises(ValueError, m.accum, z[::2], z[:5], 1.0, _match="share memory")
m.accum(z[:5], z[5:], 1.0)
check(np.allclose(z, [0, 1, 2, 3, 4, 5, 7, 9, 11, 13]), "accum on disjoint halves")

# Two results: (array, float).
r = m.stats(x)
check(isinstance(r, tuple) and len(r) == 2, "stats returns a 2-tuple")
check(np.allclose(r[0], np.cumsum(x)) and isinstance(r[0], np.ndarray) and r[0].dtype == np.float64, "stats array")
check(type(r[1]) is np.float64 and r[1] == 10.0, f"stats float64 scalar, got {type(r[1])}")

# Scalars: int32, bool, complex, uint8.
check(m.mix(3, True, 1 + 2j, 4) == 3 * (1 + 2j) + 4, "mix")
check(m.mix(3, False, 2.0, 0) == -6 + 0j and type(m.mix(3, False, 2.0, 0)) is np.complex128, "mix real for complex")
check(m.mix(np.int64(3), np.bool_(True), np.complex64(1 + 1j), np.uint8(1)) == 4 + 3j, "mix numpy scalars")
check(m.mix(n=2, flag=1, z=1j, k=True) == 1 + 2j, "mix keywords")
raises(TypeError, m.mix, 3.0, True, 1j, 0, _match=("'n'", "integer", "float"))
raises(TypeError, m.mix, np.float64(3.0), True, 1j, 0, _match="'n'")
raises(OverflowError, m.mix, 2 ** 40, True, 1j, 0, _match=("'n'", "int32"))
raises(OverflowError, m.mix, 1, True, 1j, 256, _match=("'k'", "uint8"))
raises(OverflowError, m.mix, 1, True, 1j, -1, _match="'k'")
raises(TypeError, m.mix, 1, True, "1j", 0, _match=("'z'", "complex"))

# Integer parameter that is also a symbol; default value.
check(np.allclose(m.fill(4), [1.5] * 4), "fill default")
check(np.allclose(m.fill(3, 2.0), [2.0] * 3), "fill positional")
check(np.allclose(m.fill(N=2, v=0.5), [0.5] * 2), "fill keywords")
raises(ValueError, m.fill, -1, _match="'N'")
raises(ValueError, m.diff, np.ones(3), N=5, _match="(N = 5 from the keyword argument N)")
raises(TypeError, m.fill, 2.5, _match="'N'")

# Symbol inferred from an N + 1 dimension.
check(np.allclose(m.diff(np.array([1.0, 4.0, 9.0])), [3.0, 5.0]), "diff")
check(m.diff(np.array([1.0])).shape == (0,), "diff of one element")
raises(ValueError, m.diff, np.empty(0), _match="'N'")
raises(ValueError, m.diff, np.ones(3), N=5, _match=("(N + 1,) = (6,)",))

# Native status codes.
check(m.fails(0) is None, "fails(0) returns None")
raises(RuntimeError, m.fails, 7, _match="reported code 7")
raises(RuntimeError, m.fails, 3, _match="status 3")
# Failures NumPy reports with its own exception classes raise a class deriving from that one
# and from RuntimeError, with the message after the "Kind: " prefix.
for code, numpy_class, text in ((8, IndexError, "index out of bounds"), (9, np.linalg.LinAlgError, "Singular matrix"),
                                (10, ValueError, "shapes do not agree"), (11, MemoryError, "out of memory")):
    for _ in range(2):  # the class is created once, then reused
        try:
            m.fails(code)
            check(False, f"fails({code}) did not raise")
        except Exception as e:
            check(isinstance(e, numpy_class) and isinstance(e, RuntimeError) and str(e) == text,
                  f"fails({code}) raised {type(e).__mro__}: {e}")
try:
    m.fails(7)
except Exception as e:
    check(type(e) is RuntimeError, f"plain messages stay RuntimeError, got {type(e)}")

# Symbol only given by keyword.
raises(TypeError, m.ones, _match="cannot infer symbol 'N'; pass N=... as a keyword")
check(np.allclose(m.ones(N=3), [1, 1, 1]), "ones(N=3)")
raises(TypeError, m.ones, 3, _match="positional")

# Shape assertion.
check(np.allclose(m.addv(np.ones(3), np.ones(3)), [2, 2, 2]), "addv")
raises(ValueError, m.addv, np.ones(3), np.ones(4), _match="addv(): a and b must have the same length")

# Other element types.
check(m.isum(np.arange(10, dtype=np.int32)) == 45 and type(m.isum(np.arange(3, dtype=np.int32))) is np.int64, "isum")
raises(TypeError, m.isum, np.arange(10), _match=("int32", "int64"))
zc = np.array([1 + 1j, 2j, 3.0])
check(np.allclose(m.cabs2(zc), np.abs(zc) ** 2), "cabs2")
raises(TypeError, m.cabs2, zc.astype(np.complex64), _match=("complex128", "complex64"))
check(m.count(np.array([True, False, True])) == 2 and type(m.count(np.ones(1, dtype=bool))) is np.uint64, "count bool array")
h = m.halve32(np.array([1.0, 3.0], dtype=np.float32))
check(h.dtype == np.float32 and np.allclose(h, [0.5, 1.5]), "halve32")
h64 = m.halve32(np.array([1.0, 3.0]))
check(h64.dtype == np.float64 and np.allclose(h64, [0.5, 1.5]), "halve32 overload for float64")
raises(TypeError, m.halve32, np.array([1, 3], dtype=np.int32),
       _match=("none of its 2 exported signatures", "halve32(x: float32[N]): ", "must be float32, got int32",
               "halve32(x: float64[N]): "))
raises(TypeError, m.halve32, np.ones(2), np.ones(2), _match="none of its 2")
check("halve32(x: float32[N])" in m.halve32.__doc__ and "x / 2 in float32" in m.halve32.__doc__, "overload docstring")
rs, pos = m.rows3(np.ones((4, 3)))
check(np.allclose(rs, [3] * 4) and type(pos) is np.bool_ and bool(pos), "rows3")
check(type(m.rows3(-np.ones((2, 3)))[1]) is np.bool_ and not m.rows3(-np.ones((2, 3)))[1], "rows3 false")

# Scalar results are NumPy scalars of their dtype, as NumPy returns them.
xs = np.array([0.5, 1.25, 2.0], dtype=np.float32)
got = m.narrow(xs)
want = (xs.sum(), np.int8(-3), np.uint16(3), np.complex64(xs.sum() + 1j), np.int32(3))
check([type(v) for v in got] == [type(v) for v in want], f"narrow types {[type(v) for v in got]}")
check(all(g == w for g, w in zip(got, want)), f"narrow values {got}")
raises(ValueError, m.rows3, np.ones((4, 2)), _match=("(4, 2)", "(N, 3) = (4, 3)"))

# Introspection.
check(str(inspect.signature(m.saxpy)) == "(x, y, a, *, N=None)", f"signature {inspect.signature(m.saxpy)}")
check(str(inspect.signature(m.fill)) == "(N, v=1.5)", f"signature {inspect.signature(m.fill)}")
check("Returns a * x + y." in m.saxpy.__doc__, "docstring")

# No leaked references on error or success paths.
AF = np.asfortranarray(A)
def refcounts():
    return (sys.getrefcount(x), sys.getrefcount(y), sys.getrefcount(A), sys.getrefcount(AF))
before = refcounts()
for _ in range(200):
    m.matvec(AF, v)  # a read-only argument replaced by a C-contiguous copy
    try:
        m.matvec(AF, y)  # ... and an error after the copy
    except ValueError:
        pass
    for bad in ((x, y), (x, y, "a"), (x.astype(np.int32), y, 1.0), (x, np.ones(4), 1.0)):
        try:
            m.saxpy(*bad)
        except (TypeError, ValueError):
            pass
    m.saxpy(x, y, 1.0)
    m.matvec(A, v)
    try:
        m.matvec(A, y)
    except ValueError:
        pass
del bad
check(refcounts() == before, f"reference counts changed: {before} -> {refcounts()}")

if failures:
    print("\n".join(failures))
    sys.exit(1)
print("BRAID-E2E-OK")
"""#

// MARK: - Text checks

@Suite struct PyExtensionEmitterTextTests {
    let text = PyExtensionEmitter.emit(endToEndSpec(moduleName: "braid_text"))

    @Test func usesTheLimitedAPIAndDefinesTheModule() {
        #expect(text.contains("#define Py_LIMITED_API 0x030B0000"))
        #expect(text.contains("PyInit_braid_text(void)"))
        #expect(text.contains("PyModuleDef_HEAD_INIT"))
        #expect(!text.contains("numpy/arrayobject.h"))
        #expect(!text.contains("#include <complex.h>"))
        #expect(text.contains("METH_VARARGS | METH_KEYWORDS"))
    }

    @Test func everyFunctionIsInTheMethodTable() {
        for name in ["saxpy", "matvec", "scale", "accum", "stats", "mix", "fill", "diff", "fails", "ones", "addv",
                     "isum", "cabs2", "count", "rows3", "narrow"] {
            #expect(text.contains("{\"\(name)\", (PyCFunction)(void (*)(void))_braid_py_fn_\(name),"))
        }
    }

    @Test func overloadsShareOneDispatcherInTheMethodTable() {
        #expect(text.contains("{\"halve32\", (PyCFunction)(void (*)(void))_braid_py_dispatch_halve32,"))
        #expect(!text.contains("(PyCFunction)(void (*)(void))_braid_py_fn_halve32"))
        #expect(text.contains("_braid_py_fn_halve32, _braid_py_fn_halve32_2"))
        #expect(text.contains("if (result != NULL || !PyErr_ExceptionMatches(PyExc_TypeError)) goto done;"))
    }

    @Test func bindsSymbolsFromShapesAndChecksThem() {
        #expect(text.contains("if (!known_N) { sym_N = (int64_t)view_x.shape[0]; known_N = 1; sym_N_from = \"the shape of 'x'\"; }"))
        #expect(text.contains("_braid_py_explain_symbols(1, names, values, sources);"))
        #expect(text.contains("_braid_py_check_shape(fname, \"y\", &view_y, want, \"(N,)\")"))
        #expect(text.contains("_braid_py_check_shape(fname, \"A\", &view_A, want, \"(M, N)\")"))
        // N + 1 binds N once nothing else has.
        #expect(text.contains("sym_N = (int64_t)view_x.shape[0] - (1);"))
        #expect(text.contains("_braid_py_check_symbol(fname, \"N\", known_N, sym_N)"))
    }

    @Test func integerParameterBindsItsSymbol() {
        #expect(text.contains("_braid_py_bind_symbol(fname, \"N\", (int64_t)arg_N, &sym_N, &known_N)"))
    }

    @Test func releasesTheGILAroundTheNativeCall() {
        #expect(text.contains("Py_BEGIN_ALLOW_THREADS\n    status = _braid_py_native_0("))
        #expect(text.contains("static int (*const _braid_py_native_0)(int64_t, double *restrict, double *restrict, "
            + "double, double *restrict) = saxpy_native;"))
        #expect(text.contains("braid_error_message(status)"))
    }

    @Test func shapeAssertionAndDefaults() {
        #expect(text.contains("if ((sym_N) != (sym_M)) {"))
        #expect(text.contains("\"addv(): a and b must have the same length\""))
        #expect(text.contains("{\"fill\", \"v\", \"1.5\"},"))
    }

    @Test func outputIsDeterministic() {
        let again = PyExtensionEmitter.emit(endToEndSpec(moduleName: "braid_text"))
        #expect(again == text)
    }

    @Test func rendersPythonFloorDivisionAndModulo() {
        let shape: [SymExpr] = [.floorDiv(N, .int(2)), .mod(N, M), .min(N, M) + 1]
        let spec = ExtensionModuleSpec(moduleName: "m", functions: [
            ExtensionFunction(pythonName: "f", nativeName: "f_native",
                              params: [.array(name: "A", dtype: .float32, shape: shape, writable: false)],
                              symbols: ["N", "M"], results: [], doc: ""),
        ])
        let out = PyExtensionEmitter.emit(spec)
        #expect(out.contains("_braid_py_floordiv(sym_N, 2)"))
        #expect(out.contains("_braid_py_mod(sym_N, sym_M)"))
        #expect(out.contains("_braid_py_min(sym_N, sym_M) + 1"))
        #expect(out.contains("static inline _BRAID_PY_UNUSED int64_t _braid_py_floordiv(int64_t a, int64_t b)"))
        // Neither N nor M can be inferred from these dimensions.
        #expect(!out.contains("sym_N = (int64_t)view_A"))
    }

    @Test func escapesCStrings() {
        #expect(cStringLiteral("a\"b\\c\nd") == "\"a\\\"b\\\\c\\nd\"")
        #expect(cStringLiteral("??=") == "\"?\\?=\"")
        #expect(cStringLiteral("é") == "\"\\303\\251\"")
        #expect(cIdentifierFragment("aé_1") == "a_ue9__1")
    }

    @Test func unicodeAndKeywordLikeNamesStayValidC() {
        let spec = ExtensionModuleSpec(moduleName: "m", functions: [
            ExtensionFunction(pythonName: "f", nativeName: "f_native",
                              params: [.scalar(name: "int", dtype: .int64), .scalar(name: "α", dtype: .float64)],
                              symbols: [], results: [], doc: "uses */ and \"quotes\""),
        ])
        let out = PyExtensionEmitter.emit(spec)
        #expect(out.contains("int64_t arg_int = 0;"))
        #expect(out.contains("double arg__u3b1_ = 0;"))
    }
}

// MARK: - End to end: compile with the C compiler, run with the user's python3

@Suite struct PyExtensionEndToEndTests {
    @Test func compiledModuleBehavesLikeNumPy() throws {
        let python = try PythonConfig.current()
        try #require(python.hasNumPy, "the user's interpreter must have NumPy")
        let dir = try makeTemporaryDirectory("e2e")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let module = "braid_e2e_mod"
        let source = nativeSource + PyExtensionEmitter.emit(endToEndSpec(moduleName: module))
        let compiler = CCompiler(cacheDirectory: dir + "/cache")
        let job = CompileJob(source: source, flags: ["-O2", "-fPIC", "-shared"],
                             extraFlags: ["-Wall", "-Wextra", "-Werror"] + python.compilerFlags,
                             outputPath: "\(dir)/\(module)\(PythonConfig.extensionSuffix)",
                             context: "while compiling the end-to-end test module")
        let result = try compiler.compile(job)
        #expect(!result.cacheHit)
        #expect(FileManager.default.fileExists(atPath: result.outputPath))

        let script = dir + "/check.py"
        try pythonChecks.write(toFile: script, atomically: true, encoding: .utf8)
        let run = try Subprocess.run(python.interpreter, ["-X", "dev", script, dir, module])
        #expect(run.status == 0, "python failed:\n\(run.stdout)\n\(run.stderr)")
        #expect(run.stdout.contains("BRAID-E2E-OK"), "stdout:\n\(run.stdout)\nstderr:\n\(run.stderr)")
    }

    @Test func wrapperCompilesInStrictC11() throws {
        let python = try PythonConfig.current()
        let dir = try makeTemporaryDirectory("strict")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let source = nativeSource + PyExtensionEmitter.emit(endToEndSpec(moduleName: "braid_strict"))
        let job = CompileJob(source: source, flags: ["-O0", "-fPIC", "-shared"],
                             extraFlags: ["-std=c11", "-Wall", "-Wextra", "-Wpedantic", "-Werror"] + python.compilerFlags,
                             outputPath: "\(dir)/braid_strict.abi3.so", context: "strict C11 build")
        _ = try CCompiler(cacheDirectory: dir + "/cache").compile(job)
        // Clang (shipped with the Swift toolchain) warns about more; the wrapper stays clean.
        if Subprocess.findExecutable("clang") != nil {
            var clangJob = job
            clangJob.compiler = "clang"
            clangJob.extraFlags += ["-Wshadow", "-Wconversion"]
            clangJob.outputPath = "\(dir)/braid_strict_clang.abi3.so"
            _ = try CCompiler(cacheDirectory: dir + "/cache").compile(clangJob)
        }
    }
}
