import Foundation
import Testing
import BraidCodegen
import BraidIR
import BraidToolchain

// Small IR programs built by hand, lowered by the OpenCL backend.

private let oclFile = "ocl_kernels.py"
private func at(_ line: Int) -> BraidIR.SourceLocation { BraidIR.SourceLocation(file: oclFile, line: line, column: 5) }
private let N = SymExpr.sym("N"), M = SymExpr.sym("M")

private func array(_ name: String, _ shape: [SymExpr], _ role: ContainerRole, _ t: DType = .float64,
                   written: Bool = false) -> Container {
    Container(name: name, dtype: t, shape: shape, role: role, storage: .hostHeap, isWritten: written)
}

private func scalar(_ name: String, _ role: ContainerRole, _ t: DType = .float64, written: Bool = false) -> Container {
    Container(name: name, dtype: t, shape: [], role: role, storage: .register, isWritten: written)
}

private func load(_ name: String, _ idx: [SymExpr], _ t: DType = .float64) -> ScalarExpr {
    .load(.point(name, idx.map { .sym($0) }), t)
}

private func f64(_ v: Double) -> ScalarExpr { .literal(.float(v), .float64) }

private func assign(_ name: String, _ idx: [SymExpr], _ value: ScalarExpr, wcr: WCR? = nil, line: Int) -> Node {
    .tasklet(Tasklet(output: .point(name, idx.map { .sym($0) }), wcr: wcr, value: value, loc: at(line)))
}

private func program(_ name: String, params: [String], symbols: [String], containers: [Container],
                     results: [String] = [], body: [Node]) throws -> Program {
    let p = Program(name: name, params: params, defaults: [:], symbols: symbols, containers: containers,
                    results: results, shapeAssertions: [], body: body, loc: at(1))
    try Verifier.verify(p)
    return p
}

/// `B[i] = A[i] * 2` over a one-dimensional parallel map.
private func scaleProgram() throws -> Program {
    try program("scale", params: ["A", "B"], symbols: ["N"],
                containers: [array("A", [N], .argument(index: 0)), array("B", [N], .argument(index: 1), written: true)],
                body: [.map(MapScope(params: ["i"], ranges: [SymRange(.zero, N)], schedule: .deviceKernel,
                                     body: [assign("B", [.sym("i")], .binary(.mul, load("A", [.sym("i")]), f64(2), .float64), line: 3)],
                                     loc: at(2)))])
}

/// `T` host steps of `B[i] += 0.5 * A[i]`, then `return sum(B)` (a parallel reduction),
/// then an interior 2-D update `C[i, j] = B[i] + i + 10 j` for `1 <= i < N-1, 2 <= j < M`.
private func stepsProgram() throws -> Program {
    let i = SymExpr.sym("i"), j = SymExpr.sym("j")
    return try program(
        "steps", params: ["T", "A", "B", "C"], symbols: ["N", "M"],
        containers: [
            scalar("T", .argument(index: 0), .int64),
            array("A", [N], .argument(index: 1)),
            array("B", [N], .argument(index: 2), written: true),
            array("C", [N, M], .argument(index: 3), written: true),
            scalar("s", .transient, written: true),
            scalar("_return0", .result(index: 0), written: true),
        ],
        results: ["_return0"],
        body: [
            .forLoop(ForLoop(variable: "t", range: SymRange(.zero, .sym("T")), body: [
                .map(MapScope(params: ["i"], ranges: [SymRange(.zero, N)], schedule: .deviceKernel, body: [
                    assign("B", [i], .binary(.add, load("B", [i]), .binary(.mul, f64(0.5), load("A", [i]), .float64), .float64), line: 5),
                ], loc: at(5))),
            ], loc: at(4))),
            assign("s", [], f64(0), line: 6),
            .map(MapScope(params: ["i"], ranges: [SymRange(.zero, N)], schedule: .deviceKernel, body: [
                assign("s", [], load("B", [i]), wcr: .add, line: 6),
            ], reductions: ["s": .add], loc: at(6))),
            .map(MapScope(params: ["i", "j"], ranges: [SymRange(.one, N - 1), SymRange(.int(2), M)], schedule: .deviceKernel, body: [
                assign("C", [i, j], .binary(.add, load("B", [i]),
                                            .cast(.symbol(i + 10 * j), .float64), .float64), line: 7),
            ], loc: at(7))),
            assign("_return0", [], load("s", []), line: 8),
            .returnProgram(at(8)),
        ])
}

