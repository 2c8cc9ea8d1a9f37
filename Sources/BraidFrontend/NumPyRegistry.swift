import BraidIR

/// One NumPy function Braid compiles: its family, a one-line summary, and its lowering.
struct NumPyFunction: Sendable {
    enum Family: String, CaseIterable, Sendable {
        case ufunc = "elementwise (ufuncs)"
        case ufuncMethod = "ufunc methods"
        case cumulative = "cumulative"
        case reduction = "reductions"
        case creation = "array creation"
        case linalg = "linear algebra"
        case manipulation = "shape manipulation"
        case selection = "selection"
        case statistics = "statistics"
        case sorting = "sorting"
    }

    var family: Family
    var summary: String
    var lower: @Sendable (FunctionLowerer, CallArgs) throws -> Value
}

/// The single registry of NumPy functions and array methods: the lowering consults it,
/// and `braid features` prints it, so the documented subset cannot drift from the compiler.
public enum NumPyRegistry {
    static let functions: [String: NumPyFunction] = {
        var r: [String: NumPyFunction] = [:]
        func unary(_ name: String, _ f: Intrinsic) {
            r[name] = NumPyFunction(family: .ufunc, summary: "elementwise \(name), out=, where=") { l, a in
                try a.check(maxPositional: 2, allowed: ["out", "where"])
                var x = try a.require(0, "x")
                if [Intrinsic.floor, .ceil, .trunc].contains(f), let t = l.integerOrBoolType(x) {
                    // NumPy 2: floor/ceil/trunc/fix of integers and bools keep the dtype (the values).
                    return try l.applyUfuncOutput(try l.castValue(l.compactedValue(x, loc: a.loc), t), a.withOut(position: 1))
                }
                if name == "fabs", let t = l.integerOrBoolType(x) {
                    // fabs is a float function: float64 for int64, float16 (an error) for int8.
                    try l.checkFloatResult(.sqrt, [x], name: name, loc: a.loc)
                    x = try l.castValue(l.compactedValue(x, loc: a.loc), Typing.floatResult(t))
                }
                return try l.applyUfuncOutput(try l.intrinsic(f, [x], loc: a.loc), a.withOut(position: 1))
            }
        }
        for (n, f) in [("exp", Intrinsic.exp), ("log", .log), ("sqrt", .sqrt), ("sin", .sin), ("cos", .cos),
                       ("tan", .tan), ("arcsin", .arcsin), ("arccos", .arccos), ("arctan", .arctan),
                       ("sinh", .sinh), ("cosh", .cosh), ("tanh", .tanh), ("abs", .abs), ("absolute", .abs),
                       ("floor", .floor), ("ceil", .ceil), ("log10", .log10), ("log2", .log2),
                       ("expm1", .expm1), ("log1p", .log1p), ("real", .real), ("imag", .imag),
                       ("conj", .conj), ("conjugate", .conj), ("trunc", .trunc), ("fix", .trunc), ("rint", .rint),
                       ("exp2", .exp2), ("cbrt", .cbrt), ("arcsinh", .arcsinh), ("arccosh", .arccosh),
                       ("arctanh", .arctanh), ("fabs", .abs)] {
            unary(n, f)
        }
        func binaryIntrinsic(_ name: String, _ f: Intrinsic) {
            r[name] = NumPyFunction(family: .ufunc, summary: "elementwise \(name), out=, where=") { l, a in
                try a.check(maxPositional: 3, allowed: ["out", "where"])
                return try l.applyUfuncOutput(try l.intrinsic(f, [try a.require(0, "x1"), try a.require(1, "x2")], loc: a.loc),
                                              a.withOut(position: 2))
            }
        }
        binaryIntrinsic("arctan2", .arctan2)
        binaryIntrinsic("hypot", .hypot)
        binaryIntrinsic("fmod", .fmod)
        binaryIntrinsic("copysign", .copysign)
        func binaryOperator(_ name: String, _ op: BinaryOp) {
            r[name] = NumPyFunction(family: .ufunc, summary: "elementwise \(name), out=, where=") { l, a in
                try a.check(maxPositional: 3, allowed: ["out", "where"])
                return try l.applyUfuncOutput(try l.arith(op, try a.require(0, "x1"), try a.require(1, "x2"), loc: a.loc),
                                              a.withOut(position: 2))
            }
        }
        for (n, op) in [("add", BinaryOp.add), ("subtract", .sub), ("multiply", .mul), ("divide", .div),
                        ("true_divide", .div), ("floor_divide", .floorDiv), ("mod", .mod), ("remainder", .mod),
                        ("power", .pow), ("maximum", .max), ("minimum", .min), ("greater", .gt), ("less", .lt),
                        ("equal", .eq), ("not_equal", .ne), ("greater_equal", .ge), ("less_equal", .le),
                        ("bitwise_and", .bitAnd), ("bitwise_or", .bitOr), ("bitwise_xor", .bitXor),
                        ("left_shift", .shl), ("right_shift", .shr), ("logical_and", .and), ("logical_or", .or)] {
            binaryOperator(n, op)
        }
        // Ufuncs written with the operators above.
        func composite(_ name: String, _ args: Int, _ f: @escaping @Sendable (FunctionLowerer, [Value], SourceLocation) throws -> Value) {
            r[name] = NumPyFunction(family: .ufunc, summary: "elementwise \(name), out=, where=") { l, a in
                try a.check(maxPositional: args + 1, allowed: ["out", "where"])
                let xs = try (0..<args).map { try a.require($0, "x\($0 + 1)") }
                return try l.applyUfuncOutput(try f(l, xs, a.loc), a.withOut(position: args))
            }
        }
        composite("negative", 1) { l, x, loc in try l.unaryOp(.uSub, x[0], loc: loc) }
        composite("positive", 1) { _, x, _ in x[0] }
        composite("square", 1) { l, x, loc in try l.arith(.mul, x[0], x[0], loc: loc) }
        composite("reciprocal", 1) { l, x, loc in
            let t = try l.lazy(x[0], loc: loc).dtype
            return try l.arith(t.isInteger ? .floorDiv : .div, .scalar(l.cast(.symbol(.one), t), weak: false), x[0], loc: loc)
        }
        composite("sign", 1) { l, x, loc in
            let pos = try l.arith(.gt, x[0], .scalar(.symbol(.zero), weak: true), loc: loc), neg = try l.arith(.lt, x[0], .scalar(.symbol(.zero), weak: true), loc: loc)
            let t = try l.lazy(x[0], loc: loc).dtype
            let diff = try l.arith(.sub, try l.castValue(pos, t), try l.castValue(neg, t), loc: loc)
            // NaN stays NaN.
            return t.isFloat ? try l.select(try l.arith(.ne, x[0], x[0], loc: loc), x[0], diff, loc: loc) : diff
        }
        composite("logical_not", 1) { l, x, loc in try l.arith(.eq, x[0], .scalar(.symbol(.zero), weak: true), loc: loc) }
        composite("logical_xor", 2) { l, x, loc in
            try l.arith(.ne, try l.arith(.ne, x[0], .scalar(.symbol(.zero), weak: true), loc: loc), try l.arith(.ne, x[1], .scalar(.symbol(.zero), weak: true), loc: loc), loc: loc)
        }
        composite("invert", 1) { l, x, loc in try l.unaryOp(.invert, x[0], loc: loc) }
        composite("bitwise_not", 1) { l, x, loc in try l.unaryOp(.invert, x[0], loc: loc) }
        composite("isnan", 1) { l, x, loc in try l.arith(.ne, x[0], x[0], loc: loc) }
        composite("isinf", 1) { l, x, loc in
            try l.arith(.eq, try l.intrinsic(.abs, [x[0]], loc: loc), .scalar(.literal(.float(.infinity), .float64), weak: true), loc: loc)
        }
        composite("isfinite", 1) { l, x, loc in
            try l.arith(.lt, try l.intrinsic(.abs, [x[0]], loc: loc), .scalar(.literal(.float(.infinity), .float64), weak: true), loc: loc)
        }
        composite("deg2rad", 1) { l, x, loc in try l.arith(.mul, x[0], .scalar(.literal(.float(Double.pi / 180), .float64), weak: true), loc: loc) }
        composite("radians", 1) { l, x, loc in try l.arith(.mul, x[0], .scalar(.literal(.float(Double.pi / 180), .float64), weak: true), loc: loc) }
        composite("rad2deg", 1) { l, x, loc in try l.arith(.mul, x[0], .scalar(.literal(.float(180 / Double.pi), .float64), weak: true), loc: loc) }
        composite("degrees", 1) { l, x, loc in try l.arith(.mul, x[0], .scalar(.literal(.float(180 / Double.pi), .float64), weak: true), loc: loc) }
        composite("fmax", 2) { l, x, loc in
            // Like maximum, but a NaN loses to a number.
            try l.select(try l.arith(.ne, x[1], x[1], loc: loc), x[0],
                         try l.select(try l.arith(.ne, x[0], x[0], loc: loc), x[1], try l.arith(.max, x[0], x[1], loc: loc), loc: loc), loc: loc)
        }
        composite("fmin", 2) { l, x, loc in
            try l.select(try l.arith(.ne, x[1], x[1], loc: loc), x[0],
                         try l.select(try l.arith(.ne, x[0], x[0], loc: loc), x[1], try l.arith(.min, x[0], x[1], loc: loc), loc: loc), loc: loc)
        }
        composite("logaddexp", 2) { l, x, loc in
            let m = try l.arith(.max, x[0], x[1], loc: loc)
            let d = try l.intrinsic(.abs, [try l.arith(.sub, x[0], x[1], loc: loc)], loc: loc)
            return try l.arith(.add, m, try l.intrinsic(.log1p, [try l.intrinsic(.exp, [try l.unaryOp(.uSub, d, loc: loc)], loc: loc)], loc: loc), loc: loc)
        }
        r["clip"] = NumPyFunction(family: .ufunc, summary: "clip(a, a_min, a_max), out=") { l, a in
            try a.check(maxPositional: 4, allowed: ["a_min", "a_max", "out", "min", "max"])
            var v = try a.require(0, "a")
            // NumPy drops a Python int bound beyond the integer dtype's range on the side
            // where it cannot clip (np.clip(int8_array, -200, 300) is the array itself).
            let t = l.strongIntegerType(v)
            func noOp(_ bound: Value, below: Bool) -> Bool {
                guard let t, let k = l.weakIntConstant(bound), !FunctionLowerer.holds(t, k) else { return false }
                return below == (k < 0)
            }
            if let lo = a.get(1, "a_min") ?? a.keywords["min"], !l.isNone(lo), !noOp(lo, below: true) { v = try l.arith(.max, v, lo, loc: a.loc) }
            if let hi = a.get(2, "a_max") ?? a.keywords["max"], !l.isNone(hi), !noOp(hi, below: false) { v = try l.arith(.min, v, hi, loc: a.loc) }
            return try l.applyUfuncOutput(v, a.withOut(position: 3))
        }
        r["outer"] = NumPyFunction(family: .linalg, summary: "outer(a, b)") { l, a in
            try a.check(maxPositional: 2, allowed: [])
            let x = try l.reshape(try a.require(0, "a"), [.int(-1), .one], loc: a.loc)
            let y = try l.reshape(try a.require(1, "b"), [.one, .int(-1)], loc: a.loc)
            return try l.arith(.mul, x, y, loc: a.loc)
        }
        r["arange"] = NumPyFunction(family: .creation, summary: "arange([start,] stop[, step], dtype=None)") { l, a in
            try a.check(maxPositional: 3, allowed: ["dtype", "stop"])
            return try l.arange(a)
        }
        r["linspace"] = NumPyFunction(family: .creation, summary: "linspace(start, stop, num=50, endpoint=True)") { l, a in
            try l.linspace(a)
        }
        r["eye"] = NumPyFunction(family: .creation, summary: "eye(N, M=None, k=0, dtype=float64)") { l, a in try l.eye(a) }
        r["identity"] = NumPyFunction(family: .creation, summary: "identity(n, dtype=float64)") { l, a in
            try a.check(maxPositional: 1, allowed: ["dtype"])
            return try l.eye(CallArgs(positional: [try a.require(0, "n")], keywords: a.keywords, loc: a.loc, function: "identity"))
        }
        r["triu"] = NumPyFunction(family: .creation, summary: "triu(m, k=0)") { l, a in try l.triangle(upper: true, a) }
        r["tril"] = NumPyFunction(family: .creation, summary: "tril(m, k=0)") { l, a in try l.triangle(upper: false, a) }
        func joiner(_ name: String, newAxis: Bool, defaultAxis: Int, summary: String) {
            r[name] = NumPyFunction(family: .manipulation, summary: summary) { l, a in
                try a.check(maxPositional: 2, allowed: ["axis"])
                guard case .tuple(let parts) = try a.require(0, "arrays") else {
                    throw Diagnostic(a.loc, "\(name)() takes a tuple or list of arrays")
                }
                var axis = defaultAxis
                if let ax = a.get(1, "axis") { axis = try l.intList(ax, loc: a.loc).first ?? defaultAxis }
                if name == "hstack", let first = parts.first, try l.lazy(first, loc: a.loc).shape.count == 1 { axis = 0 }
                if name == "vstack" {
                    // 1-D inputs become rows.
                    let rows = try parts.map { p -> Value in
                        let x = try l.lazy(p, loc: a.loc)
                        return x.shape.count == 1 ? try l.reshape(p, [.one, x.shape[0]], loc: a.loc) : p
                    }
                    return try l.concatenate(rows, axis: 0, newAxis: false, loc: a.loc)
                }
                return try l.concatenate(parts, axis: axis, newAxis: newAxis, loc: a.loc)
            }
        }
        joiner("concatenate", newAxis: false, defaultAxis: 0, summary: "concatenate(arrays, axis=0)")
        joiner("stack", newAxis: true, defaultAxis: 0, summary: "stack(arrays, axis=0)")
        joiner("hstack", newAxis: false, defaultAxis: 1, summary: "hstack(arrays)")
        joiner("vstack", newAxis: false, defaultAxis: 0, summary: "vstack(arrays)")
        r["flip"] = NumPyFunction(family: .manipulation, summary: "flip(a, axis=None), a view") { l, a in
            try a.check(maxPositional: 2, allowed: ["axis"])
            let axes = try a.get(1, "axis").flatMap { l.isNone($0) ? nil : try l.intList($0, loc: a.loc) }
            return try l.flip(try a.require(0, "m"), axes: axes, loc: a.loc)
        }
        r["repeat"] = NumPyFunction(family: .manipulation, summary: "repeat(a, repeats, axis=None): one count for all, or a count per element (data-dependent length)") { l, a in
            try a.check(maxPositional: 3, allowed: ["axis"])
            let axis = try a.get(2, "axis").flatMap { l.isNone($0) ? nil : try l.intList($0, loc: a.loc).first }
            guard case .scalar = try a.require(1, "repeats") else {
                return try l.repeatByCounts(try a.require(0, "a"), try a.require(1, "repeats"), axis: axis, loc: a.loc)
            }
            return try l.repeatElements(try a.require(0, "a"), try l.symbolicArgument(try a.require(1, "repeats"), loc: a.loc), axis: axis, loc: a.loc)
        }
        r["where"] = NumPyFunction(family: .selection, summary: "where(cond, a, b), elementwise select; where(cond) is nonzero(cond)") { l, a in
            try a.check(maxPositional: 3, allowed: [])
            if a.positional.count == 1, let nonzero = CompactionRegistry.functions["nonzero"] {
                // np.where(cond) is np.nonzero(cond).
                return try nonzero.lower(l, a)
            }
            guard a.positional.count == 3 else {
                throw Diagnostic(a.loc, "np.where takes one argument (the indices of the nonzero elements) or three (cond, a, b)")
            }
            return try l.select(a.positional[0], a.positional[1], a.positional[2], loc: a.loc)
        }
        func reduction(_ name: String, _ op: WCR) {
            let typed = op == .add || op == .mul
            r[name] = NumPyFunction(family: .reduction, summary: "\(name)(a, axis=None|int|tuple, \(typed ? "dtype=None, " : "")keepdims=False)") { l, a in
                try a.check(maxPositional: typed ? 3 : 2, allowed: typed ? ["axis", "keepdims", "dtype"] : ["axis", "keepdims"])
                if typed, let d = try l.dtypeArgument(a.get(2, "dtype"), loc: a.loc) {
                    // The elements are converted to dtype and accumulated in it.
                    let x = try l.lazy(try l.compactedValue(try a.require(0, "a"), loc: a.loc), loc: a.loc)
                    let (axes, keepdims) = try l.reductionOptions(a)
                    return try l.reduce(op, .array(l.castLazy(x, d)), axes: axes, keepdims: keepdims, loc: a.loc, resultType: d)
                }
                return try l.reduceCall(op, a)
            }
        }
        reduction("sum", .add)
        for (n, op) in [("any", WCR.max), ("all", WCR.min)] {
            r[n] = NumPyFunction(family: .reduction, summary: "\(n)(a, axis=None|int|tuple, keepdims=False)") { l, a in
                try a.check(maxPositional: 2, allowed: ["axis", "keepdims"])
                return try l.reduceCall(op, a, boolean: true)
            }
        }
        r["count_nonzero"] = NumPyFunction(family: .reduction, summary: "count_nonzero(a, axis=None)") { l, a in
            try a.check(maxPositional: 2, allowed: ["axis", "keepdims"])
            let x = try l.lazy(try a.require(0, "a"), loc: a.loc)
            let nz = try l.arith(.ne, .array(x), .scalar(.symbol(.zero), weak: true), loc: a.loc)
            let (axes, keepdims) = try l.reductionOptions(a)
            return try l.reduce(.add, nz, axes: axes, keepdims: keepdims, loc: a.loc)
        }
        for n in ["mean", "var", "std"] {
            r[n] = NumPyFunction(family: .reduction, summary: "\(n)(a, axis=None|int|tuple, dtype=None, keepdims=False\(n == "mean" ? "" : ", ddof=0"))") { l, a in
                try a.check(maxPositional: 3, allowed: ["axis", "keepdims", "ddof", "dtype"])
                if let d = try l.dtypeArgument(a.get(2, "dtype"), loc: a.loc) {
                    // Computed in dtype (a float type), as NumPy.
                    guard d.isInexact else { throw Diagnostic(a.loc, "np.\(n) with an integer dtype is not supported; use a float dtype") }
                    var b = a
                    b.positional = Array(a.positional.prefix(2))
                    b.keywords["dtype"] = nil
                    b.positional[0] = .array(l.castLazy(try l.lazy(try l.compactedValue(a.positional[0], loc: a.loc), loc: a.loc), d))
                    guard let f = NumPyRegistry.functions[n] else { throw Diagnostic(a.loc, "internal: \(n)") }
                    return try f.lower(l, b)
                }
                let (axes, keepdims) = try l.reductionOptions(a)
                var ddof = 0
                if let d = a.keywords["ddof"] { ddof = try l.intList(d, loc: a.loc).first ?? 0 }
                if case .masked(let x, let mask) = try a.require(0, "a") {
                    guard n == "mean", axes == nil else { throw Diagnostic(a.loc, "np.\(n) of x[mask] is not supported yet; only np.mean") }
                    let ft: DType = x.dtype.isInexact ? x.dtype : .float64
                    let total = try l.reduce(.add, try l.select(.array(mask), .array(l.castLazy(x, ft)), .scalar(.symbol(.zero), weak: true), loc: a.loc),
                                             axes: nil, keepdims: false, loc: a.loc)
                    let count = try l.reduce(.add, .array(mask), axes: nil, keepdims: false, loc: a.loc)
                    return try l.arith(.div, total, count, loc: a.loc)
                }
                return try l.moment(n, try a.require(0, "a"), axes: axes, keepdims: keepdims, ddof: ddof, loc: a.loc)
            }
        }
        for (n, isMax) in [("argmax", true), ("argmin", false)] {
            r[n] = NumPyFunction(family: .reduction, summary: "\(n)(a, axis=None|int)") { l, a in
                try a.check(maxPositional: 2, allowed: ["axis"])
                var axis: Int? = nil
                if let ax = a.get(1, "axis"), !{ if case .none = ax { return true } else { return false } }() {
                    axis = try l.intList(ax, loc: a.loc).first
                }
                return try l.argExtreme(isMax, try a.require(0, "a"), axis: axis, loc: a.loc)
            }
        }
        reduction("prod", .mul)
        reduction("max", .max)
        reduction("amax", .max)
        reduction("min", .min)
        reduction("amin", .min)
        func creation(_ name: String, fill: FillKind, like: Bool) {
            r[name] = NumPyFunction(family: .creation,
                                    summary: like ? "\(name)(a, dtype=None)" : "\(name)(shape, \(fill == .value ? "fill_value, " : "")dtype=float64)") { l, a in
                try l.create(fill, like: like, a)
            }
        }
        creation("empty", fill: .none, like: false)
        creation("zeros", fill: .zero, like: false)
        creation("ones", fill: .one, like: false)
        creation("full", fill: .value, like: false)
        creation("empty_like", fill: .none, like: true)
        creation("zeros_like", fill: .zero, like: true)
        creation("ones_like", fill: .one, like: true)
        creation("full_like", fill: .value, like: true)
        r["copy"] = NumPyFunction(family: .creation, summary: "copy(a)") { l, a in
            try a.check(maxPositional: 1, allowed: [])
            let x = try l.lazy(try a.require(0, "a"), loc: a.loc)
            return .array(try l.materializeNew(x, hint: "copy", loc: a.loc))
        }
        r["dot"] = NumPyFunction(family: .linalg, summary: "dot(a, b) for 1-D and 2-D operands (BLAS)") { l, a in
            try a.check(maxPositional: 2, allowed: [])
            let x = try a.require(0, "a"), y = try a.require(1, "b")
            if case .scalar = x { return try l.arith(.mul, x, y, loc: a.loc) }
            if case .scalar = y { return try l.arith(.mul, x, y, loc: a.loc) }
            for v in [x, y] where try l.lazy(v, loc: a.loc).shape.count > 2 {
                throw Diagnostic(a.loc, "np.dot of an array with more than 2 dimensions is not supported (it is not a stacked product); use np.matmul or @ for stacks of matrices")
            }
            return try l.matmul(x, y, loc: a.loc)
        }
        r["matmul"] = NumPyFunction(family: .linalg, summary: "matmul(a, b), also the @ operator (BLAS); 3-D and higher operands as stacks of matrices, batch dimensions broadcast") { l, a in
            try a.check(maxPositional: 2, allowed: [])
            return try l.matmul(try a.require(0, "a"), try a.require(1, "b"), loc: a.loc)
        }
        r["transpose"] = NumPyFunction(family: .manipulation, summary: "transpose(a, axes=None), a view") { l, a in
            try a.check(maxPositional: 2, allowed: ["axes"])
            return try l.transpose(try a.require(0, "a"), axes: try a.get(1, "axes").map { try l.intList($0, loc: a.loc) }, loc: a.loc)
        }
        r["reshape"] = NumPyFunction(family: .manipulation, summary: "reshape(a, shape), a view of contiguous data") { l, a in
            try a.check(maxPositional: 2, allowed: ["newshape", "shape"])
            guard let s = a.get(1, "shape") ?? a.keywords["newshape"] else { throw Diagnostic(a.loc, "reshape() needs a shape") }
            return try l.reshape(try a.require(0, "a"), try l.shapeArgument(s, loc: a.loc), loc: a.loc)
        }
        r["ravel"] = NumPyFunction(family: .manipulation, summary: "ravel(a), 1-D in C order") { l, a in
            try a.check(maxPositional: 1, allowed: [])
            return try l.reshape(try a.require(0, "a"), [.int(-1)], loc: a.loc)
        }
        r["roll"] = NumPyFunction(family: .manipulation, summary: "roll(a, shift, axis=None), any integer shift (symbols too), tuples of shifts and axes") { l, a in
            try a.check(maxPositional: 3, allowed: ["shift", "axis"])
            return try l.roll(try a.require(0, "a"), shift: try a.require(1, "shift"), axis: a.get(2, "axis"), loc: a.loc)
        }
        for (n, op) in [("cumsum", BinaryOp.add), ("cumprod", .mul)] {
            r[n] = NumPyFunction(family: .cumulative, summary: "\(n)(a, axis=None, dtype=None), sequential along the axis as NumPy") { l, a in
                try a.check(maxPositional: 3, allowed: ["axis", "dtype"])
                return try l.scan(op, try a.require(0, "a"), axis: try l.axisArgument(a.get(1, "axis"), loc: a.loc),
                                  dtype: try l.dtypeArgument(a.get(2, "dtype"), loc: a.loc), loc: a.loc)
            }
        }
        // Methods of the ufuncs (np.add.reduce, ...): the path after `numpy.` is "add.reduce".
        for (n, op, wcr) in [("add", BinaryOp.add, WCR.add), ("multiply", .mul, .mul), ("maximum", .max, .max), ("minimum", .min, .min)] {
            r["\(n).accumulate"] = NumPyFunction(family: .cumulative, summary: "\(n).accumulate(a, axis=0, dtype=None)") { l, a in
                try a.check(maxPositional: 3, allowed: ["axis", "dtype"])
                let x = try a.require(0, "array")
                if let ax = a.get(1, "axis"), l.isNone(ax) {
                    throw Diagnostic(a.loc, "\(n).accumulate needs an axis (axis=None is not allowed, as in NumPy)")
                }
                return try l.scan(op, x, axis: try l.axisArgument(a.get(1, "axis"), loc: a.loc) ?? 0,
                                  dtype: try l.dtypeArgument(a.get(2, "dtype"), loc: a.loc), loc: a.loc)
            }
            r["\(n).reduce"] = NumPyFunction(family: .ufuncMethod, summary: "\(n).reduce(a, axis=0|None|tuple, keepdims=False)") { l, a in
                try a.check(maxPositional: 2, allowed: ["axis", "keepdims"])
                let x = try a.require(0, "array")
                var args = a
                if a.get(1, "axis") == nil { args.keywords["axis"] = .scalar(.symbol(.zero), weak: true) }
                let (axes, keepdims) = try l.reductionOptions(args)
                if case .scalar = x { throw Diagnostic(a.loc, "\(n).reduce needs an array") }
                let lx = try l.lazy(x, loc: a.loc)
                if (op == .max || op == .min) && lx.dtype.isComplex {
                    throw Diagnostic(a.loc, "maximum/minimum of complex numbers is not supported")
                }
                if lx.shape.isEmpty { throw Diagnostic(a.loc, "\(n).reduce of a 0-d array is not supported") }
                if wcr == .max || wcr == .min { try l.checkNotEmpty(wcr, .array(lx), axes: axes, loc: a.loc) }
                return try l.reduce(wcr, .array(lx), axes: axes, keepdims: keepdims, loc: a.loc)
            }
            r["\(n).outer"] = NumPyFunction(family: .ufuncMethod, summary: "\(n).outer(a, b), shape a.shape + b.shape") { l, a in
                try a.check(maxPositional: 2, allowed: [])
                return try l.ufuncOuter(op, try a.require(0, "A"), try a.require(1, "B"), loc: a.loc)
            }
        }
        // .outer of the other binary operator ufuncs (NumPy typing through the operator).
        for (n, op) in [("subtract", BinaryOp.sub), ("divide", .div), ("true_divide", .div), ("floor_divide", .floorDiv),
                        ("power", .pow), ("mod", .mod), ("remainder", .mod), ("equal", .eq), ("not_equal", .ne),
                        ("less", .lt), ("less_equal", .le), ("greater", .gt), ("greater_equal", .ge),
                        ("logical_and", .and), ("logical_or", .or), ("bitwise_and", .bitAnd), ("bitwise_or", .bitOr),
                        ("bitwise_xor", .bitXor)] {
            r["\(n).outer"] = NumPyFunction(family: .ufuncMethod, summary: "\(n).outer(a, b), shape a.shape + b.shape") { l, a in
                try a.check(maxPositional: 2, allowed: [])
                return try l.ufuncOuter(op, try a.require(0, "A"), try a.require(1, "B"), loc: a.loc)
            }
        }
        // logical_and/or.reduce: all/any of the truth values (a bool result).
        for (n, wcr) in [("logical_and", WCR.min), ("logical_or", .max)] {
            r["\(n).reduce"] = NumPyFunction(family: .ufuncMethod, summary: "\(n).reduce(a, axis=0|None|tuple, keepdims=False), bool") { l, a in
                try a.check(maxPositional: 2, allowed: ["axis", "keepdims"])
                var args = a
                if a.get(1, "axis") == nil { args.keywords["axis"] = .scalar(.symbol(.zero), weak: true) }
                guard case .array = try a.require(0, "array") else { throw Diagnostic(a.loc, "\(n).reduce needs an array") }
                return try l.reduceCall(wcr, args, boolean: true)
            }
        }
        for (n, op) in [("add", BinaryOp.add), ("subtract", .sub), ("multiply", .mul), ("maximum", .max), ("minimum", .min)] {
            r["\(n).at"] = NumPyFunction(family: .ufuncMethod, summary: "\(n).at(a, indices, b): unbuffered, repeated indices apply each time; out-of-range indices raise") { l, a in
                try l.ufuncAt(op, n, a)
            }
        }
        r["array"] = NumPyFunction(family: .creation, summary: "array(object, dtype=None): a copy of an array, or numbers and (nested) lists of numbers") { l, a in
            try l.arrayCall(a, copy: true)
        }
        r["asarray"] = NumPyFunction(family: .creation, summary: "asarray(a, dtype=None): the array itself when no conversion is needed") { l, a in
            try l.arrayCall(a, copy: false)
        }
        r["searchsorted"] = NumPyFunction(family: .sorting, summary: "searchsorted(a, v, side='left'|'right'): binary search in a sorted 1-D a (NaN last)") { l, a in
            try l.searchsortedCall(a)
        }
        r["interp"] = NumPyFunction(family: .sorting, summary: "interp(x, xp, fp, left=None, right=None), increasing xp, as NumPy's formula") { l, a in
            try l.interpCall(a)
        }
        r["diff"] = NumPyFunction(family: .manipulation, summary: "diff(a, n=1, axis=-1), != for booleans") { l, a in try l.diffCall(a) }
        r["select"] = NumPyFunction(family: .selection, summary: "select(condlist, choicelist, default=0), the first true condition wins") { l, a in
            try l.selectCall(a)
        }
        r["trace"] = NumPyFunction(family: .linalg, summary: "trace(a, offset=0) of a 2-D array (dtype as np.sum)") { l, a in try l.traceCall(a) }
        r["diag"] = NumPyFunction(family: .creation, summary: "diag(v, k=0): 1-D v to a matrix, 2-D v to its diagonal (a view)") { l, a in try l.diagCall(a) }
        r["cross"] = NumPyFunction(family: .linalg, summary: "cross(a, b) of 3-vectors along the last axis") { l, a in try l.crossCall(a) }
        r["cov"] = NumPyFunction(family: .statistics, summary: "cov(m, rowvar=True, bias=False, ddof=None), real m 1-D or 2-D") { l, a in try l.covCall(a) }
        r["corrcoef"] = NumPyFunction(family: .statistics, summary: "corrcoef(x, rowvar=True), real x 1-D or 2-D") { l, a in try l.corrcoefCall(a) }
        r["histogram"] = NumPyFunction(family: .statistics, summary: "histogram(a, bins=int, range=None|(lo, hi), weights=None, density=False): (counts, edges float64) as NumPy; float64/integer data; a non-finite range raises") { l, a in
            try l.histogramCall(a)
        }
        r["sort"] = NumPyFunction(family: .sorting, summary: "sort(a, axis=-1|int|None): merge sort, NaN last") { l, a in try l.sortCall(a, indices: false) }
        r["argsort"] = NumPyFunction(family: .sorting, summary: "argsort(a, axis=-1|int|None): stable for every kind (equal to NumPy's kind='stable')") { l, a in
            try l.sortCall(a, indices: true)
        }
        // np.linalg.* lives in its own table (keys such as "linalg.solve"); so do the
        // functions whose results have data-dependent sizes (np.nonzero, ...).
        r.merge(LinalgRegistry.functions) { first, _ in first }
        r.merge(CompactionRegistry.functions) { first, _ in first }
        r.merge(ManipulationRegistry.functions) { first, _ in first }
        r.merge(CountingRegistry.functions) { first, _ in first }
        r.merge(NanRegistry.functions) { first, _ in first }
        registerEinsum(&r)
        return r
    }()

