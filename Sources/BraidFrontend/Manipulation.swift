import BraidIR

/// More of NumPy's shape manipulation, grids and elementwise helpers, each written with the
/// lowerings the compiler already has (views, `generate`, operators, reductions):
/// `np.expand_dims`, `np.squeeze`, `np.swapaxes`, `np.moveaxis`, `np.tile`, `np.meshgrid`,
/// `np.pad`, `np.column_stack`, `np.append`, `np.triu_indices`/`np.tril_indices`,
/// `np.angle`, `np.round`/`np.around`, `np.isclose`/`np.allclose`, `np.ptp`,
/// `np.logspace`, `np.vdot`, `np.inner`.
enum ManipulationRegistry {
    static let functions: [String: NumPyFunction] = {
        var r: [String: NumPyFunction] = [:]
        r["expand_dims"] = NumPyFunction(family: .manipulation, summary: "expand_dims(a, axis), axis an int or a tuple; a view") { l, a in
            try a.check(maxPositional: 2, allowed: ["axis"])
            return try l.expandDims(try a.require(0, "a"), axes: try l.intList(try a.require(1, "axis"), loc: a.loc), loc: a.loc)
        }
        r["squeeze"] = NumPyFunction(family: .manipulation, summary: "squeeze(a, axis=None): drops length-1 dimensions; without axis=, a run-time length of 1 raises ValueError; a view") { l, a in
            try a.check(maxPositional: 2, allowed: ["axis"])
            let axes = try a.get(1, "axis").flatMap { l.isNone($0) ? nil : try l.intList($0, loc: a.loc) }
            return try l.squeeze(try a.require(0, "a"), axes: axes, loc: a.loc)
        }
        r["swapaxes"] = NumPyFunction(family: .manipulation, summary: "swapaxes(a, axis1, axis2), a view") { l, a in
            try a.check(maxPositional: 3, allowed: ["axis1", "axis2"])
            let x = try a.require(0, "a")
            let rank = try l.lazy(x, loc: a.loc).shape.count
            let i = try l.axesArgument(a, 1, "axis1", rank: rank), j = try l.axesArgument(a, 2, "axis2", rank: rank)
            guard i.count == 1, j.count == 1 else { throw Diagnostic(a.loc, "swapaxes() takes two integer axes") }
            var perm = Array(0..<rank)
            perm.swapAt(i[0], j[0])
            return try l.transpose(x, axes: perm, loc: a.loc)
        }
        r["moveaxis"] = NumPyFunction(family: .manipulation, summary: "moveaxis(a, source, destination), ints or tuples; a view") { l, a in
            try a.check(maxPositional: 3, allowed: ["source", "destination"])
            let x = try a.require(0, "a")
            let rank = try l.lazy(x, loc: a.loc).shape.count
            let src = try l.axesArgument(a, 1, "source", rank: rank), dst = try l.axesArgument(a, 2, "destination", rank: rank)
            guard src.count == dst.count, Set(src).count == src.count, Set(dst).count == dst.count else {
                throw Diagnostic(a.loc, "moveaxis(): source and destination must be distinct axes, as many of each")
            }
            // NumPy's construction: the other axes in order, then each source inserted at its destination.
            var order = (0..<rank).filter { !src.contains($0) }
            for (d, s) in zip(dst, src).sorted(by: { $0.0 < $1.0 }) { order.insert(s, at: d) }
            return try l.transpose(x, axes: order, loc: a.loc)
        }
        r["tile"] = NumPyFunction(family: .manipulation, summary: "tile(A, reps), reps an int or a tuple of ints") { l, a in
            try a.check(maxPositional: 2, allowed: ["reps"])
            return try l.tile(try a.require(0, "A"), reps: try l.shapeArgument(try a.require(1, "reps"), loc: a.loc), loc: a.loc)
        }
        r["meshgrid"] = NumPyFunction(family: .creation, summary: "meshgrid(*xi, indexing='xy'|'ij', sparse=False): a tuple of new arrays") { l, a in
            try a.check(maxPositional: Int.max, allowed: ["indexing", "sparse", "copy"])
            return try l.meshgrid(a)
        }
        r["pad"] = NumPyFunction(family: .manipulation, summary: "pad(array, pad_width, mode='constant'|'edge'|'wrap', constant_values=0)") { l, a in
            try a.check(maxPositional: 3, allowed: ["pad_width", "mode", "constant_values"])
            return try l.pad(a)
        }
        r["column_stack"] = NumPyFunction(family: .manipulation, summary: "column_stack(arrays): 1-D arrays as columns") { l, a in
            try a.check(maxPositional: 1, allowed: [])
            guard case .tuple(let parts) = try a.require(0, "tup") else {
                throw Diagnostic(a.loc, "column_stack() takes a tuple or list of arrays")
            }
            let columns = try parts.map { p -> Value in
                let x = try l.lazy(p, loc: a.loc)
                return x.shape.count < 2 ? try l.reshape(.array(x), [.int(-1), .one], loc: a.loc) : p
            }
            return try l.concatenate(columns, axis: 1, newAxis: false, loc: a.loc)
        }
        r["append"] = NumPyFunction(family: .manipulation, summary: "append(arr, values, axis=None): a new array") { l, a in
            try a.check(maxPositional: 3, allowed: ["axis"])
            var parts = [try a.require(0, "arr"), try a.require(1, "values")]
            if let ax = a.get(2, "axis"), !l.isNone(ax) {
                return try l.concatenate(parts, axis: try l.intList(ax, loc: a.loc).first ?? 0, newAxis: false, loc: a.loc)
            }
            parts = try parts.map { try l.reshape(.array(try l.lazy($0, loc: a.loc)), [.int(-1)], loc: a.loc) }
            return try l.concatenate(parts, axis: 0, newAxis: false, loc: a.loc)
        }
        for (name, upper) in [("triu_indices", true), ("tril_indices", false)] {
            r[name] = NumPyFunction(family: .selection, summary: "\(name)(n, k=0, m=None): a tuple of two int64 index arrays in row-major order") { l, a in
                try a.check(maxPositional: 3, allowed: ["k", "m"])
                let n = try l.symbolicArgument(try a.require(0, "n"), loc: a.loc)
                let k = try a.get(1, "k").map { try l.symbolicArgument($0, loc: a.loc) } ?? .zero
                let m = try a.get(2, "m").flatMap { l.isNone($0) ? nil : try l.symbolicArgument($0, loc: a.loc) } ?? n
                let mask = try l.generate("tri", .bool, [n, m], loc: a.loc) { idx in
                    // Upper: j - i >= k; lower: j - i <= k.
                    .binary(upper ? .ge : .le, .symbol(idx[1] - idx[0]), .symbol(k), .bool)
                }
                guard let nonzero = CompactionRegistry.functions["nonzero"] else { throw Diagnostic(a.loc, "internal: nonzero") }
                return try nonzero.lower(l, CallArgs(positional: [mask], keywords: [:], loc: a.loc, function: "nonzero"))
            }
        }
        r["angle"] = NumPyFunction(family: .ufunc, summary: "angle(z, deg=False), arctan2(z.imag, z.real)") { l, a in
            try a.check(maxPositional: 2, allowed: ["deg"])
            let z = try l.compactedValue(try a.require(0, "z"), loc: a.loc)
            let part: (String) throws -> Value = { name in
                guard let f = NumPyRegistry.functions[name] else { throw Diagnostic(a.loc, "internal: \(name)") }
                return try f.lower(l, CallArgs(positional: [z], keywords: [:], loc: a.loc, function: name))
            }
            var re = try part("real"), im = try part("imag")
            if !(try l.lazy(re, loc: a.loc).dtype.isInexact) {
                // Integers and bools: arctan2 computes in float64.
                re = try l.castValue(re, .float64)
                im = try l.castValue(im, .float64)
            }
            var r = try l.intrinsic(.arctan2, [im, re], loc: a.loc)
            if let d = a.get(1, "deg"), case .scalar(.literal(.bool(true), _), _) = d {
                r = try l.arith(.mul, r, .scalar(.literal(.float(180 / Double.pi), .float64), weak: true), loc: a.loc)
            }
            return r
        }
        for name in ["round", "around"] {
            r[name] = NumPyFunction(family: .ufunc, summary: "\(name)(a, decimals=0): half to even, as NumPy (x * 10**d, rint, / 10**d)") { l, a in
                try a.check(maxPositional: 2, allowed: ["decimals", "out"])
                return try l.applyUfuncOutput(try l.roundDecimals(try a.require(0, "a"), a.get(1, "decimals"), loc: a.loc), a)
            }
        }
        r["isclose"] = NumPyFunction(family: .ufunc, summary: "isclose(a, b, rtol=1e-05, atol=1e-08, equal_nan=False)") { l, a in
            try a.check(maxPositional: 5, allowed: ["rtol", "atol", "equal_nan"])
            return try l.isclose(a)
        }
        r["allclose"] = NumPyFunction(family: .reduction, summary: "allclose(a, b, rtol=1e-05, atol=1e-08, equal_nan=False)") { l, a in
            try a.check(maxPositional: 5, allowed: ["rtol", "atol", "equal_nan"])
            let close = try l.isclose(a)
            if case .scalar = close { return close }
            return try l.reduce(.min, try l.castValue(close, .bool), axes: nil, keepdims: false, loc: a.loc)
        }
        r["ptp"] = NumPyFunction(family: .reduction, summary: "ptp(a, axis=None|int|tuple, keepdims=False): max - min") { l, a in
            try a.check(maxPositional: 2, allowed: ["axis", "keepdims"])
            guard let mx = NumPyRegistry.functions["max"], let mn = NumPyRegistry.functions["min"] else { throw Diagnostic(a.loc, "internal: ptp") }
            return try l.arith(.sub, try mx.lower(l, a), try mn.lower(l, a), loc: a.loc)
        }
        r["logspace"] = NumPyFunction(family: .creation, summary: "logspace(start, stop, num=50, endpoint=True, base=10.0)") { l, a in
            try a.check(maxPositional: 4, allowed: ["num", "endpoint", "base"])
            var args = a
            let base = a.get(3, "base") ?? .scalar(.literal(.float(10), .float64), weak: true)
            args.positional = Array(a.positional.prefix(3))
            args.keywords["base"] = nil
            let y = try l.linspace(args)
            return try l.arith(.pow, base, y, loc: a.loc)
        }
        r["vdot"] = NumPyFunction(family: .linalg, summary: "vdot(a, b): dot of the flattened arrays, the first conjugated") { l, a in
            try a.check(maxPositional: 2, allowed: [])
            var x = try l.reshape(.array(try l.lazy(try a.require(0, "a"), loc: a.loc)), [.int(-1)], loc: a.loc)
            let y = try l.reshape(.array(try l.lazy(try a.require(1, "b"), loc: a.loc)), [.int(-1)], loc: a.loc)
            if try l.lazy(x, loc: a.loc).dtype.isComplex { x = try l.complexPart(x, "conj", loc: a.loc) }
            return try l.matmul(x, y, loc: a.loc)
        }
        r["inner"] = NumPyFunction(family: .linalg, summary: "inner(a, b): sum over the last axes, a and b at most 2-D") { l, a in
            try a.check(maxPositional: 2, allowed: [])
            let x = try a.require(0, "a"), y = try a.require(1, "b")
            if case .scalar = x { return try l.arith(.mul, x, y, loc: a.loc) }
            if case .scalar = y { return try l.arith(.mul, x, y, loc: a.loc) }
            let ly = try l.lazy(y, loc: a.loc), lx = try l.lazy(x, loc: a.loc)
            guard lx.shape.count <= 2, ly.shape.count <= 2 else {
                throw Diagnostic(a.loc, "np.inner of arrays with more than 2 dimensions is not supported; use np.tensordot-style loops or @")
            }
            return try l.matmul(x, ly.shape.count == 2 ? try l.transpose(y, axes: nil, loc: a.loc) : y, loc: a.loc)
        }
        r["diagonal"] = NumPyFunction(family: .manipulation, summary: "diagonal(a, offset=0) of a 2-D array, a view") { l, a in
            try a.check(maxPositional: 2, allowed: ["offset"])
            guard try l.lazy(try a.require(0, "a"), loc: a.loc).shape.count == 2 else {
                throw Diagnostic(a.loc, "diagonal() is supported for 2-D arrays")
            }
            guard let diag = NumPyRegistry.functions["diag"] else { throw Diagnostic(a.loc, "internal: diag") }
            var args = CallArgs(positional: [try a.require(0, "a")], keywords: [:], loc: a.loc, function: "diag")
            if let k = a.get(1, "offset") { args.keywords["k"] = k }
            return try diag.lower(l, args)
        }
        r["take"] = NumPyFunction(family: .selection, summary: "take(a, indices, axis=None): A.ravel()[indices], or along an axis as A[:, indices]") { l, a in
            try a.check(maxPositional: 3, allowed: ["axis"])
            return try l.take(try a.require(0, "a"), try a.require(1, "indices"), axis: try a.get(2, "axis").flatMap { l.isNone($0) ? nil : try l.intList($0, loc: a.loc).first }, loc: a.loc)
        }
        r["kron"] = NumPyFunction(family: .linalg, summary: "kron(a, b) of arrays of the same rank (1-D or 2-D)") { l, a in
            try a.check(maxPositional: 2, allowed: [])
            let x = try l.lazy(try a.require(0, "a"), loc: a.loc), y = try l.lazy(try a.require(1, "b"), loc: a.loc)
            guard x.shape.count == y.shape.count, (1...2).contains(x.shape.count) else {
                throw Diagnostic(a.loc, "np.kron is supported for two 1-D or two 2-D arrays")
            }
            // The product's dtype, from one element of each (not broadcast: the shapes differ).
            let probe = { (z: Lazy) in Value.scalar(z.element(at: z.shape.map { _ in SymExpr.zero }), weak: false) }
            guard case .scalar(let p, _) = try l.arith(.mul, probe(x), probe(y), loc: a.loc) else { throw Diagnostic(a.loc, "internal: kron") }
            let t = p.dtype
            let shape = zip(x.shape, y.shape).map { $0 * $1 }
            return try l.generate("kron", t, shape, loc: a.loc) { idx in
                let i = idx.indices.map { SymExpr.floorDivide(idx[$0], y.shape[$0]) }
                let j = idx.indices.map { SymExpr.modulo(idx[$0], y.shape[$0]) }
                return .binary(.mul, l.cast(x.element(at: i), t), l.cast(y.element(at: j), t), t)
            }
        }
        r["linalg.matrix_power"] = NumPyFunction(family: .linalg, summary: "matrix_power(a, n), n a non-negative integer constant: repeated squaring with @") { l, a in
            try a.check(maxPositional: 2, allowed: [])
            let m = try a.require(0, "a")
            guard case .scalar(.symbol(.int(let n)), _) = try a.require(1, "n"), n >= 0 else {
                throw Diagnostic(a.loc, "np.linalg.matrix_power needs a non-negative integer constant n; for n < 0 use np.linalg.inv first")
            }
            let x = try l.lazy(m, loc: a.loc)
            guard x.shape.count == 2 else { throw Diagnostic(a.loc, "np.linalg.matrix_power is supported for 2-D arrays") }
            _ = try l.agree(x.shape[0], x.shape[1], loc: a.loc, broadcasting: false)
            if n == 0 {
                guard let eye = NumPyRegistry.functions["eye"] else { throw Diagnostic(a.loc, "internal: eye") }
                return try eye.lower(l, CallArgs(positional: [.scalar(.symbol(x.shape[0]), weak: false)], keywords: ["dtype": .dtype(x.dtype)], loc: a.loc, function: "eye"))
            }
            // NumPy's binary decomposition: z = a, a^2, a^4, ...; result = product of the set bits.
            var result: Value? = nil
            var z: Value = .array(try l.materializeNew(x, hint: "mpow", loc: a.loc))
            var k = n
            while k > 0 {
                if k & 1 == 1 { result = try result.map { try l.matmul($0, z, loc: a.loc) } ?? z }
                k >>= 1
                if k > 0 { z = try l.matmul(z, z, loc: a.loc) }
            }
            return result!
        }
        for name in ["trapezoid", "trapz"] {
            r[name] = NumPyFunction(family: .statistics, summary: "\(name)(y, x=None, dx=1.0, axis=-1): sum of (y[1:] + y[:-1]) * d / 2") { l, a in
                try a.check(maxPositional: 4, allowed: ["x", "dx", "axis"])
                return try l.trapezoid(a)
            }
        }
        r["gradient"] = NumPyFunction(family: .statistics, summary: "gradient(f, dx=1.0) of a 1-D array: central differences inside, one-sided at the ends") { l, a in
            try a.check(maxPositional: 2, allowed: ["edge_order"])
            return try l.gradient(a)
        }
        r["heaviside"] = NumPyFunction(family: .ufunc, summary: "heaviside(x1, x2): 0 below zero, x2 at zero, 1 above, NaN for NaN") { l, a in
            try a.check(maxPositional: 3, allowed: ["out"])
            var x = try a.require(0, "x1"), h = try a.require(1, "x2")
            let zero = Value.scalar(.symbol(.zero), weak: true)
            var t = try l.lazy(try l.arith(.add, x, h, loc: a.loc), loc: a.loc).dtype
            if !t.isInexact {
                // A float function: integers compute in the float type NumPy picks for them.
                try l.checkFloatResult(.sqrt, [x, h], name: "heaviside", loc: a.loc)
                t = Typing.floatResult(t)
                x = try l.castValue(l.compactedValue(x, loc: a.loc), t)
                h = try l.castValue(l.compactedValue(h, loc: a.loc), t)
            }
            let step = try l.select(try l.arith(.lt, x, zero, loc: a.loc), try l.castValue(zero, t),
                                    try l.select(try l.arith(.gt, x, zero, loc: a.loc), try l.castValue(.scalar(.symbol(.one), weak: true), t),
                                                 try l.select(try l.arith(.eq, x, zero, loc: a.loc), h, x, loc: a.loc), loc: a.loc), loc: a.loc)
            return try l.applyUfuncOutput(step, a.withOut(position: 2))
        }
        r["insert"] = NumPyFunction(family: .manipulation, summary: "insert(arr, index, values, axis=None): one integer index; a new array") { l, a in
            try a.check(maxPositional: 4, allowed: ["axis"])
            return try l.insertOrDelete(a, insert: true)
        }
        r["delete"] = NumPyFunction(family: .manipulation, summary: "delete(arr, index, axis=None): one integer index; a new array") { l, a in
            try a.check(maxPositional: 3, allowed: ["axis"])
            return try l.insertOrDelete(a, insert: false)
        }
        r["take_along_axis"] = NumPyFunction(family: .selection, summary: "take_along_axis(arr, indices, axis): indices of arr's rank, broadcast on the other axes") { l, a in
            try a.check(maxPositional: 3, allowed: ["axis"])
            return try l.takeAlongAxis(a)
        }
        r["polyval"] = NumPyFunction(family: .statistics, summary: "polyval(p, x): Horner's scheme, highest power first, as NumPy") { l, a in
            try a.check(maxPositional: 2, allowed: [])
            return try l.polyval(try a.require(0, "p"), try a.require(1, "x"), loc: a.loc)
        }
        r["vander"] = NumPyFunction(family: .creation, summary: "vander(x, N=None, increasing=False): powers by repeated multiplication, as NumPy") { l, a in
            try a.check(maxPositional: 3, allowed: ["N", "increasing"])
            return try l.vander(a)
        }
        r["ndarray"] = NumPyFunction(family: .creation, summary: "ndarray(shape, dtype=float64): uninitialized, as np.empty (DaCe programs write this)") { l, a in
            try a.check(maxPositional: 2, allowed: ["shape", "dtype", "order"])
            guard let empty = NumPyRegistry.functions["empty"] else { throw Diagnostic(a.loc, "internal: empty") }
            return try empty.lower(l, a)
        }
        r["copyto"] = NumPyFunction(family: .creation, summary: "copyto(dst, src): src broadcast into dst, in place") { l, a in
            try a.check(maxPositional: 2, allowed: ["casting", "where"])
            guard case .array(let d) = try a.require(0, "dst"), let view = d.asView else {
                throw Diagnostic(a.loc, "np.copyto needs an array variable (or a slice of one) as dst")
            }
            var src = try l.compactedValue(try a.require(1, "src"), loc: a.loc)
            if let w = a.keywords["where"], !l.isNone(w) { src = try l.select(w, src, .array(d), loc: a.loc) }
            try l.store(src, into: view, loc: a.loc)
            return .none
        }
        r["ascontiguousarray"] = NumPyFunction(family: .creation, summary: "ascontiguousarray(a, dtype=None): as np.asarray") { l, a in
            try l.arrayCall(a, copy: false)
        }
        for (name, rank) in [("atleast_1d", 1), ("atleast_2d", 2), ("atleast_3d", 3)] {
            r[name] = NumPyFunction(family: .manipulation, summary: "\(name)(a) of one array, a view") { l, a in
                try a.check(maxPositional: 1, allowed: [])
                let x = try l.lazy(try l.compactedValue(try a.require(0, "a"), loc: a.loc), loc: a.loc)
                guard x.shape.count < rank else { return .array(x) }
                // NumPy: 0-d -> (1,...); 1-D (N,) -> (1, N) or (1, N, 1); 2-D (M, N) -> (M, N, 1).
                let axes: [Int]
                switch (x.shape.count, rank) {
                case (0, _): axes = Array(0..<rank)
                case (1, 2): axes = [0]
                case (1, 3): axes = [0, 2]
                default: axes = [2]
                }
                return try l.expandDims(.array(x), axes: axes, loc: a.loc)
            }
        }
        r["broadcast_to"] = NumPyFunction(family: .manipulation, summary: "broadcast_to(array, shape): a new array of that shape") { l, a in
            try a.check(maxPositional: 2, allowed: ["shape"])
            let x = try l.lazy(try l.compactedValue(try a.require(0, "array"), loc: a.loc), loc: a.loc)
            let shape = try l.shapeArgument(try a.require(1, "shape"), loc: a.loc)
            let b = try l.broadcast(shape, x.shape, loc: a.loc)
            guard b.count == shape.count else { throw Diagnostic(a.loc, "broadcast_to(): the shape has fewer dimensions than the array") }
            return try l.generate("broadcast", x.dtype, shape, loc: a.loc) { idx in
                let off = shape.count - x.shape.count
                return x.element(at: x.shape.enumerated().map { k, d in d == .one ? .zero : idx[off + k] })
            }
        }
        r["nan_to_num"] = NumPyFunction(family: .ufunc, summary: "nan_to_num(x, nan=0.0, posinf=None, neginf=None): the largest finite numbers for infinities") { l, a in
            try a.check(maxPositional: 1, allowed: ["copy", "nan", "posinf", "neginf"])
            let x = try l.compactedValue(try a.require(0, "x"), loc: a.loc)
            let t = try l.lazy(x, loc: a.loc).dtype
            guard t.isFloat else {
                if t.isComplex { throw Diagnostic(a.loc, "np.nan_to_num of complex numbers is not supported") }
                return x
            }
            let big = t == .float32 ? Double(Float.greatestFiniteMagnitude) : Double.greatestFiniteMagnitude
            func value(_ k: String, _ d: Double) -> Value {
                if let v = a.keywords[k], !l.isNone(v) { return v }
                return .scalar(.literal(.float(d), .float64), weak: true)
            }
            let inf = Value.scalar(.literal(.float(.infinity), .float64), weak: true)
            var y = try l.select(try l.arith(.ne, x, x, loc: a.loc), value("nan", 0), x, loc: a.loc)
            y = try l.select(try l.arith(.eq, x, inf, loc: a.loc), value("posinf", big), y, loc: a.loc)
            y = try l.select(try l.arith(.eq, x, try l.unaryOp(.uSub, inf, loc: a.loc), loc: a.loc), value("neginf", -big), y, loc: a.loc)
            return try l.castValue(y, t)
        }
        r["rot90"] = NumPyFunction(family: .manipulation, summary: "rot90(m, k=1, axes=(0, 1)), a view") { l, a in
            try a.check(maxPositional: 3, allowed: ["k", "axes"])
            let m = try a.require(0, "m")
            let rank = try l.lazy(m, loc: a.loc).shape.count
            guard rank >= 2 else { throw Diagnostic(a.loc, "rot90() needs an array of at least 2 dimensions") }
            var k = 1
            if let kv = a.get(1, "k") { k = try l.intList(kv, loc: a.loc).first ?? 1 }
            let axes = try a.get(2, "axes").map { try l.intList($0, loc: a.loc).flatMap { try l.normalizedAxes([$0], rank: rank, loc: a.loc) } } ?? [0, 1]
            guard axes.count == 2, axes[0] != axes[1] else { throw Diagnostic(a.loc, "rot90(): axes must be two different axes") }
            k = ((k % 4) + 4) % 4
            var perm = Array(0..<rank)
            perm.swapAt(axes[0], axes[1])
            switch k {
            case 0: return m
            case 2: return try l.flip(try l.flip(m, axes: [axes[0]], loc: a.loc), axes: [axes[1]], loc: a.loc)
            case 1: return try l.transpose(try l.flip(m, axes: [axes[1]], loc: a.loc), axes: perm, loc: a.loc)
            default: return try l.flip(try l.transpose(m, axes: perm, loc: a.loc), axes: [axes[1]], loc: a.loc)
            }
        }
        r["fliplr"] = NumPyFunction(family: .manipulation, summary: "fliplr(m), a view") { l, a in
            try a.check(maxPositional: 1, allowed: [])
            return try l.flip(try a.require(0, "m"), axes: [1], loc: a.loc)
        }
        r["flipud"] = NumPyFunction(family: .manipulation, summary: "flipud(m), a view") { l, a in
            try a.check(maxPositional: 1, allowed: [])
            return try l.flip(try a.require(0, "m"), axes: [0], loc: a.loc)
        }
        r["digitize"] = NumPyFunction(family: .sorting, summary: "digitize(x, bins, right=False), increasing bins (decreasing raises ValueError)") { l, a in
            try a.check(maxPositional: 3, allowed: ["right"])
            var right = false
            if let rv = a.get(2, "right") {
                guard case .scalar(.literal(.bool(let b), _), _) = rv else { throw Diagnostic(a.loc, "digitize(): right must be True or False") }
                right = b
            }
            let bins = try l.lazy(try a.require(1, "bins"), loc: a.loc)
            guard bins.shape.count == 1 else { throw Diagnostic(a.loc, "digitize(): bins must be 1-D") }
            // Only increasing bins (NumPy also takes decreasing ones): anything else raises.
            let n = bins.shape[0]
            try l.emitMap([.maximum(n - 1, .zero)], loc: a.loc) { i in
                let lo = bins.element(at: [i[0]]), hi = bins.element(at: [i[0] + 1])
                l.emit(.branch(Branch(condition: .binary(.lt, hi, lo, .bool), then: [.fail(.invalidValue, a.loc)], orElse: [], loc: a.loc)))
            }
            guard let ss = NumPyRegistry.functions["searchsorted"] else { throw Diagnostic(a.loc, "internal: searchsorted") }
            return try ss.lower(l, CallArgs(positional: [.array(bins), try a.require(0, "x")],
                                            keywords: ["side": .string(right ? "left" : "right")], loc: a.loc, function: "searchsorted"))
        }
        r["isin"] = NumPyFunction(family: .selection, summary: "isin(element, test_elements): bool array of element's shape") { l, a in
            try a.check(maxPositional: 2, allowed: ["invert", "assume_unique", "kind"])
            let x = try l.lazy(try l.compactedValue(try a.require(0, "element"), loc: a.loc), loc: a.loc)
            var tests = try l.lazy(try l.compactedValue(try a.require(1, "test_elements"), loc: a.loc), loc: a.loc)
            tests = try l.lazy(try l.reshape(.array(tests), [.int(-1)], loc: a.loc), loc: a.loc)
            var invert = false
            if let v = a.keywords["invert"] {
                guard case .scalar(.literal(.bool(let b), _), _) = v else { throw Diagnostic(a.loc, "isin(): invert must be True or False") }
                invert = b
            }
            let src = x.asView == nil && !x.shape.isEmpty ? try l.materializeNew(x, hint: "isin_x", loc: a.loc) : x
            let t = DType.promote(x.dtype, tests.dtype)
            return try l.generate("isin", .bool, x.shape, loc: a.loc) { idx in
                let found = l.newScalar("found", .bool)
                l.emitTasklet(.point(found, []), .literal(.bool(false), .bool), loc: a.loc)
                let k = l.fresh("k")
                let hit = ScalarExpr.binary(.or, .load(.point(found, []), .bool),
                                            .binary(.eq, l.cast(src.element(at: idx), t), l.cast(tests.element(at: [.sym(k)]), t), .bool), .bool)
                l.emit(.forLoop(ForLoop(variable: k, range: SymRange(.zero, tests.shape[0]),
                                        body: [.tasklet(Tasklet(output: .point(found, []), value: hit, loc: a.loc))], loc: a.loc)))
                let r = ScalarExpr.load(.point(found, []), .bool)
                return invert ? .unary(.not, r, .bool) : r
            }
        }
        r["sinc"] = NumPyFunction(family: .ufunc, summary: "sinc(x): sin(pi x) / (pi x), 1 at 0, as NumPy computes it") { l, a in
            try a.check(maxPositional: 1, allowed: [])
            let x = try l.compactedValue(try a.require(0, "x"), loc: a.loc)
            let tiny = Value.scalar(.literal(.float(1.0e-20), .float64), weak: true)
            let pi = Value.scalar(.literal(.float(Double.pi), .float64), weak: true)
            let y = try l.arith(.mul, pi, try l.select(try l.arith(.eq, x, .scalar(.symbol(.zero), weak: true), loc: a.loc), tiny, x, loc: a.loc), loc: a.loc)
            return try l.arith(.div, try l.intrinsic(.sin, [y], loc: a.loc), y, loc: a.loc)
        }
        for (name, defaultAxis, even) in [("split", 0, true), ("array_split", 0, false), ("hsplit", 1, true), ("vsplit", 0, true)] {
            r[name] = NumPyFunction(family: .manipulation, summary: "\(name)(ary, sections\(name == "hsplit" || name == "vsplit" ? "" : ", axis=0")): a tuple of views; sections an integer\(even ? " dividing the axis" : "")") { l, a in
                try a.check(maxPositional: 3, allowed: ["axis", "indices_or_sections"])
                return try l.split(a, defaultAxis: defaultAxis, even: even)
            }
        }
        r["tensordot"] = NumPyFunction(family: .linalg, summary: "tensordot(a, b, axes=2): an integer or a pair of axis lists; as a matrix product") { l, a in
            try a.check(maxPositional: 3, allowed: ["axes"])
            return try l.tensordot(a)
        }
        r["dstack"] = NumPyFunction(family: .manipulation, summary: "dstack(arrays): along the third axis (atleast_3d first)") { l, a in
            try a.check(maxPositional: 1, allowed: [])
            guard case .tuple(let parts) = try a.require(0, "tup"), let f = ManipulationRegistry.atleast3d else {
                throw Diagnostic(a.loc, "dstack() takes a tuple or list of arrays")
            }
            let cubes = try parts.map { try f.lower(l, CallArgs(positional: [$0], keywords: [:], loc: a.loc, function: "atleast_3d")) }
            return try l.concatenate(cubes, axis: 2, newAxis: false, loc: a.loc)
        }
        r["indices"] = NumPyFunction(family: .creation, summary: "indices(dimensions): int64 grid of shape (len(dimensions), *dimensions)") { l, a in
            try a.check(maxPositional: 2, allowed: ["dtype"])
            let dims = try l.shapeArgument(try a.require(0, "dimensions"), loc: a.loc)
            let t = try l.dtypeArgument(a.get(1, "dtype"), loc: a.loc) ?? .int64
            return try l.generate("indices", t, [.int(dims.count)] + dims, loc: a.loc) { idx in
                var e = l.cast(.symbol(idx[1]), t)
                for k in 1..<max(dims.count, 1) {
                    e = .select(.binary(.eq, .symbol(idx[0]), .symbol(.int(k)), .bool), l.cast(.symbol(idx[k + 1]), t), e, t)
                }
                return e
            }
        }
        return r
    }()

