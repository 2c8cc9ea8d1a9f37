/// A canonical symbolic integer expression: sizes, loop bounds and array subsets.
///
/// Built only through the smart constructors (`+`, `-`, `*`, `floorDivide`, `modulo`,
/// `minimum`, `maximum`), which keep a canonical form so that equal values compare equal:
/// sums are flat linear combinations with sorted terms and one trailing constant,
/// products are flat with the constant coefficient first. Simplification is
/// deliberately bounded (no distribution of sums over sums, no general algebra).
public indirect enum SymExpr: Hashable, Sendable, CustomStringConvertible {
    case int(Int)
    case sym(String)
    /// Flat sum; at most one constant term, always last; non-constant terms sorted.
    case add([SymExpr])
    /// Flat product; at most one constant factor, always first; other factors sorted.
    case mul([SymExpr])
    /// Python floor division `a // b`.
    case floorDiv(SymExpr, SymExpr)
    /// Python modulo `a % b` (sign of the divisor).
    case mod(SymExpr, SymExpr)
    case min(SymExpr, SymExpr)
    case max(SymExpr, SymExpr)

    public static let zero = SymExpr.int(0)
    public static let one = SymExpr.int(1)

    /// The constant value, if the expression is a constant.
    public var constant: Int? {
        if case .int(let v) = self { return v }
        return nil
    }

    /// Symbols the expression mentions, sorted.
    public var freeSymbols: [String] {
        var out = Set<String>()
        collectSymbols(into: &out)
        return out.sorted()
    }

    private func collectSymbols(into out: inout Set<String>) {
        switch self {
        case .int: break
        case .sym(let s): out.insert(s)
        case .add(let ts), .mul(let ts): for t in ts { t.collectSymbols(into: &out) }
        case .floorDiv(let a, let b), .mod(let a, let b), .min(let a, let b), .max(let a, let b):
            a.collectSymbols(into: &out)
            b.collectSymbols(into: &out)
        }
    }

    // MARK: Linear decomposition

    /// Splits into (coefficient, monomial) where monomial has no constant factor.
    fileprivate var coefficientAndMonomial: (Int, SymExpr) {
        switch self {
        case .int(let v): return (v, .int(1))
        case .mul(let fs):
            if case .int(let c) = fs[0] {
                let rest = Array(fs.dropFirst())
                return (c, rest.count == 1 ? rest[0] : .mul(rest))
            }
            return (1, self)
        default: return (1, self)
        }
    }

    fileprivate var terms: [SymExpr] {
        if case .add(let ts) = self { return ts }
        return [self]
    }

    fileprivate var factors: [SymExpr] {
        if case .mul(let fs) = self { return fs }
        return [self]
    }

    fileprivate static func makeSum(_ parts: [SymExpr]) -> SymExpr {
        var coeffs: [SymExpr: Int] = [:]
        var order: [SymExpr] = []
        var constant = 0
        for p in parts.flatMap({ $0.terms }) {
            let (c, m) = p.coefficientAndMonomial
            if m == .int(1) {
                constant &+= c
                continue
            }
            if coeffs[m] == nil { order.append(m) }
            coeffs[m, default: 0] &+= c
        }
        if let merged = collapseDivMod(coeffs, order) {
            return makeSum(merged + [.int(constant)])
        }
        var out: [SymExpr] = []
        for m in order.sorted(by: { $0.description < $1.description }) {
            let c = coeffs[m]!
            if c == 0 { continue }
            out.append(c == 1 ? m : makeProduct([.int(c), m]))
        }
        if constant != 0 || out.isEmpty { out.append(.int(constant)) }
        return out.count == 1 ? out[0] : .add(out)
    }

    /// Finds one pair of terms `c*d*k*(q // d) + c*k*(q % d)` among the sum's
    /// (monomial, coefficient) pairs and returns the sum's terms with that pair
    /// replaced by `c*k*q`, or `nil` when no pair matches.
    ///
    /// Sound for every integer `q` and every `d != 0`: Python's `//` and `%` satisfy
    /// `(q // d)*d + q % d == q` (floor division with the remainder taking the
    /// divisor's sign), and multiplying both sides by `c*k` keeps the equality. With
    /// `d == 0` neither side's division is defined, so nothing is lost. `k` is any
    /// product of other factors; `d` may be a constant, a symbol, a product or a sum.
    /// Coefficients must match exactly; nothing is collapsed partially.
    fileprivate static func collapseDivMod(_ coeffs: [SymExpr: Int], _ order: [SymExpr]) -> [SymExpr]? {
        let sortedTerms = order.sorted(by: { $0.description < $1.description }).filter { coeffs[$0] != 0 }
        for m in sortedTerms {
            let c = coeffs[m]!
            let fs = m.factors
            for (idx, f) in fs.enumerated() {
                guard case .mod(let q, let d) = f else { continue }
                var rest = fs
                rest.remove(at: idx)
                let (dc, dm) = d.coefficientAndMonomial
                guard dc != 0 else { continue }
                let dFactors = dm == .one ? [] : dm.factors
                let partner = makeProduct([.floorDiv(q, d)] + rest + dFactors)
                guard partner != m, let pc = coeffs[partner] else { continue }
                let (want, overflow) = c.multipliedReportingOverflow(by: dc)
                guard !overflow, pc == want else { continue }
                var out: [SymExpr] = []
                for t in sortedTerms where t != m && t != partner {
                    out.append(makeProduct([.int(coeffs[t]!), t]))
                }
                out.append(makeProduct([.int(c), q] + rest))
                return out
            }
        }
        return nil
    }

    fileprivate static func makeProduct(_ parts: [SymExpr]) -> SymExpr {
        var constant = 1
        var rest: [SymExpr] = []
        for p in parts.flatMap({ $0.factors }) {
            if case .int(let v) = p { constant &*= v } else { rest.append(p) }
        }
        if constant == 0 { return .int(0) }
        if rest.isEmpty { return .int(constant) }
        // Distribute a constant over a single sum: 2*(a+b) -> 2a+2b.
        if rest.count == 1, case .add(let ts) = rest[0] {
            return makeSum(ts.map { makeProduct([.int(constant), $0]) })
        }
        rest.sort { $0.description < $1.description }
        if constant == 1 { return rest.count == 1 ? rest[0] : .mul(rest) }
        return .mul([.int(constant)] + rest)
    }

    // MARK: Smart constructors

    public static func + (a: SymExpr, b: SymExpr) -> SymExpr { makeSum([a, b]) }
    public static func - (a: SymExpr, b: SymExpr) -> SymExpr { makeSum([a, makeProduct([.int(-1), b])]) }
    public static prefix func - (a: SymExpr) -> SymExpr { makeProduct([.int(-1), a]) }
    public static func * (a: SymExpr, b: SymExpr) -> SymExpr { makeProduct([a, b]) }
    public static func + (a: SymExpr, b: Int) -> SymExpr { a + .int(b) }
    public static func - (a: SymExpr, b: Int) -> SymExpr { a - .int(b) }
    public static func * (a: Int, b: SymExpr) -> SymExpr { .int(a) * b }

    /// Python `a // b`.
    public static func floorDivide(_ a: SymExpr, _ b: SymExpr) -> SymExpr {
        if let x = a.constant, let y = b.constant, y != 0 { return .int(pyFloorDiv(x, y)) }
        if b == .one { return a }
        if let y = b.constant, y > 0 {
            // (k*y*t + ...) // y when every term is a multiple of y.
            let ts = a.terms
            if ts.allSatisfy({ $0.coefficientAndMonomial.0 % y == 0 }) {
                return makeSum(ts.map { t in
                    let (c, m) = t.coefficientAndMonomial
                    return makeProduct([.int(c / y), m])
                })
            }
        }
        return .floorDiv(a, b)
    }

    /// Python `a % b`.
    public static func modulo(_ a: SymExpr, _ b: SymExpr) -> SymExpr {
        if let x = a.constant, let y = b.constant, y != 0 { return .int(pyMod(x, y)) }
        if b == .one { return .zero }
        return .mod(a, b)
    }

    public static func minimum(_ a: SymExpr, _ b: SymExpr) -> SymExpr {
        if a == b { return a }
        if let d = (a - b).constant { return d <= 0 ? a : b }
        return a.description <= b.description ? .min(a, b) : .min(b, a)
    }

    public static func maximum(_ a: SymExpr, _ b: SymExpr) -> SymExpr {
        if a == b { return a }
        if let d = (a - b).constant { return d >= 0 ? a : b }
        return a.description <= b.description ? .max(a, b) : .max(b, a)
    }

    // MARK: Queries

    /// Replaces symbols by expressions and re-canonicalizes.
    public func substituting(_ map: [String: SymExpr]) -> SymExpr {
        switch self {
        case .int: return self
        case .sym(let s): return map[s] ?? self
        case .add(let ts): return SymExpr.makeSum(ts.map { $0.substituting(map) })
        case .mul(let fs): return SymExpr.makeProduct(fs.map { $0.substituting(map) })
        case .floorDiv(let a, let b): return .floorDivide(a.substituting(map), b.substituting(map))
        case .mod(let a, let b): return .modulo(a.substituting(map), b.substituting(map))
        case .min(let a, let b): return .minimum(a.substituting(map), b.substituting(map))
        case .max(let a, let b): return .maximum(a.substituting(map), b.substituting(map))
        }
    }

    /// Evaluates with the given symbol values; `nil` if a symbol is unbound or a division by zero occurs.
    public func evaluate(_ env: [String: Int]) -> Int? {
        switch self {
        case .int(let v): return v
        case .sym(let s): return env[s]
        case .add(let ts):
            var acc = 0
            for t in ts { guard let v = t.evaluate(env) else { return nil }; acc &+= v }
            return acc
        case .mul(let fs):
            var acc = 1
            for f in fs { guard let v = f.evaluate(env) else { return nil }; acc &*= v }
            return acc
        case .floorDiv(let a, let b):
            guard let x = a.evaluate(env), let y = b.evaluate(env), y != 0 else { return nil }
            return pyFloorDiv(x, y)
        case .mod(let a, let b):
            guard let x = a.evaluate(env), let y = b.evaluate(env), y != 0 else { return nil }
            return pyMod(x, y)
        case .min(let a, let b):
            guard let x = a.evaluate(env), let y = b.evaluate(env) else { return nil }
            return Swift.min(x, y)
        case .max(let a, let b):
            guard let x = a.evaluate(env), let y = b.evaluate(env) else { return nil }
            return Swift.max(x, y)
        }
    }

    /// If the expression is `coefficient * symbol + rest` with `rest` free of `symbol`,
    /// returns (coefficient, rest). Used by dependence analysis and shape binding.
    public func linear(in symbol: String) -> (coefficient: Int, rest: SymExpr)? {
        var coefficient = 0
        var rest: [SymExpr] = []
        for t in terms {
            let (c, m) = t.coefficientAndMonomial
            if m == .sym(symbol) {
                coefficient += c
            } else if m.freeSymbols.contains(symbol) {
                return nil
            } else {
                rest.append(t)
            }
        }
        return (coefficient, SymExpr.makeSum(rest))
    }

    /// Python-like rendering, used in IR dumps and diagnostics.
    public var description: String { render(symbol: { $0 }, floorDiv: "//", mod: "%", min: "min", max: "max") }

    /// Renders the expression with caller-chosen spellings (C backends pass their own).
    /// `e` when this is `min(1, max(-e, 0))`: 1 when e < 0, else 0, the term by which the
    /// frontend wraps a negative index `e` (`x[e + n * that]`).
    public var negativeWrapOperand: SymExpr? {
        guard case .min(let a, let b) = self else { return nil }
        for (one, m) in [(a, b), (b, a)] where one == .one {
            guard case .max(let p, let q) = m else { continue }
            if q == .zero { return SymExpr.zero - p }
            if p == .zero { return SymExpr.zero - q }
        }
        return nil
    }

    /// `negative`, when given, spells a negative-index wrap (`negativeWrapOperand`) as a
    /// comparison of its index, e.g. `((e) < 0)` in C, instead of a min of a max.
    public func render(symbol: (String) -> String, floorDiv: String, mod: String,
                       min: String, max: String, negative: ((String) -> String)? = nil) -> String {
        func r(_ e: SymExpr, _ parent: Int) -> String {
            // precedence: 1 sum, 2 product, 3 atom
            switch e {
            case .int(let v): return v < 0 && parent > 1 ? "(\(v))" : "\(v)"
            case .sym(let s): return symbol(s)
            case .add(let ts):
                var s = r(ts[0], 1)
                for t in ts.dropFirst() {
                    let (c, m) = t.coefficientAndMonomial
                    if c < 0 {
                        let pos = SymExpr.makeProduct([.int(-c), m])
                        s += " - " + r(pos, 2)
                    } else {
                        s += " + " + r(t, 1)
                    }
                }
                return parent > 1 ? "(\(s))" : s
            case .mul(let fs):
                if fs.count == 2, fs[0] == .int(-1) { return "-" + r(fs[1], 3) }
                let s = fs.map { r($0, 2) }.joined(separator: "*")
                return parent > 2 ? "(\(s))" : s
            case .floorDiv(let a, let b):
                if floorDiv.hasSuffix("(") { return "\(floorDiv)\(r(a, 0)), \(r(b, 0)))" }
                let s = "\(r(a, 2)) \(floorDiv) \(r(b, 3))"
                return parent > 1 ? "(\(s))" : s
            case .mod(let a, let b):
                if mod.hasSuffix("(") { return "\(mod)\(r(a, 0)), \(r(b, 0)))" }
                let s = "\(r(a, 2)) \(mod) \(r(b, 3))"
                return parent > 1 ? "(\(s))" : s
            case .min(let a, let b):
                if let negative, let x = e.negativeWrapOperand { return negative(r(x, 0)) }
                return "\(min)(\(r(a, 0)), \(r(b, 0)))"
            case .max(let a, let b): return "\(max)(\(r(a, 0)), \(r(b, 0)))"
            }
        }
        return r(self, 0)
    }
}

@inline(__always) public func pyFloorDiv(_ a: Int, _ b: Int) -> Int {
    let q = a / b
    return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q
}

@inline(__always) public func pyMod(_ a: Int, _ b: Int) -> Int {
    let r = a % b
    return (r != 0 && ((r < 0) != (b < 0))) ? r + b : r
}
