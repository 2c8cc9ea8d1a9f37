/// Parsing Python source into the `PyModule` mirror (see PythonAST.swift).
///
/// The parser embeds CPython and calls its own `ast.parse`, so Braid accepts exactly
/// the grammar of the Python it was built against. The interpreter is started once per
/// process and only ever parses: the resulting `ast` tree is walked through the C API
/// and copied into Swift values, and no Python object outlives a `parse` call.

import BraidIR
import CPython
import CPythonShim

/// Entry point of the frontend: Python source text in, `PyModule` out.
public enum PythonParser {
    /// Parses one Python module.
    ///
    /// - Parameters:
    ///   - source: The module's text.
    ///   - file: The file name used in every `SourceLocation` and in diagnostics.
    /// - Returns: The module's statements (each node with its 1-based line and column;
    ///   columns count Unicode code points, as CPython's own error messages do) and
    ///   every comment of the file with its line number.
    /// - Throws: A `Diagnostic` for a Python syntax error (at the error's line and
    ///   column), or, at line 1 column 1, for any other failure of the embedded
    ///   interpreter. Python that Braid cannot compile is not an error here, since the
    ///   file may use it only in code that never gets compiled (e.g. `initialize`): node
    ///   kinds that Braid does not model come back as `.unsupported(className)`, and
    ///   constructs it rejects (`*args`, keyword-only and `**kwargs` parameters, integer
    ///   literals outside the signed 64-bit range, ...) are recorded in the enclosing
    ///   function's `problems` (or the module's, for top-level statements), for
    ///   `ModuleContext` to raise when that function or constant is compiled.
    ///
    /// Safe to call concurrently from any thread; calls are serialized on the
    /// interpreter's global lock.
    public static func parse(source: String, file: String) throws -> PyModule {
        let startOfFile = SourceLocation(file: file, line: 1, column: 1)
        let python: EmbeddedPython
        switch EmbeddedPython.shared {
        case .success(let running): python = running
        case .failure(let failure): throw Diagnostic(startOfFile, failure.message)
        }
        return try python.withGIL {
            guard let sourceObject = PyRef.newString(source), let fileObject = PyRef.newString(file),
                  let result = python.parseHelper.call(sourceObject, fileObject) else {
                throw currentExceptionDiagnostic(file: file)
            }
            let converter = ASTConverter(file: file, columns: ColumnMap(source))
            guard let tree = result.tupleItem(0), let comments = result.tupleItem(1) else {
                throw Diagnostic(startOfFile, "internal error: unexpected result from the Python parser helper")
            }
            var body: [PyStmt] = []
            var problems: [(statement: Int, diagnostic: Diagnostic)] = []
            for (index, node) in try converter.list(tree, "body", startOfFile).enumerated() {
                converter.problems.push()
                body.append(try converter.statement(node, parent: startOfFile))
                problems += converter.problems.pop().map { (statement: index, diagnostic: $0) }
            }
            return PyModule(file: file, body: body,
                            comments: try converter.comments(comments, parent: startOfFile),
                            problems: problems)
        }
    }

    /// Turns the pending Python exception into a `Diagnostic`: a `SyntaxError` keeps its
    /// own position and message, anything else is reported at line 1, column 1.
    private static func currentExceptionDiagnostic(file: String) -> Diagnostic {
        let startOfFile = SourceLocation(file: file, line: 1, column: 1)
        guard let exception = PyRef(owning: BraidPy_FetchException()) else {
            return Diagnostic(startOfFile, "internal error: the Python parser failed without an exception")
        }
        if BraidPy_IsSyntaxError(exception.pointer) != 0 {
            let line = exception.attribute("lineno")?.int ?? 1
            let column = exception.attribute("offset")?.int ?? 1
            let message = exception.attribute("msg")?.string ?? exception.text
            return Diagnostic(SourceLocation(file: file, line: max(line, 1), column: max(column, 1)),
                              "Python syntax error: \(message)")
        }
        return Diagnostic(startOfFile, "Python error while parsing: \(exception.typeName): \(exception.text)")
    }
}

// MARK: - The embedded interpreter

/// The process-wide embedded interpreter, started on first use.
///
/// After start-up the GIL is released; every use takes it through `withGIL`, which
/// works from any thread (Swift Testing and the driver parse files in parallel).
private final class EmbeddedPython: @unchecked Sendable {
    /// Why the interpreter could not be started.
    struct StartupFailure: Error {
        var message: String
    }

    /// The interpreter, started lazily and thread-safely (Swift initializes globals once).
    static let shared: Result<EmbeddedPython, StartupFailure> = start()

    /// `parse(source, filename) -> (ast.Module, [(line, comment)])`, defined by `helperCode`.
    /// Owned for the life of the process (only touched with the GIL held).
    let parseHelper: PyRef

    private init(parseHelper: PyRef) {
        self.parseHelper = parseHelper
    }

