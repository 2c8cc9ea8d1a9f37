import BraidIR

/// Array creation and manipulation functions that build new arrays from indices or parts.
extension FunctionLowerer {
    /// An integer-valued argument as a symbolic value (constants and symbols).
    func symbolicArgument(_ v: Value, loc: SourceLocation) throws -> SymExpr {
        guard case .scalar(let x, _) = v, x.dtype.isInteger else {
            throw Diagnostic(loc, "expected an integer here")
        }
        return symbolicValue(x, loc: loc)
    }

    /// A new array whose element `idx` is `f(idx)`.
    func generate(_ hint: String, _ dtype: DType, _ shape: [SymExpr], loc: SourceLocation,
                  _ f: ([SymExpr]) throws -> ScalarExpr) throws -> Value {
        let out = try newArray(hint, dtype, shape, loc: loc)
        markWritten(out.container)
        try emitMap(shape, loc: loc) { idx in emitTasklet(out.memlet(at: idx), try f(idx), loc: loc) }
        return .array(Lazy(node: .view(out), shape: shape, dtype: dtype))
    }

    /// `np.arange(stop)`, `np.arange(start, stop, step)`: integer arguments (any symbolic
    /// value) or float constants, so the length is known before the loop runs.
    func arange(_ a: CallArgs) throws -> Value {
        var args = a.positional
        if args.isEmpty, let s = a.keywords["stop"] { args = [s] }
        guard (1...3).contains(args.count) else { throw Diagnostic(a.loc, "arange() takes 1 to 3 arguments") }
        let ints = args.allSatisfy { if case .scalar(let x, _) = $0 { return x.dtype.isInteger } else { return false } }
        var dtype: DType = ints ? .int64 : .float64
        if case .dtype(let d)? = a.keywords["dtype"] { dtype = d }
        if ints {
            let vals = try args.map { try symbolicArgument($0, loc: a.loc) }
            let (start, stop, step) = vals.count == 1 ? (SymExpr.zero, vals[0], SymExpr.one)
                : (vals[0], vals[1], vals.count == 3 ? vals[2] : .one)
            guard let st = step.constant, st != 0 else {
                throw Diagnostic(a.loc, "arange()'s step must be a nonzero integer constant")
            }
            let n = st > 0 ? SymExpr.floorDivide(stop - start + .int(st - 1), .int(st))
                : SymExpr.floorDivide(start - stop + .int(-st - 1), .int(-st))
            // Sizes are never negative, so arange(N) has exactly N elements.
            let isSize: Bool = { if case .sym(let s) = n { return self.symbols.contains(s) } else { return false } }()
            let len = n.constant.map { SymExpr.int(max($0, 0)) } ?? (isSize ? n : SymExpr.maximum(n, .zero))
            return try generate("range", dtype, [len], loc: a.loc) { idx in cast(.symbol(start + .int(st) * idx[0]), dtype) }
        }
        var consts: [Double] = []
        for v in args {
            switch v {
            case .scalar(.literal(.float(let d), _), _): consts.append(d)
            case .scalar(.symbol(.int(let k)), _): consts.append(Double(k))
            default:
                return try arangeAtRunTime(args, dtype: dtype, loc: a.loc)
            }
        }
        let (start, stop, step) = consts.count == 1 ? (0.0, consts[0], 1.0) : (consts[0], consts[1], consts.count == 3 ? consts[2] : 1.0)
        let n = max(0, Int(((stop - start) / step).rounded(.up)))
        return try generate("range", dtype, [.int(n)], loc: a.loc) { idx in
            cast(.binary(.add, .literal(.float(start), .float64),
                         .binary(.mul, cast(.symbol(idx[0]), .float64), .literal(.float(step), .float64), .float64), .float64), dtype)
        }
    }

