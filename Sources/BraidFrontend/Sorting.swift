import BraidIR

/// `np.sort` and `np.argsort`: a bottom-up merge sort (stable, O(n log n)) written as IR
/// loops, one independent sort per row along the sorted axis. NaN sorts last, as NumPy.
extension FunctionLowerer {
    func sortCall(_ a: CallArgs, indices: Bool) throws -> Value {
        try a.check(maxPositional: 3, allowed: ["axis", "kind", "order", "stable"])
        if let o = a.keywords["order"], !isNone(o) {
            throw Diagnostic(a.loc, "sorting with order= (structured arrays) is not supported")
        }
        if let k = a.get(2, "kind"), !isNone(k) {
            guard case .string(let s) = k, ["quicksort", "mergesort", "heapsort", "stable"].contains(s) else {
                throw Diagnostic(a.loc, "kind= must be 'quicksort', 'mergesort', 'heapsort' or 'stable'")
            }
        }
        var l = try lazy(try a.require(0, "a"), loc: a.loc)
        guard !l.dtype.isComplex else { throw Diagnostic(a.loc, "sorting complex numbers is not supported") }
        var axis: Int? = -1
        if let ax = a.get(1, "axis") { axis = isNone(ax) ? nil : try axisArgument(ax, loc: a.loc) }
        if axis == nil {
            l = try lazy(try reshape(.array(l), [.int(-1)], loc: a.loc), loc: a.loc)
            axis = 0
        }
        guard !l.shape.isEmpty else { throw Diagnostic(a.loc, "cannot sort a 0-d array") }
        let rank = l.shape.count
        let ax = try normalizedAxes([axis!], rank: rank, loc: a.loc)[0]
        if ax != rank - 1 {
            // Rows along another axis are strided: sort a copy with that axis last (contiguous
            // rows), then view the result in the original order.
            let perm = (0..<rank).filter { $0 != ax } + [ax]
            let moved = try lazy(try transpose(.array(l), axes: perm, loc: a.loc), loc: a.loc)
            let sorted = try mergeSort(moved, axis: rank - 1, indices: indices, loc: a.loc)
            var inverse = [Int](repeating: 0, count: rank)
            for (k, p) in perm.enumerated() { inverse[p] = k }
            return try transpose(sorted, axes: inverse, loc: a.loc)
        }
        return try mergeSort(l, axis: ax, indices: indices, loc: a.loc)
    }

