import BraidIR

/// `np.mgrid[...]` and `np.ogrid[...]`: the index grids NumPy builds from slices, with
/// NumPy's arithmetic (`i * step + start`, a complex step `Nj` meaning N points with
/// `step = (stop - start) / (N - 1)`) and its result type (int64 unless a bound or step is
/// a float, or a step is complex).
///
/// Reached from a subscript of the module attribute (`numpy.mgrid` / `numpy.ogrid`).
extension FunctionLowerer {
    /// One slice of the key: a size and the value of element i.
    struct GridAxis {
        var size: SymExpr
        var isFloat: Bool
        var value: (SymExpr, DType) -> ScalarExpr
    }

    func gridAxis(_ item: PyExpr, grid: String) throws -> GridAxis {
        guard case .slice(let lo, let hi, let st) = item.kind else {
            throw Diagnostic(item.loc, "np.\(grid)[...] takes slices such as 0:N or 0:1:5j")
        }
        guard let hi else { throw Diagnostic(item.loc, "np.\(grid)[...] needs a stop in every slice") }
        let start = try lo.map { try lowerExpr($0) } ?? .scalar(.symbol(.zero), weak: true)
        let stop = try lowerExpr(hi)
        let step = try st.map { try lowerExpr($0) } ?? .scalar(.symbol(.one), weak: true)
        func constant(_ v: Value) -> Double? {
            switch v {
            case .scalar(.symbol(.int(let k)), _): return Double(k)
            case .scalar(.literal(.float(let d), _), _): return d
            case .scalar(.literal(.int(let k), _), _): return Double(k)
            default: return nil
            }
        }
        func isInt(_ v: Value) -> Bool {
            if case .scalar(let x, _) = v { return x.dtype.isInteger || x.dtype.isBool }
            return false
        }
        // A complex step: that many points from start to stop, both included.
        if case .scalar(.literal(.complex(let re, let im), _), _) = step {
            let count = Int((re * re + im * im).squareRoot())
            guard let a = constant(start), let b = constant(stop) else {
                throw Diagnostic(item.loc, "np.\(grid)[start:stop:Nj] needs constant start and stop")
            }
            let delta = count != 1 ? (b - a) / Double(count - 1) : 1.0
            return GridAxis(size: .int(count), isFloat: true) { i, t in
                self.cast(.binary(.add, .binary(.mul, self.cast(.symbol(i), .float64), .literal(.float(delta), .float64), .float64),
                                  .literal(.float(a), .float64), .float64), t)
            }
        }
        if isInt(start), isInt(stop), isInt(step) {
            guard case .scalar(.symbol(.int(let s)), _) = step, s != 0 else {
                throw Diagnostic(item.loc, "np.\(grid)[...]: the step must be a nonzero integer constant (or a constant like 5j)")
            }
            let a = try symbolicArgument(start, loc: item.loc), b = try symbolicArgument(stop, loc: item.loc)
            // ceil((stop - start) / step), never negative.
            let n = s > 0 ? SymExpr.floorDivide(b - a + .int(s - 1), .int(s)) : SymExpr.floorDivide(a - b + .int(-s - 1), .int(-s))
            let size = n.constant.map { SymExpr.int(max($0, 0)) } ?? SymExpr.maximum(n, .zero)
            return GridAxis(size: size, isFloat: false) { i, t in self.cast(.symbol(a + .int(s) * i), t) }
        }
        guard let a = constant(start), let b = constant(stop), let s = constant(step), s != 0 else {
            throw Diagnostic(item.loc, "np.\(grid)[...] with float bounds needs constants (the size depends on them) and a nonzero step")
        }
        let count = max(0, Int(((b - a) / s).rounded(.up)))
        return GridAxis(size: .int(count), isFloat: true) { i, t in
            self.cast(.binary(.add, .binary(.mul, self.cast(.symbol(i), .float64), .literal(.float(s), .float64), .float64),
                              .literal(.float(a), .float64), .float64), t)
        }
    }

