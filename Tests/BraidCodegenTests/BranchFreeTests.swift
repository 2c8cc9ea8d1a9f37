import Testing
import BraidIR
@testable import BraidCodegen

private let here = SourceLocation(file: "branchfree.py", line: 3, column: 5)
private let N = SymExpr.sym("N"), i = SymExpr.sym("i")

private func load(_ a: String, _ idx: Index) -> ScalarExpr { .load(.point(a, [idx]), .float64) }
private func gt0(_ e: ScalarExpr) -> ScalarExpr { .binary(.gt, e, .literal(.float(0), .float64), .bool) }

/// `k = 0; for i in range(N): if cond: y[k] = value; k += 1` appending to the dynamic array `y`
/// of length `n` (the count of `cond`), as the frontend lowers `y = x[x > 0]`.
private func selection(value: ScalarExpr, cond: ScalarExpr? = nil) -> Program {
    let c = cond ?? gt0(load("x", .sym(i)))
    let body: [Node] = [
        .tasklet(Tasklet(output: .point("k", []), value: .symbol(.zero), loc: here)),
        .forLoop(ForLoop(variable: "i", range: SymRange(.zero, N), body: [
            .branch(Branch(condition: c, then: [
                .tasklet(Tasklet(output: .point("y", [.sym(.sym("k"))]), value: value, loc: here)),
                .tasklet(Tasklet(output: .point("k", []), value: .symbol(.sym("k") + 1), loc: here)),
            ], orElse: [], loc: here)),
        ], loc: here)),
    ]
    let containers = [
        Container(name: "x", dtype: .float64, shape: [N], role: .argument(index: 0), storage: .hostHeap),
        Container(name: "idx", dtype: .int64, shape: [N], role: .argument(index: 1), storage: .hostHeap),
        Container(name: "n", dtype: .int64, shape: [], role: .transient, storage: .register, isWritten: true),
        Container(name: "k", dtype: .int64, shape: [], role: .transient, storage: .register, isWritten: true),
        Container(name: "y", dtype: .float64, shape: [.sym("n")], role: .transient, storage: .hostHeap,
                  isWritten: true, isDynamic: true),
    ]
    return Program(name: "sel", params: ["x", "idx"], defaults: [:], symbols: ["N"], containers: containers,
                   results: [], shapeAssertions: [], body: body, loc: here)
}

private func code(_ p: Program) throws -> String {
    try CPUBackend.nativeCode(IRModule(name: "sel", sourceFile: "branchfree.py", programs: [p]))
}

@Suite struct BranchFreeSelectionTests {
    /// `y = x[x > 0]`: every element is written at k, k advances by the condition, and the loop
    /// stops once k reaches y's length, so no write lands past it.
    @Test func plainSelectionAppendsWithoutABranch() throws {
        let c = try code(selection(value: load("x", .sym(i))))
        #expect(c.contains("const int64_t braid_sel_n = (n);"))
        #expect(c.contains("if (k < braid_sel_n) {"))
        #expect(c.contains("y[k] = x[i];\n"))
        #expect(c.contains("k = k + (int64_t)((x[i] > 0.0));"))
        #expect(c.contains("if (k >= braid_sel_n) {"))
        #expect(c.contains("double *restrict const y = braid_sel_"))
        #expect(!c.contains("if ((x[i] > 0.0))"))
    }

    /// A value read through an index array may be out of bounds where the condition is false
    /// (`x[idx][m]` checks only selected indices): it is read only under the branch.
    @Test func valuesReadThroughIndexArraysKeepTheBranch() throws {
        let gathered = ScalarExpr.load(.point("x", [.dynamic(.load(.point("idx", [.sym(i)]), .int64))]), .float64)
        let c = try code(selection(value: gathered))
        #expect(!c.contains("braid_sel_n"))
        #expect(c.contains("if ((x[i] > 0.0)) {"))
    }

    /// A condition that is not a boolean (a count, say) would advance k by more than one.
    @Test func nonBooleanConditionsKeepTheBranch() throws {
        let c = try code(selection(value: load("x", .sym(i)), cond: .cast(load("x", .sym(i)), .int64)))
        #expect(!c.contains("braid_sel_n"))
    }
}

@Suite struct EagerLogicTests {
    private func mask(_ cond: ScalarExpr) throws -> String {
        let p = Program(
            name: "sel", params: ["x"], defaults: [:], symbols: ["N"],
            containers: [
                Container(name: "x", dtype: .float64, shape: [N], role: .argument(index: 0), storage: .hostHeap),
                Container(name: "m", dtype: .bool, shape: [N], role: .argument(index: 1), storage: .hostHeap, isWritten: true),
            ],
            results: [], shapeAssertions: [],
            body: [.forLoop(ForLoop(variable: "i", range: SymRange(.zero, N), body: [
                .tasklet(Tasklet(output: .point("m", [.sym(i)]), value: cond, loc: here)),
            ], loc: here))], loc: here)
        return try code(p)
    }

    /// `np.logical_and(0 < x, x < 1)`: the right side reads only what the left one read, so both
    /// are evaluated (`&`) and the loop has no branch per element.
    @Test func comparisonsOfTheSameElementAreCombinedWithoutShortCircuit() throws {
        let lt1 = ScalarExpr.binary(.lt, load("x", .sym(i)), .literal(.float(1), .float64), .bool)
        let c = try mask(.binary(.and, gt0(load("x", .sym(i))), lt1, .bool))
        #expect(c.contains("m[i] = (((x[i] > 0.0)) & ((x[i] < 1.0)));"))
        let o = try mask(.binary(.or, gt0(load("x", .sym(i))), lt1, .bool))
        #expect(o.contains("m[i] = (((x[i] > 0.0)) | ((x[i] < 1.0)));"))
    }

    /// `i + 1 < N and x[i + 1] > 0`: the right side reads an element the left side guards, so
    /// it keeps C's short circuit.
    @Test func aGuardedReadKeepsTheShortCircuit() throws {
        let guarded = ScalarExpr.binary(.lt, .symbol(i + 1), .symbol(N), .bool)
        let c = try mask(.binary(.and, guarded, gt0(load("x", .sym(i + 1))), .bool))
        #expect(c.contains(" && "))
        #expect(!c.contains(") & ("))
    }

    /// `i + 1 < N and x[i + 1] > 0 and x[i + 1] < 1`: the inner `and` may skip its read of
    /// x[i + 1], so the outer one cannot count on it and keeps the short circuit too.
    @Test func aReadTheLeftSideMaySkipDoesNotCount() throws {
        let guarded = ScalarExpr.binary(.lt, .symbol(i + 1), .symbol(N), .bool)
        let x1 = load("x", .sym(i + 1))
        let lt1 = ScalarExpr.binary(.lt, x1, .literal(.float(1), .float64), .bool)
        let c = try mask(.binary(.and, .binary(.and, guarded, gt0(x1), .bool), lt1, .bool))
        #expect(!c.contains(") & ("))
        #expect(c.contains("((i + 1 < N) && (x[i + 1] > 0.0)) && (x[i + 1] < 1.0)"))
    }
}