    static var atleast3d: NumPyFunction? { functions["atleast_3d"] }
}

extension FunctionLowerer {
    /// `np.split`, `np.array_split`, `np.hsplit`, `np.vsplit` into a number of sections: views.
    func split(_ a: CallArgs, defaultAxis: Int, even: Bool) throws -> Value {
        let x = try lazy(try compactedValue(try a.require(0, "ary"), loc: a.loc), loc: a.loc)
        var axis = defaultAxis
        if let ax = a.get(2, "axis") { axis = try intList(ax, loc: a.loc).first ?? defaultAxis }
        if a.function == "hsplit" && x.shape.count == 1 { axis = 0 }
        let ax = try normalizedAxes([axis], rank: x.shape.count, loc: a.loc)[0]
        guard case .scalar(.symbol(.int(let sections)), _) = try a.require(1, "indices_or_sections"), sections > 0 else {
            throw Diagnostic(a.loc, "np.\(a.function) is supported with a positive integer number of sections (constant); for split points, slice the array")
        }
        let view = try viewOf(.array(x), loc: a.loc)
        let n = x.shape[ax]
        if even {
            // NumPy raises ValueError unless the sections divide the axis.
            if let c = n.constant, c % sections != 0 {
                throw Diagnostic(a.loc, "np.\(a.function): array split does not result in an equal division (\(c) into \(sections))")
            }
            emit(.branch(Branch(condition: .binary(.ne, .symbol(.modulo(n, .int(sections))), .symbol(.zero), .bool),
                                then: [.fail(.invalidValue, a.loc)], orElse: [], loc: a.loc)))
        }
        // array_split: the first n % sections parts get one more element.
        let base = SymExpr.floorDivide(n, .int(sections)), extra = SymExpr.modulo(n, .int(sections))
        var start = SymExpr.zero
        var parts: [Value] = []
        for k in 0..<sections {
            let length = even ? base : base + .minimum(.maximum(extra - .int(k), .zero), .one)
            var shape = view.shape
            shape[ax] = length
            let map = shape.indices.map { d in d == ax ? SymExpr.sym(ArrayView.placeholder(d)) + start : .sym(ArrayView.placeholder(d)) }
            let r = view.reindexed(shape: shape, map)
            parts.append(.array(Lazy(node: .view(r), shape: r.shape, dtype: r.dtype)))
            start = start + length
        }
        return .tuple(parts)
    }

