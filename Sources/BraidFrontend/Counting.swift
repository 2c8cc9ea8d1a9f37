import BraidIR

/// Functions whose results come from sorted or counted data: `np.bincount` and `np.unique`
/// (data-dependent lengths), `np.median`, `np.quantile`, `np.percentile` (of the sorted,
/// flattened data), and `np.convolve`.
enum CountingRegistry {
    static let functions: [String: NumPyFunction] = {
        var r: [String: NumPyFunction] = [:]
        r["bincount"] = NumPyFunction(family: .statistics, summary: "bincount(x, weights=None, minlength=0): non-negative integers; length max(x) + 1 (data-dependent); an empty x with weights raises") { l, a in
            try a.check(maxPositional: 3, allowed: ["weights", "minlength"])
            return try l.bincount(a)
        }
        r["unique"] = NumPyFunction(family: .sorting, summary: "unique(ar): the sorted distinct values of the flattened array (one NaN), data-dependent length") { l, a in
            try a.check(maxPositional: 1, allowed: ["return_index", "return_inverse", "return_counts", "axis", "equal_nan"])
            for k in ["return_index", "return_inverse", "return_counts"] {
                if let v = a.keywords[k], !(v.isFalse) {
                    throw Diagnostic(a.loc, "np.unique(..., \(k)=True) is not supported; compute it with np.sort and comparisons")
                }
            }
            if let ax = a.keywords["axis"], !l.isNone(ax) { throw Diagnostic(a.loc, "np.unique with axis= is not supported") }
            return try l.unique(try a.require(0, "ar"), loc: a.loc)
        }
        r["median"] = NumPyFunction(family: .statistics, summary: "median(a, axis=None|int): NaN where a slice holds a NaN") { l, a in
            try a.check(maxPositional: 2, allowed: ["axis"])
            return try l.median(try a.require(0, "a"), axis: try l.singleAxis(a.get(1, "axis"), loc: a.loc), loc: a.loc)
        }
        for (name, scale) in [("quantile", 1.0), ("percentile", 100.0)] {
            r[name] = NumPyFunction(family: .statistics, summary: "\(name)(a, q, axis=None|int), method='linear'; q a number or a list of numbers") { l, a in
                try a.check(maxPositional: 3, allowed: ["axis", "method"])
                if let m = a.keywords["method"], !{ if case .string("linear") = m { return true } else { return false } }() {
                    throw Diagnostic(a.loc, "np.\(name) supports method='linear' (the default) only")
                }
                return try l.quantile(try a.require(0, "a"), try a.require(1, "q"), axis: try l.singleAxis(a.get(2, "axis"), loc: a.loc),
                                      scale: scale, loc: a.loc)
            }
        }
        r["convolve"] = NumPyFunction(family: .linalg, summary: "convolve(a, v, mode='full'|'same'|'valid') of 1-D arrays") { l, a in
            try a.check(maxPositional: 3, allowed: ["mode"])
            var mode = "full"
            if let m = a.get(2, "mode") {
                guard case .string(let s) = m, ["full", "same", "valid"].contains(s) else {
                    throw Diagnostic(a.loc, "convolve(): mode must be 'full', 'same' or 'valid'")
                }
                mode = s
            }
            return try l.convolve(try a.require(0, "a"), try a.require(1, "v"), mode: mode, loc: a.loc)
        }
        return r
    }()
}

extension Value {
    /// A literal `False` (or absent-equivalent `None`).
    var isFalse: Bool {
        switch self {
        case .scalar(.literal(.bool(false), _), _), .none: return true
        default: return false
        }
    }
}

extension FunctionLowerer {
    /// An optional single integer axis (None or absent: nil).
    func singleAxis(_ v: Value?, loc: SourceLocation) throws -> Int? {
        guard let v, !isNone(v) else { return nil }
        let axes = try intList(v, loc: loc)
        guard axes.count == 1 else { throw Diagnostic(loc, "axis must be None or one integer here") }
        return axes[0]
    }

