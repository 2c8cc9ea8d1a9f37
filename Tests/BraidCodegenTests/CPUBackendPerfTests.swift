import Testing
import BraidIR
@testable import BraidCodegen

private let N = SymExpr.sym("N")
private let here = SourceLocation(file: "dot_demo.py", line: 4, column: 9)

/// `for i in range(N): x[i] = b[i] - L[i, :i] @ x[:i]`: a BLAS call inside a sequential loop.
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

@Suite struct CPUTeamSizeTests {
    /// Every entry sizes the team to the load first (unless the user chose a team size) and
    /// gives the caller's team size back at the one exit that every path (errors included)
    /// goes through.
    @Test func entryAdaptsTeamsAndRestoresTheCallersSetting() throws {
        let c = try CPUBackend.nativeCode(IRModule(name: "dot_demo", sourceFile: "dot_demo.py", programs: [forwardSubstitution()]))
        #expect(c.contains("braid_user_teams = getenv(\"OMP_NUM_THREADS\") != NULL || getenv(\"OMP_DYNAMIC\") != NULL;"))
        #expect(!c.contains("omp_set_dynamic"))
        // The others' load: the machine's runnable threads less this process's own, not a
        // load average (which lags and counts this process's own busy threads).
        #expect(c.contains("fopen(\"/proc/loadavg\", \"r\")") && c.contains("opendir(\"/proc/self/task\")"))
        #expect(!c.contains("getloadavg"))
        let entry = try #require(c.range(of: "int braid_native_dot_demo(")).upperBound
        let body = c[entry...]
        let begin = try #require(body.range(of: "const int braid_threads = braid_teams_begin();"))
        let status = try #require(body.range(of: "int braid_status = 0;"))
        #expect(begin.lowerBound < status.lowerBound)
        let exit = try #require(body.range(of: "braid_exit:;"))
        let restore = try #require(body.range(of: "omp_set_num_threads(braid_threads);"))
        let ret = try #require(body.range(of: "return braid_status;"))
        #expect(exit.upperBound < restore.lowerBound && restore.upperBound < ret.lowerBound)
    }
}

@Suite struct CPUWorkBranchTests {
    /// `y[i] = 2 * x[i]` over `0:n`, as `ScheduleMaps` leaves it, with `s += x[i]` when `reduce`.
    private func scale(_ n: SymExpr, reduce: Bool = false) -> Program {
        let i = SymExpr.sym("i")
        var body: [Node] = [.tasklet(Tasklet(output: .point("y", [.sym(i)]),
                                             value: .binary(.mul, .literal(.float(2), .float64), .load(.point("x", [.sym(i)]), .float64), .float64),
                                             loc: here))]
        if reduce {
            body.append(.tasklet(Tasklet(output: .point("s", []), wcr: .add, value: .load(.point("x", [.sym(i)]), .float64), loc: here)))
        }
        return Program(
            name: "scale", params: ["x", "y"], defaults: [:], symbols: ["N"],
            containers: [
                Container(name: "x", dtype: .float64, shape: [N], role: .argument(index: 0), storage: .hostHeap),
                Container(name: "y", dtype: .float64, shape: [N], role: .argument(index: 1), storage: .hostHeap, isWritten: true),
                Container(name: "s", dtype: .float64, shape: [], role: .transient, storage: .register, isWritten: true),
            ],
            results: [], shapeAssertions: [],
            body: [.map(MapScope(params: ["i"], ranges: [SymRange(.zero, n)], schedule: .cpuParallel, body: body,
                                 reductions: reduce ? ["s": .add] : [:], loc: here))],
            loc: here)
    }

    private func code(_ p: Program) throws -> String {
        try CPUBackend.nativeCode(IRModule(name: "scale", sourceFile: "scale.py", programs: [p]))
    }

    /// A map sized at run time branches on its work: the parallel nest for large instances,
    /// the plain nest (no OpenMP runtime call) for small ones.
    @Test func runTimeSizeBranchesBetweenParallelAndPlainLoops() throws {
        let c = try code(scale(N))
        #expect(c.contains("""
                    if ((N) * 1 >= 32768) {
                        #pragma omp parallel for schedule(static)
                        for (int64_t i = 0; i < N; ++i) {
                """))
        #expect(c.contains("""
                    } else {
                        for (int64_t i = 0; i < N; ++i) {
                """))
        #expect(!c.contains(" if(("))
    }

    /// The plain copy of a reduction map accumulates into the same scalar, with no clause.
    @Test func plainCopyOfAReductionAccumulatesInPlace() throws {
        let c = try code(scale(N, reduce: true))
        #expect(c.contains("#pragma omp parallel for schedule(static) reduction(+:s)"))
        #expect(c.components(separatedBy: "s = s + x[i];").count == 3)
    }

    /// Sizes known at compile time decide once: no branch.
    @Test func constantSizesNeedNoBranch() throws {
        let small = try code(scale(.int(100)))
        #expect(!small.contains("omp parallel") && !small.contains("if ((100)"))
        let large = try code(scale(.int(1 << 20)))
        #expect(large.contains("#pragma omp parallel for schedule(static)\n") && !large.contains("if (("))
    }
}
