/// Swift mirror of the subset of CPython's `ast` module that Braid reads.
///
/// Every node carries the source location CPython reported (1-based line,
/// 0-based column converted to 1-based here), so diagnostics can point at the
/// Python source. Node kinds that Braid does not model are kept as
/// `.unsupported(kind)` so the lowering can reject them with a precise error
/// instead of the parser failing.

import BraidIR

/// A parsed Python module.
public struct PyModule: Sendable {
    public var file: String
    public var body: [PyStmt]
    /// Comments of the file (for `#pythran export` signatures), with their 1-based line and
    /// column (in code points) and their text from `#`.
    public var comments: [(line: Int, column: Int, text: String)]
    /// Constructs Braid rejects, found while converting top-level statements outside any
    /// function (e.g. an integer literal beyond 64 bits), by index into `body`. They are
    /// errors only when compiled code uses what the statement defines.
    public var problems: [(statement: Int, diagnostic: Diagnostic)]
    public init(file: String, body: [PyStmt], comments: [(line: Int, column: Int, text: String)],
                problems: [(statement: Int, diagnostic: Diagnostic)] = []) {
        self.file = file
        self.body = body
        self.comments = comments
        self.problems = problems
    }
}

public struct PyArg: Sendable {
    public var name: String
    public var annotation: PyExpr?
    public var loc: SourceLocation
    public init(name: String, annotation: PyExpr?, loc: SourceLocation) {
        self.name = name
        self.annotation = annotation
        self.loc = loc
    }
}

public struct PyFunctionDef: Sendable {
    public var name: String
    public var args: [PyArg]
    /// Defaults for the last `defaults.count` positional arguments.
    public var defaults: [PyExpr]
    public var body: [PyStmt]
    public var decorators: [PyExpr]
    public var returns: PyExpr?
    public var loc: SourceLocation
    /// Constructs Braid cannot compile, found while parsing this function (its parameters,
    /// defaults and body, not nested functions): `*args`, keyword-only and `**kwargs`
    /// parameters, integer literals beyond 64 bits, ... They are raised only when the function
    /// is compiled or inlined into compiled code, so a file may use them in helpers that only
    /// run under CPython (e.g. `initialize`). The offending nodes are `.unsupported` here.
    public var problems: [Diagnostic]
    public init(name: String, args: [PyArg], defaults: [PyExpr], body: [PyStmt],
                decorators: [PyExpr], returns: PyExpr?, loc: SourceLocation, problems: [Diagnostic] = []) {
        self.name = name
        self.args = args
        self.defaults = defaults
        self.body = body
        self.decorators = decorators
        self.returns = returns
        self.loc = loc
        self.problems = problems
    }
}

public struct PyAlias: Sendable {
    public var name: String
    public var asname: String?
    public init(name: String, asname: String?) {
        self.name = name
        self.asname = asname
    }
}

public struct PyKeyword: Sendable {
    /// `nil` for `**kwargs`.
    public var arg: String?
    public var value: PyExpr
    public init(arg: String?, value: PyExpr) {
        self.arg = arg
        self.value = value
    }
}

public enum PyBinOp: String, Sendable {
    case add = "Add", sub = "Sub", mult = "Mult", matMult = "MatMult", div = "Div", mod = "Mod"
    case pow = "Pow", lShift = "LShift", rShift = "RShift", bitOr = "BitOr", bitXor = "BitXor"
    case bitAnd = "BitAnd", floorDiv = "FloorDiv"
}

public enum PyUnaryOp: String, Sendable {
    case invert = "Invert", not = "Not", uAdd = "UAdd", uSub = "USub"
}

public enum PyBoolOp: String, Sendable {
    case and = "And", or = "Or"
}

public enum PyCmpOp: String, Sendable {
    case eq = "Eq", notEq = "NotEq", lt = "Lt", ltE = "LtE", gt = "Gt", gtE = "GtE"
    case `is` = "Is", isNot = "IsNot", `in` = "In", notIn = "NotIn"
}

/// A Python constant literal.
public enum PyConstant: Sendable, Equatable {
    case int(Int)
    case float(Double)
    case complex(real: Double, imag: Double)
    case bool(Bool)
    case string(String)
    case none
    case ellipsis
}

