import BraidIR

/// Emits the C source of a CPython extension module that wraps Braid's native entry points.
///
/// One emitter is shared by every backend. The wrapper text is appended after the native
/// functions' C code in the same translation unit, so it calls each
/// `ExtensionFunction.nativeName` directly (through a file-scope, type-checked function
/// pointer). Everything the wrapper declares at file scope starts with `_braid_py_`, so it
/// cannot collide with names the native code takes from the Python source.
///
/// The generated module:
/// - uses only the CPython Limited API (`Py_LIMITED_API 0x030B0000`, built as
///   `<module>.abi3.so`) and the buffer protocol; it does not use the NumPy C API;
/// - accepts every parameter positionally or by keyword, and every symbol as a
///   keyword-only argument (`f(A=a, N=100)`), with Python-like `TypeError`s for
///   unknown, duplicate and missing arguments;
/// - checks each array's dtype, rank, C-contiguity, alignment and writability, binds
///   symbols (keywords, then integer parameters of the same name, then array dimensions),
///   and checks every dimension and shape assertion against the bound symbols;
/// - allocates array results with `numpy.empty` before the call, releases the GIL
///   around the native call, and turns a nonzero status into an exception: the class NumPy
///   raises (`IndexError`, `ValueError`, `numpy.linalg.LinAlgError`, `MemoryError`) when the
///   message from `braid_error_message` starts with that name and a colon, always also a
///   `RuntimeError`; plain `RuntimeError` otherwise;
/// - creates each dynamic array result (size known only after the call) with `numpy.empty`
///   of the shape the native code reports, copies the handed-over storage in and frees it
///   (on error paths too);
/// - returns scalar results as NumPy scalars of their dtype (`numpy.float64(v)`, ...).
///
/// The output is deterministic: the same spec always gives the same bytes.
public enum PyExtensionEmitter {
    /// Returns the C source of the wrapper for `spec`.
    public static func emit(_ spec: ExtensionModuleSpec) -> String {
        var e = ModuleEmitter(spec: spec)
        return e.emit()
    }

    /// Text that a backend may put at the very top of the translation unit, before its own
    /// `#include`s, so that `<Python.h>` is included first (as CPython recommends). The
    /// wrapper works without it; with it, feature-test macros are consistent everywhere.
    public static let translationUnitPrelude = """
        /* CPython must be included before any standard header (Limited API, CPython >= 3.11). */
        #define PY_SSIZE_T_CLEAN
        #define Py_LIMITED_API 0x030B0000
        #include <Python.h>

        """
}

// MARK: - C text helpers

/// A C string literal for `s` (UTF-8 bytes; non-ASCII and control bytes as octal escapes).
func cStringLiteral(_ s: String) -> String {
    var out = "\""
    var previousWasQuestion = false
    for b in s.utf8 {
        switch b {
        case 0x5C: out += "\\\\"
        case 0x22: out += "\\\""
        case 0x0A: out += "\\n"
        case 0x09: out += "\\t"
        case 0x0D: out += "\\r"
        case 0x3F: out += previousWasQuestion ? "\\?" : "?"  // never form a trigraph
        case 0x20...0x7E: out.unicodeScalars.append(UnicodeScalar(b))
        default:
            let oct = String(b, radix: 8)
            out += "\\" + String(repeating: "0", count: 3 - oct.count) + oct
        }
        previousWasQuestion = (b == 0x3F)
    }
    return out + "\""
}

/// `s` made into a C identifier fragment: ASCII letters, digits and `_` kept, anything else
/// spelled as `_u<hex>_`.
func cIdentifierFragment(_ s: String) -> String {
    var out = ""
    for u in s.unicodeScalars {
        let v = u.value
        let isAlnum = (v >= 0x30 && v <= 0x39) || (v >= 0x41 && v <= 0x5A) || (v >= 0x61 && v <= 0x7A)
        if isAlnum || v == 0x5F {
            out.unicodeScalars.append(u)
        } else {
            out += "_u" + String(v, radix: 16) + "_"
        }
    }
    return out.isEmpty ? "_" : out
}

/// Hands out unique C identifiers within one scope.
struct CNameAllocator {
    private var taken = Set<String>()

    mutating func make(_ prefix: String, _ pythonName: String) -> String {
        let base = prefix + cIdentifierFragment(pythonName)
        var name = base
        var n = 2
        while taken.contains(name) {
            name = "\(base)_\(n)"
            n += 1
        }
        taken.insert(name)
        return name
    }
}

/// Accumulates lines of C with indentation.
struct CLines {
    private(set) var lines: [String] = []
    var indent = 0

    mutating func line(_ s: String = "") {
        lines.append(s.isEmpty ? "" : String(repeating: "    ", count: indent) + s)
    }

    mutating func block(_ header: String, _ body: (inout CLines) -> Void) {
        line(header.isEmpty ? "{" : header + " {")
        indent += 1
        body(&self)
        indent -= 1
        line("}")
    }

    /// A C function definition: the header line, then the body in braces on their own lines.
    mutating func function(_ header: String, _ body: (inout CLines) -> Void) {
        line(header)
        line("{")
        indent += 1
        body(&self)
        indent -= 1
        line("}")
    }

    var text: String { lines.joined(separator: "\n") + "\n" }
}

extension DType {
    /// Alignment in bytes of one element (complex types align like their real part).
    fileprivate var alignment: Int { isComplex ? itemSize / 2 : itemSize }

    /// Name of the emitted `_braid_py_dtype` descriptor for this type.
    fileprivate var descriptorName: String { "_braid_py_dtype_\(rawValue)" }
}

// MARK: - Module

private struct ModuleEmitter {
    let spec: ExtensionModuleSpec
    var out = CLines()

    init(spec: ExtensionModuleSpec) {
        self.spec = spec
    }

    /// The last component of a dotted module name (what `PyInit_` is named after).
    var initName: String {
        let last = spec.moduleName.split(separator: ".").last.map(String.init) ?? spec.moduleName
        return cIdentifierFragment(last)
    }

    mutating func emit() -> String {
        var functionNames = CNameAllocator()
        var plans: [FunctionPlan] = []
        var defaultBase = 0
        for (index, fn) in spec.functions.enumerated() {
            var plan = FunctionPlan(fn, index: index, cName: functionNames.make("_braid_py_fn_", fn.pythonName))
            plan.defaultBase = defaultBase
            defaultBase += plan.defaults.count
            plans.append(plan)
        }
        emitHeader()
        emitDTypeDescriptors(plans)
        emitDefaults(plans)
        for plan in plans {
            var f = FunctionEmitter(plan: plan, hasErrorMessages: spec.hasErrorMessages)
            out.line()
            for l in f.emit() { out.line(l) }
        }
        let exported = exportedFunctions(plans, names: &functionNames)
        for e in exported where e.overloads.count > 1 { emitDispatcher(e) }
        emitModuleDefinition(exported)
        return out.text
    }

    /// One Python-visible function: its wrapper, or for overloads (several functions of the
    /// same Python name, e.g. `#pythran export f(float64[:])` and `f(float32[:])`) a
    /// dispatcher over their wrappers, in export order.
    struct Exported {
        var pythonName: String
        var cName: String
        var overloads: [FunctionPlan]
        var docstring: String
    }

    func exportedFunctions(_ plans: [FunctionPlan], names: inout CNameAllocator) -> [Exported] {
        var order: [String] = []
        var groups: [String: [FunctionPlan]] = [:]
        for p in plans {
            if groups[p.fn.pythonName] == nil { order.append(p.fn.pythonName) }
            groups[p.fn.pythonName, default: []].append(p)
        }
        return order.map { name in
            let group = groups[name]!
            guard group.count > 1 else {
                return Exported(pythonName: name, cName: group[0].cName, overloads: group, docstring: group[0].docstring)
            }
            let signatures = group.map { "  \(name)(\($0.typedParameters))" }.joined(separator: "\n")
            let doc = group[0].signatureLine
                + "Overloads; a call runs the first whose parameter types match its arguments:\n" + signatures + "\n\n"
                + group[0].fn.doc
            return Exported(pythonName: name, cName: names.make("_braid_py_dispatch_", name), overloads: group, docstring: doc)
        }
    }

    /// Tries each overload's wrapper in turn: argument checks fail with `TypeError` before any
    /// native code runs, so a `TypeError` means "not this overload". When none matches, the
    /// error lists every overload with the reason it did not match.
    mutating func emitDispatcher(_ e: Exported) {
        out.line()
        out.line("/* \(e.pythonName)(): dispatch over \(e.overloads.count) exported signatures. */")
        out.line("static PyObject *")
        out.function("\(e.cName)(PyObject *self, PyObject *args, PyObject *kwargs)") { o in
            o.line("static PyObject *(*const overloads[])(PyObject *, PyObject *, PyObject *) = {")
            o.line("    " + e.overloads.map(\.cName).joined(separator: ", "))
            o.line("};")
            o.line("static const char *const signatures[] = {")
            o.line("    " + e.overloads.map { cStringLiteral("\(e.pythonName)(\($0.typedParameters))") }.joined(separator: ", "))
            o.line("};")
            o.line("PyObject *reasons[\(e.overloads.count)] = {NULL};")
            o.line("PyObject *result = NULL;")
            o.line("size_t i;")
            o.block("for (i = 0; i < \(e.overloads.count); i++)") { o in
                o.line("PyObject *type, *value, *traceback;")
                o.line("result = overloads[i](self, args, kwargs);")
                o.line("if (result != NULL || !PyErr_ExceptionMatches(PyExc_TypeError)) goto done;")
                o.line("PyErr_Fetch(&type, &value, &traceback);")
                o.line("reasons[i] = value != NULL ? PyObject_Str(value) : NULL;")
                o.line("Py_XDECREF(type);")
                o.line("Py_XDECREF(value);")
                o.line("Py_XDECREF(traceback);")
                o.line("if (reasons[i] == NULL) { PyErr_Clear(); reasons[i] = PyUnicode_FromString(\"TypeError\"); }")
                o.line("if (reasons[i] == NULL) goto done;")
            }
            o.block("") { o in
                o.line("PyObject *message = PyUnicode_FromFormat(\"%s(): the arguments match none of its \(e.overloads.count) exported signatures:\", \(cStringLiteral(e.pythonName)));")
                o.block("for (i = 0; message != NULL && i < \(e.overloads.count); i++)") { o in
                    o.line("PyObject *line = PyUnicode_FromFormat(\"\\n  %s: %U\", signatures[i], reasons[i]);")
                    o.line("PyObject *joined = line != NULL ? PyUnicode_Concat(message, line) : NULL;")
                    o.line("Py_XDECREF(line);")
                    o.line("Py_DECREF(message);")
                    o.line("message = joined;")
                }
                o.block("if (message != NULL)") { o in
                    o.line("PyErr_SetObject(PyExc_TypeError, message);")
                    o.line("Py_DECREF(message);")
                }
            }
            o.indent -= 1
            o.line("done:")
            o.indent += 1
            o.line("for (i = 0; i < \(e.overloads.count); i++) Py_XDECREF(reasons[i]);")
            o.line("return result;")
        }
    }

