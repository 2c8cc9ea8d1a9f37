import Testing
import BraidIR
@testable import BraidFrontend

/// `np.einsum`: parsing of subscripts with NumPy's rules, matrix-product shapes lowered to
/// matmul library nodes (transposed operands read in place), other contractions as one loop
/// nest, and located errors.
@Suite struct EinsumTests {
    let einsumHeader = """
    import numpy as np
    import braid as br
    N, M, K = br.symbol("N"), br.symbol("M"), br.symbol("K")

    """

    typealias L = EinsumSpec.Label

    func spec(_ s: String, _ ranks: [Int]) -> EinsumSpec? {
        if case .success(let v) = EinsumSpec.parse(s, ranks: ranks) { return v }
        return nil
    }

    func parseError(_ s: String, _ ranks: [Int]) -> String? {
        if case .failure(let e) = EinsumSpec.parse(s, ranks: ranks) { return e.message }
        return nil
    }

    @Test func implicitOutputIsSortedSingleLettersUpperCaseFirst() {
        #expect(spec("ij,jk", [2, 2])?.output == [.letter("i"), .letter("k")])
        #expect(spec("ii", [2])?.output == [])
        #expect(spec("aB,b", [2, 1])?.output == [.letter("B"), .letter("a"), .letter("b")])
        #expect(spec("ji", [2])?.output == [.letter("i"), .letter("j")])
        #expect(spec(" ij , jk -> ki ", [2, 2])?.output == [.letter("k"), .letter("i")])
    }

    @Test func ellipsisCoversBroadcastDimensionsAlignedRight() {
        let s = spec("...ij,j...->...i", [4, 2])
        #expect(s?.inputs[0] == [L.ellipsis(0), .ellipsis(1), .letter("i"), .letter("j")])
        #expect(s?.inputs[1] == [L.letter("j"), .ellipsis(1)])
        #expect(s?.output == [L.ellipsis(0), .ellipsis(1), .letter("i")])
        // Implicit: the ellipsis dimensions come first.
        #expect(spec("i...", [3])?.output == [L.ellipsis(0), .ellipsis(1), .letter("i")])
        #expect(spec("i,...->i", [1, 0])?.output == [L.letter("i")])
    }

    @Test func malformedSubscriptsGiveNumPysMessages() {
        #expect(parseError("ij,jk", [2])?.contains("fewer operands") == true)
        #expect(parseError("ij", [2, 2])?.contains("more operands") == true)
        #expect(parseError("i->ii", [1])?.contains("output subscript 'i' multiple times") == true)
        #expect(parseError("i->j", [1])?.contains("'j' which never appeared") == true)
        #expect(parseError("i.j", [2])?.contains("not part of an ellipsis") == true)
        #expect(parseError("......", [2])?.contains("not part of an ellipsis") == true)
        #expect(parseError("i2", [2])?.contains("invalid subscript '2'") == true)
        #expect(parseError("iii->i", [2])?.contains("too many subscripts for operand 0") == true)
        #expect(parseError("i", [2])?.contains("no '...' ellipsis provided") == true)
        #expect(parseError("...i->i", [2])?.contains("output has more dimensions") == true)
        #expect(parseError("i->i->i", [1])?.contains("'->' more than once") == true)
    }

    @Test func matrixProductsLowerToMatmulLibraryNodes() throws {
        let ir = try lowerIR(einsumHeader + """
        @br.program
        def f(A: br.float64[N, M], B: br.float64[M, K], C: br.float64[K, M], x: br.float64[M], y: br.float64[N]):
            return (np.einsum('ij,jk->ik', A, B), np.einsum('ij,kj->ik', A, C), np.einsum('ji,j->i', A, y),
                    np.einsum('i,i->', x, x), np.einsum('ij,jk->ki', A, B), np.einsum('ij,jk', A, B, optimize=True))
        """)
        #expect(ir.contains("mm[0:N, 0:K] = matmul(A[0:N, 0:M], B[0:M, 0:K])"))
        // Transposed operands are passed with the transpose flag, not copied.
        #expect(ir.contains("= matmul(A[0:N, 0:M], C[0:K, 0:M].T)"))
        #expect(ir.contains("= matmul(A[0:N, 0:M].T, y[0:N])"))
        #expect(ir.contains("= matmul(x[0:M], x[0:M])"))
        // (A B)^T is computed as B^T A^T, written in the requested order.
        #expect(ir.contains("[0:K, 0:N] = matmul(B[0:M, 0:K].T, A[0:N, 0:M].T)"))
        #expect(!ir.contains("map"))
    }

    @Test func batchedContractionIsAMapOfMatmuls() throws {
        let ir = try lowerIR(einsumHeader + """
        @br.program
        def f(A: br.float64[K, N, M], B: br.float64[K, M, N]):
            return np.einsum('bij,bjk->bik', A, B)
        """)
        #expect(ir.contains("map[sequential] _i1 in 0:K:"))
        #expect(ir.contains("= matmul(A[_i1, 0:N, 0:M], B[_i1, 0:M, 0:N])"))
    }

