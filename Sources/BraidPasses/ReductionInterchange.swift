import BraidIR

/// Moves the map dimension that is stride-1 in memory inside the reduction loops of each
/// iteration, in tiles of `tile` lanes.
///
/// A map iteration that initializes a scalar accumulator, runs a loop nest updating it
/// (`acc += a[..., k] * w[k, ..., c]`) and stores it at `out[..., c]` reads `w` at the
/// stride of `c`'s dimension in its innermost loop. Here the map parameter `c` is split
/// into tiles of `tile` consecutive values, each lane with its own copy of the iteration's
/// scalar locals: the tile initializes every lane, runs the reduction nest once with the
/// lanes' updates side by side in its innermost body (consecutive elements of `w` and
/// `out`, which the C compiler vectorizes), then stores every lane. The values of `c` that
/// do not fill a tile run in a second map, unchanged.
///
/// Each lane updates its accumulator in the nest's own sequential order, so every result
/// is computed by the same sums in the same order. The reduction loops run sequentially
/// (a nest map's declared reductions are dropped, as its lanes now carry the accumulators).
///
/// Legal because the iterations of a map are independent (interleaving them keeps each
/// one's order), given that: the map combines nothing across iterations (no reductions),
/// the nest's ranges do not depend on `c` or on anything the iteration writes, the nest
/// body writes only the iteration's locals and reads nothing else the iteration writes,
/// and no iteration can leave early (no break, return, error, allocation, library call,
/// `while` or branch around the loops).
public struct ReductionInterchange: Pass {
    public let name = "reduction-interchange"
    /// Lanes per tile.
    public var tile: Int
    public init(tile: Int = 8) { self.tile = tile }

    public func run(_ program: inout Program, remarks: inout [Remark]) throws -> Bool {
        var changed = false
        var containers = program.containers
        var taken = Set(program.containers.map(\.name)).union(program.symbols)
        collectVariables(program.body, into: &taken)
        program.body = rewriteBlocks(program.body) { block in
            block.flatMap { n -> [Node] in
                guard case .map(let m) = n else { return [n] }
                switch interchange(m, containers: &containers, taken: &taken) {
                case .none: return [n]
                case .rejected(let why):
                    remarks.append(Remark(m.loc, pass: name, .sequential, why))
                    return [n]
                case .applied(let nodes, let why):
                    changed = true
                    remarks.append(Remark(m.loc, pass: name, .simplified, why))
                    return nodes
                }
            }
        }
        program.containers = containers
        return changed
    }

    enum Outcome {
        /// Not a map with a reduction nest: nothing to say.
        case none
        case rejected(String)
        case applied([Node], String)
    }

    /// A loop nest of one loop per level, tasklets in the innermost level.
    struct Nest {
        var levels: [Node]
        var body: [Tasklet]
        var variables: [String]
    }

    func nest(_ n: Node) -> Nest? {
        var levels: [Node] = []
        var variables: [String] = []
        var cur = n
        while true {
            let body: [Node]
            switch cur {
            case .map(let m): body = m.body; variables += m.params
            case .forLoop(let f): body = f.body; variables.append(f.variable)
            default: return nil
            }
            levels.append(cur)
            if body.count == 1, case .map = body[0] { cur = body[0]; continue }
            if body.count == 1, case .forLoop = body[0] { cur = body[0]; continue }
            var tasklets: [Tasklet] = []
            for b in body {
                guard case .tasklet(let t) = b else { return nil }
                tasklets.append(t)
            }
            return tasklets.isEmpty ? nil : Nest(levels: levels, body: tasklets, variables: variables)
        }
    }