    /// Python code run once in a private namespace. Comments come from `tokenize`, which
    /// knows where strings are; `newline=None` reads `\r\n` and `\r` line ends the way
    /// the parser does, so line numbers agree with the tree's.
    private static let helperCode = """
        import ast
        import io
        import tokenize


        def parse(source, filename):
            tree = ast.parse(source, filename)
            comments = []
            try:
                lines = io.StringIO(source, newline=None).readline
                for token in tokenize.generate_tokens(lines):
                    if token.type == tokenize.COMMENT:
                        comments.append((token.start[0], token.start[1], token.string))
            except (tokenize.TokenError, SyntaxError):
                pass  # ast.parse accepted the source; keep the comments found so far
            return tree, comments
        """

    private static func start() -> Result<EmbeddedPython, StartupFailure> {
        if let error = BraidPy_Initialize() {
            return .failure(StartupFailure(
                message: "could not start the embedded Python interpreter: \(String(cString: error))"))
        }
        let state = PyGILState_Ensure()
        defer { PyGILState_Release(state) }
        guard let namespace = PyRef(owning: PyDict_New()),
              PyDict_SetItemString(namespace.pointer, "__builtins__", PyEval_GetBuiltins()) == 0,
              PyRef(owning: PyRun_StringFlags(helperCode, Py_file_input, namespace.pointer,
                                              namespace.pointer, nil)) != nil,
              let parse = PyRef(borrowing: PyDict_GetItemString(namespace.pointer, "parse")) else {
            let reason = PyRef(owning: BraidPy_FetchException()).map { "\($0.typeName): \($0.text)" }
            return .failure(StartupFailure(
                message: "could not set up the embedded Python parser: \(reason ?? "unknown error")"))
        }
        return .success(EmbeddedPython(parseHelper: parse))
    }

    /// Runs `body` holding the GIL. No `PyRef` may escape `body`.
    func withGIL<T>(_ body: () throws -> T) rethrows -> T {
        let state = PyGILState_Ensure()
        defer { PyGILState_Release(state) }
        return try body()
    }
}

// MARK: - Python object references

/// A strong reference to a Python object, released when this Swift object dies.
/// Only create, use and drop these with the GIL held.
private final class PyRef {
    let pointer: UnsafeMutablePointer<PyObject>

    /// Takes over a new reference (returns nil for NULL, i.e. a failed C API call).
    init?(owning pointer: UnsafeMutablePointer<PyObject>?) {
        guard let pointer else { return nil }
        self.pointer = pointer
    }

    /// Adds a reference to a borrowed one.
    init?(borrowing pointer: UnsafeMutablePointer<PyObject>?) {
        guard let pointer else { return nil }
        BraidPy_IncRef(pointer)
        self.pointer = pointer
    }

    deinit { BraidPy_DecRef(pointer) }

    /// A Python `str` with the given text (which may contain NUL characters).
    static func newString(_ text: String) -> PyRef? {
        var text = text
        return text.withUTF8 { utf8 in
            guard let start = utf8.baseAddress else { return PyRef(owning: PyUnicode_FromString("")) }
            return start.withMemoryRebound(to: CChar.self, capacity: utf8.count) {
                PyRef(owning: PyUnicode_FromStringAndSize($0, utf8.count))
            }
        }
    }

    /// The unqualified name of the object's class, e.g. `"BinOp"`.
    var typeName: String { String(cString: BraidPy_TypeName(pointer)) }

    var isNone: Bool { BraidPy_IsNone(pointer) != 0 }

    /// `getattr(self, name)`, or nil (with the error cleared) if there is no such attribute.
    func attribute(_ name: String) -> PyRef? {
        guard let value = PyRef(owning: PyObject_GetAttrString(pointer, name)) else {
            PyErr_Clear()
            return nil
        }
        return value
    }

    /// The value of a Python `int` that fits in 64 bits (nil otherwise, error cleared).
    var int: Int? {
        guard BraidPy_LongCheck(pointer) != 0 else { return nil }
        var overflow: Int32 = 0
        let value = PyLong_AsLongLongAndOverflow(pointer, &overflow)
        if overflow != 0 || (value == -1 && PyErr_Occurred() != nil) {
            PyErr_Clear()
            return nil
        }
        return Int(value)
    }

    /// The text of a Python `str` (nil if it is not one or is not valid Unicode, e.g. it
    /// holds a lone surrogate; the error is cleared).
    var string: String? {
        guard BraidPy_UnicodeCheck(pointer) != 0 else { return nil }
        return withExtendedLifetime(self) {
            var size = 0
            guard let utf8 = PyUnicode_AsUTF8AndSize(pointer, &size) else {
                PyErr_Clear()
                return nil
            }
            return String(decoding: UnsafeRawBufferPointer(start: utf8, count: size), as: UTF8.self)
        }
    }

    /// `str(self)`, or a placeholder if even that fails.
    var text: String {
        PyRef(owning: PyObject_Str(pointer))?.string ?? {
            PyErr_Clear()
            return "<\(typeName) object>"
        }()
    }