    /// `np.tensordot(a, b, axes)`: a's summed axes moved last and b's first, both reshaped
    /// to matrices, one product, reshaped to a's free axes + b's free axes.
    func tensordot(_ a: CallArgs) throws -> Value {
        let x = try lazy(try a.require(0, "a"), loc: a.loc), y = try lazy(try a.require(1, "b"), loc: a.loc)
        var ax: [Int], bx: [Int]
        switch a.get(2, "axes") ?? .scalar(.symbol(.int(2)), weak: true) {
        case .scalar(.symbol(.int(let n)), _):
            guard n >= 0, n <= x.shape.count, n <= y.shape.count else { throw Diagnostic(a.loc, "tensordot(): axes out of range") }
            ax = Array((x.shape.count - n)..<x.shape.count)
            bx = Array(0..<n)
        case .tuple(let pair) where pair.count == 2:
            ax = try intList(pair[0], loc: a.loc).flatMap { try normalizedAxes([$0], rank: x.shape.count, loc: a.loc) }
            bx = try intList(pair[1], loc: a.loc).flatMap { try normalizedAxes([$0], rank: y.shape.count, loc: a.loc) }
        default:
            throw Diagnostic(a.loc, "tensordot(): axes must be an integer or a pair of axis lists")
        }
        guard ax.count == bx.count else { throw Diagnostic(a.loc, "tensordot(): shape-mismatch for sum") }
        for (i, j) in zip(ax, bx) { _ = try agree(x.shape[i], y.shape[j], loc: a.loc, broadcasting: false) }
        let freeA = x.shape.indices.filter { !ax.contains($0) }, freeB = y.shape.indices.filter { !bx.contains($0) }
        let k = ax.reduce(SymExpr.one) { $0 * x.shape[$1] }
        let ma = try reshape(try transpose(.array(x), axes: freeA + ax, loc: a.loc), [freeA.reduce(SymExpr.one) { $0 * x.shape[$1] }, k], loc: a.loc)
        let mb = try reshape(try transpose(.array(y), axes: bx + freeB, loc: a.loc), [k, freeB.reduce(SymExpr.one) { $0 * y.shape[$1] }], loc: a.loc)
        let product = try matmul(ma, mb, loc: a.loc)
        let shape = freeA.map { x.shape[$0] } + freeB.map { y.shape[$0] }
        if shape.isEmpty {
            guard case .array(let p) = product else { return product }
            return .scalar(p.element(at: [.zero, .zero]), weak: false)
        }
        return try reshape(product, shape, loc: a.loc)
    }