/// `while A[0] < limit: A *= 2; n += 1` then `return n`: a host loop whose condition reads
/// an array element, around a kernel map and sequential code.
private func growProgram() throws -> Program {
    let i = SymExpr.sym("i")
    return try program(
        "grow", params: ["A", "limit"], symbols: ["N"],
        containers: [
            array("A", [N], .argument(index: 0), written: true),
            scalar("limit", .argument(index: 1)),
            scalar("n", .transient, .int64, written: true),
            scalar("_return0", .result(index: 0), .int64, written: true),
        ],
        results: ["_return0"],
        body: [
            assign("n", [], .literal(.int(0), .int64), line: 2),
            .whileLoop(WhileLoop(condition: .binary(.lt, load("A", [.zero]), load("limit", []), .bool), body: [
                .map(MapScope(params: ["i"], ranges: [SymRange(.zero, N)], schedule: .deviceKernel, body: [
                    assign("A", [i], .binary(.mul, load("A", [i]), f64(2), .float64), line: 4),
                ], loc: at(4))),
                assign("n", [], .binary(.add, load("n", [], .int64), .literal(.int(1), .int64), .int64), line: 5),
            ], loc: at(3))),
            assign("_return0", [], load("n", [], .int64), line: 6),
        ])
}

/// A sequential map over rows (with a private scalar) around a kernel map over columns:
/// `for r: acc = A[r, 0]; B[r, :] = A[r, :] - acc`.
private func rowsProgram() throws -> Program {
    let r = SymExpr.sym("r"), c = SymExpr.sym("c")
    return try program(
        "rows", params: ["A", "B"], symbols: ["N", "M"],
        containers: [
            array("A", [N, M], .argument(index: 0)),
            array("B", [N, M], .argument(index: 1), written: true),
            scalar("acc", .transient, written: true),
        ],
        body: [
            .map(MapScope(params: ["r"], ranges: [SymRange(.zero, N)], schedule: .sequential, body: [
                assign("acc", [], load("A", [r, .zero]), line: 3),
                .map(MapScope(params: ["c"], ranges: [SymRange(.zero, M)], schedule: .deviceKernel, body: [
                    assign("B", [r, c], .binary(.sub, load("A", [r, c]), load("acc", []), .float64), line: 4),
                ], loc: at(4))),
            ], locals: ["acc"], loc: at(2))),
        ])
}

private func module(_ programs: [Program]) -> IRModule {
    IRModule(name: "ocl_mod", sourceFile: oclFile, programs: programs)
}

/// The text of one kernel (from its `__kernel` line to its closing brace).
private func kernel(_ name: String, in source: String) -> String? {
    guard let start = source.range(of: "__kernel void \(name)(") else { return nil }
    guard let end = source.range(of: "\n}\n", range: start.upperBound..<source.endIndex) else { return nil }
    return String(source[start.lowerBound..<end.upperBound])
}

@Suite struct OpenCLBackendTests {
    @Test func parallelMapBecomesAGuardedNDRangeKernel() throws {
        let out = try OpenCLBackend.generate(module([try scaleProgram()]))
        #expect(out.kernelNames == ["braid_k_scale_0"])
        let k = try #require(kernel("braid_k_scale_0", in: out.deviceSource))
        #expect(k.contains("__kernel void braid_k_scale_0(long N, __global double *restrict A, __global double *restrict B)"))
        #expect(k.contains("const int64_t i = (int64_t)get_global_id(0);"))
        #expect(k.contains("if (i >= N) {\n        return ;"))
        #expect(k.contains("B[i] = (A[i] * 2.0);"))
        #expect(out.deviceSource.contains("#pragma OPENCL EXTENSION cl_khr_fp64 : enable"))
        #expect(!out.deviceSource.contains("atomic"))
    }

    @Test func hostCodeCreatesBuffersAndEnqueuesTheKernel() throws {
        let out = try OpenCLBackend.generate(module([try scaleProgram()]))
        let host = out.hostSource
        #expect(host.contains("#define CL_TARGET_OPENCL_VERSION 120\n#include <CL/cl.h>"))
        #expect(host.contains("int braid_native_scale(int64_t N, double *restrict A, double *restrict B)"))
        #expect(host.contains("braid_ocl_buffer(&braid_buf_A, (size_t)((N)) * sizeof(double), A, 1, BRAID_OCL_INPUT, \"A\")"))
        #expect(host.contains("braid_ocl_buffer(&braid_buf_B, (size_t)((N)) * sizeof(double), B, 0, BRAID_OCL_INPUT, \"B\")"))
        #expect(host.contains("braid_ocl_arg(braid_kernel, 0, sizeof(cl_long), &(cl_long){N}"))
        #expect(host.contains("braid_ocl_arg(braid_kernel, 1, sizeof(cl_mem), &braid_buf_A"))
        #expect(host.contains("const size_t braid_global[1] = {braid_ocl_round(braid_n0, 64)};"))
        #expect(host.contains("clEnqueueNDRangeKernel(braid_ocl_queue, kernel, dims, NULL, global, NULL, 0, NULL, NULL)"))
        // Only the written argument goes back; the read-only one is never read back.
        #expect(host.contains("braid_ocl_read(braid_buf_B, (size_t)((N)) * sizeof(double), B, \"B\")"))
        #expect(!host.contains("braid_ocl_read(braid_buf_A"))
        // Device selection, build log and error messages for the wrapper.
        #expect(host.contains("getenv(\"BRAID_OPENCL_DEVICE\")"))
        #expect(host.contains("CL_PROGRAM_BUILD_LOG"))
        #expect(host.contains("const char *braid_error_message(int code)"))
        // The program is embedded line by line.
        #expect(host.contains("static const char braid_ocl_source[] =\n"))
        #expect(host.contains("    \"__kernel void braid_k_scale_0(long N, __global double *restrict A, __global double *restrict B)\\n\""))
        let emitted = try OpenCLBackend.source(module([try scaleProgram()]))
        #expect(emitted.contains("__kernel void braid_k_scale_0(") && emitted.contains("int braid_native_scale("))
    }

