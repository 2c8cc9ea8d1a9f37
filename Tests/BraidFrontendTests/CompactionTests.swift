import Testing
import BraidIR
@testable import BraidFrontend

/// Calls the registry entry `function` on the parameter `x` of `source`'s only entry point and
/// returns the verified IR of what it emitted, with the shapes of the arrays it returned.
private func lowerCall(_ function: String, _ source: String) throws -> (ir: String, shapes: [[SymExpr]]) {
    let module = try PythonParser.parse(source: source, file: "k.py")
    let ctx = try ModuleContext(module: module, signatures: [])
    let l = FunctionLowerer(ctx: ctx, entry: ctx.entries[0], widened: [:])
    _ = try l.lowerOnce()
    let loc = SourceLocation(file: "k.py", line: 9, column: 1)
    l.blocks = [[]]
    let v = try CompactionRegistry.functions[function]!.lower(l, CallArgs(positional: [l.env["x"]!], keywords: [:], loc: loc, function: function))
    var arrays: [Lazy] = []
    if case .tuple(let vs) = v { for case .array(let a) in vs { arrays.append(a) } }
    if case .array(let a) = v { arrays.append(a) }
    let p = Program(name: "f", params: ["x"], defaults: [:], symbols: l.symbols, containers: l.containers, results: [],
                    shapeAssertions: [], body: l.blocks[0], loc: loc)
    try Verifier.verify(p)
    return (IRPrinter.print(p), arrays.map(\.shape))
}

/// Boolean selections used as arrays, and names rebound to arrays of other shapes.
@Suite struct CompactionTests {
    @Test func selectionCountsAllocatesAndFillsInOrder() throws {
        let ir = try lowerIR("""
        import numpy as np
        #pythran export f(float64[:], float64)
        def f(x, t):
            y = x[x > t]
            return np.sum(y)
        """)
        #expect(ir.contains("container selected: float64[_count1] transient host_heap dynamic written"))
        // Count (a reduction), then storage, then one sequential pass that appends.
        let count = try #require(ir.range(of: "_count1 = (wcr add) int64(gt(x[_i2], t))"))
        let alloc = try #require(ir.range(of: "allocate selected  # line 4"))
        let fill = try #require(ir.range(of: "selected[_next3] = x[_i4]"))
        #expect(count.lowerBound < alloc.lowerBound && alloc.lowerBound < fill.lowerBound)
        #expect(ir.contains("for _i4 in 0:x_shape_0:"))
        #expect(ir.contains("_next3 = _next3 + 1"))
        // The sum runs over the selection's length.
        #expect(ir.contains("in 0:_count1 reduce("))
    }

    @Test func rowSelectionKeepsTheOtherAxes() throws {
        let ir = try lowerIR("""
        import numpy as np
        #pythran export f(float64[:,:])
        def f(A):
            R = A[A[:, 0] > 0.5]
            return np.sum(R)
        """)
        #expect(ir.contains("container selected: float64[_count1, A_shape_1] transient host_heap dynamic written"))
        #expect(ir.contains("selected[_next3, _j5] = A[_i4, _j5]"))
    }

    @Test func oneMaskIsCountedOncePerStraightLineCode() throws {
        let ir = try lowerIR("""
        import numpy as np
        #pythran export f(float64[:], float64[:])
        def f(x, y):
            m = x > 0.5
            a = x[m]
            b = y[m]
            return np.sum(a) + np.sum(b)
        """)
        #expect(ir.components(separatedBy: "(wcr add) int64(").count == 2)
        #expect(ir.contains("allocate selected_1"))
    }

    @Test func nameReboundToASmallerArrayInALoopGetsDynamicStorage() throws {
        let ir = try lowerIR("""
        import numpy as np
        #pythran export f(float64[:], int)
        def f(x, n):
            z = x * 1.0
            for it in range(n):
                z = z[z > 0.25] * 0.5
            return np.sum(z)
        """)
        #expect(ir.contains("container z: float64[z_size0] transient host_heap dynamic written"))
        // The new array's storage is taken over without a copy, after the size is updated.
        let size = try #require(ir.range(of: "z_size0 = "))
        let take = try #require(ir.range(of: "allocate z from "))
        #expect(size.lowerBound < take.lowerBound)
        #expect(ir.contains("in 0:z_size0 reduce("))
    }

    @Test func parameterReboundInALoopStartsAsACopy() throws {
        let ir = try lowerIR("""
        import numpy as np
        #pythran export f(float64[:], int)
        def f(c, n):
            for it in range(n):
                c = c[c < 0.9]
            return np.sum(c)
        """)
        #expect(ir.contains("container c_1: float64[c_size0] transient host_heap dynamic written"))
        #expect(ir.contains("c_1[_i1] = c[_i1]"))
        #expect(!ir.contains("container c: float64[c_shape_0] arg 0 host_heap written"))
    }

