import Testing
import BraidIR
@testable import BraidCodegen

private let here = SourceLocation(file: "dynres.py", line: 4, column: 5)

/// `return x[x > 0], n` written by hand in the IR: count, allocate the result `y`, fill it.
/// With `failAfter`, the program fails after filling (an error the result must not leak through).
private func selection(failAfter: Bool = false) -> Program {
    let cond = ScalarExpr.binary(.gt, .load(.point("x", [.sym(.sym("i"))]), .float64), .literal(.float(0), .float64), .bool)
    var body: [Node] = [
        .tasklet(Tasklet(output: .point("n", []), value: .symbol(.zero), loc: here)),
        .map(MapScope(params: ["i"], ranges: [SymRange(.zero, .sym("N"))], schedule: .sequential,
                      body: [.tasklet(Tasklet(output: .point("n", []), wcr: .add, value: .cast(cond, .int64), loc: here))],
                      reductions: ["n": .add], loc: here)),
        .allocate(Allocation(container: "y", loc: here)),
        .tasklet(Tasklet(output: .point("k", []), value: .symbol(.zero), loc: here)),
        .forLoop(ForLoop(variable: "i", range: SymRange(.zero, .sym("N")), body: [
            .branch(Branch(condition: cond, then: [
                .tasklet(Tasklet(output: .point("y", [.sym(.sym("k")), .sym(.zero)]), value: .load(.point("x", [.sym(.sym("i"))]), .float64), loc: here)),
                .tasklet(Tasklet(output: .point("k", []), value: .symbol(.sym("k") + 1), loc: here)),
            ], orElse: [], loc: here)),
        ], loc: here)),
        .tasklet(Tasklet(output: .point("r", []), value: .symbol(.sym("n")), loc: here)),
    ]
    if failAfter { body.append(.fail(.indexOutOfBounds, here)) }
    body.append(.returnProgram(here))
    let containers = [
        Container(name: "x", dtype: .float64, shape: [.sym("N")], role: .argument(index: 0), storage: .hostHeap),
        Container(name: "n", dtype: .int64, shape: [], role: .transient, storage: .register, isWritten: true),
        Container(name: "k", dtype: .int64, shape: [], role: .transient, storage: .register, isWritten: true),
        // Rank 2: n rows of one element each, so both shape entries are reported.
        Container(name: "y", dtype: .float64, shape: [.sym("n"), .one], role: .result(index: 0), storage: .hostHeap,
                  isWritten: true, isDynamic: true),
        Container(name: "r", dtype: .int64, shape: [], role: .result(index: 1), storage: .register, isWritten: true),
    ]
    return Program(name: "sel", params: ["x"], defaults: [:], symbols: ["N"], containers: containers,
                   results: ["y", "r"], shapeAssertions: [], body: body, loc: here)
}

private func module(_ p: Program) throws -> IRModule {
    try Verifier.verify(p)
    return IRModule(name: "dynres", sourceFile: "dynres.py", programs: [p])
}

