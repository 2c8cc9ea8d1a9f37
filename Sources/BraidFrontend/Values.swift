import BraidIR

/// One dimension of a view into a container.
enum ViewDim: Hashable {
    /// The dimension is indexed away (`A[i, :]` drops dim 0).
    case fixed(Index)
    /// A kept dimension: `length` elements from `start` by `step`.
    case range(start: SymExpr, length: SymExpr, step: SymExpr)
}

/// A (possibly sliced) view of a container: what a Python name bound to an array denotes.
struct ArrayView: Hashable {
    var container: String
    var dims: [ViewDim]
    var dtype: DType

    var shape: [SymExpr] {
        dims.compactMap { if case .range(_, let n, _) = $0 { return n } else { return nil } }
    }

    /// The whole container.
    static func whole(_ c: Container) -> ArrayView {
        ArrayView(container: c.name, dims: c.shape.map { .range(start: .zero, length: $0, step: .one) }, dtype: c.dtype)
    }

    /// The point memlet for element `idx` of the view (one index per kept dimension).
    func memlet(at idx: [Index]) -> Memlet {
        var k = 0
        var subset: [Subscript] = []
        for d in dims {
            switch d {
            case .fixed(let i): subset.append(.index(i))
            case .range(let start, _, let step):
                subset.append(.index(Self.offset(start, step, idx[k])))
                k += 1
            }
        }
        return Memlet(data: container, subset: subset)
    }

    /// The range memlet covering the whole view.
    var memlet: Memlet {
        Memlet(data: container, subset: dims.map { d in
            switch d {
            case .fixed(let i): return .index(i)
            case .range(let s, let n, let st): return .range(start: s, end: s + st * n, step: st)
            }
        })
    }

    static func offset(_ start: SymExpr, _ step: SymExpr, _ i: Index) -> Index {
        switch i {
        case .sym(let e): return .sym(start + step * e)
        case .dynamic(let e):
            var v = e
            if step != .one { v = .binary(.mul, .symbol(step), v, .int64) }
            if start != .zero { v = .binary(.add, .symbol(start), v, .int64) }
            return .dynamic(v)
        }
    }
}

/// An elementwise array expression that has not been materialized: NumPy temporaries
/// never exist; the expression is evaluated per element inside the consuming map.
indirect enum LazyNode: Hashable {
    case view(ArrayView)
    /// A scalar broadcast to the shape.
    case scalar(ScalarExpr)
    case unary(UnaryOp, Lazy)
    case binary(BinaryOp, Lazy, Lazy)
    case call(Intrinsic, [Lazy])
    case select(Lazy, Lazy, Lazy)
    case cast(Lazy)
}

struct Lazy: Hashable {
    var node: LazyNode
    var shape: [SymExpr]
    var dtype: DType

    /// The scalar expression of element `idx` (one index per dimension of `shape`),
    /// applying NumPy broadcasting to operands of lower rank or size-1 dimensions.
    func element(at idx: [Index]) -> ScalarExpr {
        func sub(_ operand: Lazy) -> [Index] {
            let off = idx.count - operand.shape.count
            return operand.shape.enumerated().map { k, d in
                d == .one && shape[off + k] != .one ? .sym(.zero) : idx[off + k]
            }
        }
        switch node {
        case .view(let v): return .load(v.memlet(at: idx), dtype)
        case .scalar(let s): return s
        case .unary(let op, let a): return .unary(op, a.element(at: sub(a)), dtype)
        case .binary(let op, let a, let b): return .binary(op, a.element(at: sub(a)), b.element(at: sub(b)), dtype)
        case .call(let f, let args): return .call(f, args.map { $0.element(at: sub($0)) }, dtype)
        case .select(let c, let a, let b):
            return .select(c.element(at: sub(c)), a.element(at: sub(a)), b.element(at: sub(b)), dtype)
        case .cast(let a):
            let e = a.element(at: sub(a))
            return e.dtype == dtype ? e : .cast(e, dtype)
        }
    }

    /// Containers read, with the views that read them.
    var views: [ArrayView] {
        switch node {
        case .view(let v): return [v]
        case .scalar: return []
        case .unary(_, let a), .cast(let a): return a.views
        case .binary(_, let a, let b): return a.views + b.views
        case .call(_, let args): return args.flatMap(\.views)
        case .select(let c, let a, let b): return c.views + a.views + b.views
        }
    }

    /// The view, if the expression is a plain view (no computation).
    var asView: ArrayView? {
        if case .view(let v) = node { return v }
        return nil
    }
}

/// The value of a Python expression during lowering.
indirect enum Value {
    /// A scalar; `weak` marks Python literals, which NumPy 2 does not let widen arrays.
    case scalar(ScalarExpr, weak: Bool)
    /// An array: a view or a lazy elementwise expression.
    case array(Lazy)
    case tuple([Value])
    case none
    case string(String)
    /// A function defined in the same file (inlined when called).
    case function(String)
    /// A module alias (`np`, `br`, `dace`) or a dotted path inside one (`np.linalg`).
    case module(String)
    /// `braid.map` / `dace.map` (only valid as a `for` iterable).
    case mapRange
    /// A Python `slice` inside a subscript.
    case slice(lower: Value?, upper: Value?, step: Value?)
    /// A dtype object (`np.float64`, `br.int32`) used as a value.
    case dtype(DType)

    var kindName: String {
        switch self {
        case .scalar: return "scalar"
        case .array: return "array"
        case .tuple: return "tuple"
        case .none: return "None"
        case .string: return "string"
        case .function: return "function"
        case .module: return "module"
        case .mapRange: return "map"
        case .slice: return "slice"
        case .dtype: return "dtype"
        }
    }
}
