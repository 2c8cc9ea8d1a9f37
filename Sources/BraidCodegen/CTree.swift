/// A small C-shaped tree: what every backend lowers the IR to before printing.
/// Expressions are already-rendered C text; statements carry structure (loops with
/// their pragmas, declarations, blocks) so dialects differ by data, not by printers.
public indirect enum CStmt: Hashable, Sendable {
    case decl(type: String, name: String, initializer: String?)
    case assign(lhs: String, rhs: String)
    case expr(String)
    /// `for (int64_t v = start; v < end; v += step)` preceded by `pragmas` (each printed as
    /// `#pragma ...`); with a negative constant step the condition is `v > end`.
    case forLoop(pragmas: [String], variable: String, start: String, end: String, step: String, body: [CStmt])
    case whileLoop(condition: String, body: [CStmt])
    case ifElse(condition: String, then: [CStmt], orElse: [CStmt])
    case block([CStmt])
    case comment(String)
    case pragma(String)
    case `break`
    case `continue`
    case goto(String)
    case label(String)
    case `return`(String)
}

/// A C function definition.
public struct CFunction: Hashable, Sendable {
    public var returnType: String
    public var name: String
    public var params: [(type: String, name: String)]
    public var body: [CStmt]
    /// Text placed before the function (e.g. `__kernel`, `static`).
    public var qualifiers: String
    public var comment: String

    public init(returnType: String, name: String, params: [(type: String, name: String)], body: [CStmt],
                qualifiers: String = "", comment: String = "") {
        self.returnType = returnType
        self.name = name
        self.params = params
        self.body = body
        self.qualifiers = qualifiers
        self.comment = comment
    }

    public static func == (a: CFunction, b: CFunction) -> Bool {
        a.returnType == b.returnType && a.name == b.name && a.params.map(\.type) == b.params.map(\.type)
            && a.params.map(\.name) == b.params.map(\.name) && a.body == b.body && a.qualifiers == b.qualifiers
    }

    public func hash(into h: inout Hasher) {
        h.combine(name)
        h.combine(body)
    }
}

/// The one printer of the C-shaped tree.
public enum CPrinter {
    public static func print(_ f: CFunction) -> String {
        var out = ""
        if !f.comment.isEmpty { out += f.comment.split(separator: "\n", omittingEmptySubsequences: false).map { "// \($0)" }.joined(separator: "\n") + "\n" }
        let params = f.params.isEmpty ? "void" : f.params.map { "\($0.type) \($0.name)" }.joined(separator: ", ")
        out += (f.qualifiers.isEmpty ? "" : f.qualifiers + " ") + "\(f.returnType) \(f.name)(\(params))\n{\n"
        for s in f.body { print(s, indent: "    ", into: &out) }
        out += "}\n"
        return out
    }

    public static func print(_ s: CStmt, indent: String, into out: inout String) {
        switch s {
        case .decl(let t, let n, let i):
            out += "\(indent)\(t) \(n)\(i.map { " = \($0)" } ?? "");\n"
        case .assign(let l, let r):
            out += "\(indent)\(l) = \(r);\n"
        case .expr(let e):
            out += "\(indent)\(e);\n"
        case .forLoop(let pragmas, let v, let a, let b, let st, let body):
            for p in pragmas { out += "\(indent)#pragma \(p)\n" }
            let inc = st == "1" ? "++\(v)" : "\(v) += \(st)"
            // Loop steps are integer constants; a negative one counts down (Python's range).
            let cmp = st.hasPrefix("-") || st.hasPrefix("(-") ? ">" : "<"
            out += "\(indent)for (int64_t \(v) = \(a); \(v) \(cmp) \(b); \(inc)) {\n"
            for c in body { print(c, indent: indent + "    ", into: &out) }
            out += "\(indent)}\n"
        case .whileLoop(let c, let body):
            out += "\(indent)while (\(c)) {\n"
            for x in body { print(x, indent: indent + "    ", into: &out) }
            out += "\(indent)}\n"
        case .ifElse(let c, let t, let e):
            out += "\(indent)if (\(c)) {\n"
            for x in t { print(x, indent: indent + "    ", into: &out) }
            if e.isEmpty {
                out += "\(indent)}\n"
            } else {
                out += "\(indent)} else {\n"
                for x in e { print(x, indent: indent + "    ", into: &out) }
                out += "\(indent)}\n"
            }
        case .block(let b):
            out += "\(indent){\n"
            for x in b { print(x, indent: indent + "    ", into: &out) }
            out += "\(indent)}\n"
        case .comment(let c):
            out += "\(indent)// \(c)\n"
        case .pragma(let p):
            out += "\(indent)#pragma \(p)\n"
        case .break:
            out += "\(indent)break;\n"
        case .continue:
            out += "\(indent)continue;\n"
        case .goto(let l):
            out += "\(indent)goto \(l);\n"
        case .label(let l):
            out += "\(l):;\n"
        case .return(let v):
            out += "\(indent)return \(v);\n"
        }
    }
}
