import BraidIR

/// Rewrites of whole node trees used by the passes: every memlet (tasklet outputs, loads,
/// library operands, memlets inside dynamic indices) and every symbolic expression (map
/// and loop ranges, `symbol` operands) go through the caller's functions.
struct TreeRewriter {
    /// Applied to symbolic expressions first (also inside memlets).
    var symbol: (SymExpr) -> SymExpr = { $0 }
    /// Applied to every memlet after its symbols were rewritten.
    var memlet: (Memlet) -> Memlet = { $0 }
    /// Replaces a load (its memlet rewritten) when it returns an expression.
    var load: (Memlet, DType) -> ScalarExpr? = { _, _ in nil }

    func expr(_ e: ScalarExpr) -> ScalarExpr {
        switch e {
        case .literal: return e
        case .symbol(let s): return .symbol(symbol(s))
        case .load(let m, let t):
            let rewritten = memletRewritten(m)
            return load(rewritten, t) ?? .load(rewritten, t)
        case .unary(let op, let a, let t): return .unary(op, expr(a), t)
        case .binary(let op, let a, let b, let t): return .binary(op, expr(a), expr(b), t)
        case .call(let f, let args, let t): return .call(f, args.map(expr), t)
        case .select(let c, let a, let b, let t): return .select(expr(c), expr(a), expr(b), t)
        case .cast(let a, let t): return .cast(expr(a), t)
        }
    }

    func memletRewritten(_ m: Memlet) -> Memlet {
        memlet(Memlet(data: m.data, subset: m.subset.map { s in
            switch s {
            case .index(.sym(let e)): return .index(.sym(symbol(e)))
            case .index(.dynamic(let e)): return .index(.dynamic(expr(e)))
            case .range(let a, let b, let c): return .range(start: symbol(a), end: symbol(b), step: symbol(c))
            }
        }))
    }

    func range(_ r: SymRange) -> SymRange { SymRange(symbol(r.start), symbol(r.end), step: symbol(r.step)) }

    func nodes(_ ns: [Node]) -> [Node] { ns.map(node) }

    func node(_ n: Node) -> Node {
        switch n {
        case .tasklet(var t):
            t.output = memletRewritten(t.output)
            t.value = expr(t.value)
            return .tasklet(t)
        case .library(var l):
            l.op = l.op.mapMemlets(memletRewritten)
            return .library(l)
        case .map(var m):
            m.ranges = m.ranges.map(range)
            m.body = nodes(m.body)
            return .map(m)
        case .forLoop(var f):
            f.range = range(f.range)
            f.body = nodes(f.body)
            return .forLoop(f)
        case .whileLoop(var w):
            w.condition = expr(w.condition)
            w.body = nodes(w.body)
            return .whileLoop(w)
        case .branch(var b):
            b.condition = expr(b.condition)
            b.then = nodes(b.then)
            b.orElse = nodes(b.orElse)
            return .branch(b)
        case .breakLoop, .continueLoop, .returnProgram, .fail:
            return n
        case .allocate(var a):
            // The (re)allocated containers, seen as memlets without a subset.
            a.container = memlet(Memlet(data: a.container, subset: [])).data
            a.takeFrom = a.takeFrom.map { memlet(Memlet(data: $0, subset: [])).data }
            return .allocate(a)
        }
    }
}

/// One access of a container found in a tree, with the loop variables and map
/// parameters of the scopes between the tree's root and the access.
struct Access {
    var memlet: Memlet
    var isWrite: Bool
    var wcr: WCR?
    /// Variables of loops and maps nested inside the root (not the root's own parameters).
    var innerVariables: Set<String>
    /// Whether the access sits directly in the root block (not in a branch or nested scope).
    var unconditional: Bool
}

/// Facts about a node tree that the passes ask for.
struct TreeFacts {
    var accesses: [Access] = []
    var hasReturnOrFail = false
    /// `break`/`continue` that leave the root block's own loop (not one nested inside it).
    var hasOwnBreakOrContinue = false
    var hasLibraryNode = false
    var hasWhile = false
    /// Arrays (re)allocated inside the tree.
    var allocated: Set<String> = []

    init(_ nodes: [Node]) {
        walk(nodes, inner: [], depth: 0, loopDepth: 0)
    }

    /// Loads of `e`, and the names it uses as symbols (scalars that size, bound or index).
    private mutating func reads(_ e: ScalarExpr, inner: Set<String>, top: Bool) {
        for name in symbolNames(e) { symbolRead(name, inner: inner, top: top) }
        e.visitLoads { m in accesses.append(Access(memlet: m, isWrite: false, wcr: nil, innerVariables: inner, unconditional: top)) }
    }

    private mutating func symbolReads(_ es: [SymExpr], inner: Set<String>, top: Bool) {
        for e in es { for name in e.freeSymbols { symbolRead(name, inner: inner, top: top) } }
    }

    private mutating func symbolRead(_ name: String, inner: Set<String>, top: Bool) {
        accesses.append(Access(memlet: Memlet(data: name, subset: []), isWrite: false, wcr: nil, innerVariables: inner, unconditional: top))
    }