    /// Array methods (`A.sum(axis=0)`, `A.copy()`); the array is the first positional argument.
    static let methods: [String: NumPyFunction] = {
        var m: [String: NumPyFunction] = [:]
        for n in ["sum", "prod", "max", "min", "copy", "ravel", "mean", "var", "std", "argmax", "argmin", "any", "all"] {
            m[n] = functions[n]
        }
        m["flatten"] = NumPyFunction(family: .manipulation, summary: "a.flatten(), a 1-D copy") { l, a in
            let flat = try l.reshape(try a.require(0, "a"), [.int(-1)], loc: a.loc)
            return .array(try l.materializeNew(try l.lazy(flat, loc: a.loc), hint: "flat", loc: a.loc))
        }
        for n in ["cumsum", "cumprod", "argsort", "trace", "round", "squeeze", "swapaxes", "dot", "clip", "nonzero",
                  "repeat", "diagonal", "take"] { m[n] = functions[n] }
        m["fill"] = NumPyFunction(family: .creation, summary: "a.fill(value), in place") { l, a in
            try a.check(maxPositional: 2, allowed: [])
            guard case .array(let x) = a.positional[0], let view = x.asView else {
                throw Diagnostic(a.loc, "a.fill() fills in place: call it on an array variable or a slice of one")
            }
            guard case .scalar = try a.require(1, "value") else { throw Diagnostic(a.loc, "a.fill() takes a scalar") }
            try l.store(a.positional[1], into: view, loc: a.loc)
            return .none
        }
        m["item"] = NumPyFunction(family: .selection, summary: "a.item() of a one-element array, a.item(k) (flat index), a.item(i, j)") { l, a in
            let x = try l.lazy(a.positional[0], loc: a.loc)
            let args = Array(a.positional.dropFirst())
            let view = try l.viewOf(.array(x), loc: a.loc)
            let flat = try l.viewOf(try l.reshape(.array(Lazy(node: .view(view), shape: view.shape, dtype: view.dtype)), [.int(-1)], loc: a.loc), loc: a.loc)
            let k: SymExpr
            switch args.count {
            case 0:
                let size = x.shape.reduce(SymExpr.one, *)
                if let c = size.constant, c != 1 { throw Diagnostic(a.loc, "a.item() needs an array of one element (NumPy raises ValueError)") }
                l.emit(.branch(Branch(condition: .binary(.ne, .symbol(size), .symbol(.one), .bool), then: [.fail(.invalidValue, a.loc)], orElse: [], loc: a.loc)))
                k = .zero
            case 1:
                k = l.checkedIndex(try l.symbolicArgument(args[0], loc: a.loc), flat.shape[0], loc: a.loc)
            default:
                guard args.count == x.shape.count else { throw Diagnostic(a.loc, "a.item() takes one flat index or one index per dimension") }
                let ks = try zip(args, x.shape).map { v, d in l.checkedIndex(try l.symbolicArgument(v, loc: a.loc), d, loc: a.loc) }
                return .scalar(.load(view.memlet(at: ks), view.dtype), weak: false)
            }
            return .scalar(.load(flat.memlet(at: [k]), flat.dtype), weak: false)
        }
        m["sort"] = NumPyFunction(family: .sorting, summary: "a.sort(axis=-1), in place") { l, a in
            try a.check(maxPositional: 3, allowed: ["axis", "kind", "order", "stable"])
            guard case .array(let x) = a.positional[0], let view = x.asView else {
                throw Diagnostic(a.loc, "a.sort() sorts in place: call it on an array variable or a slice of one")
            }
            let sorted = try l.sortCall(a, indices: false)
            try l.store(sorted, into: view, loc: a.loc)
            return .none
        }
        m["transpose"] = NumPyFunction(family: .manipulation, summary: "a.transpose(*axes)") { l, a in
            let axes = a.positional.count > 1 ? try a.positional.dropFirst().map { v -> Int in
                guard case .scalar(.symbol(.int(let k)), _) = v else { throw Diagnostic(a.loc, "axes must be integer constants") }
                return k
            } : nil
            return try l.transpose(a.positional[0], axes: axes.map(Array.init), loc: a.loc)
        }
        m["reshape"] = NumPyFunction(family: .manipulation, summary: "a.reshape(shape) or a.reshape(d0, d1, ...)") { l, a in
            let dims = Array(a.positional.dropFirst())
            guard !dims.isEmpty else { throw Diagnostic(a.loc, "reshape() needs a shape") }
            let shape = try dims.count == 1 ? l.shapeArgument(dims[0], loc: a.loc) : dims.flatMap { try l.shapeArgument($0, loc: a.loc) }
            return try l.reshape(a.positional[0], shape, loc: a.loc)
        }
        m["astype"] = NumPyFunction(family: .creation, summary: "a.astype(dtype)") { l, a in
            let x = try l.lazy(try a.require(0, "a"), loc: a.loc)
            guard case .dtype(let d)? = a.get(1, "dtype") else {
                throw Diagnostic(a.loc, "astype() needs a dtype such as np.float32")
            }
            return .array(try l.materializeNew(l.castLazy(x, d), hint: "cast", loc: a.loc))
        }
        return m
    }()

