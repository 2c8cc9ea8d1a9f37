import Testing
import BraidIR
@testable import BraidPasses

/// `fuse-matvec`: where two matrix-vector products over one matrix become one pass over its
/// rows, and where they must not.
@Suite struct FuseMatvecTests {
    /// The frontend's IR with the BLAS-sized products kept as library nodes, then the pass.
    func fused(_ source: String) throws -> (changed: Bool, ir: String, remarks: [Remark]) {
        var p = try program(source)
        _ = try ExpandLibraryNodes(keepBLAS: true).run(&p)
        return try applyExplained(FuseMatvec(), &p)
    }

    func pairs(_ ir: String) -> Int { ir.components(separatedBy: "[one pass over rows]").count - 1 }

    @Test func independentProductsShareOnePass() throws {
        // bicg: s = r @ A and q = A @ p, in either order.
        let (changed, ir, remarks) = try fused("""
        @br.program
        def f(A: br.float64[N, M], p: br.float64[M], r: br.float64[N]):
            s = r @ A
            q = A @ p
            return s, q
        """)
        #expect(changed)
        #expect(pairs(ir) == 1)
        #expect(!ir.contains("= matmul(r["))
        #expect(ir.contains("mm_1[0:N] = matmul(A[0:N, 0:M], p[0:M]); mm[0:M] = matmul(A[0:N, 0:M].T, r[0:N])"))
        #expect(remarks.contains { $0.message.contains("lines 6 and 7 share one pass over the rows of 'A'") })
    }

    @Test func transposeOfTheFirstProductsResult() throws {
        // atax: y = A.T @ (A @ x); u is y itself, read after each y[i] is written.
        let (changed, ir, _) = try fused("""
        @br.program
        def f(A: br.float64[N, M], x: br.float64[M]):
            t = A @ x
            return t @ A
        """)
        #expect(changed)
        #expect(ir.contains("mm[0:N] = matmul(A[0:N, 0:M], x[0:M]); mm_1[0:M] = matmul(A[0:N, 0:M].T, mm[0:N])"))
    }

    @Test func accumulatingProductsMoveOverTheirIndependentAdditions() throws {
        // mvt: the second product moves above the map that adds the first one's result.
        let (changed, ir, _) = try fused("""
        @br.program
        def f(x1: br.float64[N], x2: br.float64[N], y1: br.float64[N], y2: br.float64[N], A: br.float64[N, N]):
            x1 += A @ y1
            x2 += y2 @ A
        """)
        #expect(changed)
        #expect(pairs(ir) == 1)
        let pair = try #require(ir.range(of: "[one pass over rows]"))
        #expect(ir[pair.upperBound...].contains("x1[_i1] = add(x1[_i1], mm[_i1])"))
    }

    @Test func productReadingWhatTheFirstWritesIsLeftAlone() throws {
        // The transpose product first, then A @ (its result): u would be read after y[i].
        let (changed, ir, _) = try fused("""
        @br.program
        def f(A: br.float64[N, N], x: br.float64[N]):
            t = x @ A
            return A @ t
        """)
        #expect(!changed)
        #expect(pairs(ir) == 0)
    }

    @Test func movingOverAWriteOfItsInputIsRefused() throws {
        // r changes between the products: the second one must see the new r.
        let (changed, _, _) = try fused("""
        @br.program
        def f(A: br.float64[N, M], p: br.float64[M], r: br.float64[N]):
            q = A @ p
            r[:] = r * 2.0
            s = r @ A
            return s, q
        """)
        #expect(!changed)
    }

    @Test func differentMatricesOrSameDirectionAreLeftAlone() throws {
        let (c1, _, _) = try fused("""
        @br.program
        def f(A: br.float64[N, M], B: br.float64[N, M], p: br.float64[M], r: br.float64[N]):
            s = r @ A
            q = B @ p
            return s, q
        """)
        #expect(!c1)
        let (c2, _, _) = try fused("""
        @br.program
        def f(A: br.float64[N, M], p: br.float64[M], w: br.float64[M]):
            q = A @ p
            z = A @ w
            return q, z
        """)
        #expect(!c2)
        // A product written into the other's input (the second reads x after the first wrote it).
        let (c3, _, _) = try fused("""
        @br.program
        def f(A: br.float64[N, N], x: br.float64[N], r: br.float64[N]):
            x[:] = r @ A
            q = A @ x
            return q
        """)
        #expect(!c3)
    }

    @Test func productsInASequentialLoopAreFusedButNotInsideAMap() throws {
        // In a for loop (here sequential: the products' results are shared transients) the
        // pair is fused per iteration.
        let (changed, ir, _) = try fused("""
        @br.program
        def f(A: br.float64[N, M, M], p: br.float64[M], Q: br.float64[N, M], S: br.float64[N, M]):
            for i in range(N):
                Q[i] = A[i] @ p
                S[i] = p @ A[i]
        """)
        #expect(changed)
        #expect(ir.contains("for i in 0:N:"))
        #expect(ir.contains("mm[0:M] = matmul(A[i, 0:M, 0:M], p[0:M]); mm_1[0:M] = matmul(A[i, 0:M, 0:M].T, p[0:M])"))
        // The same two products as the body of a map stay two: the fused node opens its own
        // parallel region.
        var p = try program("""
        @br.program
        def f(A: br.float64[N, M], p: br.float64[M], r: br.float64[N]):
            s = r @ A
            q = A @ p
            return s, q
        """)
        _ = try ExpandLibraryNodes(keepBLAS: true).run(&p)
        p.body = [.map(MapScope(params: ["w"], ranges: [SymRange(.zero, .int(2))], schedule: .cpuParallel,
                                body: p.body.filter { if case .library = $0 { return true } else { return false } },
                                loc: p.loc))]
        #expect(IRPrinter.print(p).contains("map[cpu_parallel] w in 0:2:"))
        let (inMap, ir2, _) = try applyExplained(FuseMatvec(), &p)
        #expect(!inMap)
        #expect(pairs(ir2) == 0)
    }
}
