import BraidIR

/// Turns a Python `for` loop into a map when its iterations are provably independent, so
/// that `ScheduleMaps` can run it in parallel; loops carrying a dependence stay loops.
///
/// A loop `for v in range(start, end, step)` (constant step > 0) becomes a map over `v` when
/// - its body neither leaves the loop or program (`break`, `continue` of this loop, `return`,
///   a failing check or call) nor allocates, and its bounds are not written by the body;
/// - every scalar the body writes is either private to an iteration (on every path through the
///   body it is assigned before it is read, and it is used nowhere outside the loop) or an
///   accumulator updated only as `s = s ⊕ e` with ⊕ in `+ * max min` (it becomes a reduction:
///   the order of a floating-point sum changes, as NumPy's pairwise sums do);
/// - with `arrayReductions` (the CPU target), an array accessed only as `a[X] = a[X] + e`
///   (`hist[b] += w`, any index X, e not reading `a`) is an accumulator too: its updates are
///   combined across iterations (per-thread copies of the array, summed at the end);
/// - the map's iterations are independent by `ScheduleMaps.check` (writes indexed
///   injectively by `v`, reads of written arrays only at the element the same iteration writes).
/// Inner loops are converted first, so an outer loop sees their private scalars as private.
public struct LoopToMap: Pass {
    public let name = "loop-to-map"
    /// Whether arrays updated only by `a[X] = a[X] + e` become reductions (the CPU target's
    /// OpenMP array-section reductions; other targets keep such loops sequential).
    public var arrayReductions: Bool
    public init(arrayReductions: Bool = false) { self.arrayReductions = arrayReductions }

    public func run(_ program: inout Program, remarks: inout [Remark]) throws -> Bool {
        var changed = false
        let everything = TreeFacts(program.body)
        var uses: [String: Int] = [:]
        for a in everything.accesses { uses[a.memlet.data, default: 0] += 1 }
        program.body = convert(program.body, program, uses: uses, changed: &changed, remarks: &remarks)
        return changed
    }

    func convert(_ nodes: [Node], _ p: Program, uses: [String: Int], changed: inout Bool, remarks: inout [Remark]) -> [Node] {
        nodes.map { n in
            switch n {
            case .forLoop(var l):
                // Inner loops first: scalars private to an inner map are then private here too.
                l.body = convert(l.body, p, uses: uses, changed: &changed, remarks: &remarks)
                // Loops the frontend made (reductions, gathers) are not the user's: no remarks.
                let own = !Self.isGenerated(l.variable)
                switch Self.asMap(l, p, uses: uses, arrayReductions: arrayReductions) {
                case .success(let m):
                    changed = true
                    if own {
                        let priv = m.locals.isEmpty ? "" : " (private per iteration: \(m.locals.joined(separator: ", ")))"
                        remarks.append(Remark(l.loc, pass: name, .parallel, "for-loop over \(l.variable) has independent iterations: it is a map\(priv)"))
                    }
                    return .map(m)
                case .failure(let why):
                    if own { remarks.append(Remark(l.loc, pass: name, .sequential, "for-loop over \(l.variable) stays sequential: \(why.message)")) }
                    return .forLoop(l)
                }
            default:
                return withChildBlocks(n) { convert($0, p, uses: uses, changed: &changed, remarks: &remarks) }
            }
        }
    }

    typealias Dependence = ScheduleMaps.Dependence

    /// Names the frontend gives its own loops: `_`, letters and underscores, digits (`_k4`, `_mm_k0`).
    static func isGenerated(_ v: String) -> Bool {
        let c = Array(v)
        guard c.count >= 3, c[0] == "_", c[1].isLetter, c.last!.isNumber else { return false }
        let word = c.dropFirst().prefix { $0.isLetter || $0 == "_" }
        return c.dropFirst(1 + word.count).allSatisfy(\.isNumber)
    }

