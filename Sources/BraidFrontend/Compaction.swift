import BraidIR

/// Arrays whose size depends on data: boolean selections used as values (`y = x[mask]`),
/// and names rebound to arrays of different shapes (`Z = Z[I]` in a loop).
///
/// A selection is computed in three steps where it is used: count the true elements of the
/// mask (a parallel reduction), allocate a dynamic container of that length
/// (`Node.allocate`), then fill it in one sequential pass that appends every selected
/// element (row) in C order, as NumPy does.
extension FunctionLowerer {
    /// `x[mask]` as a new array. `mask` covers the leading dimensions of `x` (all of them
    /// for `x[mask]` with a mask of x's shape, only the first for `A[rows]`); the result has
    /// one dimension of length `count_nonzero(mask)` followed by x's remaining dimensions.
    func compacted(_ x: Lazy, mask: Lazy, axis: Int = 0, loc: SourceLocation) throws -> Lazy {
        let r = mask.shape.count
        guard r >= 1, axis + r <= x.shape.count else {
            throw Diagnostic(loc, "a boolean mask must cover the leading dimensions of the array it selects from")
        }
        guard mapLocals.isEmpty else {
            throw Diagnostic(loc, "x[mask] as a new array cannot be created inside a parallel map (\(ctx.braidAliasName).map); select before the map, or use np.where(mask, x, fill) to keep the shape")
        }
        for (a, b) in zip(x.shape[axis...], mask.shape) { _ = try agree(a, b, loc: loc, broadcasting: false) }
        let cond = mask.dtype == .bool ? mask
            : Lazy(node: .cast(mask), shape: mask.shape, dtype: .bool)
        // 1. How many elements are selected (once per mask in straight-line code).
        let count = try trueCount(cond, loc: loc)
        // 2. Storage of exactly that length.
        let before = Array(x.shape[..<axis])
        let rest = Array(x.shape[(axis + r)...])
        let out = try newDynamicArray("selected", x.dtype, before + [.sym(count)] + rest, loc: loc)
        markWritten(out.container)
        // 3. One sequential pass appends the selected elements in order.
        let k = newScalar("next", .int64)
        emitTasklet(.point(k, []), .symbol(.zero), loc: loc)
        let vars = (0..<r).map { _ in fresh("i") }
        for (v, d) in zip(vars, cond.shape) { loopRanges[v] = SymRange(.zero, d) }
        let idx = vars.map { SymExpr.sym($0) }
        // The rest of a selected row is copied by plain loops (a parallel map per row would cost more than it saves).
        let outer = before.map { _ in fresh("j") }
        let inner = rest.map { _ in fresh("j") }
        let b = outer.map { SymExpr.sym($0) }, j = inner.map { SymExpr.sym($0) }
        var copy: [Node] = [.tasklet(Tasklet(output: out.memlet(at: b + [.sym(k)] + j), value: x.element(at: b + idx + j), loc: loc))]
        for (v, d) in zip(outer + inner, before + rest).reversed() {
            copy = [.forLoop(ForLoop(variable: v, range: SymRange(.zero, d), body: copy, loc: loc))]
        }
        var body: [Node] = nested {
            let take = nested {
                for n in copy { emit(n) }
                emitTasklet(.point(k, []), .symbol(.sym(k) + 1), loc: loc)
            }
            emit(.branch(Branch(condition: cond.element(at: idx), then: take, orElse: [], loc: loc)))
        }
        for (v, d) in zip(vars, cond.shape).reversed() {
            body = [.forLoop(ForLoop(variable: v, range: SymRange(.zero, d), body: body, loc: loc))]
        }
        for n in body { emit(n) }
        return Lazy(node: .view(out), shape: out.shape, dtype: out.dtype)
    }

    /// The number of true elements of a boolean array, in a private int64 scalar. A mask
    /// counted earlier in the same block, with nothing it reads written since, reuses that count.
    func trueCount(_ cond: Lazy, loc: SourceLocation) throws -> String {
        let read = Array(Set(cond.views.map(\.container))).sorted()
        let writes = read.map { writeCounts[$0] ?? 0 }
        if let hit = maskCounts.last(where: { $0.block == blockIDs.last! && $0.mask == cond && $0.writes == writes }) {
            return hit.count
        }
        let count = newScalar("count", .int64)
        emitTasklet(.point(count, []), .symbol(.zero), loc: loc)
        try emitMap(cond.shape, loc: loc, reductions: [count: .add]) { idx in
            emitTasklet(.point(count, []), .cast(cond.element(at: idx), .int64), wcr: .add, loc: loc)
        }
        privateSizes.insert(count)
        maskCounts.append((blockIDs.last!, cond, read.map { writeCounts[$0] ?? 0 }, count))
        return count
    }

    /// A value with any boolean selection turned into a new array.
    func compactedValue(_ v: Value, loc: SourceLocation) throws -> Value {
        switch v {
        case .masked(let x, let m): return .array(try compacted(x, mask: m, loc: loc))
        case .tuple(let vs): return .tuple(try vs.map { try compactedValue($0, loc: loc) })
        default: return v
        }
    }

