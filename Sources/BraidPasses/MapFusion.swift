import BraidIR

/// Fuses neighbouring maps over the same iteration space, then turns the intermediate
/// arrays that fusion left private to one iteration into scalars, so a chain of array
/// statements (`I = abs(Z) < 2; N[I] = n; Z[I] = Z[I]**2 + C[I]`) becomes one loop nest
/// that makes no temporaries.
///
/// Fusing map `a` with the map `b` right after it is legal when both have the same ranges,
/// neither leaves the program (return, failure) nor contains a library call, neither touches
/// the other's reduction targets, and every container that one writes and both touch is accessed, in both, only
/// through one subscript pattern that gives each iteration its own elements (see
/// `separatesIterations`): then iteration `p` of `b` depends only on iteration `p` of `a`,
/// and running `a(p); b(p)` for each `p` in order computes the same values.
///
/// A transient array becomes a scalar private to a map when every access to it in the whole
/// program lies in that map's body with one subscript pattern that separates iterations,
/// the writes directly in the body (outside nested loops) and the first access an
/// unconditional write; reads may sit in nested loops (the row maximum read by every
/// element of its row).
public struct MapFusion: Pass {
    public let name = "map-fusion"
    public init() {}

    public func run(_ program: inout Program, remarks: inout [Remark]) throws -> Bool {
        var changed = false
        let p = program
        program.body = rewriteBlocks(program.body) { nodes in
            var out: [Node] = []
            for n in nodes {
                // Scalar assignments between the two maps (a reduction's initial value) move
                // above the first map when that map neither reads nor writes what they touch.
                var between: [Node] = []
                while case .tasklet(let t)? = out.last, Self.movable(t), out.count >= 2, case .map(let a) = out[out.count - 2] {
                    let fa = TreeFacts(a.body)
                    let touched = Set(t.value.reads.map(\.data)).union(symbolNames(t.value))
                    guard !fa.touched.contains(t.output.data), touched.isDisjoint(with: fa.written) else { break }
                    between.insert(out.removeLast(), at: 0)
                }
                if case .map(let b) = n, !between.isEmpty, case .map(let a)? = out.last, Self.fuse(a, b, p) != nil {
                    out.insert(contentsOf: between, at: out.count - 1)
                } else {
                    out += between
                }
                if case .map(let b) = n, case .map(let a)? = out.last, let fused = Self.fuse(a, b, p) {
                    out[out.count - 1] = .map(fused)
                    let how = a.params.count == b.params.count
                        ? "same iteration space, element-wise dependences only"
                        : "over their common outer loops; each outer iteration uses only what it wrote"
                    remarks.append(Remark(b.loc, pass: name, .fused, "fused with the loop nest of line \(a.loc.line) (\(how))"))
                    changed = true
                } else {
                    out.append(n)
                }
            }
            return out
        }
        if Self.scalarizeTransients(&program, remarks: &remarks, pass: name) { changed = true }
        return changed
    }

    /// A plain assignment to a scalar (no reduction, no indirect index).
    static func movable(_ t: Tasklet) -> Bool {
        t.output.subset.isEmpty && t.wcr == nil
    }

    /// `a` followed by `b` as one map, or `nil` when that is not provably equal.
    ///
    /// Maps whose dimensions differ by one (a row reduction `red[i, j] = max(x[i, j, :])` and
    /// the elementwise `e[i, j, k] = exp(x[i, j, k] - red[i, j])` after it) fuse over their
    /// common leading loops when those have the same ranges: the deeper map becomes an inner
    /// map of its last dimension, and the same-space test below then proves that outer
    /// iteration `p` of `b` uses only what outer iteration `p` of `a` wrote. Each row is then
    /// reduced, transformed and normalized while it is in cache (softmax, layer norms).
    static func fuse(_ a: MapScope, _ b: MapScope, _ p: Program) -> MapScope? {
        if a.params.count == b.params.count { return fuseSameSpace(a, b, p) }
        let d = min(a.params.count, b.params.count)
        guard d >= 1, max(a.params.count, b.params.count) == d + 1,
              let outerA = nest(a, outer: d), let outerB = nest(b, outer: d),
              let fused = fuseSameSpace(outerA, outerB, p) else { return nil }
        // Only when the fused rows can run in parallel: otherwise the deeper map would run as
        // one small parallel loop per row.
        guard case .success = ScheduleMaps.check(fused, p) else { return nil }
        return fused
    }

