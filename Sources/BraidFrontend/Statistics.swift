import BraidIR

/// `np.select`, `np.trace`, `np.diag`, `np.cross`, `np.cov`, `np.corrcoef`, `np.histogram`.
extension FunctionLowerer {
    /// `np.select(condlist, choicelist, default=0)`: the first true condition picks its
    /// choice; the result type is the common type of the choices and the default (Python
    /// scalars weak, as NumPy 2).
    func selectCall(_ a: CallArgs) throws -> Value {
        try a.check(maxPositional: 3, allowed: ["default"])
        guard case .tuple(let conds) = try a.require(0, "condlist"), case .tuple(let choices) = try a.require(1, "choicelist") else {
            throw Diagnostic(a.loc, "np.select takes a list of conditions and a list of choices")
        }
        guard conds.count == choices.count else {
            throw Diagnostic(a.loc, "np.select: list of cases must be same length as list of conditions")
        }
        guard !conds.isEmpty else { throw Diagnostic(a.loc, "np.select needs at least one condition") }
        let fallback = a.get(2, "default") ?? .scalar(.symbol(.zero), weak: true)
        var t: DType? = nil, weak = true
        for v in choices + [fallback] {
            let l = try lazy(v, loc: a.loc)
            if let cur = t { (t, weak) = Typing.common(cur, weakA: weak, l.dtype, weakB: isWeak(v)) } else { (t, weak) = (l.dtype, isWeak(v)) }
        }
        for c in conds {
            guard try lazy(c, loc: a.loc).dtype == .bool else {
                throw Diagnostic(a.loc, "np.select: conditions must be boolean arrays (compare, e.g. x > 0)")
            }
        }
        let rt = t!
        // Everything is cast to the common type first, so a weak scalar cannot widen it.
        var result = try castValue(fallback, rt)
        for (c, v) in zip(conds, choices).reversed() {
            result = try select(c, try castValue(v, rt), result, loc: a.loc)
        }
        // A select of scalars only is a 0-d array in NumPy: a strong scalar here.
        if case .scalar(let x, _) = result { return .scalar(cast(x, rt), weak: false) }
        if case .array(let l) = result, l.dtype != rt { return .array(castLazy(l, rt)) }
        return result
    }

    /// The `k`-th diagonal of the last two dimensions of a 2-D view, as a view.
    func diagonalView(_ v: ArrayView, offset k: Int, loc: SourceLocation) throws -> ArrayView {
        guard v.shape.count == 2 else { throw Diagnostic(loc, "this needs a 2-D array") }
        let n = v.shape[0], m = v.shape[1]
        let p = SymExpr.sym(ArrayView.placeholder(0))
        let len = k >= 0 ? SymExpr.minimum(n, m - .int(k)) : SymExpr.minimum(n + .int(k), m)
        let clamped = len.constant.map { SymExpr.int(max($0, 0)) } ?? SymExpr.maximum(len, .zero)
        return v.reindexed(shape: [clamped], k >= 0 ? [p, p + .int(k)] : [p - .int(k), p])
    }

    func constantInt(_ v: Value?, _ what: String, default d: Int, loc: SourceLocation) throws -> Int {
        guard let v, !isNone(v) else { return d }
        guard case .scalar(.symbol(.int(let k)), _) = v else { throw Diagnostic(loc, "\(what) must be an integer constant") }
        return k
    }

    /// `np.trace(a, offset=0)` of a 2-D array: the sum of a diagonal (dtype as np.sum).
    func traceCall(_ a: CallArgs) throws -> Value {
        try a.check(maxPositional: 2, allowed: ["offset"])
        let x = try viewOf(try a.require(0, "a"), loc: a.loc)
        guard x.shape.count == 2 else { throw Diagnostic(a.loc, "np.trace is supported for 2-D arrays") }
        let k = try constantInt(a.get(1, "offset"), "offset", default: 0, loc: a.loc)
        let d = try diagonalView(x, offset: k, loc: a.loc)
        return try reduce(.add, .array(Lazy(node: .view(d), shape: d.shape, dtype: d.dtype)), axes: nil, keepdims: false, loc: a.loc)
    }

