import Testing
import BraidIR
@testable import BraidPasses

/// Runs a pass with its remarks, verifies, and returns (changed, IR text, remarks).
func applyExplained(_ pass: any Pass, _ p: inout Program) throws -> (Bool, String, [Remark]) {
    var remarks: [Remark] = []
    let changed = try pass.run(&p, remarks: &remarks)
    try Verifier.verify(p)
    return (changed, IRPrinter.print(p), remarks)
}

@Suite struct LoopToMapTests {
    @Test func independentRowLoopBecomesMap() throws {
        var p = try program("""
        @br.program
        def f(A: br.float64[N, M], y: br.float64[N]):
            for i in range(N):
                s = 0.0
                for j in range(M):
                    s += A[i, j] * A[i, j]
                y[i] = np.sqrt(s)
        """)
        let (changed, ir, remarks) = try applyExplained(LoopToMap(), &p)
        #expect(changed)
        #expect(ir.contains("map[sequential] i in 0:N locals(s):"))
        // The inner loop accumulates into `s`: a reduction map inside the row map.
        #expect(ir.contains("s = (wcr add) mul(A[i, j], A[i, j])"))
        #expect(remarks.contains { $0.kind == .parallel && $0.message.contains("private per iteration: s") })
        // ScheduleMaps runs the outer map in parallel; the inner reduction runs in SIMD lanes.
        let (_, after, _) = try applyExplained(ScheduleMaps(schedule: .cpuParallel), &p)
        #expect(after.contains("map[cpu_parallel] i in 0:N locals(s):"))
        #expect(after.contains("map[simd] j in 0:M reduce(s: add):"))
    }

    @Test func recurrenceStaysLoopWithTheDependenceNamed() throws {
        var p = try program("""
        @br.program
        def f(x: br.float64[N]):
            for i in range(1, N):
                x[i] = x[i - 1] * 0.5 + x[i]
        """)
        let (changed, ir, remarks) = try applyExplained(LoopToMap(), &p)
        #expect(!changed)
        #expect(ir.contains("for i in 1:N:"))
        let why = try #require(remarks.first { $0.kind == .sequential })
        #expect(why.message.contains("x[i - 1]"))
        #expect(why.loc.line == 6)
    }

    @Test func scalarSumBecomesReduction() throws {
        var p = try program("""
        @br.program
        def f(x: br.float64[N]):
            s = 0.0
            for i in range(N):
                s = s + x[i] * x[i]
            return s
        """)
        let (changed, ir, _) = try applyExplained(LoopToMap(), &p)
        #expect(changed)
        #expect(ir.contains("(wcr add) mul(x[i], x[i])"))
        let (_, after, _) = try applyExplained(ScheduleMaps(schedule: .cpuParallel), &p)
        #expect(after.contains("map[cpu_parallel] i in 0:N reduce("))
    }

    @Test func scalarReadBeforeWriteStaysSequential() throws {
        var p = try program("""
        @br.program
        def f(x: br.float64[N], y: br.float64[N]):
            t = 0.0
            for i in range(N):
                y[i] = t
                t = x[i]
        """)
        let (changed, _, remarks) = try applyExplained(LoopToMap(), &p)
        #expect(!changed)
        #expect(remarks.contains { $0.message.contains("'t'") })
    }

    @Test func privateScalarUsedAfterLoopStaysSequential() throws {
        var p = try program("""
        @br.program
        def f(x: br.float64[N], y: br.float64[N]):
            t = 0.0
            for i in range(N):
                t = x[i] * 2.0
                y[i] = t
            return t
        """)
        let (changed, _, _) = try applyExplained(LoopToMap(), &p)
        #expect(!changed)
    }

    @Test func loopWithBreakStaysSequential() throws {
        var p = try program("""
        @br.program
        def f(x: br.float64[N]):
            for i in range(N):
                if x[i] < 0.0:
                    break
                x[i] = 1.0
        """)
        let (changed, _, remarks) = try applyExplained(LoopToMap(), &p)
        #expect(!changed)
        #expect(remarks.contains { $0.message.contains("break") })
    }

    @Test func indirectWriteStaysSequential() throws {
        var p = try program("""
        @br.program
        def f(idx: br.int64[N], x: br.float64[M]):
            for i in range(N):
                x[idx[i]] += 1.0
        """)
        let (changed, _, _) = try applyExplained(LoopToMap(), &p)
        #expect(!changed)
    }

    @Test func timeLoopStaysButInnerSweepBecomesMap() throws {
        var p = try program("""
        @br.program
        def f(A: br.float64[N], B: br.float64[N], T: br.int64):
            for t in range(T):
                for i in range(1, N - 1):
                    B[i] = (A[i - 1] + A[i] + A[i + 1]) / 3.0
                for i in range(1, N - 1):
                    A[i] = B[i]
        """)
        let (changed, ir, _) = try applyExplained(LoopToMap(), &p)
        #expect(changed)
        #expect(ir.contains("for t in 0:T:"))
        #expect(ir.contains("map[sequential] i in 1:N - 1:"))
    }
}

