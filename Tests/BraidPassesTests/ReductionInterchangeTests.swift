import Testing
import BraidIR
@testable import BraidPasses

/// The CPU passes up to the interchange, then the interchange: (changed, IR text, its remarks).
private func interchanged(_ source: String) throws -> (Bool, String, [Remark]) {
    var p = try program(source)
    for pass in [LoopToMap(), ScheduleMaps(schedule: .cpuParallel)] as [any Pass] { _ = try pass.run(&p) }
    return try applyExplained(ReductionInterchange(tile: 4), &p)
}

@Suite struct ReductionInterchangeTests {
    @Test func convLikeNestRunsTheOutputDimensionInsideTheReduction() throws {
        let (changed, ir, remarks) = try interchanged("""
        H, C, K = br.symbol("H"), br.symbol("C"), br.symbol("K")
        @br.program
        def f(x: br.float32[N, H, K, C], w: br.float32[K, C, M], y: br.float32[N, H, M]):
            for n in range(N):
                for h in range(H):
                    for m in range(M):
                        s = 0.0
                        for a in range(K):
                            for c in range(C):
                                s += x[n, h, a, c] * w[a, c, m]
                        y[n, h, m] = s
        """)
        #expect(changed)
        // Full tiles of 4 lanes, each lane with its own accumulator, in the loops' order.
        #expect(ir.contains("m_tile in 0:M // 4 locals(s_l0, s_l1, s_l2, s_l3)"))
        #expect(ir.contains("s_l0 = 0.0"))
        #expect(ir.contains("w[a, c, 4*m_tile + 3]"))
        #expect(ir.contains("y[n, h, 4*m_tile + 2] = "))
        // The reduction loops run sequentially, without reductions of their own.
        #expect(!ir.contains("reduce(s_l"))
        let tiled = try #require(ir.components(separatedBy: "m in 4*(M // 4):M").first)
        #expect(tiled.contains("map[sequential] c in 0:C:"))
        #expect(!tiled.contains("map[simd]"))
        // The values of m that fill no tile run unchanged.
        #expect(ir.contains("m in 4*(M // 4):M locals(s)"))
        #expect(remarks.contains { $0.kind == .simplified && $0.message.contains("m innermost") })
    }

    @Test func reductionRangeDependingOnTheMovedDimensionIsLeftAlone() throws {
        let (changed, ir, remarks) = try interchanged("""
        @br.program
        def f(x: br.float64[N, M], w: br.float64[M, M], y: br.float64[N, M]):
            for n in range(N):
                for m in range(M):
                    s = 0.0
                    for k in range(m):
                        s += x[n, k] * w[k, m]
                    y[n, m] = s
        """)
        #expect(!changed)
        #expect(!ir.contains("_tile"))
        #expect(remarks.contains { $0.kind == .sequential && $0.message.contains("depends on 'm'") })
    }

    @Test func reductionReadingAnArrayTheIterationWritesIsLeftAlone() throws {
        let (changed, ir, remarks) = try interchanged("""
        K = br.symbol("K")
        @br.program
        def f(x: br.float64[N, M], w: br.float64[K, M], t: br.float64[N, M], y: br.float64[N, M]):
            for n in range(N):
                for m in range(M):
                    t[n, m] = x[n, m] * 2.0
                    s = 0.0
                    for k in range(K):
                        s += t[n, m] * w[k, m]
                    y[n, m] = s
        """)
        #expect(!changed)
        #expect(!ir.contains("_tile"))
        #expect(remarks.contains { $0.kind == .sequential && $0.message.contains("read 't', which the iteration writes") })
    }
}