    @Test func twoDimensionalMapOffsetsAndOrdersDimensions() throws {
        let out = try OpenCLBackend.generate(module([try stepsProgram()]))
        let k = try #require(kernel("braid_k_steps_4", in: out.deviceSource))
        // The last parameter is dimension 0 (contiguous in memory); ranges are offset by their start.
        #expect(k.contains("const int64_t i = 1 + (int64_t)get_global_id(1);"))
        #expect(k.contains("if (i >= N - 1) {"))
        #expect(k.contains("const int64_t j = 2 + (int64_t)get_global_id(0);"))
        #expect(k.contains("if (j >= M) {"))
        #expect(out.hostSource.contains("const int64_t braid_n0 = N - 2;"))
        #expect(out.hostSource.contains("const int64_t braid_n1 = M - 2;"))
        #expect(out.hostSource.contains("{braid_ocl_round(braid_n1, 32), braid_ocl_round(braid_n0, 4)}"))
    }

    @Test func sequentialLoopsRunOnTheHostAroundKernels() throws {
        let out = try OpenCLBackend.generate(module([try stepsProgram()]))
        #expect(out.hostSource.contains("for (int64_t t = 0; t < T; ++t) {"))
        // The kernel inside the loop does not need `t`; the return leaves through the exit path.
        let k0 = try #require(kernel("braid_k_steps_0", in: out.deviceSource))
        #expect(k0.contains("(long N, __global double *restrict A, __global double *restrict B)"))
        #expect(out.hostSource.contains("goto braid_exit;\nbraid_exit:;") || out.hostSource.contains("braid_exit:;"))
    }

    @Test func scalarReductionUsesPartialsNotAtomics() throws {
        let out = try OpenCLBackend.generate(module([try stepsProgram()]))
        let partial = try #require(kernel("braid_k_steps_2", in: out.deviceSource))
        #expect(partial.contains("double s = 0.0;"))
        #expect(partial.contains("for (int64_t i = braid_id; i < N; i += braid_size) {"))
        #expect(partial.contains("braid_partial_s[braid_id] = s;"))
        let fold = try #require(kernel("braid_k_steps_3", in: out.deviceSource))
        #expect(fold.contains("(long braid_n, __global double *restrict braid_partial_s, __global double *restrict s)"))
        #expect(fold.contains("(*s) = (*s) + braid_partial_s[braid_k];"))
        #expect(!out.deviceSource.contains("atomic"))
        #expect(out.hostSource.contains("const int64_t braid_items = braid_imin(braid_n0, 4096);"))
    }

    @Test func sequentialCodeRunsInASingleWorkItemKernel() throws {
        let out = try OpenCLBackend.generate(module([try stepsProgram()]))
        // `s = 0` (line 6) before the reduction: one work-item writing the device scalar.
        let k = try #require(kernel("braid_k_steps_1", in: out.deviceSource))
        #expect(k.contains("(__global double *restrict s)"))
        #expect(k.contains("(*s) = 0.0;"))
        #expect(out.hostSource.contains("const size_t braid_global[1] = {1};"))
        // The scalar result is read back at the end.
        #expect(out.hostSource.contains("braid_ocl_read(braid_buf__return0, sizeof(double), _return0, \"_return0\")"))
    }

    @Test func conditionReadingAnArrayIsComputedOnTheDevice() throws {
        let out = try OpenCLBackend.generate(module([try growProgram()]))
        #expect(out.deviceSource.contains("(*braid_cond) = ((A[0] < limit) != 0);"))
        #expect(out.hostSource.contains("braid_ocl_read(braid_buf_braid_cond, sizeof(bool), &braid_cond, \"braid_cond\")"))
        #expect(out.hostSource.contains("if (!(braid_cond)) {\n            break;"))
        // `n` is read by no host code, but kernels launched in the loop share it: a device scalar.
        #expect(out.hostSource.contains("braid_ocl_buffer(&braid_buf_n, sizeof(int64_t), &n, 0, BRAID_OCL_COPY, \"n\")"))
    }