    /// The items of a Python `list` or `tuple` (nil for anything else).
    var items: [PyRef]? {
        if BraidPy_ListCheck(pointer) != 0 {
            return (0..<PyList_Size(pointer)).compactMap { PyRef(borrowing: PyList_GetItem(pointer, $0)) }
        }
        if BraidPy_TupleCheck(pointer) != 0 {
            return (0..<PyTuple_Size(pointer)).compactMap { PyRef(borrowing: PyTuple_GetItem(pointer, $0)) }
        }
        return nil
    }

    /// Item `index` of a tuple.
    func tupleItem(_ index: Int) -> PyRef? {
        guard BraidPy_TupleCheck(pointer) != 0, index < PyTuple_Size(pointer) else { return nil }
        return PyRef(borrowing: PyTuple_GetItem(pointer, index))
    }

    /// Calls this object with positional arguments; nil when the call raised.
    func call(_ arguments: PyRef...) -> PyRef? {
        guard let tuple = PyRef(owning: PyTuple_New(arguments.count)) else { return nil }
        for (index, argument) in arguments.enumerated() {
            BraidPy_IncRef(argument.pointer)  // PyTuple_SetItem steals a reference
            PyTuple_SetItem(tuple.pointer, index, argument.pointer)
        }
        return PyRef(owning: PyObject_CallObject(pointer, tuple.pointer))
    }
}

// MARK: - Columns

/// Converts CPython's `col_offset` (0-based, in UTF-8 bytes) to a 1-based column in
/// Unicode code points, the unit of `SyntaxError.offset`, so that every diagnostic
/// counts columns the same way. Lines end at `\n`, `\r\n` or `\r`, as for the parser.
private struct ColumnMap {
    private let utf8: [UInt8]
    /// Byte offset where each line starts; index 0 is line 1. Empty for ASCII sources,
    /// where byte offsets already are code-point offsets.
    private let lineStarts: [Int]

    init(_ source: String) {
        utf8 = Array(source.utf8)
        guard utf8.contains(where: { $0 >= 0x80 }) else {
            lineStarts = []
            return
        }
        var starts = [0]
        var index = 0
        while index < utf8.count {
            let byte = utf8[index]
            index += 1
            if byte == UInt8(ascii: "\r"), index < utf8.count, utf8[index] == UInt8(ascii: "\n") {
                index += 1
            }
            if byte == UInt8(ascii: "\n") || byte == UInt8(ascii: "\r") {
                starts.append(index)
            }
        }
        lineStarts = starts
    }

    /// The 1-based column of byte `offset` in 1-based `line`.
    func column(line: Int, byteOffset offset: Int) -> Int {
        guard !lineStarts.isEmpty, line >= 1, line <= lineStarts.count, offset > 0 else {
            return max(offset, 0) + 1
        }
        let start = lineStarts[line - 1]
        let end = min(start + offset, utf8.count)
        // Count every byte that starts a code point (i.e. is no continuation byte).
        return utf8[start..<end].reduce(0) { $0 + ($1 & 0xC0 == 0x80 ? 0 : 1) } + 1
    }
}

// MARK: - Tree conversion

/// The constructs rejected while converting, one frame per function being converted
/// (the bottom frame: the current top-level statement).
private final class ProblemLog {
    private var frames: [[Diagnostic]] = []

    func push() { frames.append([]) }

    func pop() -> [Diagnostic] { frames.popLast() ?? [] }

    func record(_ problem: Diagnostic) {
        if frames.isEmpty { frames.append([]) }
        frames[frames.count - 1].append(problem)
    }

    /// Whether conversion is in a top-level statement, outside every function.
    var atModuleLevel: Bool { frames.count <= 1 }
}

/// Copies a CPython `ast` tree into the Swift mirror types. Must run with the GIL held.
private struct ASTConverter {
    let file: String
    let columns: ColumnMap
    let problems = ProblemLog()

    /// Records a construct Braid cannot compile (see `PyFunctionDef.problems`) and returns
    /// the placeholder that stands for it in the tree.
    func reject(_ problem: Diagnostic, placeholder: String) -> PyExprKind {
        problems.record(problem)
        return .unsupported(placeholder)
    }

    /// Deepest expression nesting converted; deeper trees are rejected with a diagnostic
    /// instead of risking the stack of the (possibly small) calling thread.
    static let maxExpressionDepth = 400

    // MARK: Fields

    /// The node's own location, or `parent` for nodes that have none (e.g. `arguments`).
    func location(of node: PyRef, parent: SourceLocation) -> SourceLocation {
        guard let line = node.attribute("lineno")?.int, let offset = node.attribute("col_offset")?.int else {
            return parent
        }
        return SourceLocation(file: file, line: line, column: columns.column(line: line, byteOffset: offset))
    }

    /// An error for a tree that does not have the shape of CPython's `ast` classes.
    func malformed(_ node: PyRef, _ field: String, _ loc: SourceLocation) -> Diagnostic {
        Diagnostic(loc, "internal error: unexpected Python AST (field '\(field)' of \(node.typeName))")
    }

