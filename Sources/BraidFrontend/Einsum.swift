import BraidIR

/// `np.einsum`: contractions written as subscript strings.
extension NumPyRegistry {
    static func registerEinsum(_ r: inout [String: NumPyFunction]) {
        r["einsum"] = NumPyFunction(
            family: .linalg,
            summary: "einsum(subscripts, *operands, optimize=ignored): literal subscripts, explicit or implicit, '...', repeated indices; "
                + "matrix-product shapes (batched too, and pairs of 3+ operands) as matmul (BLAS), the rest one summed loop nest"
        ) { l, a in try l.einsumCall(a) }
    }
}

/// A parsed einsum subscripts string: one label per dimension of each operand, and the
/// labels of the result's dimensions.
struct EinsumSpec: Equatable {
    /// A letter, or the `k`-th broadcast dimension covered by `...` (numbered from the left
    /// of the broadcast shape of all ellipses, which align on the right as in broadcasting).
    enum Label: Hashable, CustomStringConvertible {
        case letter(Character)
        case ellipsis(Int)

        var description: String {
            switch self {
            case .letter(let c): return "'\(c)'"
            case .ellipsis(let k): return "'...' (broadcast dimension \(k))"
            }
        }
    }

    var inputs: [[Label]]
    var output: [Label]

    /// The labels summed over: those not in the output, in order of first appearance.
    var contracted: [Label] {
        var seen: [Label] = []
        for l in inputs.joined() where !output.contains(l) && !seen.contains(l) { seen.append(l) }
        return seen
    }

    /// Parses `subscripts` for operands of the given ranks, with NumPy's rules: spaces are
    /// ignored; without `->` the output is the ellipsis dimensions followed by the letters
    /// that appear exactly once, in alphabetical order (upper case first). The error is
    /// NumPy's message for the same string.
    static func parse(_ subscripts: String, ranks: [Int]) -> Result<EinsumSpec, EinsumError> {
        let s = subscripts.filter { $0 != " " }
        let sides = s.components(separatedBy: "->")
        guard sides.count <= 2 else { return .failure(EinsumError("the subscripts contain '->' more than once")) }
        let terms = sides[0].split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        if terms.count > ranks.count {
            return .failure(EinsumError("fewer operands provided to einstein sum function than specified in the subscripts string"))
        }
        if terms.count < ranks.count {
            return .failure(EinsumError("more operands provided to einstein sum function than specified in the subscripts string"))
        }
        // Letters and the position of the ellipsis (if any) of one term.
        func scan(_ term: String, _ what: String) -> Result<(letters: [Character], ellipsisAt: Int?), EinsumError> {
            var letters: [Character] = [], ellipsisAt: Int? = nil
            var chars = Array(term)[...]
            while let c = chars.first {
                if c == "." {
                    guard chars.prefix(3).elementsEqual("..."), ellipsisAt == nil else {
                        return .failure(EinsumError("einstein sum subscripts string contains a '.' that is not part of an ellipsis ('...') in \(what)"))
                    }
                    ellipsisAt = letters.count
                    chars = chars.dropFirst(3)
                    continue
                }
                guard c.isASCII, c.isLetter else {
                    return .failure(EinsumError("invalid subscript '\(c)' in einstein sum subscripts string, subscripts must be letters"))
                }
                letters.append(c)
                chars = chars.dropFirst()
            }
            return .success((letters, ellipsisAt))
        }
        var scanned: [(letters: [Character], ellipsisAt: Int?)] = []
        var broadcastRank = 0
        for (n, term) in terms.enumerated() {
            let t: (letters: [Character], ellipsisAt: Int?)
            switch scan(term, "operand \(n)") {
            case .success(let v): t = v
            case .failure(let e): return .failure(e)
            }
            if t.letters.count > ranks[n] {
                return .failure(EinsumError("einstein sum subscripts string contains too many subscripts for operand \(n)"))
            }
            if t.ellipsisAt == nil && t.letters.count < ranks[n] {
                return .failure(EinsumError("operand has more dimensions than subscripts given in einstein sum, but no '...' ellipsis provided to broadcast the extra dimensions."))
            }
            if t.ellipsisAt != nil { broadcastRank = max(broadcastRank, ranks[n] - t.letters.count) }
            scanned.append(t)
        }
        func labels(_ t: (letters: [Character], ellipsisAt: Int?), covering e: Int) -> [Label] {
            var out = t.letters.map(Label.letter)
            if let at = t.ellipsisAt { out.insert(contentsOf: (broadcastRank - e..<broadcastRank).map(Label.ellipsis), at: at) }
            return out
        }
        let inputs = zip(scanned, ranks).map { t, r in labels(t, covering: r - t.letters.count) }
        var output: [Label]
        if sides.count == 2 {
            let t: (letters: [Character], ellipsisAt: Int?)
            switch scan(sides[1], "the output") {
            case .success(let v): t = v
            case .failure(let e): return .failure(e)
            }
            let all = Set(scanned.flatMap(\.letters))
            for (k, c) in t.letters.enumerated() {
                if t.letters[..<k].contains(c) {
                    return .failure(EinsumError("einstein sum subscripts string includes output subscript '\(c)' multiple times"))
                }
                if !all.contains(c) {
                    return .failure(EinsumError("einstein sum subscripts string included output subscript '\(c)' which never appeared in an input"))
                }
            }
            if t.ellipsisAt == nil && broadcastRank > 0 {
                return .failure(EinsumError("output has more dimensions than subscripts given in einstein sum, but no '...' ellipsis provided to broadcast the extra dimensions."))
            }
            output = labels(t, covering: broadcastRank)
        } else {
            var counts: [Character: Int] = [:]
            for c in scanned.flatMap(\.letters) { counts[c, default: 0] += 1 }
            output = (0..<broadcastRank).map(Label.ellipsis)
            output += counts.filter { $0.value == 1 }.keys.sorted { $0.unicodeScalars.first!.value < $1.unicodeScalars.first!.value }.map(Label.letter)
        }
        return .success(EinsumSpec(inputs: inputs, output: output))
    }
}