    /// `np.diag(v, k=0)`: a 1-D v becomes a square matrix with v on diagonal k; a 2-D v
    /// gives its diagonal k (a view, read-only in NumPy).
    func diagCall(_ a: CallArgs) throws -> Value {
        try a.check(maxPositional: 2, allowed: ["k"])
        let k = try constantInt(a.get(1, "k"), "k", default: 0, loc: a.loc)
        let l = try lazy(try a.require(0, "v"), loc: a.loc)
        switch l.shape.count {
        case 1:
            let n = l.shape[0] + .int(abs(k))
            return try generate("diag", l.dtype, [n, n], loc: a.loc) { idx in
                let onDiagonal = ScalarExpr.binary(.eq, .symbol(idx[1] - idx[0]), .symbol(.int(k)), .bool)
                let at = k >= 0 ? idx[0] : idx[1]
                // The index is clamped so that the load stays inside v off the diagonal.
                let safe = SymExpr.minimum(at, l.shape[0] - 1)
                return .select(onDiagonal, l.element(at: [safe]), cast(.symbol(.zero), l.dtype), l.dtype)
            }
        case 2:
            let d = try diagonalView(try viewOf(.array(l), loc: a.loc), offset: k, loc: a.loc)
            return .array(Lazy(node: .view(d), shape: d.shape, dtype: d.dtype))
        default:
            throw Diagnostic(a.loc, "np.diag takes a 1-D or 2-D array")
        }
    }

    /// `np.cross(a, b)` of 3-vectors along the last axis (broadcasting the others).
    func crossCall(_ a: CallArgs) throws -> Value {
        try a.check(maxPositional: 2, allowed: [])
        let x = try lazy(try a.require(0, "a"), loc: a.loc), y = try lazy(try a.require(1, "b"), loc: a.loc)
        guard let dx = x.shape.last, let dy = y.shape.last else { throw Diagnostic(a.loc, "np.cross needs arrays of vectors") }
        // Other lengths (2-vectors) are not supported; unknown lengths are checked when called.
        for d in [dx, dy] where d != .int(3) {
            if let c = d.constant { throw Diagnostic(a.loc, "np.cross is supported for 3-vectors only (got length \(c))") }
            _ = try agree(d, .int(3), loc: a.loc, broadcasting: false)
        }
        let t = DType.promote(x.dtype, y.dtype)
        guard !t.isBool else { throw Diagnostic(a.loc, "np.cross of boolean arrays is not supported (NumPy rejects it too)") }
        let batch = try broadcast(Array(x.shape.dropLast()), Array(y.shape.dropLast()), loc: a.loc)
        let xs = castLazy(x, t), ys = castLazy(y, t)
        func comp(_ l: Lazy, _ idx: [SymExpr], _ j: SymExpr) -> ScalarExpr {
            let off = batch.count - (l.shape.count - 1)
            var sub = l.shape.dropLast().enumerated().map { k, d in d == .one && batch[off + k] != .one ? SymExpr.zero : idx[off + k] }
            sub.append(j)
            return l.element(at: sub)
        }
        return try generate("cross", t, batch + [.int(3)], loc: a.loc) { idx in
            let j = idx.last!, b = Array(idx.dropLast())
            let j1 = SymExpr.modulo(j + 1, .int(3)), j2 = SymExpr.modulo(j + 2, .int(3))
            return .binary(.sub, .binary(.mul, comp(xs, b, j1), comp(ys, b, j2), t),
                           .binary(.mul, comp(xs, b, j2), comp(ys, b, j1), t), t)
        }
    }