    /// The loop as an equivalent map, or the reason it must stay a loop.
    static func asMap(_ l: ForLoop, _ p: Program, uses: [String: Int], arrayReductions: Bool = false) -> Result<MapScope, Dependence> {
        func no(_ s: String) -> Result<MapScope, Dependence> { .failure(Dependence(message: s)) }
        guard let step = l.range.step.constant, step > 0 else { return no("its step is not a positive constant") }
        let facts = TreeFacts(l.body)
        if facts.hasReturnOrFail { return no("an iteration can return or raise an error") }
        if facts.hasOwnBreakOrContinue { return no("it contains break or continue") }
        if !facts.allocated.isEmpty { return no("an iteration allocates an array") }
        let written = facts.written
        let boundSymbols = Set([l.range.start, l.range.end, l.range.step].flatMap(\.freeSymbols))
        if let b = boundSymbols.intersection(written).sorted().first { return no("its bound '\(b)' is changed inside") }
        // Scalars written inside: private per iteration, or accumulators.
        var locals: [String] = []
        var accumulators: [String: WCR] = [:]
        var nestedLocals = Set<String>()
        ScheduleMaps.collectLocals(l.body, into: &nestedLocals)
        let exposed = upwardExposed(l.body)
        for name in written.sorted() where !nestedLocals.contains(name) {
            guard let c = p.container(name) else { continue }
            let acc = facts.accesses.filter { $0.memlet.data == name }
            guard c.isScalar else {
                if arrayReductions, accumulatorOp(name, l.body, accessCount: acc.count, elements: true) == .add {
                    accumulators[name] = .add
                }
                continue
            }
            let usedOutside = (uses[name] ?? 0) != acc.count || c.role != .transient
            if !exposed.contains(name), acc.contains(where: { $0.isWrite && $0.wcr == nil }), !usedOutside {
                locals.append(name)
                continue
            }
            if let op = accumulatorOp(name, l.body, accessCount: acc.count) {
                accumulators[name] = op
                continue
            }
            if usedOutside { return no("'\(name)' is assigned in the loop and used after it (or is a parameter or result)") }
            return no("'\(name)' is read before it is assigned in an iteration (a value carried from the previous iteration)")
        }
        // Private scalars may be used as symbols (indices) inside the body only.
        let body = accumulators.isEmpty ? l.body : rewriteAccumulators(l.body, accumulators)
        let m = MapScope(params: [l.variable], ranges: [l.range], schedule: .sequential, body: body,
                         locals: locals, reductions: [:], loc: l.loc)
        switch ScheduleMaps.check(m, p, arrayReductions: arrayReductions) {
        case .success: return .success(m)
        case .failure(let d): return .failure(d)
        }
    }

    /// The operation of `s = s ⊕ e` if that is the only kind of access to `s` in the tree;
    /// with `elements`, of `s[X] = s[X] ⊕ e` (the same element X on both sides) for an array.
    static func accumulatorOp(_ s: String, _ nodes: [Node], accessCount: Int, elements: Bool = false) -> WCR? {
        var op: WCR?
        var updates = 0
        var bad = false
        func visit(_ ns: [Node]) {
            for n in ns {
                switch n {
                case .tasklet(let t) where t.output.data == s:
                    // Already a reduction update (`s = (wcr ⊕) e`), or `s = s ⊕ e`.
                    let found: (WCR, ScalarExpr)? = t.wcr.map { ($0, t.value) } ?? update(t)
                    guard t.output.subset.isEmpty != elements, let (o, rest) = found, op == nil || op == o else { bad = true; continue }
                    if rest.reads.contains(where: { $0.data == s }) { bad = true }
                    op = o
                    updates += 1
                case .map(let m): visit(m.body)
                case .forLoop(let f): visit(f.body)
                case .whileLoop(let w): visit(w.body)
                case .branch(let b): visit(b.then); visit(b.orElse)
                default: break
                }
            }
        }
        visit(nodes)
        // Each update reads `s` once and writes it once; any other access disqualifies.
        guard !bad, let op, updates * 2 == accessCount else { return nil }
        return op
    }