    func mergeSort(_ l: Lazy, axis ax: Int, indices: Bool, loc: SourceLocation) throws -> Value {
        let rank = l.shape.count, n = l.shape[ax], t = l.dtype
        // Values (and positions) are sorted in place in `vals` through the buffer `tmp`.
        let vals = try materializeNew(l, hint: "sorted", loc: loc).asView!
        let tmp = try newArray("sort_tmp", t, l.shape, loc: loc)
        markWritten(tmp.container)
        var pos: ArrayView? = nil, tmpPos: ArrayView? = nil
        if indices {
            pos = try newArray("order", .int64, l.shape, loc: loc)
            tmpPos = try newArray("order_tmp", .int64, l.shape, loc: loc)
            markWritten(pos!.container)
            markWritten(tmpPos!.container)
        }
        let keptAxes = (0..<rank).filter { $0 != ax }
        try emitMap(keptAxes.map { l.shape[$0] }, loc: loc) { idx in
            func at(_ k: SymExpr) -> [SymExpr] {
                var full = [SymExpr](repeating: .zero, count: rank)
                for (j, a) in keptAxes.enumerated() { full[a] = idx[j] }
                full[ax] = k
                return full
            }
            if let pos {
                try emitLoops([n], loc: loc) { k in emitTasklet(pos.memlet(at: at(k[0])), .symbol(k[0]), loc: loc) }
            }
            let w = newScalar("width", .int64)
            emitTasklet(.point(w, []), .symbol(.one), loc: loc)
            let width = SymExpr.sym(w)
            // One pass merges runs of `width` from `src` into `dst`; passes alternate between
            // `vals` and `tmp`, so no pass copies back.
            func mergePass(_ src: ArrayView, _ srcPos: ArrayView?, into dst: ArrayView, _ dstPos: ArrayView?) throws {
                // The merges of one pass are independent: a map over the pairs of runs.
                let blocks = SymExpr.floorDivide(n + .int(2) * width - .one, .int(2) * width)
                try emitMap([blocks], loc: loc) { blk in
                    let lo = blk[0] * .int(2) * width
                    let mid = SymExpr.minimum(lo + width, n), hi = SymExpr.minimum(lo + .int(2) * width, n)
                    // A bidirectional merge: the front takes the smallest remaining element
                    // (the left one on ties), the back the largest (the right one on ties), so
                    // the two halves are the stable order's and two independent dependency
                    // chains run side by side. Each step is branch-free: non-short-circuit & and |
                    // pick the run, and the element is loaded from the picked position.
                    let len = hi - lo, half = SymExpr.floorDivide(len, .int(2))
                    let i = newScalar("left", .int64), j = newScalar("right", .int64)
                    let i2 = newScalar("left_back", .int64), j2 = newScalar("right_back", .int64)
                    emitTasklet(.point(i, []), .symbol(lo), loc: loc)
                    emitTasklet(.point(j, []), .symbol(mid), loc: loc)
                    emitTasklet(.point(i2, []), .symbol(mid - .one), loc: loc)
                    emitTasklet(.point(j2, []), .symbol(hi - .one), loc: loc)
                    let one = ScalarExpr.literal(.int(1), .int64)
                    func pick(_ take: ScalarExpr, _ a: SymExpr, _ b: SymExpr) -> ScalarExpr {
                        // b when take, else a: a + (b - a) * take.
                        .binary(.add, .symbol(a), .binary(.mul, .binary(.sub, .symbol(b), .symbol(a), .int64), .cast(take, .int64), .int64), .int64)
                    }
                    func copy(from from: SymExpr, to to: SymExpr) {
                        emitTasklet(dst.memlet(at: at(to)), .load(src.memlet(at: at(from)), t), loc: loc)
                        if let srcPos, let dstPos {
                            emitTasklet(dstPos.memlet(at: at(to)), .load(srcPos.memlet(at: at(from)), .int64), loc: loc)
                        }
                    }
                    let iv = SymExpr.sym(i), jv = SymExpr.sym(j), i2v = SymExpr.sym(i2), j2v = SymExpr.sym(j2)
                    // Loads stay inside [lo, hi) even when one run is used up. The front's left
                    // position needs no clamp: after k front steps it is at most lo + k, and the
                    // front takes at most ceil(len / 2) steps; likewise the back's right position
                    // is at least mid - 1 >= lo. The picked position is one that was checked.
                    func front(_ place: SymExpr) {
                        let x = ScalarExpr.load(src.memlet(at: at(iv)), t)
                        let y = ScalarExpr.load(src.memlet(at: at(.minimum(jv, hi - .one))), t)
                        let r = newScalar("take_right", .bool), from = newScalar("source", .int64)
                        emitTasklet(.point(r, []), .binary(.bitAnd, .binary(.lt, .symbol(jv), .symbol(hi), .bool),
                                                           .binary(.bitOr, .binary(.ge, .symbol(iv), .symbol(mid), .bool), sortBefore(y, x, t), .bool), .bool), loc: loc)
                        let rv = ScalarExpr.load(.point(r, []), .bool)
                        emitTasklet(.point(from, []), pick(rv, iv, jv), loc: loc)
                        copy(from: .sym(from), to: place)
                        let step = ScalarExpr.cast(rv, .int64)
                        emitTasklet(.point(j, []), .binary(.add, .symbol(jv), step, .int64), loc: loc)
                        emitTasklet(.point(i, []), .binary(.sub, .binary(.add, .symbol(iv), one, .int64), step, .int64), loc: loc)
                    }
                    func back(_ place: SymExpr) {
                        let x = ScalarExpr.load(src.memlet(at: at(.maximum(i2v, lo))), t)
                        let y = ScalarExpr.load(src.memlet(at: at(j2v)), t)
                        let l = newScalar("take_left", .bool), from = newScalar("source_back", .int64)
                        emitTasklet(.point(l, []), .binary(.bitAnd, .binary(.ge, .symbol(i2v), .symbol(lo), .bool),
                                                           .binary(.bitOr, .binary(.lt, .symbol(j2v), .symbol(mid), .bool), sortBefore(y, x, t), .bool), .bool), loc: loc)
                        let lv = ScalarExpr.load(.point(l, []), .bool)
                        emitTasklet(.point(from, []), pick(lv, j2v, i2v), loc: loc)
                        copy(from: .sym(from), to: place)
                        let step = ScalarExpr.cast(lv, .int64)
                        emitTasklet(.point(i2, []), .binary(.sub, .symbol(i2v), step, .int64), loc: loc)
                        emitTasklet(.point(j2, []), .binary(.add, .binary(.sub, .symbol(j2v), one, .int64), step, .int64), loc: loc)
                    }
                    let k = fresh("k")
                    loopRanges[k] = SymRange(.zero, half)
                    let kk = SymExpr.sym(k)
                    let body = nested {
                        front(lo + kk)
                        back(hi - .one - kk)
                    }
                    emit(.forLoop(ForLoop(variable: k, range: SymRange(.zero, half), body: body, loc: loc)))
                    // An odd run pair leaves its middle element to the front.
                    emit(.branch(Branch(condition: .binary(.ne, .symbol(len - .int(2) * half), .symbol(.zero), .bool),
                                        then: nested { front(lo + half) }, orElse: [], loc: loc)))
                }
            }
            let pass = try nested {
                try mergePass(vals, pos, into: tmp, tmpPos)
                emitTasklet(.point(w, []), .symbol(.int(2) * width), loc: loc)
                let second = try nested {
                    try mergePass(tmp, tmpPos, into: vals, pos)
                    emitTasklet(.point(w, []), .symbol(.int(2) * width), loc: loc)
                }
                // An odd number of passes leaves the result in `tmp`: copy it back once.
                let copyBack = try nested {
                    try emitLoops([n], loc: loc) { k in
                        emitTasklet(vals.memlet(at: at(k[0])), .load(tmp.memlet(at: at(k[0])), t), loc: loc)
                        if let pos, let tmpPos {
                            emitTasklet(pos.memlet(at: at(k[0])), .load(tmpPos.memlet(at: at(k[0])), .int64), loc: loc)
                        }
                    }
                }
                emit(.branch(Branch(condition: .binary(.lt, .symbol(width), .symbol(n), .bool), then: second, orElse: copyBack, loc: loc)))
            }
            emit(.whileLoop(WhileLoop(condition: .binary(.lt, .symbol(width), .symbol(n), .bool), body: pass, loc: loc)))
        }
        if let pos { return .array(Lazy(node: .view(pos), shape: pos.shape, dtype: .int64)) }
        return .array(Lazy(node: .view(vals), shape: vals.shape, dtype: t))
    }
}