    @Test func sequentialMapAroundKernelsLoopsOnTheHost() throws {
        let out = try OpenCLBackend.generate(module([try rowsProgram()]))
        #expect(out.hostSource.contains("for (int64_t r = 0; r < N; ++r) {"))
        // The host map's private scalar is shared by the kernels of one iteration: a device scalar.
        #expect(out.hostSource.contains("braid_ocl_buffer(&braid_buf_acc, sizeof(double), &acc, 0, BRAID_OCL_COPY, \"acc\")"))
        let k = try #require(kernel("braid_k_rows_1", in: out.deviceSource))
        #expect(k.contains("(long M, long r, __global double *restrict A, __global double *restrict B, __global double *restrict acc)"))
        #expect(k.contains("B[(r) * (M) + c] = (A[(r) * (M) + c] - (*acc));"))
        #expect(out.hostSource.contains("&(cl_long){r}"))
    }

    @Test func complexNumbersAreVectorsWithHelperCalls() throws {
        let i = SymExpr.sym("i")
        let z = try program("cplx", params: ["Z", "W"], symbols: ["N"],
                            containers: [array("Z", [N], .argument(index: 0), .complex128, written: true),
                                         array("W", [N], .argument(index: 1), .complex128)],
                            body: [.map(MapScope(params: ["i"], ranges: [SymRange(.zero, N)], schedule: .deviceKernel, body: [
                                assign("Z", [i], .binary(.add, .binary(.mul, load("Z", [i], .complex128), load("W", [i], .complex128), .complex128),
                                                         .literal(.complex(1, -2), .complex128), .complex128), line: 12),
                            ], loc: at(11)))])
        let out = try OpenCLBackend.generate(module([z]))
        let k = try #require(kernel("braid_k_cplx_0", in: out.deviceSource))
        #expect(k.contains("(long N, __global double2 *restrict Z, __global double2 *restrict W)"))
        #expect(k.contains("Z[i] = (braid_cmul(Z[i], W[i]) + ((double2)(1.0, (-2.0))));"))
        #expect(out.deviceSource.contains("double2 braid_cmul(double2 a, double2 b) { return (double2)(a.x * b.x - a.y * b.y, a.x * b.y + a.y * b.x); }"))
        // Only the helpers the kernels call.
        #expect(!out.deviceSource.contains("braid_cdiv") && !out.deviceSource.contains("braid_cmulf"))
        #expect(out.deviceSource.contains("#pragma OPENCL EXTENSION cl_khr_fp64 : enable"))
        #expect(out.deviceSource.contains("#pragma OPENCL FP_CONTRACT OFF"))
        // Host buffers keep the C99 complex layout.
        #expect(out.hostSource.contains("braid_ocl_buffer(&braid_buf_W, (size_t)((N)) * sizeof(double _Complex), W, 1, BRAID_OCL_INPUT, \"W\")"))
    }

    @Test func singlePrecisionComplexUsesFloatHelpersWithoutFP64() throws {
        let i = SymExpr.sym("i")
        let p = try program("cplx64", params: ["Z", "R"], symbols: ["N"],
                            containers: [array("Z", [N], .argument(index: 0), .complex64),
                                         array("R", [N], .argument(index: 1), .float32, written: true)],
                            body: [.map(MapScope(params: ["i"], ranges: [SymRange(.zero, N)], schedule: .deviceKernel, body: [
                                assign("R", [i], .call(.abs, [.binary(.div, .literal(.complex(1, 0), .complex64),
                                                                      .call(.power, [load("Z", [i], .complex64), load("Z", [i], .complex64)], .complex64),
                                                                      .complex64)], .float32), line: 3),
                            ], loc: at(3)))])
        let out = try OpenCLBackend.generate(module([p]))
        let k = try #require(kernel("braid_k_cplx64_0", in: out.deviceSource))
        #expect(k.contains("R[i] = braid_cabsf(braid_cdivf(((float2)(1.0f, 0.0f)), braid_cpowf(Z[i], Z[i])));"))
        // cpow's own helpers come along, in single precision.
        for helper in ["float braid_cabsf(float2 z)", "float2 braid_cdivf(float2 a, float2 b)", "float2 braid_cmulf(float2 a, float2 b)",
                       "float2 braid_cexpf(float2 z)", "float2 braid_clogf(float2 z)", "float2 braid_cpowf(float2 a, float2 b)"] {
            #expect(out.deviceSource.contains(helper), "\(helper)")
        }
        #expect(!out.deviceSource.contains("double"))
        #expect(!out.deviceSource.contains("cl_khr_fp64"))
    }