public indirect enum PyExprKind: Sendable {
    case name(String)
    case constant(PyConstant)
    case attribute(PyExpr, String)
    case `subscript`(PyExpr, PyExpr)
    /// `lower:upper:step` inside a subscript.
    case slice(lower: PyExpr?, upper: PyExpr?, step: PyExpr?)
    case tuple([PyExpr])
    case list([PyExpr])
    case binOp(PyExpr, PyBinOp, PyExpr)
    case unaryOp(PyUnaryOp, PyExpr)
    case boolOp(PyBoolOp, [PyExpr])
    case compare(PyExpr, [PyCmpOp], [PyExpr])
    case call(PyExpr, args: [PyExpr], keywords: [PyKeyword])
    case ifExp(test: PyExpr, body: PyExpr, orelse: PyExpr)
    /// `[element for target in iter]` (or a generator expression, `generator` true) with one
    /// `for` and no `if`, where it is not unrolled at parse time.
    case comprehension(element: PyExpr, target: PyExpr, iter: PyExpr, generator: Bool)
    /// `*x` in a call or tuple.
    case starred(PyExpr)
    /// Any other expression kind, by its `ast` class name (e.g. "Lambda").
    case unsupported(String)
}

public struct PyExpr: Sendable {
    public var kind: PyExprKind
    public var loc: SourceLocation
    public init(_ kind: PyExprKind, _ loc: SourceLocation) {
        self.kind = kind
        self.loc = loc
    }
}

public indirect enum PyStmtKind: Sendable {
    case functionDef(PyFunctionDef)
    case assign(targets: [PyExpr], value: PyExpr)
    case augAssign(target: PyExpr, op: PyBinOp, value: PyExpr)
    /// `x: T = v` (value optional).
    case annAssign(target: PyExpr, annotation: PyExpr, value: PyExpr?)
    case exprStmt(PyExpr)
    case `return`(PyExpr?)
    case `for`(target: PyExpr, iter: PyExpr, body: [PyStmt], orelse: [PyStmt])
    case `while`(test: PyExpr, body: [PyStmt], orelse: [PyStmt])
    case `if`(test: PyExpr, body: [PyStmt], orelse: [PyStmt])
    case `import`([PyAlias])
    case importFrom(module: String?, names: [PyAlias], level: Int)
    case pass
    case `break`
    case `continue`
    /// `assert test, msg`
    case assert(test: PyExpr, msg: PyExpr?)
    /// Any other statement kind, by its `ast` class name (e.g. "With", "Try").
    case unsupported(String)
}

public struct PyStmt: Sendable {
    public var kind: PyStmtKind
    public var loc: SourceLocation
    public init(_ kind: PyStmtKind, _ loc: SourceLocation) {
        self.kind = kind
        self.loc = loc
    }
}

// MARK: - Names a function refers to

extension PyFunctionDef {
    /// Every name the function's defaults and body read or call (not nested functions'
    /// bodies), e.g. to find the helpers and module constants compiled code depends on.
    public var referencedNames: Set<String> {
        var names = Set<String>()
        for d in defaults { d.collectNames(into: &names) }
        for s in body { s.collectNames(into: &names) }
        return names
    }
}

extension PyFunctionDef {
    /// The function's local names: parameters and every name its body binds (Python makes a
    /// name local to the whole function when any statement of it assigns the name).
    public var localNames: Set<String> {
        var names = Set(args.map(\.name))
        func targets(_ e: PyExpr) {
            switch e.kind {
            case .name(let n): names.insert(n)
            case .tuple(let es), .list(let es): es.forEach(targets)
            case .starred(let x): targets(x)
            default: break
            }
        }
        func block(_ ss: [PyStmt]) {
            for s in ss {
                switch s.kind {
                case .assign(let ts, _): ts.forEach(targets)
                case .augAssign(let t, _, _), .annAssign(let t, _, _): targets(t)
                case .for(let t, _, let body, let orelse):
                    targets(t)
                    block(body)
                    block(orelse)
                case .while(_, let body, let orelse), .if(_, let body, let orelse):
                    block(body)
                    block(orelse)
                case .functionDef(let f): names.insert(f.name)
                case .import(let aliases): for a in aliases { names.insert(a.asname ?? String(a.name.prefix { $0 != "." })) }
                case .importFrom(_, let aliases, _): for a in aliases { names.insert(a.asname ?? a.name) }
                default: break
                }
            }
        }
        block(body)
        return names
    }
}