    /// `np.cov(m, rowvar=True, bias=False, ddof=None)` as NumPy computes it: center each
    /// variable on its mean, `X @ X.T` (BLAS), times `1 / (N - ddof)`.
    func covariance(_ a: CallArgs) throws -> (Value, isScalar: Bool) {
        if a.keywords["y"] != nil || a.positional.count > 1 {
            throw Diagnostic(a.loc, "np.\(a.function) with a second array (y) is not supported; stack the variables with np.vstack first")
        }
        try a.check(maxPositional: 1, allowed: ["rowvar", "bias", "ddof"])
        var l = try lazy(try a.require(0, "m"), loc: a.loc)
        guard !l.dtype.isComplex else { throw Diagnostic(a.loc, "np.cov of complex data is not supported yet") }
        guard (1...2).contains(l.shape.count) else { throw Diagnostic(a.loc, "np.cov takes a 1-D or 2-D array") }
        func flag(_ name: String, _ d: Bool) throws -> Bool {
            guard let v = a.keywords[name] else { return d }
            guard case .scalar(.literal(.bool(let b), _), _) = v else { throw Diagnostic(a.loc, "\(name) must be True or False") }
            return b
        }
        let rowvar = try flag("rowvar", true), bias = try flag("bias", false)
        let ddof = try constantInt(a.keywords["ddof"], "ddof", default: bias ? 0 : 1, loc: a.loc)
        let scalarResult = l.shape.count == 1 || (l.shape.count == 2 && (rowvar ? l.shape[0] : l.shape[1]) == .one)
        if l.shape.count == 1 {
            l = try lazy(try reshape(.array(l), [.one, l.shape[0]], loc: a.loc), loc: a.loc)
        } else if !rowvar {
            l = try lazy(try transpose(.array(l), axes: nil, loc: a.loc), loc: a.loc)
        }
        let t = DType.float64
        let x = castLazy(l, t)
        let n = l.shape[1]
        let mean = try moment("mean", .array(x), axes: [1], keepdims: true, ddof: 0, loc: a.loc)
        let centered = try materializeNew(try lazy(try arith(.sub, .array(x), mean, loc: a.loc), loc: a.loc), hint: "centered", loc: a.loc)
        let product = try matmul(.array(centered), try transpose(.array(centered), axes: nil, loc: a.loc), loc: a.loc)
        let fact = ScalarExpr.cast(.symbol(n - .int(ddof)), .float64)
        let scale = ScalarExpr.binary(.div, .literal(.float(1), .float64), fact, .float64)
        let c = try arith(.mul, product, .scalar(scale, weak: false), loc: a.loc)
        if scalarResult {
            let cl = try lazy(c, loc: a.loc)
            return (.scalar(cl.element(at: [.zero, .zero]), weak: false), true)
        }
        return (c, false)
    }

    func covCall(_ a: CallArgs) throws -> Value {
        let (c, isScalar) = try covariance(a)
        if isScalar, case .scalar(let x, _) = c {
            // NumPy returns a 0-d array; a scalar is what it converts to.
            return .scalar(x, weak: false)
        }
        return c
    }

    /// `np.corrcoef(x, rowvar=True)`: the covariance divided by the outer product of the
    /// standard deviations (one division at a time, as NumPy), clipped to [-1, 1].
    func corrcoefCall(_ a: CallArgs) throws -> Value {
        try a.check(maxPositional: 1, allowed: ["rowvar"])
        let (c, isScalar) = try covariance(a)
        if isScalar { return try arith(.div, c, c, loc: a.loc) }
        let cv = try viewOf(c, loc: a.loc)
        let d = try diagonalView(cv, offset: 0, loc: a.loc)
        let stddev = try materializeNew(try lazy(try intrinsic(.sqrt, [.array(Lazy(node: .view(d), shape: d.shape, dtype: d.dtype))], loc: a.loc), loc: a.loc),
                                        hint: "stddev", loc: a.loc)
        let sv = stddev.asView!
        let col = sv.reindexed(shape: [sv.shape[0], .one], [.sym(ArrayView.placeholder(0))])
        let row = sv.reindexed(shape: [.one, sv.shape[0]], [.sym(ArrayView.placeholder(1))])
        var r = try arith(.div, .array(Lazy(node: .view(cv), shape: cv.shape, dtype: cv.dtype)), .array(Lazy(node: .view(col), shape: col.shape, dtype: col.dtype)), loc: a.loc)
        r = try arith(.div, r, .array(Lazy(node: .view(row), shape: row.shape, dtype: row.dtype)), loc: a.loc)
        r = try arith(.max, r, .scalar(.literal(.float(-1), .float64), weak: true), loc: a.loc)
        return try arith(.min, r, .scalar(.literal(.float(1), .float64), weak: true), loc: a.loc)
    }

