import Testing
import BraidIR
@testable import BraidPasses

/// The CPU passes up to the interchange, then the interchange: (changed, IR text, its remarks).
private func interchanged(_ source: String) throws -> (Bool, String, [Remark]) {
    var p = try program(source)
    return try interchanged(&p)
}

private func interchanged(_ p: inout Program) throws -> (Bool, String, [Remark]) {
    for pass in [LoopToMap(), ScheduleMaps(schedule: .cpuParallel)] as [any Pass] { _ = try pass.run(&p) }
    return try applyExplained(ReductionInterchange(tile: 4), &p)
}

/// Every map in a tree.
private func maps(_ nodes: [Node]) -> [MapScope] {
    nodes.flatMap { n -> [MapScope] in
        switch n {
        case .map(let m): return [m] + maps(m.body)
        case .forLoop(let f): return maps(f.body)
        case .branch(let b): return maps(b.then) + maps(b.orElse)
        case .whileLoop(let w): return maps(w.body)
        default: return []
        }
    }
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
        #expect(ir.contains("m_tile in 0:max(0, M // 4) locals(s_l0, s_l1, s_l2, s_l3)"))
        #expect(ir.contains("s_l0 = 0.0"))
        #expect(ir.contains("w[a, c, 4*m_tile + 3]"))
        #expect(ir.contains("y[n, h, 4*m_tile + 2] = "))
        // The reduction loops run sequentially, without reductions of their own.
        #expect(!ir.contains("reduce(s_l"))
        let tiled = try #require(ir.components(separatedBy: "m in 4*max(0, M // 4):M").first)
        #expect(tiled.contains("map[sequential] c in 0:C:"))
        #expect(!tiled.contains("map[simd]"))
        // The values of m that fill no tile run unchanged.
        #expect(ir.contains("m in 4*max(0, M // 4):M locals(s)"))
        #expect(remarks.contains { $0.kind == .simplified && $0.message.contains("m innermost") })
    }

    /// Nests the interchange must leave alone, and the reason its remark gives: a reduction
    /// range that depends on the moved dimension, and a reduction reading an array the
    /// iteration writes.
    @Test(arguments: [
        ("""
        @br.program
        def f(x: br.float64[N, M], w: br.float64[M, M], y: br.float64[N, M]):
            for n in range(N):
                for m in range(M):
                    s = 0.0
                    for k in range(m):
                        s += x[n, k] * w[k, m]
                    y[n, m] = s
        """, "depends on 'm'"),
        ("""
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
        """, "read 't', which the iteration writes"),
    ])
    func nestsItCannotReorderAreLeftAlone(source: String, reason: String) throws {
        let (changed, ir, remarks) = try interchanged(source)
        #expect(!changed)
        #expect(!ir.contains("_tile"))
        #expect(remarks.contains { $0.kind == .sequential && $0.message.contains(reason) })
    }

    @Test func tilesAndRemainderCoverTheRangeExactlyOnce() throws {
        var p = try program("""
        K = br.symbol("K")
        @br.program
        def f(x: br.float64[N, K], w: br.float64[K, M], y: br.float64[N, M]):
            for n in range(N):
                for m in range(3, M - 2):
                    s = 0.0
                    for k in range(K):
                        s += x[n, k] * w[k, m]
                    y[n, m] = s
        """)
        let (changed, _, _) = try interchanged(&p)
        #expect(changed)
        let all = maps(p.body)
        let tiled = try #require(all.first { $0.params.contains("m_tile") })
        let rest = try #require(all.first { $0.params.contains("m") })
        let t = tiled.ranges[tiled.params.firstIndex(of: "m_tile")!]
        let r = rest.ranges[rest.params.firstIndex(of: "m")!]
        // Every m of range(3, M - 2) once: 4 lanes per tile, then the rest, also for empty ranges.
        for size in 0...20 {
            let env = ["M": size]
            let tiles = max(0, t.end.evaluate(env)! - t.start.evaluate(env)!)
            let restStart = r.start.evaluate(env)!, restEnd = r.end.evaluate(env)!
            var covered = Array(0..<tiles).flatMap { tile in (0..<4).map { 3 + 4 * tile + $0 } }
            covered += restStart < restEnd ? Array(restStart..<restEnd) : []
            #expect(covered == (3 < size - 2 ? Array(3..<(size - 2)) : []), "M = \(size)")
        }
    }
}