    /// The data sorted along `axis` (flattened when nil) as a view whose last dimension is
    /// that axis, and an accessor for element k (an int64 expression) of the row at `outer`.
    func sortedRows(_ v: Value, axis: Int?, loc: SourceLocation) throws -> (outer: [SymExpr], n: SymExpr, at: ([SymExpr], ScalarExpr) -> ScalarExpr, dtype: DType) {
        let rows: ArrayView
        if let axis {
            let x = try lazy(try compactedValue(v, loc: loc), loc: loc)
            let ax = try normalizedAxes([axis], rank: x.shape.count, loc: loc)[0]
            let sorted = try sortCall(CallArgs(positional: [.array(x)], keywords: ["axis": .scalar(.symbol(.int(ax)), weak: true)], loc: loc, function: "sort"), indices: false)
            let perm = x.shape.indices.filter { $0 != ax } + [ax]
            rows = try viewOf(try transpose(sorted, axes: perm, loc: loc), loc: loc)
        } else {
            rows = try sortedFlat(try compactedValue(v, loc: loc), loc: loc)
        }
        let r = rows.shape.count
        let at: ([SymExpr], ScalarExpr) -> ScalarExpr = { outer, k in
            let m = rows.memlet(at: outer + [.sym("$k")])
            return .load(Memlet(data: m.data, subset: m.subset.map { s in
                guard case .index(.sym(let e)) = s, e.freeSymbols.contains("$k"), let (c, rest) = e.linear(in: "$k") else { return s }
                let scaled: ScalarExpr = c == 1 ? k : .binary(.mul, .symbol(.int(c)), k, .int64)
                return .index(.dynamic(rest == .zero ? scaled : .binary(.add, .symbol(rest), scaled, .int64)))
            }), rows.dtype)
        }
        return (Array(rows.shape.prefix(r - 1)), rows.shape[r - 1], at, rows.dtype)
    }

    /// The flattened array, sorted (NaN last), as a whole new container.
    func sortedFlat(_ v: Value, loc: SourceLocation) throws -> ArrayView {
        let x = try lazy(v, loc: loc)
        let flat = try reshape(.array(x), [.int(-1)], loc: loc)
        let sorted = try sortCall(CallArgs(positional: [flat], keywords: ["axis": .scalar(.symbol(.zero), weak: true)], loc: loc, function: "sort"), indices: false)
        var view = try viewOf(sorted, loc: loc)
        if !view.isWhole(of: container(view.container)) {
            view = try materializeNew(Lazy(node: .view(view), shape: view.shape, dtype: view.dtype), hint: "sorted", loc: loc).asView!
        }
        return view
    }

    /// `np.bincount(x, weights=None, minlength=0)`.
    func bincount(_ a: CallArgs) throws -> Value {
        let x = try lazy(try compactedValue(try a.require(0, "x"), loc: a.loc), loc: a.loc)
        guard x.shape.count == 1, x.dtype.isInteger || x.dtype.isBool else {
            throw Diagnostic(a.loc, "np.bincount takes a 1-D array of non-negative integers")
        }
        if x.dtype == .uint64 { throw Diagnostic(a.loc, "np.bincount of uint64 (NumPy cannot cast it to intp safely)") }
        let xs = x.asView == nil ? try materializeNew(x, hint: "bins_in", loc: a.loc) : x
        var weights: Lazy? = nil
        if let w = a.get(1, "weights"), !isNone(w) {
            let lw = try lazy(try compactedValue(w, loc: a.loc), loc: a.loc)
            guard lw.shape.count == 1 else { throw Diagnostic(a.loc, "np.bincount: weights must be 1-D") }
            if lw.dtype.isComplex { throw Diagnostic(a.loc, "np.bincount: complex weights are not supported (NumPy casts them to float64)") }
            _ = try agree(lw.shape[0], x.shape[0], loc: a.loc, broadcasting: false)
            weights = castLazy(lw, .float64)
            // NumPy returns int64 zeros for an empty x even with weights: a dtype that depends
            // on the data, so that case raises ValueError here instead.
            emit(.branch(Branch(condition: .binary(.le, .symbol(x.shape[0]), .symbol(.zero), .bool),
                                then: [.fail(.invalidValue, a.loc)], orElse: [], loc: a.loc)))
        }
        var minlength = SymExpr.zero
        if let m = a.get(2, "minlength"), !isNone(m) { minlength = try symbolicArgument(m, loc: a.loc) }
        if let c = minlength.constant, c < 0 { throw Diagnostic(a.loc, "np.bincount: minlength must be non-negative") }
        let loc = a.loc
        // Negative values raise ValueError, as NumPy.
        try emitMap(x.shape, loc: loc) { i in
            let v = ScalarExpr.cast(xs.element(at: i), .int64)
            emit(.branch(Branch(condition: .binary(.lt, v, .symbol(.zero), .bool), then: [.fail(.invalidValue, loc)], orElse: [], loc: loc)))
        }
        let top = try reduce(.max, .array(castLazy(xs, .int64)), axes: nil, keepdims: false, loc: loc)
        guard case .scalar(let m, _) = top else { throw Diagnostic(loc, "internal: bincount maximum") }
        // An empty x leaves the maximum at its identity: the length is then minlength.
        let needed = ScalarExpr.select(.binary(.gt, .binary(.add, m, .symbol(.one), .int64), .symbol(minlength), .bool),
                                       .binary(.add, m, .symbol(.one), .int64), .symbol(minlength), .int64)
        let n = symbolicValue(.select(.binary(.lt, needed, .symbol(.zero), .bool), .symbol(.zero), needed, .int64), loc: loc)
        let t: DType = weights == nil ? .int64 : .float64
        let out = try newArray("bincount", t, [n], loc: loc)
        markWritten(out.container)
        try emitMap([n], loc: loc) { i in emitTasklet(out.memlet(at: i), cast(.symbol(.zero), t), loc: loc) }
        try emitLoops(x.shape, loc: loc) { i in
            let slot = Memlet(data: out.container, subset: [.index(.dynamic(.cast(xs.element(at: i), .int64)))])
            let add: ScalarExpr = weights.map { $0.element(at: i) } ?? cast(.symbol(.one), t)
            emitTasklet(slot, .binary(.add, .load(slot, t), add, t), loc: loc)
        }
        return .array(Lazy(node: .view(out), shape: out.shape, dtype: t))
    }