    /// The supported NumPy surface as Markdown, generated from the registry.
    public static func featureTable() -> String {
        var out = "| family | function | form |\n|---|---|---|\n"
        for fam in NumPyFunction.Family.allCases {
            for name in functions.keys.sorted() where functions[name]!.family == fam {
                out += "| \(fam.rawValue) | `np.\(name)` | \(functions[name]!.summary) |\n"
            }
        }
        for name in methods.keys.sorted() {
            out += "| array methods | `a.\(name)()` | \(methods[name]!.summary) |\n"
        }
        return out
    }
}

enum FillKind { case none, zero, one, value }

extension FunctionLowerer {
    /// The dtype of an integer or boolean operand (scalar, array or selection).
    func integerOrBoolType(_ v: Value) -> DType? {
        switch v {
        case .scalar(let x, _): return x.dtype.isInteger || x.dtype.isBool ? x.dtype : nil
        case .array(let l), .masked(let l, _): return l.dtype.isInteger || l.dtype.isBool ? l.dtype : nil
        default: return nil
        }
    }

    /// The `axis=` and `keepdims=` arguments of a reduction.
    func reductionOptions(_ a: CallArgs) throws -> (axes: [Int]?, keepdims: Bool) {
        var axes: [Int]? = nil
        if let ax = a.get(1, "axis") {
            switch ax {
            case .none: axes = nil
            default: axes = try intList(ax, loc: a.loc)
            }
        }
        var keepdims = false
        if let kd = a.keywords["keepdims"] {
            guard case .scalar(.literal(.bool(let b), _), _) = kd else {
                throw Diagnostic(a.loc, "keepdims must be True or False")
            }
            keepdims = b
        }
        return (axes, keepdims)
    }