    mutating func emitHeader() {
        // The wrapper runs once per call, outside the loops: gcc optimizes it at -O1, which
        // takes about a sixth less of the C compiler's time per module than -O3.
        out.line("#if defined(__GNUC__) && !defined(__clang__)")
        out.line("#pragma GCC optimize (\"O1\")")
        out.line("#endif")
        out.line("/* " + String(repeating: "=", count: 86))
        out.line(" * CPython extension module '\(commentSafe(spec.moduleName))', generated by Braid.")
        out.line(" *")
        out.line(" * Python-facing wrappers for the native functions above: argument parsing, buffer")
        out.line(" * checks (dtype, rank, shape, C-contiguity), symbol binding, GIL release around the")
        out.line(" * native call, and new NumPy arrays for results. Limited API (abi3, CPython >= 3.11);")
        out.line(" * no NumPy C API. Every file-scope name here starts with _braid_py_.")
        out.line(" * " + String(repeating: "=", count: 86) + " */")
        out.line("#define _BRAID_PY_NUMPY_SCALAR_SLOTS \(DType.allCases.count)  /* one per dtype */")
        // The native code's allocator goes after the includes (guarded: the native code above
        // usually has it already).
        let prelude = helperPrelude.replacingAll("/* BRAID_MEMORY_POOL */\n", with: ModuleSource.memoryPool)
        for l in prelude.split(separator: "\n", omittingEmptySubsequences: false) { out.line(String(l)) }
        if needsComplexHelpers {
            for l in complexHelpers.split(separator: "\n", omittingEmptySubsequences: false) { out.line(String(l)) }
        }
    }

    var needsComplexHelpers: Bool {
        spec.functions.contains { fn in
            fn.params.contains { if case .scalar(_, let d) = $0 { return d.isComplex } else { return false } }
                || fn.results.contains { if case .scalar(let d) = $0 { return d.isComplex } else { return false } }
        }
    }

    /// One descriptor per dtype an array parameter or result uses, in `DType` order.
    mutating func emitDTypeDescriptors(_ plans: [FunctionPlan]) {
        var used = Set<DType>()
        for p in plans {
            for a in p.arrays { used.insert(a.dtype) }
            for r in p.results {
                switch r.kind {
                case .array(let d, _), .dynamic(let d, _): used.insert(d)
                case .scalar: break
                }
            }
        }
        guard !used.isEmpty else { return }
        out.line()
        out.line("/* Element types of array arguments and results: NumPy name, buffer formats")
        out.line("   (without byte-order prefix), item size and alignment in bytes. */")
        for d in used.sorted() {
            let formats = (d.bufferFormats.map(cStringLiteral) + ["NULL"]).joined(separator: ", ")
            out.line("static const _braid_py_dtype \(d.descriptorName) = "
                + "{\(cStringLiteral(d.rawValue)), {\(formats)}, \(d.itemSize), \(d.alignment)};")
        }
    }

    /// Default parameter values, evaluated with `ast.literal_eval` at import time.
    mutating func emitDefaults(_ plans: [FunctionPlan]) {
        let all = plans.flatMap { p in p.defaults.map { (p.fn.pythonName, $0.param, $0.text) } }
        guard !all.isEmpty else { return }
        out.line()
        out.line("/* Default argument values (Python literals, evaluated once at import). */")
        out.line("#define _BRAID_PY_NDEFAULTS \(all.count)")
        out.line("static PyObject *_braid_py_defaults[_BRAID_PY_NDEFAULTS];")
        out.line()
        out.line("static int")
        out.function("_braid_py_load_defaults(void)") { o in
            o.line("/* function, parameter, literal text */")
            o.block("static const char *const table[_BRAID_PY_NDEFAULTS][3] =") { o in
                for (fn, param, text) in all {
                    o.line("{\(cStringLiteral(fn)), \(cStringLiteral(param)), \(cStringLiteral(text))},")
                }
            }
            o.lines_replaceLast("};")
            o.line("PyObject *ast_module, *literal_eval;")
            o.line("int i;")
            o.line("ast_module = PyImport_ImportModule(\"ast\");")
            o.line("if (ast_module == NULL) return -1;")
            o.line("literal_eval = PyObject_GetAttrString(ast_module, \"literal_eval\");")
            o.line("Py_DECREF(ast_module);")
            o.line("if (literal_eval == NULL) return -1;")
            o.block("for (i = 0; i < _BRAID_PY_NDEFAULTS; i++)") { o in
                o.line("PyObject *value = PyObject_CallFunction(literal_eval, \"s\", table[i][2]);")
                o.block("if (value == NULL)") { o in
                    o.line("PyErr_Clear();")
                    o.line("PyErr_Format(PyExc_ValueError, \"default value %s of %s() parameter '%s' is not a Python literal\",")
                    o.line("             table[i][2], table[i][0], table[i][1]);")
                    o.line("Py_DECREF(literal_eval);")
                    o.line("return -1;")
                }
                o.line("Py_XDECREF(_braid_py_defaults[i]);")
                o.line("_braid_py_defaults[i] = value;")
            }
            o.line("Py_DECREF(literal_eval);")
            o.line("return 0;")
        }
    }

    mutating func emitModuleDefinition(_ plans: [Exported]) {
        out.line()
        out.line("/* Method table: every exported function, with its signature and docstring. */")
        for p in plans {
            out.line("static const char \(p.cName)_doc[] =")
            // One C literal per docstring line (adjacent literals concatenate).
            var pieces: [String] = []
            var current = ""
            for ch in p.docstring {
                current.append(ch)
                if ch == "\n" {
                    pieces.append(current)
                    current = ""
                }
            }
            if !current.isEmpty || pieces.isEmpty { pieces.append(current) }
            for piece in pieces { out.line("    " + cStringLiteral(piece)) }
            out.lines_appendToLast(";")
        }
        out.line()
        out.block("static PyMethodDef _braid_py_methods[] =") { o in
            for p in plans {
                o.line("{\(cStringLiteral(p.pythonName)), (PyCFunction)(void (*)(void))\(p.cName),")
                o.line(" METH_VARARGS | METH_KEYWORDS, \(p.cName)_doc},")
            }
            o.line("{NULL, NULL, 0, NULL}")
        }
        out.lines_replaceLast("};")
        out.line()
        let names = plans.map(\.pythonName).joined(separator: ", ")
        let moduleDoc = "Native module generated by Braid." + (names.isEmpty ? "" : " Functions: \(names).")
        out.block("static struct PyModuleDef _braid_py_module =") { o in
            o.line("PyModuleDef_HEAD_INIT,")
            o.line("\(cStringLiteral(spec.moduleName)),  /* m_name */")
            o.line("\(cStringLiteral(moduleDoc)),  /* m_doc */")
            o.line("-1,  /* m_size: no per-module state */")
            o.line("_braid_py_methods,")
            o.line("NULL, NULL, NULL, NULL")
        }
        out.lines_replaceLast("};")
        out.line()
        out.line("/* Import-time setup given by the backend; may set an exception and return -1. */")
        out.line("static int")
        out.function("_braid_py_module_exec(PyObject *module)") { o in
            o.line("(void)module;")
            let code = spec.initCode.trimmingTrailingNewlines()
            if !code.isEmpty {
                o.block("") { o in
                    for l in code.split(separator: "\n", omittingEmptySubsequences: false) { o.line(String(l)) }
                }
            }
            o.line("return 0;")
        }
        out.line()
        out.line("PyMODINIT_FUNC")
        out.function("PyInit_\(initName)(void)") { o in
            o.line("PyObject *module;")
            if plans.contains(where: { $0.overloads.contains { !$0.defaults.isEmpty } }) {
                o.line("if (_braid_py_load_defaults() < 0) return NULL;")
            }
            o.line("module = PyModule_Create(&_braid_py_module);")
            o.line("if (module == NULL) return NULL;")
            o.block("if (_braid_py_module_exec(module) < 0)") { o in
                o.line("Py_DECREF(module);")
                o.line("return NULL;")
            }
            o.line("return module;")
        }
    }

    func commentSafe(_ s: String) -> String {
        s.replacingAll("*/", with: "* /")
    }
}

extension CLines {
    /// Replaces the last line (used to close initializers with `};`).
    fileprivate mutating func lines_replaceLast(_ s: String) {
        guard !lines.isEmpty else { return }
        lines[lines.count - 1] = String(repeating: "    ", count: indent) + s
    }

    fileprivate mutating func lines_appendToLast(_ s: String) {
        guard !lines.isEmpty else { return }
        lines[lines.count - 1] += s
    }
}

extension String {
    func replacingAll(_ target: String, with replacement: String) -> String {
        guard !target.isEmpty else { return self }
        var result = ""
        var rest = Substring(self)
        while let r = rest.range(of: target) {
            result += rest[rest.startIndex..<r.lowerBound]
            result += replacement
            rest = rest[r.upperBound...]
        }
        return result + rest
    }

    func trimmingTrailingNewlines() -> String {
        var s = Substring(self)
        while let last = s.last, last == "\n" || last == "\r" || last == " " { s = s.dropLast() }
        return String(s)
    }
}

extension Substring {
    fileprivate func range(of target: String) -> Range<Substring.Index>? {
        guard !target.isEmpty, count >= target.count else { return nil }
        var i = startIndex
        while i < endIndex {
            if self[i...].hasPrefix(target) {
                return i..<index(i, offsetBy: target.count)
            }
            i = index(after: i)
        }
        return nil
    }
}

// MARK: - Per-function plan

/// Names and facts about one function, computed before any C is written.
private struct FunctionPlan {
    struct ArrayParam {
        var name: String
        var slot: Int
        var dtype: DType
        var shape: [SymExpr]
        var writable: Bool
        var view: String
        var held: String
        /// The caller's memory range of the argument (it differs from `view` when a read-only
        /// argument was copied into a C-contiguous array).
        var span: String { "span_" + view.dropFirst("view_".count) }
    }

    struct ScalarParam {
        var name: String
        var slot: Int
        var dtype: DType
        var variable: String
    }

    enum ParamRef {
        case array(Int)
        case scalar(Int)
    }

    struct Symbol {
        var name: String
        var variable: String
        var known: String
        /// Argument slot of the keyword (or integer parameter) that gives it, if any.
        var slot: Int?
        /// Index into `scalars` when an integer parameter of the same name binds it.
        var scalarParam: Int?
        /// Whether the native entry point takes it.
        var passedToNative: Bool
        /// C variable naming where the value came from (for shape errors).
        var source: String { variable + "_from" }
    }

    struct Result {
        enum Kind {
            case array(DType, [SymExpr])
            case scalar(DType)
            /// Storage and shape the native function hands over after the call.
            case dynamic(DType, Int)
        }
        var kind: Kind
        var object: String
        var view: String
        var held: String
        /// A scalar result's value; a dynamic result's data pointer.
        var value: String
        /// A dynamic result's shape array.
        var shape: String
    }