    /// `np.arange` with float bounds known only at run time: the length is
    /// `ceil((stop - start) / step)` (never negative), computed when the call runs, and
    /// element i is `start + i * delta` with NumPy's `delta = (start + step) - start`.
    func arangeAtRunTime(_ args: [Value], dtype: DType, loc: SourceLocation) throws -> Value {
        let xs = try args.map { v -> ScalarExpr in
            guard case .scalar(let x, _) = v, !x.dtype.isComplex else {
                throw Diagnostic(loc, "arange() takes real scalars")
            }
            return cast(x, .float64)
        }
        let one = ScalarExpr.literal(.float(1), .float64)
        let (start, stop, step) = xs.count == 1 ? (ScalarExpr.literal(.float(0), .float64), xs[0], one)
            : (xs[0], xs[1], xs.count == 3 ? xs[2] : one)
        if case .literal(.float(0), _) = step { throw Diagnostic(loc, "arange(): the step must not be zero (NumPy raises ZeroDivisionError)") }
        emit(.branch(Branch(condition: .binary(.eq, step, .literal(.float(0), .float64), .bool),
                            then: [.fail(.invalidValue, loc)], orElse: [], loc: loc)))
        let s0 = newScalar("start", .float64), d = newScalar("delta", .float64)
        emitTasklet(.point(s0, []), start, loc: loc)
        emitTasklet(.point(d, []), .binary(.sub, .binary(.add, .load(.point(s0, []), .float64), step, .float64), .load(.point(s0, []), .float64), .float64), loc: loc)
        let count = ScalarExpr.call(.ceil, [.binary(.div, .binary(.sub, stop, .load(.point(s0, []), .float64), .float64), step, .float64)], .float64)
        let n = ScalarExpr.select(.binary(.gt, count, .literal(.float(0), .float64), .bool), .cast(count, .int64), .literal(.int(0), .int64), .int64)
        let length = symbolicValue(n, loc: loc)
        return try generate("range", dtype, [length], loc: loc) { idx in
            cast(.binary(.add, .load(.point(s0, []), .float64),
                         .binary(.mul, cast(.symbol(idx[0]), .float64), .load(.point(d, []), .float64), .float64), .float64), dtype)
        }
    }

    /// `np.linspace(start, stop, num=50, endpoint=True)`.
    func linspace(_ a: CallArgs) throws -> Value {
        try a.check(maxPositional: 3, allowed: ["num", "endpoint", "dtype"])
        guard case .scalar(let lo, _) = try a.require(0, "start"), case .scalar(let hi, _) = try a.require(1, "stop") else {
            throw Diagnostic(a.loc, "linspace() needs scalar start and stop")
        }
        let num = try a.get(2, "num").map { try symbolicArgument($0, loc: a.loc) } ?? .int(50)
        var endpoint = true
        if case .scalar(.literal(.bool(let b), _), _)? = a.keywords["endpoint"] { endpoint = b }
        var dtype = DType.float64
        if case .dtype(let d)? = a.keywords["dtype"] { dtype = d }
        let start = cast(lo, .float64), stop = cast(hi, .float64)
        let divisions = endpoint ? num - 1 : num
        let step = ScalarExpr.binary(.div, .binary(.sub, stop, start, .float64), cast(.symbol(SymExpr.maximum(divisions, .one)), .float64), .float64)
        return try generate("lin", dtype, [num], loc: a.loc) { idx in
            var value = ScalarExpr.binary(.add, start, .binary(.mul, cast(.symbol(idx[0]), .float64), step, .float64), .float64)
            if endpoint && num.constant != 1 {
                // NumPy sets the last sample to `stop` exactly when there are two or more
                // (one sample is `start`).
                var last = ScalarExpr.binary(.eq, .symbol(idx[0]), .symbol(num - 1), .bool)
                if num.constant == nil { last = .binary(.and, last, .binary(.gt, .symbol(num), .symbol(.one), .bool), .bool) }
                value = .select(last, stop, value, .float64)
            }
            // NumPy rounds down before converting to an integer dtype.
            if dtype.isInteger { value = .call(.floor, [value], .float64) }
            return cast(value, dtype)
        }
    }