    func reduceCall(_ op: WCR, _ a: CallArgs, boolean: Bool = false) throws -> Value {
        var x = try a.require(0, "a")
        let (axes, keepdims) = try reductionOptions(a)
        if case .masked(let l, let mask) = x {
            // Reduce over the selected elements only: the others contribute the identity.
            guard axes == nil else { throw Diagnostic(a.loc, "x[mask] is 1-D: reduce it without axis=") }
            let t = boolean ? DType.bool : l.dtype
            let base = boolean ? try lazy(try arith(.ne, .array(l), .scalar(.symbol(.zero), weak: true), loc: a.loc), loc: a.loc) : l
            let identity = Value.scalar(reductionIdentity(op, op == .add || op == .mul ? base.dtype : t), weak: false)
            if !boolean && (op == .max || op == .min) {
                // NumPy raises for an empty selection: count it where it runs.
                guard case .scalar(let count, _) = try reduce(.add, .array(mask), axes: nil, keepdims: false, loc: a.loc) else {
                    throw Diagnostic(a.loc, "internal: count of a mask")
                }
                runtimeValueError(.binary(.le, count, .literal(.int(0), count.dtype), .bool), kind: .emptyReduction, loc: a.loc)
            }
            x = try select(.array(mask), .array(base), identity, loc: a.loc)
            return try reduce(op, x, axes: nil, keepdims: false, loc: a.loc)
        }
        if boolean {
            // any/all: reduce the truth values with max/min.
            let l = try lazy(x, loc: a.loc)
            x = .array(l.dtype == .bool ? l : Lazy(node: .binary(.ne, l, Lazy(node: .scalar(cast(.symbol(.zero), l.dtype)), shape: [], dtype: l.dtype)), shape: l.shape, dtype: .bool))
        }
        if case .scalar = x, axes == nil { return x }
        if !boolean && (op == .max || op == .min) { try checkNotEmpty(op, x, axes: axes, loc: a.loc) }
        return try reduce(op, x, axes: axes, keepdims: keepdims, loc: a.loc)
    }

