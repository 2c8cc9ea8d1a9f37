import Testing
import BraidIR
@testable import BraidCodegen

private let N = SymExpr.sym("N")
private let here = SourceLocation(file: "dot_demo.py", line: 4, column: 9)

/// `for i in range(N): x[i] = b[i] - L[i, :i] @ x[:i]`: a dot product inside a sequential loop.
private func forwardSubstitution(dtype: DType = .float64) -> Program {
    let i = SymExpr.sym("i")
    let dot = LibraryNode(op: .matmul(a: Memlet(data: "L", subset: [.index(.sym(i)), .range(start: .zero, end: i, step: .one)]),
                                      b: Memlet(data: "x", subset: [.range(start: .zero, end: i, step: .one)]),
                                      c: .point("d", []), accumulate: false), loc: here)
    let body: [Node] = [
        .forLoop(ForLoop(variable: "i", range: SymRange(.zero, N), body: [
            .library(dot),
            .tasklet(Tasklet(output: .point("x", [.sym(i)]),
                             value: .binary(.sub, .load(.point("b", [.sym(i)]), dtype), .load(.point("d", []), dtype), dtype),
                             loc: here)),
        ], loc: here)),
    ]
    return Program(
        name: "dot_demo", params: ["L", "x", "b"], defaults: [:], symbols: ["N"],
        containers: [
            Container(name: "L", dtype: dtype, shape: [N, N], role: .argument(index: 0), storage: .hostHeap),
            Container(name: "x", dtype: dtype, shape: [N], role: .argument(index: 1), storage: .hostHeap, isWritten: true),
            Container(name: "b", dtype: dtype, shape: [N], role: .argument(index: 2), storage: .hostHeap),
            Container(name: "d", dtype: dtype, shape: [], role: .transient, storage: .register, isWritten: true),
        ],
        results: [], shapeAssertions: [], body: body, loc: here)
}

@Suite struct CPUDotTests {
    /// A vector dot product is an inline SIMD sum, not `cblas_ddot` (whose OpenMP build forks
    /// threads on every call), reading the row of L and the prefix of x in place.
    @Test func dotIsAnInlineSimdReduction() throws {
        let c = try CPUBackend.nativeCode(IRModule(name: "dot_demo", sourceFile: "dot_demo.py", programs: [forwardSubstitution()]))
        #expect(!c.contains("cblas_ddot"))
        #expect(c.contains("#pragma omp simd reduction(+:braid_dot)"))
        #expect(c.contains("for (int64_t braid_k = 0; braid_k < i; ++braid_k)"))
        #expect(c.contains("braid_dot = braid_dot + (L + (i) * (N))[braid_k] * x[braid_k];"))
        #expect(c.contains("d = braid_dot;"))
        // No parallel region inside the sequential loop.
        #expect(!c.contains("omp parallel"))
    }

    /// float32 operands sum in float32, as `cblas_sdot` does.
    @Test func float32DotSumsInFloat32() throws {
        let c = try CPUBackend.nativeCode(IRModule(name: "dot_demo", sourceFile: "dot_demo.py", programs: [forwardSubstitution(dtype: .float32)]))
        #expect(c.contains("float braid_dot = 0;"))
        #expect(!c.contains("cblas_sdot"))
    }
}
