import BraidIR

/// A transformation of one program. It returns whether it changed anything; a pass
/// that cannot prove a rewrite legal leaves the program as it was.
public protocol Pass: Sendable {
    /// Stable name, used by `--disable-pass`, `--print-after-all` and `--time-passes`.
    var name: String { get }
    /// Rewrites the program and returns whether it changed anything; `remarks` receive
    /// what the pass did, or why it left something alone, at Python source lines
    /// (`braid build --explain`).
    func run(_ program: inout Program, remarks: inout [Remark]) throws -> Bool
}

extension Pass {
    /// Runs the pass without keeping its remarks.
    public func run(_ program: inout Program) throws -> Bool {
        var ignored: [Remark] = []
        return try run(&program, remarks: &ignored)
    }
}

/// What a pass did at one Python source line, or why it left something alone.
public struct Remark: Hashable, Sendable, CustomStringConvertible {
    public enum Kind: String, Sendable {
        /// Iterations run in parallel.
        case parallel
        /// Left sequential (the message says which dependence prevented it).
        case sequential
        /// Merged with a neighbour; an intermediate array disappeared.
        case fused
        /// Rewritten into a cheaper but equal form.
        case simplified
    }
    public var loc: SourceLocation
    public var pass: String
    public var kind: Kind
    public var message: String
    public init(_ loc: SourceLocation, pass: String, _ kind: Kind, _ message: String) {
        self.loc = loc
        self.pass = pass
        self.kind = kind
        self.message = message
    }
    public var description: String { "\(loc): \(kind.rawValue): \(message) [\(pass)]" }
}

/// `n` with `f` applied to each of its child blocks (the bodies of a map or loop, the two
/// arms of a branch); other nodes are returned as they are.
func withChildBlocks(_ n: Node, _ f: ([Node]) throws -> [Node]) rethrows -> Node {
    switch n {
    case .map(var m): m.body = try f(m.body); return .map(m)
    case .forLoop(var l): l.body = try f(l.body); return .forLoop(l)
    case .whileLoop(var w): w.body = try f(w.body); return .whileLoop(w)
    case .branch(var b):
        b.then = try f(b.then)
        b.orElse = try f(b.orElse)
        return .branch(b)
    case .tasklet, .library, .breakLoop, .continueLoop, .returnProgram, .fail, .allocate:
        return n
    }
}

/// Applies `f` bottom-up to every node list in a tree (bodies of maps, loops, branches).
func rewriteBlocks(_ nodes: [Node], _ f: ([Node]) throws -> [Node]) rethrows -> [Node] {
    try f(nodes.map { n in try withChildBlocks(n) { try rewriteBlocks($0, f) } })
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
        case .breakLoop, .continueLoop, .returnProgram, .fail, .allocate: break
        }
    }
}