    @Test func complexProductReductionStartsAtOne() throws {
        let i = SymExpr.sym("i")
        let p = try program("cprod", params: ["Z"], symbols: ["N"],
                            containers: [array("Z", [N], .argument(index: 0), .complex128),
                                         scalar("s", .transient, .complex128, written: true),
                                         scalar("_return0", .result(index: 0), .complex128, written: true)],
                            results: ["_return0"],
                            body: [
                                assign("s", [], .literal(.complex(1, 0), .complex128), line: 2),
                                .map(MapScope(params: ["i"], ranges: [SymRange(.zero, N)], schedule: .deviceKernel, body: [
                                    assign("s", [], load("Z", [i], .complex128), wcr: .mul, line: 2),
                                ], reductions: ["s": .mul], loc: at(2))),
                                assign("_return0", [], load("s", [], .complex128), line: 3),
                            ])
        let out = try OpenCLBackend.generate(module([p]))
        let partial = try #require(kernel("braid_k_cprod_1", in: out.deviceSource))
        #expect(partial.contains("double2 s = ((double2)(1.0, 0.0));"))
        #expect(partial.contains("s = braid_cmul(s, Z[i]);"))
        let fold = try #require(kernel("braid_k_cprod_2", in: out.deviceSource))
        #expect(fold.contains("(*s) = braid_cmul((*s), braid_partial_s[braid_k]);"))
        #expect(out.hostSource.contains("int braid_native_cprod(int64_t N, double _Complex *restrict Z, double _Complex * _return0)"))
    }

    @Test func complexMaximumIsRejectedAtItsLine() throws {
        let i = SymExpr.sym("i")
        let z = try program("cmax", params: ["Z"], symbols: ["N"],
                            containers: [array("Z", [N], .argument(index: 0), .complex128, written: true)],
                            body: [.map(MapScope(params: ["i"], ranges: [SymRange(.zero, N)], schedule: .deviceKernel, body: [
                                assign("Z", [i], .binary(.max, load("Z", [i], .complex128), .literal(.complex(1, 2), .complex128), .complex128),
                                       line: 12),
                            ], loc: at(11)))])
        let error = #expect(throws: BackendError.self) { try OpenCLBackend.generate(module([z])) }
        #expect(error?.diagnostic.loc.line == 12)
        #expect(error?.description.contains("max of complex numbers is not supported yet (complex numbers have +, -, *, /") == true)
    }

