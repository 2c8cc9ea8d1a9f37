import BraidIR

/// `a @ b` with a 3-D or higher operand: NumPy's stacked matrix product, batch dimensions
/// broadcast, a 1-D operand promoted to a row (left) or a column (right) and that
/// dimension dropped again. A map over the batch of 2-D matmul library nodes (BLAS on the
/// CPU; expanded to loops where the target has no BLAS).
extension FunctionLowerer {
    func batchedMatmul(_ va: ArrayView, _ vb: ArrayView, loc: SourceLocation) throws -> Value {
        let t = DType.promote(va.dtype, vb.dtype)
        if t.isBool { throw Diagnostic(loc, "matmul of boolean arrays is not supported") }
        let sa = va.shape, sb = vb.shape
        let aBatch = sa.count <= 2 ? [] : Array(sa.dropLast(2)), bBatch = sb.count <= 2 ? [] : Array(sb.dropLast(2))
        let ka = sa.last!, kb = sb.count == 1 ? sb[0] : sb[sb.count - 2]
        _ = try agree(ka, kb, loc: loc, broadcasting: false)
        let batch = try broadcast(aBatch, bBatch, loc: loc)
        var outShape = batch
        if sa.count > 1 { outShape.append(sa[sa.count - 2]) }
        if sb.count > 1 { outShape.append(sb.last!) }
        let ma = try rangeMemlet(va, as: t, loc: loc), mb = try rangeMemlet(vb, as: t, loc: loc)
        let out = try newArray("bmm", t, outShape, loc: loc)
        markWritten(out.container)
        let mc = out.rangeMemlet!
        /// The memlet of one batch element: the operand's leading (batch) ranges become indices.
        func element(_ m: Memlet, own: [SymExpr], _ idx: [SymExpr]) -> Memlet {
            let off = batch.count - own.count
            var k = 0
            return Memlet(data: m.data, subset: m.subset.map { s in
                guard case .range(let start, _, let step) = s else { return s }
                defer { k += 1 }
                guard k < own.count else { return s }
                let i = own[k] == .one && batch[off + k] != .one ? SymExpr.zero : idx[off + k]
                return .index(.sym(start + step * i))
            })
        }
        try emitMap(batch, loc: loc) { idx in
            emit(.library(LibraryNode(op: .matmul(a: element(ma, own: aBatch, idx), b: element(mb, own: bBatch, idx),
                                                  c: element(mc, own: batch, idx), accumulate: false), loc: loc)))
        }
        return .array(Lazy(node: .view(out), shape: outShape, dtype: t))
    }
}
