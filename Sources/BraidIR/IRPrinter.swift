/// Deterministic text form of the IR (`braid build --emit ir`, test expectations).
public enum IRPrinter {
    public static func print(_ module: IRModule) -> String {
        module.programs.map { print($0) }.joined(separator: "\n")
    }

    public static func print(_ p: Program) -> String {
        var out = "program \(p.name)(\(p.params.joined(separator: ", ")))"
        if !p.symbols.isEmpty { out += " symbols [\(p.symbols.joined(separator: ", "))]" }
        if !p.results.isEmpty { out += " -> (\(p.results.joined(separator: ", ")))" }
        out += "  # \(p.loc)\n"
        for c in p.containers {
            let shape = c.shape.isEmpty ? "" : "[\(c.shape.map(\.description).joined(separator: ", "))]"
            let role: String
            switch c.role {
            case .argument(let i): role = "arg \(i)"
            case .result(let i): role = "result \(i)"
            case .transient: role = "transient"
            }
            out += "  container \(c.name): \(c.dtype.rawValue)\(shape) \(role) \(c.storage.rawValue)"
            if c.isDynamic { out += " dynamic" }
            out += c.isWritten ? " written\n" : "\n"
        }
        for (a, b, _) in p.shapeAssertions { out += "  assert \(a) == \(b)\n" }
        for n in p.body { printNode(n, indent: "  ", into: &out) }
        return out
    }

    static func printNode(_ n: Node, indent: String, into out: inout String) {
        switch n {
        case .tasklet(let t):
            let op = t.wcr.map { " (wcr \($0.rawValue))" } ?? ""
            out += "\(indent)\(memlet(t.output)) =\(op) \(expr(t.value))  # line \(t.loc.line)\n"
        case .library(let l):
            switch l.op {
            case .matmul(let a, let b, let c, let acc):
                let ta = l.transposeA ? ".T" : "", tb = l.transposeB ? ".T" : ""
                out += "\(indent)\(memlet(c)) \(acc ? "+=" : "=") matmul(\(memlet(a))\(ta), \(memlet(b))\(tb))"
                out += "  # line \(l.loc.line)\n"
            case .linalg(let f, let ins, let o):
                out += "\(indent)\(memlet(o)) = linalg.\(f.rawValue)(\(ins.map(memlet).joined(separator: ", ")))"
                out += "  # line \(l.loc.line)\n"
            case .matvecPair(let a, let x, let y, let accY, let u, let v, let accV):
                out += "\(indent)\(memlet(y)) \(accY ? "+=" : "=") matmul(\(memlet(a)), \(memlet(x))); "
                out += "\(memlet(v)) \(accV ? "+=" : "=") matmul(\(memlet(a)).T, \(memlet(u)))  [one pass over rows]"
                out += "  # line \(l.loc.line)\n"
            }
        case .map(let m):
            let ranges = zip(m.params, m.ranges).map { "\($0) in \(range($1))" }.joined(separator: ", ")
            out += "\(indent)map[\(m.schedule.rawValue)] \(ranges)"
            if !m.locals.isEmpty { out += " locals(\(m.locals.joined(separator: ", ")))" }
            if m.failsEndIteration { out += " fail-ends-iteration" }
            if !m.reductions.isEmpty {
                out += " reduce(" + m.reductions.keys.sorted().map { "\($0): \(m.reductions[$0]!.rawValue)" }
                    .joined(separator: ", ") + ")"
            }
            out += ":  # line \(m.loc.line)\n"
            for c in m.body { printNode(c, indent: indent + "  ", into: &out) }
        case .forLoop(let f):
            out += "\(indent)for \(f.variable) in \(range(f.range)):  # line \(f.loc.line)\n"
            for c in f.body { printNode(c, indent: indent + "  ", into: &out) }
        case .whileLoop(let w):
            out += "\(indent)while \(expr(w.condition)):  # line \(w.loc.line)\n"
            for c in w.body { printNode(c, indent: indent + "  ", into: &out) }
        case .branch(let b):
            out += "\(indent)if \(expr(b.condition)):  # line \(b.loc.line)\n"
            for c in b.then { printNode(c, indent: indent + "  ", into: &out) }
            if !b.orElse.isEmpty {
                out += "\(indent)else:\n"
                for c in b.orElse { printNode(c, indent: indent + "  ", into: &out) }
            }
        case .breakLoop: out += "\(indent)break\n"
        case .continueLoop: out += "\(indent)continue\n"
        case .returnProgram: out += "\(indent)return\n"
        case .fail(let f, let loc): out += "\(indent)fail \(f.rawValue)  # line \(loc.line)\n"
        case .allocate(let a):
            out += "\(indent)allocate \(a.container)"
            if let t = a.takeFrom { out += " from \(t)" }
            out += "  # line \(a.loc.line)\n"
        }
    }

    static func range(_ r: SymRange) -> String {
        r.step == .one ? "\(r.start):\(r.end)" : "\(r.start):\(r.end):\(r.step)"
    }

    public static func memlet(_ m: Memlet) -> String {
        if m.subset.isEmpty { return m.data }
        let s = m.subset.map { sub -> String in
            switch sub {
            case .index(.sym(let e)): return e.description
            case .index(.dynamic(let e)): return expr(e)
            case .range(let a, let b, let st): return range(SymRange(a, b, step: st))
            }
        }
        return "\(m.data)[\(s.joined(separator: ", "))]"
    }

    public static func expr(_ e: ScalarExpr) -> String {
        switch e {
        case .literal(let l, let t):
            switch l {
            case .int(let v): return "\(v)"
            case .float(let v): return "\(v)" + (t == .float32 ? "f" : "")
            case .bool(let v): return v ? "True" : "False"
            case .complex(let r, let i): return "complex(\(r), \(i))"
            }
        case .symbol(let s): return s.description
        case .load(let m, _): return memlet(m)
        case .unary(let op, let a, _): return "\(op.rawValue)(\(expr(a)))"
        case .binary(let op, let a, let b, _): return "\(op.rawValue)(\(expr(a)), \(expr(b)))"
        case .call(let f, let args, _): return "\(f.rawValue)(\(args.map(expr).joined(separator: ", ")))"
        case .select(let c, let a, let b, _): return "select(\(expr(c)), \(expr(a)), \(expr(b)))"
        case .cast(let a, let t): return "\(t.rawValue)(\(expr(a)))"
        }
    }
}