    private mutating func memletSymbols(_ m: Memlet, inner: Set<String>, top: Bool) {
        for s in m.subset {
            switch s {
            case .index(.sym(let e)): symbolReads([e], inner: inner, top: top)
            case .index(.dynamic): break
            case .range(let a, let b, let c): symbolReads([a, b, c], inner: inner, top: top)
            }
        }
    }

    private mutating func walk(_ nodes: [Node], inner: Set<String>, depth: Int, loopDepth: Int) {
        let top = depth == 0
        for n in nodes {
            switch n {
            case .tasklet(let t):
                reads(t.value, inner: inner, top: top)
                for s in t.output.subset {
                    if case .index(.dynamic(let e)) = s { reads(e, inner: inner, top: top) }
                }
                memletSymbols(t.output, inner: inner, top: top)
                if t.wcr != nil {
                    accesses.append(Access(memlet: t.output, isWrite: false, wcr: nil, innerVariables: inner, unconditional: top))
                }
                accesses.append(Access(memlet: t.output, isWrite: true, wcr: t.wcr, innerVariables: inner, unconditional: top))
            case .library(let l):
                hasLibraryNode = true
                if l.op.canFail { hasReturnOrFail = true }
                for m in l.inputs + l.outputs { memletSymbols(m, inner: inner, top: top) }
                for m in l.inputs {
                    accesses.append(Access(memlet: m, isWrite: false, wcr: nil, innerVariables: inner, unconditional: top))
                }
                for m in l.outputs {
                    accesses.append(Access(memlet: m, isWrite: true, wcr: nil, innerVariables: inner, unconditional: top))
                }
            case .map(let m):
                symbolReads(m.ranges.flatMap { [$0.start, $0.end, $0.step] }, inner: inner, top: top)
                walk(m.body, inner: inner.union(m.params), depth: depth + 1, loopDepth: loopDepth)
            case .forLoop(let f):
                symbolReads([f.range.start, f.range.end, f.range.step], inner: inner, top: top)
                walk(f.body, inner: inner.union([f.variable]), depth: depth + 1, loopDepth: loopDepth + 1)
            case .whileLoop(let w):
                hasWhile = true
                reads(w.condition, inner: inner, top: false)
                walk(w.body, inner: inner, depth: depth + 1, loopDepth: loopDepth + 1)
            case .branch(let b):
                reads(b.condition, inner: inner, top: top)
                walk(b.then, inner: inner, depth: depth + 1, loopDepth: loopDepth)
                walk(b.orElse, inner: inner, depth: depth + 1, loopDepth: loopDepth)
            case .breakLoop, .continueLoop:
                if loopDepth == 0 { hasOwnBreakOrContinue = true }
            case .returnProgram, .fail:
                hasReturnOrFail = true
            case .allocate(let a):
                // New storage replaces the whole container (and empties `takeFrom`): nothing may
                // move across it. It can also fail (no memory), like a return.
                hasReturnOrFail = true
                for name in [a.container] + (a.takeFrom.map { [$0] } ?? []) {
                    accesses.append(Access(memlet: Memlet(data: name, subset: []), isWrite: true, wcr: nil, innerVariables: inner, unconditional: top))
                }
            }
        }
    }

    /// Names of containers written anywhere in the tree.
    var written: Set<String> { Set(accesses.filter(\.isWrite).map(\.memlet.data)) }
    /// Names of containers accessed anywhere in the tree.
    var touched: Set<String> { Set(accesses.map(\.memlet.data)) }
}

/// Names an expression uses as symbols (in `symbol` operands and symbolic indices of its loads).
func symbolNames(_ e: ScalarExpr) -> Set<String> {
    var out = Set<String>()
    _ = TreeRewriter(symbol: { x in out.formUnion(x.freeSymbols); return x }).expr(e)
    return out
}

/// Every container name mentioned in a tree, including symbols that name scalar containers.
func mentionedNames(_ nodes: [Node]) -> Set<String> {
    var out = Set<String>()
    let r = TreeRewriter(symbol: { e in out.formUnion(e.freeSymbols); return e },
                         memlet: { m in out.insert(m.data); return m })
    _ = r.nodes(nodes)
    return out
}

/// Whether iterations of a scope over `params` that differ in any parameter touch
/// different elements through `subsets`: for every parameter some dimension holds,
/// in every subset alike, the same expression `c*param + rest` (c ≠ 0) whose rest is
/// free of the parameters and of `variant` names (inner loop variables, containers
/// written inside the scope).
func separatesIterations(_ subsets: [[Subscript]], params: [String], variant: Set<String>) -> Bool {
    guard let first = subsets.first else { return true }
    guard subsets.allSatisfy({ $0.count == first.count }) else { return false }
    var covered = Set<String>()
    for (d, s) in first.enumerated() {
        guard case .index(.sym(let e)) = s else { continue }
        guard subsets.allSatisfy({ $0[d] == s }) else { continue }
        let syms = Set(e.freeSymbols)
        let ps = syms.intersection(params)
        guard ps.count == 1, let p = ps.first, syms.isDisjoint(with: variant) else { continue }
        if let (c, rest) = e.linear(in: p), c != 0, Set(rest.freeSymbols).isDisjoint(with: params) {
            covered.insert(p)
        }
    }
    return covered == Set(params)
}
