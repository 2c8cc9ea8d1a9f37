import Testing
import BraidIR
@testable import BraidPasses

/// Arrays updated only by `a[X] = a[X] + e` (a histogram's bins) become reductions on the CPU
/// target; scalars assigned on every path before they are read are private to an iteration even
/// when assigned inside a branch.
@Suite struct ArrayReductionTests {
    /// loop-to-map (with array reductions), speculate-checks and schedule-maps.
    func scheduled(_ source: String, arrayReductions: Bool = true) throws -> (ir: String, remarks: [Remark]) {
        var p = try program(source)
        var remarks: [Remark] = []
        for pass in [LoopToMap(arrayReductions: arrayReductions), SpeculateChecks(), ScheduleMaps(schedule: .cpuParallel)] as [any Pass] {
            _ = try pass.run(&p, remarks: &remarks)
            try Verifier.verify(p)
        }
        return (IRPrinter.print(p), remarks)
    }

    static let histogram = """
    @br.program
    def f(w: br.float64[N], bins: br.int64[N], hist: br.float64[M]):
        for i in range(N):
            b = bins[i]
            hist[b] += w[i]
    """

    @Test func scatterAddBecomesAnArrayReduction() throws {
        let (ir, remarks) = try scheduled(Self.histogram)
        #expect(ir.contains("map[cpu_parallel] i in 0:N locals(b) fail-ends-iteration reduce(_failed1: max, hist: add):"))
        #expect(ir.contains("hist[M*min(1, max(-b, 0)) + b] = (wcr add) w[i]"))
        #expect(remarks.contains { $0.message.contains("with reduction max:_failed1, add:hist") })
    }

    @Test func addAtIsAnArrayReductionOnTheCPUOnly() throws {
        let source = """
        @br.program
        def f(w: br.float64[N], idx: br.int64[N], hist: br.float64[M]):
            np.add.at(hist, idx, w)
        """
        // The frontend checks the indices in a map of their own, then adds in a loop.
        var cpu = try program(source)
        _ = try LoopToMap(arrayReductions: true).run(&cpu)
        let (_, ir, _) = try applyExplained(ScheduleMaps(schedule: .cpuParallel), &cpu)
        #expect(ir.contains("map[cpu_parallel] _k2 in 0:N reduce(hist: add):"))
        #expect(ir.contains("] = (wcr add) w[_k2]"))
        // Other targets keep the loop.
        var device = try program(source)
        _ = try LoopToMap().run(&device)
        let (_, kernel, _) = try applyExplained(ScheduleMaps(schedule: .deviceKernel), &device)
        #expect(kernel.contains("for _k2 in 0:N:"))
        #expect(!kernel.contains("reduce(hist: add)"))
    }

    @Test func anArrayAlsoReadOrAssignedIsNotAReduction() throws {
        // The running value is read by the same loop: not a reduction.
        let (read, _) = try scheduled("""
        @br.program
        def f(w: br.float64[N], bins: br.int64[N], hist: br.float64[M], out: br.float64[N]):
            for i in range(N):
                b = bins[i]
                hist[b] += w[i]
                out[i] = hist[b]
        """)
        #expect(!read.contains("hist: add"))
        // A plain assignment next to the update: iterations would race on it.
        let (assigned, _) = try scheduled("""
        @br.program
        def f(w: br.float64[N], bins: br.int64[N], hist: br.float64[M]):
            for i in range(N):
                b = bins[i]
                hist[b] += w[i]
                hist[0] = 1.0
        """)
        #expect(!assigned.contains("hist: add"))
        // Only sums are combined across threads for arrays.
        let (product, _) = try scheduled("""
        @br.program
        def f(w: br.float64[N], bins: br.int64[N], hist: br.float64[M]):
            for i in range(N):
                b = bins[i]
                hist[b] *= w[i]
        """)
        #expect(!product.contains("reduce("))
        #expect(product.contains("for i in 0:N:"))
    }

    @Test func scalarAssignedInABranchBeforeItsReadsIsPrivate() throws {
        var p = try program("""
        @br.program
        def f(x: br.float64[N], y: br.float64[N]):
            for i in range(N):
                if x[i] > 0.0:
                    t = x[i] * 2.0
                    y[i] = t + 1.0
                else:
                    y[i] = 0.0
        """)
        let (changed, ir, _) = try applyExplained(LoopToMap(), &p)
        #expect(changed)
        #expect(ir.contains("locals(t)"))
    }

    @Test func scalarReadOnAPathThatDidNotAssignItStaysSequential() throws {
        // When x[i] <= 0, t keeps the previous iteration's value.
        var p = try program("""
        @br.program
        def f(x: br.float64[N], y: br.float64[N]):
            t = 0.0
            for i in range(N):
                if x[i] > 0.0:
                    t = x[i] * 2.0
                y[i] = t
        """)
        let (changed, _, remarks) = try applyExplained(LoopToMap(), &p)
        #expect(!changed)
        #expect(remarks.contains { $0.kind == .sequential && $0.message.contains("'t'") })
    }
}