    let fn: ExtensionFunction
    let index: Int
    let cName: String
    var arrays: [ArrayParam] = []
    var scalars: [ScalarParam] = []
    var order: [ParamRef] = []
    var symbols: [Symbol] = []
    var results: [Result] = []
    /// Python names accepted as arguments: parameters, then keyword-only symbols.
    var argumentNames: [String] = []
    var defaults: [(param: String, slot: Int, text: String)] = []
    /// Index of the first default within the module-wide defaults table.
    var defaultBase = 0

    init(_ fn: ExtensionFunction, index: Int, cName: String) {
        self.fn = fn
        self.index = index
        self.cName = cName
        var names = CNameAllocator()
        var symbolIDs = CNameAllocator()
        for p in fn.params {
            switch p {
            case .array(let name, let dtype, let shape, let writable):
                let id = names.make("", name)
                order.append(.array(arrays.count))
                arrays.append(ArrayParam(name: name, slot: argumentNames.count, dtype: dtype, shape: shape,
                                         writable: writable, view: "view_" + id, held: "held_" + id))
                argumentNames.append(name)
            case .scalar(let name, let dtype):
                let id = names.make("", name)
                order.append(.scalar(scalars.count))
                scalars.append(ScalarParam(name: name, slot: argumentNames.count, dtype: dtype, variable: "arg_" + id))
                argumentNames.append(name)
            }
        }
        // Symbols: the native ones in order, then any other symbol a shape mentions (sorted),
        // so the wrapper can still bind and check it.
        var symbolNames = fn.symbols
        var mentioned = Set<String>()
        for a in arrays { for d in a.shape { mentioned.formUnion(d.freeSymbols) } }
        for r in fn.results { if case .array(_, let shape) = r { for d in shape { mentioned.formUnion(d.freeSymbols) } } }
        for s in fn.shapeAssertions { mentioned.formUnion(s.lhs.freeSymbols); mentioned.formUnion(s.rhs.freeSymbols) }
        for s in mentioned.sorted() where !symbolNames.contains(s) { symbolNames.append(s) }
        var seen = Set<String>()
        for s in symbolNames where seen.insert(s).inserted {
            let id = symbolIDs.make("", s)
            var symbol = Symbol(name: s, variable: "sym_" + id, known: "known_" + id, slot: nil, scalarParam: nil,
                                passedToNative: fn.symbols.contains(s))
            if let pi = fn.params.firstIndex(where: { $0.pythonName == s }) {
                // A parameter of the same name: an integer scalar binds the symbol; anything
                // else shadows the keyword, and the symbol comes from shapes only.
                if let si = scalars.firstIndex(where: { $0.name == s }), scalars[si].dtype.isInteger {
                    symbol.slot = pi
                    symbol.scalarParam = si
                }
            } else {
                symbol.slot = argumentNames.count
                argumentNames.append(s)
            }
            symbols.append(symbol)
        }
        for (k, r) in fn.results.enumerated() {
            let kind: Result.Kind
            switch r {
            case .array(let d, let shape): kind = .array(d, shape)
            case .scalar(let d): kind = .scalar(d)
            case .dynamicArray(let d, let rank): kind = .dynamic(d, rank)
            }
            results.append(Result(kind: kind, object: "out_\(k)", view: "outview_\(k)", held: "outheld_\(k)",
                                  value: "res_\(k)", shape: "resshape_\(k)"))
        }
        for (i, p) in fn.params.enumerated() {
            if let text = fn.defaults[p.pythonName] { defaults.append((p.pythonName, i, text)) }
        }
    }

    /// `__text_signature__` line plus the user docstring.
    var docstring: String { signatureLine + fn.doc }

    /// The parameters with their types, e.g. `x: float64[N], a: float64` (for overload lists).
    var typedParameters: String {
        fn.params.map { p in
            switch p {
            case .array(let name, let d, let shape, _):
                return "\(name): \(d.rawValue)[\(shape.map(\.description).joined(separator: ", "))]"
            case .scalar(let name, let d):
                return "\(name): \(d.rawValue)"
            }
        }.joined(separator: ", ")
    }

    /// The `__text_signature__` block (`name(a, b=1, *, N=None)` then `--`).
    var signatureLine: String {
        var parts: [String] = []
        for p in fn.params {
            if let d = fn.defaults[p.pythonName] { parts.append("\(p.pythonName)=\(d)") } else { parts.append(p.pythonName) }
        }
        let keywordSymbols = symbols.filter { $0.slot != nil && $0.scalarParam == nil }
        if !keywordSymbols.isEmpty {
            parts.append("*")
            parts += keywordSymbols.map { "\($0.name)=None" }
        }
        return "\(fn.pythonName)(\(parts.joined(separator: ", ")))\n--\n\n"
    }

    func symbol(named s: String) -> Symbol? { symbols.first { $0.name == s } }

    /// C expression for `e` over the bound symbol variables (Python `//`, `%`, min, max kept).
    func c(_ e: SymExpr) -> String {
        e.render(symbol: { s in symbol(named: s)?.variable ?? "0 /* unknown symbol \(s) */" },
                 floorDiv: "_braid_py_floordiv(", mod: "_braid_py_mod(", min: "_braid_py_min", max: "_braid_py_max")
    }
}

extension ExtensionFunction.Param {
    var pythonName: String {
        switch self {
        case .array(let name, _, _, _), .scalar(let name, _): return name
        }
    }
}

/// "(NI, NK)", "(N,)", "()" in Python syntax.
private func pythonTuple(_ items: [String]) -> String {
    items.count == 1 ? "(\(items[0]),)" : "(" + items.joined(separator: ", ") + ")"
}

// MARK: - Per-function emission

private struct FunctionEmitter {
    let plan: FunctionPlan
    let hasErrorMessages: Bool
    var o = CLines()

    init(plan: FunctionPlan, hasErrorMessages: Bool) {
        self.plan = plan
        self.hasErrorMessages = hasErrorMessages
    }

    var fn: ExtensionFunction { plan.fn }
    var nativePointer: String { "_braid_py_native_\(plan.index)" }

    mutating func emit() -> [String] {
        emitNativePointer()
        o.line()
        o.line("/* \(fn.pythonName)(\(fn.params.map(\.pythonName).joined(separator: ", "))) */")
        o.line("static PyObject *")
        o.line("\(plan.cName)(PyObject *self, PyObject *args, PyObject *kwargs)")
        o.line("{")
        o.indent += 1
        emitDeclarations()
        emitArgumentCollection()
        emitParameterConversion()
        emitSymbolBinding()
        emitShapeChecks()
        emitOverlapChecks()
        emitResultAllocation()
        emitNativeCall()
        emitResultConversion()
        emitCleanup()
        o.indent -= 1
        o.line("}")
        return o.lines
    }

    /// The native entry point as a typed pointer: the C compiler checks the signature, and no
    /// local variable of the wrapper can shadow the native function's name.
    mutating func emitNativePointer() {
        var types: [String] = []
        types += plan.symbols.filter(\.passedToNative).map { _ in "int64_t" }
        for ref in plan.order {
            switch ref {
            case .array(let i): types.append("\(plan.arrays[i].dtype.cType) *restrict")
            case .scalar(let i): types.append(plan.scalars[i].dtype.cType)
            }
        }
        for r in plan.results {
            switch r.kind {
            case .array(let d, _): types.append("\(d.cType) *restrict")
            case .scalar(let d): types.append("\(d.cType) *")
            case .dynamic(let d, _): types += ["\(d.cType) **", "int64_t *"]
            }
        }
        let list = types.isEmpty ? "void" : types.joined(separator: ", ")
        o.line("/* Native entry point of \(fn.pythonName)(): int \(fn.nativeName)(\(list)). */")
        o.line("static int (*const \(nativePointer))(\(list)) = \(fn.nativeName);")
    }

    mutating func emitDeclarations() {
        let nArgs = plan.argumentNames.count
        o.line("static const char fname[] = \(cStringLiteral(fn.pythonName));")
        let nameList = (plan.argumentNames.map(cStringLiteral) + ["NULL"]).joined(separator: ", ")
        o.line("/* Parameters (positional or keyword), then symbols (keyword-only). */")
        o.line("static const char *const argnames[] = {\(nameList)};")
        o.line("PyObject *argv[\(max(nArgs, 1))] = {NULL};")
        o.line("PyObject *result = NULL;")
        o.line("int status = 0;")
        for a in plan.arrays {
            o.line("Py_buffer \(a.view);  /* \(a.name) */")
            o.line("int \(a.held) = 0;")
            o.line("uintptr_t \(a.span)[2] = {0, 0};  /* memory of the caller's \(a.name), for overlap checks */")
        }
        for s in plan.scalars {
            o.line("\(s.dtype.cType) \(s.variable) = 0;  /* \(s.name) */")
        }
        for s in plan.symbols {
            o.line("int64_t \(s.variable) = 0;  /* symbol \(s.name) */")
            o.line("const char *\(s.source) = NULL;  /* where its value came from */")
            o.line("(void)\(s.source);")
            o.line("int \(s.known) = 0;")
        }
        for r in plan.results {
            switch r.kind {
            case .array:
                o.line("PyObject *\(r.object) = NULL;")
                o.line("Py_buffer \(r.view);")
                o.line("int \(r.held) = 0;")
            case .scalar(let d):
                o.line("PyObject *\(r.object) = NULL;")
                o.line("\(d.cType) \(r.value) = 0;")
            case .dynamic(let d, let rank):
                o.line("PyObject *\(r.object) = NULL;")
                o.line("Py_buffer \(r.view);")
                o.line("int \(r.held) = 0;")
                o.line("\(d.cType) *\(r.value) = NULL;  /* storage the native call hands over; freed here */")
                o.line("int64_t \(r.shape)[\(max(rank, 1))] = {0};")
            }
        }
        if needsProgressFlag { o.line("int progress;") }
        o.line("(void)self;")
        o.line()
    }

    mutating func emitArgumentCollection() {
        o.line("/* Match positional and keyword arguments to names. */")
        o.line("if (_braid_py_collect_args(fname, args, kwargs, argnames, \(fn.params.count), "
            + "\(plan.argumentNames.count), argv) < 0) goto done;")
        for (i, p) in fn.params.enumerated() {
            if let d = plan.defaults.firstIndex(where: { $0.slot == i }) {
                o.line("if (argv[\(i)] == NULL) { Py_INCREF(_braid_py_defaults[\(plan.defaultBase + d)]); "
                    + "argv[\(i)] = _braid_py_defaults[\(plan.defaultBase + d)]; }  /* \(p.pythonName)=\(commentSafe(fn.defaults[p.pythonName] ?? "")) */")
            } else {
                o.line("if (argv[\(i)] == NULL) { _braid_py_missing(fname, \(cStringLiteral(p.pythonName))); goto done; }")
            }
        }
        o.line()
    }