    /// `np.eye(N, M=None, k=0, dtype=float)`, `np.identity(n)`.
    func eye(_ a: CallArgs) throws -> Value {
        try a.check(maxPositional: 3, allowed: ["M", "k", "dtype"])
        let n = try symbolicArgument(try a.require(0, "N"), loc: a.loc)
        var m = n
        if let mv = a.get(1, "M"), !{ if case .none = mv { return true } else { return false } }() {
            m = try symbolicArgument(mv, loc: a.loc)
        }
        let k = try a.get(2, "k").map { try symbolicArgument($0, loc: a.loc) } ?? .zero
        var dtype = DType.float64
        if case .dtype(let d)? = a.keywords["dtype"] { dtype = d }
        return try generate("eye", dtype, [n, m], loc: a.loc) { idx in
            cast(.binary(.eq, .symbol(idx[1] - idx[0]), .symbol(k), .bool), dtype)
        }
    }

    /// `np.triu(m, k=0)` / `np.tril(m, k=0)`.
    func triangle(upper: Bool, _ a: CallArgs) throws -> Value {
        try a.check(maxPositional: 2, allowed: ["k"])
        let l = try lazy(try a.require(0, "m"), loc: a.loc)
        guard l.shape.count >= 2 else { throw Diagnostic(a.loc, "triu/tril need an array of at least 2 dimensions") }
        let k = try a.get(1, "k").map { try symbolicArgument($0, loc: a.loc) } ?? .zero
        let r = l.shape.count
        return try generate(upper ? "triu" : "tril", l.dtype, l.shape, loc: a.loc) { idx in
            let diff = ScalarExpr.symbol(idx[r - 1] - idx[r - 2])
            let keep = ScalarExpr.binary(upper ? .ge : .le, diff, .symbol(k), .bool)
            return .select(keep, l.element(at: idx), cast(.symbol(.zero), l.dtype), l.dtype)
        }
    }

    /// `np.concatenate(arrays, axis=0)`, and `np.stack` (a new axis) built on it.
    func concatenate(_ parts: [Value], axis: Int, newAxis: Bool, loc: SourceLocation) throws -> Value {
        guard !parts.isEmpty else { throw Diagnostic(loc, "need at least one array to concatenate") }
        var ls = try parts.map { try lazy($0, loc: loc) }
        if newAxis {
            // stack: give every part a length-1 axis at `axis`.
            let rank = ls[0].shape.count + 1
            let ax = axis < 0 ? axis + rank : axis
            ls = try ls.map { l in
                var shape = l.shape
                guard (0...shape.count).contains(ax) else { throw Diagnostic(loc, "axis \(axis) is out of bounds") }
                shape.insert(.one, at: ax)
                let v = try viewOf(.array(l), loc: loc)
                var map = ArrayView.placeholders(shape.count)
                map.remove(at: ax)
                let r = v.reindexed(shape: shape, map)
                return Lazy(node: .view(r), shape: shape, dtype: r.dtype)
            }
        }
        let rank = ls[0].shape.count
        let ax = axis < 0 ? axis + rank : axis
        guard (0..<rank).contains(ax) else { throw Diagnostic(loc, "axis \(axis) is out of bounds for an array of dimension \(rank)") }
        var shape = ls[0].shape
        let t = ls.dropFirst().reduce(ls[0].dtype) { DType.promote($0, $1.dtype) }
        var total = SymExpr.zero
        for l in ls {
            guard l.shape.count == rank else { throw Diagnostic(loc, "all the input arrays must have the same number of dimensions") }
            for d in 0..<rank where d != ax { shape[d] = try agree(shape[d], l.shape[d], loc: loc, broadcasting: false) }
            total = total + l.shape[ax]
        }
        shape[ax] = total
        let out = try newArray("cat", t, shape, loc: loc)
        var offset = SymExpr.zero
        for l in ls {
            var map = ArrayView.placeholders(rank)
            map[ax] = offset + map[ax]
            var partShape = shape
            partShape[ax] = l.shape[ax]
            try store(.array(l), into: out.reindexed(shape: partShape, map), loc: loc)
            offset = offset + l.shape[ax]
        }
        return .array(Lazy(node: .view(out), shape: shape, dtype: t))
    }