struct EinsumError: Error, Equatable {
    var message: String
    init(_ message: String) { self.message = message }
}

extension FunctionLowerer {
    /// `np.einsum(subscripts, *operands)`. Two-operand contractions over one index whose
    /// other indices each belong to one operand (plus shared batch indices) are matrix
    /// products and go through `matmul` (BLAS; transposed operands read in place). Everything
    /// else is the product of the operands over the joint index space, a lazy elementwise
    /// expression of views reindexed to that space, summed over the contracted indices:
    /// one loop nest, no temporaries. A single operand without summation (transposes,
    /// diagonals) is a view of it, as in NumPy.
    func einsumCall(_ a: CallArgs) throws -> Value {
        for k in a.keywords.keys.sorted() where k != "optimize" {
            switch k {
            case "out": throw Diagnostic(a.loc, "np.einsum(): out= is not supported; assign the result instead (C[:] = np.einsum(...))")
            case "dtype": throw Diagnostic(a.loc, "np.einsum(): dtype= is not supported; convert the operands with .astype(...) instead")
            default: throw Diagnostic(a.loc, "np.einsum(): keyword argument '\(k)' is not supported (only optimize=, which is ignored)")
            }
        }
        if let opt = a.keywords["optimize"] {
            switch opt {
            case .scalar(.literal(.bool, _), _): break
            case .string(let s) where ["greedy", "optimal"].contains(s): break
            default:
                throw Diagnostic(a.loc, "np.einsum(): optimize= must be True, False, 'greedy' or 'optimal' (it is accepted and ignored)")
            }
        }
        guard let first = a.positional.first else {
            throw Diagnostic(a.loc, "np.einsum() needs a subscripts string and operands: np.einsum('ij,jk->ik', A, B)")
        }
        guard case .string(let subscripts) = first else {
            throw Diagnostic(a.loc, "np.einsum() needs its subscripts as a string literal such as 'ij,jk->ik' (got a \(first.kindName)); "
                + "the interleaved form np.einsum(A, [0, 1], B, [1, 2]) is not supported")
        }
        guard a.positional.count > 1 else {
            throw Diagnostic(a.loc, "np.einsum('\(subscripts)') needs at least one operand")
        }
        let operands = try a.positional.dropFirst().map { try lazy($0, loc: a.loc) }
        let spec: EinsumSpec
        switch EinsumSpec.parse(subscripts, ranks: operands.map { $0.shape.count }) {
        case .success(let s): spec = s
        case .failure(let e): throw Diagnostic(a.loc, "np.einsum('\(subscripts)'): \(e.message)")
        }
        let sizes = try einsumSizes(spec, operands, subscripts: subscripts, loc: a.loc)
        let t = operands.dropFirst().reduce(operands[0].dtype) { DType.promote($0, $1.dtype) }
        return try einsumContract(spec, operands, sizes, t, loc: a.loc)
    }

