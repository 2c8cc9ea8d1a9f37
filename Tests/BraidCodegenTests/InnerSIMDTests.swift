import Testing
import BraidIR
@testable import BraidCodegen

private let here = SourceLocation(file: "simd.py", line: 2, column: 5)
private let N = SymExpr.sym("N"), M = SymExpr.sym("M")

/// `out[i, j] = x[i, j] ** -1.5` as a parallel map over (i, j); with `accumulate`, the body
/// also adds into `s[i]` (a write several iterations share).
/// With `transpose`, the body is the copy `out[i, j] = x[j, i]` instead (N == M).
private func rows(accumulate: Bool = false, transpose: Bool = false) throws -> String {
    let i = SymExpr.sym("i"), j = SymExpr.sym("j")
    let x = ScalarExpr.load(.point("x", [.sym(i), .sym(j)]), .float64)
    let value: ScalarExpr = transpose ? .load(.point("x", [.sym(j), .sym(i)]), .float64)
        : .binary(.pow, x, .literal(.float(-1.5), .float64), .float64)
    var body: [Node] = [.tasklet(Tasklet(output: .point("out", [.sym(i), .sym(j)]), value: value, loc: here))]
    if accumulate { body.append(.tasklet(Tasklet(output: .point("s", [.sym(i)]), wcr: .add, value: x, loc: here))) }
    let p = Program(
        name: "rows", params: ["x", "out", "s"], defaults: [:], symbols: ["N", "M"],
        containers: [
            Container(name: "x", dtype: .float64, shape: [N, M], role: .argument(index: 0), storage: .hostHeap),
            Container(name: "out", dtype: .float64, shape: [N, M], role: .argument(index: 1), storage: .hostHeap, isWritten: true),
            Container(name: "s", dtype: .float64, shape: [N], role: .argument(index: 2), storage: .hostHeap, isWritten: true),
        ],
        results: [], shapeAssertions: [],
        body: [.map(MapScope(params: ["i", "j"], ranges: [SymRange(.zero, N), SymRange(.zero, M)], schedule: .cpuParallel,
                             body: body, loc: here))],
        loc: here)
    return try CPUBackend.nativeCode(IRModule(name: "rows", sourceFile: "simd.py", programs: [p]))
}

@Suite struct InnerSIMDTests {
    /// The rows run on threads, the elements of a row in SIMD lanes (so `pow` can be libmvec's).
    @Test func innerLoopOfAParallelMapIsSIMD() throws {
        let c = try rows()
        #expect(c.contains("#pragma omp parallel for schedule(static)\n        for (int64_t i = 0; i < N; ++i) {\n            #pragma omp simd\n            for (int64_t j = 0; j < M; ++j) {"))
    }

    /// A loop that only moves data is left to gcc's cost model: forcing SIMD would gather
    /// `x[j, i]` at stride M.
    @Test func dataMovementKeepsTheInnerLoopPlain() throws {
        let c = try rows(transpose: true)
        #expect(c.contains("out[(i) * (M) + j] = x[(j) * (M) + i];"))
        #expect(!c.contains("#pragma omp simd\n"))
    }

    /// A write that iterations of the inner loop share would race in SIMD lanes: no pragma.
    @Test func accumulatingWritesKeepTheInnerLoopPlain() throws {
        let c = try rows(accumulate: true)
        #expect(c.contains("#pragma omp parallel for schedule(static)"))
        #expect(!c.contains("#pragma omp simd\n"))
    }
}
