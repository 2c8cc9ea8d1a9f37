import BraidIR

/// Stores an integer scalar private to map iterations in int16 when every value assigned to it
/// provably fits: `n = int32(b[i-1]) + int32(b[i]) + int32(b[i+1])` over a uint8 board lies in
/// [0, 765]. The value is the same; the C compiler then computes the sums in 16-bit lanes,
/// twice as many per vector as NumPy's int32 promotion gives (game_of_life's neighbour count).
///
/// Legal when the scalar is a transient int32/int64 that some map declares local, and every
/// write of it in the program is a plain assignment whose value's interval, from the element
/// types of the arrays it loads, literals, other such scalars, `+ - *` and widening casts, lies
/// in int16. Every load of it becomes a cast of the int16 load back to its old type.
public struct NarrowIntegers: Pass {
    public let name = "narrow-integers"
    public init() {}

    typealias Interval = (lo: Int, hi: Int)

    public func run(_ program: inout Program, remarks: inout [Remark]) throws -> Bool {
        var locals = Set<String>()
        ScheduleMaps.collectLocals(program.body, into: &locals)
        let candidates = locals.filter { name in
            guard let c = program.container(name), c.isScalar, c.role == .transient else { return false }
            return c.dtype == .int32 || c.dtype == .int64
        }
        guard !candidates.isEmpty else { return false }
        // Every write of a candidate must be a plain tasklet assignment.
        var values: [String: [(ScalarExpr, SourceLocation)]] = [:]
        visitDataflow(program.body) { n in
            if case .tasklet(let t) = n, candidates.contains(t.output.data), t.wcr == nil, t.output.subset.isEmpty {
                values[t.output.data, default: []].append((t.value, t.loc))
            }
        }
        let writes = TreeFacts(program.body).accesses.filter { $0.isWrite }
        var ranges: [String: Interval] = [:]
        var changed = true
        while changed {
            changed = false
            for name in candidates.sorted() where ranges[name] == nil {
                guard let vs = values[name], writes.filter({ $0.memlet.data == name }).count == vs.count else { continue }
                var all: Interval?
                for (v, _) in vs {
                    guard let r = Self.interval(v, program, ranges) else { all = nil; break }
                    all = all.map { (min($0.lo, r.lo), max($0.hi, r.hi)) } ?? r
                }
                if let all, all.lo >= Int(Int16.min), all.hi <= Int(Int16.max) {
                    ranges[name] = all
                    changed = true
                }
            }
        }
        guard !ranges.isEmpty else { return false }
        for k in program.containers.indices where ranges[program.containers[k].name] != nil {
            program.containers[k].dtype = .int16
        }
        let narrowed = Set(ranges.keys)
        program.body = Self.rewriteLoads(program.body, narrowed)
        for name in narrowed.sorted() {
            if let loc = values[name]?.first?.1 {
                remarks.append(Remark(loc, pass: self.name, .simplified,
                                      "'\(name)' is held in int16: its values lie in [\(ranges[name]!.lo), \(ranges[name]!.hi)]"))
            }
        }
        return true
    }

    /// The values `e` can take, or nil when not known to be a small integer.
    static func interval(_ e: ScalarExpr, _ p: Program, _ ranges: [String: Interval]) -> Interval? {
        switch e {
        case .literal(.int(let v), _): return (v, v)
        case .literal(.bool(let b), _): return (b ? 1 : 0, b ? 1 : 0)
        case .load(let m, _):
            if m.subset.isEmpty, let r = ranges[m.data] { return r }
            guard let c = p.container(m.data) else { return nil }
            switch c.dtype {
            case .bool: return (0, 1)
            case .uint8: return (0, Int(UInt8.max))
            case .int8: return (Int(Int8.min), Int(Int8.max))
            case .uint16: return (0, Int(UInt16.max))
            case .int16: return (Int(Int16.min), Int(Int16.max))
            default: return nil
            }
        case .cast(let x, let t):
            guard t.isInteger, t.itemSize >= 4, let r = interval(x, p, ranges) else { return nil }
            return r
        case .unary(.neg, let x, _):
            guard let r = interval(x, p, ranges) else { return nil }
            return (-r.hi, -r.lo)
        case .binary(let op, let a, let b, let t):
            guard t.isInteger, t.itemSize >= 4, let x = interval(a, p, ranges), let y = interval(b, p, ranges) else { return nil }
            switch op {
            case .add: return (x.lo + y.lo, x.hi + y.hi)
            case .sub: return (x.lo - y.hi, x.hi - y.lo)
            case .mul:
                // Bounds stay far from overflow: both factors are within 16 bits here or nil.
                guard max(abs(x.lo), abs(x.hi), abs(y.lo), abs(y.hi)) <= 1 << 20 else { return nil }
                let ps = [x.lo * y.lo, x.lo * y.hi, x.hi * y.lo, x.hi * y.hi]
                return (ps.min()!, ps.max()!)
            default: return nil
            }
        default: return nil
        }
    }

    /// Loads of the narrowed scalars read int16 and cast back to the type they had.
    static func rewriteLoads(_ nodes: [Node], _ narrowed: Set<String>) -> [Node] {
        TreeRewriter(load: { m, t in
            m.subset.isEmpty && narrowed.contains(m.data) ? .cast(.load(m, .int16), t) : nil
        }).nodes(nodes)
    }
}
