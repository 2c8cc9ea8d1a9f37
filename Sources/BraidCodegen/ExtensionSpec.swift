import BraidIR

/// What the Python-extension emitter needs to know about one compiled function.
///
/// Every backend describes its entry points this way; `PyExtensionEmitter` turns the
/// description into the CPython wrapper (argument parsing, checks, symbol binding,
/// GIL release, result construction). The native entry point it calls has this C
/// signature, in this order:
///
///     int <nativeName>(int64_t <symbol>..., <param>..., <result>...)
///
/// - each symbol in `symbols` as `int64_t`;
/// - each array parameter as `<ctype> *restrict` (C-contiguous data pointer);
/// - each scalar parameter as its `<ctype>` by value;
/// - each array result as `<ctype> *restrict` to storage the wrapper allocated
///   (a new NumPy array of the declared shape);
/// - each scalar result as `<ctype> *` the wrapper reads after the call;
/// - each dynamic array result (size known only after the call) as `<ctype> **data,
///   int64_t *shape`: on success the function stores in `*data` storage from `malloc`
///   (or `posix_memalign`; NULL allowed for an empty array) and in `shape[0..<rank]` its
///   shape; the wrapper copies it into a new NumPy array and frees it. On failure the
///   function leaves `*data` untouched (the wrapper passes NULL and frees it regardless).
/// It returns 0 on success, or a nonzero code; the wrapper then raises an exception
/// with the message from `braid_error_message(code)` if the module defines one (see
/// `ExtensionModuleSpec.hasErrorMessages`): a message "IndexError: ...", "ValueError: ...",
/// "LinAlgError: ..." or "MemoryError: ..." gives the class NumPy raises there (also a
/// `RuntimeError`), any other message a `RuntimeError`.
public struct ExtensionFunction: Sendable {
    public enum Param: Sendable {
        /// An array argument. `writable` means the function writes it in place.
        case array(name: String, dtype: DType, shape: [SymExpr], writable: Bool)
        /// A scalar argument passed by value.
        case scalar(name: String, dtype: DType)
    }

    public enum Result: Sendable {
        case array(dtype: DType, shape: [SymExpr])
        case scalar(dtype: DType)
        /// An array whose shape the native function reports after the call.
        case dynamicArray(dtype: DType, rank: Int)
    }

    /// Name of the Python-visible function.
    public var pythonName: String
    /// Name of the native C entry point the wrapper calls.
    public var nativeName: String
    /// Parameters in Python order (positional or by keyword).
    public var params: [Param]
    /// Default values, as Python literal text, for trailing parameters (by name).
    public var defaults: [String: String]
    /// Symbols passed to the native entry point, in order. Each is bound from an
    /// array shape, or from an integer scalar parameter of the same name, or given by
    /// the caller as a keyword argument (`N=100`); when both, they must agree.
    public var symbols: [String]
    /// Results; zero results return `None`, one returns the object, several a tuple.
    public var results: [Result]
    /// Return a tuple even for one result (`return (x,)`).
    public var returnsTuple = false
    /// Shape relations the compiler could not prove and the wrapper checks after binding
    /// symbols: each pair must be equal, else `ValueError` with the message.
    public var shapeAssertions: [ShapeAssertion]
    /// Python docstring.
    public var doc: String

    public init(pythonName: String, nativeName: String, params: [Param], defaults: [String: String] = [:],
                symbols: [String], results: [Result], shapeAssertions: [ShapeAssertion] = [], doc: String) {
        self.shapeAssertions = shapeAssertions
        self.pythonName = pythonName
        self.nativeName = nativeName
        self.params = params
        self.defaults = defaults
        self.symbols = symbols
        self.results = results
        self.doc = doc
    }
}

/// One extension module: its name and the functions it exports.
public struct ExtensionModuleSpec: Sendable {
    public var moduleName: String
    public var functions: [ExtensionFunction]
    /// C statements run once when the module is imported (e.g. MPI or OpenCL setup);
    /// they may `return -1` after setting a Python exception.
    public var initCode: String
    /// Whether the native code defines `const char *braid_error_message(int code)`.
    public var hasErrorMessages: Bool

    public init(moduleName: String, functions: [ExtensionFunction], initCode: String = "",
                hasErrorMessages: Bool = false) {
        self.moduleName = moduleName
        self.functions = functions
        self.initCode = initCode
        self.hasErrorMessages = hasErrorMessages
    }
}

/// `lhs == rhs` must hold at call time, else the call raises `ValueError(message)`.
public struct ShapeAssertion: Sendable {
    public var lhs: SymExpr
    public var rhs: SymExpr
    public var message: String
    public init(lhs: SymExpr, rhs: SymExpr, message: String) {
        self.lhs = lhs
        self.rhs = rhs
        self.message = message
    }
}