    /// `n = count(X > 0)`, then a result of length n: `Y[k] = 2 X[k]` (an array whose size
    /// depends on data, allocated on the device and handed to the caller).
    @Test func arraysWhoseSizeDependsOnDataAreReallocatedAndReturned() throws {
        let i = SymExpr.sym("i"), k = SymExpr.sym("k"), n = SymExpr.sym("n")
        let p = try program(
            "grab", params: ["X"], symbols: ["N"],
            containers: [array("X", [N], .argument(index: 0)),
                         scalar("n", .transient, .int64, written: true),
                         Container(name: "Y", dtype: .float64, shape: [n], role: .result(index: 0), storage: .hostHeap,
                                   isWritten: true, isDynamic: true)],
            results: ["Y"],
            body: [
                assign("n", [], .literal(.int(0), .int64), line: 2),
                .map(MapScope(params: ["i"], ranges: [SymRange(.zero, N)], schedule: .deviceKernel, body: [
                    assign("n", [], .cast(.binary(.gt, load("X", [i]), f64(0), .bool), .int64), wcr: .add, line: 2),
                ], reductions: ["n": .add], loc: at(2))),
                .allocate(Allocation(container: "Y", loc: at(3))),
                .map(MapScope(params: ["k"], ranges: [SymRange(.zero, n)], schedule: .deviceKernel, body: [
                    assign("Y", [k], .binary(.mul, f64(2), load("X", [k]), .float64), line: 3),
                ], loc: at(3))),
            ])
        let host = try OpenCLBackend.generate(module([p])).hostSource
        #expect(host.contains("int braid_native_grab(int64_t N, double *restrict X, double ** braid_out_Y, int64_t * braid_shape_Y)"))
        // The extent is read back, then the buffer is replaced when it is too small.
        let allocation = try #require(host.range(of: "// ocl_kernels.py:3\n"))
        let rest = String(host[allocation.lowerBound...])
        #expect(rest.contains("braid_ocl_read(braid_buf_n, sizeof(int64_t), &n, \"n\")"))
        #expect(rest.contains("if (braid_buf_Y == NULL || (size_t)((n)) * sizeof(double) > braid_cap_Y) {\n"
            + "        braid_ocl_release(&braid_buf_Y);"))
        #expect(rest.contains("braid_ocl_buffer(&braid_buf_Y, (size_t)((n)) * sizeof(double), NULL, 0, BRAID_OCL_EMPTY, \"Y\")"))
        // On success the caller gets host memory and the shape.
        #expect(host.contains("braid_status = braid_ocl_read(braid_buf_Y, braid_bytes, braid_host, \"Y\");"))
        #expect(host.contains("*braid_out_Y = braid_host;"))
        #expect(host.contains("braid_shape_Y[0] = (int64_t)(n);"))
        // Not created with the other buffers (its size is not known on entry).
        #expect(!host.contains("braid_ocl_buffer(&braid_buf_Y, (size_t)((n)) * sizeof(double), Y"))
    }

    /// `k = 0; for i: if X[i] > 0: S[k] = X[i]; k += 1` (a selection as the frontend writes it),
    /// or with `X[k] = X[i]` a loop whose iterations depend on each other.
    private func selectionProgram(inPlace: Bool) throws -> Program {
        let i = SymExpr.sym("i"), n = SymExpr.sym("n"), k = SymExpr.sym("k")
        let target = inPlace ? "X" : "S"
        return try program(
            "pick", params: ["X"], symbols: ["N"],
            containers: [array("X", [N], .argument(index: 0), written: inPlace),
                         scalar("n", .transient, .int64, written: true),
                         scalar("k", .transient, .int64, written: true),
                         Container(name: "S", dtype: .float64, shape: [n], role: .result(index: 0), storage: .hostHeap,
                                   isWritten: true, isDynamic: true)],
            results: ["S"],
            body: [
                assign("n", [], .literal(.int(0), .int64), line: 2),
                .map(MapScope(params: ["i"], ranges: [SymRange(.zero, N)], schedule: .deviceKernel, body: [
                    assign("n", [], .cast(.binary(.gt, load("X", [i]), f64(0), .bool), .int64), wcr: .add, line: 2),
                ], reductions: ["n": .add], loc: at(2))),
                .allocate(Allocation(container: "S", loc: at(3))),
                assign("k", [], .literal(.int(0), .int64), line: 4),
                .forLoop(ForLoop(variable: "i", range: SymRange(.zero, N), body: [
                    .branch(Branch(condition: .binary(.gt, load("X", [i]), f64(0), .bool), then: [
                        assign(target, [k], load("X", [i]), line: 4),
                        assign("k", [], .symbol(k + 1), line: 4),
                    ], orElse: [], loc: at(4))),
                ], loc: at(4))),
            ])
    }

    @Test func selectionsCountScanAndWriteInParallel() throws {
        let out = try OpenCLBackend.generate(module([try selectionProgram(inPlace: false)]))
        let count = try #require(kernel("braid_k_pick_4", in: out.deviceSource))
        #expect(count.contains("(long N, __global double *restrict X, __global double *restrict S, long braid_items, __global long *restrict braid_offsets)"))
        #expect(count.contains("for (int64_t braid_f = braid_lo; braid_f < braid_hi; ++braid_f) {"))
        #expect(count.contains("braid_offsets[braid_id] = braid_count;"))
        let scan = try #require(kernel("braid_k_pick_5", in: out.deviceSource))
        #expect(scan.contains("long braid_run = (*k);"))
        #expect(scan.contains("(*k) = braid_run;"))
        let write = try #require(kernel("braid_k_pick_6", in: out.deviceSource))
        #expect(write.contains("long k = braid_offsets[braid_id];"))
        #expect(write.contains("S[k] = X[i];\n            k = k + 1;"))
        // Three launches on the host, over at most 4096 chunks.
        #expect(out.hostSource.contains("const int64_t braid_items = braid_imin(braid_total, 4096);"))
        #expect(out.hostSource.contains("\"kernel braid_k_pick_6 (ocl_kernels.py:4)\""))
    }

    @Test func loopsWhoseIterationsDependStaySequential() throws {
        let out = try OpenCLBackend.generate(module([try selectionProgram(inPlace: true)]))
        #expect(!out.deviceSource.contains("braid_offsets"))
        #expect(out.deviceSource.contains("Single work-item kernel: lines ocl_kernels.py:4"))
    }

    @Test func runTimeChecksOverManyElementsRunAsOneKernel() throws {
        let i = SymExpr.sym("i")
        let p = try program(
            "check", params: ["J", "X"], symbols: ["N"],
            containers: [array("J", [N], .argument(index: 0), .int64), array("X", [N], .argument(index: 1), written: true)],
            body: [
                .map(MapScope(params: ["i"], ranges: [SymRange(.zero, N)], schedule: .sequential, body: [
                    .branch(Branch(condition: .binary(.ge, load("J", [i], .int64), .symbol(N), .bool),
                                   then: [.fail(.indexOutOfBounds, at(2))], orElse: [], loc: at(2))),
                ], loc: at(2))),
                .map(MapScope(params: ["i"], ranges: [SymRange(.zero, N)], schedule: .deviceKernel, body: [
                    assign("X", [i], .load(.point("X", [.dynamic(load("J", [i], .int64))]), .float64), line: 3),
                ], loc: at(3))),
            ])
        let out = try OpenCLBackend.generate(module([p]))
        let flag = try #require(kernel("braid_k_check_1", in: out.deviceSource))
        #expect(flag.contains("const int64_t i = (int64_t)get_global_id(0);"))
        #expect(flag.contains("if ((J[i] >= N)) {\n        (*braid_failed) = true;"))
        #expect(out.hostSource.contains("if (braid_failed) {\n        braid_status = 5;\n        goto braid_exit;"))
        // No kernel launch per element.
        #expect(!out.hostSource.contains("for (int64_t i = 0; i < N; ++i)"))
    }

    @Test func reservedNamesAreRenamed() throws {
        let p = try program("names", params: ["local", "half"], symbols: ["N"],
                            containers: [array("local", [N], .argument(index: 0)),
                                         array("half", [N], .argument(index: 1), written: true)],
                            body: [.map(MapScope(params: ["length"], ranges: [SymRange(.zero, N)], schedule: .deviceKernel,
                                                 body: [assign("half", [.sym("length")], load("local", [.sym("length")]), line: 2)],
                                                 loc: at(2)))])
        let out = try OpenCLBackend.generate(module([p]))
        #expect(out.deviceSource.contains("py_half[py_length] = py_local[py_length];"))
        // The Python-visible names are unchanged.
        let tu = try OpenCLBackend.translationUnit(module([p]))
        #expect(tu.contains("\"local\"") && tu.contains("\"half\""))
    }

    @Test func singlePrecisionNeedsNoFP64() throws {
        let p = try program("half_it", params: ["X"], symbols: ["N"],
                            containers: [array("X", [N], .argument(index: 0), .float32, written: true)],
                            body: [.map(MapScope(params: ["i"], ranges: [SymRange(.zero, N)], schedule: .deviceKernel, body: [
                                assign("X", [.sym("i")], .binary(.mul, load("X", [.sym("i")], .float32),
                                                                 .literal(.float(0.5), .float32), .float32), line: 2),
                            ], loc: at(2)))])
        let out = try OpenCLBackend.generate(module([p]))
        #expect(!out.deviceSource.contains("cl_khr_fp64"))
        #expect(!out.deviceSource.contains("double"))
        #expect(out.hostSource.contains("#define BRAID_OCL_NEEDS_FP64 0"))
        #expect(out.deviceSource.contains("X[i] = (X[i] * 0.5f);"))
    }

    @Test func outputIsDeterministic() throws {
        let a = try OpenCLBackend.translationUnit(module([try scaleProgram(), try stepsProgram(), try growProgram()]))
        let b = try OpenCLBackend.translationUnit(module([try scaleProgram(), try stepsProgram(), try growProgram()]))
        #expect(a == b)
    }
}