    @Test func nameBoundToAViewAndReboundInALoopGetsACopy() throws {
        let ir = try lowerIR(header + """
        @br.program
        def f(A: br.float64[N, M], out: br.float64[N, M]):
            col = A[:, M - 1]
            for k in range(M - 2, -1, -1):
                col = A[:, k] - 0.5 * col
                out[:, k] = col
        """)
        // One copy of the view before the loop, then the loop writes into that storage.
        #expect(ir.contains("container col: float64[N] transient host_heap written"))
        #expect(ir.contains("col[_i1] = A[_i1, M - 1]"))
        #expect(ir.contains("col[_i2] = sub(A[_i2, k], mul(0.5, col[_i2]))"))
        #expect(!ir.contains("dynamic"))
        // Writing through such a name would have to write the viewed array too: an error.
        let d = try #require(diagnostic(header + """
        @br.program
        def g(A: br.float64[N, M]):
            col = A[:, 0]
            for k in range(1, M):
                col[0] = 1.0
                col = A[:, k] * 2.0
        """))
        #expect(d.description.contains("k.py:6:5"))
        #expect(d.description.contains("also modified in place"))
    }

    @Test func reboundToAViewOfAnArrayMadeInTheLoopCopiesIt() throws {
        // The Stockham pattern: the new value is a reshaped view of an array created in the body.
        let ir = try lowerIR("""
        import numpy as np
        #pythran export f(float64[:], int)
        def f(x, T):
            n = x.shape[0]
            for t in range(T):
                h = x.reshape(2, n // 2)
                y = np.empty((n // 2, 2))
                y[:, 0] = h[0] + h[1]
                y[:, 1] = h[0] - h[1]
                x = y.reshape(n)
            return x
        """)
        #expect(ir.contains("x_1[_i1] = x[_i1]"))
        #expect(ir.contains("= empty["))
        // A view taken earlier in the iteration cannot be read after the rebinding.
        let d = try #require(diagnostic("""
        import numpy as np
        #pythran export f(float64[:], int)
        def f(a, T):
            x = a * 1.0
            for t in range(T):
                h = x[::-1]
                x = x * 2.0
                x[0] = h[0]
            return x
        """))
        #expect(d.description.contains("k.py:8:16"))
        #expect(d.description.contains("'h' refers to the array 'x' had before it was rebound at line 7"))
        // Writing the array after a longer-lived name took a copy of it is an error.
        let e = try #require(diagnostic("""
        import numpy as np
        #pythran export f(float64[:], int)
        def f(x, T):
            z = x * 1.0
            for t in range(T):
                y = z * 2.0
                z = y[::-1]
                y[0] = 5.0
            return z
        """))
        #expect(e.description.contains("k.py:7:9"))
        #expect(e.description.contains("modified afterwards"))
    }

    @Test func nonzeroFamilyWritesIndicesInCOrder() throws {
        let src = """
        import numpy as np
        #pythran export f(float64[:,:])
        def f(x):
            pass
        """
        let nz = try lowerCall("nonzero", src)
        #expect(nz.shapes == [[.sym("_count1")], [.sym("_count1")]])
        #expect(nz.ir.contains("_count1 = (wcr add) int64(ne(x[_i2, _i3], 0.0))"))
        #expect(nz.ir.contains("nonzero[_next4] = _i5"))
        #expect(nz.ir.contains("nonzero_1[_next4] = _i6"))
        let flat = try lowerCall("flatnonzero", src)
        #expect(flat.ir.contains("flatnonzero[_next4] = _i5*x_shape_1 + _i6"))
        let rows = try lowerCall("argwhere", src)
        #expect(rows.shapes == [[.sym("_count1"), .int(2)]])
        #expect(rows.ir.contains("argwhere[_next4, 0] = _i5"))
        #expect(rows.ir.contains("argwhere[_next4, 1] = _i6"))
    }

    @Test func branchesBindingArraysOfDifferentShapesShareDynamicStorage() throws {
        let ir = try lowerIR("""
        import numpy as np
        #pythran export f(float64[:], bool)
        def f(x, c):
            y = x
            if c:
                y = x[x > 0.5]
            return np.sum(y)
        """)
        #expect(ir.contains("container y: float64[y_size0] transient host_heap dynamic written"))
        #expect(ir.contains("allocate y from selected"))
        #expect(ir.contains("in 0:y_size0 reduce("))
        // Same shapes from different arrays stay an error (the names would alias differently).
        let d = try #require(diagnostic("""
        import numpy as np
        #pythran export f(float64[:], float64[:], bool)
        def f(a, b, c):
            y = a
            if c:
                y = b
            return y * 2
        """))
        #expect(d.description.contains("bound to different arrays depending on the branch"))
    }

    @Test func unsupportedMaskFormsAreLocatedErrors() throws {
        let partial = try #require(diagnostic("""
        import numpy as np
        #pythran export f(float64[:,:,:], bool[:,:])
        def f(A, m):
            return np.sum(A[:, m])
        """))
        #expect(partial.description.contains("k.py:4:"))
        #expect(partial.description.contains("be 1-D along one axis"))
        let rowStore = try #require(diagnostic("""
        import numpy as np
        #pythran export f(float64[:,:], bool[:])
        def f(A, m):
            A[m] = 0.0
        """))
        #expect(rowStore.description.contains("k.py:4:5"))
        #expect(rowStore.description.contains("A[rows] = ..., A[:, cols] = ...) is not supported"))
        let rank = try #require(diagnostic("""
        import numpy as np
        #pythran export f(float64[:], int)
        def f(x, n):
            y = x * 1.0
            for i in range(n):
                y = np.ones((3, 3))
            return np.sum(y)
        """))
        #expect(rank.description.contains("k.py:6:9"))
        #expect(rank.description.contains("rebound inside a loop to an array of another shape or dtype"))
    }

    @Test func declaredShapesAcceptRunTimeChecksOfSelectionLengths() throws {
        let ir = try lowerIR(header + """
        @br.program
        def f(x: br.float64[N], y: br.float64[N]):
            a = x[x > 0.5]
            b = y[x < 0.2]
            return np.sum(a * b)
        """)
        #expect(ir.contains("if ne(_count1, _count5):"))
        #expect(ir.contains("fail shape_mismatch"))
    }

    @Test func sizesFromIntegerParametersAreCheckedNotRejectedWithDeclaredShapes() throws {
        let ir = try lowerIR(header + """
        @br.program
        def f(n: br.int64, x: br.float64[N]):
            a = np.arange(n * 2)
            b = np.ones(2 * n)
            return np.sum(a + b)
        """)
        #expect(ir.contains("assert max(0, 2*n) == 2*n"))
        // Declared symbols that differ stay a compile-time error.
        let d = try #require(diagnostic(header + """
        @br.program
        def g(x: br.float64[N], y: br.float64[M]):
            return np.sum(x + y)
        """))
        #expect(d.description.contains("declare both with the same symbol"))
    }

    @Test func maskedAssignmentFromAnArrayTakesValuesInOrder() throws {
        let ir = try lowerIR("""
        import numpy as np
        #pythran export f(float64[:], float64[:])
        def f(x, v):
            x[x > 0.5] = v
        """)
        // The mask reads x, which the assignment writes: it is evaluated first.
        #expect(ir.contains("mask[_i1] = gt(x[_i1], 0.5)"))
        #expect(ir.contains("if ne(_count2, v_shape_0):"))
        #expect(ir.contains("x[_i5] = v[_next4]"))
    }

    @Test func returningSelectionsOfDifferentRanksIsAClearError() throws {
        let d = try #require(diagnostic("""
        import numpy as np
        #pythran export f(float64[:])
        def f(x):
            if x[0] > 0:
                return x[x > 0]
            return np.zeros((2, 2))
        """))
        #expect(d.description.contains("k.py:6:5"))
        #expect(d.description.contains("different numbers of dimensions"))
    }

    @Test func aFixedSizeResultBecomesDynamicForALaterSelection() throws {
        let ir = try lowerIR("""
        import numpy as np
        #pythran export f(float64[:])
        def f(x):
            if x[0] > 0:
                return x * 2.0
            return x[x > 0]
        """)
        // Sized and allocated at entry, so the first return writes it as before.
        #expect(ir.contains("container _return0: float64[__return0_size"))
        #expect(ir.contains("result 0 host_heap dynamic written"))
        let entry = try #require(ir.range(of: "allocate _return0"))
        let first = try #require(ir.range(of: "_return0[_i1] = mul(x[_i1], 2.0)"))
        #expect(entry.lowerBound < first.lowerBound)
        #expect(ir.contains("allocate _return0 from selected"))
    }

    @Test func selectionInsideAParallelMapIsAClearError() throws {
        let d = try #require(diagnostic(header + """
        @br.program
        def f(A: br.float64[N, M], out: br.float64[N]):
            for i in br.map[0:N]:
                out[i] = np.sum(A[i][A[i] > 0])
                r = A[i][A[i] > 0]
        """))
        #expect(d.description.contains("inside a parallel map"))
    }

    @Test func reboundNameCopiedFromAnArrayWrittenLaterIsAnError() throws {
        let d = try #require(diagnostic("""
        import numpy as np
        #pythran export f(float64[:], float64[:], int)
        def f(a, b, n):
            z = a
            for it in range(n):
                z = z[z > 0.5]
                a[0] = 1.0
            return np.sum(z)
        """))
        #expect(d.description.contains("k.py:4:5"))
        #expect(d.description.contains("modified in place"))
    }
}