    /// `np.histogram(a, bins=10, range=None)` with equal-width bins, computed as NumPy does
    /// (the same edges, the same index arithmetic and corrections, the last bin closed).
    func histogramCall(_ a: CallArgs) throws -> Value {
        try a.check(maxPositional: 3, allowed: ["bins", "range", "weights", "density"])
        var density = false
        if let d = a.keywords["density"], !isNone(d) {
            guard case .scalar(.literal(.bool(let b), _), _) = d else { throw Diagnostic(a.loc, "density must be True or False") }
            density = b
        }
        var data = try lazy(try a.require(0, "a"), loc: a.loc)
        guard !data.dtype.isComplex else { throw Diagnostic(a.loc, "np.histogram of complex data is not supported") }
        guard data.dtype == .float64 || data.dtype.isInteger || data.dtype.isBool else {
            throw Diagnostic(a.loc, "np.histogram is supported for float64, integer and boolean data (NumPy computes \(data.dtype.rawValue) data with \(data.dtype.rawValue) edges); convert with .astype(np.float64)")
        }
        let binsValue = a.get(1, "bins") ?? .scalar(.symbol(.int(10)), weak: true)
        guard case .scalar(let bx, _) = binsValue, bx.dtype.isInteger else {
            if case .string = binsValue {
                throw Diagnostic(a.loc, "np.histogram with a bin estimator name is not supported; pass bins as an integer")
            }
            throw Diagnostic(a.loc, "np.histogram with bins as an array of edges is not supported; pass bins as an integer (equal-width bins)")
        }
        let bins = symbolicValue(bx, loc: a.loc)
        if let b = bins.constant {
            guard b >= 1 else { throw Diagnostic(a.loc, "`bins` must be positive, when an integer") }
        } else {
            // NumPy raises ValueError; never index an empty counts array.
            emit(.branch(Branch(condition: .binary(.lt, .symbol(bins), .symbol(.one), .bool), then: [.fail(.invalidValue, a.loc)], orElse: [], loc: a.loc)))
        }
        if data.shape.count != 1 { data = try lazy(try reshape(.array(data), [.int(-1)], loc: a.loc), loc: a.loc) }
        var weights: Lazy? = nil
        if let w = a.keywords["weights"], !isNone(w) {
            var wl = try lazy(w, loc: a.loc)
            guard wl.dtype.isInteger || wl.dtype.isFloat else {
                throw Diagnostic(a.loc, "np.histogram weights must be integer or float arrays (not \(wl.dtype.rawValue))")
            }
            if wl.shape.count != 1 { wl = try lazy(try reshape(.array(wl), [.int(-1)], loc: a.loc), loc: a.loc) }
            // NumPy: "weights should have the same shape as a."
            _ = try agree(wl.shape[0], data.shape[0], loc: a.loc, broadcasting: false)
            weights = wl
        }
        let x = castLazy(data, .float64)
        let first = newScalar("first_edge", .float64), last = newScalar("last_edge", .float64)
        let firstV = ScalarExpr.load(.point(first, []), .float64), lastV = ScalarExpr.load(.point(last, []), .float64)
        if let r = a.get(2, "range"), !isNone(r) {
            guard case .tuple(let rs) = r, rs.count == 2, case .scalar(let lo, _) = rs[0], case .scalar(let hi, _) = rs[1] else {
                throw Diagnostic(a.loc, "range= must be a pair (lo, hi) of numbers")
            }
            if case .literal(.float(let l), _) = cast(lo, .float64), case .literal(.float(let h), _) = cast(hi, .float64) {
                guard l <= h else { throw Diagnostic(a.loc, "np.histogram: max must be larger than min in range parameter") }
                guard l.isFinite && h.isFinite else { throw Diagnostic(a.loc, "np.histogram: the range (\(l), \(h)) is not finite") }
            }
            emitTasklet(.point(first, []), cast(lo, .float64), loc: a.loc)
            emitTasklet(.point(last, []), cast(hi, .float64), loc: a.loc)
        } else {
            // NumPy: min and max of the data (an empty array gives (0, 1)).
            let n = data.shape[0]
            let lo = try reduce(.min, .array(x), axes: nil, keepdims: false, loc: a.loc)
            let hi = try reduce(.max, .array(x), axes: nil, keepdims: false, loc: a.loc)
            guard case .scalar(let lx, _) = lo, case .scalar(let hx, _) = hi else { throw Diagnostic(a.loc, "internal: histogram range") }
            // NumPy raises when the data's range is not finite, i.e. when any element is
            // NaN or infinite (counted directly: a parallel max may drop a NaN).
            let nonFinite = Lazy(node: .unary(.not, Lazy(node: .binary(.lt, Lazy(node: .call(.abs, [x]), shape: x.shape, dtype: .float64),
                                                                      Lazy(node: .scalar(.literal(.float(.infinity), .float64)), shape: [], dtype: .float64)),
                                                         shape: x.shape, dtype: .bool)), shape: x.shape, dtype: .bool)
            let count = try reduce(.add, .array(nonFinite), axes: nil, keepdims: false, loc: a.loc)
            guard case .scalar(let cnt, _) = count else { throw Diagnostic(a.loc, "internal: histogram count") }
            emit(.branch(Branch(condition: .binary(.gt, cnt, .literal(.int(0), .int64), .bool), then: [.fail(.invalidValue, a.loc)], orElse: [], loc: a.loc)))
            let empty = ScalarExpr.binary(.eq, .symbol(n), .symbol(.zero), .bool)
            emitTasklet(.point(first, []), .select(empty, .literal(.float(0), .float64), lx, .float64), loc: a.loc)
            emitTasklet(.point(last, []), .select(empty, .literal(.float(1), .float64), hx, .float64), loc: a.loc)
        }
        // A non-finite or inverted range raises (NumPy: ValueError), instead of counting nothing.
        let finite = { (e: ScalarExpr) in ScalarExpr.binary(.lt, .call(.abs, [e], .float64), .literal(.float(.infinity), .float64), .bool) }
        let bad = ScalarExpr.unary(.not, .binary(.and, .binary(.and, finite(firstV), finite(lastV), .bool), .binary(.le, firstV, lastV, .bool), .bool), .bool)
        emit(.branch(Branch(condition: bad, then: [.fail(.invalidValue, a.loc)], orElse: [], loc: a.loc)))
        // Equal edges widen to a unit interval.
        let same = ScalarExpr.binary(.eq, firstV, lastV, .bool)
        emit(.branch(Branch(condition: same, then: nested {
            emitTasklet(.point(first, []), .binary(.sub, firstV, .literal(.float(0.5), .float64), .float64), loc: a.loc)
            emitTasklet(.point(last, []), .binary(.add, lastV, .literal(.float(0.5), .float64), .float64), loc: a.loc)
        }, orElse: [], loc: a.loc)))
        // Edges: np.linspace(first, last, bins + 1).
        let binsF = ScalarExpr.cast(.symbol(bins), .float64)
        let step = ScalarExpr.binary(.div, .binary(.sub, lastV, firstV, .float64), binsF, .float64)
        let edgesValue = try generate("bin_edges", .float64, [bins + .one], loc: a.loc) { idx in
            .select(.binary(.eq, .symbol(idx[0]), .symbol(bins), .bool), lastV,
                    .binary(.add, firstV, .binary(.mul, cast(.symbol(idx[0]), .float64), step, .float64), .float64), .float64)
        }
        guard case .array(let edgesLazy) = edgesValue, let edges = edgesLazy.asView else { throw Diagnostic(a.loc, "internal: edges") }
        // Counts (int64), or weight sums in the weights' dtype.
        let ntype = weights?.dtype ?? .int64
        let counts = try newArray("hist", ntype, [bins], loc: a.loc)
        markWritten(counts.container)
        try emitMap([bins], loc: a.loc) { idx in emitTasklet(counts.memlet(at: idx), cast(.symbol(.zero), ntype), loc: a.loc) }
        let denom = ScalarExpr.binary(.sub, lastV, firstV, .float64)
        /// The bin of element i (NumPy's index arithmetic and edge corrections), then `add`.
        func binElement(_ i: SymExpr, _ add: @escaping (SymExpr) -> Void) {
            let v = newScalar("hv", .float64)
            emitTasklet(.point(v, []), x.element(at: [i]), loc: a.loc)
            let xv = ScalarExpr.load(.point(v, []), .float64)
            let inside = ScalarExpr.binary(.and, .binary(.ge, xv, firstV, .bool), .binary(.le, xv, lastV, .bool), .bool)
            let body = nested {
                let k = newScalar("bin", .int64)
                let f = ScalarExpr.binary(.mul, .binary(.div, .binary(.sub, xv, firstV, .float64), denom, .float64), binsF, .float64)
                emitTasklet(.point(k, []), .cast(f, .int64), loc: a.loc)
                let kv = SymExpr.sym(k)
                emitTasklet(.point(k, []), .select(.binary(.eq, .symbol(kv), .symbol(bins), .bool), .symbol(bins - .one), .symbol(kv), .int64), loc: a.loc)
                let lower = ScalarExpr.load(edges.memlet(at: [kv]), .float64)
                let upper = ScalarExpr.load(edges.memlet(at: [kv + .one]), .float64)
                let dec = nested { emitTasklet(.point(k, []), .symbol(kv - .one), loc: a.loc) }
                let inc = nested { emitTasklet(.point(k, []), .symbol(kv + .one), loc: a.loc) }
                let up = ScalarExpr.binary(.and, .binary(.ge, xv, upper, .bool), .binary(.ne, .symbol(kv), .symbol(bins - .one), .bool), .bool)
                emit(.branch(Branch(condition: .binary(.lt, xv, lower, .bool), then: dec,
                                    orElse: [.branch(Branch(condition: up, then: inc, orElse: [], loc: a.loc))], loc: a.loc)))
                add(kv)
            }
            emit(.branch(Branch(condition: inside, then: body, orElse: [], loc: a.loc)))
        }
        let n = data.shape[0]
        if let weights {
            // NumPy sums the weights of each block of 65536 elements in double precision
            // (np.bincount), converts the block's sums to the weights' dtype and adds them.
            let block = 65536
            let partial = try newArray("hist_block", .float64, [bins], loc: a.loc)
            markWritten(partial.container)
            let b = fresh("block")
            let blocks = SymExpr.floorDivide(n + .int(block - 1), .int(block))
            loopRanges[b] = SymRange(.zero, blocks)
            let perBlock = try nested {
                try emitMap([bins], loc: a.loc) { idx in emitTasklet(partial.memlet(at: idx), .literal(.float(0), .float64), loc: a.loc) }
                let i = fresh("k")
                let range = SymRange(.sym(b) * .int(block), .minimum(.sym(b) * .int(block) + .int(block), n))
                loopRanges[i] = range
                let inner = nested {
                    binElement(.sym(i)) { kv in
                        let slot = partial.memlet(at: [kv])
                        self.emitTasklet(slot, .binary(.add, .load(slot, .float64), self.cast(weights.element(at: [.sym(i)]), .float64), .float64), loc: a.loc)
                    }
                }
                emit(.forLoop(ForLoop(variable: i, range: range, body: inner, loc: a.loc)))
                try emitMap([bins], loc: a.loc) { idx in
                    emitTasklet(counts.memlet(at: idx), .binary(.add, .load(counts.memlet(at: idx), ntype),
                                                                .cast(.load(partial.memlet(at: idx), .float64), ntype), ntype), loc: a.loc)
                }
            }
            emit(.forLoop(ForLoop(variable: b, range: SymRange(.zero, blocks), body: perBlock, loc: a.loc)))
        } else {
            try emitLoops([n], loc: a.loc) { i in
                binElement(i[0]) { kv in
                    let slot = counts.memlet(at: [kv])
                    self.emitTasklet(slot, .binary(.add, .load(slot, .int64), .literal(.int(1), .int64), .int64), loc: a.loc)
                }
            }
        }
        var result = Value.array(Lazy(node: .view(counts), shape: counts.shape, dtype: ntype))
        if density {
            // NumPy: n / np.diff(bin_edges) / n.sum().
            let lowerEdges = edges.reindexed(shape: [bins], [.sym(ArrayView.placeholder(0))])
            let upperEdges = edges.reindexed(shape: [bins], [.sym(ArrayView.placeholder(0)) + .one])
            let widths = try arith(.sub, .array(Lazy(node: .view(upperEdges), shape: [bins], dtype: .float64)),
                                   .array(Lazy(node: .view(lowerEdges), shape: [bins], dtype: .float64)), loc: a.loc)
            let total = try reduce(.add, result, axes: nil, keepdims: false, loc: a.loc)
            result = try arith(.div, try arith(.div, result, widths, loc: a.loc), total, loc: a.loc)
        }
        return .tuple([result, edgesValue])
    }
}