    /// A field that must be present and not `None`.
    func required(_ node: PyRef, _ field: String, _ loc: SourceLocation) throws -> PyRef {
        guard let value = optional(node, field) else { throw malformed(node, field, loc) }
        return value
    }

    /// A field that may be missing or `None`.
    func optional(_ node: PyRef, _ field: String) -> PyRef? {
        guard let value = node.attribute(field), !value.isNone else { return nil }
        return value
    }

    /// A list field (a missing one is empty: newer Pythons add fields older ones lack).
    func list(_ node: PyRef, _ field: String, _ loc: SourceLocation) throws -> [PyRef] {
        guard let value = optional(node, field) else { return [] }
        guard let items = value.items else { throw malformed(node, field, loc) }
        return items
    }

    func string(_ node: PyRef, _ field: String, _ loc: SourceLocation) throws -> String {
        guard let value = optional(node, field)?.string else { throw malformed(node, field, loc) }
        return value
    }

    /// An operator field (`ast.Add()` etc.), mapped by its class name.
    func op<Op: RawRepresentable<String>>(_ node: PyRef, _ field: String, _ loc: SourceLocation) throws -> Op {
        guard let value = try Op(rawValue: required(node, field, loc).typeName) else {
            throw malformed(node, field, loc)
        }
        return value
    }

    // MARK: Statements

    /// The statements of a list field such as `body` or `orelse`.
    func statements(_ node: PyRef, _ field: String, parent: SourceLocation) throws -> [PyStmt] {
        try list(node, field, parent).map { try statement($0, parent: parent) }
    }

    func statement(_ node: PyRef, parent: SourceLocation) throws -> PyStmt {
        let className = node.typeName
        let loc = location(of: node, parent: parent)
        let kind: PyStmtKind
        switch className {
        case "FunctionDef":
            kind = .functionDef(try functionDef(node, loc))
        case "Assign":
            kind = .assign(targets: try expressions(node, "targets", loc), value: try expression(node, "value", loc))
        case "AugAssign":
            kind = .augAssign(target: try expression(node, "target", loc), op: try op(node, "op", loc),
                              value: try expression(node, "value", loc))
        case "AnnAssign":
            kind = .annAssign(target: try expression(node, "target", loc),
                              annotation: try expression(node, "annotation", loc),
                              value: try optionalExpression(node, "value", loc))
        case "Expr":
            kind = .exprStmt(try expression(node, "value", loc))
        case "Return":
            kind = .return(try optionalExpression(node, "value", loc))
        case "For":
            kind = .for(target: try expression(node, "target", loc),
                        iter: Self.withoutScheduleHint(try expression(node, "iter", loc)),
                        body: try statements(node, "body", parent: loc),
                        orelse: try statements(node, "orelse", parent: loc))
        case "While":
            kind = .while(test: try expression(node, "test", loc), body: try statements(node, "body", parent: loc),
                          orelse: try statements(node, "orelse", parent: loc))
        case "If":
            kind = .if(test: try expression(node, "test", loc), body: try statements(node, "body", parent: loc),
                       orelse: try statements(node, "orelse", parent: loc))
        case "Import":
            kind = .import(try aliases(node, loc))
        case "ImportFrom":
            kind = .importFrom(module: optional(node, "module")?.string, names: try aliases(node, loc),
                               level: optional(node, "level")?.int ?? 0)
        case "Pass":
            kind = .pass
        case "Break":
            kind = .break
        case "Continue":
            kind = .continue
        case "Assert":
            kind = .assert(test: try expression(node, "test", loc), msg: try optionalExpression(node, "msg", loc))
        default:
            kind = .unsupported(className)
        }
        return PyStmt(kind, loc)
    }

    func aliases(_ node: PyRef, _ loc: SourceLocation) throws -> [PyAlias] {
        try list(node, "names", loc).map {
            PyAlias(name: try string($0, "name", loc), asname: optional($0, "asname")?.string)
        }
    }

