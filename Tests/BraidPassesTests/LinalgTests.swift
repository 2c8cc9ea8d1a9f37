import Testing
import BraidIR
import BraidFrontend
@testable import BraidPasses

private let linalgPrelude = """
import numpy as np
import braid as br
N, K = br.symbol("N"), br.symbol("K")

"""

private func lowerLinalg(_ source: String, dataCentric: Bool = true) throws -> Program {
    let text = dataCentric ? linalgPrelude + source : "import numpy as np\n\n" + source
    let p = try Frontend.lower(source: text, file: "la.py", moduleName: "la").programs[0]
    try Verifier.verify(p)
    return p
}

private func linalgNodes(_ nodes: [Node]) -> [(LinalgFunction, [Memlet], Memlet)] {
    var out: [(LinalgFunction, [Memlet], Memlet)] = []
    for n in nodes {
        switch n {
        case .library(let l):
            if case .linalg(let f, let ins, let o) = l.op { out.append((f, ins, o)) }
        case .map(let m): out += linalgNodes(m.body)
        case .forLoop(let f): out += linalgNodes(f.body)
        case .whileLoop(let w): out += linalgNodes(w.body)
        case .branch(let b): out += linalgNodes(b.then) + linalgNodes(b.orElse)
        default: break
        }
    }
    return out
}

private func loweringError(_ source: String) -> Diagnostic? {
    do {
        _ = try lowerLinalg(source)
        return nil
    } catch let d as Diagnostic {
        return d
    } catch {
        return nil
    }
}

@Suite struct LinalgTests {
    @Test func solveBecomesALibraryNodeThatExpansionKeeps() throws {
        var p = try lowerLinalg("""
        @br.program
        def f(A: br.float64[N, N], b: br.float64[N]):
            return np.linalg.solve(A, b)
        """)
        let nodes = linalgNodes(p.body)
        #expect(nodes.count == 1)
        #expect(nodes.first?.0 == .solve)
        #expect(nodes.first?.1.map(\.data) == ["A", "b"])
        let out = try #require(nodes.first.flatMap { p.container($0.2.data) })
        #expect(out.dtype == .float64 && out.shape == [.sym("N")] && out.isWritten)
        #expect(IRPrinter.print(p).contains("= linalg.solve(A[0:N, 0:N], b[0:N])"))
        // CPU keeps it for LAPACK; targets without LAPACK keep it too (their backends reject it).
        for keep in [true, false] {
            var q = p
            let (changed, ir) = try apply(ExpandLibraryNodes(keepBLAS: keep), &q)
            #expect(!changed)
            #expect(ir.contains("linalg.solve("))
        }
        let (_, ir) = try apply(ScheduleMaps(schedule: .cpuParallel), &p)
        #expect(ir.contains("linalg.solve("))
    }

    @Test func solveWithMatrixRightHandSideAndComplexTypes() throws {
        let p = try lowerLinalg("""
        @br.program
        def f(A: br.complex128[N, N], B: br.float64[N, K]):
            return np.linalg.solve(A, B)
        """)
        let nodes = linalgNodes(p.body)
        let out = try #require(nodes.first.flatMap { p.container($0.2.data) })
        #expect(out.dtype == .complex128)
        #expect(out.shape == [.sym("N"), .sym("K")])
    }

    @Test func invCholeskyAndDetNodes() throws {
        let p = try lowerLinalg("""
        @br.program
        def f(A: br.float32[N, N], C: br.complex64[N, N], Z: br.int64[N, N]):
            return np.linalg.inv(A), np.linalg.cholesky(C), np.linalg.det(Z)
        """)
        let nodes = linalgNodes(p.body)
        #expect(nodes.map(\.0) == [.inv, .cholesky, .det])
        // NumPy's result types: single precision stays single, integers become float64.
        #expect(nodes.map { p.container($0.2.data)!.dtype } == [.float32, .complex64, .float64])
        #expect(p.container(nodes[2].2.data)!.isScalar)
    }

    @Test func normNeedsNoLibraryCall() throws {
        let p = try lowerLinalg("""
        @br.program
        def f(A: br.complex128[N, K], v: br.float32[N]):
            return np.linalg.norm(A), np.linalg.norm(v), np.linalg.norm(A, axis=1)
        """)
        #expect(linalgNodes(p.body).isEmpty)
        let ir = IRPrinter.print(p)
        #expect(ir.contains("sqrt("))
        #expect(p.results.map { p.container($0)!.dtype } == [.float64, .float32, .float64])
        #expect(p.container(p.results[2])!.shape == [.sym("N")])
    }

    @Test func aFailingCallKeepsItsMapSequential() throws {
        var p = try lowerLinalg("""
        @br.program
        def f(A: br.float64[N, N], out: br.float64[N]):
            for i in br.map[0:N]:
                out[i] = np.linalg.det(A) * i
        """)
        let (_, ir) = try apply(ScheduleMaps(schedule: .cpuParallel), &p)
        #expect(ir.contains("map[sequential] i in 0:N"))
    }

    @Test func declaredNonSquareMatrixIsACompileError() throws {
        let d = loweringError("""
        @br.program
        def f(A: br.float64[N, K]):
            return np.linalg.inv(A)
        """)
        #expect(d?.message.contains("np.linalg.inv needs a square matrix") == true)
        #expect(d?.loc.line == 6)  // the line of the call
        let e = loweringError("""
        @br.program
        def f(A: br.float64[N, N], b: br.float64[K]):
            return np.linalg.solve(A, b)
        """)
        #expect(e?.message.contains("b must have as many rows as a") == true)
        let s = loweringError("""
        @br.program
        def f(A: br.float64[N]):
            return np.linalg.det(A)
        """)
        #expect(s?.message.contains("needs a 2-D matrix") == true)
    }

    @Test func exportedShapesAreCheckedAtCallTime() throws {
        let p = try lowerLinalg("""
        #pythran export f(float64[:,:], float64[:,:])
        def f(A, B):
            return np.linalg.solve(A, B)
        """, dataCentric: false)
        #expect(linalgNodes(p.body).count == 1)
        let messages = p.shapeAssertions.map(\.2)
        #expect(messages.contains { $0.contains("needs a square matrix") })
        #expect(messages.contains { $0.contains("b must have as many rows as a") })
    }

    @Test func unsupportedNormOrderIsRejected() throws {
        let d = loweringError("""
        @br.program
        def f(A: br.float64[N, N]):
            return np.linalg.norm(A, 2)
        """)
        #expect(d?.message.contains("default order") == true)
    }
}
