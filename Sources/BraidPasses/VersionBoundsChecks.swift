import BraidIR

/// Loop versioning for bounds checks. Python indexing checks every index (IndexError) and wraps
/// negative ones, so `for k in range(a, b): s += val[k]` reads `val[k + min(1, max(-k, 0)) * n]`
/// after `if k < -n or k >= n: fail` in every iteration. When the checked index is `k + c` with
/// `c`, `n` and the loop's bounds not written in the loop, the whole range of indices is known
/// before the loop starts:
///
///     if (a + c >= 0 and b - 1 + c < n) { the loop without the check, no wrap (k + c >= 0) }
///     else { the loop as it was }
///
/// The fast version does exactly what the original does whenever its condition holds (the
/// checks it drops cannot fail, the wraps it drops add zero), and the original runs otherwise,
/// so negative indices and out-of-bounds errors behave as before. Only the checks that are
/// direct statements of the loop body (run in every iteration) and only the innermost loops
/// that have such checks are versioned, so no loop body is copied more than once. A loop
/// without its checks may then become a parallel map (LoopToMap runs after this pass).
public struct VersionBoundsChecks: Pass {
    public let name = "version-bounds-checks"
    public init() {}

    public func run(_ program: inout Program, remarks: inout [Remark]) throws -> Bool {
        var changed = false
        var uses: [String: Int] = [:]
        for a in TreeFacts(program.body).accesses { uses[a.memlet.data, default: 0] += 1 }
        /// The rewritten block, and whether a loop inside it was versioned.
        func visit(_ nodes: [Node]) -> ([Node], Bool) {
            var out: [Node] = []
            var versionedInside = false
            for n in nodes {
                var inner = false
                let rewritten = withChildBlocks(n) { block in
                    let (b, v) = visit(block)
                    inner = inner || v
                    return b
                }
                if !inner, case .forLoop(let f) = rewritten, let (fast, dropped) = Self.version(f, &program, uses: uses) {
                    out.append(fast)
                    versionedInside = true
                    changed = true
                    remarks.append(Remark(f.loc, pass: name, .simplified,
                                          "loop over \(f.variable) versioned: \(dropped) bounds check(s) hoisted before the loop, indices known not to wrap"))
                    continue
                }
                out.append(rewritten)
                versionedInside = versionedInside || inner
            }
            return (out, versionedInside)
        }
        program.body = visit(program.body).0
        return changed
    }

    /// What a check fails on: `index >= limit` or `index < limit`.
    enum Bound { case atLeast(SymExpr, SymExpr), below(SymExpr, SymExpr) }

    /// The bounds a check's condition fails on (`or` of comparisons of symbolic integers).
    static func bounds(_ c: ScalarExpr) -> [Bound]? {
        switch c {
        case .binary(.or, let a, let b, _):
            guard let x = bounds(a), let y = bounds(b) else { return nil }
            return x + y
        case .binary(.ge, .symbol(let e), .symbol(let n), _): return [.atLeast(e, n)]
        case .binary(.lt, .symbol(let e), .symbol(let m), _): return [.below(e, m)]
        default: return nil
        }
    }

    /// The loop with its hoistable checks taken out, behind the condition under which none of
    /// them can fail, and the original loop otherwise; nil when no check can be hoisted.
    /// Scalars that only the loop uses get their own names in the fast copy (new containers
    /// of `p`): each copy's temporaries then stay private to it, as they were to the loop.
    static func version(_ f: ForLoop, _ p: inout Program, uses: [String: Int]) -> (Node, Int)? {
        guard f.range.step == .one else { return nil }
        let k = f.variable
        let bound = boundNames(f.body).union([k])
        func invariant(_ e: SymExpr) -> Bool { Set(e.freeSymbols).isDisjoint(with: bound) }
        guard invariant(f.range.start), invariant(f.range.end) else { return nil }
        var conditions: [ScalarExpr] = []
        var nonNegative: Set<SymExpr> = []
        var offsets: [SymExpr] = []
        var body: [Node] = []
        var dropped = 0
        for n in f.body {
            if case .branch(let b) = n, b.orElse.isEmpty, b.then.count == 1, case .fail(.indexOutOfBounds, _) = b.then[0],
               let bs = bounds(b.condition), let hoisted = hoist(bs, k, f.range, invariant) {
                conditions += hoisted.conditions.filter { !conditions.contains($0) }
                offsets += hoisted.offsets.filter { !offsets.contains($0) }
                nonNegative.formUnion(hoisted.nonNegative)
                dropped += 1
                continue
            }
            body.append(n)
        }
        guard dropped > 0 else { return nil }
        // The hoisted bounds are computed in int64: bounds and offsets within ±2^61 cannot
        // overflow in them (a Python int near 2^63 takes the checked loop).
        let limit = SymExpr.int(1 << 61)
        for e in [f.range.start, f.range.end] + offsets where e.constant == nil {
            for c in [ScalarExpr.binary(.lt, .symbol(e), .symbol(limit), .bool),
                      .binary(.gt, .symbol(e), .symbol(.zero - limit), .bool)] where !conditions.contains(c) {
                conditions.append(c)
            }
        }
        let facts = TreeFacts(f.body)
        var renamed: [String: String] = [:]
        for name in facts.written.sorted() {
            guard let c = p.container(name), c.isScalar, c.role == .transient,
                  uses[name] == facts.accesses.filter({ $0.memlet.data == name }).count else { continue }
            var k = 1
            while p.container("\(name)_v\(k)") != nil { k += 1 }
            var copy = c
            copy.name = "\(name)_v\(k)"
            p.containers.append(copy)
            renamed[name] = copy.name
        }
        let substitution = renamed.mapValues { SymExpr.sym($0) }
        let rewriter = TreeRewriter(symbol: { dropWraps($0.substituting(substitution), nonNegative) },
                                    memlet: { m in Memlet(data: renamed[m.data] ?? m.data, subset: m.subset) })
        var fast = f
        fast.body = rewriter.nodes(body)
        let all = conditions.dropFirst().reduce(conditions[0]) { .binary(.and, $0, $1, .bool) }
        return (.branch(Branch(condition: all, then: [.forLoop(fast)], orElse: [.forLoop(f)], loc: f.loc)), dropped)
    }

