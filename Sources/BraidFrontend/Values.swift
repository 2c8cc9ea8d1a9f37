import BraidIR

/// A view of a container: what a Python name bound to an array denotes. Slices (any
/// step), integer indices, `np.newaxis`, transposes and reshapes are all views: the
/// index of each container dimension is a symbolic expression of the view's indices,
/// written with the placeholders `ArrayView.placeholder(k)` for view dimension k.
struct ArrayView: Hashable {
    var container: String
    var dtype: DType
    var shape: [SymExpr]
    /// One index expression per container dimension.
    var access: [SymExpr]

    static func placeholder(_ k: Int) -> String { "$\(k)" }
    static func placeholders(_ n: Int) -> [SymExpr] { (0..<n).map { .sym(placeholder($0)) } }

    /// The whole container.
    static func whole(_ c: Container) -> ArrayView {
        ArrayView(container: c.name, dtype: c.dtype, shape: c.shape, access: placeholders(c.shape.count))
    }

    /// A new view in which old view index k is `map[k]`, an expression of the new view's indices.
    func reindexed(shape newShape: [SymExpr], _ map: [SymExpr]) -> ArrayView {
        var subst: [String: SymExpr] = [:]
        for (k, e) in map.enumerated() { subst[Self.placeholder(k)] = e }
        return ArrayView(container: container, dtype: dtype, shape: newShape,
                         access: access.map { $0.substituting(subst) })
    }

    /// The point memlet for element `idx` of the view (one index per view dimension).
    func memlet(at idx: [SymExpr]) -> Memlet {
        var subst: [String: SymExpr] = [:]
        for (k, e) in idx.enumerated() { subst[Self.placeholder(k)] = e }
        return Memlet(data: container, subset: access.map { .index(.sym($0.substituting(subst))) })
    }

    /// The range memlet covering the whole view, when the view is a plain strided box
    /// (dimensions in container order, positive steps); `nil` for transposed, reshaped
    /// or broadcast views.
    var rangeMemlet: Memlet? {
        var next = 0
        var subset: [Subscript] = []
        for e in access {
            let ps = e.freeSymbols.filter { $0.hasPrefix("$") }
            if ps.isEmpty {
                subset.append(.index(.sym(e)))
                continue
            }
            guard ps.count == 1, ps[0] == Self.placeholder(next), let (c, start) = e.linear(in: ps[0]), c > 0 else {
                return nil
            }
            subset.append(.range(start: start, end: start + .int(c) * shape[next], step: .int(c)))
            next += 1
        }
        return next == shape.count ? Memlet(data: container, subset: subset) : nil
    }

    /// Whether the view is exactly its whole container, in order.
    func isWhole(of c: Container) -> Bool {
        shape == c.shape && access == Self.placeholders(c.shape.count)
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
    /// Integer-array indexing of a view: view dimension `axes[j]` is indexed by `indices[j]`
    /// (the index arrays broadcast together, wrapping negative values once). The result's
    /// dimensions are the view's other dimensions, with the broadcast index shape inserted
    /// before the `at`-th of them.
    case gather(ArrayView, axes: [Int], indices: [Lazy], at: Int)
}

struct Lazy: Hashable {
    var node: LazyNode
    var shape: [SymExpr]
    var dtype: DType

    /// The scalar expression of element `idx` (one index per dimension of `shape`),
    /// applying NumPy broadcasting to operands of lower rank or size-1 dimensions.
    func element(at idx: [SymExpr]) -> ScalarExpr {
        func sub(_ operand: Lazy) -> [SymExpr] {
            let off = idx.count - operand.shape.count
            return operand.shape.enumerated().map { k, d in
                d == .one && shape[off + k] != .one ? .zero : idx[off + k]
            }
        }
        switch node {
        case .view(let v): return .load(v.memlet(at: idx), dtype)
        case .gather(let v, let axes, let indices, let at):
            let r = shape.count - (v.shape.count - axes.count)
            let indexShape = Array(shape[at..<(at + r)])
            let outer = Array(idx[..<at]) + Array(idx[(at + r)...])
            var viewIdx: [SymExpr] = []
            var next = 0
            for d in v.shape.indices {
                if let j = axes.firstIndex(of: d) {
                    viewIdx.append(.sym("$gather\(j)"))
                } else {
                    viewIdx.append(outer[next])
                    next += 1
                }
            }
            // Position j: the j-th index array's element, broadcast to the index shape; NumPy
            // wraps negative indices once.
            let positions: [ScalarExpr] = indices.enumerated().map { j, index in
                let off = r - index.shape.count
                let sub = index.shape.enumerated().map { k, d in
                    d == .one && indexShape[off + k] != .one ? SymExpr.zero : idx[at + off + k]
                }
                let position = ScalarExpr.cast(index.element(at: sub), .int64)
                // An integer item was checked and wrapped where it was lowered.
                if case .scalar = index.node { return position }
                let n = v.shape[axes[j]]
                return .select(.binary(.lt, position, .symbol(.zero), .bool),
                               .binary(.add, position, .symbol(n), .int64), position, .int64)
            }
            let m = v.memlet(at: viewIdx)
            return .load(Memlet(data: m.data, subset: m.subset.map { s in
                guard case .index(.sym(var e)) = s, e.freeSymbols.contains(where: { $0.hasPrefix("$gather") }) else { return s }
                var dynamic: ScalarExpr? = nil
                for (j, p) in positions.enumerated() where e.freeSymbols.contains("$gather\(j)") {
                    guard let (c, rest) = e.linear(in: "$gather\(j)") else { return s }
                    let scaled: ScalarExpr = c == 1 ? p : .binary(.mul, .symbol(.int(c)), p, .int64)
                    dynamic = dynamic.map { .binary(.add, $0, scaled, .int64) } ?? scaled
                    e = rest
                }
                guard let d = dynamic else { return s }
                return .index(.dynamic(e == .zero ? d : .binary(.add, .symbol(e), d, .int64)))
            }), dtype)
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
        case .gather(let v, _, let indices, _): return [v] + indices.flatMap(\.views)
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
    /// `x[mask]` with a boolean mask of x's shape: its size depends on the data, so it is
    /// only usable where no array of that size is needed (mask stores, reductions).
    case masked(Lazy, mask: Lazy)
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
        case .masked: return "boolean-mask selection"
        case .dtype: return "dtype"
        }
    }
}
