import Foundation
import BraidIR

/// Pieces shared by every backend's translation unit: the extension description of a
/// program and the standard C headers and helpers.
public enum ModuleSource {
    /// Name of the native entry point of a program.
    public static func nativeName(_ p: Program) -> String { "braid_native_\(p.name)" }

    /// Programs compiled from the second, third, ... export signature of one function are
    /// named `<function>__braid_overload<k>` by the frontend (native names must differ); the
    /// wrapper exports all of them under the function's name and dispatches on argument types.
    public static let overloadMarker = "__braid_overload"

    /// The Python name of a program (its name without an overload suffix).
    public static func pythonName(_ p: Program) -> String {
        guard let r = p.name.range(of: overloadMarker, options: .backwards),
              !p.name[r.upperBound...].isEmpty, p.name[r.upperBound...].allSatisfy(\.isNumber) else { return p.name }
        return String(p.name[..<r.lowerBound])
    }

    /// The extension wrapper's view of a program.
    public static func extensionFunction(_ p: Program, doc: String) -> ExtensionFunction {
        // Shapes may name integer parameters; the wrapper knows them by their Python names.
        var rename: [String: SymExpr] = [:]
        for (container, name) in zip(p.params, p.pythonParamNames) where container != name {
            rename[container] = .sym(name)
        }
        let params: [ExtensionFunction.Param] = zip(p.params, p.pythonParamNames).map { container, name in
            let c = p.container(container)!
            return c.isScalar ? .scalar(name: name, dtype: c.dtype)
                : .array(name: name, dtype: c.dtype, shape: c.shape.map { $0.substituting(rename) }, writable: c.isWritten)
        }
        let results: [ExtensionFunction.Result] = p.results.map { name in
            let c = p.container(name)!
            if c.isDynamic { return .dynamicArray(dtype: c.dtype, rank: c.shape.count) }
            return c.isScalar ? .scalar(dtype: c.dtype) : .array(dtype: c.dtype, shape: c.shape.map { $0.substituting(rename) })
        }
        var f = ExtensionFunction(
            pythonName: pythonName(p), nativeName: nativeName(p), params: params, defaults: p.defaults,
            symbols: p.symbols, results: results,
            shapeAssertions: p.shapeAssertions.map {
                ShapeAssertion(lhs: $0.0.substituting(rename), rhs: $0.1.substituting(rename), message: $0.2)
            },
            doc: doc)
        f.returnsTuple = p.returnsTuple
        return f
    }

    /// The `braid_error_message` cases of the IR's run-time checks (`Failure.statusCode`),
    /// shared by every target whose host code runs them.
    static let runTimeCheckMessages = """
        case 5: return "IndexError: index out of bounds";
        case 6: return "ValueError: operands could not be broadcast together: shapes do not agree";
        case 7: return "ValueError: zero-size array to reduction operation which has no identity";
        case 8: return "ValueError: a value NumPy rejects (an integer to a negative integer power, a bin count below 1, a non-finite range, ...)";
    """

    /// `<complex.h>` without its `I` macro, and `CMPLX`/`CMPLXF` where the C library lacks them.
    static let complexHeader = """
        #include <complex.h>
        #undef I  /* complex.h's imaginary unit would shadow Python names such as the symbol I */
        #ifndef CMPLX
        #define CMPLX(r, i) ((double _Complex)((double)(r) + _Complex_I * (double)(i)))
        #endif
        #ifndef CMPLXF
        #define CMPLXF(r, i) ((float _Complex)((float)(r) + _Complex_I * (float)(i)))
        #endif
        /* NumPy's complex product: the textbook formula. C's `*` adds Annex G's recovery of
           infinities (a call to __muldc3 when both parts are NaN), which NumPy does not do and
           which keeps loops of complex products from vectorizing. */
        static inline double _Complex braid_cmul(double _Complex a, double _Complex b)
        {
            return CMPLX(creal(a) * creal(b) - cimag(a) * cimag(b), creal(a) * cimag(b) + cimag(a) * creal(b));
        }
        static inline float _Complex braid_cmulf(float _Complex a, float _Complex b)
        {
            return CMPLXF(crealf(a) * crealf(b) - cimagf(a) * cimagf(b), crealf(a) * cimagf(b) + cimagf(a) * crealf(b));
        }
        """

    /// Standard headers and helpers for C targets (after `<Python.h>`).
    public static let cHeaders = """
    #include <stdint.h>
    #include <stdbool.h>
    #include <stdlib.h>
    #include <string.h>
    #include <math.h>
    \(complexHeader)

    static void *braid_alloc(size_t bytes)
    {
        void *p = NULL;
        if (posix_memalign(&p, 64, bytes ? bytes : 1) != 0) return NULL;
        return p;
    }

    /* "Kind: message": the wrapper raises the exception class NumPy raises (see PyExtensionEmitter). */
    const char *braid_error_message(int code)
    {
        switch (code) {
        case 1: return "MemoryError: out of memory while allocating a temporary array";
        case 2: return "LinAlgError: Singular matrix";
        case 3: return "LinAlgError: Matrix is not positive definite";
        case 4: return "LAPACK rejected an argument (internal error)";
    \(runTimeCheckMessages)
        default: return "native code failed";
        }
    }

    """
}
