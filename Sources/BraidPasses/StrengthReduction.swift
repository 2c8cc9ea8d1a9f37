import BraidIR

/// Replaces powers with constant exponents by the multiplications NumPy itself performs,
/// which are also much cheaper than `pow`/`cpow`:
/// - real `x ** 2` is `x * x` (NumPy's `square` fast path, exactly rounded both ways);
/// - complex `z ** n` for an integer `n` with 1 ≤ |n| < 100 is binary exponentiation by
///   complex multiplication, and `1 / that` for negative `n` (NumPy's `npy_cpow` does the same).
/// Other exponents keep `pow`, so results stay bit-identical to NumPy's where they were.
public struct StrengthReduction: Pass {
    public let name = "strength-reduction"
    public init() {}

    public func run(_ program: inout Program, remarks: inout [Remark]) throws -> Bool {
        var changed = false
        func visit(_ nodes: [Node]) -> [Node] {
            nodes.map { n in
                switch n {
                case .tasklet(var t):
                    let v = Self.simplify(t.value)
                    if v != t.value {
                        t.value = v
                        changed = true
                        remarks.append(Remark(t.loc, pass: name, .simplified, "power with a constant integer exponent computed by multiplication"))
                    }
                    return .tasklet(t)
                default: return withChildBlocks(n, visit)
                }
            }
        }
        program.body = visit(program.body)
        return changed
    }

    /// The integer value of a constant exponent, looking through casts.
    static func integerExponent(_ e: ScalarExpr) -> Int? {
        switch e {
        case .literal(.int(let v), _): return v
        case .literal(.float(let v), _): return v == v.rounded() && abs(v) < 1e6 ? Int(v) : nil
        case .literal(.complex(let re, let im), _): return im == 0 && re == re.rounded() && abs(re) < 1e6 ? Int(re) : nil
        case .symbol(let s): return s.constant
        case .cast(let inner, _): return integerExponent(inner)
        default: return nil
        }
    }

    static func simplify(_ e: ScalarExpr) -> ScalarExpr {
        switch e {
        case .literal, .symbol, .load: return e
        case .unary(let op, let a, let t): return .unary(op, simplify(a), t)
        case .binary(let op, let a, let b, let t):
            let (x, y) = (simplify(a), simplify(b))
            if op == .pow, let r = power(x, y, t) { return r }
            return .binary(op, x, y, t)
        case .call(let f, let args, let t):
            let xs = args.map(simplify)
            if f == .power, xs.count == 2, let r = power(xs[0], xs[1], t) { return r }
            return .call(f, xs, t)
        case .select(let c, let a, let b, let t): return .select(simplify(c), simplify(a), simplify(b), t)
        case .cast(let a, let t): return .cast(simplify(a), t)
        }
    }

    /// `x ** y` by multiplication when that is what NumPy computes, else `nil`.
    static func power(_ x: ScalarExpr, _ y: ScalarExpr, _ t: DType) -> ScalarExpr? {
        guard x.dtype == t, let n = integerExponent(y) else { return nil }
        // The operand is repeated in the tree (the C compiler evaluates it once); bound the
        // tree's growth when it is more than a load.
        var simple = false
        switch x {
        case .load, .symbol, .literal: simple = true
        default: break
        }
        if t.isComplex {
            guard n != 0, abs(n) < (simple ? 100 : 5) else { return nil }
            let positive = binaryPower(x, abs(n), t)
            return n > 0 ? positive : .binary(.div, .literal(.complex(1, 0), t), positive, t)
        }
        if t == .float32 || t == .float64, n == 2 { return .binary(.mul, x, x, t) }
        return nil
    }

    /// `x ** n` (n ≥ 1) by squaring, in the order NumPy's `npy_cpow` multiplies.
    static func binaryPower(_ x: ScalarExpr, _ n: Int, _ t: DType) -> ScalarExpr {
        if n == 1 { return x }
        if n == 2 { return .binary(.mul, x, x, t) }
        if n == 3 { return .binary(.mul, .binary(.mul, x, x, t), x, t) }
        // r = x at the lowest set bit, then square `a` and multiply it in at each set bit.
        var mask = 1
        var a = x
        while n & mask == 0 { a = .binary(.mul, a, a, t); mask <<= 1 }
        var r = a
        mask <<= 1
        while mask <= n {
            a = .binary(.mul, a, a, t)
            if n & mask != 0 { r = .binary(.mul, r, a, t) }
            mask <<= 1
        }
        return r
    }
}