    mutating func emitParameterConversion() {
        for ref in plan.order {
            switch ref {
            case .array(let i):
                let a = plan.arrays[i]
                let dims = pythonTuple(a.shape.map(\.description))
                o.line("/* \(a.name): \(a.dtype.rawValue)\(dims == "()" ? "[]" : "[" + a.shape.map(\.description).joined(separator: ", ") + "]")"
                    + "\(a.writable ? ", written in place" : "") */")
                if a.writable {
                    o.line("if (_braid_py_get_array(argv[\(a.slot)], &\(a.view), fname, \(cStringLiteral(a.name)), "
                        + "&\(a.dtype.descriptorName), \(a.shape.count), 1, \(a.span)) < 0) goto done;")
                } else {
                    // Read only: any layout (and lists) work, through a C-contiguous copy.
                    o.line("if (_braid_py_get_input(&argv[\(a.slot)], &\(a.view), fname, \(cStringLiteral(a.name)), "
                        + "&\(a.dtype.descriptorName), \(a.shape.count), \(a.span)) < 0) goto done;")
                }
                o.line("\(a.held) = 1;")
            case .scalar(let i):
                emitScalarConversion(plan.scalars[i])
            }
        }
        if !plan.order.isEmpty { o.line() }
    }

    mutating func emitScalarConversion(_ s: FunctionPlan.ScalarParam) {
        let arg = "argv[\(s.slot)]"
        let name = cStringLiteral(s.name)
        o.line("/* \(s.name): \(s.dtype.rawValue) */")
        switch s.dtype {
        case .float64:
            o.line("if (_braid_py_to_double(\(arg), fname, \(name), &\(s.variable)) < 0) goto done;")
        case .float32:
            o.block("") { o in
                o.line("double value = 0.0;")
                o.line("if (_braid_py_to_double(\(arg), fname, \(name), &value) < 0) goto done;")
                o.line("\(s.variable) = (float)value;")
            }
        case .bool:
            o.block("") { o in
                o.line("int value = PyObject_IsTrue(\(arg));")
                o.line("if (value < 0) goto done;")
                o.line("\(s.variable) = value != 0;")
            }
        case .int8, .int16, .int32, .int64:
            let bits = s.dtype.itemSize * 8
            o.block("") { o in
                o.line("int64_t value = 0;")
                o.line("if (_braid_py_to_int64(\(arg), fname, \(name), \"\(s.dtype.rawValue)\", "
                    + "INT\(bits)_MIN, INT\(bits)_MAX, &value) < 0) goto done;")
                o.line("\(s.variable) = (\(s.dtype.cType))value;")
            }
        case .uint8, .uint16, .uint32, .uint64:
            let bits = s.dtype.itemSize * 8
            o.block("") { o in
                o.line("uint64_t value = 0;")
                o.line("if (_braid_py_to_uint64(\(arg), fname, \(name), \"\(s.dtype.rawValue)\", "
                    + "UINT\(bits)_MAX, &value) < 0) goto done;")
                o.line("\(s.variable) = (\(s.dtype.cType))value;")
            }
        case .complex64, .complex128:
            o.block("") { o in
                o.line("double re = 0.0, im = 0.0;")
                o.line("if (_braid_py_to_complex(\(arg), fname, \(name), &re, &im) < 0) goto done;")
                o.line(s.dtype == .complex128 ? "\(s.variable) = _braid_py_make_complex128(re, im);"
                                              : "\(s.variable) = _braid_py_make_complex64((float)re, (float)im);")
            }
        }
    }

    /// A symbol's binding from a dimension of an array parameter.
    struct DimBinding {
        var symbol: String
        var array: Int
        var dim: Int
        var coefficient: Int
        var rest: SymExpr
    }

    /// First plain `S` dimension for each symbol not bound by an integer parameter.
    var directBindings: [DimBinding] {
        var out: [DimBinding] = []
        var bound = Set(plan.symbols.filter { $0.scalarParam != nil }.map(\.name))
        for (ai, a) in plan.arrays.enumerated() {
            for (di, d) in a.shape.enumerated() {
                if case .sym(let s) = d, !bound.contains(s) {
                    bound.insert(s)
                    out.append(DimBinding(symbol: s, array: ai, dim: di, coefficient: 1, rest: .zero))
                }
            }
        }
        return out
    }

    /// Bindings from dimensions like `S + 1` or `2*S` for symbols that no parameter or plain
    /// dimension always binds.
    var linearBindings: [DimBinding] {
        let always = Set(plan.symbols.filter { $0.scalarParam != nil }.map(\.name) + directBindings.map(\.symbol))
        var out: [DimBinding] = []
        for (ai, a) in plan.arrays.enumerated() {
            for (di, d) in a.shape.enumerated() {
                if case .sym = d { continue }
                for s in d.freeSymbols where !always.contains(s) {
                    guard let (c, rest) = d.linear(in: s), c != 0 else { continue }
                    out.append(DimBinding(symbol: s, array: ai, dim: di, coefficient: c, rest: rest))
                }
            }
        }
        return out
    }

    /// A fixed-point loop is needed when a binding depends on another symbol's value.
    var needsProgressFlag: Bool {
        linearBindings.contains { !$0.rest.freeSymbols.isEmpty }
    }

    mutating func emitSymbolBinding() {
        guard !plan.symbols.isEmpty else { return }
        o.line("/* Bind symbols: keywords first, then integer parameters of the same name, then")
        o.line("   array dimensions; each is checked against every shape below. */")
        for s in plan.symbols {
            guard let slot = s.slot else { continue }
            if let si = s.scalarParam {
                let p = plan.scalars[si]
                o.line("if (!\(s.known)) \(s.source) = \(cStringLiteral("argument '\(p.name)'"));")
                if p.dtype == .uint64 {
                    o.line("if (_braid_py_bind_symbol_u64(fname, \(cStringLiteral(s.name)), \(p.variable), "
                        + "&\(s.variable), &\(s.known)) < 0) goto done;")
                } else {
                    o.line("if (_braid_py_bind_symbol(fname, \(cStringLiteral(s.name)), (int64_t)\(p.variable), "
                        + "&\(s.variable), &\(s.known)) < 0) goto done;")
                }
            } else {
                o.block("if (argv[\(slot)] != NULL)") { o in
                    o.line("int64_t value = 0;")
                    o.line("if (!\(s.known)) \(s.source) = \(cStringLiteral("the keyword argument \(s.name)"));")
                    o.line("if (_braid_py_to_int64(argv[\(slot)], fname, \(cStringLiteral(s.name)), \"int64\", "
                        + "INT64_MIN, INT64_MAX, &value) < 0) goto done;")
                    o.line("if (_braid_py_bind_symbol(fname, \(cStringLiteral(s.name)), value, "
                        + "&\(s.variable), &\(s.known)) < 0) goto done;")
                }
            }
        }
        for b in directBindings {
            guard let s = plan.symbol(named: b.symbol) else { continue }
            let a = plan.arrays[b.array]
            o.line("if (!\(s.known)) { \(s.variable) = (int64_t)\(a.view).shape[\(b.dim)]; \(s.known) = 1; "
                + "\(s.source) = \(cStringLiteral("the shape of '\(a.name)'")); }")
        }
        let linear = linearBindings
        if !linear.isEmpty {
            let loop = needsProgressFlag
            if loop {
                o.line("do {  /* repeat: one inferred symbol may let another be inferred */")
                o.indent += 1
                o.line("progress = 0;")
            }
            for b in linear {
                guard let s = plan.symbol(named: b.symbol) else { continue }
                let a = plan.arrays[b.array]
                var condition = "!\(s.known)"
                for dep in b.rest.freeSymbols {
                    if let ds = plan.symbol(named: dep) { condition += " && \(ds.known)" }
                }
                let dimExpr = "(int64_t)\(a.view).shape[\(b.dim)]"
                let minusRest = b.rest == .zero ? dimExpr : "\(dimExpr) - (\(plan.c(b.rest)))"
                let value = b.coefficient == 1 ? minusRest : "_braid_py_floordiv(\(minusRest), \(b.coefficient))"
                o.block("if (\(condition))") { o in
                    o.line("/* \(a.name).shape[\(b.dim)] is \(a.shape[b.dim].description) */")
                    o.line("\(s.variable) = \(value);")
                    o.line("\(s.known) = 1;")
                    o.line("\(s.source) = \(cStringLiteral("the shape of '\(a.name)'"));")
                    if loop { o.line("progress = 1;") }
                }
            }
            if loop {
                o.indent -= 1
                o.line("} while (progress);")
            }
        }
        for s in plan.symbols {
            o.line("if (_braid_py_check_symbol(fname, \(cStringLiteral(s.name)), \(s.known), \(s.variable)) < 0) goto done;")
        }
        o.line()
    }

    mutating func emitShapeChecks() {
        let checked = plan.arrays.filter { !$0.shape.isEmpty }
        if !checked.isEmpty {
            o.line("/* Every dimension must equal its declared size. */")
        }
        for a in checked {
            let text = pythonTuple(a.shape.map(\.description))
            let allConstant = a.shape.allSatisfy { $0.constant != nil }
            let used = plan.symbols.filter { s in a.shape.contains { $0.freeSymbols.contains(s.name) } }
            o.block("") { o in
                o.line("const int64_t want[\(a.shape.count)] = {\(a.shape.map(plan.c).joined(separator: ", "))};")
                let call = "_braid_py_check_shape(fname, \(cStringLiteral(a.name)), &\(a.view), want, "
                    + "\(allConstant ? "NULL" : cStringLiteral(text))) < 0"
                if used.isEmpty {
                    o.line("if (\(call)) goto done;")
                } else {
                    // Say where each symbol's value came from: often the other argument is the wrong one.
                    o.block("if (\(call))") { o in
                        o.line("const char *const names[\(used.count)] = {\(used.map { cStringLiteral($0.name) }.joined(separator: ", "))};")
                        o.line("const int64_t values[\(used.count)] = {\(used.map(\.variable).joined(separator: ", "))};")
                        o.line("const char *const sources[\(used.count)] = {\(used.map(\.source).joined(separator: ", "))};")
                        o.line("_braid_py_explain_symbols(\(used.count), names, values, sources);")
                        o.line("goto done;")
                    }
                }
            }
        }
        for s in fn.shapeAssertions {
            o.line("if ((\(plan.c(s.lhs))) != (\(plan.c(s.rhs)))) {  /* \(commentSafe(s.lhs.description)) == \(commentSafe(s.rhs.description)) */")
            o.indent += 1
            o.line("PyErr_SetString(PyExc_ValueError, \(cStringLiteral(s.message)));")
            o.line("goto done;")
            o.indent -= 1
            o.line("}")
        }
        if !checked.isEmpty || !fn.shapeAssertions.isEmpty { o.line() }
    }

    /// The native code takes `restrict` pointers: an array written in place must not share
    /// memory with any other array argument.
    mutating func emitOverlapChecks() {
        var pairs: [(FunctionPlan.ArrayParam, FunctionPlan.ArrayParam)] = []
        for i in plan.arrays.indices {
            for j in plan.arrays.indices where j > i {
                let a = plan.arrays[i], b = plan.arrays[j]
                if a.writable || b.writable { pairs.append((a, b)) }
            }
        }
        guard !pairs.isEmpty else { return }
        o.line("/* Arrays written in place must not share memory with other array arguments. */")
        for (a, b) in pairs {
            o.line("if (_braid_py_check_overlap(fname, \(cStringLiteral(a.name)), \(a.span), "
                + "\(cStringLiteral(b.name)), \(b.span)) < 0) goto done;")
        }
        o.line()
    }

