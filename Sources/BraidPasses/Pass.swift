import BraidIR

/// A transformation of one program. It returns whether it changed anything; a pass
/// that cannot prove a rewrite legal leaves the program as it was.
public protocol Pass: Sendable {
    /// Stable name, used by `--disable-pass`, `--print-after-all` and `--time-passes`.
    var name: String { get }
    func run(_ program: inout Program) throws -> Bool
}

/// Applies `f` bottom-up to every node list in a tree (bodies of maps, loops, branches).
func rewriteBlocks(_ nodes: [Node], _ f: ([Node]) throws -> [Node]) rethrows -> [Node] {
    let inner = try nodes.map { n -> Node in
        switch n {
        case .map(var m):
            m.body = try rewriteBlocks(m.body, f)
            return .map(m)
        case .forLoop(var l):
            l.body = try rewriteBlocks(l.body, f)
            return .forLoop(l)
        case .whileLoop(var w):
            w.body = try rewriteBlocks(w.body, f)
            return .whileLoop(w)
        case .branch(var b):
            b.then = try rewriteBlocks(b.then, f)
            b.orElse = try rewriteBlocks(b.orElse, f)
            return .branch(b)
        default:
            return n
        }
    }
    return try f(inner)
}

/// Every tasklet and library node in a tree, with the enclosing map params and loop variables.
func visitDataflow(_ nodes: [Node], _ f: (Node) -> Void) {
    for n in nodes {
        switch n {
        case .tasklet, .library: f(n)
        case .map(let m): visitDataflow(m.body, f)
        case .forLoop(let l): visitDataflow(l.body, f)
        case .whileLoop(let w): visitDataflow(w.body, f)
        case .branch(let b):
            visitDataflow(b.then, f)
            visitDataflow(b.orElse, f)
        case .breakLoop, .continueLoop, .returnProgram, .fail: break
        }
    }
}
