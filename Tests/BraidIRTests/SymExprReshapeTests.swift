import Testing
@testable import BraidIR

/// Flat offsets of reshaped views: `k*(q // d)*d + k*(q % d)` collapses to `k*q`,
/// and nothing else that merely looks like it does.
@Suite struct SymExprReshapeTests {
    let i = SymExpr.sym("i"), j = SymExpr.sym("j"), l = SymExpr.sym("l")
    let n = SymExpr.sym("N"), m = SymExpr.sym("M"), p = SymExpr.sym("P"), r = SymExpr.sym("R")
    let q = SymExpr.sym("q"), d = SymExpr.sym("d"), e = SymExpr.sym("e"), k = SymExpr.sym("k")

    func div(_ a: SymExpr, _ b: SymExpr) -> SymExpr { .floorDivide(a, b) }
    func mod(_ a: SymExpr, _ b: SymExpr) -> SymExpr { .modulo(a, b) }

    func hasDivMod(_ x: SymExpr) -> Bool {
        switch x {
        case .int, .sym: return false
        case .floorDiv, .mod: return true
        case .add(let ts), .mul(let ts): return ts.contains(where: hasDivMod)
        case .min(let a, let b), .max(let a, let b): return hasDivMod(a) || hasDivMod(b)
        }
    }

    /// Values of every sign, zero divisors skipped (no access there).
    let values = Array(-7...7)
    let divisors = [-4, -3, -2, -1, 1, 2, 3, 5]

    @Test func twoDimensionalOffsetIsTheLinearIndex() {
        // a.reshape(-1) of an (R, M) array, read at lin = i*M + j of some other view.
        let lin = i * m + j
        let offset = div(lin, m) * m + mod(lin, m)
        #expect(offset == lin)
        #expect(!hasDivMod(offset))
        // Terms in the other order, and through substitution of a placeholder.
        #expect(mod(lin, m) + m * div(lin, m) == lin)
        let view = div(l, m) * m + mod(l, m)
        #expect(view == l)
        let viaPlaceholder = div(.sym("_p"), m) * m + mod(.sym("_p"), m)
        #expect(viaPlaceholder.substituting(["_p": lin]) == lin)
    }

    @Test func nestedDivisionsCollapseLevelByLevel() {
        // Old (R, M, P) indices of a linear index as successive divisions:
        // i2 = lin % P, i1 = (lin // P) % M, i0 = (lin // P) // M.
        let lin = i * p + j
        let q1 = div(lin, p)
        let offset = div(q1, m) * (m * p) + mod(q1, m) * p + mod(lin, p)
        #expect(offset == lin)
        // Four dimensions (R, N, M, P).
        let q2 = div(q1, m)
        let four = div(q2, n) * (n * m * p) + mod(q2, n) * (m * p) + mod(q1, m) * p + mod(lin, p)
        #expect(four == lin)
    }

    @Test func singleDivisionByTheStrideNeedsPositiveSizes() {
        // The form lin // (M*P) for the outer index equals (lin // P) // M only when M > 0,
        // so with no range facts the offset must keep its divisions.
        let offset = div(l, m * p) * (m * p) + mod(div(l, p), m) * p + mod(l, p)
        #expect(offset != l)
        #expect(hasDivMod(offset))
        #expect(offset.evaluate(["l": 1, "M": -1, "P": 2]) != 1)
    }

    @Test func coefficientsDivisorsAndDividends() {
        #expect(k * div(q, d) * d + k * mod(q, d) == k * q)
        #expect(3 * div(q, d) * d + 3 * mod(q, d) == 3 * q)
        #expect(div(q, .int(4)) * .int(4) + mod(q, .int(4)) == q)
        #expect(div(q, .int(-3)) * .int(-3) + mod(q, .int(-3)) == q)
        #expect(div(q, 2 * d) * (2 * d) + mod(q, 2 * d) == q)
        #expect(div(q, m * n) * m * n + mod(q, m * n) == q)
        #expect(div(q, n + 1) * (n + 1) + mod(q, n + 1) == q)
        // The collapsed pair leaves the other terms alone, dividend a sum or not.
        #expect(div(q, d) * d + mod(q, d) + n - 2 == q + n - 2)
        #expect(k * div(i + 1, d) * d + k * mod(i + 1, d) == k * (i + 1))
        #expect(div(i + 1, d) * d + mod(i + 1, d) == i + 1)
    }