    func interchange(_ m: MapScope, containers: inout [Container], taken: inout Set<String>) -> Outcome {
        let locals = Set(m.locals)
        // Candidates: a loop in the body whose innermost tasklets accumulate into a local.
        let isCandidate = m.body.contains { n in
            guard let ns = nest(n) else { return false }
            return ns.body.contains { $0.wcr != nil && locals.contains($0.output.data) }
        }
        guard isCandidate else { return .none }
        let params = m.params.joined(separator: ", ")
        func reject(_ why: String) -> Outcome {
            .rejected("reduction loops of the map over \(params) keep their order: \(why)")
        }
        guard m.reductions.isEmpty else { return reject("iterations combine results across the map") }
        // Containers the iteration writes (locals included) and every symbol they may affect.
        let facts = TreeFacts(m.body)
        let written = facts.written
        if facts.hasReturnOrFail || facts.hasLibraryNode || facts.hasWhile || facts.hasOwnBreakOrContinue {
            return reject("an iteration may leave early or calls a library")
        }
        var nests: [Nest] = []
        for n in m.body {
            switch n {
            case .tasklet: continue
            default:
                guard let ns = nest(n) else { return reject("the body holds control flow other than a perfect loop nest") }
                nests.append(ns)
            }
        }
        // The moved dimension: a parameter that is the last (stride-1) subscript of a value
        // the nest reads, with coefficient 1, and of a write of the iteration.
        func stride1(_ mem: Memlet, _ p: String) -> Bool {
            guard let last = mem.subset.last, case .index(.sym(let e)) = last,
                  let (c, rest) = e.linear(in: p), c == 1, !rest.freeSymbols.contains(p) else { return false }
            return true
        }
        let nestReads = nests.flatMap { $0.body.flatMap(\.value.reads) }
        let topWrites = m.body.compactMap { n -> Memlet? in
            if case .tasklet(let t) = n, !locals.contains(t.output.data) { return t.output }
            return nil
        }
        guard let k = m.params.indices.last(where: { k in
            let p = m.params[k]
            return nestReads.contains { stride1($0, p) } && topWrites.contains { stride1($0, p) }
        }) else { return reject("no map dimension is stride 1 both in a value the loops read and in the result") }
        let p = m.params[k]
        let r = m.ranges[k]
        guard r.step == .one, Set(r.start.freeSymbols + r.end.freeSymbols).isDisjoint(with: m.params) else {
            return reject("the range of \(p) is strided or depends on another dimension")
        }
        // Tiling renames p; another dimension's range that mentions p would lose its binding.
        guard m.ranges.indices.allSatisfy({ i in
            i == k || !(m.ranges[i].start.freeSymbols + m.ranges[i].end.freeSymbols + m.ranges[i].step.freeSymbols).contains(p)
        }) else {
            return reject("the range of another dimension depends on \(p)")
        }
        let variant = written.union([p])
        for ns in nests {
            for level in ns.levels {
                let ranges: [SymRange]
                switch level {
                case .map(let inner):
                    guard inner.schedule == .sequential || inner.schedule == .simd else {
                        return reject("a reduction loop runs \(inner.schedule.rawValue)")
                    }
                    ranges = inner.ranges
                case .forLoop(let f): ranges = [f.range]
                default: ranges = []
                }
                let syms = Set(ranges.flatMap { [$0.start, $0.end, $0.step].flatMap(\.freeSymbols) })
                if let bad = syms.intersection(variant).sorted().first {
                    return reject("the range of a reduction loop depends on '\(bad)', which differs between values of \(p)")
                }
            }
            for t in ns.body {
                guard locals.contains(t.output.data) else {
                    return reject("the reduction loops write '\(t.output.data)', not only accumulators")
                }
                for rd in t.value.reads + [t.output] where written.contains(rd.data) && !locals.contains(rd.data) {
                    return reject("the reduction loops read '\(rd.data)', which the iteration writes")
                }
                for s in symbolNames(t.value) where written.contains(s) && !locals.contains(s) {
                    return reject("the reduction loops read '\(s)', which the iteration writes")
                }
            }
        }
        // Containers written outside the locals must be written at elements that differ with
        // `p` (true of any map, checked again so that lanes never overwrite each other).
        for w in topWrites where !stride1(w, p) && !w.subset.contains(where: { s in
            if case .index(.sym(let e)) = s, let (c, _) = e.linear(in: p), c != 0 { return true }
            return false
        }) {
            return reject("'\(w.data)' is written at an element that does not depend on \(p)")
        }

        // Rewrite. Fresh names: the tile index and every lane's copy of every local.
        func fresh(_ base: String) -> String {
            var n = base
            var i = 0
            while taken.contains(n) { i += 1; n = "\(base)\(i)" }
            taken.insert(n)
            return n
        }
        let pt = fresh("\(p)_tile")
        let T = tile
        var laneNames: [[String: String]] = []
        for l in 0..<T {
            var names: [String: String] = [:]
            for x in m.locals {
                let c = containers.first { $0.name == x }!
                let nx = fresh("\(x)_l\(l)")
                var copy = c
                copy.name = nx
                containers.append(copy)
                names[x] = nx
            }
            laneNames.append(names)
        }
        // Whole tiles (none when the range is empty or shorter than a tile).
        let full = SymExpr.maximum(.zero, SymExpr.floorDivide(r.end - r.start, .int(T)))
        func lane(_ l: Int) -> TreeRewriter {
            let value = r.start + .int(T) * .sym(pt) + .int(l)
            var sub: [String: SymExpr] = [p: value]
            for (x, nx) in laneNames[l] { sub[x] = .sym(nx) }
            let names = laneNames[l]
            return TreeRewriter(symbol: { $0.substituting(sub) },
                                memlet: { Memlet(data: names[$0.data] ?? $0.data, subset: $0.subset) })
        }
        let lanes = (0..<T).map(lane)
        var body: [Node] = []
        var nestIndex = 0
        for n in m.body {
            if case .tasklet = n {
                body += lanes.map { $0.node(n) }
                continue
            }
            let ns = nests[nestIndex]
            nestIndex += 1
            var inner: [Node] = []
            for l in lanes { inner += ns.body.map { l.node(.tasklet($0)) } }
            for level in ns.levels.reversed() {
                switch level {
                case .map(var im):
                    im.body = inner
                    im.schedule = .sequential
                    im.reductions = [:]
                    inner = [.map(im)]
                case .forLoop(var f):
                    f.body = inner
                    inner = [.forLoop(f)]
                default: break
                }
            }
            body += inner
        }
        var tiled = m
        tiled.params[k] = pt
        tiled.ranges[k] = SymRange(.zero, full)
        tiled.body = body
        tiled.locals = laneNames.flatMap { names in m.locals.map { names[$0]! } }
        var rest = m
        rest.ranges[k] = SymRange(r.start + .int(T) * full, r.end)
        let loops = nests.flatMap(\.variables).joined(separator: ", ")
        return .applied([.map(tiled), .map(rest)],
                        "reduction over \(loops) runs with \(p) innermost, \(T) accumulators per tile (stride-1 reads and writes; each sum keeps its order)")
    }

    func collectVariables(_ nodes: [Node], into s: inout Set<String>) {
        for n in nodes {
            switch n {
            case .map(let m): s.formUnion(m.params); s.formUnion(m.locals); collectVariables(m.body, into: &s)
            case .forLoop(let f): s.insert(f.variable); collectVariables(f.body, into: &s)
            case .whileLoop(let w): collectVariables(w.body, into: &s)
            case .branch(let b): collectVariables(b.then, into: &s); collectVariables(b.orElse, into: &s)
            default: break
            }
        }
    }
}
