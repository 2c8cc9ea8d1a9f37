import Foundation
import Testing
import BraidIR
@testable import BraidCodegen
import BraidToolchain

// Programs built by hand, as `ScheduleMaps(schedule: .distributed)` leaves them.

private let N = SymExpr.sym("N")
private let M = SymExpr.sym("M")
private let here = SourceLocation(file: "mpi_demo.py", line: 3, column: 5)

private func load(_ data: String, _ idx: [SymExpr], _ t: DType = .float64) -> ScalarExpr {
    .load(.point(data, idx.map { .sym($0) }), t)
}

private func f64(_ v: Double) -> ScalarExpr { .literal(.float(v), .float64) }

private func assign(_ data: String, _ idx: [SymExpr], _ value: ScalarExpr, wcr: WCR? = nil) -> Node {
    .tasklet(Tasklet(output: .point(data, idx.map { .sym($0) }), wcr: wcr, value: value, loc: here))
}

private func mul(_ a: ScalarExpr, _ b: ScalarExpr) -> ScalarExpr { .binary(.mul, a, b, .float64) }
private func add(_ a: ScalarExpr, _ b: ScalarExpr) -> ScalarExpr { .binary(.add, a, b, .float64) }

private func map(_ params: [String], _ ranges: [SymRange], _ body: [Node], schedule: Schedule = .distributed,
                 reductions: [String: WCR] = [:]) -> Node {
    .map(MapScope(params: params, ranges: ranges, schedule: schedule, body: body, reductions: reductions, loc: here))
}

/// `mpi_demo(x: float64[N], A: float64[N, M], B: float64[N, M]) -> float64`:
///
///     for i, j in map[0:N - 1, 0:M]: B[i + 1, j] = A[i, j] * x[i] + 1.0   # distributed, gathers B
///     s = 0.0
///     for k in map[0:N]: s += x[k] * x[k]                                # distributed reduction
///     <extra>
///     return s
private func demoProgram(extra: [Node] = [], extraContainers: [Container] = []) -> Program {
    let i = SymExpr.sym("i"), j = SymExpr.sym("j")
    let body: [Node] = [
        map(["i", "j"], [SymRange(.zero, N - 1), SymRange(.zero, M)],
            [assign("B", [i + 1, j], add(mul(load("A", [i, j]), load("x", [i])), f64(1.0)))]),
        assign("s", [], f64(0.0)),
        map(["k"], [SymRange(.zero, N)],
            [assign("s", [], mul(load("x", [.sym("k")]), load("x", [.sym("k")])), wcr: .add)],
            reductions: ["s": .add]),
    ] + extra + [.returnProgram(here)]
    return Program(
        name: "mpi_demo", params: ["x", "A", "B"], defaults: [:], symbols: ["N", "M"],
        containers: [
            Container(name: "x", dtype: .float64, shape: [N], role: .argument(index: 0), storage: .hostHeap),
            Container(name: "A", dtype: .float64, shape: [N, M], role: .argument(index: 1), storage: .hostHeap),
            Container(name: "B", dtype: .float64, shape: [N, M], role: .argument(index: 2), storage: .hostHeap,
                      isWritten: true),
            Container(name: "s", dtype: .float64, shape: [], role: .result(index: 0), storage: .register,
                      isWritten: true),
        ] + extraContainers,
        results: ["s"], shapeAssertions: [], body: body, loc: here)
}

private func module(_ p: Program) throws -> IRModule {
    try Verifier.verify(p)
    return IRModule(name: "mpi_demo", sourceFile: "mpi_demo.py", programs: [p])
}

/// The generated native entry point (without the shared prelude).
private func entryPoint(_ p: Program) throws -> String {
    let source = try MPIBackend.source(try module(p))
    guard let start = source.range(of: "int braid_native_mpi_demo(") else { return "" }
    return String(source[start.lowerBound...])
}

@Suite struct MPIBackendTextTests {
    @Test func distributedMapIsBlockPartitionedAndGathered() throws {
        let code = try entryPoint(demoProgram())
        #expect(code.contains("braid_mpi_world(&braid_rank, &braid_nranks);"))
        #expect(code.contains("const int64_t braid_n_i = braid_imax(0, N - 1);"))
        #expect(code.contains("const int64_t braid_lo_i = braid_block_begin(braid_n_i, braid_rank, braid_nranks);"))
        #expect(code.contains("const int64_t braid_hi_i = braid_block_begin(braid_n_i, braid_rank + 1, braid_nranks);"))
        #expect(code.contains("for (int64_t i = braid_lo_i; i < braid_hi_i; ++i) {"))
        // The inner dimension runs in full.
        #expect(code.contains("for (int64_t j = 0; j < M; ++j) {"))
        // Rows i + 1 of B, each M elements, gathered on every rank (only with more than one rank).
        #expect(code.contains("if (braid_nranks > 1) {"))
        #expect(code.contains("braid_status = braid_mpi_allgather_rows(B, MPI_DOUBLE, N, (M), braid_n_i, 1, 1, braid_nranks);"))
        // Arguments only read are never exchanged.
        #expect(!code.contains("braid_mpi_allgather_rows(A"))
        #expect(!code.contains("braid_mpi_allgather_rows(x"))
    }

