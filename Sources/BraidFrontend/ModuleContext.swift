import Foundation
import BraidIR

/// What a parameter of an entry point is, from its annotation or export signature.
enum ParamType {
    case array(DType, [SymExpr])
    /// `weak`: a Python `int`/`float`/`complex`/`bool` (NEP 50: it does not widen arrays).
    case scalar(DType, weak: Bool)
}

/// An entry point to compile: a function and its parameter types.
struct EntryPoint {
    var function: PyFunctionDef
    var paramTypes: [ParamType]
    /// Data-centric entries have declared shapes; export-signature entries get one
    /// symbol per dimension, and shape relations become run-time checks.
    var declaredShapes: Bool
}

/// Module-level facts: imports (any alias), symbols, constants, functions, entry points.
struct ModuleContext {
    var file: String
    var numpyAliases: Set<String> = []
    /// Aliases of `braid` or `dace`.
    var braidAliases: Set<String> = []
    /// Names imported directly (`from braid import map` etc.): local name → attribute.
    var fromImports: [String: (module: String, name: String)] = [:]
    var symbols: [String] = []
    var constants: [String: PyConstant] = [:]
    var functions: [String: PyFunctionDef] = [:]
    var functionOrder: [String] = []
    var entries: [EntryPoint] = []

    init(module: PyModule, signatures: [String]) throws {
        file = module.file
        for stmt in module.body {
            switch stmt.kind {
            case .import(let aliases):
                for a in aliases {
                    let local = a.asname ?? a.name
                    switch a.name {
                    case "numpy": numpyAliases.insert(local)
                    case "braid", "dace": braidAliases.insert(local)
                    default: break  // other imports are only an error if used
                    }
                }
            case .importFrom(let mod, let names, _):
                guard let mod, ["numpy", "braid", "dace"].contains(mod) else { continue }
                for a in names {
                    fromImports[a.asname ?? a.name] = (mod == "numpy" ? "numpy" : "braid", a.name)
                }
            case .assign(let targets, let value):
                try moduleAssign(targets, value)
            case .annAssign(let target, _, let value?):
                try moduleAssign([target], value)
            case .functionDef(let f):
                functions[f.name] = f
                functionOrder.append(f.name)
            default:
                break  // module-level code other than definitions does not run in compiled modules
            }
        }
        // Entry points: decorated programs, then export comments, then command-line signatures.
        var seen = Set<String>()
        for name in functionOrder {
            let f = functions[name]!
            if f.decorators.contains(where: isProgramDecorator) {
                entries.append(try dataCentricEntry(f))
                seen.insert(name)
            }
        }
        var exportLines: [(String, SourceLocation)] = []
        for c in module.comments {
            let text = c.text.dropFirst().trimmingCharacters(in: .whitespaces)
            if text.hasPrefix("pythran export ") {
                let col = c.text.firstIndex(of: "p").map { c.text.distance(from: c.text.startIndex, to: $0) + 1 } ?? 1
                exportLines.append((String(text.dropFirst("pythran export ".count)),
                                    SourceLocation(file: file, line: c.line, column: col)))
            }
        }
        for s in signatures {
            exportLines.append((s, SourceLocation(file: file, line: 1, column: 1)))
        }
        for (sig, loc) in exportLines {
            let (name, types) = try ExportSignature.parse(sig, loc: loc)
            guard let f = functions[name] else {
                throw Diagnostic(loc, "export signature names '\(name)', but the file defines no function of that name")
            }
            guard !seen.contains(name) else { continue }
            guard types.count <= f.args.count, types.count >= f.args.count - f.defaults.count else {
                throw Diagnostic(loc, "export signature of '\(name)' gives \(types.count) parameter types, but the function takes \(f.args.count)")
            }
            var params: [ParamType] = []
            for (k, t) in types.enumerated() {
                switch t {
                case .scalar(let d, let weak): params.append(.scalar(d, weak: weak))
                case .array(let d, let rank):
                    let arg = f.args[k].name
                    params.append(.array(d, (0..<rank).map { .sym("\(arg)_shape_\($0)") }))
                }
            }
            entries.append(EntryPoint(function: f, paramTypes: params, declaredShapes: false))
            seen.insert(name)
        }
    }

