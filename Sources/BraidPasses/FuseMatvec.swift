import BraidIR

/// Two adjacent matrix-vector products over the same matrix view, one of them `A @ x` (a dot
/// product per row) and the other `A.T @ u` (or `u @ A`: a multiple of each row added to the
/// result), become one `matvecPair` library node: the backend reads each row of A once for
/// both, while it is in cache, instead of streaming the whole matrix from memory twice.
/// PolyBench's atax (`A.T @ (A @ x)`), bicg and mvt have this shape; for a matrix larger
/// than the caches both BLAS calls are bound by memory bandwidth, so one pass halves the time.
///
/// Legal when the second product reads nothing the first writes, except that `u` may be
/// exactly the first product's result `y` when the row dot product comes first (row i's
/// y[i] is written before u[i] is read); neither result is the matrix or the other's input,
/// and the two results are different containers. All five views have the matrix's dtype
/// (float32 or float64) and are ones BLAS could address. Products inside a map stay as they
/// are (the fused node runs its own parallel region).
///
/// CPU pipeline only, after `schedule-maps`.
public struct FuseMatvec: Pass {
    public let name = "fuse-matvec"
    public init() {}

    /// One matrix-vector product, on the stored matrix: `rowDot` is `out = A @ vector`,
    /// otherwise `out = A.T @ vector`.
    struct Product {
        var matrix: Memlet
        var vector: Memlet
        var out: Memlet
        var accumulate: Bool
        var rowDot: Bool
    }

    static func product(_ l: LibraryNode, _ p: Program) -> Product? {
        guard case .matmul(let a, let b, let c, let acc) = l.op, ExpandLibraryNodes.blasCompatible(l, p),
              c.viewShape.count == 1 else { return nil }
        switch (a.viewShape.count, b.viewShape.count) {
        case (2, 1): return Product(matrix: a, vector: b, out: c, accumulate: acc, rowDot: !l.transposeA)
        case (1, 2): return Product(matrix: b, vector: a, out: c, accumulate: acc, rowDot: l.transposeB)
        default: return nil
        }
    }

    /// The fused node of `first` then `second`, or `nil` when they do not have the shape or
    /// fusing them could change what they compute.
    static func fuse(_ first: LibraryNode, _ second: LibraryNode, _ p: Program) -> LibraryNode? {
        guard let p1 = product(first, p), let p2 = product(second, p),
              p1.matrix == p2.matrix, p1.rowDot != p2.rowDot else { return nil }
        let (dot, axpy) = p1.rowDot ? (p1, p2) : (p2, p1)
        let names = [dot.matrix.data, dot.vector.data, dot.out.data, axpy.vector.data, axpy.out.data]
        let dtypes = Set(names.compactMap { p.container($0)?.dtype })
        guard dtypes.count == 1 else { return nil }
        let written: Set<String> = [dot.out.data, axpy.out.data]
        guard written.count == 2, !written.contains(dot.matrix.data), !written.contains(dot.vector.data) else { return nil }
        if written.contains(axpy.vector.data) {
            // Only A.T @ (A @ x): u is y itself, computed first.
            guard p1.rowDot, axpy.vector == dot.out else { return nil }
        }
        return LibraryNode(op: .matvecPair(matrix: dot.matrix, x: dot.vector, y: dot.out, accumulateY: dot.accumulate,
                                           u: axpy.vector, v: axpy.out, accumulateV: axpy.accumulate),
                           loc: first.loc)
    }

    /// Whether `node` may run before `between` instead of after: they end no block early,
    /// allocate nothing, write nothing `node` reads (symbols of its views included), and
    /// neither read nor write what `node` writes.
    static func canHoist(_ node: LibraryNode, over between: [Node]) -> Bool {
        let facts = TreeFacts(between)
        guard !facts.hasReturnOrFail, !facts.hasOwnBreakOrContinue, facts.allocated.isEmpty else { return false }
        let written = Set(facts.accesses.filter(\.isWrite).map(\.memlet.data))
        let touched = Set(facts.accesses.map(\.memlet.data))
        var reads = Set(node.inputs.map(\.data))
        for m in node.inputs + node.outputs {
            for s in m.subset {
                switch s {
                case .index(.sym(let e)): reads.formUnion(e.freeSymbols)
                case .index(.dynamic): return false
                case .range(let a, let b, let c): for e in [a, b, c] { reads.formUnion(e.freeSymbols) }
                }
            }
        }
        return reads.isDisjoint(with: written) && Set(node.outputs.map(\.data)).isDisjoint(with: touched)
    }

    public func run(_ program: inout Program, remarks: inout [Remark]) throws -> Bool {
        var changed = false
        let p = program
        func block(_ nodes: [Node]) -> [Node] {
            var nodes = nodes
            var out: [Node] = []
            var k = 0
            while k < nodes.count {
                // The partner may come a few statements later (`x1 += A @ y` is a product and
                // then a map adding it): it moves up when those statements neither write what
                // it reads nor touch what it writes.
                if case .library(let a) = nodes[k], let matrix = Self.product(a, p)?.matrix.data {
                    for j in (k + 1)..<min(nodes.count, k + 5) {
                        guard case .library(let b) = nodes[j], let fused = Self.fuse(a, b, p) else { continue }
                        guard Self.canHoist(b, over: Array(nodes[(k + 1)..<j])) else { break }
                        remarks.append(Remark(a.loc, pass: name, .fused,
                                              "matrix-vector products of lines \(a.loc.line) and \(b.loc.line) share one pass over the rows of '\(matrix)' (read from memory once, not twice)"))
                        nodes.remove(at: j)
                        nodes[k] = .library(fused)
                        changed = true
                        break
                    }
                }
                out.append(visit(nodes[k]))  // a library node has no child blocks
                k += 1
            }
            return out
        }
        func visit(_ n: Node) -> Node {
            if case .map = n { return n }
            return withChildBlocks(n, block)
        }
        program.body = block(program.body)
        return changed
    }
}