    @Test func gatherHelperUsesAllgathervInPlace() throws {
        let source = try MPIBackend.source(try module(demoProgram()))
        #expect(source.contains("#include <mpi.h>"))
        #expect(source.contains("MPI_Allgatherv_c(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, data, counts, displs, type, MPI_COMM_WORLD);"))
        #expect(source.contains("MPI_Allgatherv(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, data, counts, displs, type, MPI_COMM_WORLD);"))
    }

    @Test func scalarReductionIsAllreducedAndCombinedWithItsPriorValue() throws {
        let code = try entryPoint(demoProgram())
        #expect(code.contains("const double braid_before_s = (*s);"))
        #expect(code.contains("(*s) = 0;"))
        #expect(code.contains("MPI_Allreduce(MPI_IN_PLACE, &(*s), 1, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);"))
        #expect(code.contains("(*s) = braid_before_s + (*s);"))
        // The Allreduce follows the rank's block loop.
        let loop = try #require(code.range(of: "for (int64_t k = braid_lo_k; k < braid_hi_k; ++k) {"))
        let reduce = try #require(code.range(of: "MPI_Allreduce("))
        #expect(loop.lowerBound < reduce.lowerBound)
    }

    @Test func maxAndMinReductionsUseTheRightOperations() throws {
        let k = SymExpr.sym("k")
        let extra: [Node] = [
            assign("mx", [], f64(-Double.infinity)),
            map(["k"], [SymRange(.zero, N)], [assign("mx", [], load("x", [k]), wcr: .max)], reductions: ["mx": .max]),
            .tasklet(Tasklet(output: .point("cnt", []), value: .literal(.int(0), .int32), loc: here)),
            map(["k"], [SymRange(.zero, N)],
                [.tasklet(Tasklet(output: .point("cnt", []), wcr: .min, value: .cast(load("x", [k]), .int32), loc: here))],
                reductions: ["cnt": .min]),
        ]
        let extraContainers = [
            Container(name: "mx", dtype: .float64, shape: [], role: .transient, storage: .register, isWritten: true),
            Container(name: "cnt", dtype: .int32, shape: [], role: .transient, storage: .register, isWritten: true),
        ]
        let code = try entryPoint(demoProgram(extra: extra, extraContainers: extraContainers))
        // NaN-propagating user operation for floating point, MPI_MIN for integers.
        #expect(code.contains("MPI_Allreduce(MPI_IN_PLACE, &mx, 1, MPI_DOUBLE, braid_mpi_nan_max(), MPI_COMM_WORLD);"))
        #expect(code.contains("mx = braid_fmax(braid_before_mx, mx);"))
        #expect(code.contains("cnt = INT32_MAX;"))
        #expect(code.contains("MPI_Allreduce(MPI_IN_PLACE, &cnt, 1, MPI_INT32_T, MPI_MIN, MPI_COMM_WORLD);"))
    }

    @Test func transposedWriteStaysReplicated() throws {
        let i = SymExpr.sym("i"), j = SymExpr.sym("j")
        let p = Program(
            name: "mpi_demo", params: ["A", "B"], defaults: [:], symbols: ["N"],
            containers: [
                Container(name: "A", dtype: .float64, shape: [N, N], role: .argument(index: 0), storage: .hostHeap),
                Container(name: "B", dtype: .float64, shape: [N, N], role: .argument(index: 1), storage: .hostHeap,
                          isWritten: true),
            ],
            results: [], shapeAssertions: [],
            body: [map(["i", "j"], [SymRange(.zero, N), SymRange(.zero, N)],
                       [assign("B", [j, i], mul(load("A", [i, j]), f64(2.0)))])],
            loc: here)
        let code = try entryPoint(p)
        #expect(code.contains("Replicated map: every rank runs all iterations ('B' is not written at row i + offset)."))
        #expect(code.contains("for (int64_t i = 0; i < N; ++i) {"))
        #expect(!code.contains("braid_mpi_allgather_rows"))
        #expect(!code.contains("braid_block_begin"))
        #expect(!code.contains("MPI_"))
        #expect(code.contains("No map is distributed") || !code.contains("braid_rank"))
    }