    @Test func doesNotFireWhereTheIdentityDoesNotHold() {
        let cases: [SymExpr] = [
            div(q, d) * e + mod(q, d),             // multiplier is not the divisor
            div(q, d) * d + mod(j, d),             // different dividends
            div(q, d) * d + mod(q, e),             // different divisors
            2 * div(q, d) * d + mod(q, d),         // coefficient mismatch
            div(q, d) * d + 2 * mod(q, d),
            k * div(q, d) * d + mod(q, d),         // symbolic coefficient on one side only
            div(q, d) * d - mod(q, d),
            div(q, .int(4)) * .int(2) + mod(q, .int(4)),
            div(q, d) + mod(q, d),
        ]
        for x in cases {
            #expect(hasDivMod(x), "\(x)")
        }
        #expect((div(q, d) * e + mod(q, d)).description == "e*(q // d) + q % d")
    }

    @Test func collapsedAndUncollapsedFormsAgreeWithPythonEverywhere() {
        // Each expression against the same value computed directly with Python's // and %.
        for qv in values {
            for dv in divisors {
                for kv in [-2, 0, 1, 3] {
                    for ev in [-2, 1, 4] {
                        let env = ["q": qv, "d": dv, "k": kv, "e": ev]
                        let fd = pyFloorDiv(qv, dv), md = pyMod(qv, dv)
                        #expect((k * div(q, d) * d + k * mod(q, d)).evaluate(env) == kv * qv)
                        #expect((div(q, d) * e + mod(q, d)).evaluate(env) == fd * ev + md)
                        #expect((2 * div(q, d) * d + mod(q, d)).evaluate(env) == 2 * fd * dv + md)
                        #expect((k * div(q, d) * d + mod(q, d)).evaluate(env) == kv * fd * dv + md)
                    }
                }
            }
        }
        // The nested reshape offset against the old indices computed directly.
        let inner = div(i * p + j, p)
        let offset = div(inner, m) * (m * p) + mod(inner, m) * p + mod(i * p + j, p)
        for iv in values {
            for jv in values {
                for mv in divisors {
                    for pv in divisors {
                        let lin = iv * pv + jv
                        let q1 = pyFloorDiv(lin, pv)
                        let want = pyFloorDiv(q1, mv) * mv * pv + pyMod(q1, mv) * pv + pyMod(lin, pv)
                        #expect(offset.evaluate(["i": iv, "j": jv, "M": mv, "P": pv]) == want)
                        #expect(want == lin)
                    }
                }
            }
        }
    }
}

@Suite struct NegativeWrapRenderingTests {
    private func c(_ e: SymExpr) -> String {
        e.render(symbol: { $0 }, floorDiv: "fd(", mod: "md(", min: "mn", max: "mx", negative: { "((\($0)) < 0)" })
    }

    /// The wrap of a negative index, min(1, max(-e, 0)), is 1 exactly when e < 0: rendered as
    /// that comparison (also for e = k + 1); other mins of maxes keep their form.
    @Test func wrapOfANegativeIndexIsAComparison() {
        let k = SymExpr.sym("k"), n = SymExpr.sym("n")
        let wrap = SymExpr.minimum(.one, .maximum(.zero - k, .zero))
        #expect(c(k + wrap * n) == "k + ((k) < 0)*n" || c(k + wrap * n) == "((k) < 0)*n + k")
        #expect(c(SymExpr.minimum(.one, .maximum(.zero - (k + 1), .zero))) == "((k + 1) < 0)")
        #expect(c(SymExpr.minimum(.int(2), .maximum(.zero - k, .zero))).hasPrefix("mn("))
        #expect(c(SymExpr.minimum(.one, .maximum(.zero - k, .one))).hasPrefix("mn("))
        // Without the hook (the IR printer) nothing changes.
        #expect(wrap.render(symbol: { $0 }, floorDiv: "//", mod: "%", min: "min", max: "max").hasPrefix("min("))
        // Exhaustively equal to the definition over small integers.
        for v in -5...5 {
            #expect(wrap.evaluate(["k": v]) == (v < 0 ? 1 : 0))
        }
    }
}
