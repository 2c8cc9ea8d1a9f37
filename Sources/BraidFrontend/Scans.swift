import BraidIR

/// `np.roll`, the scans (`np.cumsum`, `np.cumprod`, `ufunc.accumulate`), the other ufunc
/// methods (`.reduce`, `.outer`, `.at`): sequential loops of tasklets and reindexed views.
extension FunctionLowerer {
    /// A view read as an expression: consumers see the same elements, but binding it to a
    /// name copies it (for functions that return new arrays in NumPy, such as `np.roll`).
    func copyOnBind(_ v: ArrayView) -> Lazy {
        let inner = Lazy(node: .view(v), shape: v.shape, dtype: v.dtype)
        return Lazy(node: .cast(inner), shape: v.shape, dtype: v.dtype)
    }

    /// Nested sequential `for` loops over `shape` (in C order), with the body built by `body`.
    func emitLoops(_ shape: [SymExpr], loc: SourceLocation, _ body: ([SymExpr]) throws -> Void) rethrows {
        let vars = shape.map { _ in fresh("k") }
        for (v, d) in zip(vars, shape) { loopRanges[v] = SymRange(.zero, d) }
        var inner = try nested { try body(vars.map { .sym($0) }) }
        for (v, d) in zip(vars, shape).reversed() {
            inner = [.forLoop(ForLoop(variable: v, range: SymRange(.zero, d), body: inner, loc: loc))]
        }
        for n in inner { emit(n) }
    }

    /// The shift argument of `np.roll`: integers (constants, symbols, integer scalars).
    func shiftValues(_ v: Value, loc: SourceLocation) throws -> [SymExpr] {
        switch v {
        case .tuple(let vs): return try vs.flatMap { try shiftValues($0, loc: loc) }
        case .scalar(let x, _) where x.dtype.isInteger || x.dtype.isBool:
            return [symbolicValue(cast(x, .int64), loc: loc)]
        case .array:
            throw Diagnostic(loc, "np.roll with an array of shifts is not supported; pass an integer or a tuple of integers")
        default:
            throw Diagnostic(loc, "np.roll's shift must be an integer or a tuple of integers")
        }
    }

    /// `np.roll(a, shift, axis=None)`: element i of the result is element (i - shift) mod n
    /// of `a` (along each axis, or of the flattened array), for any integer shift.
    func roll(_ v: Value, shift: Value, axis: Value?, loc: SourceLocation) throws -> Value {
        let view = try viewOf(v, loc: loc)
        let rank = view.shape.count
        var shifts = try shiftValues(shift, loc: loc)
        guard !shifts.isEmpty else { throw Diagnostic(loc, "np.roll needs at least one shift") }
        let placeholders = ArrayView.placeholders(rank)
        guard let axis, !isNone(axis) else {
            // The flattened array, rolled, in the original shape.
            guard shifts.count == 1 else {
                throw Diagnostic(loc, "np.roll without axis= takes one shift; pass axis= with a tuple of shifts")
            }
            if rank == 0 { return .array(copyOnBind(view)) }
            var strides = [SymExpr](repeating: .one, count: rank)
            for k in stride(from: rank - 2, through: 0, by: -1) { strides[k] = strides[k + 1] * view.shape[k + 1] }
            let total = view.shape.reduce(SymExpr.one, *)
            var lin = SymExpr.zero
            for k in 0..<rank { lin = lin + strides[k] * placeholders[k] }
            let src = SymExpr.modulo(lin - shifts[0], total)
            let map = (0..<rank).map { k -> SymExpr in
                let q = SymExpr.floorDivide(src, strides[k])
                return k == 0 ? q : .modulo(q, view.shape[k])
            }
            return .array(copyOnBind(view.reindexed(shape: view.shape, map)))
        }
        var axes = try intList(axis, loc: loc).map { a -> Int in
            let ax = a < 0 ? a + rank : a
            guard (0..<rank).contains(ax) else {
                throw Diagnostic(loc, "axis \(a) is out of bounds for an array of dimension \(rank)")
            }
            return ax
        }
        // NumPy broadcasts shift against axis (several shifts of one axis add up).
        if shifts.count == 1 && axes.count > 1 { shifts = Array(repeating: shifts[0], count: axes.count) }
        if axes.count == 1 && shifts.count > 1 { axes = Array(repeating: axes[0], count: shifts.count) }
        guard shifts.count == axes.count else {
            throw Diagnostic(loc, "np.roll: shift and axis must have the same length")
        }
        var rolled = view
        for (s, ax) in zip(shifts, axes) {
            var map = placeholders
            map[ax] = .modulo(placeholders[ax] - s, view.shape[ax])
            rolled = rolled.reindexed(shape: view.shape, map)
        }
        return .array(copyOnBind(rolled))
    }

    /// The type NumPy accumulates sums and products in: small integers and bool widen to
    /// the platform integer.
    func accumulationType(_ op: BinaryOp, _ t: DType) -> DType {
        guard op == .add || op == .mul else { return t }
        if t.isBool || (t.isSignedInteger && t.itemSize < 8) { return .int64 }
        if t.isUnsignedInteger && t.itemSize < 8 { return .uint64 }
        return t
    }