extension PyStmt {
    func collectNames(into names: inout Set<String>) {
        func all(_ es: [PyExpr]) { for e in es { e.collectNames(into: &names) } }
        func block(_ ss: [PyStmt]) { for s in ss { s.collectNames(into: &names) } }
        switch kind {
        case .functionDef(let f):
            all(f.defaults)  // evaluated where the def runs; the body only when called
        case .assign(let targets, let value):
            all(targets)
            value.collectNames(into: &names)
        case .augAssign(let target, _, let value):
            target.collectNames(into: &names)
            value.collectNames(into: &names)
        case .annAssign(let target, _, let value):
            target.collectNames(into: &names)
            value?.collectNames(into: &names)
        case .exprStmt(let e):
            e.collectNames(into: &names)
        case .return(let e):
            e?.collectNames(into: &names)
        case .for(let target, let iter, let body, let orelse):
            target.collectNames(into: &names)
            iter.collectNames(into: &names)
            block(body)
            block(orelse)
        case .while(let test, let body, let orelse), .if(let test, let body, let orelse):
            test.collectNames(into: &names)
            block(body)
            block(orelse)
        case .assert(let test, let msg):
            test.collectNames(into: &names)
            msg?.collectNames(into: &names)
        case .import, .importFrom, .pass, .break, .continue, .unsupported:
            break
        }
    }
}

extension PyExpr {
    func collectNames(into names: inout Set<String>) {
        func all(_ es: [PyExpr]) { for e in es { e.collectNames(into: &names) } }
        switch kind {
        case .name(let n):
            names.insert(n)
        case .constant, .unsupported:
            break
        case .attribute(let base, _):
            base.collectNames(into: &names)
        case .subscript(let base, let index):
            base.collectNames(into: &names)
            index.collectNames(into: &names)
        case .slice(let lower, let upper, let step):
            all([lower, upper, step].compactMap { $0 })
        case .tuple(let es), .list(let es), .boolOp(_, let es):
            all(es)
        case .binOp(let a, _, let b):
            a.collectNames(into: &names)
            b.collectNames(into: &names)
        case .unaryOp(_, let a), .starred(let a):
            a.collectNames(into: &names)
        case .compare(let first, _, let rest):
            first.collectNames(into: &names)
            all(rest)
        case .call(let fn, let args, let keywords):
            fn.collectNames(into: &names)
            all(args)
            all(keywords.map(\.value))
        case .ifExp(let test, let body, let orelse):
            all([test, body, orelse])
        case .comprehension(let element, let target, let iter, _):
            all([element, target, iter])
        }
    }
}

extension PyExpr {
    /// This expression with every read of `name` replaced by the constant `value` (for
    /// unrolling a comprehension; the tree holds no binding constructs other than
    /// comprehensions, which are unrolled or unsupported before this runs).
    func substituting(_ name: String, with value: PyConstant) -> PyExpr {
        func sub(_ e: PyExpr) -> PyExpr { e.substituting(name, with: value) }
        let k: PyExprKind
        switch kind {
        case .name(let n): k = n == name ? .constant(value) : kind
        case .constant, .unsupported: k = kind
        case .attribute(let base, let attr): k = .attribute(sub(base), attr)
        case .subscript(let base, let index): k = .subscript(sub(base), sub(index))
        case .slice(let lower, let upper, let step): k = .slice(lower: lower.map(sub), upper: upper.map(sub), step: step.map(sub))
        case .tuple(let es): k = .tuple(es.map(sub))
        case .list(let es): k = .list(es.map(sub))
        case .binOp(let a, let op, let b): k = .binOp(sub(a), op, sub(b))
        case .unaryOp(let op, let a): k = .unaryOp(op, sub(a))
        case .boolOp(let op, let es): k = .boolOp(op, es.map(sub))
        case .compare(let first, let ops, let rest): k = .compare(sub(first), ops, rest.map(sub))
        case .call(let fn, let args, let keywords):
            k = .call(sub(fn), args: args.map(sub), keywords: keywords.map { PyKeyword(arg: $0.arg, value: sub($0.value)) })
        case .ifExp(let test, let body, let orelse): k = .ifExp(test: sub(test), body: sub(body), orelse: sub(orelse))
        case .comprehension(let element, let target, let iter, let generator):
            // The target binds its names inside the element.
            var bound = Set<String>()
            target.collectNames(into: &bound)
            k = .comprehension(element: bound.contains(name) ? element : sub(element), target: target, iter: sub(iter), generator: generator)
        case .starred(let a): k = .starred(sub(a))
        }
        return PyExpr(k, loc)
    }
}
