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

    public func run(_ program: inout Program, remarks: inout [Remark]) throws -> Bool {
        var changed = false
        program.body = schedule(program.body, program, insideParallel: false, changed: &changed, remarks: &remarks)
        return changed
    }

    func schedule(_ nodes: [Node], _ p: Program, insideParallel: Bool, changed: inout Bool, remarks: inout [Remark]) -> [Node] {
        nodes.map { n in
            switch n {
            case .map(var m):
                var parallel = false
                if !insideParallel, m.schedule != schedule {
                    switch Self.check(m, p, arrayReductions: schedule == .cpuParallel) {
                    case .success(let reductions):
                        m.schedule = schedule
                        m.reductions = reductions
                        parallel = true
                        changed = true
                        let red = reductions.isEmpty ? "" : " with reduction " + reductions.sorted { $0.key < $1.key }.map { "\($0.value.rawValue):\($0.key)" }.joined(separator: ", ")
                        remarks.append(Remark(m.loc, pass: name, .parallel, "loop nest over \(m.params.joined(separator: ", ")) runs in parallel (\(schedule.rawValue))\(red)"))
                    case .failure(let why):
                        remarks.append(Remark(m.loc, pass: name, .sequential, "loop nest over \(m.params.joined(separator: ", ")) stays sequential: \(why.message)"))
                    }
                } else if !insideParallel && m.schedule == schedule {
                    parallel = true
                } else if insideParallel && schedule == .cpuParallel && m.schedule == .sequential,
                          m.params.count == 1, loopVariables(m.body).isEmpty, !TreeFacts(m.body).hasWhile,
                          let reductions = try? Self.check(m, p).get(), !reductions.isEmpty {
                    // A one-dimensional reduction inside a parallel map runs on one thread, in
                    // SIMD lanes (partial results per lane, as NumPy's pairwise sums).
                    m.schedule = .simd
                    m.reductions = reductions
                    changed = true
                }
                m.body = schedule(m.body, p, insideParallel: insideParallel || parallel, changed: &changed, remarks: &remarks)
                return .map(m)
            default:
                return withChildBlocks(n) { schedule($0, p, insideParallel: insideParallel, changed: &changed, remarks: &remarks) }
            }
        }
    }

    /// Why iterations of a map may not run in parallel.
    public struct Dependence: Error, Sendable {
        public var message: String
    }

    /// The reductions the map needs if its iterations are independent, else `nil`.
    public static func legality(_ m: MapScope, _ p: Program) -> [String: WCR]? {
        try? check(m, p).get()
    }

    /// The reductions the map needs if its iterations are independent, else the dependence
    /// (or control flow) that prevents running them in parallel. With `arrayReductions` (the
    /// CPU target), an array written only by `a[X] (wcr +)= e` updates is a reduction too.
    public static func check(_ m: MapScope, _ p: Program, arrayReductions: Bool = false) -> Result<[String: WCR], Dependence> {
        var locals = Set(m.locals)
        collectLocals(m.body, into: &locals)
        var reductions = m.reductions
        var writes: [String: Set<Memlet>] = [:]
        var writeLines: [String: Int] = [:]
        var reads: [(Memlet, Int)] = []
        var problem: String?
        func fail(_ s: String) { if problem == nil { problem = s } }
        func show(_ mem: Memlet) -> String {
            mem.subset.isEmpty ? mem.data : "\(mem.data)[\(mem.subset.map(describe).joined(separator: ", "))]"
        }
        func walk(_ nodes: [Node], loopVars: Set<String>) {
            for n in nodes {
                switch n {
                case .tasklet(let t):
                    reads += t.value.reads.map { ($0, t.loc.line) }
                    if locals.contains(t.output.data) { continue }
                    if let w = t.wcr, t.output.subset.isEmpty, reductions[t.output.data] == nil || reductions[t.output.data] == w {
                        reductions[t.output.data] = w
                        continue
                    }
                    if arrayReductions, t.wcr == .add, p.container(t.output.data)?.isScalar == false,
                       reductions[t.output.data] == nil || reductions[t.output.data] == .add {
                        reductions[t.output.data] = .add
                        continue
                    }
                    if t.wcr != nil && reductions[t.output.data] != nil {
                        fail("'\(t.output.data)' is combined with two different operations (line \(t.loc.line))")
                        continue
                    }
                    if !injective(t.output, m.params, loopVars: loopVars) {
                        fail("every iteration may write \(show(t.output)) (line \(t.loc.line)): the element written does not depend on \(m.params.joined(separator: ", ")) alone")
                    }
                    writes[t.output.data, default: []].insert(t.output)
                    writeLines[t.output.data] = writeLines[t.output.data] ?? t.loc.line
                case .library(let l):
                    // A call that can fail leaves the program early, like a return.
                    if l.op.canFail { fail("\(l.op.numpyName) can raise an error (line \(l.loc.line))") }
                    for o in l.outputs where !locals.contains(o.data) {
                        if !injective(o, m.params, loopVars: loopVars) {
                            fail("every iteration may write \(show(o)) (line \(l.loc.line))")
                        }
                        writes[o.data, default: []].insert(o)
                        writeLines[o.data] = writeLines[o.data] ?? l.loc.line
                    }
                    reads += l.inputs.map { ($0, l.loc.line) }
                case .map(let inner):
                    walk(inner.body, loopVars: loopVars.union(inner.params))
                case .forLoop(let f):
                    walk(f.body, loopVars: loopVars.union([f.variable]))
                case .whileLoop(let w):
                    reads += w.condition.reads.map { ($0, w.loc.line) }
                    walk(w.body, loopVars: loopVars)
                case .branch(let b):
                    reads += b.condition.reads.map { ($0, b.loc.line) }
                    walk(b.then, loopVars: loopVars)
                    walk(b.orElse, loopVars: loopVars)
                case .returnProgram(let loc):
                    fail("the loop returns from the function (line \(loc.line))")
                case .fail(_, let loc):
                    // A speculative map's failure ends its iteration only (recorded in a reduction).
                    if !m.failsEndIteration { fail("an iteration can raise an error (line \(loc.line), e.g. an index check)") }
                case .allocate(let a):
                    fail("an iteration allocates the array '\(a.container)' (line \(a.loc.line))")
                case .breakLoop, .continueLoop:
                    break
                }
            }
        }
        walk(m.body, loopVars: [])
        if let problem { return .failure(Dependence(message: problem)) }
        if let both = writes.keys.sorted().first(where: { reductions[$0] != nil }) {
            return .failure(Dependence(message: "'\(both)' is both accumulated across iterations and written at line \(writeLines[both]!)"))
        }
        // A container written by the map may only be read at exactly the written element, or
        // at elements of the same iteration: every access to it holds, for each parameter, one
        // dimension with the same `c*param + invariant` (a row written then read by inner loops).
        let variant = loopVariables(m.body).union(writes.keys).union(locals).union(reductions.keys)
        var separated: [String: Bool] = [:]
        func sameIteration(_ data: String) -> Bool {
            if let known = separated[data] { return known }
            let subsets = writes[data]!.map(\.subset) + reads.filter { $0.0.data == data }.map(\.0.subset)
            let ok = separatesIterations(subsets, params: m.params, variant: variant)
            separated[data] = ok
            return ok
        }
        for (r, line) in reads where writes[r.data] != nil {
            if !writes[r.data]!.contains(r) && !sameIteration(r.data) {
                let w = writes[r.data]!.map(show).sorted().joined(separator: ", ")
                return .failure(Dependence(message: "\(show(r)) read at line \(line) may be written by another iteration (written as \(w) at line \(writeLines[r.data]!))"))
            }
        }
        for (r, line) in reads where reductions[r.data] != nil && !locals.contains(r.data) {
            return .failure(Dependence(message: "'\(r.data)' is accumulated across iterations and also read at line \(line)"))
        }
        return .success(reductions)
    }

    static func describe(_ s: Subscript) -> String {
        switch s {
        case .index(.sym(let e)): return e.description
        case .index(.dynamic): return "<data>"
        case .range(let a, let b, let st): return st == .one ? "\(a):\(b)" : "\(a):\(b):\(st)"
        }
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
