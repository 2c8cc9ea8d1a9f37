import Testing
import BraidIR
@testable import BraidFrontend

/// Run-time indices and slice bounds: Python's wrap of negative indices, IndexError outside
/// the array, clamped slices; no check where the loop ranges prove an index in bounds.
@Suite struct BoundsTests {
    let boundsHeader = """
    import numpy as np
    import braid as br
    N, K = br.symbol("N"), br.symbol("K")

    """

    @Test func runtimeIndexWrapsAndIsChecked() throws {
        let ir = try lowerIR(boundsHeader + """
        @br.program
        def f(x: br.float64[N], k: br.int64):
            return x[k]
        """)
        #expect(ir.contains("if or(lt(k, -N), ge(k, N)):"))
        #expect(ir.contains("fail index_out_of_bounds"))
        #expect(ir.contains("_return0 = x[N*min(1, max(-k, 0)) + k]"))
    }

    @Test func loopIndicesProvenInBoundsHaveNoCheck() throws {
        let ir = try lowerIR(boundsHeader + """
        @br.program
        def f(x: br.float64[N], y: br.float64[N]):
            for i in range(1, N - 1):
                y[i] = x[i - 1] + x[i + 1]
            for i in range(N):
                for j in range(i):
                    y[i] += x[j] + x[i - j]
        """)
        #expect(!ir.contains("fail"))
        #expect(ir.contains("add(x[i - 1], x[i + 1])"))
        #expect(!ir.contains("min("))
    }

    @Test func loopIndexThatCanBeNegativeWrapsWithoutCheck() throws {
        let ir = try lowerIR(boundsHeader + """
        @br.program
        def f(x: br.float64[N], y: br.float64[N]):
            for i in range(N):
                y[i] = x[i - 1]
        """)
        // i - 1 is -1 at i = 0: Python reads x[N - 1]. In [-N, N) because the loop runs (N >= 1).
        #expect(!ir.contains("fail"))
        #expect(ir.contains("y[i] = x[N*min(1, max(-i + 1, 0)) + i - 1]"))
    }

    @Test func loopIndexPastTheEndIsChecked() throws {
        let ir = try lowerIR(boundsHeader + """
        @br.program
        def f(x: br.float64[N], y: br.float64[N]):
            for i in range(N):
                y[i] = x[i + 1]
        """)
        #expect(ir.contains("if ge(i + 1, N):"))
        #expect(ir.contains("fail index_out_of_bounds"))
        #expect(ir.contains("x[i + 1]"))
    }

    @Test func enclosingLoopsThatRunProveSizes() throws {
        let ir = try lowerIR(boundsHeader + """
        @br.program
        def f(x: br.float64[N], y: br.float64[N], w: br.float64[K]):
            for i in range(N):
                y[i] = x[i] * x[0] + x[-1]
        """)
        // Inside a loop over range(N), N >= 1: x[0] and x[-1] need no check.
        #expect(!ir.contains("fail"))
        #expect(ir.contains("y[i] = add(mul(x[i], x[0]), x[N - 1])"))
        let other = try lowerIR(boundsHeader + """
        @br.program
        def f(x: br.float64[N], y: br.float64[N], w: br.float64[K]):
            for i in range(N):
                y[i] = x[i] * w[0]
            for i in br.map[0:K]:
                w[i] = 1.0
            y[0] = w[0]
        """)
        // w[0] inside a loop over N, and after the map over K has ended, is checked.
        #expect(other.components(separatedBy: "if le(K, 0):").count == 3)
        #expect(other.contains("if le(N, 0):"))
    }

    @Test func checksInsideConditionalExpressionsAreGuarded() throws {
        let ir = try lowerIR(boundsHeader + """
        @br.program
        def f(x: br.float64[N], y: br.float64[N]):
            for i in range(N):
                y[i] = x[i + 1] if i + 1 < N else 0.0
                if i > 0 and x[i + 1] > 0.0:
                    y[i] = 1.0
        """)
        #expect(ir.contains("if and(lt(i + 1, N), ge(i + 1, N)):"))
        #expect(ir.contains("if and(gt(i, 0), ge(i + 1, N)):"))
    }