    /// Name `n` gets a copy of the array `v` where Python would bind the array itself: faithful
    /// only if neither is modified in place while both would be the same array.
    func noteCopy(_ n: String, of v: ArrayView, loc: SourceLocation) throws {
        let fresh = containerIndex[v.container].map { $0 >= freshContainersStart } ?? false
        guard !fresh else { return }
        if inPlaceTargets.contains(n) {
            throw Diagnostic(loc, "'\(n)' is rebound inside a loop and also modified in place, but here it is bound to an existing array (the two would share their elements); bind it to a copy (\(n) = x.copy())")
        }
        copiedSources.append((v.container, writeCounts[v.container] ?? 0, n, loc))
    }

    /// `name = value` for a name in `dynamicNames`: the name owns one dynamic container. The
    /// first binding allocates it and copies the value in; later bindings of another shape
    /// take over the storage of the freshly computed value (no copy), and bindings of the
    /// same shape write into the current storage.
    func bindDynamic(_ n: String, _ l: Lazy, loc: SourceLocation) throws {
        let key = inlinePrefix + n
        if let d = dynamicStorage[key], case .array(let cur)? = env[n], cur.asView?.container == d {
            let dc = container(d)
            guard l.dtype == dc.dtype, l.shape.count == dc.shape.count else {
                throw Diagnostic(loc, "'\(n)' is rebound to an array of another dtype or number of dimensions (\(l.dtype.rawValue), \(l.shape.count)-D vs \(dc.dtype.rawValue), \(dc.shape.count)-D); give the new array another name")
            }
            if try otherNamesViewing(d, besides: n, loc: loc) {
                throw Diagnostic(loc, "'\(n)' is rebound to an array of another shape while another name still refers to its array; copy that one first (other = \(n).copy())")
            }
            // The name gets the array's elements, not the array: nothing may write it later.
            if let v = l.asView, v.container != d, !copyableInLoop(n, l, loc: loc) { try noteCopy(n, of: v, loc: loc) }
            if l.shape == dc.shape {
                try store(.array(l), into: .whole(dc), loc: loc)
                return
            }
            var src: ArrayView
            if let v = l.asView, let i = containerIndex[v.container], i >= freshContainersStart, containers[i].isDynamic,
               v.isWhole(of: containers[i]), v.container != d {
                src = v
            } else {
                src = try newDynamicArray(n, l.dtype, l.shape, loc: loc)
                try store(.array(l), into: src, loc: loc)
            }
            for (dim, s) in zip(dc.shape, src.shape) {
                guard case .sym(let size) = dim else { continue }
                emitTasklet(.point(size, []), .symbol(s), loc: loc)
            }
            markWritten(d)
            emit(.allocate(Allocation(container: d, takeFrom: src.container, loc: loc)))
            return
        }
        // First binding: storage of its own, with sizes that later bindings update.
        if let v = l.asView { try noteCopy(n, of: v, loc: loc) }
        guard mapLocals.isEmpty else {
            throw Diagnostic(loc, "'\(n)' is rebound to arrays of different shapes, which cannot happen inside a parallel map; use a range loop")
        }
        let name: String
        if let d = dynamicStorage[key] {
            // Bound again where the earlier binding is not visible (the other branch of an if).
            let dc = container(d)
            guard l.dtype == dc.dtype, l.shape.count == dc.shape.count else {
                throw Diagnostic(loc, "'\(n)' is bound to arrays of different dtypes or numbers of dimensions (\(l.dtype.rawValue), \(l.shape.count)-D vs \(dc.dtype.rawValue), \(dc.shape.count)-D); give one of them another name")
            }
            for (dim, s) in zip(dc.shape, l.shape) {
                if case .sym(let size) = dim { emitTasklet(.point(size, []), .symbol(s), loc: loc) }
            }
            name = d
        } else {
            var dims: [SymExpr] = []
            for (k, s) in l.shape.enumerated() {
                let size = unique(inlinePrefix + "\(n)_size\(k)")
                addContainer(Container(name: size, dtype: .int64, shape: [], role: .transient, storage: .register))
                emitTasklet(.point(size, []), .symbol(s), loc: loc)
                dims.append(.sym(size))
            }
            name = unique(inlinePrefix + n)
            addContainer(Container(name: name, dtype: l.dtype, shape: dims, role: .transient, storage: .hostHeap, isDynamic: true))
            dynamicStorage[key] = name
        }
        let view = ArrayView.whole(container(name))
        if let v = l.asView, let i = containerIndex[v.container], i >= freshContainersStart, containers[i].isDynamic,
           v.isWhole(of: containers[i]) {
            // A new array computed for this binding: take over its storage.
            markWritten(name)
            emit(.allocate(Allocation(container: name, takeFrom: v.container, loc: loc)))
        } else {
            emit(.allocate(Allocation(container: name, loc: loc)))
            try store(.array(l), into: view, loc: loc)
        }
        env[n] = .array(Lazy(node: .view(view), shape: view.shape, dtype: view.dtype))
        bindingDepth[n] = loopDepth
    }
}

