import BraidIR

/// NumPy's NaN-ignoring reductions, written as NumPy writes them: NaN replaced by the
/// operation's identity (`nansum`, `nanprod`), `fmax`/`fmin` reductions (`nanmax`, `nanmin`:
/// NaN where a slice holds only NaN), the mean and variance of the non-NaN elements, and
/// `nanargmax`/`nanargmin` (an all-NaN slice raises ValueError). Integer and boolean arrays
/// hold no NaN: these are then the plain reductions.
enum NanRegistry {
    static let functions: [String: NumPyFunction] = {
        var r: [String: NumPyFunction] = [:]
        for (name, op) in [("nansum", WCR.add), ("nanprod", .mul), ("nanmax", .max), ("nanmin", .min)] {
            r[name] = NumPyFunction(family: .reduction, summary: "\(name)(a, axis=None|int|tuple, keepdims=False)\(op == .max || op == .min ? ": NaN for an all-NaN slice" : "")") { l, a in
                try a.check(maxPositional: 2, allowed: ["axis", "keepdims"])
                return try l.nanReduction(op, a)
            }
        }
        for name in ["nanmean", "nanvar", "nanstd"] {
            r[name] = NumPyFunction(family: .reduction, summary: "\(name)(a, axis=None|int|tuple, keepdims=False\(name == "nanmean" ? "" : ", ddof=0")): of the non-NaN elements") { l, a in
                try a.check(maxPositional: 2, allowed: ["axis", "keepdims", "ddof"])
                return try l.nanMoment(String(name.dropFirst(3)), a)
            }
        }
        for (name, isMax) in [("nanargmax", true), ("nanargmin", false)] {
            r[name] = NumPyFunction(family: .reduction, summary: "\(name)(a, axis=None|int): an all-NaN slice raises ValueError") { l, a in
                try a.check(maxPositional: 2, allowed: ["axis"])
                let x = try l.lazy(try l.compactedValue(try a.require(0, "a"), loc: a.loc), loc: a.loc)
                let axis = try a.get(1, "axis").flatMap { l.isNone($0) ? nil : try l.intList($0, loc: a.loc).first }
                guard x.dtype.isFloat else { return try l.argExtreme(isMax, .array(x), axis: axis, loc: a.loc) }
                let nan = try l.arith(.ne, .array(x), .array(x), loc: a.loc)
                let allNaN = try l.reduce(.min, nan, axes: axis.map { [$0] }, keepdims: false, loc: a.loc)
                let anyAllNaN = try l.reduce(.max, allNaN, axes: nil, keepdims: false, loc: a.loc)
                guard case .scalar(let bad, _) = anyAllNaN else { throw Diagnostic(a.loc, "internal: nanarg") }
                l.runtimeValueError(bad, loc: a.loc)
                let fill = Value.scalar(.literal(.float(isMax ? -Double.infinity : .infinity), .float64), weak: true)
                let replaced = try l.select(nan, fill, .array(x), loc: a.loc)
                return try l.argExtreme(isMax, .array(try l.materializeNew(try l.lazy(replaced, loc: a.loc), hint: "nanarg", loc: a.loc)), axis: axis, loc: a.loc)
            }
        }
        return r
    }()
}

extension FunctionLowerer {
    func nanReduction(_ op: WCR, _ a: CallArgs) throws -> Value {
        let x = try lazy(try compactedValue(try a.require(0, "a"), loc: a.loc), loc: a.loc)
        let (axes, keepdims) = try reductionOptions(a)
        guard x.dtype.isInexact else {
            if op == .max || op == .min { try checkNotEmpty(op, .array(x), axes: axes, loc: a.loc) }
            return try reduce(op, .array(x), axes: axes, keepdims: keepdims, loc: a.loc)
        }
        if x.dtype.isComplex && (op == .max || op == .min) {
            throw Diagnostic(a.loc, "nanmax/nanmin of complex numbers is not supported")
        }
        let nan = try arith(.ne, .array(x), .array(x), loc: a.loc)
        switch op {
        case .add, .mul:
            let identity = Value.scalar(.symbol(op == .add ? .zero : .one), weak: true)
            return try reduce(op, try select(nan, identity, .array(x), loc: a.loc), axes: axes, keepdims: keepdims, loc: a.loc)
        default:
            try checkNotEmpty(op, .array(x), axes: axes, loc: a.loc)
            let fill = Value.scalar(.literal(.float(op == .max ? -Double.infinity : .infinity), .float64), weak: true)
            let m = try reduce(op, try select(nan, fill, .array(x), loc: a.loc), axes: axes, keepdims: keepdims, loc: a.loc)
            // All NaN: NaN (NumPy warns).
            let allNaN = try reduce(.min, nan, axes: axes, keepdims: keepdims, loc: a.loc)
            return try select(allNaN, .scalar(.literal(.float(.nan), .float64), weak: true), m, loc: a.loc)
        }
    }

    /// nanmean, nanvar, nanstd: the moments of the non-NaN elements (NaN where there are none,
    /// or too few for ddof).
    func nanMoment(_ kind: String, _ a: CallArgs) throws -> Value {
        let x = try lazy(try compactedValue(try a.require(0, "a"), loc: a.loc), loc: a.loc)
        var args = a
        args.positional = [.array(x)] + Array(a.positional.dropFirst())
        guard x.dtype.isInexact else {
            guard let f = NumPyRegistry.functions[kind] else { throw Diagnostic(a.loc, "internal: \(kind)") }
            return try f.lower(self, args)
        }
        if x.dtype.isComplex { throw Diagnostic(a.loc, "nan\(kind) of complex numbers is not supported") }
        let (axes, keepdims) = try reductionOptions(a)
        var ddof = 0
        if let d = a.keywords["ddof"] { ddof = try intList(d, loc: a.loc).first ?? 0 }
        let valid = try arith(.eq, .array(x), .array(x), loc: a.loc)
        let zero = Value.scalar(.symbol(.zero), weak: true)
        let t = x.dtype
        // Counts in the data's float type, as NumPy divides (tot / cnt into tot's dtype).
        func count(_ keep: Bool) throws -> Value {
            try castValue(try reduce(.add, try castValue(valid, .int64), axes: axes, keepdims: keep, loc: a.loc, resultType: .int64), t)
        }
        func total(_ v: Value, _ keep: Bool) throws -> Value {
            try reduce(.add, try select(valid, v, zero, loc: a.loc), axes: axes, keepdims: keep, loc: a.loc)
        }
        if kind == "mean" { return try arith(.div, try total(.array(x), keepdims), try count(keepdims), loc: a.loc) }
        let mean = try arith(.div, try total(.array(x), true), try count(true), loc: a.loc)
        let meanValue: Value
        if case .array(let m) = mean { meanValue = .array(try materializeNew(m, hint: "nanmean", loc: a.loc)) } else { meanValue = mean }
        let dev = try arith(.sub, .array(x), meanValue, loc: a.loc)
        let ss = try total(try arith(.mul, dev, dev, loc: a.loc), keepdims)
        let dof = try arith(.sub, try count(keepdims), .scalar(.symbol(.int(ddof)), weak: true), loc: a.loc)
        // NumPy: NaN where the degrees of freedom are not positive.
        let variance = try select(try arith(.le, dof, zero, loc: a.loc), .scalar(.literal(.float(.nan), .float64), weak: true),
                                  try arith(.div, ss, dof, loc: a.loc), loc: a.loc)
        return kind == "var" ? variance : try intrinsic(.sqrt, [variance], loc: a.loc)
    }
}