    /// `np.insert(arr, i, values, axis)` and `np.delete(arr, i, axis)` with one integer index
    /// (negative counts from the end): slices of arr around the index, joined.
    func insertOrDelete(_ a: CallArgs, insert: Bool) throws -> Value {
        let name = insert ? "insert" : "delete"
        var x = try lazy(try compactedValue(try a.require(0, "arr"), loc: a.loc), loc: a.loc)
        let axisValue = a.get(insert ? 3 : 2, "axis")
        let axis = try axisValue.flatMap { isNone($0) ? nil : try intList($0, loc: a.loc).first }
        if axis == nil { x = try lazy(try reshape(.array(x), [.int(-1)], loc: a.loc), loc: a.loc) }
        let ax = try normalizedAxes([axis ?? 0], rank: x.shape.count, loc: a.loc)[0]
        guard case .scalar(let iv, _) = try a.require(1, "obj"), iv.dtype.isInteger else {
            throw Diagnostic(a.loc, "np.\(name) is supported with one integer index; for several, build the array with slices and np.concatenate")
        }
        let n = x.shape[ax]
        let i = symbolicValue(iv, loc: a.loc)
        // insert: 0 <= i + n*(i<0) <= n; delete: < n.
        let k = newScalar("\(name)_at", .int64)
        let wrapped = ScalarExpr.select(.binary(.lt, .symbol(i), .symbol(.zero), .bool), .symbol(i + n), .symbol(i), .int64)
        emitTasklet(.point(k, []), wrapped, loc: a.loc)
        let at = SymExpr.sym(k)
        let limit = insert ? n : n - 1
        emit(.branch(Branch(condition: .binary(.or, .binary(.lt, .symbol(at), .symbol(.zero), .bool), .binary(.gt, .symbol(at), .symbol(limit), .bool), .bool),
                            then: [.fail(.indexOutOfBounds, a.loc)], orElse: [], loc: a.loc)))
        let view = try viewOf(.array(x), loc: a.loc)
        func part(_ start: SymExpr, _ length: SymExpr) -> Value {
            var shape = view.shape
            shape[ax] = length
            let map = shape.indices.map { d in d == ax ? SymExpr.sym(ArrayView.placeholder(d)) + start : .sym(ArrayView.placeholder(d)) }
            let r = view.reindexed(shape: shape, map)
            return .array(Lazy(node: .view(r), shape: r.shape, dtype: r.dtype))
        }
        if !insert {
            return try concatenate([part(.zero, at), part(at + 1, n - at - 1)], axis: ax, newAxis: false, loc: a.loc)
        }
        // The values fill one slice along the axis (broadcast to it), in arr's dtype.
        var sliceShape = x.shape
        sliceShape[ax] = .one
        let values = try lazy(try compactedValue(try a.require(2, "values"), loc: a.loc), loc: a.loc)
        _ = try broadcast(sliceShape, values.shape, loc: a.loc)
        let middle = try generate("inserted", x.dtype, sliceShape, loc: a.loc) { idx in
            let off = idx.count - values.shape.count
            return cast(values.element(at: values.shape.enumerated().map { d, len in len == .one ? .zero : idx[off + d] }), x.dtype)
        }
        return try concatenate([part(.zero, at), middle, part(at, n - at)], axis: ax, newAxis: false, loc: a.loc)
    }