    private mutating func moduleAssign(_ targets: [PyExpr], _ value: PyExpr) throws {
        // N = br.symbol('N')  /  N, M = (dc.symbol(s) for s in 'NM') is not supported
        if case .call(let fn, let args, _) = value.kind, isBraidAttribute(fn, "symbol") {
            guard targets.count == 1, case .name(let n) = targets[0].kind else {
                throw Diagnostic(value.loc, "assign each symbol to one name: N = \(braidAliasName).symbol('N')")
            }
            guard let a0 = args.first, case .constant(.string(let s)) = a0.kind else {
                throw Diagnostic(value.loc, "symbol() takes the symbol's name as a string literal")
            }
            if s != n {
                throw Diagnostic(value.loc, "symbol '\(s)' is assigned to a variable named '\(n)'; use the same name")
            }
            if !symbols.contains(n) { symbols.append(n) }
            return
        }
        if case .tuple(let elts) = value.kind, targets.count == 1, case .tuple(let names) = targets[0].kind,
           elts.count == names.count {
            for (t, v) in zip(names, elts) { try moduleAssign([t], v) }
            return
        }
        if case .constant(let c) = value.kind, targets.count == 1, case .name(let n) = targets[0].kind {
            constants[n] = c
            return
        }
        if case .unaryOp(.uSub, let inner) = value.kind, case .constant(let c) = inner.kind,
           targets.count == 1, case .name(let n) = targets[0].kind {
            switch c {
            case .int(let v): constants[n] = .int(-v)
            case .float(let v): constants[n] = .float(-v)
            default: break
            }
        }
    }

    var braidAliasName: String { braidAliases.sorted().first ?? "braid" }

    /// Whether `e` is `<braid or dace alias>.<attr>` or a name imported from braid as `attr`.
    func isBraidAttribute(_ e: PyExpr, _ attr: String) -> Bool {
        switch e.kind {
        case .attribute(let base, let a):
            if a == attr, case .name(let m) = base.kind { return braidAliases.contains(m) }
            return false
        case .name(let n):
            if let imp = fromImports[n] { return imp.module == "braid" && imp.name == attr }
            return false
        default:
            return false
        }
    }

    func isProgramDecorator(_ d: PyExpr) -> Bool {
        if isBraidAttribute(d, "program") { return true }
        if case .call(let fn, _, _) = d.kind { return isBraidAttribute(fn, "program") }
        return false
    }

    private func dataCentricEntry(_ f: PyFunctionDef) throws -> EntryPoint {
        var params: [ParamType] = []
        for a in f.args {
            guard let ann = a.annotation else {
                throw Diagnostic(a.loc, "parameter '\(a.name)' of program '\(f.name)' has no type annotation; write e.g. '\(a.name): \(braidAliasName).float64[N]'")
            }
            params.append(try parseAnnotation(ann))
        }
        return EntryPoint(function: f, paramTypes: params, declaredShapes: true)
    }

    /// The dtype an expression names (`br.float64`, `np.float32`, `float`), if any.
    func dtype(named e: PyExpr) -> DType? {
        switch e.kind {
        case .attribute(let base, let a):
            guard case .name(let m) = base.kind, braidAliases.contains(m) || numpyAliases.contains(m) else { return nil }
            return DTypeNames.lookup(a)
        case .name(let n):
            if let imp = fromImports[n] { return DTypeNames.lookup(imp.name) }
            switch n {
            case "float": return .float64
            case "int": return .int64
            case "bool": return .bool
            case "complex": return .complex128
            default: return nil
            }
        case .constant(.string(let s)):
            return DTypeNames.lookup(s)
        default:
            return nil
        }
    }