    @Test func otherContractionsAreOneSummedLoopNest() throws {
        let ir = try lowerIR(einsumHeader + """
        @br.program
        def f(A: br.float64[N, M], B: br.float64[M, K], C: br.float64[K, N], S: br.float64[N, N]):
            return np.einsum('ij,jk,ki->', A, B, C), np.einsum('ii', S), np.einsum('i,j->ij', S[0], A[0])
        """)
        #expect(!ir.contains("matmul"))
        #expect(ir.contains("(wcr add) mul(mul(A[_i2, _i3], B[_i3, _i4]), C[_i4, _i2])"))
        #expect(ir.contains("(wcr add) S[_i6, _i6]"))
        #expect(ir.contains("mul(S[0, _i7], A[0, _i8])"))
    }

    @Test func chainsContractPairwise() throws {
        let ir = try lowerIR(einsumHeader + """
        @br.program
        def f(A: br.float64[N, M], B: br.float64[M, K], C: br.float64[K, N], x: br.float64[K]):
            return np.einsum('ij,jk,kl->il', A, B, C), np.einsum('ij,jk,k->i', A, B, x)
        """)
        #expect(ir.contains("mm[0:N, 0:K] = matmul(A[0:N, 0:M], B[0:M, 0:K])"))
        #expect(ir.contains("mm_1[0:N, 0:N] = matmul(mm[0:N, 0:K], C[0:K, 0:N])"))
        // B x first (the pair with the fewest indices), then A (B x).
        #expect(ir.contains("mm_2[0:M] = matmul(B[0:M, 0:K], x[0:K])"))
        #expect(ir.contains("mm_3[0:N] = matmul(A[0:N, 0:M], mm_2[0:M])"))
    }

    @Test func transposeAndDiagonalAreViews() throws {
        let ir = try lowerIR(einsumHeader + """
        @br.program
        def f(A: br.float64[N, N]):
            np.einsum('ii->i', A)[:] = 0.0
            np.einsum('ij->ji', A)[0, 1] = 2.0
        """)
        #expect(ir.contains("A[_i1, _i1] = 0.0"))
        #expect(ir.contains("A[1, 0] = 2.0"))
    }

    @Test func sizeOneBroadcastsInTheLoopNest() throws {
        let ir = try lowerIR(einsumHeader + """
        @br.program
        def f(A: br.float64[N, 1], B: br.float64[M, K]):
            return np.einsum('ij,jk->ik', A, B)
        """)
        #expect(!ir.contains("matmul"))
        #expect(ir.contains("mul(A[_i1, 0], B[_k4, _i2])"))
    }

    @Test func errorsAreLocatedAtTheCall() {
        func located(_ body: String) -> Diagnostic? {
            diagnostic(einsumHeader + """
            @br.program
            def f(A: br.float64[3, 4], B: br.float64[5, 2], S: br.float64[2, 3]):
                \(body)
            """)
        }
        let here = SourceLocation(file: "k.py", line: 6, column: 12)
        var d = located("return np.einsum(A, [0, 1])")
        #expect(d?.loc == here)
        #expect(d?.message.contains("string literal such as 'ij,jk->ik'") == true)
        d = located("return np.einsum('ij,jk->ik', A, B)")
        #expect(d?.loc == here)
        #expect(d?.message == "np.einsum('ij,jk->ik'): index 'j' has size 4 in an earlier operand and 5 in operand 1; they must be equal (or one of them 1)")
        d = located("return np.einsum('ii', S)")
        #expect(d?.loc == here)
        #expect(d?.message.contains("dimensions in operand 0 for collapsing index 'i' don't match (2 != 3)") == true)
        d = located("return np.einsum('ij,jk', A)")
        #expect(d?.loc == here)
        #expect(d?.message.contains("fewer operands") == true)
        d = located("return np.einsum('ij', A, out=A)")
        #expect(d?.loc == here)
        #expect(d?.message.contains("out= is not supported") == true)
        d = located("return np.einsum('ij', A, optimize=[0, 1])")
        #expect(d?.loc == here)
        #expect(d?.message.contains("optimize= must be True, False, 'greedy' or 'optimal'") == true)
    }

    @Test func unknownSizesAreCheckedWhenCalled() throws {
        let ir = try lowerIR("""
        import numpy as np
        #pythran export f(float64[:,:], float64[:,:])
        def f(A, B):
            return np.einsum('ij,jk,ki', A, B, A)
        """)
        #expect(ir.contains("assert A_shape_1 == B_shape_0"))
        #expect(ir.contains("assert B_shape_1 == A_shape_0"))
    }
}