    /// max/min have no identity: NumPy raises ValueError when the reduced axes hold no element.
    func checkNotEmpty(_ op: WCR, _ x: Value, axes: [Int]?, loc: SourceLocation) throws {
        guard case .array(let l) = x else { return }
        let reduced = try normalizedAxes(axes, rank: l.shape.count, loc: loc)
        try failIfEmpty(reducedCount(l.shape, reduced),
                        message: "zero-size array to reduction operation \(op == .max ? "maximum" : "minimum") which has no identity", loc: loc)
    }

    /// A tuple of integer constants (axes).
    func intList(_ v: Value, loc: SourceLocation) throws -> [Int] {
        switch v {
        case .scalar(.symbol(.int(let k)), _): return [k]
        case .tuple(let vs): return try vs.flatMap { try intList($0, loc: loc) }
        default: throw Diagnostic(loc, "expected integer constants")
        }
    }

    func shapeArgument(_ v: Value, loc: SourceLocation) throws -> [SymExpr] {
        switch v {
        case .scalar(.symbol(let s), _): return [s]
        case .scalar(let x, _) where x.dtype.isInteger: return [symbolicValue(x, loc: loc)]
        case .tuple(let vs): return try vs.flatMap { try shapeArgument($0, loc: loc) }
        default: throw Diagnostic(loc, "a shape must be an integer or a tuple of integers")
        }
    }