    /// Three or more operands: a pair whose indices are partly summed nowhere else is contracted
    /// first (as the einsum of the pair: a matmul where it is one) while that shrinks the joint
    /// index space, the pair with the fewest indices first ('ij,jk,kl->il' is two matrix
    /// products, not one loop nest over i, j, k, l). NumPy's optimize= does the same; the
    /// values differ by rounding only, integers not at all (each product is in the result type).
    func einsumContract(_ spec: EinsumSpec, _ operands: [Lazy], _ sizes: [EinsumSpec.Label: SymExpr], _ t: DType,
                        loc: SourceLocation) throws -> Value {
        var inputs = spec.inputs, ops = operands
        while ops.count > 2 {
            let total = Set(inputs.joined()).count
            var best: (p: Int, q: Int, kept: [EinsumSpec.Label], joint: Int)? = nil
            for p in ops.indices {
                for q in ops.indices where q > p {
                    var pair: [EinsumSpec.Label] = []
                    for l in inputs[p] + inputs[q] where !pair.contains(l) { pair.append(l) }
                    var elsewhere = Set(spec.output)
                    for (n, labels) in inputs.enumerated() where n != p && n != q { elsewhere.formUnion(labels) }
                    let kept = pair.filter { elsewhere.contains($0) }
                    guard kept.count < pair.count, pair.count < total else { continue }
                    if best == nil || pair.count < best!.joint || (pair.count == best!.joint && kept.count < best!.kept.count) {
                        best = (p, q, kept, pair.count)
                    }
                }
            }
            guard let b = best else { break }
            let pairSpec = EinsumSpec(inputs: [inputs[b.p], inputs[b.q]], output: b.kept)
            let pairOps = [castLazy(ops[b.p], t), castLazy(ops[b.q], t)]
            let partial = try einsumMatmul(pairSpec, pairOps, sizes, t, loc: loc) ?? einsumLoops(pairSpec, pairOps, sizes, t, loc: loc)
            ops.remove(at: b.q)
            ops.remove(at: b.p)
            inputs.remove(at: b.q)
            inputs.remove(at: b.p)
            ops.append(try lazy(partial, loc: loc))
            inputs.append(b.kept)
        }
        let rest = EinsumSpec(inputs: inputs, output: spec.output)
        return try einsumMatmul(rest, ops, sizes, t, loc: loc) ?? einsumLoops(rest, ops, sizes, t, loc: loc)
    }

    /// The size of every label. A label repeated within one operand (a diagonal) needs equal
    /// dimensions; across operands a dimension of 1 broadcasts, as NumPy. Sizes known only
    /// when the module runs are checked then (ValueError), as other shape checks.
    func einsumSizes(_ spec: EinsumSpec, _ operands: [Lazy], subscripts: String, loc: SourceLocation) throws -> [EinsumSpec.Label: SymExpr] {
        var sizes: [EinsumSpec.Label: SymExpr] = [:]
        for (n, (op, labels)) in zip(operands, spec.inputs).enumerated() {
            var own: [EinsumSpec.Label: SymExpr] = [:]
            var order: [EinsumSpec.Label] = []
            for (k, label) in labels.enumerated() {
                let d = op.shape[k]
                guard let prev = own[label] else {
                    own[label] = d
                    order.append(label)
                    continue
                }
                if let x = prev.constant, let y = d.constant, x != y {
                    throw Diagnostic(loc, "np.einsum('\(subscripts)'): dimensions in operand \(n) for collapsing index \(label) don't match (\(x) != \(y))")
                }
                own[label] = try agree(prev, d, loc: loc, broadcasting: false)
            }
            for label in order {
                let d = own[label]!
                guard let prev = sizes[label] else {
                    sizes[label] = d
                    continue
                }
                if let x = prev.constant, let y = d.constant, x != y, x != 1, y != 1 {
                    throw Diagnostic(loc, "np.einsum('\(subscripts)'): index \(label) has size \(x) in an earlier operand and \(y) in operand \(n); they must be equal (or one of them 1)")
                }
                sizes[label] = try agree(prev, d, loc: loc, broadcasting: true)
            }
        }
        return sizes
    }