/// `np.nonzero`, `np.flatnonzero` and `np.argwhere`: int64 index arrays whose length is the
/// number of nonzero elements. Merged into `NumPyRegistry.functions`.
enum CompactionRegistry {
    static let functions: [String: NumPyFunction] = [
        "nonzero": NumPyFunction(family: .selection, summary: "nonzero(a): a tuple of int64 index arrays, one per dimension (data-dependent length)") { l, a in
            try a.check(maxPositional: 1, allowed: [])
            return .tuple(try l.nonzeroIndices(try a.require(0, "a"), form: .perAxis, loc: a.loc).map { .array($0) })
        },
        "flatnonzero": NumPyFunction(family: .selection, summary: "flatnonzero(a): int64 indices of the nonzero elements of a.ravel() (data-dependent length)") { l, a in
            try a.check(maxPositional: 1, allowed: [])
            return .array(try l.nonzeroIndices(try a.require(0, "a"), form: .flat, loc: a.loc)[0])
        },
        "argwhere": NumPyFunction(family: .selection, summary: "argwhere(a): int64 array (count, a.ndim) of the indices of nonzero elements (data-dependent length)") { l, a in
            try a.check(maxPositional: 1, allowed: [])
            return .array(try l.nonzeroIndices(try a.require(0, "a"), form: .rows, loc: a.loc)[0])
        },
    ]
}

extension FunctionLowerer {
    enum NonzeroForm { case perAxis, flat, rows }

    /// The indices of the nonzero elements of `v` in C order: one array per axis
    /// (`np.nonzero`), flat indices (`np.flatnonzero`) or one row per element (`np.argwhere`).
    func nonzeroIndices(_ v: Value, form: NonzeroForm, loc: SourceLocation) throws -> [Lazy] {
        let a: Lazy
        switch try compactedValue(v, loc: loc) {
        case .array(let x): a = x
        case .scalar:
            throw Diagnostic(loc, "np.nonzero of a scalar is not supported (NumPy deprecates it); use an array")
        default:
            throw Diagnostic(loc, "np.nonzero expects an array")
        }
        guard !a.shape.isEmpty else { throw Diagnostic(loc, "np.nonzero of a 0-d array is not supported; use an array") }
        guard mapLocals.isEmpty else {
            throw Diagnostic(loc, "index arrays of data-dependent length cannot be created inside a parallel map (\(ctx.braidAliasName).map); compute them before the map")
        }
        let cond = a.dtype == .bool ? a
            : Lazy(node: .binary(.ne, a, Lazy(node: .scalar(cast(.symbol(.zero), a.dtype)), shape: [], dtype: a.dtype)), shape: a.shape, dtype: .bool)
        let count = try trueCount(cond, loc: loc)
        let r = a.shape.count
        let outs: [ArrayView]
        switch form {
        case .perAxis: outs = try (0..<r).map { _ in try newDynamicArray("nonzero", .int64, [.sym(count)], loc: loc) }
        case .flat: outs = [try newDynamicArray("flatnonzero", .int64, [.sym(count)], loc: loc)]
        case .rows: outs = [try newDynamicArray("argwhere", .int64, [.sym(count), .int(r)], loc: loc)]
        }
        for o in outs { markWritten(o.container) }
        let k = newScalar("next", .int64)
        emitTasklet(.point(k, []), .symbol(.zero), loc: loc)
        let vars = (0..<r).map { _ in fresh("i") }
        for (v, d) in zip(vars, a.shape) { loopRanges[v] = SymRange(.zero, d) }
        let idx = vars.map { SymExpr.sym($0) }
        var body: [Node] = nested {
            let take = nested {
                switch form {
                case .perAxis:
                    for (o, i) in zip(outs, idx) { emitTasklet(o.memlet(at: [.sym(k)]), .symbol(i), loc: loc) }
                case .flat:
                    var flat = SymExpr.zero
                    for (i, d) in zip(idx, a.shape) { flat = flat * d + i }
                    emitTasklet(outs[0].memlet(at: [.sym(k)]), .symbol(flat), loc: loc)
                case .rows:
                    for (d, i) in idx.enumerated() { emitTasklet(outs[0].memlet(at: [.sym(k), .int(d)]), .symbol(i), loc: loc) }
                }
                emitTasklet(.point(k, []), .symbol(.sym(k) + 1), loc: loc)
            }
            emit(.branch(Branch(condition: cond.element(at: idx), then: take, orElse: [], loc: loc)))
        }
        for (v, d) in zip(vars, a.shape).reversed() {
            body = [.forLoop(ForLoop(variable: v, range: SymRange(.zero, d), body: body, loc: loc))]
        }
        for n in body { emit(n) }
        return outs.map { Lazy(node: .view($0), shape: $0.shape, dtype: .int64) }
    }
}