    /// An optional `dtype=` argument.
    func dtypeArgument(_ v: Value?, loc: SourceLocation) throws -> DType? {
        guard let v, !isNone(v) else { return nil }
        guard case .dtype(let d) = v else { throw Diagnostic(loc, "dtype must be a type such as np.float64") }
        return d
    }

    /// An optional integer `axis=` argument; `nil` for None or absent.
    func axisArgument(_ v: Value?, loc: SourceLocation) throws -> Int? {
        guard let v, !isNone(v) else { return nil }
        let axes = try intList(v, loc: loc)
        guard axes.count == 1 else { throw Diagnostic(loc, "axis must be one integer here") }
        return axes[0]
    }

    /// An inclusive scan along `axis` (nil: of the flattened array), sequential along the
    /// axis as NumPy (so floating-point sums round the same way), independent elsewhere.
    func scan(_ op: BinaryOp, _ v: Value, axis: Int?, dtype: DType?, loc: SourceLocation) throws -> Value {
        var l = try lazy(v, loc: loc)
        if axis == nil && l.shape.count != 1 {
            l = try lazy(try reshape(.array(l), [.int(-1)], loc: loc), loc: loc)
        }
        let rank = l.shape.count
        guard rank > 0 else { throw Diagnostic(loc, "a scan needs an array of at least one dimension") }
        let ax = try normalizedAxes([axis ?? 0], rank: rank, loc: loc)[0]
        let t = dtype ?? accumulationType(op, l.dtype)
        if (op == .max || op == .min) && t.isComplex {
            throw Diagnostic(loc, "maximum/minimum of complex numbers is not supported")
        }
        let input = castLazy(l, t)
        let out = try newArray("scan", t, l.shape, loc: loc)
        markWritten(out.container)
        let keptAxes = (0..<rank).filter { $0 != ax }
        try emitMap(keptAxes.map { l.shape[$0] }, loc: loc) { idx in
            let acc = newScalar("acc", t)
            var full = [SymExpr](repeating: .zero, count: rank)
            for (k, a) in keptAxes.enumerated() { full[a] = idx[k] }
            let k = fresh("k")
            loopRanges[k] = SymRange(.zero, l.shape[ax])
            full[ax] = .sym(k)
            let x = input.element(at: full)
            let accValue = ScalarExpr.load(.point(acc, []), t)
            // acc = x at the first element, acc op x after it.
            let combined = ScalarExpr.select(.binary(.eq, .symbol(.sym(k)), .symbol(.zero), .bool), x,
                                             .binary(op, accValue, x, t), t)
            let body = nested {
                emitTasklet(.point(acc, []), combined, loc: loc)
                emitTasklet(out.memlet(at: full), accValue, loc: loc)
            }
            emit(.forLoop(ForLoop(variable: k, range: SymRange(.zero, l.shape[ax]), body: body, loc: loc)))
        }
        return .array(Lazy(node: .view(out), shape: out.shape, dtype: t))
    }

    /// `np.add.outer(a, b)` and friends: `op(a[i..., None...], b[None..., j...])`.
    func ufuncOuter(_ op: BinaryOp, _ a: Value, _ b: Value, loc: SourceLocation) throws -> Value {
        let la = try lazy(a, loc: loc), lb = try lazy(b, loc: loc)
        var x: Value = a
        if !lb.shape.isEmpty && !la.shape.isEmpty {
            let va = try viewOf(a, loc: loc)
            let shape = va.shape + Array(repeating: SymExpr.one, count: lb.shape.count)
            let r = va.reindexed(shape: shape, ArrayView.placeholders(va.shape.count))
            x = .array(Lazy(node: .view(r), shape: shape, dtype: r.dtype))
        }
        return try arith(op, x, b, loc: loc)
    }

