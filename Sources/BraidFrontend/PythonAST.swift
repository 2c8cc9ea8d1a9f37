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
    /// Comment lines of the file (for `#pythran export` signatures), with their line numbers.
    public var comments: [(line: Int, text: String)]
    public init(file: String, body: [PyStmt], comments: [(line: Int, text: String)]) {
        self.file = file
        self.body = body
        self.comments = comments
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
    public init(name: String, args: [PyArg], defaults: [PyExpr], body: [PyStmt],
                decorators: [PyExpr], returns: PyExpr?, loc: SourceLocation) {
        self.name = name
        self.args = args
        self.defaults = defaults
        self.body = body
        self.decorators = decorators
        self.returns = returns
        self.loc = loc
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