@Suite struct MapFusionTests {
    @Test func maskedChainFusesAndTemporariesBecomeScalars() throws {
        var p = try program("""
        @br.program
        def f(Z: br.complex128[N, M], C: br.complex128[N, M], K: br.int64[N, M], n: br.int64):
            I = np.abs(Z) < 2.0
            K[I] = n
            Z[I] = Z[I] ** 2 + C[I]
        """)
        let before = IRPrinter.print(p).components(separatedBy: "map[").count - 1
        let (changed, ir, remarks) = try applyExplained(MapFusion(), &p)
        #expect(changed)
        #expect(before >= 3)
        #expect(ir.components(separatedBy: "map[").count - 1 == 1)
        #expect(remarks.contains { $0.kind == .fused && $0.message.contains("intermediate array") })
        // No array transient is left: the mask and the right-hand side are per-iteration scalars.
        #expect(!p.containers.contains { $0.isTransient && !$0.isScalar })
    }

    @Test func sizesCheckedEqualAtCallTimeFuse() throws {
        // Export signatures give every array its own size symbols; `K[I]` makes the module
        // check K's shape against I's when called, so the two loop nests have equal ranges.
        var p = try program("""
        #pythran export f(float64[:], int64[:], int64)
        def f(Z, K, n):
            I = np.abs(Z) < 2.0
            K[I] = n
        """)
        let (changed, ir, _) = try applyExplained(MapFusion(), &p)
        #expect(changed)
        #expect(ir.components(separatedBy: "map[").count - 1 == 1)
    }

    @Test func shiftedReadBlocksFusion() throws {
        var p = try program("""
        @br.program
        def f(A: br.float64[N], B: br.float64[N], C: br.float64[N]):
            B[:] = A * 2.0
            C[1:] = B[:-1] + 1.0
        """)
        let (changed, ir, _) = try applyExplained(MapFusion(), &p)
        #expect(!changed)
        #expect(ir.components(separatedBy: "map[").count - 1 == 2)
    }

    @Test func differentRangesDoNotFuse() throws {
        var p = try program("""
        @br.program
        def f(A: br.float64[N], B: br.float64[M]):
            A[:] = 1.0
            B[:] = 2.0
        """)
        let (changed, _, _) = try applyExplained(MapFusion(), &p)
        #expect(!changed)
    }

    @Test func temporaryUsedLaterStaysAnArray() throws {
        var p = try program("""
        @br.program
        def f(A: br.float64[N], B: br.float64[N]):
            T = A * 2.0
            B[:] = T + 1.0
            return T[::-1]
        """)
        let (changed, _, _) = try applyExplained(MapFusion(), &p)
        // The first two loops fuse, but the reversed read keeps T an array.
        #expect(changed)
        #expect(p.containers.contains { $0.name == "T" && !$0.isScalar })
    }

    @Test func temporaryFusedIntoTheReductionBecomesScalar() throws {
        var p = try program("""
        @br.program
        def f(A: br.float64[N], B: br.float64[N]):
            T = A * 2.0
            B[:] = T + 1.0
            return np.sum(T)
        """)
        _ = try applyExplained(MapFusion(), &p)
        #expect(p.containers.contains { $0.name == "T" && $0.isScalar })
    }

    @Test func elementwiseMapFusesWithTheReductionReadingIt() throws {
        var p = try program("""
        @br.program
        def f(A: br.float64[N], B: br.float64[N]):
            B[:] = A * 2.0
            return np.sum(B)
        """)
        let (changed, ir, _) = try applyExplained(MapFusion(), &p)
        #expect(changed)
        #expect(ir.components(separatedBy: "map[").count - 1 == 1)
        #expect(ir.contains("B[_i1] = "))
        let (_, after, _) = try applyExplained(ScheduleMaps(schedule: .cpuParallel), &p)
        #expect(after.contains("reduce(_red"))
    }
}

@Suite struct StrengthReductionTests {
    @Test func complexSquareBecomesMultiplication() throws {
        var p = try program("""
        @br.program
        def f(Z: br.complex128[N], C: br.complex128[N]):
            Z[:] = Z ** 2 + C
        """)
        let (changed, ir, remarks) = try applyExplained(StrengthReduction(), &p)
        #expect(changed)
        #expect(!ir.contains("pow("))
        #expect(ir.contains("mul(Z[_i1], Z[_i1])"))
        #expect(remarks.count == 1)
    }

    @Test func complexPowerFollowsNumPysSquaringOrder() {
        let x = ScalarExpr.load(.point("z", []), .complex128)
        // 5 = 0b101: r = z, a = z*z, a = a*a, r = r*a.
        let e = StrengthReduction.binaryPower(x, 5, .complex128)
        let sq = ScalarExpr.binary(.mul, x, x, .complex128)
        #expect(e == .binary(.mul, x, .binary(.mul, sq, sq, .complex128), .complex128))
        let neg = StrengthReduction.power(x, .literal(.int(-2), .int64), .complex128)
        #expect(neg == .binary(.div, .literal(.complex(1, 0), .complex128), sq, .complex128))
    }

    @Test func nonIntegerAndRealCubesKeepPow() throws {
        var p = try program("""
        @br.program
        def f(A: br.float64[N], Z: br.complex128[N]):
            A[:] = A ** 3 + A ** 2.5
            Z[:] = Z ** 0.5
        """)
        let (_, ir, _) = try applyExplained(StrengthReduction(), &p)
        #expect(ir.components(separatedBy: "pow(").count - 1 == 3)
    }
}