// MARK: - End to end: compile the module, run it on the CPU OpenCL device

/// Whether this machine can build and run OpenCL modules (headers, loader, an installed driver).
private let openCLAvailable: Bool = {
    let fm = FileManager.default
    let vendors = (try? fm.contentsOfDirectory(atPath: "/etc/OpenCL/vendors")) ?? []
    return fm.fileExists(atPath: "/usr/include/CL/cl.h") && !vendors.isEmpty
}()

private let openCLChecks = #"""
import os, sys
import numpy as np

sys.path.insert(0, sys.argv[1])
m = __import__(sys.argv[2])
failures = []

def check(cond, what):
    if not cond:
        failures.append(what)

rng = np.random.default_rng(1)
for n in (1, 7, 1000):
    A = rng.random(n)
    B = rng.random(n)
    out = np.empty_like(B)
    m.scale(A, out)
    check(np.allclose(out, 2 * A), f"scale n={n}")
    C = rng.random((n, 5))
    Bref = B.copy()
    for _ in range(3):
        Bref += 0.5 * A
    Cref = C.copy()
    ii, jj = np.meshgrid(np.arange(1, n - 1), np.arange(2, 5), indexing="ij")
    Cref[1:n - 1, 2:5] = Bref[1:n - 1, None] + ii + 10 * jj
    s = m.steps(3, A, B, C)
    check(np.allclose(B, Bref), f"steps B n={n}")
    check(np.allclose(s, Bref.sum()), f"steps sum n={n}: {s} vs {Bref.sum()}")
    check(np.allclose(C, Cref), f"steps C n={n}")
    G = rng.random(n) + 0.5
    Gref = G.copy()
    k = 0
    while Gref[0] < 40.0:
        Gref *= 2
        k += 1
    got = m.grow(G, 40.0)
    check(got == k and np.allclose(G, Gref), f"grow n={n}: {got} vs {k}")
    R = rng.random((n, 4))
    S = np.empty_like(R)
    m.rows(R, S)
    check(np.allclose(S, R - R[:, :1]), f"rows n={n}")