extension FunctionLowerer {
    /// `x` strictly before `y` in NumPy's sort order (NaN after every number), without
    /// short-circuit operators: !(y <= x) holds when x < y or either is NaN, and x == x drops
    /// a NaN x.
    func sortBefore(_ x: ScalarExpr, _ y: ScalarExpr, _ t: DType) -> ScalarExpr {
        guard t.isFloat else { return .binary(.lt, x, y, .bool) }
        return .binary(.bitAnd, .unary(.not, .binary(.le, y, x, .bool), .bool), .binary(.eq, x, x, .bool), .bool)
    }

    /// `x < y` in NumPy's sort order for type `t` (NaN after every number).
    func sortLess(_ x: ScalarExpr, _ y: ScalarExpr, _ t: DType) -> ScalarExpr {
        let lt = ScalarExpr.binary(.lt, x, y, .bool)
        guard t.isFloat else { return lt }
        return .binary(.or, lt, .binary(.and, .binary(.ne, y, y, .bool), .binary(.eq, x, x, .bool), .bool), .bool)
    }

    /// `np.searchsorted(a, v, side='left')`: a binary search of each value of v in the
    /// sorted 1-D a (NaN sorts last, as np.sort), in the common type of a and v.
    func searchsortedCall(_ a: CallArgs) throws -> Value {
        try a.check(maxPositional: 3, allowed: ["side", "sorter"])
        if let s = a.keywords["sorter"], !isNone(s) {
            throw Diagnostic(a.loc, "np.searchsorted with sorter= is not supported; index a with the sorter first (a[sorter])")
        }
        var right = false
        if let side = a.get(2, "side") {
            guard case .string(let s) = side, s == "left" || s == "right" else {
                throw Diagnostic(a.loc, "side must be 'left' or 'right'")
            }
            right = s == "right"
        }
        let av = try a.require(0, "a"), vv = try a.require(1, "v")
        let sorted = try lazy(av, loc: a.loc), values = try lazy(vv, loc: a.loc)
        guard sorted.shape.count == 1 else { throw Diagnostic(a.loc, "np.searchsorted needs a 1-D sorted array") }
        guard !sorted.dtype.isComplex && !values.dtype.isComplex else {
            throw Diagnostic(a.loc, "np.searchsorted of complex numbers is not supported")
        }
        let t = Typing.common(sorted.dtype, weakA: isWeak(av), values.dtype, weakB: isWeak(vv)).0
        let n = sorted.shape[0]
        let search = { (x: ScalarExpr, out: Memlet) in
            let lo = self.newScalar("lo", .int64), hi = self.newScalar("hi", .int64)
            self.emitTasklet(.point(lo, []), .symbol(.zero), loc: a.loc)
            self.emitTasklet(.point(hi, []), .symbol(n), loc: a.loc)
            let mid = SymExpr.floorDivide(.sym(lo) + .sym(hi), .int(2))
            let am = self.cast(sorted.element(at: [mid]), t)
            // left: a[mid] < x; right: a[mid] <= x, i.e. not x < a[mid].
            let goRight = right ? ScalarExpr.unary(.not, self.sortLess(x, am, t), .bool) : self.sortLess(am, x, t)
            let step = self.nested {
                self.emit(.branch(Branch(condition: goRight,
                                         then: self.nested { self.emitTasklet(.point(lo, []), .symbol(mid + .one), loc: a.loc) },
                                         orElse: self.nested { self.emitTasklet(.point(hi, []), .symbol(mid), loc: a.loc) }, loc: a.loc)))
            }
            self.emit(.whileLoop(WhileLoop(condition: .binary(.lt, .symbol(.sym(lo)), .symbol(.sym(hi)), .bool), body: step, loc: a.loc)))
            self.emitTasklet(out, .symbol(.sym(lo)), loc: a.loc)
        }
        if values.shape.isEmpty {
            let result = newScalar("position", .int64)
            let x = newScalar("needle", t)
            emitTasklet(.point(x, []), cast(values.element(at: []), t), loc: a.loc)
            search(.load(.point(x, []), t), .point(result, []))
            return .scalar(.symbol(.sym(result)), weak: false)
        }
        let out = try newArray("positions", .int64, values.shape, loc: a.loc)
        markWritten(out.container)
        try emitMap(values.shape, loc: a.loc) { idx in
            let x = newScalar("needle", t)
            emitTasklet(.point(x, []), cast(values.element(at: idx), t), loc: a.loc)
            search(.load(.point(x, []), t), out.memlet(at: idx))
        }
        return .array(Lazy(node: .view(out), shape: out.shape, dtype: .int64))
    }