    /// `np.flip(a, axis=None)`: a reversed view.
    func flip(_ v: Value, axes: [Int]?, loc: SourceLocation) throws -> Value {
        let view = try viewOf(v, loc: loc)
        let rank = view.shape.count
        let flipped = try normalizedAxes(axes, rank: rank, loc: loc)
        let map = (0..<rank).map { k -> SymExpr in
            let p = SymExpr.sym(ArrayView.placeholder(k))
            return flipped.contains(k) ? view.shape[k] - 1 - p : p
        }
        let r = view.reindexed(shape: view.shape, map)
        return .array(Lazy(node: .view(r), shape: r.shape, dtype: r.dtype))
    }

    /// `np.repeat(a, counts, axis=None)` with a count per element (or slice along the axis):
    /// the result's length along the axis is the sum of the counts, known when it runs.
    func repeatByCounts(_ v: Value, _ countsValue: Value, axis: Int?, loc: SourceLocation) throws -> Value {
        var x = try lazy(try compactedValue(v, loc: loc), loc: loc)
        if axis == nil { x = try lazy(try reshape(.array(x), [.int(-1)], loc: loc), loc: loc) }
        let ax = try normalizedAxes([axis ?? 0], rank: x.shape.count, loc: loc)[0]
        var counts = try lazy(try compactedValue(countsValue, loc: loc), loc: loc)
        guard counts.shape.count == 1, counts.dtype.isInteger || counts.dtype.isBool else {
            throw Diagnostic(loc, "repeat(): repeats must be an integer or a 1-D array of integers")
        }
        _ = try agree(counts.shape[0], x.shape[ax], loc: loc, broadcasting: true)
        if counts.asView == nil { counts = try materializeNew(counts, hint: "counts", loc: loc) }
        if x.asView == nil { x = try materializeNew(x, hint: "repeated", loc: loc) }
        let n = x.shape[ax]
        let single = counts.shape[0] == .one
        let countAt: (SymExpr) -> ScalarExpr = { i in .cast(counts.element(at: [single ? .zero : i]), .int64) }
        // Negative counts raise ValueError, as NumPy.
        try emitMap([counts.shape[0]], loc: loc) { i in
            emit(.branch(Branch(condition: .binary(.lt, countAt(i[0]), .symbol(.zero), .bool), then: [.fail(.invalidValue, loc)], orElse: [], loc: loc)))
        }
        guard case .scalar(let total, _) = try reduce(.add, .array(Lazy(node: .cast(single ? Lazy(node: .scalar(countAt(.zero)), shape: [], dtype: .int64) : counts), shape: [n], dtype: .int64)),
                                                      axes: nil, keepdims: false, loc: loc, resultType: .int64) else {
            throw Diagnostic(loc, "internal: repeat total")
        }
        var shape = x.shape
        shape[ax] = symbolicValue(total, loc: loc)
        let out = try newArray("repeat", x.dtype, shape, loc: loc)
        markWritten(out.container)
        // One sequential pass: slice i of x is written counts[i] times.
        let next = newScalar("next", .int64)
        emitTasklet(.point(next, []), .symbol(.zero), loc: loc)
        let rest = x.shape.indices.filter { $0 != ax }
        try emitLoops([n], loc: loc) { i in
            let r = fresh("r")
            let copy = try nested {
                try emitLoops(rest.map { x.shape[$0] }, loc: loc) { j in
                    var src = j, dst = j
                    src.insert(i[0], at: ax)
                    dst.insert(.sym(next), at: ax)
                    emitTasklet(out.memlet(at: dst), x.element(at: src), loc: loc)
                }
                emitTasklet(.point(next, []), .symbol(.sym(next) + 1), loc: loc)
            }
            let k = newScalar("times", .int64)
            emitTasklet(.point(k, []), countAt(i[0]), loc: loc)
            emit(.forLoop(ForLoop(variable: r, range: SymRange(.zero, .sym(k)), body: copy, loc: loc)))
        }
        return .array(Lazy(node: .view(out), shape: out.shape, dtype: out.dtype))
    }

