import Testing
import BraidIR
import BraidFrontend
@testable import BraidPasses

let prelude = """
import numpy as np
import braid as br
N, M = br.symbol("N"), br.symbol("M")

"""

func program(_ source: String) throws -> Program {
    try Frontend.lower(source: prelude + source, file: "p.py", moduleName: "p").programs[0]
}

/// Runs a pass, verifies the result, and returns (changed, IR text).
func apply(_ pass: any Pass, _ p: inout Program) throws -> (Bool, String) {
    let changed = try pass.run(&p)
    try Verifier.verify(p)
    return (changed, IRPrinter.print(p))
}

@Suite struct ScheduleMapsTests {
    @Test func elementwiseMapBecomesParallel() throws {
        var p = try program("""
        @br.program
        def f(A: br.float64[N, M], B: br.float64[N, M]):
            B[:] = A * 2.0
        """)
        let (changed, ir) = try apply(ScheduleMaps(schedule: .cpuParallel), &p)
        #expect(changed)
        #expect(ir.contains("map[cpu_parallel] _i1 in 0:N, _i2 in 0:M:"))
    }

    @Test func wholeArrayReductionGetsReductionClause() throws {
        var p = try program("""
        @br.program
        def f(A: br.float64[N]):
            return np.sum(A)
        """)
        let (_, ir) = try apply(ScheduleMaps(schedule: .cpuParallel), &p)
        #expect(ir.contains("map[cpu_parallel] _i2 in 0:N reduce(_red1: add):"))
    }

    @Test func explicitMapWithLoopCarriedScalarStaysSequential() throws {
        var p = try program("""
        @br.program
        def f(A: br.float64[N]):
            s = 0.0
            for i in br.map[0:N]:
                s = s * 0.5 + A[i]
                A[i] = s
        """)
        let (changed, ir) = try apply(ScheduleMaps(schedule: .cpuParallel), &p)
        #expect(!changed)
        #expect(ir.contains("map[sequential] i in 0:N:"))
    }

    @Test func explicitMapReadingNeighbourItWritesStaysSequential() throws {
        var p = try program("""
        @br.program
        def f(A: br.float64[N]):
            for i in br.map[1:N]:
                A[i] = A[i - 1] + 1.0
        """)
        let (changed, _) = try apply(ScheduleMaps(schedule: .cpuParallel), &p)
        #expect(!changed)
    }

    @Test func nestedMapsStaySequentialInsideParallelOne() throws {
        var p = try program("""
        @br.program
        def f(A: br.float64[N, M], r: br.float64[N]):
            r[:] = np.sum(A, axis=1)
        """)
        let (_, ir) = try apply(ScheduleMaps(schedule: .cpuParallel), &p)
        #expect(ir.contains("map[cpu_parallel]"))
        #expect(ir.contains("for _k"))
    }
}

@Suite struct ExpandLibraryNodesTests {
    let source = """
    @br.program
    def f(A: br.float64[N, M], x: br.float64[M], y: br.float64[N]):
        y[:] = A @ x
    """

    @Test func floatMatvecStaysBLASOnCPU() throws {
        var p = try program(source)
        let (changed, ir) = try apply(ExpandLibraryNodes(keepBLAS: true), &p)
        #expect(!changed)
        #expect(ir.contains("matmul("))
    }

    @Test func everythingExpandsWithoutBLAS() throws {
        var p = try program(source)
        let (changed, ir) = try apply(ExpandLibraryNodes(keepBLAS: false), &p)
        #expect(changed)
        #expect(!ir.contains("matmul("))
        #expect(ir.contains("_mm_acc0 = (wcr add) mul(A[_mm_i0_0, _mm_k0], x[_mm_k0])"))
    }

    @Test func integerMatmulExpandsEvenWithBLAS() throws {
        var p = try program("""
        @br.program
        def g(A: br.int32[N, M], B: br.int32[M, N]):
            return A @ B
        """)
        let (changed, ir) = try apply(ExpandLibraryNodes(keepBLAS: true), &p)
        #expect(changed)
        #expect(!ir.contains("matmul("))
    }

    @Test func columnViewIsNotBLASCompatibleAsMatrix() throws {
        var p = try program("""
        @br.program
        def h(A: br.float64[N, M], B: br.float64[M, M]):
            return A[:, 0:2] @ B[0:2, 0:2]
        """)
        // Both operands have unit stride along their last dimension: BLAS applies.
        let (changed, _) = try apply(ExpandLibraryNodes(keepBLAS: true), &p)
        #expect(!changed)
    }
}