    /// `np.take_along_axis(arr, indices, axis)`.
    func takeAlongAxis(_ a: CallArgs) throws -> Value {
        let x = try lazy(try a.require(0, "arr"), loc: a.loc)
        let ind = try lazy(try compactedValue(try a.require(1, "indices"), loc: a.loc), loc: a.loc)
        guard let axisValue = a.get(2, "axis"), !isNone(axisValue) else {
            throw Diagnostic(a.loc, "take_along_axis() needs an integer axis here")
        }
        guard ind.dtype.isInteger else { throw Diagnostic(a.loc, "take_along_axis(): indices must be integers") }
        guard ind.shape.count == x.shape.count else {
            throw Diagnostic(a.loc, "take_along_axis(): indices must have the array's number of dimensions")
        }
        let ax = try normalizedAxes(try intList(axisValue, loc: a.loc), rank: x.shape.count, loc: a.loc)[0]
        var shape: [SymExpr] = []
        for d in x.shape.indices {
            shape.append(d == ax ? ind.shape[d] : try agree(x.shape[d], ind.shape[d], loc: a.loc, broadcasting: true))
        }
        try checkBounds(ind, length: x.shape[ax], loc: a.loc)
        let view = try viewOf(.array(x), loc: a.loc)
        let src = ind.asView == nil ? try materializeNew(ind, hint: "along", loc: a.loc) : ind
        return try generate("along", x.dtype, shape, loc: a.loc) { idx in
            var at = idx.indices.map { d in x.shape[d] == .one && shape[d] != .one ? SymExpr.zero : idx[d] }
            at[ax] = .sym("$along")
            let sub = idx.indices.map { d in src.shape[d] == .one && shape[d] != .one ? SymExpr.zero : idx[d] }
            let p = ScalarExpr.cast(src.element(at: sub), .int64)
            let n = x.shape[ax]
            let wrappedP = ScalarExpr.select(.binary(.lt, p, .symbol(.zero), .bool), .binary(.add, p, .symbol(n), .int64), p, .int64)
            let m = view.memlet(at: at)
            return .load(Memlet(data: m.data, subset: m.subset.map { s in
                guard case .index(.sym(let e)) = s, e.freeSymbols.contains("$along"), let (c, rest) = e.linear(in: "$along") else { return s }
                let scaled: ScalarExpr = c == 1 ? wrappedP : .binary(.mul, .symbol(.int(c)), wrappedP, .int64)
                return .index(.dynamic(rest == .zero ? scaled : .binary(.add, .symbol(rest), scaled, .int64)))
            }), x.dtype)
        }
    }