    /// `np.add.at(a, indices, b)` (and subtract/multiply/maximum/minimum): unbuffered, so
    /// repeated indices apply once per occurrence, in order. `indices` is an integer array
    /// (along the first axis) or a tuple of them (one per leading axis, broadcast together);
    /// every index is bounds-checked (and wrapped once if negative) before anything is written.
    func ufuncAt(_ op: BinaryOp, _ name: String, _ a: CallArgs) throws -> Value {
        try a.check(maxPositional: 3, allowed: [])
        let target = try a.require(0, "a"), index = try a.require(1, "indices")
        guard case .array(let tl) = target, let view = tl.asView else {
            throw Diagnostic(a.loc, "np.\(name).at needs an array variable (a name or a slice of one) to update in place")
        }
        let rank = view.shape.count
        guard rank > 0 else { throw Diagnostic(a.loc, "np.\(name).at needs an array of at least one dimension") }
        func integerIndex(_ v: Value) throws -> Lazy {
            switch v {
            case .array(let l) where l.dtype.isInteger:
                return l.asView == nil ? try materializeNew(l, hint: "at_index", loc: a.loc) : l
            case .scalar(let x, _) where x.dtype.isInteger:
                return Lazy(node: .scalar(x), shape: [], dtype: x.dtype)
            case .masked, .array:
                throw Diagnostic(a.loc, "np.\(name).at indices must be integers (a boolean mask is not supported; use a[mask] op= b)")
            default:
                throw Diagnostic(a.loc, "np.\(name).at takes integer indices: an array, a list, an integer, or a tuple of index arrays")
            }
        }
        var indices: [Lazy]
        switch index {
        case .tuple(let vs) where vs.contains(where: { if case .array = $0 { return true } else { return false } }):
            // One index (array) per leading axis.
            guard vs.count <= rank else { throw Diagnostic(a.loc, "np.\(name).at: too many indices for an array of dimension \(rank)") }
            indices = try vs.map(integerIndex)
        case .tuple(let vs):
            // A list of integers is an index array; a tuple of integers would select one element
            // of a multi-dimensional array, which the Python value cannot tell apart here.
            guard rank == 1 || vs.count == 1 else {
                throw Diagnostic(a.loc, "np.\(name).at with a tuple or list of integers on a \(rank)-D array is ambiguous here; pass np.array([...]) for rows, or a tuple of index arrays")
            }
            indices = [try integerIndex(.array(try lazy(index, loc: a.loc)))]
        default:
            indices = [try integerIndex(index)]
        }
        let m = indices.count
        let axisPlaceholders = (0..<m).map { ArrayView.placeholder($0) }
        for e in view.access {
            let used = e.freeSymbols.filter { axisPlaceholders.contains($0) }
            guard used.count <= 1, used.allSatisfy({ e.linear(in: $0) != nil }) else {
                throw Diagnostic(a.loc, "np.\(name).at on a reshaped view is not supported; update the original array")
            }
        }
        var indexShape: [SymExpr] = []
        for (k, idx) in indices.enumerated() {
            indexShape = try broadcast(indexShape, idx.shape, loc: a.loc)
            let n = view.shape[k]
            if idx.shape.isEmpty {
                let q = ScalarExpr.cast(idx.element(at: []), .int64)
                let bad = ScalarExpr.binary(.or, .binary(.lt, q, .symbol(-n), .bool), .binary(.ge, q, .symbol(n), .bool), .bool)
                emit(.branch(Branch(condition: bad, then: [.fail(.indexOutOfBounds, a.loc)], orElse: [], loc: a.loc)))
            } else {
                try checkBounds(idx, length: n, loc: a.loc)
            }
        }
        // The selected elements a[indices]: the index dimensions, then a's trailing ones.
        let selShape = indexShape + Array(view.shape.dropFirst(m))
        let value = try a.require(2, "b")
        var rhs = try lazy(value, loc: a.loc)
        _ = try broadcast(selShape, rhs.shape, loc: a.loc)
        if rhs.shape.count > selShape.count {
            throw Diagnostic(a.loc, "np.\(name).at: the values have more dimensions than a[indices]")
        }
        if rhs.views.contains(where: { $0.container == view.container }) {
            rhs = try materializeNew(rhs, hint: "at_values", loc: a.loc)
        }
        let (t, _) = Typing.common(view.dtype, weakA: false, rhs.dtype, weakB: isWeak(value))
        try checkOperandKinds(op, t, loc: a.loc)
        let (ot, _) = Typing.binary(op, t)
        let r = indexShape.count
        /// The index of `shape` (broadcast into `full`) at the loop indices `i`.
        func broadcastIndex(_ shape: [SymExpr], _ full: [SymExpr], _ i: [SymExpr]) -> [SymExpr] {
            let off = full.count - shape.count
            return shape.enumerated().map { k, d in d == .one && full[off + k] != .one ? SymExpr.zero : i[off + k] }
        }
        markWritten(view.container)
        try emitLoops(selShape, loc: a.loc) { i in
            var wrapped: [String: ScalarExpr] = [:]
            for (k, idx) in indices.enumerated() {
                let position = ScalarExpr.cast(idx.element(at: broadcastIndex(idx.shape, indexShape, Array(i[..<r]))), .int64)
                wrapped["$at\(k)"] = .select(.binary(.lt, position, .symbol(.zero), .bool),
                                             .binary(.add, position, .symbol(view.shape[k]), .int64), position, .int64)
            }
            let at = (0..<m).map { SymExpr.sym("$at\($0)") } + Array(i[r...])
            let pm = view.memlet(at: at)
            let memlet = Memlet(data: pm.data, subset: pm.subset.map { s in
                guard case .index(.sym(let e)) = s, let sym = e.freeSymbols.first(where: { wrapped[$0] != nil }),
                      let (c, rest) = e.linear(in: sym) else { return s }
                let w = wrapped[sym]!
                let scaled: ScalarExpr = c == 1 ? w : .binary(.mul, .symbol(.int(c)), w, .int64)
                return .index(.dynamic(rest == .zero ? scaled : .binary(.add, .symbol(rest), scaled, .int64)))
            })
            let current = ScalarExpr.load(memlet, view.dtype)
            let combined = ScalarExpr.binary(op, cast(current, ot), cast(rhs.element(at: broadcastIndex(rhs.shape, selShape, i)), ot), ot)
            emitTasklet(memlet, cast(combined, view.dtype), loc: a.loc)
        }
        return .none
    }
}