    @Test func dataDependentRowStaysReplicated() throws {
        let i = SymExpr.sym("i")
        let p = Program(
            name: "mpi_demo", params: ["idx", "B"], defaults: [:], symbols: ["N"],
            containers: [
                Container(name: "idx", dtype: .int64, shape: [N], role: .argument(index: 0), storage: .hostHeap),
                Container(name: "B", dtype: .float64, shape: [N], role: .argument(index: 1), storage: .hostHeap,
                          isWritten: true),
            ],
            results: [], shapeAssertions: [],
            body: [map(["i"], [SymRange(.zero, N)],
                       [.tasklet(Tasklet(output: .point("B", [.dynamic(load("idx", [i], .int64))]),
                                         value: .call(.sqrt, [.cast(.symbol(i), .float64)], .float64), loc: here))])],
            loc: here)
        let code = try entryPoint(p)
        #expect(code.contains("Replicated map"))
        #expect(!code.contains("braid_mpi_allgather_rows"))
    }

    @Test func plainCopyIsRepeatedRatherThanExchanged() throws {
        let i = SymExpr.sym("i")
        let p = Program(
            name: "mpi_demo", params: ["A", "B"], defaults: [:], symbols: ["N"],
            containers: [
                Container(name: "A", dtype: .float64, shape: [N], role: .argument(index: 0), storage: .hostHeap),
                Container(name: "B", dtype: .float64, shape: [N], role: .argument(index: 1), storage: .hostHeap,
                          isWritten: true),
            ],
            results: [], shapeAssertions: [],
            body: [map(["i"], [SymRange(.zero, N)], [assign("B", [i], load("A", [i]))])],
            loc: here)
        let code = try entryPoint(p)
        #expect(code.contains("Replicated map: every rank runs all iterations (a plain copy or fill"))
        #expect(!code.contains("braid_mpi_allgather_rows"))
    }

    @Test func sequentialMapsAndNestedMapsAreNotDistributed() throws {
        let i = SymExpr.sym("i"), j = SymExpr.sym("j")
        let inner = map(["j"], [SymRange(.zero, N)], [assign("B", [i, j], mul(load("A", [i, j]), f64(3.0)))])
        let p = Program(
            name: "mpi_demo", params: ["A", "B"], defaults: [:], symbols: ["N"],
            containers: [
                Container(name: "A", dtype: .float64, shape: [N, N], role: .argument(index: 0), storage: .hostHeap),
                Container(name: "B", dtype: .float64, shape: [N, N], role: .argument(index: 1), storage: .hostHeap,
                          isWritten: true),
            ],
            results: [], shapeAssertions: [],
            body: [
                map(["i"], [SymRange(.zero, N)], [assign("B", [i, i], f64(1.0))], schedule: .sequential),
                map(["i"], [SymRange(.zero, N)], [inner]),
            ],
            loc: here)
        let code = try entryPoint(p)
        // One distributed map (the outer one of the nest); its inner map runs whole inside each block.
        #expect(code.components(separatedBy: "braid_block_begin(braid_n_i, braid_rank,").count == 2)
        #expect(code.contains("for (int64_t j = 0; j < N; ++j) {"))
        #expect(!code.contains("braid_n_j"))
        #expect(code.components(separatedBy: "braid_mpi_allgather_rows(B").count == 2)
    }

    @Test func stridedMapGathersWholeSlabs() throws {
        let i = SymExpr.sym("i")
        let p = Program(
            name: "mpi_demo", params: ["B"], defaults: [:], symbols: ["N"],
            containers: [
                Container(name: "B", dtype: .float32, shape: [N], role: .argument(index: 0), storage: .hostHeap,
                          isWritten: true),
            ],
            results: [], shapeAssertions: [],
            body: [map(["i"], [SymRange(.int(1), N, step: .int(3))],
                       [.tasklet(Tasklet(output: .point("B", [.sym(i)]),
                                         value: .binary(.mul, load("B", [i], .float32), .literal(.float(2), .float32), .float32),
                                         loc: here))])],
            loc: here)
        let code = try entryPoint(p)
        #expect(code.contains("const int64_t braid_lo_i = 1 + (braid_block_begin(braid_n_i, braid_rank, braid_nranks)) * (3);"))
        #expect(code.contains("for (int64_t i = braid_lo_i; i < braid_hi_i; i += 3) {"))
        #expect(code.contains("braid_mpi_allgather_rows(B, MPI_FLOAT, N, 1, braid_n_i, 1, 3, braid_nranks)"))
    }