# zero-size arrays: no launch, no failure
z = np.empty(0)
m.scale(z, np.empty(0))
check(m.steps(2, z, np.empty(0), np.empty((0, 5))) == 0.0, "steps on empty arrays")

os.environ["BRAID_OPENCL_DEVICE"] = "nonsense"  # read once: the device is already chosen
m.scale(np.ones(3), np.ones(3))

if failures:
    print("\n".join(failures))
    sys.exit(1)
print("BRAID-OCL-OK")
"""#

private let openCLErrorChecks = #"""
import sys
import numpy as np
sys.path.insert(0, sys.argv[1])
m = __import__(sys.argv[2])
try:
    m.scale(np.ones(3), np.ones(3))
except RuntimeError as e:
    print("RAISED:", e)
    sys.exit(0)
print("NOT RAISED")
sys.exit(1)
"""#

@Suite(.enabled(if: openCLAvailable, "needs OpenCL headers and an installed OpenCL driver (e.g. PoCL)"))
struct OpenCLEndToEndTests {
    func build(_ programs: [Program], name: String, dir: String, edit: (String) -> String = { $0 }) throws -> String {
        let python = try PythonConfig.current()
        let m = IRModule(name: name, sourceFile: oclFile, programs: programs)
        let job = CompileJob(source: edit(try OpenCLBackend.translationUnit(m)), flags: ["-O1", "-fPIC", "-shared"],
                             extraFlags: ["-Wall", "-Wno-unused-function"] + python.compilerFlags + OpenCLBackend.compilerFlags,
                             linkFlags: OpenCLBackend.linkFlags,
                             outputPath: "\(dir)/\(name)\(PythonConfig.extensionSuffix)",
                             context: "while compiling the OpenCL test module")
        _ = try CCompiler(cacheDirectory: dir + "/cache").compile(job)
        return python.interpreter
    }

    func environment(_ device: String) -> [String: String] {
        var env = ProcessInfo.processInfo.environment
        env["BRAID_OPENCL_DEVICE"] = device
        return env
    }

    @Test func compiledModuleMatchesNumPyOnTheCPUDevice() throws {
        let python = try PythonConfig.current()
        try #require(python.hasNumPy, "the user's interpreter must have NumPy")
        let dir = try makeTemporaryDirectory("ocl-e2e")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let interpreter = try build([try scaleProgram(), try stepsProgram(), try growProgram(), try rowsProgram()],
                                    name: "braid_ocl_e2e", dir: dir)
        let script = dir + "/check.py"
        try openCLChecks.write(toFile: script, atomically: true, encoding: .utf8)
        let run = try Subprocess.run(interpreter, [script, dir, "braid_ocl_e2e"], environment: environment("cpu"))
        #expect(run.status == 0 && run.stdout.contains("BRAID-OCL-OK"), "stdout:\n\(run.stdout)\nstderr:\n\(run.stderr)")
    }

    @Test func buildFailureRaisesWithTheLog() throws {
        let python = try PythonConfig.current()
        try #require(python.hasNumPy, "the user's interpreter must have NumPy")
        let dir = try makeTemporaryDirectory("ocl-log")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        // Break the embedded kernel source the way a bad code generator would.
        let interpreter = try build([try scaleProgram()], name: "braid_ocl_bad", dir: dir) {
            $0.replacingOccurrences(of: "B[i] = (A[i] * 2.0);", with: "B[i] = (A[i] * braid_no_such_name);")
        }
        let script = dir + "/check.py"
        try openCLErrorChecks.write(toFile: script, atomically: true, encoding: .utf8)
        let run = try Subprocess.run(interpreter, [script, dir, "braid_ocl_bad"], environment: environment("cpu"))
        #expect(run.status == 0, "stdout:\n\(run.stdout)\nstderr:\n\(run.stderr)")
        #expect(run.stdout.contains("building the OpenCL program failed"))
        #expect(run.stdout.contains("braid_no_such_name"), "the build log names the problem:\n\(run.stdout)")
    }

    @Test func badDeviceSelectionRaises() throws {
        let python = try PythonConfig.current()
        try #require(python.hasNumPy, "the user's interpreter must have NumPy")
        let dir = try makeTemporaryDirectory("ocl-dev")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let interpreter = try build([try scaleProgram()], name: "braid_ocl_dev", dir: dir)
        let script = dir + "/check.py"
        try openCLErrorChecks.write(toFile: script, atomically: true, encoding: .utf8)
        for (device, message) in [("9:0", "there is no OpenCL platform 9"), ("bogus", "must be 'gpu', 'cpu' or 'P:D'")] {
            let run = try Subprocess.run(interpreter, [script, dir, "braid_ocl_dev"], environment: environment(device))
            #expect(run.status == 0 && run.stdout.contains(message), "stdout:\n\(run.stdout)\nstderr:\n\(run.stderr)")
        }
    }
}