    mutating func emitResultAllocation() {
        let arrays = plan.results.filter { if case .array = $0.kind { return true } else { return false } }
        guard !arrays.isEmpty else { return }
        o.line("/* Allocate array results (new NumPy arrays) before the native call. */")
        for (k, r) in plan.results.enumerated() {
            guard case .array(let d, let shape) = r.kind else { continue }
            let dims = shape.isEmpty ? "0" : shape.map(plan.c).joined(separator: ", ")
            let text = pythonTuple(shape.map(\.description))
            o.block("") { o in
                o.line("const int64_t dims[\(max(shape.count, 1))] = {\(dims)};  /* \(text) */")
                o.line("if (_braid_py_new_array(fname, \(k), \(shape.count), dims, &\(d.descriptorName), "
                    + "\(cStringLiteral(text)), NULL, &\(r.object), &\(r.view)) < 0) goto done;")
                o.line("\(r.held) = 1;")
            }
        }
        o.line()
    }

    mutating func emitNativeCall() {
        var args: [String] = []
        for s in plan.symbols where s.passedToNative { args.append(s.variable) }
        for ref in plan.order {
            switch ref {
            case .array(let i):
                let a = plan.arrays[i]
                args.append("(\(a.dtype.cType) *)\(a.view).buf")
            case .scalar(let i): args.append(plan.scalars[i].variable)
            }
        }
        for r in plan.results {
            switch r.kind {
            case .array(let d, _): args.append("(\(d.cType) *)\(r.view).buf")
            case .scalar: args.append("&\(r.value)")
            case .dynamic: args += ["&\(r.value)", r.shape]
            }
        }
        o.line("/* Native call, without the GIL. */")
        o.line("Py_BEGIN_ALLOW_THREADS")
        if args.isEmpty {
            o.line("status = \(nativePointer)();")
        } else {
            o.line("status = \(nativePointer)(")
            o.indent += 1
            for (i, a) in args.enumerated() { o.line(a + (i == args.count - 1 ? ");" : ",")) }
            o.indent -= 1
        }
        o.line("Py_END_ALLOW_THREADS")
        o.block("if (status != 0)") { o in
            o.line("_braid_py_raise_native(fname, status, \(hasErrorMessages ? "braid_error_message(status)" : "NULL"));")
            o.line("goto done;")
        }
        o.line()
    }

    mutating func emitResultConversion() {
        o.line("/* Results. */")
        for (k, r) in plan.results.enumerated() {
            guard case .dynamic(let d, let rank) = r.kind else { continue }
            // The size is known only now: a large result becomes the storage of the NumPy
            // array of the reported shape; a small one is copied into a new array.
            o.block("") { o in
                o.line("void *_braid_py_storage = (void *)\(r.value);")
                o.line("const int _braid_py_had_storage = _braid_py_storage != NULL;")
                o.line("\(r.value) = NULL;")
                o.block("if (_braid_py_new_array(fname, \(k), \(rank), \(r.shape), &\(d.descriptorName), "
                    + "\(cStringLiteral("(shape reported by the native code)")), &_braid_py_storage, &\(r.object), &\(r.view)) < 0)") { o in
                    o.line("braid_pool_free(_braid_py_storage);")
                    o.line("goto done;")
                }
                o.line("\(r.held) = 1;")
                o.block("if (\(r.view).len > 0 && !_braid_py_had_storage)") { o in
                    o.line("PyErr_Format(PyExc_RuntimeError, \"%s(): result \(k) has no storage (internal error)\", fname);")
                    o.line("goto done;")
                }
                o.block("if (_braid_py_storage != NULL)") { o in
                    o.line("if (\(r.view).len > 0) memcpy(\(r.view).buf, _braid_py_storage, (size_t)\(r.view).len);")
                    o.line("braid_pool_free(_braid_py_storage);")
                }
            }
        }
        for r in plan.results {
            guard case .scalar(let d) = r.kind else { continue }
            let conversion: String
            switch d {
            case .bool: conversion = "PyBool_FromLong(\(r.value) ? 1 : 0)"
            case .float32, .float64: conversion = "PyFloat_FromDouble((double)\(r.value))"
            case .int8, .int16, .int32, .int64: conversion = "PyLong_FromLongLong((long long)\(r.value))"
            case .uint8, .uint16, .uint32, .uint64: conversion = "PyLong_FromUnsignedLongLong((unsigned long long)\(r.value))"
            case .complex64: conversion = "_braid_py_complex64_to_python(\(r.value))"
            case .complex128: conversion = "_braid_py_complex128_to_python(\(r.value))"
            }
            // NumPy returns NumPy scalars (np.float64, np.int32, np.bool_, ...), not Python
            // numbers: the Python value goes through the NumPy scalar type of the same dtype.
            let slot = DType.allCases.firstIndex(of: d)!
            let numpyName = d == .bool ? "bool_" : d.rawValue
            o.line("\(r.object) = _braid_py_numpy_scalar(\(conversion), \(slot), \"\(numpyName)\");")
            o.line("if (\(r.object) == NULL) goto done;")
        }
        switch fn.returnsTuple ? -1 : plan.results.count {
        case 0:
            o.line("Py_INCREF(Py_None);")
            o.line("result = Py_None;")
        case 1:
            o.line("result = \(plan.results[0].object);")
            o.line("\(plan.results[0].object) = NULL;")
        default:
            o.line("result = PyTuple_New(\(plan.results.count));")
            o.line("if (result == NULL) goto done;")
            for (k, r) in plan.results.enumerated() {
                o.line("PyTuple_SetItem(result, \(k), \(r.object));  /* steals the reference */")
                o.line("\(r.object) = NULL;")
            }
        }
        o.line()
    }

    mutating func emitCleanup() {
        o.indent -= 1
        o.line("done:")
        o.indent += 1
        o.line("/* Every path releases every buffer and reference it holds. */")
        for a in plan.arrays { o.line("if (\(a.held)) PyBuffer_Release(&\(a.view));") }
        for r in plan.results {
            switch r.kind {
            case .array: o.line("if (\(r.held)) PyBuffer_Release(&\(r.view));")
            case .dynamic:
                o.line("if (\(r.held)) PyBuffer_Release(&\(r.view));")
                o.line("braid_pool_free(\(r.value));")
            case .scalar: break
            }
            o.line("Py_XDECREF(\(r.object));")
        }
        o.line("_braid_py_release_args(argv, \(max(plan.argumentNames.count, 1)));")
        o.line("return result;")
    }

    func commentSafe(_ s: String) -> String { s.replacingAll("*/", with: "* /") }
}

// MARK: - Static C helpers

/// Helpers emitted once per module, before the wrappers.
private let helperPrelude = #"""
#ifndef PY_SSIZE_T_CLEAN
#define PY_SSIZE_T_CLEAN
#endif
#ifndef Py_LIMITED_API
#define Py_LIMITED_API 0x030B0000
#endif
#include <Python.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
/* BRAID_MEMORY_POOL */

#if defined(__GNUC__) || defined(__clang__)
#define _BRAID_PY_UNUSED __attribute__((unused))
#else
#define _BRAID_PY_UNUSED
#endif

/* Python's //, %, min and max on int64 (for symbolic shapes). A zero divisor yields 0
   here; the shape checks then report the mismatch instead of crashing. */
static inline _BRAID_PY_UNUSED int64_t _braid_py_floordiv(int64_t a, int64_t b)
{
    int64_t q;
    if (b == 0) return 0;
    q = a / b;
    if (a % b != 0 && ((a < 0) != (b < 0))) q -= 1;
    return q;
}

static inline _BRAID_PY_UNUSED int64_t _braid_py_mod(int64_t a, int64_t b)
{
    int64_t r;
    if (b == 0) return 0;
    r = a % b;
    if (r != 0 && ((r < 0) != (b < 0))) r += b;
    return r;
}

static inline _BRAID_PY_UNUSED int64_t _braid_py_min(int64_t a, int64_t b) { return a < b ? a : b; }
static inline _BRAID_PY_UNUSED int64_t _braid_py_max(int64_t a, int64_t b) { return a > b ? a : b; }

/* An element type: NumPy name, accepted buffer format characters, size, alignment. */
typedef struct {
    const char *name;
    const char *formats[3];
    Py_ssize_t itemsize;
    Py_ssize_t alignment;
} _braid_py_dtype;

/* Sets TypeError "<fn>(): argument '<arg>' must be <what>, got <type of obj>"; returns -1. */
static _BRAID_PY_UNUSED int
_braid_py_type_error(const char *fn, const char *arg, const char *what, PyObject *obj)
{
    PyObject *type_name = PyType_GetName(Py_TYPE(obj));
    if (type_name == NULL) return -1;
    PyErr_Format(PyExc_TypeError, "%s(): argument '%s' must be %s, got %U", fn, arg, what, type_name);
    Py_DECREF(type_name);
    return -1;
}

/* Sets TypeError "<fn>() missing required argument '<arg>'"; returns -1. */
static _BRAID_PY_UNUSED int
_braid_py_missing(const char *fn, const char *arg)
{
    PyErr_Format(PyExc_TypeError, "%s() missing required argument '%s'", fn, arg);
    return -1;
}

/* Matches the call's arguments to names[0..nnames): the first npos may be positional, all may
   be keywords. On return slots[i] holds a new reference to the value given for names[i], or
   NULL. Returns -1 with TypeError for extra positionals, unknown or repeated keywords. */
static _BRAID_PY_UNUSED int
_braid_py_collect_args(const char *fn, PyObject *args, PyObject *kwargs, const char *const *names,
                       Py_ssize_t npos, Py_ssize_t nnames, PyObject **slots)
{
    Py_ssize_t nargs = args != NULL ? PyTuple_Size(args) : 0;
    Py_ssize_t i;
    if (nargs < 0) return -1;
    if (nargs > npos) {
        PyErr_Format(PyExc_TypeError, "%s() takes %zd positional argument%s but %zd %s given",
                     fn, npos, npos == 1 ? "" : "s", nargs, nargs == 1 ? "was" : "were");
        return -1;
    }
    for (i = 0; i < nargs; i++) {
        PyObject *item = PyTuple_GetItem(args, i);
        if (item == NULL) return -1;
        Py_INCREF(item);
        slots[i] = item;
    }
    if (kwargs != NULL) {
        Py_ssize_t pos = 0;
        PyObject *key, *value;
        while (PyDict_Next(kwargs, &pos, &key, &value)) {
            const char *key_text;
            Py_ssize_t j;
            if (!PyUnicode_Check(key)) {
                PyErr_Format(PyExc_TypeError, "%s() keywords must be strings", fn);
                return -1;
            }
            key_text = PyUnicode_AsUTF8AndSize(key, NULL);
            if (key_text == NULL) return -1;
            for (j = 0; j < nnames; j++) {
                if (strcmp(key_text, names[j]) == 0) break;
            }
            if (j == nnames) {
                PyErr_Format(PyExc_TypeError, "%s() got an unexpected keyword argument '%U'", fn, key);
                return -1;
            }
            if (slots[j] != NULL) {
                PyErr_Format(PyExc_TypeError, "%s() got multiple values for argument '%s'", fn, names[j]);
                return -1;
            }
            Py_INCREF(value);
            slots[j] = value;
        }
    }
    return 0;
}