    /// `np.diff(a, n=1, axis=-1)`: n-th differences along an axis (`!=` for booleans, as NumPy).
    func diffCall(_ a: CallArgs) throws -> Value {
        try a.check(maxPositional: 3, allowed: ["n", "axis"])
        var l = try lazy(try a.require(0, "a"), loc: a.loc)
        guard !l.shape.isEmpty else { throw Diagnostic(a.loc, "np.diff requires input that is at least one dimensional") }
        let n = try constantInt(a.get(1, "n"), "n", default: 1, loc: a.loc)
        guard n >= 0 else { throw Diagnostic(a.loc, "order must be non-negative but got \(n)") }
        let ax = try normalizedAxes([try axisArgument(a.get(2, "axis"), loc: a.loc) ?? -1], rank: l.shape.count, loc: a.loc)[0]
        for _ in 0..<n {
            let v = try viewOf(.array(l), loc: a.loc)
            var shape = v.shape
            shape[ax] = SymExpr.maximum(shape[ax] - .one, .zero)
            if let c = shape[ax].constant { shape[ax] = .int(c) }
            var upper = ArrayView.placeholders(shape.count)
            upper[ax] = upper[ax] + .one
            let hi = v.reindexed(shape: shape, upper), lo = v.reindexed(shape: shape, ArrayView.placeholders(shape.count))
            let next = try arith(l.dtype.isBool ? .ne : .sub, .array(Lazy(node: .view(hi), shape: shape, dtype: hi.dtype)),
                                 .array(Lazy(node: .view(lo), shape: shape, dtype: lo.dtype)), loc: a.loc)
            l = try lazy(next, loc: a.loc)
        }
        return .array(l)
    }
}