    /// `m` as a map over its first `outer` parameters around a sequential map over the rest;
    /// `nil` for a map that combines reductions across its iterations.
    static func nest(_ m: MapScope, outer: Int) -> MapScope? {
        if m.params.count == outer { return m }
        guard m.reductions.isEmpty else { return nil }
        let inner = MapScope(params: Array(m.params[outer...]), ranges: Array(m.ranges[outer...]), schedule: .sequential,
                             body: m.body, locals: m.locals, loc: m.loc)
        return MapScope(params: Array(m.params[..<outer]), ranges: Array(m.ranges[..<outer]), schedule: m.schedule,
                        body: [.map(inner)], loc: m.loc)
    }

    /// `a` followed by `b`, both over the same iteration space, as one map.
    static func fuseSameSpace(_ a: MapScope, _ b: MapScope, _ p: Program) -> MapScope? {
        let same = equalSizes(p)
        func canonical(_ r: SymRange) -> SymRange {
            SymRange(r.start.substituting(same), r.end.substituting(same), step: r.step.substituting(same))
        }
        guard a.schedule == b.schedule, a.params.count == b.params.count, a.ranges.map(canonical) == b.ranges.map(canonical) else {
            return nil
        }
        let fa = TreeFacts(a.body), fbRaw = TreeFacts(b.body)
        // b's parameters are renamed to a's; they must not clash with variables inside b.
        let innerB = Set(fbRaw.accesses.flatMap(\.innerVariables)).union(loopVariables(b.body))
        guard innerB.isDisjoint(with: a.params) else { return nil }
        let renaming = Dictionary(uniqueKeysWithValues: zip(b.params, a.params.map { SymExpr.sym($0) }))
        let bBody = TreeRewriter(symbol: { $0.substituting(renaming) }).nodes(b.body)
        let fb = TreeFacts(bBody)
        for f in [fa, fb] where f.hasReturnOrFail || !f.allocated.isEmpty || f.hasLibraryNode || f.hasWhile || f.hasOwnBreakOrContinue {
            return nil
        }
        let writtenA = fa.written, writtenB = fb.written
        // Scalars used as symbols (sizes, indices) must not be written by the other map.
        if !symbolNames(bBody).isDisjoint(with: writtenA) || !symbolNames(a.body).isDisjoint(with: writtenB) { return nil }
        // A map's reduction targets are combined across all its iterations: the other map
        // must not touch them at all.
        if !Set(a.reductions.keys).isDisjoint(with: fb.touched) || !Set(b.reductions.keys).isDisjoint(with: fa.touched) { return nil }
        let shared = writtenA.union(writtenB).intersection(fa.touched.intersection(fb.touched))
        let all = fa.accesses + fb.accesses
        let variant = Set(all.flatMap(\.innerVariables)).union(writtenA).union(writtenB)
        for x in shared {
            let subsets = all.filter { $0.memlet.data == x }.map(\.memlet.subset)
            guard subsets.allSatisfy({ $0.allSatisfy { if case .index(.sym) = $0 { return true } else { return false } } }),
                  separatesIterations(subsets, params: a.params, variant: variant) else { return nil }
        }
        return MapScope(params: a.params, ranges: a.ranges, schedule: a.schedule, body: a.body + bBody,
                        locals: a.locals + b.locals, reductions: a.reductions.merging(b.reductions) { x, _ in x }, loc: a.loc)
    }

    /// Size symbols the module checks equal at call time (`shapeAssertions` between two
    /// symbols), each mapped to one representative, so `0:A_shape_0` and `0:B_shape_0` compare equal.
    static func equalSizes(_ p: Program) -> [String: SymExpr] {
        var parent: [String: String] = [:]
        func find(_ x: String) -> String {
            var r = x
            while let q = parent[r], q != r { r = q }
            return r
        }
        for (lhs, rhs, _) in p.shapeAssertions {
            guard case .sym(let a) = lhs, case .sym(let b) = rhs else { continue }
            let (ra, rb) = (find(a), find(b))
            if ra != rb { parent[max(ra, rb)] = min(ra, rb) }
        }
        var out: [String: SymExpr] = [:]
        for k in parent.keys where find(k) != k { out[k] = .sym(find(k)) }
        return out
    }