    /// `np.polyval(p, x)`: `y = 0; for c in p: y = y * x + c` (NumPy's loop, its rounding).
    func polyval(_ pv: Value, _ xv: Value, loc: SourceLocation) throws -> Value {
        var p = try lazy(try compactedValue(pv, loc: loc), loc: loc)
        guard p.shape.count == 1 else { throw Diagnostic(loc, "np.polyval takes a 1-D array of coefficients") }
        if p.asView == nil { p = try materializeNew(p, hint: "coef", loc: loc) }
        let x = try compactedValue(xv, loc: loc)
        let lx = try lazy(x, loc: loc)
        // NumPy's dtype: that of x * p[0] + p[0].
        guard case .scalar(let probe, _) = try arith(.add, try arith(.mul, .scalar(lx.element(at: lx.shape.map { _ in .zero }), weak: isWeak(x)),
                                                                     .scalar(p.element(at: [.zero]), weak: false), loc: loc),
                                                     .scalar(p.element(at: [.zero]), weak: false), loc: loc) else {
            throw Diagnostic(loc, "internal: polyval")
        }
        let t = probe.dtype
        let out = try newArray("polyval", t, lx.shape, loc: loc)
        markWritten(out.container)
        let src = lx.asView == nil && !lx.shape.isEmpty ? try materializeNew(lx, hint: "polyx", loc: loc) : lx
        try emitMap(lx.shape, loc: loc) { idx in
            let acc = newScalar("acc", t)
            emitTasklet(.point(acc, []), cast(.symbol(.zero), t), loc: loc)
            markWritten(acc)
            let k = fresh("k")
            let step = ScalarExpr.binary(.add, .binary(.mul, .load(.point(acc, []), t), cast(src.element(at: idx), t), t),
                                         cast(p.element(at: [.sym(k)]), t), t)
            emit(.forLoop(ForLoop(variable: k, range: SymRange(.zero, p.shape[0]),
                                  body: [.tasklet(Tasklet(output: .point(acc, []), value: step, loc: loc))], loc: loc)))
            emitTasklet(out.memlet(at: idx), .load(.point(acc, []), t), loc: loc)
        }
        if lx.shape.isEmpty { return .scalar(.load(out.memlet(at: []), t), weak: false) }
        return .array(Lazy(node: .view(out), shape: out.shape, dtype: t))
    }

    /// `np.vander(x, N=None, increasing=False)`: column j holds x**(N-1-j) (x**j increasing),
    /// computed by repeated multiplication as NumPy's multiply.accumulate.
    func vander(_ a: CallArgs) throws -> Value {
        var x = try lazy(try compactedValue(try a.require(0, "x"), loc: a.loc), loc: a.loc)
        guard x.shape.count == 1 else { throw Diagnostic(a.loc, "np.vander takes a 1-D array") }
        if x.asView == nil { x = try materializeNew(x, hint: "vander_x", loc: a.loc) }
        let n = try a.get(1, "N").flatMap { isNone($0) ? nil : try symbolicArgument($0, loc: a.loc) } ?? x.shape[0]
        var increasing = false
        if let inc = a.get(2, "increasing") {
            guard case .scalar(.literal(.bool(let b), _), _) = inc else { throw Diagnostic(a.loc, "vander(): increasing must be True or False") }
            increasing = b
        }
        let t = x.dtype.isBool ? DType.int64 : x.dtype
        let out = try newArray("vander", t, [x.shape[0], n], loc: a.loc)
        markWritten(out.container)
        try emitMap([x.shape[0], n], loc: a.loc) { idx in
            let power = increasing ? idx[1] : n - 1 - idx[1]
            let acc = newScalar("pow", t)
            emitTasklet(.point(acc, []), cast(.symbol(.one), t), loc: a.loc)
            markWritten(acc)
            let k = fresh("k")
            let step = ScalarExpr.binary(.mul, .load(.point(acc, []), t), cast(x.element(at: [idx[0]]), t), t)
            emit(.forLoop(ForLoop(variable: k, range: SymRange(.zero, power),
                                  body: [.tasklet(Tasklet(output: .point(acc, []), value: step, loc: a.loc))], loc: a.loc)))
            emitTasklet(out.memlet(at: idx), .load(.point(acc, []), t), loc: a.loc)
        }
        return .array(Lazy(node: .view(out), shape: out.shape, dtype: t))
    }

    /// `np.take(a, indices, axis=None)`.
    func take(_ v: Value, _ indices: Value, axis: Int?, loc: SourceLocation) throws -> Value {
        var x = try lazy(v, loc: loc)
        if axis == nil { x = try lazy(try reshape(.array(x), [.int(-1)], loc: loc), loc: loc) }
        let ax = try normalizedAxes([axis ?? 0], rank: x.shape.count, loc: loc)[0]
        var idx = indices
        if case .tuple = idx { idx = .array(try lazy(idx, loc: loc)) }
        if x.asView == nil { x = try materializeNew(x, hint: "take", loc: loc) }
        let view = x.asView!
        let slice = PyExpr(.slice(lower: nil, upper: nil, step: nil), loc)
        var items: [(PyExpr, Value?)] = Array(repeating: (slice, nil), count: ax)
        items.append((PyExpr(.name("$take"), loc), idx))
        return try index(view, PyExpr(.tuple(items.map(\.0)), loc), items: items)
    }

    /// `np.trapezoid(y, x=None, dx=1.0, axis=-1)` as NumPy: `sum(d * (y[1:] + y[:-1]) / 2.0)`.
    func trapezoid(_ a: CallArgs) throws -> Value {
        let y = try lazy(try a.require(0, "y"), loc: a.loc)
        guard y.shape.count >= 1 else { throw Diagnostic(a.loc, "trapezoid() needs an array") }
        let axis = try a.get(3, "axis").map { try intList($0, loc: a.loc).first ?? -1 } ?? -1
        let ax = try normalizedAxes([axis], rank: y.shape.count, loc: a.loc)[0]
        let view = try viewOf(.array(y), loc: a.loc)
        let n = y.shape[ax]
        func part(_ start: SymExpr) -> Lazy {
            var shape = view.shape
            shape[ax] = .maximum(n - 1, .zero)
            let map = shape.indices.map { k in k == ax ? SymExpr.sym(ArrayView.placeholder(k)) + start : .sym(ArrayView.placeholder(k)) }
            let r = view.reindexed(shape: shape, map)
            return Lazy(node: .view(r), shape: r.shape, dtype: r.dtype)
        }
        var d: Value = a.get(2, "dx") ?? .scalar(.literal(.float(1), .float64), weak: true)
        if let xv = a.get(1, "x"), !isNone(xv) {
            let xl = try lazy(xv, loc: a.loc)
            guard xl.shape.count == 1 else { throw Diagnostic(a.loc, "trapezoid(): x is supported as a 1-D array") }
            let xview = try viewOf(.array(xl), loc: a.loc)
            _ = try agree(xl.shape[0], n, loc: a.loc, broadcasting: false)
            let len = SymExpr.maximum(xl.shape[0] - 1, .zero)
            let hi = xview.reindexed(shape: [len], [.sym(ArrayView.placeholder(0)) + 1])
            let lo = xview.reindexed(shape: [len], [.sym(ArrayView.placeholder(0))])
            var dl = try lazy(try arith(.sub, .array(Lazy(node: .view(hi), shape: [len], dtype: hi.dtype)),
                                        .array(Lazy(node: .view(lo), shape: [len], dtype: lo.dtype)), loc: a.loc), loc: a.loc)
            // d broadcasts along the axis.
            if ax != y.shape.count - 1 {
                dl = try lazy(try reshape(.array(try materializeNew(dl, hint: "dx", loc: a.loc)), [len] + Array(repeating: .one, count: y.shape.count - 1 - ax), loc: a.loc), loc: a.loc)
            }
            d = .array(dl)
        }
        let sum = try arith(.add, .array(part(.one)), .array(part(.zero)), loc: a.loc)
        let terms = try arith(.div, try arith(.mul, d, sum, loc: a.loc), .scalar(.literal(.float(2), .float64), weak: true), loc: a.loc)
        return try reduce(.add, terms, axes: [ax], keepdims: false, loc: a.loc)
    }