extension FunctionLowerer {
    /// `np.interp(x, xp, fp, left=None, right=None)` for increasing xp, as NumPy computes it:
    /// `slope * (x - xp[j]) + fp[j]`, exact at the sample points, fp[0]/fp[-1] (or left/right)
    /// outside, NaN x giving NaN, and the other end of the interval when the slope gives NaN.
    func interpCall(_ a: CallArgs) throws -> Value {
        try a.check(maxPositional: 5, allowed: ["left", "right", "period"])
        if let p = a.keywords["period"], !isNone(p) {
            throw Diagnostic(a.loc, "np.interp with period= is not supported")
        }
        let xv = try a.require(0, "x")
        let x = try lazy(xv, loc: a.loc), xp = try lazy(try a.require(1, "xp"), loc: a.loc), fp = try lazy(try a.require(2, "fp"), loc: a.loc)
        guard xp.shape.count == 1, fp.shape.count == 1 else { throw Diagnostic(a.loc, "np.interp: xp and fp must be 1-D sequences") }
        guard !x.dtype.isComplex, !xp.dtype.isComplex, !fp.dtype.isComplex else {
            throw Diagnostic(a.loc, "np.interp of complex values is not supported")
        }
        let n = try agree(xp.shape[0], fp.shape[0], loc: a.loc, broadcasting: false)
        // NumPy raises ValueError for empty xp.
        emit(.branch(Branch(condition: .binary(.eq, .symbol(n), .symbol(.zero), .bool), then: [.fail(.invalidValue, a.loc)], orElse: [], loc: a.loc)))
        let t = DType.float64
        let xs = castLazy(xp, t), fs = castLazy(fp, t)
        func scalarArg(_ v: Value?) throws -> ScalarExpr? {
            guard let v, !isNone(v) else { return nil }
            guard case .scalar(let s, _) = v, !s.dtype.isComplex else { throw Diagnostic(a.loc, "left and right must be real numbers") }
            return cast(s, t)
        }
        let left = try scalarArg(a.get(3, "left")) ?? fs.element(at: [.zero])
        let right = try scalarArg(a.get(4, "right")) ?? fs.element(at: [n - .one])
        let one = { (xe: ScalarExpr, out: Memlet) in
            let xval = self.newScalar("x", t)
            self.emitTasklet(.point(xval, []), xe, loc: a.loc)
            let xr = ScalarExpr.load(.point(xval, []), t)
            // j = (number of xp <= x) - 1, by binary search.
            let lo = self.newScalar("lo", .int64), hi = self.newScalar("hi", .int64)
            self.emitTasklet(.point(lo, []), .symbol(.zero), loc: a.loc)
            self.emitTasklet(.point(hi, []), .symbol(n), loc: a.loc)
            let mid = SymExpr.floorDivide(.sym(lo) + .sym(hi), .int(2))
            let step = self.nested {
                self.emit(.branch(Branch(condition: .binary(.le, xs.element(at: [mid]), xr, .bool),
                                         then: self.nested { self.emitTasklet(.point(lo, []), .symbol(mid + .one), loc: a.loc) },
                                         orElse: self.nested { self.emitTasklet(.point(hi, []), .symbol(mid), loc: a.loc) }, loc: a.loc)))
            }
            self.emit(.whileLoop(WhileLoop(condition: .binary(.lt, .symbol(.sym(lo)), .symbol(.sym(hi)), .bool), body: step, loc: a.loc)))
            let j = SymExpr.sym(lo) - .one
            // Loads stay in range whichever branch is taken.
            let jc = SymExpr.maximum(SymExpr.minimum(j, n - .int(2)), .zero), jn = SymExpr.minimum(jc + .one, n - .one)
            let x0 = xs.element(at: [jc]), x1 = xs.element(at: [jn]), f0 = fs.element(at: [jc]), f1 = fs.element(at: [jn])
            let slope = ScalarExpr.binary(.div, .binary(.sub, f1, f0, t), .binary(.sub, x1, x0, t), t)
            let r = self.newScalar("interp", t)
            let rv = ScalarExpr.load(.point(r, []), t)
            let isNaN = { (e: ScalarExpr) in ScalarExpr.binary(.ne, e, e, .bool) }
            let inside = self.nested {
                self.emitTasklet(.point(r, []), .binary(.add, .binary(.mul, slope, .binary(.sub, xr, x0, t), t), f0, t), loc: a.loc)
                let retry = self.nested {
                    self.emitTasklet(.point(r, []), .binary(.add, .binary(.mul, slope, .binary(.sub, xr, x1, t), t), f1, t), loc: a.loc)
                    self.emit(.branch(Branch(condition: .binary(.and, isNaN(rv), .binary(.eq, f0, f1, .bool), .bool),
                                             then: self.nested { self.emitTasklet(.point(r, []), f0, loc: a.loc) }, orElse: [], loc: a.loc)))
                }
                self.emit(.branch(Branch(condition: isNaN(rv), then: retry, orElse: [], loc: a.loc)))
            }
            let jv = ScalarExpr.symbol(j)
            let exact = ScalarExpr.binary(.or, .binary(.eq, jv, .symbol(n - .one), .bool), .binary(.eq, x0, xr, .bool), .bool)
            let last = ScalarExpr.load(.point(r, []), t)
            let chain: Node = .branch(Branch(condition: isNaN(xr), then: self.nested { self.emitTasklet(.point(r, []), xr, loc: a.loc) }, orElse: [
                .branch(Branch(condition: .binary(.lt, jv, .symbol(.zero), .bool), then: self.nested { self.emitTasklet(.point(r, []), left, loc: a.loc) }, orElse: [
                    .branch(Branch(condition: .binary(.gt, xr, xs.element(at: [n - .one]), .bool), then: self.nested { self.emitTasklet(.point(r, []), right, loc: a.loc) }, orElse: [
                        .branch(Branch(condition: exact, then: self.nested { self.emitTasklet(.point(r, []), fs.element(at: [SymExpr.maximum(j, .zero)]), loc: a.loc) },
                                       orElse: inside, loc: a.loc)),
                    ], loc: a.loc)),
                ], loc: a.loc)),
            ], loc: a.loc))
            // NumPy's special case for one sample point (a NaN x gets fp[0] there).
            let single = ScalarExpr.select(.binary(.lt, xr, xs.element(at: [.zero]), .bool), left,
                                           .select(.binary(.gt, xr, xs.element(at: [.zero]), .bool), right, fs.element(at: [.zero]), t), t)
            self.emit(.branch(Branch(condition: .binary(.eq, .symbol(n), .symbol(.one), .bool),
                                     then: self.nested { self.emitTasklet(.point(r, []), single, loc: a.loc) }, orElse: [chain], loc: a.loc)))
            self.emitTasklet(out, last, loc: a.loc)
        }
        if x.shape.isEmpty {
            let result = newScalar("interp_result", t)
            one(cast(x.element(at: []), t), .point(result, []))
            return .scalar(.load(.point(result, []), t), weak: false)
        }
        let out = try newArray("interp", t, x.shape, loc: a.loc)
        markWritten(out.container)
        try emitMap(x.shape, loc: a.loc) { idx in one(cast(x.element(at: idx), t), out.memlet(at: idx)) }
        return .array(Lazy(node: .view(out), shape: out.shape, dtype: t))
    }
}