    func create(_ fill: FillKind, like: Bool, _ a: CallArgs) throws -> Value {
        try a.check(maxPositional: fill == .value ? 3 : 2, allowed: ["dtype", "shape", "fill_value", "order"])
        var shape: [SymExpr]
        var dtype = DType.float64
        if like {
            let proto = try lazy(try a.require(0, "a"), loc: a.loc)
            shape = proto.shape
            dtype = proto.dtype
        } else {
            shape = try shapeArgument(try a.require(0, "shape"), loc: a.loc)
        }
        var fillValue: ScalarExpr? = nil
        if fill == .value {
            guard case .scalar(let x, _) = try a.require(1, "fill_value") else {
                throw Diagnostic(a.loc, "fill_value must be a scalar")
            }
            fillValue = x
            if !like {
                // NumPy: full's dtype defaults to the fill value's.
                dtype = x.dtype == .int64 || x.dtype.isInexact || x.dtype.isBool ? x.dtype : dtype
            }
        }
        if let d = a.get(fill == .value ? 2 : 1, "dtype") {
            guard case .dtype(let t) = d else { throw Diagnostic(a.loc, "dtype must be a type such as np.float32") }
            dtype = t
        }
        let view = try newArray(fill == .none ? "empty" : "arr", dtype, shape, loc: a.loc)
        markWritten(view.container)
        let value: ScalarExpr?
        switch fill {
        case .none: value = nil
        case .zero: value = cast(.symbol(.zero), dtype)
        case .one: value = cast(.symbol(.one), dtype)
        case .value:
            try checkPythonIntFits(try a.require(1, "fill_value"), dtype, loc: a.loc)
            value = cast(fillValue!, dtype)
        }
        if let value {
            try emitMap(shape, loc: a.loc) { idx in emitTasklet(view.memlet(at: idx), value, loc: a.loc) }
        }
        return .array(Lazy(node: .view(view), shape: view.shape, dtype: dtype))
    }
}