    /// `np.mgrid[key]` (dense, one stacked array) or `np.ogrid[key]` (sparse, a tuple of
    /// arrays with length-1 dimensions elsewhere). A single slice gives one 1-D array.
    func indexGrid(_ index: PyExpr, sparse: Bool) throws -> Value {
        let grid = sparse ? "ogrid" : "mgrid"
        let single: Bool
        let items: [PyExpr]
        if case .tuple(let ts) = index.kind { items = ts; single = false } else { items = [index]; single = true }
        guard !items.isEmpty else { throw Diagnostic(index.loc, "np.\(grid)[] needs at least one slice") }
        let axes = try items.map { try gridAxis($0, grid: grid) }
        let t: DType = axes.contains { $0.isFloat } ? .float64 : .int64
        let sizes = axes.map(\.size)
        if single {
            return try generate(grid, t, [sizes[0]], loc: index.loc) { idx in axes[0].value(idx[0], t) }
        }
        if sparse {
            return .tuple(try axes.enumerated().map { k, ax in
                var shape = [SymExpr](repeating: .one, count: axes.count)
                shape[k] = ax.size
                return try generate(grid, t, shape, loc: index.loc) { idx in ax.value(idx[k], t) }
            })
        }
        let shape = [SymExpr.int(axes.count)] + sizes
        let out = try newArray(grid, t, shape, loc: index.loc)
        markWritten(out.container)
        for (k, ax) in axes.enumerated() {
            try emitMap(sizes, loc: index.loc) { idx in
                emitTasklet(out.memlet(at: [.int(k)] + idx), ax.value(idx[k], t), loc: index.loc)
            }
        }
        return .array(Lazy(node: .view(out), shape: shape, dtype: t))
    }

    /// `np.r_[...]` (1-D pieces joined: arrays, numbers, and slices as in np.mgrid, e.g. 0:10:2
    /// or 0:1:5j) and `np.c_[...]` (1-D pieces as columns, 2-D pieces along the last axis).
    func indexConcatenate(_ index: PyExpr, columns: Bool) throws -> Value {
        let name = columns ? "c_" : "r_"
        var items: [PyExpr]
        if case .tuple(let ts) = index.kind { items = ts } else { items = [index] }
        var parts: [Value] = []
        for item in items {
            if case .slice = item.kind {
                let ax = try gridAxis(item, grid: name)
                let t: DType = ax.isFloat ? .float64 : .int64
                parts.append(try generate(name, t, [ax.size], loc: item.loc) { idx in ax.value(idx[0], t) })
                continue
            }
            let v = try compactedValue(try lowerExpr(item), loc: item.loc)
            switch v {
            case .scalar, .array: parts.append(v)
            default: throw Diagnostic(item.loc, "np.\(name)[...] takes arrays, numbers and slices (not a \(v.kindName))")
            }
        }
        guard !parts.isEmpty else { throw Diagnostic(index.loc, "np.\(name)[] needs at least one item") }
        let pieces = try parts.map { try lazy($0, loc: index.loc) }
        if columns {
            // 1-D pieces (and numbers) become columns; 2-D pieces join along their last axis.
            let cols = try pieces.map { p -> Value in
                switch p.shape.count {
                case 0: return try reshape(.array(p), [.one, .one], loc: index.loc)
                case 1: return try reshape(.array(p), [.int(-1), .one], loc: index.loc)
                case 2: return .array(p)
                default: throw Diagnostic(index.loc, "np.c_[...] is supported for 1-D and 2-D pieces")
                }
            }
            return try concatenate(cols, axis: 1, newAxis: false, loc: index.loc)
        }
        guard pieces.allSatisfy({ $0.shape.count <= 1 }) || pieces.allSatisfy({ $0.shape.count == pieces[0].shape.count }) else {
            throw Diagnostic(index.loc, "np.r_[...] joins pieces of one number of dimensions (numbers count as 1-D)")
        }
        let flat = try pieces.map { p -> Value in p.shape.isEmpty ? try reshape(.array(p), [.one], loc: index.loc) : .array(p) }
        return try concatenate(flat, axis: 0, newAxis: false, loc: index.loc)
    }
}
