import BraidIR

/// Python's `math` module on scalars (`import math`, `from math import sqrt, pi`): results
/// are Python floats (weak float64 scalars, NumPy 2), `floor`/`ceil`/`trunc` Python ints, and,
/// as Python, a domain or range error (math.sqrt(-1.0), math.log(0.0), math.exp(1000.0))
/// raises ValueError instead of giving NaN or infinity. Arrays are a compile-time error
/// pointing to the NumPy function.
extension FunctionLowerer {
    static let mathConstants: [String: Double] = [
        "pi": Double.pi, "e": 2.718281828459045, "tau": 2 * Double.pi, "inf": Double.infinity, "nan": Double.nan,
    ]

    static let mathUnary: [String: Intrinsic] = [
        "sqrt": .sqrt, "exp": .exp, "log10": .log10, "log2": .log2, "log1p": .log1p, "expm1": .expm1,
        "sin": .sin, "cos": .cos, "tan": .tan, "asin": .arcsin, "acos": .arccos, "atan": .arctan,
        "sinh": .sinh, "cosh": .cosh, "tanh": .tanh, "asinh": .arcsinh, "acosh": .arccosh, "atanh": .arctanh,
        "fabs": .abs, "cbrt": .cbrt, "exp2": .exp2,
    ]

    static let mathBinary: [String: Intrinsic] = [
        "atan2": .arctan2, "pow": .power, "copysign": .copysign, "fmod": .fmod,
    ]

    /// `math.<name>` read as a value: a constant, or the function (resolved when called).
    func mathAttribute(_ name: String) -> Value {
        if let c = Self.mathConstants[name] { return .scalar(.literal(.float(c), .float64), weak: true) }
        return .module("math.\(name)")
    }

    func mathCall(_ name: String, _ a: CallArgs) throws -> Value {
        let numpyName: [String: String] = ["asin": "arcsin", "acos": "arccos", "atan": "arctan", "asinh": "arcsinh",
                                           "acosh": "arccosh", "atanh": "arctanh", "atan2": "arctan2", "pow": "power"]
        try a.check(maxPositional: name == "hypot" ? Int.max : 2, allowed: [])
        var xs: [ScalarExpr] = []
        for v in a.positional {
            switch v {
            case .scalar(let x, _) where !x.dtype.isComplex: xs.append(x)
            case .scalar: throw Diagnostic(a.loc, "math.\(name) takes real numbers (Python raises TypeError); use cmath-style NumPy functions such as np.\(numpyName[name] ?? name)")
            default: throw Diagnostic(a.loc, "math.\(name) takes numbers, not a \(v.kindName); for arrays use np.\(numpyName[name] ?? name)")
            }
        }
        let f8 = DType.float64
        func arity(_ n: Int) throws {
            guard xs.count == n else { throw Diagnostic(a.loc, "math.\(name)() takes \(n) argument\(n == 1 ? "" : "s")") }
        }
        let floats = xs.map { cast($0, f8) }
        let result: ScalarExpr
        switch name {
        case "floor", "ceil", "trunc":
            try arity(1)
            // Python ints: integers are returned as they are; floats must be finite.
            if xs[0].dtype.isInteger || xs[0].dtype.isBool { return .scalar(cast(xs[0], .int64), weak: true) }
            let f: Intrinsic = name == "floor" ? .floor : name == "ceil" ? .ceil : .trunc
            try failUnless(.binary(.lt, .call(.abs, [floats[0]], f8), .literal(.float(.infinity), f8), .bool), loc: a.loc)
            return try scalarResult(.cast(.call(f, [floats[0]], f8), .int64), .int64, loc: a.loc)
        case "isnan":
            try arity(1)
            return .scalar(.binary(.ne, floats[0], floats[0], .bool), weak: true)
        case "isinf":
            try arity(1)
            return .scalar(.binary(.eq, .call(.abs, [floats[0]], f8), .literal(.float(.infinity), f8), .bool), weak: true)
        case "isfinite":
            try arity(1)
            return .scalar(.binary(.lt, .call(.abs, [floats[0]], f8), .literal(.float(.infinity), f8), .bool), weak: true)
        case "degrees", "radians":
            try arity(1)
            let k = name == "degrees" ? 180 / Double.pi : Double.pi / 180
            return .scalar(.binary(.mul, floats[0], .literal(.float(k), f8), f8), weak: true)
        case "log":
            guard (1...2).contains(xs.count) else { throw Diagnostic(a.loc, "math.log() takes 1 or 2 arguments") }
            let ln = ScalarExpr.call(.log, [floats[0]], f8)
            result = xs.count == 1 ? ln : .binary(.div, ln, .call(.log, [floats[1]], f8), f8)
        case "hypot":
            guard !floats.isEmpty else { return .scalar(.literal(.float(0), f8), weak: true) }
            result = floats.dropFirst().reduce(.call(.abs, [floats[0]], f8)) { ScalarExpr.call(.hypot, [$0, $1], f8) }
        default:
            if let f = Self.mathUnary[name] {
                try arity(1)
                result = .call(f, floats, f8)
            } else if let f = Self.mathBinary[name] {
                try arity(2)
                result = .call(f, floats, f8)
            } else {
                throw Diagnostic(a.loc, "math.\(name) is not supported; see the NumPy functions in `braid features`")
            }
        }
        // Python raises where the C function leaves the finite numbers (domain and range errors).
        let r = try scalarResult(result, f8, loc: a.loc)
        guard case .scalar(let value, _) = r else { return r }
        var finiteInputs: ScalarExpr = .literal(.bool(true), .bool)
        for x in floats {
            finiteInputs = .binary(.and, finiteInputs, .binary(.lt, .call(.abs, [x], f8), .literal(.float(.infinity), f8), .bool), .bool)
        }
        let finiteResult = ScalarExpr.binary(.lt, .call(.abs, [value], f8), .literal(.float(.infinity), f8), .bool)
        try failUnless(.binary(.or, .unary(.not, finiteInputs, .bool), finiteResult, .bool), loc: a.loc)
        return r
    }

    /// A Python-number result held in a new scalar (so checks can read it once).
    func scalarResult(_ e: ScalarExpr, _ t: DType, loc: SourceLocation) throws -> Value {
        let name = newScalar("math", t)
        emitTasklet(.point(name, []), e, loc: loc)
        return .scalar(.load(.point(name, []), t), weak: true)
    }

    /// Raises ValueError where `condition` does not hold.
    func failUnless(_ condition: ScalarExpr, loc: SourceLocation) throws {
        emit(.branch(Branch(condition: .unary(.not, condition, .bool), then: [.fail(.invalidValue, loc)], orElse: [], loc: loc)))
    }
}
