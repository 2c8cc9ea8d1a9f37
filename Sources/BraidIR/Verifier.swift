/// Structural checks of a program; tests run it after every pass that changed something.
public enum Verifier {
    public struct Failure: Error, CustomStringConvertible, Sendable {
        public var description: String
    }

    /// Throws the first problem found: unknown containers, rank mismatches, writes to
    /// read-only arguments, results without storage, unbound loop variables, and
    /// `break`/`continue` outside loops.
    public static func verify(_ p: Program) throws {
        var names = Set<String>()
        for c in p.containers {
            guard names.insert(c.name).inserted else { throw Failure(description: "\(p.name): duplicate container \(c.name)") }
        }
        for r in p.results {
            guard let c = p.container(r), case .result = c.role else {
                throw Failure(description: "\(p.name): result \(r) is not a result container")
            }
        }
        // A dynamic result is allocated by the program and handed to the caller on success.
        for c in p.containers where c.isDynamic && (c.isArgument || c.isScalar) {
            throw Failure(description: "\(p.name): \(c.name) is dynamic but not a transient or result array")
        }
        try verify(p.body, p, scope: Set(p.symbols), inLoop: false)
    }

    static func check(_ m: Memlet, _ p: Program, write: Bool, point: Bool, scope: Set<String>) throws {
        guard let c = p.container(m.data) else {
            throw Failure(description: "\(p.name): memlet on unknown container \(m.data)")
        }
        guard c.shape.count == m.subset.count else {
            throw Failure(description: "\(p.name): memlet \(IRPrinter.memlet(m)) has rank \(m.subset.count), container has \(c.shape.count)")
        }
        if point && !m.isPoint {
            throw Failure(description: "\(p.name): tasklet memlet \(IRPrinter.memlet(m)) is not a point")
        }
        if write && !c.isWritten {
            throw Failure(description: "\(p.name): \(c.name) is written but not marked written")
        }
        for s in m.subset {
            switch s {
            case .index(.sym(let e)): try checkSymbols(e, p, scope)
            case .index(.dynamic(let e)): try checkExpr(e, p, scope)
            case .range(let a, let b, let st): for e in [a, b, st] { try checkSymbols(e, p, scope) }
            }
        }
    }

    static func checkSymbols(_ e: SymExpr, _ p: Program, _ scope: Set<String>) throws {
        for s in e.freeSymbols where !scope.contains(s) {
            // A symbol may also name an integer scalar container.
            guard let c = p.container(s), c.isScalar, c.dtype.isInteger || c.dtype.isBool else {
                throw Failure(description: "\(p.name): unbound symbol \(s) in \(e)")
            }
        }
    }

    static func checkExpr(_ e: ScalarExpr, _ p: Program, _ scope: Set<String>) throws {
        var err: Error?
        e.visitLoads { m in
            if err == nil {
                do { try check(m, p, write: false, point: true, scope: scope) } catch { err = error }
            }
        }
        if let err { throw err }
        if case .symbol(let s) = e { try checkSymbols(s, p, scope) }
    }

    static func verify(_ nodes: [Node], _ p: Program, scope: Set<String>, inLoop: Bool) throws {
        for n in nodes {
            switch n {
            case .tasklet(let t):
                try check(t.output, p, write: true, point: true, scope: scope)
                try checkExpr(t.value, p, scope)
            case .library(let l):
                for m in l.inputs { try check(m, p, write: false, point: false, scope: scope) }
                for m in l.outputs { try check(m, p, write: true, point: false, scope: scope) }
            case .map(let m):
                var inner = scope
                for r in m.ranges { for e in [r.start, r.end, r.step] { try checkSymbols(e, p, scope) } }
                inner.formUnion(m.params)
                for l in m.locals where p.container(l)?.isScalar != true {
                    throw Failure(description: "\(p.name): map local \(l) is not a scalar container")
                }
                try verify(m.body, p, scope: inner, inLoop: false)
            case .forLoop(let f):
                for e in [f.range.start, f.range.end, f.range.step] { try checkSymbols(e, p, scope) }
                var inner = scope
                inner.insert(f.variable)
                try verify(f.body, p, scope: inner, inLoop: true)
            case .whileLoop(let w):
                try checkExpr(w.condition, p, scope)
                try verify(w.body, p, scope: scope, inLoop: true)
            case .branch(let b):
                try checkExpr(b.condition, p, scope)
                try verify(b.then, p, scope: scope, inLoop: inLoop)
                try verify(b.orElse, p, scope: scope, inLoop: inLoop)
            case .breakLoop, .continueLoop:
                if !inLoop { throw Failure(description: "\(p.name): break/continue outside a loop") }
            case .returnProgram, .fail:
                break
            case .allocate(let a):
                for name in [a.container] + (a.takeFrom.map { [$0] } ?? []) {
                    guard let c = p.container(name), c.isDynamic, !c.isArgument, !c.isScalar else {
                        throw Failure(description: "\(p.name): allocate of \(name), which is not a dynamic transient or result array")
                    }
                    for d in c.shape { try checkSymbols(d, p, scope) }
                }
                if let t = a.takeFrom, p.container(t)!.dtype != p.container(a.container)!.dtype || p.container(t)!.shape.count != p.container(a.container)!.shape.count {
                    throw Failure(description: "\(p.name): allocate \(a.container) from \(t) with another dtype or rank")
                }
            }
        }
    }
}
