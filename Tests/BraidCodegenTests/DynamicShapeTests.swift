import Testing
import BraidIR
@testable import BraidCodegen

private let here = SourceLocation(file: "dyn.py", line: 3, column: 5)

/// `y = x[x > 0]` written by hand in the IR: count, allocate, fill; returns the count.
private func selection(takeInto: Bool = false) -> Program {
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
                .tasklet(Tasklet(output: .point("y", [.sym(.sym("k"))]), value: .load(.point("x", [.sym(.sym("i"))]), .float64), loc: here)),
                .tasklet(Tasklet(output: .point("k", []), value: .symbol(.sym("k") + 1), loc: here)),
            ], orElse: [], loc: here)),
        ], loc: here)),
    ]
    var containers = [
        Container(name: "x", dtype: .float64, shape: [.sym("N")], role: .argument(index: 0), storage: .hostHeap),
        Container(name: "n", dtype: .int64, shape: [], role: .transient, storage: .register, isWritten: true),
        Container(name: "k", dtype: .int64, shape: [], role: .transient, storage: .register, isWritten: true),
        Container(name: "y", dtype: .float64, shape: [.sym("n")], role: .transient, storage: .hostHeap,
                  isWritten: true, isDynamic: true),
        Container(name: "r", dtype: .int64, shape: [], role: .result(index: 0), storage: .register, isWritten: true),
    ]
    if takeInto {
        containers.append(Container(name: "z_size", dtype: .int64, shape: [], role: .transient, storage: .register, isWritten: true))
        containers.append(Container(name: "z", dtype: .float64, shape: [.sym("z_size")], role: .transient,
                                    storage: .hostHeap, isWritten: true, isDynamic: true))
        body += [
            .tasklet(Tasklet(output: .point("z_size", []), value: .symbol(.sym("n")), loc: here)),
            .allocate(Allocation(container: "z", takeFrom: "y", loc: here)),
        ]
    }
    body.append(.tasklet(Tasklet(output: .point("r", []), value: .symbol(.sym("n")), loc: here)))
    return Program(name: "sel", params: ["x"], defaults: [:], symbols: ["N"], containers: containers,
                   results: ["r"], shapeAssertions: [], body: body, loc: here)
}

private func module(_ p: Program) throws -> IRModule {
    try Verifier.verify(p)
    return IRModule(name: "dyn", sourceFile: "dyn.py", programs: [p])
}

@Suite struct DynamicShapeTests {
    @Test func dynamicContainerIsAllocatedWhereDefinedAndFreedAtExit() throws {
        let code = try CPUBackend.nativeCode(try module(selection()))
        // Declared NULL without restrict, never allocated at entry.
        #expect(code.contains("double *y = NULL;"))
        let alloc = try #require(code.range(of: "free(y);\n"))
        let rest = code[alloc.upperBound...]
        #expect(rest.drop(while: { $0 == " " }).hasPrefix("y = (double *)braid_alloc((size_t)((n)) * sizeof(double));"))
        // The count loop precedes the allocation; the fill comes after it.
        let count = try #require(code.range(of: "n = n + "))
        #expect(count.lowerBound < alloc.lowerBound)
        let fill = try #require(code.range(of: "y[k] = x[i];"))
        #expect(fill.lowerBound > alloc.lowerBound)
        // Released on the exit path.
        let exit = try #require(code.range(of: "braid_exit:"))
        #expect(code[exit.upperBound...].contains("free(y);"))
        // Sizes are checked before allocating (a negative size is a shape error, not a huge malloc).
        #expect(code.contains("if ((n) < 0)"))
    }

    @Test func takingOverStorageSwapsThePointers() throws {
        let code = try CPUBackend.nativeCode(try module(selection(takeInto: true)))
        // z takes y's storage; y keeps z's old buffer (and its capacity) to reuse.
        #expect(code.contains("double * braid_swap = z;") || code.contains("double *braid_swap = z;"))
        #expect(code.contains("z = y;"))
        #expect(code.contains("y = braid_swap;"))
        #expect(code.contains("z_capacity = y_capacity;"))
        #expect(code.contains("y_capacity = braid_swap_capacity;"))
        #expect(code.contains("z_size = n;"))
        // Both buffers are released at exit.
        let exit = try #require(code.range(of: "braid_exit:"))
        #expect(code[exit.upperBound...].contains("free(z);") && code[exit.upperBound...].contains("free(y);"))
    }

    @Test func storageLargeEnoughIsReused() throws {
        let code = try CPUBackend.nativeCode(try module(selection()))
        #expect(code.contains("size_t y_capacity = 0;"))
        #expect(code.contains("if (y == NULL || (size_t)((n)) * sizeof(double) > y_capacity)"))
    }

    @Test func printerShowsDynamicContainersAndAllocations() throws {
        let text = IRPrinter.print(selection(takeInto: true))
        #expect(text.contains("container y: float64[n] transient host_heap dynamic written"))
        #expect(text.contains("allocate y  # line 3"))
        #expect(text.contains("allocate z from y  # line 3"))
    }

    @Test func verifierRejectsAllocatingAFixedContainer() throws {
        var p = selection()
        p.body.insert(.allocate(Allocation(container: "x", loc: here)), at: 0)
        #expect(throws: Verifier.Failure.self) { try Verifier.verify(p) }
        var q = selection()
        q.containers[0].isDynamic = true  // an argument cannot be dynamic
        #expect(throws: Verifier.Failure.self) { try Verifier.verify(q) }
        var r = selection(takeInto: true)
        let z = r.containers.firstIndex { $0.name == "z" }!
        r.containers[z].dtype = .float32
        #expect(throws: Verifier.Failure.self) { try Verifier.verify(r) }
    }

    @Test func mpiSharesTheAllocationLowering() throws {
        let code = try MPIBackend.source(try module(selection(takeInto: true)))
        #expect(code.contains("double *y = NULL;"))
        #expect(code.contains("y = (double *)braid_alloc((size_t)((n)) * sizeof(double));"))
        #expect(code.contains("z = y;"))
    }

    @Test func openCLReallocatesDeviceBuffersAndHLSRejectsDataDependentSizes() throws {
        let m = try module(selection())
        let openCL = try OpenCLBackend.source(m)
        #expect(openCL.contains("braid_ocl_buffer(&braid_buf_y, (size_t)((n)) * sizeof(double), NULL, 0, BRAID_OCL_EMPTY, \"y\")"))
        do {
            _ = try HLSBackend.source(m)
            Issue.record("hls accepted a dynamic array")
        } catch let e as BackendError {
            #expect(e.description.contains("dyn.py:3:5"))
            #expect(e.description.contains("size depends on data"))
        }
    }
}