    /// Turns transient arrays private to one map iteration into scalars of that map.
    static func scalarizeTransients(_ program: inout Program, remarks: inout [Remark], pass: String) -> Bool {
        var total: [String: Int] = [:]
        for a in TreeFacts(program.body).accesses { total[a.memlet.data, default: 0] += 1 }
        let symbols = symbolNames(program.body)
        let candidates = Set(program.containers.filter { $0.isTransient && !$0.isScalar && !$0.isDynamic && !symbols.contains($0.name) }.map(\.name))
        guard !candidates.isEmpty else { return false }
        var chosen: [String: [Subscript]] = [:]
        var chosenLoc: [String: SourceLocation] = [:]
        var chosenMap: [String: [String]] = [:]
        func visit(_ nodes: [Node]) {
            for n in nodes {
                switch n {
                case .map(let m):
                    let facts = TreeFacts(m.body)
                    let written = facts.written
                    var byName: [String: [Access]] = [:]
                    for a in facts.accesses where candidates.contains(a.memlet.data) { byName[a.memlet.data, default: []].append(a) }
                    for (name, acc) in byName where acc.count == total[name] && chosen[name] == nil {
                        // Reads may sit in loops nested in the map when they use the same
                        // element (no inner variable in the subscript); writes may not.
                        let s = acc[0].memlet.subset
                        let inner = Set(acc.flatMap(\.innerVariables))
                        guard acc.allSatisfy({ $0.memlet.subset == s && ($0.innerVariables.isEmpty || !$0.isWrite) }),
                              acc[0].isWrite, acc[0].unconditional, acc[0].wcr == nil,
                              s.allSatisfy({ if case .index(.sym) = $0 { return true } else { return false } }),
                              separatesIterations([s], params: m.params, variant: written.union(inner)) else { continue }
                        chosen[name] = s
                        chosenLoc[name] = m.loc
                        chosenMap[name] = m.params
                    }
                    visit(m.body)
                case .forLoop(let f): visit(f.body)
                case .whileLoop(let w): visit(w.body)
                case .branch(let b):
                    visit(b.then)
                    visit(b.orElse)
                default: break
                }
            }
        }
        visit(program.body)
        guard !chosen.isEmpty else { return false }
        // Record the new locals on their maps, then drop the subscripts.
        program.body = rewriteBlocks(program.body) { nodes in
            nodes.map { n in
                guard case .map(var m) = n else { return n }
                let names = TreeFacts(m.body).accesses.filter { chosenMap[$0.memlet.data] == m.params }.map(\.memlet.data)
                for name in Set(names).sorted() where !m.locals.contains(name) { m.locals.append(name) }
                return .map(m)
            }
        }
        program.body = TreeRewriter(memlet: { m in chosen[m.data] != nil ? Memlet(data: m.data, subset: []) : m }).nodes(program.body)
        for k in program.containers.indices where chosen[program.containers[k].name] != nil {
            program.containers[k].shape = []
            program.containers[k].storage = .register
        }
        for name in chosen.keys.sorted() {
            remarks.append(Remark(chosenLoc[name]!, pass: pass, .fused, "intermediate array '\(name)' is a scalar of each iteration (no temporary array)"))
        }
        return true
    }
}

/// Names used as symbols (sizes, loop bounds, indices) anywhere in a tree.
func symbolNames(_ nodes: [Node]) -> Set<String> {
    var out = Set<String>()
    _ = TreeRewriter(symbol: { e in out.formUnion(e.freeSymbols); return e }).nodes(nodes)
    return out
}

/// Variables of every loop and map inside a tree.
func loopVariables(_ nodes: [Node]) -> Set<String> {
    var out = Set<String>()
    for n in nodes {
        switch n {
        case .map(let m): out.formUnion(m.params); out.formUnion(loopVariables(m.body))
        case .forLoop(let f): out.insert(f.variable); out.formUnion(loopVariables(f.body))
        case .whileLoop(let w): out.formUnion(loopVariables(w.body))
        case .branch(let b): out.formUnion(loopVariables(b.then)); out.formUnion(loopVariables(b.orElse))
        default: break
        }
    }
    return out
}
