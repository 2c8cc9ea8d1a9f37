import BraidIR

/// Speculative parallel execution of loops whose only obstacle to running in parallel is that
/// an iteration can raise (an index check on data, `x[col[k]]`; a value check). Python stops
/// at the first failing iteration with the earlier iterations' writes done, so such a loop
/// cannot simply run its iterations in parallel. Instead:
///
///     failed = 1
///     if the arrays the loop writes are not much larger than what it writes:
///         save the arrays the loop writes (and its accumulators)
///         failed = 0
///         map i: the body, where a failing check sets `failed` (a max reduction) and ends
///                only its own iteration (`MapScope.failsEndIteration`)
///         if failed: restore the saved arrays
///     if failed: the loop as written (sequential; it raises at the same iteration, after
///                the same writes, as Python)
///
/// Legal when (all proved here, or the loop is left alone):
/// - the body neither returns, allocates, calls a library function that can fail, nor has a
///   check inside a nested map, and it has no `break`/`continue` of its own;
/// - the body without its checks is a map by `LoopToMap` (independent iterations, private
///   scalars, reductions), and the body with its checks is a map by `ScheduleMaps.check` with
///   the same private scalars (it runs the same statements in the same order, only stopping
///   an iteration early);
/// - no saved array is dynamic (its storage could not be saved before the loop).
/// The save is only made when the arrays' total size is at most twice the trip count times
/// the number of array writes in the body; otherwise the loop runs as written.
/// Runs after `loop-to-map`, on the loops it left sequential, outermost first.
public struct SpeculateChecks: Pass {
    public let name = "speculate-checks"
    public init() {}

    public func run(_ program: inout Program, remarks: inout [Remark]) throws -> Bool {
        var changed = false
        var uses: [String: Int] = [:]
        for a in TreeFacts(program.body).accesses { uses[a.memlet.data, default: 0] += 1 }
        var p = program
        func visit(_ nodes: [Node]) -> [Node] {
            nodes.flatMap { n -> [Node] in
                switch n {
                case .forLoop(let l):
                    if let (replacement, checks, saved) = Self.speculate(l, &p, uses: uses) {
                        changed = true
                        // The loop's "can raise" remark from loop-to-map no longer holds.
                        remarks.removeAll { $0.loc == l.loc && $0.pass == "loop-to-map" && $0.kind == .sequential }
                        let what = saved.isEmpty ? "" : " (\(saved.joined(separator: ", ")) saved first)"
                        remarks.append(Remark(l.loc, pass: name, .parallel,
                                              "for-loop over \(l.variable) runs as a map with its \(checks) check(s)\(what); if one fails, what it wrote is restored and the loop runs as written, raising at the same iteration"))
                        return replacement
                    }
                    return [withChildBlocks(n, visit)]
                case .map:
                    return [n]
                default:
                    return [withChildBlocks(n, visit)]
                }
            }
        }
        let body = visit(program.body)
        if changed {
            program = p
            program.body = body
        }
        return changed
    }