@Suite struct DynamicResultTests {
    @Test func entryPointTakesDataAndShapePointers() throws {
        let code = try CPUBackend.nativeCode(try module(selection()))
        #expect(code.contains("int braid_native_sel(int64_t N, double *restrict x, double ** braid_out_y, int64_t * braid_shape_y, int64_t * r)"))
        // The result is storage of the function's own, allocated where it is defined.
        #expect(code.contains("double *y = NULL;"))
        #expect(code.contains("y = (double *)braid_alloc((size_t)((n) * (1)) * sizeof(double));")
                || code.contains("y = (double *)braid_alloc((size_t)((n)) * sizeof(double));"))
    }

    @Test func successHandsOverBeforeTheExitFrees() throws {
        let code = try CPUBackend.nativeCode(try module(selection()))
        let exit = try #require(code.range(of: "braid_exit:"))
        let tail = code[exit.upperBound...]
        let hand = try #require(tail.range(of: "if (braid_status == 0) {"))
        let out = try #require(tail.range(of: "*braid_out_y = y;"))
        let shape0 = try #require(tail.range(of: "braid_shape_y[0] = (int64_t)(n);"))
        let shape1 = try #require(tail.range(of: "braid_shape_y[1] = (int64_t)(1);"))
        let clear = try #require(tail.range(of: "y = NULL;"))
        let free = try #require(tail.range(of: "free(y);"))
        #expect(hand.lowerBound < out.lowerBound && out.lowerBound < shape0.lowerBound && shape0.lowerBound < shape1.lowerBound)
        #expect(shape1.lowerBound < clear.lowerBound && clear.lowerBound < free.lowerBound)
    }

    @Test func failureFreesTheResult() throws {
        let code = try CPUBackend.nativeCode(try module(selection(failAfter: true)))
        // The failure jumps to the exit, where status != 0 skips the hand-over and free(y) releases it.
        #expect(code.contains("braid_status = 5;"))
        let exit = try #require(code.range(of: "braid_exit:"))
        #expect(code[exit.upperBound...].contains("free(y);"))
    }

    @Test func mpiSharesTheHandOver() throws {
        let code = try MPIBackend.source(try module(selection()))
        #expect(code.contains("double ** braid_out_y, int64_t * braid_shape_y"))
        #expect(code.contains("*braid_out_y = y;"))
    }

    @Test func extensionDescribesADynamicResult() throws {
        let f = ModuleSource.extensionFunction(selection(), doc: "")
        guard case .dynamicArray(let d, let rank) = f.results[0] else {
            Issue.record("result 0 is \(f.results[0]), not a dynamic array")
            return
        }
        #expect(d == .float64 && rank == 2)
        guard case .scalar(.int64) = f.results[1] else {
            Issue.record("result 1 is \(f.results[1])")
            return
        }
    }

    @Test func wrapperCopiesAfterTheCallAndFreesOnEveryPath() throws {
        let f = ModuleSource.extensionFunction(selection(), doc: "")
        let text = PyExtensionEmitter.emit(ExtensionModuleSpec(moduleName: "dynres", functions: [f], hasErrorMessages: true))
        #expect(text.contains("double *res_0 = NULL;"))
        #expect(text.contains("int64_t resshape_0[2] = {0};"))
        #expect(text.contains("int (*const"))
        #expect(text.contains("double **, int64_t *, int64_t *)"))
        // Created only after the native call succeeded, from the reported shape.
        let call = try #require(text.range(of: "status = "))
        let create = try #require(text.range(of: "_braid_py_new_array(fname, 0, 2, resshape_0,"))
        #expect(call.lowerBound < create.lowerBound)
        // A large result becomes the array's storage; a small one is copied, then freed.
        #expect(text.contains("void *_braid_py_storage = (void *)res_0;"))
        #expect(text.contains("&_braid_py_storage, &out_0, &outview_0) < 0)"))
        #expect(text.contains("if (outview_0.len > 0) memcpy(outview_0.buf, _braid_py_storage, (size_t)outview_0.len);"))
        // Freed at the common exit, which error paths reach too.
        let done = try #require(text.range(of: "done:", options: .backwards))
        #expect(text[done.upperBound...].contains("braid_pool_free(res_0);"))
        #expect(text[done.upperBound...].contains("if (outheld_0) PyBuffer_Release(&outview_0);"))
    }

    @Test func verifierAcceptsDynamicResultsAndRejectsDynamicArguments() throws {
        try Verifier.verify(selection())
        var p = selection()
        p.containers[0].isDynamic = true
        #expect(throws: Verifier.Failure.self) { try Verifier.verify(p) }
        var q = selection()
        q.containers[4].isDynamic = true  // a scalar result cannot be dynamic
        #expect(throws: Verifier.Failure.self) { try Verifier.verify(q) }
    }

    @Test func openCLHandsTheResultOverAndHLSRejects() throws {
        let m = try module(selection())
        #expect(throws: BackendError.self) { _ = try HLSBackend.source(m) }
        let openCL = try OpenCLBackend.source(m)
        #expect(openCL.contains("double ** braid_out_y, int64_t * braid_shape_y, int64_t * r)"))
        #expect(openCL.contains("*braid_out_y = braid_host;"))
        #expect(openCL.contains("braid_shape_y[1] = (int64_t)(1);"))
    }
}