    /// `np.unique(ar)`: sort, then keep each element that differs from the one before (NaNs
    /// count as equal, as NumPy 2's equal_nan=True).
    func unique(_ v: Value, loc: SourceLocation) throws -> Value {
        let s = try sortedFlat(try compactedValue(v, loc: loc), loc: loc)
        let n = s.shape[0]
        let keep = Lazy(node: .view(try viewOf(try generate("first", .bool, [n], loc: loc) { i in
            let cur = s.memlet(at: i), prev = s.memlet(at: [.maximum(i[0] - 1, .zero)])
            let a = ScalarExpr.load(cur, s.dtype), b = ScalarExpr.load(prev, s.dtype)
            var same = ScalarExpr.binary(.eq, a, b, .bool)
            if s.dtype.isInexact {
                same = .binary(.or, same, .binary(.and, .binary(.ne, a, a, .bool), .binary(.ne, b, b, .bool), .bool), .bool)
            }
            return .binary(.or, .binary(.eq, .symbol(i[0]), .symbol(.zero), .bool), .unary(.not, same, .bool), .bool)
        }, loc: loc)), shape: [n], dtype: .bool)
        return .array(try compacted(Lazy(node: .view(s), shape: s.shape, dtype: s.dtype), mask: keep, loc: loc))
    }

    /// `np.median(a, axis)`: the middle element of the sorted data, or the mean of the two
    /// middle ones; NaN where the data holds a NaN (sorted last). Empty data raises.
    func median(_ v: Value, axis: Int?, loc: SourceLocation) throws -> Value {
        let (outer, n, at, dtype) = try sortedRows(v, axis: axis, loc: loc)
        if dtype.isComplex { throw Diagnostic(loc, "np.median of complex numbers is not supported") }
        emit(.branch(Branch(condition: .binary(.le, .symbol(n), .symbol(.zero), .bool), then: [.fail(.invalidValue, loc)], orElse: [], loc: loc)))
        let t: DType = dtype.isInexact ? dtype : .float64
        let half = SymExpr.floorDivide(n, .int(2))
        let value: ([SymExpr]) -> ScalarExpr = { idx in
            let upper = self.cast(at(idx, .symbol(half)), t)
            let lower = self.cast(at(idx, .symbol(.maximum(half - 1, .zero))), t)
            let even = ScalarExpr.binary(.eq, .symbol(.modulo(n, .int(2))), .symbol(.zero), .bool)
            let mean = ScalarExpr.binary(.div, .binary(.add, lower, upper, t), self.cast(.symbol(.int(2)), t), t)
            var result = ScalarExpr.select(even, mean, upper, t)
            if dtype.isInexact {
                let last = at(idx, .symbol(n - 1))
                result = .select(.binary(.ne, last, last, .bool), self.cast(last, t), result, t)
            }
            return result
        }
        if outer.isEmpty {
            let r = newScalar("median", t)
            emitTasklet(.point(r, []), value([]), loc: loc)
            return readScalarContainer(r)
        }
        return try generate("median", t, outer, loc: loc, value)
    }