    @Test func slicesAreClampedToTheDimension() throws {
        let ir = try lowerIR(boundsHeader + """
        @br.program
        def f(x: br.float64[N], w: br.float64[K + 1], k: br.int64):
            return x[:100].sum() + x[1:].sum() + w[1:].sum() + x[k:].sum() + x[:-2].sum()
        """)
        #expect(ir.contains("in 0:min(100, N) reduce"))
        #expect(ir.contains("in 0:max(0, N - 1) reduce"))
        #expect(ir.contains("in 0:K reduce"))  // provably in range: unchanged
        #expect(ir.contains("in 0:max(0, N - max(0, N*min(1, max(-k, 0)) + k)) reduce"))
        #expect(ir.contains("in 0:max(0, N - 2) reduce"))
    }

    @Test func boundsNearTheEndKeepOneExtent() throws {
        // 0:N-2, 1:N-1 and 2:N have the same extent, written the same way (so maps fuse).
        let ir = try lowerIR(boundsHeader + """
        @br.program
        def f(x: br.float64[N], y: br.float64[N]):
            y[1:N - 1] = x[0:N - 2] + x[2:N] + x[1:N - 1]
        """)
        #expect(ir.contains("in 0:max(0, N - 2):"))
        #expect(ir.contains("y[_i1 + 1] = add(add(x[_i1], x[_i1 + 2]), x[_i1 + 1])"))
        #expect(!ir.contains("assert"))
    }

    @Test func oneElementSlicesKeepExtentOne() throws {
        let ir = try lowerIR(boundsHeader + """
        @br.program
        def f(x: br.float64[N], B: br.float64[K, N]):
            return B[:1] * B + x[-1:]
        """)
        #expect(ir.contains("if le(K, 0):"))
        #expect(ir.contains("if le(N, 0):"))
        #expect(ir.contains("add(mul(B[0, _i2], B[_i1, _i2]), x[N - 1])"))
    }

    @Test func constantSlicesOfConstantShapesFold() throws {
        let ir = try lowerIR("""
        import numpy as np
        import braid as br
        @br.program
        def f(x: br.float64[10]):
            return x[12:].shape[0], x[5:100:3], x[-100:3]
        """)
        #expect(ir.contains("_return0 = 0"))
        #expect(ir.contains("float64[2]"))
        #expect(ir.contains("float64[3]"))
    }

    @Test func clampedSliceExtentsAgreeWithPlainOnes() throws {
        // max(N - 1, 0) (a slice) and N - 1 (a declared shape) are the same extent.
        let ir = try lowerIR(boundsHeader + """
        @br.program
        def f(x: br.float64[N], y: br.float64[N - 1]):
            y[:] = x[1:] - x[:-1]
        """)
        #expect(ir.contains("y[_i1] = sub(x[_i1 + 1], x[_i1])"))
    }

    @Test func realImagConjAndGrids() throws {
        let ir = try lowerIR(boundsHeader + """
        @br.program
        def f(z: br.complex128[N]):
            g = np.mgrid[0:3, 0:N]
            o, p = np.ogrid[0:2, 0:N]
            return z.real + z.imag + z.conj().real + z[0].imag + g[1, 0] + o[:, 0].sum() + p[0]
        """)
        #expect(ir.contains("real(z[_i"))
        #expect(ir.contains("imag(z[_i"))
        #expect(ir.contains("conj(z[_i"))
        #expect(ir.contains("container mgrid: int64[2, 3, max(0, N)]"))
        #expect(diagnostic(boundsHeader + """
        @br.program
        def f(x: br.float64[N]):
            return x.real.sum() + x.imag.sum()
        """) == nil)
    }
}