static _BRAID_PY_UNUSED void
_braid_py_release_args(PyObject **slots, Py_ssize_t n)
{
    Py_ssize_t i;
    for (i = 0; i < n; i++) Py_XDECREF(slots[i]);
}

/* Writes a NumPy-style name for a buffer format into out (e.g. "int32", "float64"). */
static _BRAID_PY_UNUSED void
_braid_py_describe_format(const char *fmt, Py_ssize_t itemsize, int nonnative, char *out, size_t size)
{
    const char *name = NULL;
    char sized[32];
    int bits = (int)(itemsize * 8);
    if (fmt[0] != '\0' && fmt[1] == '\0') {
        switch (fmt[0]) {
        case '?': name = "bool"; break;
        case 'b': case 'h': case 'i': case 'l': case 'q': case 'n':
            snprintf(sized, sizeof sized, "int%d", bits); name = sized; break;
        case 'B': case 'H': case 'I': case 'L': case 'Q': case 'N':
            snprintf(sized, sizeof sized, "uint%d", bits); name = sized; break;
        case 'e': case 'f': case 'd':
            snprintf(sized, sizeof sized, "float%d", bits); name = sized; break;
        case 'g': name = "longdouble"; break;
        case 'O': name = "object"; break;
        default: break;
        }
    } else if (fmt[0] == 'Z' && fmt[1] != '\0' && fmt[2] == '\0') {
        switch (fmt[1]) {
        case 'e': case 'f': case 'd':
            snprintf(sized, sizeof sized, "complex%d", bits); name = sized; break;
        case 'g': name = "clongdouble"; break;
        default: break;
        }
    }
    if (name != NULL) {
        snprintf(out, size, "%s%s", nonnative ? "non-native byte order " : "", name);
    } else {
        snprintf(out, size, "buffer format '%s'", fmt);
    }
}

/* Writes "(3, 4)", "(3,)" or "()" into out. */
static _BRAID_PY_UNUSED void
_braid_py_format_shape(char *out, size_t size, int ndim, const int64_t *dims)
{
    size_t used = 0;
    int i;
    if (size == 0) return;
    out[0] = '\0';
    used += (size_t)snprintf(out, size, "(");
    for (i = 0; i < ndim && used < size; i++) {
        used += (size_t)snprintf(out + used, size - used, "%s%lld", i > 0 ? ", " : "", (long long)dims[i]);
    }
    if (used < size) snprintf(out + used, size - used, ndim == 1 ? ",)" : ")");
}

/* Whether a buffer is C-contiguous (any zero-size dimension counts as contiguous). */
static _BRAID_PY_UNUSED int
_braid_py_is_c_contiguous(const Py_buffer *view)
{
    Py_ssize_t expected = view->itemsize;
    int i;
    if (view->strides == NULL) return 1;
    for (i = 0; i < view->ndim; i++) {
        if (view->shape[i] == 0) return 1;
    }
    for (i = view->ndim - 1; i >= 0; i--) {
        if (view->shape[i] != 1 && view->strides[i] != expected) return 0;
        expected *= view->shape[i];
    }
    return 1;
}

/* The memory range [span[0], span[1]) a buffer's elements occupy (empty for no elements). */
static _BRAID_PY_UNUSED void
_braid_py_buffer_span(const Py_buffer *view, uintptr_t span[2])
{
    uintptr_t lo = (uintptr_t)view->buf, hi;
    Py_ssize_t low = 0, high = 0;
    int k;
    span[0] = span[1] = 0;
    for (k = 0; k < view->ndim; k++) {
        Py_ssize_t extent;
        if (view->shape[k] == 0) return;
        extent = (view->shape[k] - 1) * (view->strides != NULL ? view->strides[k] : 0);
        if (extent < 0) low += extent; else high += extent;
    }
    if (view->strides == NULL) high = view->len - view->itemsize;
    hi = lo + (uintptr_t)high + (uintptr_t)view->itemsize;
    span[0] = lo - (uintptr_t)(-low);
    span[1] = hi;
}

/* Gets a C-contiguous, aligned buffer of dtype `dt` and `ndim` dimensions from `obj`
   (writable when `writable`). Returns 0 with `view` held (release it with PyBuffer_Release)
   and `span` set to its memory range, or -1 with an exception set and nothing held. With
   `copy_ok`, an argument that is not a buffer, not C-contiguous or not aligned (but has the
   right dtype and rank) returns 1 instead, with nothing held, no exception, and `span` set to
   the caller's memory (empty for a non-buffer): a C-contiguous copy of it would do. */
static _BRAID_PY_UNUSED int
_braid_py_get_buffer(PyObject *obj, Py_buffer *view, const char *fn, const char *arg,
                     const _braid_py_dtype *dt, int ndim, int writable, int copy_ok, uintptr_t span[2])
{
    int flags = PyBUF_ND | PyBUF_STRIDES | PyBUF_FORMAT;
    const char *fmt;
    char order = '@';
    int nonnative, match = 0, k;
    span[0] = span[1] = 0;
    if (copy_ok && !PyObject_CheckBuffer(obj) && (PyList_Check(obj) || PyTuple_Check(obj))) return 1;
    if (!PyObject_CheckBuffer(obj)) {
        char what[64];
        snprintf(what, sizeof what, "a %s array", dt->name);
        return _braid_py_type_error(fn, arg, what, obj);
    }
    if (PyObject_GetBuffer(obj, view, flags | (writable ? PyBUF_WRITABLE : 0)) < 0) {
        if (writable) {
            /* Exporters report read-only data as BufferError (bytes) or ValueError (NumPy):
               ask again without write access to tell that case apart. */
            PyErr_Clear();
            if (PyObject_GetBuffer(obj, view, flags) == 0) {
                PyBuffer_Release(view);
                PyErr_Format(PyExc_ValueError,
                             "%s(): argument '%s' must be a writable array, but it is read-only "
                             "(pass a writable copy, e.g. %s.copy())", fn, arg, arg);
                return -1;
            }
        }
        if (PyErr_ExceptionMatches(PyExc_BufferError)) {
            PyErr_Clear();
            PyErr_Format(PyExc_ValueError, "%s(): argument '%s' cannot be used as a %s array",
                         fn, arg, dt->name);
        }
        return -1;
    }
    /* Element type. */
    fmt = view->format != NULL ? view->format : "B";
    if (fmt[0] == '@' || fmt[0] == '=' || fmt[0] == '<' || fmt[0] == '>' || fmt[0] == '!') {
        order = fmt[0];
        fmt++;
    }
#if PY_BIG_ENDIAN
    nonnative = order == '<';
#else
    nonnative = order == '>' || order == '!';
#endif
    if (!nonnative && view->itemsize == dt->itemsize) {
        for (k = 0; k < 3 && dt->formats[k] != NULL; k++) {
            if (strcmp(fmt, dt->formats[k]) == 0) match = 1;
        }
    }
    if (!match) {
        char got[96];
        _braid_py_describe_format(fmt, view->itemsize, nonnative, got, sizeof got);
        PyBuffer_Release(view);
        PyErr_Format(PyExc_TypeError, "%s(): argument '%s' must be %s, got %s", fn, arg, dt->name, got);
        return -1;
    }
    /* Rank, layout, alignment. */
    if (view->ndim != ndim) {
        int got = view->ndim;
        PyBuffer_Release(view);
        PyErr_Format(PyExc_ValueError, "%s(): argument '%s' must be %d-dimensional, got %d-dimensional",
                     fn, arg, ndim, got);
        return -1;
    }
    _braid_py_buffer_span(view, span);
    if (!_braid_py_is_c_contiguous(view)) {
        PyBuffer_Release(view);
        if (copy_ok) return 1;
        PyErr_Format(PyExc_ValueError,
                     "%s(): argument '%s' must be C-contiguous, since the function writes it in place; "
                     "pass a C-contiguous array (np.ascontiguousarray(%s)) and use it afterwards", fn, arg, arg);
        return -1;
    }
    if (dt->alignment > 1 && ((uintptr_t)view->buf % (uintptr_t)dt->alignment) != 0) {
        PyBuffer_Release(view);
        if (copy_ok) return 1;
        PyErr_Format(PyExc_ValueError,
                     "%s(): argument '%s' is not aligned in memory; pass an aligned copy (%s.copy())",
                     fn, arg, arg);
        return -1;
    }
    return 0;
}

/* An argument the compiled code writes in place: it must already be a C-contiguous, aligned,
   writable array of the right dtype and rank (the caller sees the writes). */
static _BRAID_PY_UNUSED int
_braid_py_get_array(PyObject *obj, Py_buffer *view, const char *fn, const char *arg,
                    const _braid_py_dtype *dt, int ndim, int writable, uintptr_t span[2])
{
    return _braid_py_get_buffer(obj, view, fn, arg, dt, ndim, writable, 0, span);
}

/* numpy.array and the keywords (order="C") of a C-contiguous copy, looked up on first use. */
static PyObject *_braid_py_numpy_array = NULL;
static PyObject *_braid_py_order_c = NULL;

/* An argument the compiled code only reads. NumPy functions take any layout and lists, so a
   strided, Fortran-ordered or misaligned array of the right dtype and rank, or a list or tuple,
   is copied into a new C-contiguous array (`*slot` then holds the copy); the values read are the
   same. `span` keeps the caller's memory range, so overlap checks against written arguments
   still see the original. Returns 0 with `view` held, or -1 with an exception set. */
static _BRAID_PY_UNUSED int
_braid_py_get_input(PyObject **slot, Py_buffer *view, const char *fn, const char *arg,
                    const _braid_py_dtype *dt, int ndim, uintptr_t span[2])
{
    PyObject *args, *copy;
    uintptr_t caller[2], ignored[2];
    int r = _braid_py_get_buffer(*slot, view, fn, arg, dt, ndim, 0, 1, caller);
    if (r <= 0) {
        span[0] = caller[0];
        span[1] = caller[1];
        return r;
    }
    if (_braid_py_numpy_array == NULL) {
        PyObject *numpy = PyImport_ImportModule("numpy");
        if (numpy == NULL) return -1;
        _braid_py_numpy_array = PyObject_GetAttrString(numpy, "array");
        Py_DECREF(numpy);
        if (_braid_py_numpy_array == NULL) return -1;
    }
    if (_braid_py_order_c == NULL) {
        _braid_py_order_c = Py_BuildValue("{s:s}", "order", "C");
        if (_braid_py_order_c == NULL) return -1;
    }
    args = PyTuple_Pack(1, *slot);
    if (args == NULL) return -1;
    copy = PyObject_Call(_braid_py_numpy_array, args, _braid_py_order_c);
    Py_DECREF(args);
    if (copy == NULL) return -1;
    Py_DECREF(*slot);
    *slot = copy;
    r = _braid_py_get_buffer(*slot, view, fn, arg, dt, ndim, 0, 0, ignored);
    span[0] = caller[0];
    span[1] = caller[1];
    return r;
}