    /// `np.quantile(a, q)` (`np.percentile` with q / 100), NumPy's 'linear' method: virtual
    /// index `n*q + (1 - q) - 1`, clamped to the data, and NumPy's two-sided interpolation.
    func quantile(_ v: Value, _ q: Value, axis: Int?, scale: Double, loc: SourceLocation) throws -> Value {
        let (outer, n, at, dtype) = try sortedRows(v, axis: axis, loc: loc)
        if dtype.isComplex { throw Diagnostic(loc, "quantiles of complex numbers are not supported") }
        emit(.branch(Branch(condition: .binary(.le, .symbol(n), .symbol(.zero), .bool), then: [.fail(.invalidValue, loc)], orElse: [], loc: loc)))
        var qs: [ScalarExpr] = []
        let single: Bool
        switch q {
        case .scalar(let x, _): qs = [x]; single = true
        case .tuple(let vs):
            single = false
            for e in vs {
                guard case .scalar(let x, _) = e else { throw Diagnostic(loc, "q must be a number or a list of numbers") }
                qs.append(x)
            }
        default: throw Diagnostic(loc, "q must be a number or a list of numbers here")
        }
        // A Python number q keeps float32 data in float32; a list of them is a float64 array.
        let t: DType = dtype == .float32 && single ? .float32 : .float64
        let f8 = DType.float64
        // Per q: the virtual index, its floor and the interpolation weight (scalars, once).
        var plans: [(prev: ScalarExpr, next: ScalarExpr, gamma: ScalarExpr)] = []
        for raw in qs {
            let qv = ScalarExpr.binary(.div, cast(raw, f8), .literal(.float(scale), f8), f8)
            let bad = ScalarExpr.binary(.or, .binary(.lt, qv, .literal(.float(0), f8), .bool), .binary(.gt, qv, .literal(.float(1), f8), .bool), .bool)
            emit(.branch(Branch(condition: bad, then: [.fail(.invalidValue, loc)], orElse: [], loc: loc)))
            let nf = cast(.symbol(n), f8)
            let virtual = ScalarExpr.binary(.sub, .binary(.add, .binary(.mul, nf, qv, f8),
                                                          .binary(.add, .literal(.float(1), f8), .binary(.mul, qv, .literal(.float(-1), f8), f8), f8), f8),
                                            .literal(.float(1), f8), f8)
            let vi = newScalar("virtual", f8)
            emitTasklet(.point(vi, []), virtual, loc: loc)
            let vload = ScalarExpr.load(.point(vi, []), f8)
            let prevF = ScalarExpr.call(.floor, [vload], f8)
            let last = ScalarExpr.symbol(n - 1)
            let above = ScalarExpr.binary(.ge, vload, cast(last, f8), .bool)
            let below = ScalarExpr.binary(.lt, vload, .literal(.float(0), f8), .bool)
            let prevI = ScalarExpr.select(above, last, .select(below, .symbol(.zero), .cast(prevF, .int64), .int64), .int64)
            let nextI = ScalarExpr.select(above, last, .select(below, .symbol(.zero), .binary(.add, .cast(prevF, .int64), .symbol(.one), .int64), .int64), .int64)
            plans.append((prevI, nextI, cast(.binary(.sub, vload, prevF, f8), t)))
        }
        func value(_ plan: (prev: ScalarExpr, next: ScalarExpr, gamma: ScalarExpr), _ idx: [SymExpr]) -> ScalarExpr {
            let a = cast(at(idx, plan.prev), t), b = cast(at(idx, plan.next), t)
            let diff = ScalarExpr.binary(.sub, b, a, t)
            let low = ScalarExpr.binary(.add, a, .binary(.mul, diff, plan.gamma, t), t)
            let high = ScalarExpr.binary(.sub, b, .binary(.mul, diff, .binary(.sub, cast(.symbol(.one), t), plan.gamma, t), t), t)
            var r = ScalarExpr.select(.binary(.ge, plan.gamma, cast(.literal(.float(0.5), f8), t), .bool), high, low, t)
            if dtype.isInexact {
                let top = at(idx, .symbol(n - 1))
                r = .select(.binary(.ne, top, top, .bool), cast(top, t), r, t)
            }
            return r
        }
        if single && outer.isEmpty {
            let r = newScalar("quantile", t)
            emitTasklet(.point(r, []), value(plans[0], []), loc: loc)
            return readScalarContainer(r)
        }
        if single { return try generate("quantile", t, outer, loc: loc) { idx in value(plans[0], idx) } }
        // A list of q: one leading dimension, one entry per q.
        let out = try newArray("quantiles", t, [.int(plans.count)] + outer, loc: loc)
        markWritten(out.container)
        for (k, plan) in plans.enumerated() {
            try emitMap(outer, loc: loc) { idx in emitTasklet(out.memlet(at: [.int(k)] + idx), value(plan, idx), loc: loc) }
        }
        return .array(Lazy(node: .view(out), shape: out.shape, dtype: t))
    }

