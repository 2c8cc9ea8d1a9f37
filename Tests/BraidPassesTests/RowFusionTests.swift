import Testing
import BraidIR
@testable import BraidPasses

/// Maps over N x M fused with maps over N (row reductions and the elementwise work that uses
/// them), and the dependence test that lets the fused rows run in parallel.
@Suite struct RowFusionTests {
    static let softmax = """
    @br.program
    def f(x: br.float64[N, M], out: br.float64[N, M]):
        m = np.max(x, axis=1, keepdims=True)
        e = np.exp(x - m)
        out[:] = e / np.sum(e, axis=1, keepdims=True)
    """

    @Test func rowReductionsFuseWithTheElementwiseMapsOverTheirRows() throws {
        var p = try program(Self.softmax)
        let (changed, ir, remarks) = try applyExplained(MapFusion(), &p)
        #expect(changed)
        // One map over the rows; each row is reduced, exponentiated, summed and divided in turn.
        let topMaps = p.body.filter { if case .map = $0 { return true } else { return false } }
        #expect(topMaps.count == 1)
        guard case .map(let rows)? = topMaps.first else { return }
        #expect(rows.params.count == 1)
        #expect(remarks.filter { $0.kind == .fused && $0.message.contains("over their common outer loops") }.count == 2)
        // The row maximum and the row sum became scalars of each row (read inside the inner maps).
        #expect(remarks.contains { $0.message.contains("intermediate array 'red' is a scalar") })
        #expect(ir.contains("exp(sub(x["))
        // Rows are independent: the fused map runs in parallel, its reductions in SIMD lanes.
        let (_, after, _) = try applyExplained(ScheduleMaps(schedule: .cpuParallel), &p)
        #expect(after.contains("map[cpu_parallel] \(rows.params[0]) in 0:N"))
    }

    @Test func rowsReadInAnotherOrderDoNotFuse() throws {
        // Row i of the elementwise map reads the sum of row N - 1 - i: not yet computed there.
        var p = try program("""
        @br.program
        def f(x: br.float64[N, M], y: br.float64[N, M]):
            s = np.sum(x, axis=1)
            y[:] = x * s[::-1, np.newaxis]
        """)
        let (_, _, remarks) = try applyExplained(MapFusion(), &p)
        #expect(!remarks.contains { $0.message.contains("over their common outer loops") })
        let topMaps = p.body.filter { if case .map = $0 { return true } else { return false } }
        #expect(topMaps.count == 2)
    }

    @Test func mapsTwoDimensionsApartDoNotFuse() throws {
        var p = try program("""
        @br.program
        def f(x: br.float64[N, M, M], y: br.float64[N, M, M]):
            s = np.sum(x, axis=(1, 2))
            y[:] = x / s[:, np.newaxis, np.newaxis]
        """)
        let (_, _, remarks) = try applyExplained(MapFusion(), &p)
        #expect(!remarks.contains { $0.message.contains("over their common outer loops") })
    }

    @Test func rowWrittenThenReadInAnotherOrderIsParallel() throws {
        var p = try program("""
        @br.program
        def f(x: br.float64[M], B: br.float64[N, M], y: br.float64[N, M]):
            for i in range(N):
                for j in range(M):
                    B[i, j] = x[j] * 2.0
                for j in range(M):
                    y[i, j] = B[i, M - 1 - j]
        """)
        let (changed, ir, _) = try applyExplained(LoopToMap(), &p)
        #expect(changed)
        #expect(ir.contains("map[sequential] i in 0:N"))
        let (_, after, _) = try applyExplained(ScheduleMaps(schedule: .cpuParallel), &p)
        #expect(after.contains("map[cpu_parallel] i in 0:N"))
    }

    @Test func readOfAnotherRowKeepsTheLoopSequential() throws {
        var p = try program("""
        @br.program
        def f(x: br.float64[M], B: br.float64[N, M]):
            for i in range(1, N):
                for j in range(M):
                    B[i, j] = x[j] * 2.0
                for j in range(M):
                    B[i, j] = B[i, j] + B[0, j]
        """)
        let (_, ir, remarks) = try applyExplained(LoopToMap(), &p)
        #expect(ir.contains("for i in 1:N:"))
        #expect(remarks.contains { $0.kind == .sequential && $0.message.contains("B[0, j") })
    }
}

extension RowFusionTests {
    /// `s[i] = 2 * x[i, 0]` over rows, then a map over N x M whose iterations all write z[0]:
    /// their common rows could fuse element-wise, but the fused rows would not be independent
    /// (the deeper map would become one small parallel loop per row), so they stay apart.
    @Test func rowsThatCannotRunInParallelDoNotFuse() throws {
        let N = SymExpr.sym("N"), M = SymExpr.sym("M"), i = SymExpr.sym("i"), j = SymExpr.sym("j")
        let here = SourceLocation(file: "rows.py", line: 3, column: 5)
        func load(_ d: String, _ idx: [SymExpr]) -> ScalarExpr { .load(.point(d, idx.map { .sym($0) }), .float64) }
        let a = MapScope(params: ["i"], ranges: [SymRange(.zero, N)], schedule: .sequential, body: [
            .tasklet(Tasklet(output: .point("s", [.sym(i)]), value: .binary(.mul, .literal(.float(2), .float64), load("x", [i, .zero]), .float64), loc: here)),
        ], loc: here)
        let b = MapScope(params: ["i", "j"], ranges: [SymRange(.zero, N), SymRange(.zero, M)], schedule: .sequential, body: [
            .tasklet(Tasklet(output: .point("z", [.sym(.zero)]), value: .binary(.mul, load("s", [i]), load("x", [i, j]), .float64), loc: here)),
        ], loc: here)
        var p = Program(
            name: "rows", params: ["x", "s", "z"], defaults: [:], symbols: ["N", "M"],
            containers: [
                Container(name: "x", dtype: .float64, shape: [N, M], role: .argument(index: 0), storage: .hostHeap),
                Container(name: "s", dtype: .float64, shape: [N], role: .argument(index: 1), storage: .hostHeap, isWritten: true),
                Container(name: "z", dtype: .float64, shape: [.one], role: .argument(index: 2), storage: .hostHeap, isWritten: true),
            ],
            results: [], shapeAssertions: [], body: [.map(a), .map(b)], loc: here)
        // The element-wise part of the test alone would fuse them.
        #expect(MapFusion.fuseSameSpace(MapFusion.nest(a, outer: 1)!, MapFusion.nest(b, outer: 1)!, p) != nil)
        let (changed, _, _) = try applyExplained(MapFusion(), &p)
        #expect(!changed)
        #expect(p.body.count == 2)
    }
}