    /// A `def`. Only plain positional parameters (optionally positional-only, with
    /// defaults) are accepted; Braid compiles every parameter to a fixed native argument.
    /// A `def`. Braid compiles only plain positional parameters (optionally positional-only,
    /// with defaults), each to a fixed native argument; other parameter kinds are recorded in
    /// `problems`, so the function may still exist in a file as long as it is not compiled.
    func functionDef(_ node: PyRef, _ loc: SourceLocation) throws -> PyFunctionDef {
        let name = try string(node, "name", loc)
        problems.push()
        if try !list(node, "type_params", loc).isEmpty {  // `def f[T](...)`, Python 3.12+
            problems.record(Diagnostic(loc, "function '\(name)': type parameters (`def \(name)[T](...)`) are not supported; "
                + "declare the parameter types with annotations or a '#pythran export' comment"))
        }
        let arguments = try required(node, "args", loc)
        let instead = "declare every parameter as a plain positional parameter (`def \(name)(a, b, c)`)"
        if let vararg = optional(arguments, "vararg") {
            let spelled = (try? string(vararg, "arg", loc)).map { " (`*\($0)`)" } ?? ""
            problems.record(Diagnostic(loc, "function '\(name)': `*args` parameters\(spelled) are not supported; \(instead)"))
        }
        let keywordOnly = try list(arguments, "kwonlyargs", loc)
        if !keywordOnly.isEmpty {
            let names = keywordOnly.compactMap { try? string($0, "arg", loc) }.map { "`\($0)`" }
            problems.record(Diagnostic(loc, "function '\(name)': keyword-only parameters (\(names.joined(separator: ", ")), "
                + "declared after `*`) are not supported; \(instead)"))
        }
        if let kwarg = optional(arguments, "kwarg") {
            let spelled = (try? string(kwarg, "arg", loc)).map { " (`**\($0)`)" } ?? ""
            problems.record(Diagnostic(loc, "function '\(name)': `**kwargs` parameters\(spelled) are not supported; \(instead)"))
        }
        let parameters = try list(arguments, "posonlyargs", loc) + list(arguments, "args", loc)
        let args = try parameters.map { parameter in
            let argLoc = location(of: parameter, parent: loc)
            return PyArg(name: try string(parameter, "arg", argLoc),
                         annotation: try optionalExpression(parameter, "annotation", argLoc), loc: argLoc)
        }
        let defaults = try expressions(arguments, "defaults", loc)
        let body = try statements(node, "body", parent: loc)
        let found = problems.pop()
        // Decorators run where the def is, not in the function.
        let decorators = try expressions(node, "decorator_list", loc)
        return PyFunctionDef(
            name: name, args: args, defaults: defaults, body: body, decorators: decorators,
            returns: try optionalExpression(node, "returns", loc), loc: loc, problems: found)
    }

    // MARK: Expressions

    func expression(_ node: PyRef, _ field: String, _ parent: SourceLocation, depth: Int = 0) throws -> PyExpr {
        try expression(required(node, field, parent), parent: parent, depth: depth)
    }

    func optionalExpression(_ node: PyRef, _ field: String, _ parent: SourceLocation,
                            depth: Int = 0) throws -> PyExpr? {
        try optional(node, field).map { try expression($0, parent: parent, depth: depth) }
    }

    func expressions(_ node: PyRef, _ field: String, _ parent: SourceLocation, depth: Int = 0) throws -> [PyExpr] {
        try list(node, field, parent).map { try expression($0, parent: parent, depth: depth) }
    }

    func expression(_ node: PyRef, parent: SourceLocation, depth: Int) throws -> PyExpr {
        let loc = location(of: node, parent: parent)
        guard depth < Self.maxExpressionDepth else {
            return PyExpr(reject(Diagnostic(loc, "expression nested too deeply (more than \(Self.maxExpressionDepth) levels); "
                + "split it into several statements"), placeholder: "DeeplyNestedExpression"), loc)
        }
        return PyExpr(try expressionKind(node, loc, depth: depth + 1), loc)
    }

    // Each node class is converted by its own small function rather than inline in one
    // big switch, and the class name is matched outside the recursion: unoptimized
    // builds give every temporary of a function its own stack slot, and these functions
    // recurse once per nesting level.

    /// The expression node classes that Braid models.
    enum ExpressionClass {
        case name, constant, attribute, subscriptExpression, slice, tuple, list, binOp, unaryOp, boolOp, compare, call
        case ifExp, starred

        init?(_ className: String) {
            switch className {
            case "Name": self = .name
            case "Constant": self = .constant
            case "Attribute": self = .attribute
            case "Subscript": self = .subscriptExpression
            case "Slice": self = .slice
            case "Tuple": self = .tuple
            case "List": self = .list
            case "BinOp": self = .binOp
            case "UnaryOp": self = .unaryOp
            case "BoolOp": self = .boolOp
            case "Compare": self = .compare
            case "Call": self = .call
            case "IfExp": self = .ifExp
            case "Starred": self = .starred
            default: return nil
            }
        }
    }

