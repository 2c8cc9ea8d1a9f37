import BraidIR

/// Gives each outermost map the target's parallel schedule when its iterations are
/// provably independent; nested maps stay sequential inside their parent.
///
/// Legal when every write in the body (outside the map's private locals) either
/// indexes its container injectively by the map's parameters (some subscript is
/// `param + invariant` for each parameter), or is a write-conflict-resolved update
/// of a scalar declared as a reduction (undeclared ones are added), and no element
/// written by one iteration is read by another (reads of written containers must use
/// the very same subscripts as the write).
public struct ScheduleMaps: Pass {
    public let name = "schedule-maps"
    public var schedule: Schedule
    public init(schedule: Schedule) { self.schedule = schedule }

    public func run(_ program: inout Program) throws -> Bool {
        var changed = false
        program.body = schedule(program.body, program, insideParallel: false, changed: &changed)
        return changed
    }

    func schedule(_ nodes: [Node], _ p: Program, insideParallel: Bool, changed: inout Bool) -> [Node] {
        nodes.map { n in
            switch n {
            case .map(var m):
                var parallel = false
                if !insideParallel, m.schedule != schedule, let reductions = Self.legality(m, p) {
                    m.schedule = schedule
                    m.reductions = reductions
                    parallel = true
                    changed = true
                } else if !insideParallel && m.schedule == schedule {
                    parallel = true
                }
                m.body = schedule(m.body, p, insideParallel: insideParallel || parallel, changed: &changed)
                return .map(m)
            case .forLoop(var l):
                l.body = schedule(l.body, p, insideParallel: insideParallel, changed: &changed)
                return .forLoop(l)
            case .whileLoop(var w):
                w.body = schedule(w.body, p, insideParallel: insideParallel, changed: &changed)
                return .whileLoop(w)
            case .branch(var b):
                b.then = schedule(b.then, p, insideParallel: insideParallel, changed: &changed)
                b.orElse = schedule(b.orElse, p, insideParallel: insideParallel, changed: &changed)
                return .branch(b)
            default:
                return n
            }
        }
    }

    /// The reductions the map needs if its iterations are independent, else `nil`.
    public static func legality(_ m: MapScope, _ p: Program) -> [String: WCR]? {
        var locals = Set(m.locals)
        collectLocals(m.body, into: &locals)
        var reductions = m.reductions
        var writes: [String: Set<Memlet>] = [:]
        var reads: [Memlet] = []
        var ok = true
        var hasControl = false
        func walk(_ nodes: [Node], loopVars: Set<String>) {
            for n in nodes {
                switch n {
                case .tasklet(let t):
                    reads += t.value.reads
                    if locals.contains(t.output.data) { continue }
                    if let w = t.wcr, t.output.subset.isEmpty, reductions[t.output.data] == nil || reductions[t.output.data] == w {
                        reductions[t.output.data] = w
                        continue
                    }
                    if t.wcr != nil && reductions[t.output.data] != nil { ok = false; continue }
                    if !injective(t.output, m.params, loopVars: loopVars) { ok = false }
                    writes[t.output.data, default: []].insert(t.output)
                case .library(let l):
                    // A call that can fail leaves the program early, like a return.
                    if l.op.canFail { hasControl = true }
                    for o in l.outputs where !locals.contains(o.data) {
                        if !injective(o, m.params, loopVars: loopVars) { ok = false }
                        writes[o.data, default: []].insert(o)
                    }
                    reads += l.inputs
                case .map(let inner):
                    walk(inner.body, loopVars: loopVars.union(inner.params))
                case .forLoop(let f):
                    walk(f.body, loopVars: loopVars.union([f.variable]))
                case .whileLoop(let w):
                    reads += w.condition.reads
                    walk(w.body, loopVars: loopVars)
                case .branch(let b):
                    reads += b.condition.reads
                    walk(b.then, loopVars: loopVars)
                    walk(b.orElse, loopVars: loopVars)
                case .returnProgram, .fail:
                    hasControl = true
                case .breakLoop, .continueLoop:
                    break
                }
            }
        }
        walk(m.body, loopVars: [])
        guard ok, !hasControl else { return nil }
        // A container written by the map may only be read at exactly the written element.
        for r in reads where writes[r.data] != nil {
            if !writes[r.data]!.contains(r) { return nil }
        }
        for r in reads where reductions[r.data] != nil && !locals.contains(r.data) { return nil }
        return reductions
    }

    static func collectLocals(_ nodes: [Node], into s: inout Set<String>) {
        for n in nodes {
            switch n {
            case .map(let m):
                s.formUnion(m.locals)
                collectLocals(m.body, into: &s)
            case .forLoop(let f): collectLocals(f.body, into: &s)
            case .whileLoop(let w): collectLocals(w.body, into: &s)
            case .branch(let b):
                collectLocals(b.then, into: &s)
                collectLocals(b.orElse, into: &s)
            default: break
            }
        }
    }

    /// Whether distinct values of the map parameters always write distinct elements:
    /// each parameter appears, with a nonzero coefficient, alone in some subscript
    /// together with terms that are invariant in the map (no loop variables inside it).
    static func injective(_ m: Memlet, _ params: [String], loopVars: Set<String>) -> Bool {
        var covered = Set<String>()
        for s in m.subset {
            guard case .index(.sym(let e)) = s else { continue }
            let syms = Set(e.freeSymbols)
            let ps = syms.intersection(params)
            guard ps.count == 1, let p = ps.first, syms.isDisjoint(with: loopVars) else { continue }
            if let (c, rest) = e.linear(in: p), c != 0, !Set(rest.freeSymbols).contains(where: params.contains) {
                covered.insert(p)
            }
        }
        return covered == Set(params)
    }
}