    /// `np.repeat(a, repeats, axis=None)` with one repeat count for every element.
    func repeatElements(_ v: Value, _ count: SymExpr, axis: Int?, loc: SourceLocation) throws -> Value {
        var l = try lazy(v, loc: loc)
        if axis == nil { l = try lazy(try reshape(.array(l), [.int(-1)], loc: loc), loc: loc) }
        let ax = try normalizedAxes([axis ?? 0], rank: l.shape.count, loc: loc)[0]
        var shape = l.shape
        shape[ax] = shape[ax] * count
        return try generate("rep", l.dtype, shape, loc: loc) { idx in
            var src = idx
            src[ax] = .floorDivide(idx[ax], count)
            return l.element(at: src)
        }
    }

    func isNone(_ v: Value) -> Bool {
        if case .none = v { return true }
        return false
    }

    /// A value converted to another dtype (elementwise for arrays).
    func castValue(_ v: Value, _ t: DType) throws -> Value {
        switch v {
        case .scalar(let x, _): return .scalar(cast(x, t), weak: false)
        case .array(let l): return .array(castLazy(l, t))
        default: throw Diagnostic(SourceLocation(file: "", line: 0, column: 0), "internal: cast of a \(v.kindName)")
        }
    }

    /// Applies a ufunc's `out=` and `where=` keywords to its computed value.
    func applyUfuncOutput(_ value: Value, _ a: CallArgs) throws -> Value {
        guard let out = a.keywords["out"] else {
            if a.keywords["where"] != nil {
                throw Diagnostic(a.loc, "where= without out= leaves elements uninitialized; pass out= as well")
            }
            return value
        }
        var target = out
        if case .tuple(let vs) = out, vs.count == 1 { target = vs[0] }
        guard case .array(let t) = target, let view = t.asView else {
            throw Diagnostic(a.loc, "out= must be an array")
        }
        var result = value
        if let mask = a.keywords["where"] {
            result = try select(mask, value, target, loc: a.loc)
        }
        try store(result, into: view, loc: a.loc)
        return target
    }
}

extension FunctionLowerer {
    /// `np.array(obj, dtype=None)` (a new array) and `np.asarray(obj, dtype=None)` (the
    /// array itself when no conversion is needed): arrays, scalars, and (nested) lists or
    /// tuples of scalars, whose dtype NumPy infers from the elements.
    /// NumPy 2 raises OverflowError when a Python int constant is converted to an integer
    /// dtype that cannot hold it (np.full(n, 300, dtype=np.int8), np.array([300], np.int8)).
    func checkPythonIntFits(_ v: Value, _ t: DType, loc: SourceLocation) throws {
        guard t.isInteger, let k = weakIntConstant(v), !Self.holds(t, k) else { return }
        throw Diagnostic(loc, "Python integer \(k) out of bounds for \(t.rawValue): NumPy 2 raises OverflowError here; use a wider dtype, or write the value as it wraps (np.array(\(k)).astype(np.\(t.rawValue)) wraps)")
    }