    /// The mirror of one expression node; `depth` is the nesting depth of its children.
    func expressionKind(_ node: PyRef, _ loc: SourceLocation, depth: Int) throws -> PyExprKind {
        guard let nodeClass = ExpressionClass(node.typeName) else {
            // A comprehension over constants is unrolled: a list comprehension into its list, a
            // generator into a tuple at module level and, in functions, into a generator over
            // the items (still one, so np.stack(gen) stays an error as in NumPy).
            if node.typeName == "ListComp" || node.typeName == "GeneratorExp",
               let unrolled = try unrolledComprehension(node, loc, depth) {
                return unrolled
            }
            // Otherwise, in functions, one `for` without `if` is kept as it is; the lowering
            // decides where it may stand.
            if !problems.atModuleLevel, node.typeName == "ListComp" || node.typeName == "GeneratorExp" {
                let generators = try list(node, "generators", loc)
                if generators.count == 1, let g = generators.first, try list(g, "ifs", loc).isEmpty,
                   optional(g, "is_async")?.int ?? 0 == 0 {
                    return .comprehension(element: try expression(node, "elt", loc, depth: depth),
                                          target: try expression(g, "target", loc, depth: depth),
                                          iter: try expression(g, "iter", loc, depth: depth),
                                          generator: node.typeName == "GeneratorExp")
                }
            }
            return .unsupported(node.typeName)
        }
        switch nodeClass {
        case .name: return .name(try string(node, "id", loc))
        case .constant: return try constant(node, loc)
        case .attribute: return try attribute(node, loc, depth)
        case .subscriptExpression: return try subscriptExpression(node, loc, depth)
        case .slice: return try slice(node, loc, depth)
        case .tuple: return .tuple(try expressions(node, "elts", loc, depth: depth))
        case .list: return .list(try expressions(node, "elts", loc, depth: depth))
        case .binOp: return try binOp(node, loc, depth)
        case .unaryOp: return try unaryOp(node, loc, depth)
        case .boolOp: return try boolOp(node, loc, depth)
        case .compare: return try compare(node, loc, depth)
        case .call: return try call(node, loc, depth)
        case .ifExp: return try ifExp(node, loc, depth)
        case .starred: return .starred(try expression(node, "value", loc, depth: depth))
        }
    }

    func attribute(_ node: PyRef, _ loc: SourceLocation, _ depth: Int) throws -> PyExprKind {
        .attribute(try expression(node, "value", loc, depth: depth), try string(node, "attr", loc))
    }

    func subscriptExpression(_ node: PyRef, _ loc: SourceLocation, _ depth: Int) throws -> PyExprKind {
        .subscript(try expression(node, "value", loc, depth: depth), try expression(node, "slice", loc, depth: depth))
    }

    func slice(_ node: PyRef, _ loc: SourceLocation, _ depth: Int) throws -> PyExprKind {
        .slice(lower: try optionalExpression(node, "lower", loc, depth: depth),
               upper: try optionalExpression(node, "upper", loc, depth: depth),
               step: try optionalExpression(node, "step", loc, depth: depth))
    }

    func binOp(_ node: PyRef, _ loc: SourceLocation, _ depth: Int) throws -> PyExprKind {
        .binOp(try expression(node, "left", loc, depth: depth), try op(node, "op", loc),
               try expression(node, "right", loc, depth: depth))
    }

    func unaryOp(_ node: PyRef, _ loc: SourceLocation, _ depth: Int) throws -> PyExprKind {
        let unary: PyUnaryOp = try op(node, "op", loc)
        let operand = try required(node, "operand", loc)
        if unary == .uSub, let minimum = negatedInt64Minimum(operand) {
            return .constant(.int(minimum))
        }
        return .unaryOp(unary, try expression(operand, parent: loc, depth: depth))
    }

    func boolOp(_ node: PyRef, _ loc: SourceLocation, _ depth: Int) throws -> PyExprKind {
        .boolOp(try op(node, "op", loc), try expressions(node, "values", loc, depth: depth))
    }

    func compare(_ node: PyRef, _ loc: SourceLocation, _ depth: Int) throws -> PyExprKind {
        let ops: [PyCmpOp] = try list(node, "ops", loc).map {
            guard let cmp = PyCmpOp(rawValue: $0.typeName) else { throw malformed(node, "ops", loc) }
            return cmp
        }
        return .compare(try expression(node, "left", loc, depth: depth), ops,
                        try expressions(node, "comparators", loc, depth: depth))
    }

    func call(_ node: PyRef, _ loc: SourceLocation, _ depth: Int) throws -> PyExprKind {
        let keywords = try list(node, "keywords", loc).map { keyword in
            let keywordLoc = location(of: keyword, parent: loc)
            return PyKeyword(arg: optional(keyword, "arg")?.string,
                             value: try expression(keyword, "value", keywordLoc, depth: depth))
        }
        return .call(try expression(node, "func", loc, depth: depth),
                     args: try expressions(node, "args", loc, depth: depth), keywords: keywords)
    }

    func ifExp(_ node: PyRef, _ loc: SourceLocation, _ depth: Int) throws -> PyExprKind {
        .ifExp(test: try expression(node, "test", loc, depth: depth),
               body: try expression(node, "body", loc, depth: depth),
               orelse: try expression(node, "orelse", loc, depth: depth))
    }

