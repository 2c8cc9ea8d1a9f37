import Testing
@testable import BraidIR
@testable import BraidFrontend

/// Lowering of the wider NumPy surface: rolls, scans, ufunc methods, statistics, sorting,
/// batched matmul; and the diagnostics for the forms that are not supported.
@Suite struct NumPySurfaceTests {
    @Test func rollIsAModularViewFusedIntoTheConsumer() throws {
        let ir = try lowerIR(header + """
        @br.program
        def f(A: br.float64[N, M], B: br.float64[N, M], s: br.int64):
            B[:] = np.roll(A, 1, axis=0) + np.roll(A, s, axis=1)
        """)
        #expect(ir.contains("B[_i1, _i2] = add(A[(_i1 - 1) % N, _i2], A[_i1, (_i2 - s) % M])"))
        #expect(!ir.contains("transient"))
    }

    @Test func rollBoundToANameIsACopy() throws {
        let ir = try lowerIR(header + """
        @br.program
        def f(A: br.float64[N]):
            r = np.roll(A, -2)
            A[0] = 1.0
            return r
        """)
        // r is written before A changes.
        let copy = try #require(ir.range(of: "= A[(_i1 + 2) % N]"))
        let write = try #require(ir.range(of: "A[0] = 1"))
        #expect(copy.lowerBound < write.lowerBound)
    }

    @Test func rollRejectsArrayShifts() {
        let d = diagnostic(header + """
        @br.program
        def f(A: br.float64[N], k: br.int64[N]):
            A[:] = np.roll(A, k)
        """)
        #expect(d?.loc.line == 6)
        #expect(d?.message.contains("array of shifts is not supported") == true)
    }

    @Test func cumsumIsASequentialLoopInsideAParallelMap() throws {
        let ir = try lowerIR(header + """
        @br.program
        def f(A: br.float64[N, M]):
            return np.cumsum(A, axis=1)
        """)
        #expect(ir.contains("for _k"))
        #expect(ir.contains("select(eq(_k"))
        #expect(ir.contains("add(_acc"))
    }

    @Test func addAtIsBoundsCheckedAndSequential() throws {
        let ir = try lowerIR(header + """
        @br.program
        def f(A: br.float64[N], idx: br.int64[M], v: br.float64[M]):
            np.add.at(A, idx, v)
        """)
        #expect(ir.contains("fail index_out_of_bounds"))
        #expect(ir.contains("for _k"))
        #expect(!ir.contains("wcr"))
    }

    @Test func addAtRejectsBooleanMasks() {
        let d = diagnostic(header + """
        @br.program
        def f(A: br.float64[N], v: br.float64[N]):
            np.add.at(A, A > 0.5, v)
        """)
        #expect(d?.loc.line == 6)
        #expect(d?.message.contains("boolean mask is not supported") == true)
    }

    @Test func accumulateRejectsAxisNone() {
        let d = diagnostic(header + """
        @br.program
        def f(A: br.float64[N, M]):
            return np.add.accumulate(A, axis=None)
        """)
        #expect(d?.loc.line == 6)
        #expect(d?.message.contains("axis=None is not allowed") == true)
    }

    @Test func histogramRejectsBinEdgesArraysAndWeights() {
        let edges = diagnostic(header + """
        @br.program
        def f(A: br.float64[N], e: br.float64[M]):
            h, b = np.histogram(A, bins=e)
            return h
        """)
        #expect(edges?.loc.line == 6)
        #expect(edges?.message.contains("bins as an array of edges is not supported") == true)
        let weights = diagnostic(header + """
        @br.program
        def f(A: br.float64[N]):
            h, b = np.histogram(A, bins=3, weights=A > 0.5)
            return h
        """)
        #expect(weights?.message.contains("weights must be integer or float arrays") == true)
        let inverted = diagnostic(header + """
        @br.program
        def f(A: br.float64[N]):
            h, b = np.histogram(A, bins=3, range=(2.0, 1.0))
            return h
        """)
        #expect(inverted?.message.contains("max must be larger than min") == true)
        let single = diagnostic(header + """
        @br.program
        def f(A: br.float32[N]):
            h, b = np.histogram(A, bins=3)
            return h
        """)
        #expect(single?.message.contains("convert with .astype(np.float64)") == true)
    }

    @Test func histogramCountsInOneSequentialPass() throws {
        let ir = try lowerIR(header + """
        @br.program
        def f(A: br.float64[N]):
            h, b = np.histogram(A, bins=M, range=(0.0, 1.0))
            return h, b
        """)
        #expect(ir.contains("container hist: int64[M]"))
        #expect(ir.contains("container bin_edges: float64[M + 1]"))
        #expect(ir.contains("for _k"))
    }