/* Converts a real number (int, float, NumPy scalar; not complex) to double. */
static _BRAID_PY_UNUSED int
_braid_py_to_double(PyObject *obj, const char *fn, const char *arg, double *out)
{
    double value;
    if (PyComplex_Check(obj)) return _braid_py_type_error(fn, arg, "a real number", obj);
    value = PyFloat_AsDouble(obj);
    if (value == -1.0 && PyErr_Occurred()) {
        if (PyErr_ExceptionMatches(PyExc_TypeError)) {
            PyErr_Clear();
            return _braid_py_type_error(fn, arg, "a real number", obj);
        }
        return -1;
    }
    *out = value;
    return 0;
}

/* Converts an integer (anything with __index__: int, bool, NumPy integers; not float) to
   int64 in [lo, hi]; OverflowError outside that range. */
static _BRAID_PY_UNUSED int
_braid_py_to_int64(PyObject *obj, const char *fn, const char *arg, const char *dtype,
                   int64_t lo, int64_t hi, int64_t *out)
{
    PyObject *index;
    long long value;
    int overflow = 0;
    if (!PyIndex_Check(obj)) return _braid_py_type_error(fn, arg, "an integer", obj);
    index = PyNumber_Index(obj);
    if (index == NULL) return -1;
    value = PyLong_AsLongLongAndOverflow(index, &overflow);
    Py_DECREF(index);
    if (value == -1 && PyErr_Occurred()) return -1;
    if (overflow != 0 || value < lo || value > hi) {
        PyErr_Format(PyExc_OverflowError, "%s(): argument '%s' is out of range for %s", fn, arg, dtype);
        return -1;
    }
    *out = (int64_t)value;
    return 0;
}

/* Converts a non-negative integer to uint64 in [0, hi]; OverflowError outside that range. */
static _BRAID_PY_UNUSED int
_braid_py_to_uint64(PyObject *obj, const char *fn, const char *arg, const char *dtype,
                    uint64_t hi, uint64_t *out)
{
    PyObject *index;
    unsigned long long value;
    int in_range;
    if (!PyIndex_Check(obj)) return _braid_py_type_error(fn, arg, "an integer", obj);
    index = PyNumber_Index(obj);
    if (index == NULL) return -1;
    value = PyLong_AsUnsignedLongLong(index);
    Py_DECREF(index);
    if (value == (unsigned long long)-1 && PyErr_Occurred()) {
        if (!PyErr_ExceptionMatches(PyExc_OverflowError)) return -1;
        PyErr_Clear();  /* negative or too large */
        in_range = 0;
    } else {
        in_range = value <= hi;
    }
    if (!in_range) {
        PyErr_Format(PyExc_OverflowError, "%s(): argument '%s' is out of range for %s", fn, arg, dtype);
        return -1;
    }
    *out = (uint64_t)value;
    return 0;
}

/* Converts a complex or real number (Python or NumPy) to its parts. */
static _BRAID_PY_UNUSED int
_braid_py_to_complex(PyObject *obj, const char *fn, const char *arg, double *re, double *im)
{
    PyObject *z;
    if (PyUnicode_Check(obj) || PyBytes_Check(obj) || PyByteArray_Check(obj)) {
        return _braid_py_type_error(fn, arg, "a complex number", obj);
    }
    if (PyComplex_Check(obj)) {
        Py_INCREF(obj);
        z = obj;
    } else {
        z = PyObject_CallFunctionObjArgs((PyObject *)&PyComplex_Type, obj, NULL);
        if (z == NULL) {
            if (PyErr_ExceptionMatches(PyExc_TypeError)) {
                PyErr_Clear();
                return _braid_py_type_error(fn, arg, "a complex number", obj);
            }
            return -1;
        }
    }
    *re = PyComplex_RealAsDouble(z);
    *im = PyComplex_ImagAsDouble(z);
    Py_DECREF(z);
    return PyErr_Occurred() ? -1 : 0;
}

/* Binds a symbol from a keyword or integer parameter; symbols are sizes, never negative. */
static _BRAID_PY_UNUSED int
_braid_py_bind_symbol(const char *fn, const char *name, int64_t value, int64_t *symbol, int *known)
{
    if (value < 0) {
        PyErr_Format(PyExc_ValueError, "%s(): symbol '%s' must be non-negative, got %lld",
                     fn, name, (long long)value);
        return -1;
    }
    *symbol = value;
    *known = 1;
    return 0;
}

static _BRAID_PY_UNUSED int
_braid_py_bind_symbol_u64(const char *fn, const char *name, uint64_t value, int64_t *symbol, int *known)
{
    if (value > (uint64_t)INT64_MAX) {
        PyErr_Format(PyExc_ValueError, "%s(): symbol '%s' is too large (%llu)", fn, name,
                     (unsigned long long)value);
        return -1;
    }
    return _braid_py_bind_symbol(fn, name, (int64_t)value, symbol, known);
}

/* After binding: every symbol must be known and non-negative. */
static _BRAID_PY_UNUSED int
_braid_py_check_symbol(const char *fn, const char *name, int known, int64_t value)
{
    if (!known) {
        PyErr_Format(PyExc_TypeError, "%s(): cannot infer symbol '%s'; pass %s=... as a keyword",
                     fn, name, name);
        return -1;
    }
    if (value < 0) {
        PyErr_Format(PyExc_ValueError,
                     "%s(): symbol '%s' would be %lld (inferred from an array shape), "
                     "but symbols must be non-negative; check the argument shapes",
                     fn, name, (long long)value);
        return -1;
    }
    return 0;
}

/* Checks each dimension of `view` against `want`; ValueError naming both shapes if not. */
static _BRAID_PY_UNUSED int
_braid_py_check_shape(const char *fn, const char *arg, const Py_buffer *view, const int64_t *want,
                      const char *want_text)
{
    int i, ok = 1;
    for (i = 0; i < view->ndim; i++) {
        if ((int64_t)view->shape[i] != want[i]) ok = 0;
    }
    if (!ok) {
        int64_t got[64];
        char got_text[512], want_values[512];
        int n = view->ndim < 64 ? view->ndim : 64;
        for (i = 0; i < n; i++) got[i] = (int64_t)view->shape[i];
        _braid_py_format_shape(got_text, sizeof got_text, n, got);
        _braid_py_format_shape(want_values, sizeof want_values, n, want);
        if (want_text != NULL) {
            PyErr_Format(PyExc_ValueError, "%s(): argument '%s' has shape %s but expected %s = %s",
                         fn, arg, got_text, want_text, want_values);
        } else {
            PyErr_Format(PyExc_ValueError, "%s(): argument '%s' has shape %s but expected %s",
                         fn, arg, got_text, want_values);
        }
        return -1;
    }
    return 0;
}

/* Appends to the pending exception's message where the symbols' values came from, e.g.
   " (N = 5 from the shape of 'c')". */
static _BRAID_PY_UNUSED void
_braid_py_explain_symbols(int n, const char *const *names, const int64_t *values, const char *const *sources)
{
    PyObject *type, *value, *traceback, *text;
    char note[1024];
    size_t used = 0;
    int i;
    note[0] = '\0';
    for (i = 0; i < n && used + 1 < sizeof note; i++) {
        int w = snprintf(note + used, sizeof note - used, "%s%s = %lld from %s", i == 0 ? " (" : ", ", names[i],
                         (long long)values[i], sources[i] != NULL ? sources[i] : "an earlier argument");
        if (w < 0) return;
        used += (size_t)w < sizeof note - used ? (size_t)w : sizeof note - used - 1;
    }
    if (used + 1 < sizeof note) snprintf(note + used, sizeof note - used, ")");
    PyErr_Fetch(&type, &value, &traceback);
    text = value != NULL ? PyObject_Str(value) : NULL;
    if (text == NULL) {
        PyErr_Clear();
        PyErr_Restore(type, value, traceback);
        return;
    }
    Py_XDECREF(value);
    Py_XDECREF(traceback);
    value = PyUnicode_FromFormat("%U%s", text, note);
    Py_DECREF(text);
    if (value == NULL) {
        Py_XDECREF(type);
        return;
    }
    PyErr_SetObject(type, value);
    Py_DECREF(value);
    Py_XDECREF(type);
}

/* The native code assumes array arguments do not alias when one of them is written. */
static _BRAID_PY_UNUSED int
_braid_py_check_overlap(const char *fn, const char *a, const uintptr_t *sa, const char *b, const uintptr_t *sb)
{
    uintptr_t a0 = sa[0], a1 = sa[1], b0 = sb[0], b1 = sb[1];
    if (a0 < a1 && b0 < b1 && a0 < b1 && b0 < a1) {
        PyErr_Format(PyExc_ValueError,
                     "%s(): arguments '%s' and '%s' share memory, but the compiled code writes one of "
                     "them and assumes they do not overlap; pass a copy (e.g. %s.copy())", fn, a, b, b);
        return -1;
    }
    return 0;
}

/* Native failures. A message "IndexError: ...", "ValueError: ...", "LinAlgError: ..." or
   "MemoryError: ..." raises an exception of a class deriving from the one NumPy raises in that
   case (IndexError, ValueError, numpy.linalg.LinAlgError, MemoryError) and from RuntimeError;
   any other message raises RuntimeError. The classes are created on first use. */
#define _BRAID_PY_ERROR_KINDS 4
static PyObject *_braid_py_error_classes[_BRAID_PY_ERROR_KINDS];

static _BRAID_PY_UNUSED void
_braid_py_raise_native(const char *fn, int status, const char *message)
{
    static const char *const kinds[_BRAID_PY_ERROR_KINDS] = {"IndexError: ", "ValueError: ", "LinAlgError: ", "MemoryError: "};
    static const char *const names[_BRAID_PY_ERROR_KINDS] = {"braid.IndexError", "braid.ValueError", "braid.LinAlgError",
                                                             "braid.MemoryError"};
    PyObject *base = NULL, *bases;
    size_t prefix = 0;
    int k;
    if (message == NULL) {
        PyErr_Format(PyExc_RuntimeError, "%s(): native code failed with status %d", fn, status);
        return;
    }
    for (k = 0; k < _BRAID_PY_ERROR_KINDS; k++) {
        prefix = strlen(kinds[k]);
        if (strncmp(message, kinds[k], prefix) == 0) break;
    }
    if (k == _BRAID_PY_ERROR_KINDS) {
        PyErr_SetString(PyExc_RuntimeError, message);
        return;
    }
    if (_braid_py_error_classes[k] == NULL) {
        if (k == 2) {
            PyObject *linalg = PyImport_ImportModule("numpy.linalg");
            if (linalg != NULL) {
                base = PyObject_GetAttrString(linalg, "LinAlgError");
                Py_DECREF(linalg);
            }
        } else {
            base = k == 0 ? PyExc_IndexError : k == 1 ? PyExc_ValueError : PyExc_MemoryError;
            Py_INCREF(base);
        }
        if (base == NULL) {
            PyErr_Clear();
            PyErr_SetString(PyExc_RuntimeError, message + prefix);
            return;
        }
        bases = PyTuple_Pack(2, base, PyExc_RuntimeError);
        Py_DECREF(base);
        if (bases == NULL) return;
        _braid_py_error_classes[k] = PyErr_NewException(names[k], bases, NULL);
        Py_DECREF(bases);
        if (_braid_py_error_classes[k] == NULL) return;
    }
    PyErr_SetString(_braid_py_error_classes[k], message + prefix);
}