    /// The value of an `ast.Constant`. `bytes` (the only other constant type CPython
    /// produces) becomes `.unsupported("Bytes")`, after the pre-3.8 `ast.Bytes` class.
    func constant(_ node: PyRef, _ loc: SourceLocation) throws -> PyExprKind {
        // `value` is the constant itself, so `None` here is the literal, not a missing field.
        guard let value = node.attribute("value") else { throw malformed(node, "value", loc) }
        let pointer = value.pointer
        if value.isNone { return .constant(.none) }
        if BraidPy_IsEllipsis(pointer) != 0 { return .constant(.ellipsis) }
        if BraidPy_BoolCheck(pointer) != 0 { return .constant(.bool(BraidPy_IsTrue(pointer) != 0)) }  // before int
        if BraidPy_LongCheck(pointer) != 0 {
            guard let int = value.int else {
                return reject(Diagnostic(loc, "integer literal too large: \(value.text) does not fit in a signed 64-bit "
                    + "integer (range -9223372036854775808 to 9223372036854775807)"), placeholder: "LargeInteger")
            }
            return .constant(.int(int))
        }
        if BraidPy_FloatCheck(pointer) != 0 { return .constant(.float(PyFloat_AsDouble(pointer))) }
        if BraidPy_ComplexCheck(pointer) != 0 {
            return .constant(.complex(real: PyComplex_RealAsDouble(pointer), imag: PyComplex_ImagAsDouble(pointer)))
        }
        if BraidPy_UnicodeCheck(pointer) != 0 {
            guard let text = value.string else {
                return reject(Diagnostic(loc, "string literal is not valid Unicode (it contains a lone surrogate)"),
                              placeholder: "InvalidString")
            }
            return .constant(.string(text))
        }
        if BraidPy_BytesCheck(pointer) != 0 { return .unsupported("Bytes") }
        return .unsupported("Constant")
    }

    /// `dc.map[0:N] @ dc.ScheduleType.Sequential` is `dc.map[0:N]`: DaCe's schedule is a hint,
    /// and Braid's passes decide how each map runs.
    static func withoutScheduleHint(_ e: PyExpr) -> PyExpr {
        guard case .binOp(let range, .matMult, let hint) = e.kind,
              case .subscript(let base, _) = range.kind, case .attribute(let module, "map") = base.kind,
              case .name = module.kind,
              case .attribute(let group, _) = hint.kind, case .attribute(let hintModule, "ScheduleType") = group.kind,
              case .name = hintModule.kind else { return e }
        return range
    }

    /// A comprehension over a literal sequence, unrolled into a tuple (generator, top-level
    /// statements only) or list: `M, N = (dc.symbol(s) for s in ('M', 'N'))` declares two
    /// symbols, as DaCe programs commonly write it, and `np.stack([A[i] * w for i in range(3)])`
    /// is the list it builds. Only one `for` without `if` clauses, over a
    /// tuple or list of constants, a string, or `range` of integer literals (at most 64 items);
    /// nil for anything else, which stays unsupported.
    func unrolledComprehension(_ node: PyRef, _ loc: SourceLocation, _ depth: Int) throws -> PyExprKind? {
        // Every `for` over a literal sequence, a string or a constant range (inner ones may use
        // outer targets), every `if` a constant once the targets are substituted: at most 64 items.
        var bindings: [[(String, PyConstant)]] = [[]]
        for generator in try list(node, "generators", loc) {
            guard optional(generator, "is_async")?.int ?? 0 == 0,
                  case .name(let variable) = try expression(generator, "target", loc, depth: depth).kind else { return nil }
            let iterable = try expression(generator, "iter", loc, depth: depth)
            let conditions = try expressions(generator, "ifs", loc, depth: depth)
            var next: [[(String, PyConstant)]] = []
            for b in bindings {
                guard let items = Self.constantItems(b.reduce(iterable) { $0.substituting($1.0, with: $1.1) }) else { return nil }
                for item in items {
                    let nb = b + [(variable, item)]
                    var keep = true
                    for c in conditions {
                        guard let truth = Self.constantTruth(nb.reduce(c) { $0.substituting($1.0, with: $1.1) }) else { return nil }
                        keep = keep && truth
                    }
                    if keep { next.append(nb) }
                    if next.count > 64 { return nil }
                }
            }
            bindings = next
        }
        let element = try expression(node, "elt", loc, depth: depth)
        let unrolled = bindings.map { b in b.reduce(element) { $0.substituting($1.0, with: $1.1) } }
        if node.typeName == "ListComp" { return .list(unrolled) }
        if problems.atModuleLevel { return .tuple(unrolled) }
        // In a function, a generator stays a generator (valid only where one is consumed):
        // `(v for v in [item, ...])` over the unrolled items.
        let item = PyExpr(.name("$item"), loc)
        return .comprehension(element: item, target: item, iter: PyExpr(.list(unrolled), loc), generator: true)
    }

    /// The items of a literal tuple/list of constants, a string, or a range of int constants.
    static func constantItems(_ iterable: PyExpr) -> [PyConstant]? {
        switch iterable.kind {
        case .tuple(let es), .list(let es):
            var items: [PyConstant] = []
            for e in es {
                guard let c = constantValue(e) else { return nil }
                items.append(c)
            }
            return items
        case .constant(.string(let text)):
            return text.map { .string(String($0)) }
        case .call(let fn, let args, let keywords):
            guard case .name("range") = fn.kind, keywords.isEmpty, (1...3).contains(args.count) else { return nil }
            var bounds: [Int] = []
            for a in args {
                guard case .int(let v)? = constantValue(a) else { return nil }
                bounds.append(v)
            }
            let (start, stop, step) = bounds.count == 1 ? (0, bounds[0], 1)
                : (bounds[0], bounds[1], bounds.count == 3 ? bounds[2] : 1)
            guard step != 0, (stop - start) / step <= 64 else { return nil }
            return Array(stride(from: start, to: stop, by: step)).map { .int($0) }
        default:
            return nil
        }
    }

