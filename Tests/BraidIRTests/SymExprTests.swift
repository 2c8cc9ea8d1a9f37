import Testing
@testable import BraidIR

@Suite struct SymExprTests {
    let n = SymExpr.sym("N"), m = SymExpr.sym("M"), i = SymExpr.sym("i")

    @Test func equalValuesCompareEqual() {
        #expect(n + m == m + n)
        #expect((n + 1) - 1 == n)
        #expect(2 * n - n == n)
        let twice = 2 * (n + m)
        #expect(twice == n + n + 2 * m)
        #expect((n - n) == .zero)
        #expect((n + 3) - (n + 1) == .int(2))
    }

    @Test func printsPythonLike() {
        #expect((n - 2).description == "N - 2")
        #expect((2 * n + m).description == "M + 2*N")
        #expect(SymExpr.floorDivide(n, .int(2)).description == "N // 2")
        #expect((-n).description == "-N")
    }

    @Test func foldsConstants() {
        #expect(SymExpr.floorDivide(.int(-7), .int(2)) == .int(-4))
        #expect(SymExpr.modulo(.int(-7), .int(3)) == .int(2))
        #expect(SymExpr.floorDivide(4 * n + .int(8), .int(4)) == n + 2)
        #expect(SymExpr.minimum(n + 1, n) == n)
        #expect(SymExpr.maximum(n + 1, n) == n + 1)
        #expect(SymExpr.minimum(n, m) == SymExpr.minimum(m, n))
    }

    @Test func evaluatesWithPythonSemantics() {
        let e = SymExpr.floorDivide(n - 10, .int(3))
        #expect(e.evaluate(["N": 1]) == -3)
        #expect(SymExpr.modulo(n, .int(4)).evaluate(["N": -1]) == 3)
        #expect((n * m + 1).evaluate(["N": 3, "M": 4]) == 13)
        #expect(n.evaluate([:]) == nil)
    }

    @Test func linearDecomposition() {
        let e = 3 * i + n - 1
        let lin = e.linear(in: "i")
        #expect(lin?.coefficient == 3)
        #expect(lin?.rest == n - 1)
        #expect((i * n).linear(in: "i") == nil)
        #expect(n.linear(in: "i")?.coefficient == 0)
    }

    @Test func substitution() {
        let e = 2 * (i + 1)
        #expect(e.substituting(["i": n - 1]) == 2 * n)
        #expect(e.freeSymbols == ["i"])
    }
}