    func arrayCall(_ a: CallArgs, copy: Bool) throws -> Value {
        try a.check(maxPositional: 2, allowed: ["dtype", "copy"])
        let obj = try a.require(0, "object")
        let dtype = try dtypeArgument(a.get(1, "dtype"), loc: a.loc)
        var copy = copy, neverCopy = false
        if let c = a.keywords["copy"], !isNone(c) {
            guard case .scalar(.literal(.bool(let b), _), _) = c else { throw Diagnostic(a.loc, "copy= must be True, False or None") }
            copy = b
            neverCopy = !b && a.function == "array"  // NumPy 2: copy=False forbids copying
        }
        switch obj {
        case .array(let l):
            let converted = castLazy(l, dtype ?? l.dtype)
            if !copy && converted.asView != nil { return .array(converted) }
            if neverCopy { throw Diagnostic(a.loc, "np.array(..., copy=False) would need a copy here (NumPy raises ValueError); use np.asarray") }
            return .array(try materializeNew(converted, hint: "array", loc: a.loc))
        case .scalar(let x, let weak):
            // A 0-d array: Braid represents it as a (NumPy, not Python) scalar of that dtype.
            let t = dtype ?? scalarVariableType(x.dtype, weak: weak)
            try checkPythonIntFits(obj, t, loc: a.loc)
            return .scalar(cast(x, t), weak: false)
        case .tuple(let parts) where !parts.isEmpty && parts.allSatisfy({ if case .array = $0 { return true } else { return false } }):
            // A list of arrays of one shape: stacked along a new first axis (NumPy's result).
            let shapes = try parts.map { try lazy($0, loc: a.loc).shape }
            guard shapes.allSatisfy({ $0.count == shapes[0].count }) else {
                throw Diagnostic(a.loc, "np.array of arrays with different shapes (NumPy raises ValueError: inhomogeneous shape); use arrays of one shape")
            }
            for s in shapes.dropFirst() {
                for (x, y) in zip(s, shapes[0]) where x != y {
                    if (x - y).constant != nil { throw Diagnostic(a.loc, "np.array of arrays with different shapes (NumPy raises ValueError: inhomogeneous shape); use arrays of one shape") }
                    _ = try agree(x, y, loc: a.loc, broadcasting: false)
                }
            }
            let stacked = try lazy(try concatenate(parts, axis: 0, newAxis: true, loc: a.loc), loc: a.loc)
            guard let dtype else { return .array(stacked) }
            return .array(try materializeNew(castLazy(stacked, dtype), hint: "array", loc: a.loc))
        case .tuple:
            // Nested sequences: the shape from the nesting, elements in C order.
            var shape: [Int] = []
            var elements: [(ScalarExpr, Bool)] = []
            func walk(_ v: Value, depth: Int) throws {
                switch v {
                case .tuple(let vs):
                    if depth == shape.count { shape.append(vs.count) } else if depth > shape.count || shape[depth] != vs.count {
                        throw Diagnostic(a.loc, "np.array of nested sequences needs a regular (rectangular) nesting")
                    }
                    for e in vs { try walk(e, depth: depth + 1) }
                case .scalar(let x, let w):
                    guard depth == shape.count else { throw Diagnostic(a.loc, "np.array of nested sequences needs a regular (rectangular) nesting") }
                    elements.append((x, w))
                default:
                    throw Diagnostic(a.loc, "np.array takes numbers or (nested) lists of numbers here, not a \(v.kindName); use np.stack for arrays")
                }
            }
            try walk(obj, depth: 0)
            var t: DType
            if let dtype { t = dtype } else if !elements.isEmpty {
                // NumPy types each Python number by its kind (bool, int64, float64, complex128)
                // and each NumPy scalar by its dtype, then promotes them all (no weak scalars here).
                t = elements.map { scalarVariableType($0.0.dtype, weak: $0.1) }.dropFirst()
                    .reduce(scalarVariableType(elements[0].0.dtype, weak: elements[0].1)) { DType.promote($0, $1) }
            } else {
                t = .float64
            }
            let dims = shape.map { SymExpr.int($0) }
            let view = try newArray("array", t, dims, loc: a.loc)
            markWritten(view.container)
            var strides = [Int](repeating: 1, count: shape.count)
            for k in stride(from: shape.count - 2, through: 0, by: -1) { strides[k] = strides[k + 1] * shape[k + 1] }
            for (n, (x, w)) in elements.enumerated() {
                try checkPythonIntFits(.scalar(x, weak: w), t, loc: a.loc)
                let idx = shape.indices.map { SymExpr.int((n / strides[$0]) % shape[$0]) }
                emitTasklet(view.memlet(at: idx), cast(x, t), loc: a.loc)
            }
            return .array(Lazy(node: .view(view), shape: dims, dtype: t))
        default:
            throw Diagnostic(a.loc, "np.array cannot convert a \(obj.kindName)")
        }
    }
}