    /// A constant expression of ints, floats and bools (literals, unary and binary arithmetic,
    /// comparisons, and/or), evaluated as Python does; nil for anything else.
    static func constantValue(_ e: PyExpr) -> PyConstant? {
        func number(_ c: PyConstant) -> Double? {
            switch c {
            case .int(let v): return Double(v)
            case .float(let v): return v
            case .bool(let b): return b ? 1 : 0
            default: return nil
            }
        }
        func truth(_ c: PyConstant) -> Bool? {
            switch c {
            case .bool(let b): return b
            case .int(let v): return v != 0
            case .float(let v): return v != 0
            case .string(let s): return !s.isEmpty
            case .none: return false
            default: return nil
            }
        }
        switch e.kind {
        case .constant(let c): return c
        case .unaryOp(let op, let a):
            guard let x = constantValue(a) else { return nil }
            switch (op, x) {
            case (.not, _): return truth(x).map { .bool(!$0) }
            case (.uSub, .int(let v)): return v == Int.min ? nil : .int(-v)
            case (.uSub, .float(let v)): return .float(-v)
            case (.uAdd, .int), (.uAdd, .float): return x
            default: return nil
            }
        case .boolOp(let op, let values):
            // Python returns the deciding operand.
            var last: PyConstant? = nil
            for v in values {
                guard let x = constantValue(v), let t = truth(x) else { return nil }
                last = x
                if op == .and && !t || op == .or && t { return x }
            }
            return last
        case .compare(let first, let ops, let rest):
            guard var left = constantValue(first) else { return nil }
            for (op, r) in zip(ops, rest) {
                guard let right = constantValue(r), let a = number(left), let b = number(right) else { return nil }
                let holds: Bool
                switch op {
                case .eq: holds = a == b
                case .notEq: holds = a != b
                case .lt: holds = a < b
                case .ltE: holds = a <= b
                case .gt: holds = a > b
                case .gtE: holds = a >= b
                default: return nil
                }
                if !holds { return .bool(false) }
                left = right
            }
            return .bool(true)
        case .binOp(let a, let op, let b):
            guard case .int(let x)? = constantValue(a), case .int(let y)? = constantValue(b) else { return nil }
            switch op {
            case .add: let (r, o) = x.addingReportingOverflow(y); return o ? nil : .int(r)
            case .sub: let (r, o) = x.subtractingReportingOverflow(y); return o ? nil : .int(r)
            case .mult: let (r, o) = x.multipliedReportingOverflow(by: y); return o ? nil : .int(r)
            case .mod where y != 0:
                let r = x % y
                return .int(r != 0 && (r < 0) != (y < 0) ? r + y : r)
            case .floorDiv where y != 0 && !(x == Int.min && y == -1):
                let q = x / y
                return .int(q * y != x && (x < 0) != (y < 0) ? q - 1 : q)
            default: return nil
            }
        default:
            return nil
        }
    }

    /// The Python truth of a constant expression (nil when it is not one).
    static func constantTruth(_ e: PyExpr) -> Bool? {
        switch constantValue(e) {
        case .bool(let b)?: return b
        case .int(let v)?: return v != 0
        case .float(let v)?: return v != 0
        case .string(let s)?: return !s.isEmpty
        case .none?: return false
        default: return nil
        }
    }

    /// `Int.min` if `operand` is the literal `9223372036854775808`: its negation is the one
    /// 64-bit integer whose magnitude alone does not fit, so `-9223372036854775808` is
    /// folded into a constant instead of being rejected as too large.
    func negatedInt64Minimum(_ operand: PyRef) -> Int? {
        guard operand.typeName == "Constant", let value = optional(operand, "value"),
              BraidPy_LongCheck(value.pointer) != 0, BraidPy_BoolCheck(value.pointer) == 0, value.int == nil,
              let negated = PyRef(owning: PyNumber_Negative(value.pointer)), negated.int == Int.min else {
            PyErr_Clear()
            return nil
        }
        return Int.min
    }

    // MARK: Comments

    /// The `(line, column, text)` triples returned by the helper's `tokenize` pass (its
    /// columns are 0-based code-point offsets).
    func comments(_ object: PyRef, parent: SourceLocation) throws -> [(line: Int, column: Int, text: String)] {
        guard let items = object.items else { throw malformed(object, "comments", parent) }
        return try items.map { triple in
            guard let line = triple.tupleItem(0)?.int, let column = triple.tupleItem(1)?.int,
                  let text = triple.tupleItem(2)?.string else {
                throw malformed(object, "comments", parent)
            }
            return (line: line, column: column + 1, text: text)
        }
    }
}
