import Testing
import BraidIR
@testable import BraidPasses

@Suite struct VersionBoundsChecksTests {
    /// The inner loop of a CSR product: its checks of `val[k]` move before the loop, and the
    /// copy that runs when they hold reads `val[k]` without the negative-index wrap.
    @Test func innerLoopChecksAreHoistedAndWrapsDropped() throws {
        var p = try program("""
        R = br.symbol("R")

        @br.program
        def f(rowptr: br.int64[R], val: br.float64[M], y: br.float64[N]):
            for i in range(N):
                s = 0.0
                for k in range(rowptr[i], rowptr[i + 1]):
                    s += val[k]
                y[i] = s
        """)
        let (changed, ir, remarks) = try applyExplained(VersionBoundsChecks(), &p)
        #expect(changed)
        #expect(ir.contains("if and(and(and(and(and(and(ge(_n1, -M), ge(_n1, 0)), lt(_n2 - 1, M)), "))
        // Bounds within ±2^61, so the hoisted sums cannot overflow int64.
        #expect(ir.contains("lt(_n1, 2305843009213693952)), gt(_n1, -2305843009213693952)), lt(_n2, 2305843009213693952)), gt(_n2, -2305843009213693952)):"))
        #expect(ir.components(separatedBy: "for k in _n1:_n2:").count == 3)
        // Fast copy first: no check, no wrap; the original (else) keeps both.
        let fast = try #require(ir.range(of: "else:")).lowerBound
        #expect(ir[..<fast].contains("s = add(s, val[k])"))
        #expect(ir[fast...].contains("fail index_out_of_bounds"))
        #expect(ir[fast...].contains("val[k + M*min(1, max(-k, 0))]") || ir[fast...].contains("val[M*min(1, max(-k, 0)) + k]"))
        // The outer loop's own checks stay: only the innermost versioned level is copied.
        #expect(ir.contains("if ge(i, R):"))
        #expect(remarks.contains { $0.message.contains("loop over k versioned: 1 bounds check(s) hoisted") })
    }

    /// Without its checks, a loop that only accumulates becomes a parallel reduction.
    @Test func versionedLoopCanBecomeAMap() throws {
        var p = try program("""
        @br.program
        def f(a: br.float64[N, M]):
            t = 0.0
            for i in range(N):
                t += a[i, i]
            return t
        """)
        _ = try applyExplained(VersionBoundsChecks(), &p)
        let (_, ir, _) = try applyExplained(LoopToMap(), &p)
        #expect(ir.contains("if and(and(lt(N - 1, M), lt(N, 2305843009213693952)), gt(N, -2305843009213693952)):"))
        #expect(ir.contains("map[sequential] i in 0:N"))
    }

    /// A stride-2 index, a check under a branch (not run in every iteration) and a limit the
    /// loop itself changes are left alone.
    @Test func checksThatCannotBeBoundedBeforeTheLoopStay() throws {
        var strided = try program("""
        @br.program
        def f(x: br.float64[M], n: br.int64):
            for k in range(n):
                x[2 * k] = 1.0
        """)
        #expect(try !applyExplained(VersionBoundsChecks(), &strided).0)
        #expect(IRPrinter.print(strided).contains("fail index_out_of_bounds"))
        var guarded = try program("""
        @br.program
        def f(x: br.float64[M], n: br.int64):
            for k in range(n):
                if k % 3 == 0:
                    x[k] = 1.0
        """)
        #expect(try !applyExplained(VersionBoundsChecks(), &guarded).0)
        #expect(IRPrinter.print(guarded).contains("fail index_out_of_bounds"))
        var moving = try program("""
        @br.program
        def f(x: br.float64[M], n: br.int64):
            j = 0
            for k in range(n):
                x[j] = 1.0
                j = j + 1
        """)
        #expect(try !applyExplained(VersionBoundsChecks(), &moving).0)
        #expect(IRPrinter.print(moving).contains("fail index_out_of_bounds"))
    }
}
