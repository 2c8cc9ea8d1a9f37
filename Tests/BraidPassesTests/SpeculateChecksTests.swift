import Testing
import BraidIR
@testable import BraidPasses

/// `speculate-checks`: loops that stay sequential only because an iteration can raise run as a
/// speculative map (failures end their iteration and are recorded), with what they write saved
/// first and the loop as written as the fallback; loops with any other obstacle are left alone.
@Suite struct SpeculateChecksTests {
    /// The CPU pipeline's passes up to and including this one.
    func speculated(_ source: String) throws -> (changed: Bool, ir: String, remarks: [Remark]) {
        var p = try program(source)
        _ = try ExpandLibraryNodes(keepBLAS: true).run(&p)
        _ = try VersionBoundsChecks().run(&p)
        _ = try LoopToMap().run(&p)
        return try applyExplained(SpeculateChecks(), &p)
    }

    @Test func sparseRowsRunAsASpeculativeMap() throws {
        let (changed, ir, remarks) = try speculated("""
        @br.program
        def f(n: br.int64, rowptr: br.int32[N], col: br.int32[M], val: br.float64[M], x: br.float64[N], y: br.float64[N]):
            for i in range(n):
                s = 0.0
                for k in range(rowptr[i], rowptr[i + 1]):
                    s += val[k] * x[col[k]]
                y[i] = s
        """)
        #expect(changed)
        #expect(ir.contains("map[sequential] i in 0:n"))
        #expect(ir.contains("fail-ends-iteration"))
        // Each check records its failure before it ends the iteration.
        #expect(ir.contains("_failed1 = (wcr max) 1"))
        // y is saved first and restored after a failure; the loop as written is the fallback.
        #expect(ir.contains("_saved_y1[_svy1_0] = y[_svy1_0]"))
        #expect(ir.contains("y[_svy1_0] = _saved_y1[_svy1_0]"))
        #expect(ir.contains("  if ne(_failed1, 0):  # line 6\n    for i in 0:n:  # line 6\n      s = 0.0"))
        // The copy is made only when y is not much larger than what the loop writes.
        #expect(ir.contains("if le(N, 2*n):"))
        #expect(remarks.contains { $0.kind == .parallel && $0.message.contains("y saved first") })
    }

    @Test func accumulatorIsAReductionAndSaved() throws {
        let (changed, ir, _) = try speculated("""
        @br.program
        def f(x: br.float64[N], idx: br.int64[M]):
            total = 0.0
            for i in range(M):
                total += x[idx[i]]
            return total
        """)
        #expect(changed)
        #expect(ir.contains("total = (wcr add)"))
        #expect(ir.contains("_saved_total1 = total"))
        #expect(ir.contains("total = _saved_total1"))
    }

    @Test func carriedDependenceStaysSequential() throws {
        let (changed, ir, _) = try speculated("""
        @br.program
        def f(x: br.float64[N], idx: br.int64[M], y: br.float64[M]):
            for i in range(1, M):
                y[i] = y[i - 1] + x[idx[i]]
        """)
        #expect(!changed)
        #expect(!ir.contains("fail-ends-iteration"))
    }

    @Test func scatterStaysSequential() throws {
        // Iterations write where the data says: they may collide, checks or not.
        let (changed, _, _) = try speculated("""
        @br.program
        def f(x: br.float64[M], idx: br.int64[M], y: br.float64[N]):
            for i in range(M):
                y[idx[i]] = x[i]
        """)
        #expect(!changed)
    }

    @Test func returnInsideTheLoopIsLeftAlone() throws {
        let (changed, _, _) = try speculated("""
        @br.program
        def f(x: br.float64[N], idx: br.int64[M], y: br.float64[M]):
            for i in range(M):
                if x[idx[i]] < 0.0:
                    return 1
                y[i] = x[idx[i]]
            return 0
        """)
        #expect(!changed)
    }

    @Test func loopWithoutChecksIsNotTouched() throws {
        // loop-to-map already made it a map; nothing is left for this pass.
        let (changed, _, _) = try speculated("""
        @br.program
        def f(x: br.float64[N], y: br.float64[N]):
            for i in range(N):
                y[i] = x[i] * 2.0
        """)
        #expect(!changed)
    }

    @Test func onlyAMapWhoseFailuresEndTheIterationMayHoldChecks() throws {
        var p = try program("""
        @br.program
        def f(x: br.float64[N], idx: br.int64[M], y: br.float64[M]):
            for i in range(M):
                y[i] = x[idx[i]]
        """)
        _ = try LoopToMap().run(&p)
        guard case .forLoop(let l)? = p.body.first(where: { if case .forLoop = $0 { return true } else { return false } }) else {
            Issue.record("expected the loop to stay a loop")
            return
        }
        // The index read from idx is a private scalar of each iteration.
        let privates = p.containers.filter { $0.isScalar && $0.role == .transient }.map(\.name)
        var m = MapScope(params: [l.variable], ranges: [l.range], schedule: .sequential, body: l.body, locals: privates, loc: l.loc)
        if case .success = ScheduleMaps.check(m, p) { Issue.record("a map whose iterations raise must not be parallel") }
        m.failsEndIteration = true
        if case .failure(let d) = ScheduleMaps.check(m, p) { Issue.record("speculative map refused: \(d.message)") }
    }
}