    /// `br.float64[N, M + 1]` → array; `br.float64` → scalar.
    func parseAnnotation(_ ann: PyExpr) throws -> ParamType {
        if let d = dtype(named: ann) {
            if case .name(let n) = ann.kind, ["int", "float", "complex", "bool"].contains(n) { return .scalar(d, weak: true) }
            return .scalar(d, weak: false)
        }
        if case .subscript(let base, let idx) = ann.kind, let d = dtype(named: base) {
            let dims: [PyExpr]
            if case .tuple(let elts) = idx.kind { dims = elts } else { dims = [idx] }
            return .array(d, try dims.map { try symbolicShape($0) })
        }
        throw Diagnostic(ann.loc, "unsupported type annotation; write a dtype such as '\(braidAliasName).float64' or an array type such as '\(braidAliasName).float64[N, M]'")
    }

    /// A shape expression in an annotation: integers, symbols, + - * //.
    func symbolicShape(_ e: PyExpr) throws -> SymExpr {
        switch e.kind {
        case .constant(.int(let v)): return .int(v)
        case .name(let n):
            if symbols.contains(n) { return .sym(n) }
            if case .int(let v)? = constants[n] { return .int(v) }
            throw Diagnostic(e.loc, "'\(n)' in a shape is not a symbol; declare it with \(n) = \(braidAliasName).symbol('\(n)')")
        case .binOp(let a, let op, let b):
            let x = try symbolicShape(a), y = try symbolicShape(b)
            switch op {
            case .add: return x + y
            case .sub: return x - y
            case .mult: return x * y
            case .floorDiv: return .floorDivide(x, y)
            default: break
            }
        case .unaryOp(.uSub, let a): return -(try symbolicShape(a))
        default: break
        }
        throw Diagnostic(e.loc, "unsupported shape expression; use integers, symbols, +, -, * and //")
    }
}

/// NumPy dtype names accepted in annotations, signatures and `dtype=` arguments.
enum DTypeNames {
    static func lookup(_ name: String) -> DType? {
        switch name {
        case "bool", "bool_": return .bool
        case "float": return .float64
        case "int": return .int64
        case "complex": return .complex128
        case "double": return .float64
        case "single": return .float32
        case "intp", "int_": return .int64
        default: return DType(rawValue: name)
        }
    }
}

/// `#pythran export` signatures: `name(float64[:,:], int, float32[:])`.
enum ExportSignature {
    enum ArgType {
        case scalar(DType, weak: Bool)
        case array(DType, rank: Int)
    }

    static func parse(_ text: String, loc: SourceLocation) throws -> (String, [ArgType]) {
        let s = text.trimmingCharacters(in: .whitespaces)
        guard let open = s.firstIndex(of: "("), s.hasSuffix(")") else {
            throw Diagnostic(loc, "malformed export signature '\(s)'; write name(float64[:,:], int)")
        }
        let name = s[..<open].trimmingCharacters(in: .whitespaces)
        let inner = s[s.index(after: open)..<s.index(before: s.endIndex)]
        var args: [ArgType] = []
        var depth = 0
        var current = ""
        var parts: [String] = []
        for ch in inner {
            if ch == "[" { depth += 1 }
            if ch == "]" { depth -= 1 }
            if ch == "," && depth == 0 {
                parts.append(current)
                current = ""
            } else {
                current.append(ch)
            }
        }
        if !current.trimmingCharacters(in: .whitespaces).isEmpty { parts.append(current) }
        for p in parts {
            let t = p.trimmingCharacters(in: .whitespaces)
            if let br = t.firstIndex(of: "[") {
                let base = t[..<br].trimmingCharacters(in: .whitespaces)
                guard let d = DTypeNames.lookup(base) else {
                    throw Diagnostic(loc, "unknown element type '\(base)' in export signature")
                }
                let dims = t[t.index(after: br)...].dropLast()
                guard t.hasSuffix("]"), dims.split(separator: ",").allSatisfy({ $0.trimmingCharacters(in: .whitespaces) == ":" }) else {
                    throw Diagnostic(loc, "unsupported array type '\(t)' in export signature; write e.g. float64[:,:]")
                }
                args.append(.array(d, rank: dims.split(separator: ",", omittingEmptySubsequences: false).count))
            } else {
                guard let d = DTypeNames.lookup(t) else {
                    throw Diagnostic(loc, "unknown type '\(t)' in export signature")
                }
                args.append(.scalar(d, weak: ["int", "float", "complex", "bool"].contains(t)))
            }
        }
        return (name, args)
    }
}