    /// `np.gradient(f, dx)` of a 1-D array: `(f[2:] - f[:-2]) / (2 dx)` inside, first
    /// differences at the ends (NumPy's edge_order=1); at least two elements.
    func gradient(_ a: CallArgs) throws -> Value {
        let f = try lazy(try a.require(0, "f"), loc: a.loc)
        guard f.shape.count == 1 else { throw Diagnostic(a.loc, "np.gradient is supported for 1-D arrays") }
        if let e = a.keywords["edge_order"], !{ if case .scalar(.symbol(.int(1)), _) = e { return true } else { return false } }() {
            throw Diagnostic(a.loc, "np.gradient supports edge_order=1 only")
        }
        let dx: ScalarExpr
        switch a.get(1, "dx") {
        case nil: dx = .literal(.float(1), .float64)
        case .scalar(let s, _)?: dx = cast(s, .float64)
        default: throw Diagnostic(a.loc, "np.gradient: the spacing is supported as one scalar")
        }
        let n = f.shape[0]
        emit(.branch(Branch(condition: .binary(.lt, .symbol(n), .symbol(.int(2)), .bool), then: [.fail(.invalidValue, a.loc)], orElse: [], loc: a.loc)))
        let t: DType = f.dtype.isInexact ? f.dtype : .float64
        let src = f.asView == nil ? try materializeNew(f, hint: "grad_in", loc: a.loc) : f
        let h = cast(dx, t)
        return try generate("gradient", t, [n], loc: a.loc) { idx in
            let i = idx[0]
            let at: (SymExpr) -> ScalarExpr = { k in self.cast(src.element(at: [.minimum(.maximum(k, .zero), n - 1)]), t) }
            let central = ScalarExpr.binary(.div, .binary(.sub, at(i + 1), at(i - 1), t), .binary(.mul, cast(.literal(.float(2), .float64), t), h, t), t)
            let first = ScalarExpr.binary(.div, .binary(.sub, at(.one), at(.zero), t), h, t)
            let last = ScalarExpr.binary(.div, .binary(.sub, at(n - 1), at(n - 2), t), h, t)
            return .select(.binary(.eq, .symbol(i), .symbol(.zero), .bool), first,
                           .select(.binary(.eq, .symbol(i), .symbol(n - 1), .bool), last, central, t), t)
        }
    }

    /// `np.expand_dims(a, axis)`: length-1 dimensions at the given positions of the result.
    func expandDims(_ v: Value, axes requested: [Int], loc: SourceLocation) throws -> Value {
        let view = try viewOf(v, loc: loc)
        let rank = view.shape.count + requested.count
        let axes = try normalizedAxes(requested, rank: rank, loc: loc)
        guard Set(axes).count == axes.count else { throw Diagnostic(loc, "expand_dims(): repeated axis") }
        var shape: [SymExpr] = []
        var map: [SymExpr] = []
        var old = 0
        for k in 0..<rank {
            if axes.contains(k) {
                shape.append(.one)
            } else {
                shape.append(view.shape[old])
                map.append(.sym(ArrayView.placeholder(k)))
                old += 1
            }
        }
        let r = view.reindexed(shape: shape, map)
        return .array(Lazy(node: .view(r), shape: r.shape, dtype: r.dtype))
    }

    /// `np.squeeze(a, axis=None)`. Without axis, a dimension whose length is a run-time value
    /// is kept, and raises ValueError when it is 1 (where NumPy would drop it).
    func squeeze(_ v: Value, axes requested: [Int]?, loc: SourceLocation) throws -> Value {
        let view = try viewOf(v, loc: loc)
        let rank = view.shape.count
        var drop: [Int]
        if let requested {
            drop = try normalizedAxes(requested, rank: rank, loc: loc)
            for k in drop where view.shape[k] != .one {
                if view.shape[k].constant != nil {
                    throw Diagnostic(loc, "squeeze(): cannot select an axis to squeeze out which has size not equal to one")
                }
                _ = try agree(view.shape[k], .one, loc: loc, broadcasting: false)
            }
        } else {
            drop = []
            for (k, d) in view.shape.enumerated() {
                if d == .one { drop.append(k) } else if d.constant == nil {
                    // Kept: a length only known at run time must not be 1 there (NumPy would
                    // drop it); it raises ValueError then, and axis= says which to drop.
                    emit(.branch(Branch(condition: .binary(.eq, .symbol(d), .symbol(.one), .bool),
                                        then: [.fail(.invalidValue, loc)], orElse: [], loc: loc)))
                }
            }
        }
        var shape: [SymExpr] = []
        var map: [SymExpr] = []
        for k in 0..<rank {
            if drop.contains(k) {
                map.append(.zero)
            } else {
                map.append(.sym(ArrayView.placeholder(shape.count)))
                shape.append(view.shape[k])
            }
        }
        let r = view.reindexed(shape: shape, map)
        return .array(Lazy(node: .view(r), shape: r.shape, dtype: r.dtype))
    }

    /// `np.tile(A, reps)`: element idx reads A at idx modulo A's shape.
    func tile(_ v: Value, reps requested: [SymExpr], loc: SourceLocation) throws -> Value {
        let x = try lazy(v, loc: loc)
        let d = max(x.shape.count, requested.count)
        let dims = [SymExpr](repeating: .one, count: d - x.shape.count) + x.shape
        let reps = [SymExpr](repeating: .one, count: d - requested.count) + requested
        for r in reps where r.constant.map({ $0 < 0 }) ?? false {
            throw Diagnostic(loc, "tile(): negative repetitions")
        }
        let shape = zip(dims, reps).map { $0 * SymExpr.maximum($1, .zero) }
        let offset = d - x.shape.count
        return try generate("tile", x.dtype, shape, loc: loc) { idx in
            x.element(at: x.shape.indices.map { k in x.shape[k] == .one ? .zero : .modulo(idx[offset + k], x.shape[k]) })
        }
    }

    /// `np.meshgrid(x1, x2, ..., indexing='xy', sparse=False)`: new arrays (NumPy copies).
    func meshgrid(_ a: CallArgs) throws -> Value {
        var indexing = "xy"
        if let i = a.keywords["indexing"] {
            guard case .string(let s) = i, s == "xy" || s == "ij" else { throw Diagnostic(a.loc, "meshgrid(): indexing must be 'xy' or 'ij'") }
            indexing = s
        }
        var sparse = false
        if let s = a.keywords["sparse"] {
            guard case .scalar(.literal(.bool(let b), _), _) = s else { throw Diagnostic(a.loc, "meshgrid(): sparse must be True or False") }
            sparse = b
        }
        let xs = try a.positional.map { try lazy(try reshape(.array(try lazy($0, loc: a.loc)), [.int(-1)], loc: a.loc), loc: a.loc) }
        let n = xs.count
        guard n > 0 else { return .tuple([]) }
        var sizes = xs.map { $0.shape[0] }
        // 'xy': the first two dimensions are swapped (x varies along columns).
        var position = Array(0..<n)
        if indexing == "xy" && n >= 2 {
            sizes.swapAt(0, 1)
            position.swapAt(0, 1)
        }
        return .tuple(try xs.enumerated().map { k, x in
            let p = position[k]
            var shape = sizes
            if sparse { shape = shape.indices.map { $0 == p ? sizes[p] : .one } }
            return try generate("grid", x.dtype, shape, loc: a.loc) { idx in x.element(at: [idx[p]]) }
        })
    }