    /// The speculative form of `l`, how many checks it evaluates and the containers it saves;
    /// nil where that is not legal.
    static func speculate(_ l: ForLoop, _ p: inout Program, uses: [String: Int]) -> ([Node], Int, [String])? {
        let facts = TreeFacts(l.body)
        guard facts.hasReturnOrFail, !facts.hasOwnBreakOrContinue, facts.allocated.isEmpty,
              !hasBlocker(l.body) else { return nil }

        // The body without its checks must be a map. `uses` counts accesses in the program as
        // it was; the copy stands in for the loop there, so a scalar used only in the loop is
        // still used only in the copy.
        var unchecked = l
        unchecked.body = Self.withoutChecks(l.body)
        var u = uses
        for a in facts.accesses { u[a.memlet.data, default: 0] -= 1 }
        for a in TreeFacts(unchecked.body).accesses { u[a.memlet.data, default: 0] += 1 }
        var ignoredChange = false
        var ignored: [Remark] = []
        let converted = LoopToMap(arrayReductions: true).convert([.forLoop(unchecked)], p, uses: u, changed: &ignoredChange, remarks: &ignored)
        guard converted.count == 1, case .map(let uncheckedMap) = converted[0] else { return nil }
        // Its private scalars (also those of maps nested in it) and its accumulators.
        var privates = Set(uncheckedMap.locals)
        ScheduleMaps.collectLocals(uncheckedMap.body, into: &privates)
        var accumulators: [String: WCR] = [:]
        func collectUpdates(_ nodes: [Node]) {
            for n in nodes {
                switch n {
                case .tasklet(let t): if let w = t.wcr { accumulators[t.output.data] = w }
                case .map: break
                default: _ = withChildBlocks(n) { collectUpdates($0); return $0 }
                }
            }
        }
        collectUpdates(uncheckedMap.body)

        var q = p
        func declare(_ base: String, like c: Container? = nil) -> String {
            var k = 1
            while q.containers.contains(where: { $0.name == "\(base)\(k)" }) { k += 1 }
            q.containers.append(Container(name: "\(base)\(k)", dtype: c?.dtype ?? .int64, shape: c?.shape ?? [],
                                          role: .transient, storage: c.map { $0.isScalar ? .register : .hostHeap } ?? .register,
                                          isWritten: true))
            return "\(base)\(k)"
        }
        let failed = declare("_failed")
        let one = ScalarExpr.literal(.int(1), .int64), zero = ScalarExpr.literal(.int(0), .int64)
        let failedLoad = ScalarExpr.load(Memlet(data: failed, subset: []), .int64)
        func set(_ name: String, _ v: ScalarExpr) -> Node {
            .tasklet(Tasklet(output: Memlet(data: name, subset: []), value: v, loc: l.loc))
        }
        // Each check records its failure before it ends the iteration.
        var checks = 0
        func recording(_ nodes: [Node]) -> [Node] {
            nodes.flatMap { n -> [Node] in
                switch n {
                case .fail(_, let loc):
                    checks += 1
                    return [.tasklet(Tasklet(output: Memlet(data: failed, subset: []), wcr: .max, value: one, loc: loc)), n]
                case .map: return [n]
                default: return [withChildBlocks(n, recording)]
                }
            }
        }
        let body = LoopToMap.rewriteAccumulators(recording(l.body), accumulators)
        var nested = Set<String>()
        ScheduleMaps.collectLocals(body, into: &nested)
        let speculative = MapScope(params: [l.variable], ranges: [l.range], schedule: .sequential, body: body,
                                   locals: privates.subtracting(nested).sorted(), failsEndIteration: true, loc: l.loc)
        guard case .success = ScheduleMaps.check(speculative, q, arrayReductions: true) else { return nil }

        // What the loop writes is saved before and restored after a failed attempt.
        let writtenArrays = facts.written.filter { q.container($0)?.isScalar == false }.sorted()
        var save: [Node] = [], restore: [Node] = []
        var savedSize = SymExpr.zero
        for name in Set(writtenArrays).union(accumulators.keys).sorted() {
            guard let c = q.container(name), !c.isDynamic else { return nil }
            let copy = declare("_saved_\(name)", like: c)
            let params = c.shape.indices.map { "_sv\(copy.dropFirst("_saved_".count))_\($0)" }
            let point = params.map { Subscript.index(.sym(.sym($0))) }
            func assign(_ to: String, _ from: String) -> Node {
                let t = Node.tasklet(Tasklet(output: Memlet(data: to, subset: point),
                                             value: .load(Memlet(data: from, subset: point), c.dtype), loc: l.loc))
                guard !c.isScalar else { return t }
                return .map(MapScope(params: params, ranges: c.shape.map { SymRange(.zero, $0) }, schedule: .sequential,
                                     body: [t], loc: l.loc))
            }
            save.append(assign(copy, name))
            restore.append(assign(name, copy))
            if !c.isScalar { savedSize = savedSize + c.shape.reduce(SymExpr.one, *) }
        }
        // Worth saving: the arrays are at most twice the trip count times the array writes.
        var arrayWrites = 0
        visitDataflow(l.body) { n in
            if case .tasklet(let t) = n, q.container(t.output.data)?.isScalar == false { arrayWrites += 1 }
        }
        let trips = SymExpr.floorDivide(l.range.end - l.range.start + l.range.step - 1, l.range.step)
        let worth = ScalarExpr.binary(.le, .symbol(savedSize), .symbol(SymExpr.int(2 * max(arrayWrites, 1)) * trips), .bool)
        p = q
        let attempt: [Node] = save + [set(failed, zero), .map(speculative),
                                      .branch(Branch(condition: .binary(.ne, failedLoad, zero, .bool), then: restore, orElse: [], loc: l.loc))]
        let out: [Node] = [
            set(failed, one),
            .branch(Branch(condition: worth, then: attempt, orElse: [], loc: l.loc)),
            .branch(Branch(condition: .binary(.ne, failedLoad, zero, .bool), then: [.forLoop(l)], orElse: [], loc: l.loc)),
        ]
        return (out, checks, writtenArrays)
    }

    /// Whether the tree returns, allocates, calls a library function that can fail, or has a
    /// check inside a nested map (which could not end the outer iteration).
    static func hasBlocker(_ nodes: [Node]) -> Bool {
        nodes.contains { n in
            switch n {
            case .returnProgram, .allocate: return true
            case .library(let lib): return lib.op.canFail
            case .map(let m): return TreeFacts(m.body).hasReturnOrFail
            case .forLoop(let f): return hasBlocker(f.body)
            case .whileLoop(let w): return hasBlocker(w.body)
            case .branch(let b): return hasBlocker(b.then) || hasBlocker(b.orElse)
            case .tasklet, .breakLoop, .continueLoop, .fail: return false
            }
        }
    }

    /// The body with its checks removed, and the branches left empty by that: the loop whose
    /// independence proves the speculative map's.
    static func withoutChecks(_ nodes: [Node]) -> [Node] {
        nodes.compactMap { n -> Node? in
            switch n {
            case .fail: return nil
            case .branch(var b):
                b.then = withoutChecks(b.then)
                b.orElse = withoutChecks(b.orElse)
                return b.then.isEmpty && b.orElse.isEmpty ? nil : .branch(b)
            case .map: return n
            default: return withChildBlocks(n, withoutChecks)
            }
        }
    }
}