    /// The contraction as a matrix product, when it is one: two operands, one summed index
    /// present in both, at most one other index of each operand's own, and any number of
    /// shared indices kept in the output (a batch, which needs both own indices). The
    /// operands are transposed (views) into matmul's order, and the result into the
    /// requested one. `nil` where the contraction has another shape.
    func einsumMatmul(_ spec: EinsumSpec, _ operands: [Lazy], _ sizes: [EinsumSpec.Label: SymExpr], _ t: DType,
                      loc: SourceLocation) throws -> Value? {
        guard operands.count == 2, !t.isBool else { return nil }
        let la = spec.inputs[0], lb = spec.inputs[1], out = spec.output
        guard !la.isEmpty, !lb.isEmpty, Set(la).count == la.count, Set(lb).count == lb.count else { return nil }
        let summed = spec.contracted
        guard summed.count == 1, let j = summed.first, la.contains(j), lb.contains(j) else { return nil }
        let batch = out.filter { la.contains($0) && lb.contains($0) }
        let own = (la.filter { !lb.contains($0) }, lb.filter { !la.contains($0) })
        guard own.0.count <= 1, own.1.count <= 1 else { return nil }
        if !batch.isEmpty && (own.0.isEmpty || own.1.isEmpty) { return nil }
        // A dimension of 1 broadcast against a longer one is left to the loop nest.
        for (op, labels) in zip(operands, spec.inputs) {
            for (k, label) in labels.enumerated() where op.shape[k] == .one && sizes[label] != .one { return nil }
        }
        func arranged(_ n: Int, _ order: [EinsumSpec.Label]) throws -> Value {
            let perm = order.map { spec.inputs[n].firstIndex(of: $0)! }
            let v = Value.array(operands[n])
            return perm == Array(0..<perm.count) ? v : try transpose(v, axes: perm, loc: loc)
        }
        if batch.isEmpty, own.0.count == 1, own.1.count == 1, out == own.1 + own.0 {
            // (A B)^T = B^T A^T: the result is written in the requested order.
            return try matmul(try arranged(1, own.1 + [j]), try arranged(0, [j] + own.0), loc: loc)
        }
        let product = try matmul(try arranged(0, batch + own.0 + [j]), try arranged(1, batch + [j] + own.1), loc: loc)
        let natural = batch + own.0 + own.1
        if out == natural { return product }
        return try transpose(product, axes: out.map { natural.firstIndex(of: $0)! }, loc: loc)
    }

    /// The general contraction: the product of the operands over the joint index space (the
    /// output's indices, then the summed ones), each operand a view reindexed to that space
    /// (repeated indices read its diagonal, size-1 dimensions broadcast), summed over the
    /// trailing summed indices in the result type. Booleans multiply with `and` and sum with
    /// `or`, as NumPy.
    func einsumLoops(_ spec: EinsumSpec, _ operands: [Lazy], _ sizes: [EinsumSpec.Label: SymExpr], _ t: DType,
                     loc: SourceLocation) throws -> Value {
        let summed = spec.contracted
        let joint = spec.output + summed
        let shape = joint.map { sizes[$0]! }
        var factors: [Lazy] = []
        for (op, labels) in zip(operands, spec.inputs) {
            if labels.isEmpty {
                factors.append(castLazy(op, t))
                continue
            }
            let view = try viewOf(.array(op), loc: loc)
            let map = labels.enumerated().map { k, label -> SymExpr in
                let p = joint.firstIndex(of: label)!
                return view.shape[k] == .one && shape[p] != .one ? .zero : .sym(ArrayView.placeholder(p))
            }
            let r = view.reindexed(shape: shape, map)
            factors.append(castLazy(Lazy(node: .view(r), shape: shape, dtype: r.dtype), t))
        }
        var product = factors[0]
        for f in factors.dropFirst() {
            product = Lazy(node: .binary(t.isBool ? .and : .mul, product, f), shape: shape, dtype: t)
        }
        if summed.isEmpty {
            if shape.isEmpty { return .scalar(product.element(at: []), weak: false) }
            return .array(product)
        }
        return try reduce(t.isBool ? .max : .add, .array(product), axes: Array(spec.output.count..<joint.count),
                          keepdims: false, loc: loc, resultType: t)
    }
}