    /// `np.convolve(a, v, mode)`: the full convolution `c[k] = sum_j a[j] v[k - j]`, of which
    /// 'same' and 'valid' are the centred slices NumPy returns (whichever input is longer).
    func convolve(_ av: Value, _ vv: Value, mode: String, loc: SourceLocation) throws -> Value {
        var x = try lazy(try compactedValue(av, loc: loc), loc: loc)
        var y = try lazy(try compactedValue(vv, loc: loc), loc: loc)
        guard x.shape.count == 1, y.shape.count == 1 else { throw Diagnostic(loc, "np.convolve takes two 1-D arrays") }
        if x.dtype.isBool || y.dtype.isBool { throw Diagnostic(loc, "np.convolve of booleans is not supported; convert with .astype(int)") }
        let t = DType.promote(x.dtype, y.dtype)
        if x.asView == nil { x = try materializeNew(x, hint: "conv_a", loc: loc) }
        if y.asView == nil { y = try materializeNew(y, hint: "conv_v", loc: loc) }
        let n = x.shape[0], m = y.shape[0]
        // NumPy raises ValueError for an empty input.
        emit(.branch(Branch(condition: .binary(.or, .binary(.le, .symbol(n), .symbol(.zero), .bool), .binary(.le, .symbol(m), .symbol(.zero), .bool), .bool),
                            then: [.fail(.invalidValue, loc)], orElse: [], loc: loc)))
        let longer = SymExpr.maximum(n, m), shorter = SymExpr.minimum(n, m)
        let (length, offset): (SymExpr, SymExpr)
        switch mode {
        case "same": (length, offset) = (longer, .floorDivide(shorter - 1, .int(2)))
        case "valid": (length, offset) = (longer - shorter + 1, shorter - 1)
        default: (length, offset) = (n + m - 1, .zero)
        }
        let out = try newArray("conv", t, [length], loc: loc)
        markWritten(out.container)
        try emitMap([length], loc: loc) { idx in
            let k = idx[0] + offset
            let acc = newScalar("acc", t)
            emitTasklet(.point(acc, []), cast(.symbol(.zero), t), loc: loc)
            markWritten(acc)
            let j = fresh("j")
            let lo = SymExpr.maximum(.zero, k - m + 1), hi = SymExpr.minimum(n, k + 1)
            let term = ScalarExpr.binary(.mul, cast(x.element(at: [.sym(j)]), t), cast(y.element(at: [k - .sym(j)]), t), t)
            let sum = ScalarExpr.binary(.add, .load(.point(acc, []), t), term, t)
            emit(.forLoop(ForLoop(variable: j, range: SymRange(lo, hi),
                                  body: [.tasklet(Tasklet(output: .point(acc, []), value: sum, loc: loc))], loc: loc)))
            emitTasklet(out.memlet(at: idx), .load(.point(acc, []), t), loc: loc)
        }
        return .array(Lazy(node: .view(out), shape: out.shape, dtype: t))
    }
}