    @Test func moduleInitializesOrReusesMPIAndUsesMpicc() throws {
        let tu = try MPIBackend.translationUnit(try module(demoProgram()))
        #expect(MPIBackend.compiler == "mpicc")
        #expect(MPIBackend.linkFlags.contains("-lopenblas"))
        #expect(tu.contains("MPI_Initialized(&braid_mpi_initialized);"))
        #expect(tu.contains("MPI_Init_thread(NULL, NULL, MPI_THREAD_SERIALIZED, &braid_mpi_provided)"))
        #expect(tu.contains("(void)Py_AtExit(braid_mpi_finalize_at_exit);"))
        #expect(tu.contains("if (!finalized) MPI_Finalize();"))
        // Python.h comes first; the native code needs no Python.
        #expect(tu.hasPrefix(PyExtensionEmitter.translationUnitPrelude))
        #expect(!(try MPIBackend.source(try module(demoProgram()))).contains("Python.h"))
    }

    @Test func outputIsDeterministic() throws {
        let a = try MPIBackend.translationUnit(try module(demoProgram()))
        let b = try MPIBackend.translationUnit(try module(demoProgram()))
        #expect(a == b)
    }
}

// MARK: - End to end: mpicc, then plain python3 (one rank) and mpiexec -n 2

private let mpiAvailable = Subprocess.findExecutable("mpicc") != nil && Subprocess.findExecutable("mpiexec") != nil

private let mpiChecks = #"""
import sys
import numpy as np
sys.path.insert(0, sys.argv[1])
import mpi_demo

rng = np.random.default_rng(7)
failures = []
for N, M in ((1, 3), (2, 5), (7, 4), (64, 33)):
    x = rng.random(N)
    A = rng.random((N, M))
    B = rng.random((N, M))
    want_B = B.copy()
    want_B[1:, :] = A[:-1, :] * x[:-1, None] + 1.0
    A0 = A.copy()
    s = mpi_demo.mpi_demo(x, A, B)
    if not np.allclose(B, want_B, rtol=1e-12, atol=0):
        failures.append(f"B differs for N={N} M={M}")
    if not np.array_equal(A, A0):
        failures.append(f"A changed for N={N} M={M}")
    if not np.isclose(s, np.sum(x * x), rtol=1e-12, atol=0):
        failures.append(f"s={s} != {np.sum(x * x)} for N={N}")
if failures:
    print("\n".join(failures))
    sys.exit(1)
print("BRAID-MPI-OK")
"""#

@Suite(.enabled(if: mpiAvailable, "needs MPICH (mpicc, mpiexec)"))
struct MPIBackendEndToEndTests {
    @Test func everyRankGetsTheWholeResult() throws {
        let python = try PythonConfig.current()
        try #require(python.hasNumPy, "the user's interpreter must have NumPy")
        let dir = FileManager.default.temporaryDirectory
            .appendingPathComponent("braid-test-mpi-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let job = CompileJob(
            source: try MPIBackend.translationUnit(try module(demoProgram())), language: .c,
            compiler: MPIBackend.compiler, flags: ["-O1", "-fPIC", "-shared"],
            extraFlags: python.compilerFlags + MPIBackend.compilerFlags, linkFlags: MPIBackend.linkFlags,
            outputPath: "\(dir)/mpi_demo\(PythonConfig.extensionSuffix)", context: "MPI end-to-end test module")
        _ = try CCompiler(cacheDirectory: dir + "/cache").compile(job)
        let script = dir + "/check.py"
        try mpiChecks.write(toFile: script, atomically: true, encoding: .utf8)

        let single = try Subprocess.run(python.interpreter, [script, dir])
        #expect(single.status == 0 && single.stdout.contains("BRAID-MPI-OK"),
                "python3:\n\(single.stdout)\n\(single.stderr)")
        for ranks in ["1", "2", "3"] {
            let run = try Subprocess.run("mpiexec", ["-n", ranks, python.interpreter, script, dir])
            #expect(run.status == 0, "mpiexec -n \(ranks):\n\(run.stdout)\n\(run.stderr)")
            #expect(run.stdout.components(separatedBy: "BRAID-MPI-OK").count == Int(ranks)! + 1,
                    "every rank checks its own copy; mpiexec -n \(ranks):\n\(run.stdout)\n\(run.stderr)")
        }
    }
}