    /// `np.pad(array, pad_width, mode='constant', constant_values=0)`, also 'edge' and 'wrap'.
    func pad(_ a: CallArgs) throws -> Value {
        let x = try lazy(try a.require(0, "array"), loc: a.loc)
        let rank = x.shape.count
        var mode = "constant"
        if let m = a.get(2, "mode") {
            guard case .string(let s) = m else { throw Diagnostic(a.loc, "pad(): mode must be a string") }
            mode = s
        }
        guard ["constant", "edge", "wrap"].contains(mode) else {
            throw Diagnostic(a.loc, "pad() mode '\(mode)' is not supported; use 'constant', 'edge' or 'wrap', or build the array with slices")
        }
        // pad_width: n, (before, after), ((b0, a0), (b1, a1), ...) as NumPy broadcasts it.
        let widths = try a.require(1, "pad_width")
        func pair(_ v: Value) throws -> (SymExpr, SymExpr) {
            switch v {
            case .scalar: let w = try symbolicArgument(v, loc: a.loc); return (w, w)
            case .tuple(let vs) where vs.count == 1: return try pair(vs[0])
            case .tuple(let vs) where vs.count == 2:
                if case .tuple = vs[0] { break }
                return (try symbolicArgument(vs[0], loc: a.loc), try symbolicArgument(vs[1], loc: a.loc))
            default: break
            }
            throw Diagnostic(a.loc, "pad(): pad_width must be an integer, a (before, after) pair, or one pair per dimension")
        }
        var pairs: [(SymExpr, SymExpr)]
        if case .tuple(let vs) = widths, vs.count == rank, rank > 1 || { if case .tuple = vs[0] { return true } else { return false } }(),
           vs.allSatisfy({ if case .tuple = $0 { return true } else { return false } }) {
            pairs = try vs.map(pair)
        } else {
            pairs = Array(repeating: try pair(widths), count: rank)
        }
        for (b, e) in pairs {
            for w in [b, e] where w.constant.map({ $0 < 0 }) ?? false {
                throw Diagnostic(a.loc, "pad(): negative pad widths")
            }
        }
        var fill: ScalarExpr = cast(.symbol(.zero), x.dtype)
        if let c = a.keywords["constant_values"] {
            guard mode == "constant", case .scalar(let s, _) = c else {
                throw Diagnostic(a.loc, "pad(): constant_values takes one scalar, with mode='constant'")
            }
            fill = cast(s, x.dtype)
        }
        let shape = zip(x.shape, pairs).map { $0 + $1.0 + $1.1 }
        if mode != "constant" {
            for d in x.shape where d.constant.map({ $0 == 0 }) ?? false {
                throw Diagnostic(a.loc, "pad(): can't extend an empty axis with mode '\(mode)'")
            }
            for d in x.shape where d.constant == nil {
                // An empty axis cannot be extended from its elements (NumPy raises ValueError).
                emit(.branch(Branch(condition: .binary(.le, .symbol(d), .symbol(.zero), .bool),
                                    then: [.fail(.shapeMismatch, a.loc)], orElse: [], loc: a.loc)))
            }
        }
        return try generate("pad", x.dtype, shape, loc: a.loc) { idx in
            let inner = idx.indices.map { k in idx[k] - pairs[k].0 }
            switch mode {
            case "edge":
                return x.element(at: inner.indices.map { k in .minimum(.maximum(inner[k], .zero), x.shape[k] - 1) })
            case "wrap":
                // Python's modulo of a possibly negative offset (pads wider than the axis wrap again).
                return x.element(at: inner.indices.map { k in .modulo(inner[k] + x.shape[k] * (pairs[k].0 + 1), x.shape[k]) })
            default:
                var inside: ScalarExpr? = nil
                for k in inner.indices {
                    let c = ScalarExpr.binary(.and, .binary(.ge, .symbol(inner[k]), .symbol(.zero), .bool),
                                              .binary(.lt, .symbol(inner[k]), .symbol(x.shape[k]), .bool), .bool)
                    inside = inside.map { .binary(.and, $0, c, .bool) } ?? c
                }
                guard let inside else { return x.element(at: []) }
                let clamped = inner.indices.map { k in SymExpr.minimum(.maximum(inner[k], .zero), x.shape[k] - 1) }
                return .select(inside, x.element(at: clamped), fill, x.dtype)
            }
        }
    }

    /// `np.round(a, decimals)`: NumPy multiplies by 10**decimals, rounds half to even (rint)
    /// and divides back (for negative decimals: divides, rounds, multiplies).
    func roundDecimals(_ v: Value, _ decimals: Value?, loc: SourceLocation) throws -> Value {
        let x = try compactedValue(v, loc: loc)
        var d = 0
        if let decimals, !isNone(decimals) {
            guard case .scalar(.symbol(.int(let k)), _) = decimals else { throw Diagnostic(loc, "round(): decimals must be an integer constant") }
            d = k
        }
        let t: DType
        switch x {
        case .scalar(let s, _): t = s.dtype
        default: t = try lazy(x, loc: loc).dtype
        }
        if t.isComplex { throw Diagnostic(loc, "round() of complex numbers is not supported; round .real and .imag") }
        if t.isInteger || t.isBool {
            guard d >= 0 else { throw Diagnostic(loc, "round() of integers with negative decimals is not supported") }
            return x
        }
        guard let rint = NumPyRegistry.functions["rint"] else { throw Diagnostic(loc, "internal: rint") }
        func rounded(_ y: Value) throws -> Value {
            try rint.lower(self, CallArgs(positional: [y], keywords: [:], loc: loc, function: "rint"))
        }
        if d == 0 { return try rounded(x) }
        var f = 1.0
        for _ in 0..<abs(d) { f *= 10 }
        let factor = Value.scalar(.literal(.float(f), .float64), weak: true)
        if d > 0 {
            return try arith(.div, try rounded(try arith(.mul, x, factor, loc: loc)), factor, loc: loc)
        }
        return try arith(.mul, try rounded(try arith(.div, x, factor, loc: loc)), factor, loc: loc)
    }

    /// `np.isclose(a, b, rtol, atol, equal_nan)` as NumPy 2 computes it:
    /// `|a - b| <= atol + rtol * |b|` where b is finite, `a == b` otherwise (b converted to
    /// a float type first).
    func isclose(_ a: CallArgs) throws -> Value {
        let x = try compactedValue(try a.require(0, "a"), loc: a.loc)
        var y = try compactedValue(try a.require(1, "b"), loc: a.loc)
        let rtol = a.get(2, "rtol") ?? .scalar(.literal(.float(1e-5), .float64), weak: true)
        let atol = a.get(3, "atol") ?? .scalar(.literal(.float(1e-8), .float64), weak: true)
        var equalNan = false
        if let e = a.get(4, "equal_nan") {
            guard case .scalar(.literal(.bool(let b), _), _) = e else { throw Diagnostic(a.loc, "isclose(): equal_nan must be True or False") }
            equalNan = b
        }
        switch y {
        case .scalar(let s, let weak) where !s.dtype.isInexact:
            y = .scalar(cast(s, .float64), weak: weak)
        case .array(let l) where !l.dtype.isInexact:
            y = .array(castLazy(l, .float64))
        default: break
        }
        let loc = a.loc
        let diff = try intrinsic(.abs, [try arith(.sub, x, y, loc: loc)], loc: loc)
        let bound = try arith(.add, atol, try arith(.mul, rtol, try intrinsic(.abs, [y], loc: loc), loc: loc), loc: loc)
        let finite = try arith(.lt, try intrinsic(.abs, [y], loc: loc), .scalar(.literal(.float(.infinity), .float64), weak: true), loc: loc)
        var result = try arith(.or, try arith(.and, try arith(.le, diff, bound, loc: loc), finite, loc: loc),
                               try arith(.eq, x, y, loc: loc), loc: loc)
        if equalNan {
            result = try arith(.or, result, try arith(.and, try arith(.ne, x, x, loc: loc), try arith(.ne, y, y, loc: loc), loc: loc), loc: loc)
        }
        return result
    }
}

extension FunctionLowerer {
    /// A required axis argument (an int or a tuple of ints), normalized for an array of `rank`.
    func axesArgument(_ a: CallArgs, _ position: Int, _ name: String, rank: Int) throws -> [Int] {
        try normalizedAxes(try intList(try a.require(position, name), loc: a.loc), rank: rank, loc: a.loc)
    }
}
