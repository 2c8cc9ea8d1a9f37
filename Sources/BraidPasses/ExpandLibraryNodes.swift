import BraidIR

/// Replaces library nodes by maps and loops, except those the target calls a library
/// for (BLAS on CPU: float32/float64 operands whose rows are unit-stride). `np.linalg`
/// nodes are always left in place: the CPU and MPI backends call LAPACK for them, and
/// the OpenCL and HLS backends reject them at their Python line.
public struct ExpandLibraryNodes: Pass {
    public let name = "expand-library-nodes"
    /// Keep matmuls that BLAS can run.
    public var keepBLAS: Bool
    public init(keepBLAS: Bool) { self.keepBLAS = keepBLAS }

    public func run(_ program: inout Program, remarks: inout [Remark]) throws -> Bool {
        var changed = false
        var p = program
        let body = rewriteBlocks(program.body) { nodes in
            nodes.flatMap { n -> [Node] in
                guard case .library(let l) = n else { return [n] }
                // np.linalg nodes have no loop-nest form: CPU/MPI call LAPACK, other targets reject them.
                if case .linalg = l.op { return [n] }
                if keepBLAS && Self.blasCompatible(l, p) { return [n] }
                changed = true
                return Self.expand(l, &p)
            }
        }
        guard changed else { return false }
        p.body = body
        program = p
        return true
    }

    /// Whether every operand is a float32/float64 view BLAS can address: 1-D with any
    /// stride, 2-D with unit stride along its last kept dimension.
    public static func blasCompatible(_ l: LibraryNode, _ p: Program) -> Bool {
        guard case .matmul(let a, let b, let c, _) = l.op else { return false }
        for m in [a, b, c] {
            guard let cont = p.container(m.data), cont.dtype == .float64 || cont.dtype == .float32 else { return false }
            let kept = m.subset.enumerated().filter { if case .range = $0.element { return true } else { return false } }
            if kept.count == 2 {
                guard kept[1].offset == cont.shape.count - 1, case .range(_, _, let st) = kept[1].element, st == .one else {
                    return false
                }
            }
        }
        return true
    }

    struct ViewDims {
        var lengths: [SymExpr]
        /// Builds the point memlet at the given kept-dimension indices.
        var at: ([SymExpr]) -> Memlet
    }

    static func dims(_ m: Memlet) -> ViewDims {
        let lengths = m.viewShape
        return ViewDims(lengths: lengths) { idx in
            var k = 0
            return Memlet(data: m.data, subset: m.subset.map { s in
                switch s {
                case .index: return s
                case .range(let start, _, let step):
                    defer { k += 1 }
                    return .index(.sym(start + step * idx[k]))
                }
            })
        }
    }

    /// c[i, j] = sum_k a[i, k] * b[k, j] as a parallel map over the output with a
    /// sequential reduction loop inside (accumulating in a private scalar).
    static func expand(_ l: LibraryNode, _ p: inout Program) -> [Node] {
        guard case .matmul(let a, let b, let c, let accumulate) = l.op else { return [.library(l)] }
        let da = dims(a), db = dims(b), dc = dims(c)
        let t = p.container(c.data)!.dtype
        // Loop variables are scoped to their loops; only the accumulator is a container.
        func fresh(_ base: String) -> String {
            var k = 0
            while p.containers.contains(where: { $0.name == "\(base)\(k)" }) { k += 1 }
            return "\(base)\(k)"
        }
        let acc = fresh("_mm_acc")
        p.containers.append(Container(name: acc, dtype: t, shape: [], role: .transient, storage: .register, isWritten: true))
        let k = "_mm_k\(acc.dropFirst("_mm_acc".count))"
        let outParams = dc.lengths.indices.map { "_mm_i\(acc.dropFirst("_mm_acc".count))_\($0)" }
        var ai: [SymExpr] = [], bi: [SymExpr] = []
        let oi = outParams.map { SymExpr.sym($0) }
        switch (da.lengths.count, db.lengths.count) {
        case (2, 2): ai = [oi[0], .sym(k)]; bi = [.sym(k), oi[1]]
        case (2, 1): ai = [oi[0], .sym(k)]; bi = [.sym(k)]
        case (1, 2): ai = [.sym(k)]; bi = [.sym(k), oi[0]]
        default: ai = [.sym(k)]; bi = [.sym(k)]
        }
        let ta = p.container(a.data)!.dtype, tb = p.container(b.data)!.dtype
        func load(_ m: Memlet, _ tt: DType) -> ScalarExpr {
            let e = ScalarExpr.load(m, tt)
            return tt == t ? e : .cast(e, t)
        }
        // A transposed operand's stored view is indexed the other way round.
        let product = ScalarExpr.binary(.mul, load(da.at(l.transposeA ? ai.reversed() : ai), ta),
                                        load(db.at(l.transposeB ? bi.reversed() : bi), tb), t)
        let out = dc.at(oi)
        let initial: ScalarExpr = accumulate ? .load(out, t) : .cast(.symbol(.zero), t)
        let kLen = l.transposeA ? da.lengths.first! : da.lengths.last!
        let body: [Node] = [
            .tasklet(Tasklet(output: .point(acc, []), value: initial, loc: l.loc)),
            .forLoop(ForLoop(variable: k, range: SymRange(.zero, kLen), body: [
                .tasklet(Tasklet(output: .point(acc, []), wcr: .add, value: product, loc: l.loc)),
            ], loc: l.loc)),
            .tasklet(Tasklet(output: out, value: .load(.point(acc, []), t), loc: l.loc)),
        ]
        if outParams.isEmpty {
            // A dot product into a scalar: the reduction runs in the scalar's own scope.
            return body
        }
        return [.map(MapScope(params: outParams, ranges: dc.lengths.map { SymRange(.zero, $0) }, schedule: .sequential,
                              body: body, locals: [acc], loc: l.loc))]
    }
}