    /// `(⊕, e)` when the tasklet is `s = s ⊕ e` or `s = e ⊕ s` with ⊕ one of the reductions
    /// (s the tasklet's output, a scalar or one array element).
    static func update(_ t: Tasklet) -> (WCR, ScalarExpr)? {
        // An integer scalar counted in symbolic form: `n = n + k`.
        if case .symbol(let e) = t.value, t.output.subset.isEmpty, let (c, rest) = e.linear(in: t.output.data), c == 1,
           !rest.freeSymbols.contains(t.output.data) {
            return (.add, .symbol(rest))
        }
        guard case .binary(let op, let a, let b, let type) = t.value else { return nil }
        let wcr: WCR
        switch op {
        case .add: wcr = .add
        case .mul: wcr = .mul
        case .max: wcr = .max
        case .min: wcr = .min
        default: return nil
        }
        func isS(_ e: ScalarExpr) -> Bool {
            if case .load(let m, let t2) = e { return m == t.output && t2 == type }
            return false
        }
        if isS(a) { return (wcr, b) }
        if isS(b) { return (wcr, a) }
        return nil
    }

    static func rewriteAccumulators(_ nodes: [Node], _ acc: [String: WCR]) -> [Node] {
        nodes.map { n in
            guard case .tasklet(var t) = n else { return withChildBlocks(n) { rewriteAccumulators($0, acc) } }
            if let op = acc[t.output.data], let (_, rest) = update(t) {
                t.wcr = op
                t.value = rest
            }
            return .tasklet(t)
        }
    }

    /// Scalars some path through the tree reads before it assigns them (their value comes from
    /// before the tree, or from an earlier iteration when the tree is a loop body). A branch
    /// assigns what both arms assign; a loop, which may not run, assigns nothing after it.
    static func upwardExposed(_ nodes: [Node]) -> Set<String> {
        var exposed = Set<String>()
        func read(_ names: Set<String>, _ assigned: Set<String>) { exposed.formUnion(names.subtracting(assigned)) }
        func names(_ e: ScalarExpr) -> Set<String> {
            var out = symbolNames(e)
            e.visitLoads { out.insert($0.data) }
            return out
        }
        func subsetNames(_ m: Memlet) -> Set<String> {
            var out = Set<String>()
            for s in m.subset {
                switch s {
                case .index(.sym(let e)): out.formUnion(e.freeSymbols)
                case .index(.dynamic(let e)): out.formUnion(names(e))
                case .range(let a, let b, let c): out.formUnion(a.freeSymbols + b.freeSymbols + c.freeSymbols)
                }
            }
            return out
        }
        func walk(_ nodes: [Node], _ assigned: Set<String>) -> Set<String> {
            var assigned = assigned
            for n in nodes {
                switch n {
                case .tasklet(let t):
                    read(names(t.value).union(subsetNames(t.output)), assigned)
                    if t.wcr != nil { read([t.output.data], assigned) }
                    if t.output.subset.isEmpty && t.wcr == nil { assigned.insert(t.output.data) }
                case .library(let l):
                    for m in l.inputs + l.outputs { read(subsetNames(m).union(l.inputs.map(\.data)), assigned) }
                case .map(let m):
                    read(Set(m.ranges.flatMap { $0.start.freeSymbols + $0.end.freeSymbols + $0.step.freeSymbols }), assigned)
                    _ = walk(m.body, assigned)
                case .forLoop(let f):
                    read(Set(f.range.start.freeSymbols + f.range.end.freeSymbols + f.range.step.freeSymbols), assigned)
                    _ = walk(f.body, assigned)
                case .whileLoop(let w):
                    read(names(w.condition), assigned)
                    _ = walk(w.body, assigned)
                case .branch(let b):
                    read(names(b.condition), assigned)
                    assigned = walk(b.then, assigned).intersection(walk(b.orElse, assigned))
                case .breakLoop, .continueLoop, .returnProgram, .fail, .allocate:
                    break
                }
            }
            return assigned
        }
        _ = walk(nodes, [])
        return exposed
    }
}