    @Test func unsupportedStatisticsFormsAreNamed() {
        let cov = diagnostic(header + """
        @br.program
        def f(A: br.float64[N], B: br.float64[N]):
            return np.cov(A, B)
        """)
        #expect(cov?.loc.line == 6)
        #expect(cov?.message.contains("second array (y) is not supported") == true)
        let cross = diagnostic(header + """
        @br.program
        def f(A: br.float64[N, 2], B: br.float64[N, 2]):
            return np.cross(A, B)
        """)
        #expect(cross?.message.contains("3-vectors only") == true)
        let order = diagnostic(header + """
        @br.program
        def f(A: br.float64[N]):
            return np.sort(A, kind="bogus")
        """)
        #expect(order?.message.contains("kind= must be") == true)
    }

    @Test func sortIsAWhileLoopOfMergePassesPerRow() throws {
        let ir = try lowerIR(header + """
        @br.program
        def f(A: br.float64[N, M]):
            return np.argsort(A)
        """)
        #expect(ir.contains("while lt(_width"))
        #expect(ir.contains("container order: int64[N, M]"))
    }

    @Test func batchedMatmulIsAMapOfMatmulNodes() throws {
        let ir = try lowerIR(header + """
        @br.program
        def f(A: br.float64[N, M, M], B: br.float64[M, M]):
            return A @ B
        """)
        #expect(ir.contains("bmm[_i1, 0:M, 0:M] = matmul(A[_i1, 0:M, 0:M], B[0:M, 0:M])"))
    }

    @Test func batchedMatmulChecksInnerDimensionsAndDotRejectsStacks() {
        let inner = diagnostic(header + """
        @br.program
        def f(A: br.float64[N, M, 3], B: br.float64[N, 4, M]):
            return A @ B
        """)
        #expect(inner?.message.contains("shapes do not agree") == true)
        let dot = diagnostic(header + """
        @br.program
        def f(A: br.float64[N, M, M], B: br.float64[M, M]):
            return np.dot(A, B)
        """)
        #expect(dot?.loc.line == 6)
        #expect(dot?.message.contains("np.dot of an array with more than 2 dimensions") == true)
    }

    /// Lowers the subscript of `np.mgrid`/`np.ogrid` in helper `h` with a lowerer whose
    /// entry `f(n)` was lowered first (so `n` is bound); returns the value and the IR lines.
    func grid(_ key: String, sparse: Bool) throws -> (Value, String) {
        let source = "import numpy as np\n#pythran export f(int)\ndef f(n):\n    return n\ndef h(n):\n    return np.mgrid[\(key)]\n"
        let ctx = try ModuleContext(module: try PythonParser.parse(source: source, file: "k.py"), signatures: [])
        let l = FunctionLowerer(ctx: ctx, entry: ctx.entries[0], widened: [:])
        _ = try l.lower()
        l.blocks = [[]]
        l.env["n"] = .scalar(.symbol(.sym("n")), weak: false)  // the int64 parameter, as a symbol
        guard case .return(let e?) = ctx.functions["h"]!.body[0].kind, case .subscript(_, let index) = e.kind else {
            throw Diagnostic(SourceLocation(file: "k.py", line: 0, column: 0), "test setup")
        }
        let v = try l.indexGrid(index, sparse: sparse)
        var text = ""
        for n in l.blocks[0] { IRPrinter.printNode(n, indent: "", into: &text) }
        return (v, text)
    }

    @Test func mgridIsAStackedIntegerGridWithNumPySizes() throws {
        let (v, ir) = try grid("0:n, 5:0:-2", sparse: false)
        guard case .array(let g) = v else { Issue.record("not an array"); return }
        #expect(g.dtype == .int64)
        #expect(g.shape.count == 3 && g.shape[0] == .int(2) && g.shape[2] == .int(3))
        #expect(ir.contains("mgrid[0, _i"))
        #expect(ir.contains("mgrid[1, _i"))
        #expect(ir.contains("= (-2)*_i") && ir.contains(" + 5"))
    }

    @Test func mgridWithAComplexStepIsFloatLinspace() throws {
        let (v, ir) = try grid("0:1:5j, 0:3", sparse: false)
        guard case .array(let g) = v else { Issue.record("not an array"); return }
        #expect(g.dtype == .float64)
        #expect(g.shape == [.int(2), .int(5), .int(3)])
        #expect(ir.contains("mul(float64(_i") && ir.contains("0.25"))
    }

    @Test func ogridIsATupleOfBroadcastableArrays() throws {
        let (v, _) = try grid("0:3, 1:2:0.25", sparse: true)
        guard case .tuple(let parts) = v, parts.count == 2, case .array(let a) = parts[0], case .array(let b) = parts[1] else {
            Issue.record("not a pair of arrays"); return
        }
        #expect(a.shape == [.int(3), .one] && b.shape == [.one, .int(4)])
        #expect(a.dtype == .float64 && b.dtype == .float64)
    }

    @Test func gridRejectsDataDependentFloatBounds() {
        #expect(throws: Diagnostic.self) { _ = try grid("0:n:0.5", sparse: false) }
    }
}