/* NumPy scalar types of scalar results (numpy.float64, ...), by dtype, looked up on first use. */
static PyObject *_braid_py_numpy_scalar_types[_BRAID_PY_NUMPY_SCALAR_SLOTS];

/* The NumPy scalar numpy.<name>(value) of a scalar result. Steals `value`, a new reference to
   the Python int/float/complex/bool holding the exact value (or NULL after a failed conversion). */
static _BRAID_PY_UNUSED PyObject *
_braid_py_numpy_scalar(PyObject *value, int slot, const char *name)
{
    PyObject *type, *result;
    if (value == NULL) return NULL;
    type = _braid_py_numpy_scalar_types[slot];
    if (type == NULL) {
        PyObject *numpy = PyImport_ImportModule("numpy");
        if (numpy == NULL) {
            Py_DECREF(value);
            return NULL;
        }
        type = PyObject_GetAttrString(numpy, name);
        Py_DECREF(numpy);
        if (type == NULL) {
            Py_DECREF(value);
            return NULL;
        }
        _braid_py_numpy_scalar_types[slot] = type;
    }
    result = PyObject_CallFunctionObjArgs(type, value, NULL);
    Py_DECREF(value);
    return result;
}

/* numpy.empty and numpy.frombuffer, imported on first use. */
static PyObject *_braid_py_numpy_empty = NULL;
static PyObject *_braid_py_numpy_frombuffer = NULL;

/* Storage of a large result, from the memory pool (braid_pool_alloc) or handed over by the
   native code: NumPy views it through the buffer protocol (numpy.frombuffer), and it goes
   back to the pool when the last array on it is gone. */
typedef struct {
    PyObject_HEAD
    void *data;
    Py_ssize_t bytes;
} _braid_py_block;

static PyObject *_braid_py_block_type = NULL;

static void
_braid_py_block_dealloc(PyObject *self)
{
    PyTypeObject *tp = Py_TYPE(self);
    braid_pool_free(((_braid_py_block *)self)->data);
    PyObject_Free(self);
    Py_DECREF(tp);
}

static int
_braid_py_block_getbuffer(PyObject *self, Py_buffer *view, int flags)
{
    _braid_py_block *b = (_braid_py_block *)self;
    return PyBuffer_FillInfo(view, self, b->data, b->bytes, 0, flags);
}

/* The slots' functions are filled in at run time: ISO C has no cast from a function
   pointer to `void *`, and PyType_Slot holds one (a memcpy of the pointer is portable). */
static PyType_Slot _braid_py_block_slots[] = {
    {Py_tp_dealloc, NULL},
    {Py_bf_getbuffer, NULL},
    {0, NULL},
};

static void *
_braid_py_function_pointer(void (*f)(void))
{
    void *p;
    memcpy(&p, &f, sizeof p);
    return p;
}

#ifdef Py_TPFLAGS_DISALLOW_INSTANTIATION
#define _BRAID_PY_BLOCK_FLAGS (Py_TPFLAGS_DEFAULT | Py_TPFLAGS_DISALLOW_INSTANTIATION)
#else
#define _BRAID_PY_BLOCK_FLAGS Py_TPFLAGS_DEFAULT
#endif

static PyType_Spec _braid_py_block_spec = {
    "braid.block", (int)sizeof(_braid_py_block), 0, _BRAID_PY_BLOCK_FLAGS, _braid_py_block_slots,
};

/* A new C-contiguous NumPy array of `shape` and `dt` on `data` (`bytes` long, from
   braid_pool_alloc or malloc), which the array owns from now on (also on failure). */
static PyObject *
_braid_py_array_on_block(void *data, Py_ssize_t bytes, PyObject *shape, const _braid_py_dtype *dt)
{
    _braid_py_block *b;
    PyObject *flat, *array;
    if (_braid_py_block_type == NULL) {
        _braid_py_block_slots[0].pfunc = _braid_py_function_pointer((void (*)(void))_braid_py_block_dealloc);
        _braid_py_block_slots[1].pfunc = _braid_py_function_pointer((void (*)(void))_braid_py_block_getbuffer);
        _braid_py_block_type = PyType_FromSpec(&_braid_py_block_spec);
        if (_braid_py_block_type == NULL) {
            braid_pool_free(data);
            return NULL;
        }
    }
    if (_braid_py_numpy_frombuffer == NULL) {
        PyObject *numpy = PyImport_ImportModule("numpy");
        if (numpy != NULL) {
            _braid_py_numpy_frombuffer = PyObject_GetAttrString(numpy, "frombuffer");
            Py_DECREF(numpy);
        }
        if (_braid_py_numpy_frombuffer == NULL) {
            braid_pool_free(data);
            return NULL;
        }
    }
    b = (_braid_py_block *)PyType_GenericAlloc((PyTypeObject *)_braid_py_block_type, 0);
    if (b == NULL) {
        braid_pool_free(data);
        return NULL;
    }
    b->data = data;
    b->bytes = bytes;
    flat = PyObject_CallFunction(_braid_py_numpy_frombuffer, "Os", (PyObject *)b, dt->name);
    Py_DECREF(b);
    if (flat == NULL) return NULL;
    array = PyObject_CallMethod(flat, "reshape", "O", shape);
    Py_DECREF(flat);
    return array;
}

/* The bytes of an array of this shape and element size (all dims >= 0); -1 past INT64_MAX. */
static Py_ssize_t
_braid_py_array_bytes(int ndim, const int64_t *dims, Py_ssize_t itemsize)
{
    Py_ssize_t bytes = itemsize;
    int i;
    for (i = 0; i < ndim; i++) {
        if (dims[i] == 0) return 0;
        if ((int64_t)bytes > INT64_MAX / dims[i]) bytes = -1;
        else if (bytes >= 0) bytes = (Py_ssize_t)(bytes * dims[i]);
    }
    return bytes;
}

/* Allocates a new C-contiguous NumPy array for result number `index` and gets a writable
   buffer on it. On success *obj and *view are held; on failure neither is. `data`, where
   not NULL, points to storage the native code allocated for the result: a large one becomes
   the array's storage (and *data NULL); a small one stays with the caller, who copies it. */
static _BRAID_PY_UNUSED int
_braid_py_new_array(const char *fn, int index, int ndim, const int64_t *dims, const _braid_py_dtype *dt,
                    const char *dims_text, void **data, PyObject **obj, Py_buffer *view)
{
    PyObject *shape;
    Py_ssize_t bytes;
    void *block = NULL;
    void *no_data = NULL;
    int i;
    if (data == NULL) data = &no_data;
    for (i = 0; i < ndim; i++) {
        if (dims[i] < 0) {
            char values[512];
            _braid_py_format_shape(values, sizeof values, ndim, dims);
            PyErr_Format(PyExc_ValueError, "%s(): result %d would have negative shape %s = %s",
                         fn, index, dims_text, values);
            return -1;
        }
    }
    if (_braid_py_numpy_empty == NULL) {
        PyObject *numpy = PyImport_ImportModule("numpy");
        if (numpy == NULL) return -1;
        _braid_py_numpy_empty = PyObject_GetAttrString(numpy, "empty");
        Py_DECREF(numpy);
        if (_braid_py_numpy_empty == NULL) return -1;
    }
    shape = PyTuple_New(ndim);
    if (shape == NULL) return -1;
    for (i = 0; i < ndim; i++) {
        PyObject *d = PyLong_FromLongLong((long long)dims[i]);
        if (d == NULL) {
            Py_DECREF(shape);
            return -1;
        }
        PyTuple_SetItem(shape, i, d);
    }
    bytes = _braid_py_array_bytes(ndim, dims, dt->itemsize);
    if (*data != NULL && bytes > 0 && (size_t)bytes >= BRAID_POOL_MIN) {
        /* A large result the native code allocated: the array takes its storage. */
        *obj = _braid_py_array_on_block(*data, bytes, shape, dt);
        *data = NULL;
    } else if (*data == NULL && bytes > 0 && (size_t)bytes >= BRAID_POOL_MIN
               && (block = braid_pool_alloc((size_t)bytes)) != NULL) {
        /* A large result from the pool (a block an earlier call freed: no page faults). */
        *obj = _braid_py_array_on_block(block, bytes, shape, dt);
    } else {
        *obj = PyObject_CallFunction(_braid_py_numpy_empty, "Os", shape, dt->name);
    }
    Py_DECREF(shape);
    if (*obj == NULL) return -1;
    if (PyObject_GetBuffer(*obj, view, PyBUF_ND | PyBUF_STRIDES | PyBUF_FORMAT | PyBUF_WRITABLE) < 0) {
        Py_CLEAR(*obj);
        return -1;
    }
    if (view->itemsize != dt->itemsize || !_braid_py_is_c_contiguous(view)) {
        PyBuffer_Release(view);
        Py_CLEAR(*obj);
        PyErr_Format(PyExc_RuntimeError, "%s(): numpy.empty returned an unexpected array for result %d",
                     fn, index);
        return -1;
    }
    return 0;
}
"""#

/// Complex-number helpers, emitted only when a scalar parameter or result is complex.
/// They avoid `<complex.h>`, whose macro `I` could collide with user names.
private let complexHelpers = #"""

/* Complex scalars without <complex.h>: a complex value has the layout of two reals. */
static _BRAID_PY_UNUSED double _Complex _braid_py_make_complex128(double re, double im)
{
    double parts[2];
    double _Complex z;
    parts[0] = re;
    parts[1] = im;
    memcpy(&z, parts, sizeof z);
    return z;
}

static _BRAID_PY_UNUSED float _Complex _braid_py_make_complex64(float re, float im)
{
    float parts[2];
    float _Complex z;
    parts[0] = re;
    parts[1] = im;
    memcpy(&z, parts, sizeof z);
    return z;
}

static _BRAID_PY_UNUSED PyObject *_braid_py_complex128_to_python(double _Complex z)
{
    double parts[2];
    memcpy(parts, &z, sizeof parts);
    return PyComplex_FromDoubles(parts[0], parts[1]);
}

static _BRAID_PY_UNUSED PyObject *_braid_py_complex64_to_python(float _Complex z)
{
    float parts[2];
    memcpy(parts, &z, sizeof parts);
    return PyComplex_FromDoubles((double)parts[0], (double)parts[1]);
}
"""#