    /// Conditions, evaluated before the loop, under which no bound fails for any k in the
    /// range, and the indices they prove not negative; nil when an index is not `k + c` or
    /// `c` (c and the limits loop-invariant).
    static func hoist(_ bs: [Bound], _ k: String, _ r: SymRange, _ invariant: (SymExpr) -> Bool)
        -> (conditions: [ScalarExpr], nonNegative: [SymExpr], offsets: [SymExpr])? {
        var conditions: [ScalarExpr] = []
        var nonNegative: [SymExpr] = []
        var offsets: [SymExpr] = []
        func extremes(_ e: SymExpr) -> (low: SymExpr, high: SymExpr)? {
            guard let (a, c) = e.linear(in: k), a == 0 || a == 1, invariant(c) else { return nil }
            offsets.append(c)
            return a == 0 ? (c, c) : (r.start + c, r.end - 1 + c)
        }
        for b in bs {
            switch b {
            case .atLeast(let e, let n):
                guard invariant(n), let (_, high) = extremes(e) else { return nil }
                conditions.append(.binary(.lt, .symbol(high), .symbol(n), .bool))
            case .below(let e, let m):
                guard invariant(m), let (low, _) = extremes(e) else { return nil }
                conditions.append(.binary(.ge, .symbol(low), .symbol(m), .bool))
                conditions.append(.binary(.ge, .symbol(low), .symbol(.zero), .bool))
                nonNegative.append(e)
            }
        }
        return (conditions, nonNegative, offsets)
    }

    /// `e` with each negative-index wrap `min(1, max(-i, 0))` of an index i known not to be
    /// negative replaced by 0.
    static func dropWraps(_ e: SymExpr, _ nonNegative: Set<SymExpr>) -> SymExpr {
        guard !nonNegative.isEmpty else { return e }
        func go(_ e: SymExpr) -> SymExpr {
            if let i = e.negativeWrapOperand, nonNegative.contains(i) { return .zero }
            switch e {
            case .int, .sym: return e
            case .add(let xs): return xs.map(go).reduce(SymExpr.zero, +)
            case .mul(let xs): return xs.map(go).reduce(SymExpr.one, *)
            case .floorDiv(let a, let b): return .floorDivide(go(a), go(b))
            case .mod(let a, let b): return .modulo(go(a), go(b))
            case .min(let a, let b): return .minimum(go(a), go(b))
            case .max(let a, let b): return .maximum(go(a), go(b))
            }
        }
        return go(e)
    }

    /// Names a loop body may change: containers it writes, variables of loops and maps in it.
    static func boundNames(_ nodes: [Node]) -> Set<String> {
        var names = Set<String>()
        func visit(_ nodes: [Node]) {
            for n in nodes {
                switch n {
                case .tasklet(let t): names.insert(t.output.data)
                case .library(let l): _ = l.op.mapMemlets { names.insert($0.data); return $0 }
                case .map(let m):
                    names.formUnion(m.params)
                    visit(m.body)
                case .forLoop(let l):
                    names.insert(l.variable)
                    visit(l.body)
                case .whileLoop(let w): visit(w.body)
                case .branch(let b):
                    visit(b.then)
                    visit(b.orElse)
                case .allocate(let a):
                    names.insert(a.container)
                    if let t = a.takeFrom { names.insert(t) }
                case .breakLoop, .continueLoop, .returnProgram, .fail: break
                }
            }
        }
        visit(nodes)
        return names
    }
}
