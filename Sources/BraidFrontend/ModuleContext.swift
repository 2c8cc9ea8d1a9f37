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
    /// 0 for a function's first export signature; k for its (k+1)-th, different one (an
    /// overload, compiled separately and chosen at call time by argument types).
    var overload = 0
}

/// Module-level facts: imports (any alias), symbols, constants, functions, entry points.
struct ModuleContext {
    var file: String
    var numpyAliases: Set<String> = []
    /// Aliases of `braid` or `dace`.
    var braidAliases: Set<String> = []
    /// Aliases of Python's `math` module.
    var mathAliases: Set<String> = []
    /// Names imported directly (`from braid import map` etc.): local name → attribute.
    var fromImports: [String: (module: String, name: String)] = [:]
    var symbols: [String] = []
    var constants: [String: PyConstant] = [:]
    var functions: [String: PyFunctionDef] = [:]
    var functionOrder: [String] = []
    var entries: [EntryPoint] = []
    /// Module-level names whose defining statement holds a construct Braid rejects (e.g.
    /// `MASK = 0xFFFFFFFFFFFFFFFF`): an error only if compiled code reads the name.
    var constantProblems: [String: Diagnostic] = [:]
    /// Module-level tuples of numbers (`COEFFS = (1.0, 2.0, 3.0)`): compiled code reads them as
    /// the tuple display itself (tuples cannot change, so every read sees the same values).
    var tupleConstants: [String: PyExpr] = [:]

    init(module: PyModule, signatures: [String]) throws {
        file = module.file
        var problemAt: [Int: Diagnostic] = [:]
        for (index, problem) in module.problems where problemAt[index] == nil { problemAt[index] = problem }
        for (index, stmt) in module.body.enumerated() {
            if let problem = problemAt[index] {  // the statement's own problem, for the names it binds
                for name in Self.assignedNames(stmt) {
                    constants[name] = nil
                    constantProblems[name] = problem
                }
                if case .functionDef = stmt.kind {} else { continue }
            }
            switch stmt.kind {
            case .import(let aliases):
                for a in aliases {
                    guard let local = a.asname else {
                        // `import numpy.linalg` binds `numpy`.
                        switch a.name.prefix(while: { $0 != "." }) {
                        case "numpy": numpyAliases.insert("numpy")
                        case "braid" where a.name == "braid", "dace" where a.name == "dace": braidAliases.insert(a.name)
                        case "math" where a.name == "math": mathAliases.insert("math")
                        default: break  // other imports are only an error if used
                        }
                        continue
                    }
                    switch a.name {
                    case "numpy": numpyAliases.insert(local)
                    case "braid", "dace": braidAliases.insert(local)
                    case "math": mathAliases.insert(local)
                    default:
                        // `import numpy.linalg as la`: `la.norm` is `numpy.linalg.norm`.
                        if a.name.hasPrefix("numpy.") { bindImported(local, "numpy", String(a.name.dropFirst("numpy.".count))) }
                    }
                }
            case .importFrom(let mod, let names, _):
                guard let mod else { continue }
                let module: String, prefix: String
                switch mod {
                case "numpy", "math": (module, prefix) = (mod, "")
                case "braid", "dace": (module, prefix) = ("braid", "")
                case _ where mod.hasPrefix("numpy."): (module, prefix) = ("numpy", String(mod.dropFirst("numpy.".count)) + ".")
                default: continue
                }
                for a in names {
                    if a.name == "*" {
                        starImport(module, at: stmt.loc)
                    } else {
                        bindImported(a.asname ?? a.name, module, prefix + a.name)
                    }
                }
            case .assign(let targets, let value):
                try moduleAssign(targets, value)
            case .annAssign(let target, _, let value?):
                try moduleAssign([target], value)
            case .augAssign(let target, let op, let value):
                moduleAugAssign(target, op, value, at: stmt.loc)
            case .functionDef(var f):
                // Defaults are evaluated where the `def` runs: `lo=-1.0`, `tol=EPS`, `w=2 * np.pi`
                // are the numbers the module's constants give at this point.
                f.defaults = f.defaults.map { d in foldConstant(d).map { PyExpr(.constant($0), d.loc) } ?? d }
                functions[f.name] = f
                functionOrder.append(f.name)
            case .if, .for, .while:
                // A name bound inside module-level control flow has a value only Python knows
                // (but `if __name__ == "__main__":` does not run when the module is imported).
                var block = [stmt]
                if case .if(let test, _, let orelse) = stmt.kind, Self.isMainGuard(test) { block = orelse }
                for n in Self.namesBound(inBlock: block) where !symbols.contains(n) {
                    constants[n] = nil
                    constantProblems[n] = Diagnostic(stmt.loc, "module-level '\(n)' is assigned inside a module-level "
                        + "\(Self.statementName(stmt)); compiled code reads only module-level constants assigned once "
                        + "at the top level (e.g. \(n) = 0.5); pass it as a parameter instead")
                }
            default:
                break  // module-level code other than definitions does not run in compiled modules
            }
        }
        for (name, f) in functions { functions[name] = withTupleConstants(f) }
        // Entry points: decorated programs, then export comments, then command-line signatures.
        var seen = Set<String>()
        for name in functionOrder {
            let f = functions[name]!
            if f.decorators.contains(where: isProgramDecorator) {
                entries.append(try dataCentricEntry(f))
                seen.insert(name)
            }
        }
        var exports: [(name: String, types: [ExportSignature.ArgType], loc: SourceLocation)] = []
        let comments = module.comments
        for (k, c) in comments.enumerated() {
            // `#pythran export f(...)`; columns count from the comment's own column.
            let afterHash = c.text.dropFirst()
            let text = afterHash.drop { $0 == " " || $0 == "\t" }
            guard text.hasPrefix("pythran export ") else { continue }
            var signature = text.dropFirst("pythran export ".count)
            let skipped = signature.prefix { $0 == " " || $0 == "\t" }.count
            signature = signature.dropFirst(skipped)
            let column = c.column + 1 + (afterHash.count - text.count) + "pythran export ".count + skipped
            // A signature whose parentheses are still open goes on in the comments of the next lines.
            var joined = String(signature)
            var continuations: [(offset: Int, loc: SourceLocation)] = []
            var next = k + 1
            func open(_ t: String) -> Int { t.filter { $0 == "(" }.count - t.filter { $0 == ")" }.count }
            while open(joined) > 0, next < comments.count, comments[next].line == comments[next - 1].line + 1 {
                let more = comments[next].text.dropFirst()
                let lead = more.prefix { $0 == " " || $0 == "\t" }.count
                joined += " "
                continuations.append((joined.count, SourceLocation(file: file, line: comments[next].line,
                                                                   column: comments[next].column + 1 + lead)))
                joined += more.dropFirst(lead)
                next += 1
            }
            exports += try ExportSignature.parseAll(joined, loc: SourceLocation(file: file, line: c.line, column: column),
                                                    continuations: continuations)
        }
        // Command-line signatures replace the file's export comments for the same function.
        var fromCommandLine: [(name: String, types: [ExportSignature.ArgType], loc: SourceLocation)] = []
        for s in signatures {
            do {
                fromCommandLine += try ExportSignature.parseAll(s, loc: SourceLocation(file: file, line: 1, column: 1), exact: false)
            } catch var d as Diagnostic {
                // Reported at the function the signature names (the file's first line otherwise).
                let name = s.prefix { $0 != "(" }.trimmingCharacters(in: .whitespaces)
                if let f = functions[name] { d.loc = f.loc }
                d.message = "--signature '\(s)': " + d.message
                throw d
            }
        }
        for e in fromCommandLine where seen.contains(e.name) {
            throw Diagnostic(functions[e.name]!.loc, "--signature names '\(e.name)', a program whose parameter types are "
                + "its annotations; --signature is for functions without them")
        }
        let replaced = Set(fromCommandLine.map(\.name))
        exports = exports.filter { !replaced.contains($0.name) } + fromCommandLine
        var exported: [String: [String]] = [:]  // the type lists compiled so far, by function
        for (name, types, loc) in exports {
            guard let f = functions[name] else {
                let defined = functionOrder.isEmpty ? "none" : functionOrder.joined(separator: ", ")
                throw Diagnostic(loc, "\(replaced.contains(name) ? "--signature" : "export signature") names '\(name)', but the "
                    + "file defines no function of that name (it defines: \(defined))")
            }
            guard !seen.contains(name) else { continue }
            let key = types.map { t -> String in
                switch t {
                case .scalar(let d, let weak): return "\(d.rawValue)\(weak ? "~" : "")"
                case .array(let d, let rank): return "\(d.rawValue)/\(rank)"
                }
            }.joined(separator: ",")
            guard !(exported[name]?.contains(key) ?? false) else { continue }  // the same signature twice
            if let problem = f.problems.first { throw problem }  // e.g. `*args`: before counting parameters
            guard types.count <= f.args.count, types.count >= f.args.count - f.defaults.count else {
                let required = f.args.count - f.defaults.count
                let takes = required == f.args.count ? "\(f.args.count)" : "\(required) to \(f.args.count)"
                let what = replaced.contains(name) ? "--signature" : "export signature"
                throw Diagnostic(replaced.contains(name) ? f.loc : loc, "\(what) of '\(name)' gives \(types.count) parameter "
                    + "types, but the function takes \(takes) (\(f.args.map(\.name).joined(separator: ", ")))")
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
            entries.append(EntryPoint(function: Self.withDefaultsBound(f, keeping: types.count), paramTypes: params,
                                      declaredShapes: false, overload: exported[name]?.count ?? 0))
            exported[name, default: []].append(key)
        }
        try checkCompiledCode()
    }

    /// Raises the first construct the parser recorded as unsupported in code that gets
    /// compiled: an entry function, a helper it calls (transitively; helpers are inlined), or
    /// a module-level name either reads. Functions that only run under CPython (such as
    /// `initialize`) may use anything Python allows.
    private func checkCompiledCode() throws {
        var visited = Set<String>()
        var queue: [(name: String, usedBy: String?)] = entries.map { ($0.function.name, nil) }
        while !queue.isEmpty {
            let (name, usedBy) = queue.removeFirst()
            guard visited.insert(name).inserted, let f = functions[name] else { continue }
            if var problem = f.problems.first {
                if let usedBy { problem.message += " (\(name) is compiled because '\(usedBy)' uses it)" }
                throw problem
            }
            for n in f.referencedNames.subtracting(f.localNames).sorted() {
                if var problem = constantProblems[n] {
                    problem.message += " ('\(n)' is read by compiled function '\(name)')"
                    throw problem
                }
                if functions[n] != nil { queue.append((n, name)) }
            }
        }
    }

    /// `f` exported with only its first `count` parameters (`#pythran export newton(float64[:])`
    /// for `def newton(a, tol=1e-12, maxit=50)`): the others are fixed at their defaults, bound
    /// at the top of the body as Python binds them when a call leaves them out.
    static func withDefaultsBound(_ f: PyFunctionDef, keeping count: Int) -> PyFunctionDef {
        guard count < f.args.count else { return f }
        var g = f
        let firstDefault = f.args.count - f.defaults.count
        let bound = (count..<f.args.count).map { k -> PyStmt in
            let d = f.defaults[k - firstDefault]
            return PyStmt(.assign(targets: [PyExpr(.name(f.args[k].name), f.args[k].loc)], value: d), d.loc)
        }
        g.args = Array(f.args.prefix(count))
        g.defaults = Array(f.defaults.prefix(max(0, count - firstDefault)))
        g.body = bound + f.body
        return g
    }

    /// The names an assignment target binds.
    private static func targetNames(_ e: PyExpr) -> [String] {
        switch e.kind {
        case .name(let n): return [n]
        case .tuple(let es), .list(let es): return es.flatMap(targetNames)
        case .starred(let x): return targetNames(x)
        default: return []
        }
    }

    /// The names a top-level statement binds (`def`, assignments, imports).
    private static func assignedNames(_ stmt: PyStmt) -> [String] {
        let names = targetNames
        switch stmt.kind {
        case .assign(let targets, _): return targets.flatMap(names)
        case .annAssign(let target, _, _), .augAssign(let target, _, _): return names(target)
        case .functionDef(let f): return [f.name]
        case .import(let aliases): return aliases.map { $0.asname ?? String($0.name.prefix { $0 != "." }) }
        case .importFrom(_, let aliases, _): return aliases.map { $0.asname ?? $0.name }
        default: return []
        }
    }

    private mutating func moduleAssign(_ targets: [PyExpr], _ value: PyExpr) throws {
        // N = br.symbol('N')  /  N, M = (dc.symbol(s) for s in 'NM') is not supported
        // A malformed declaration is an error where compiled code uses the name (an annotation
        // or a function body), not for the whole file.
        if case .call(let fn, let args, _) = value.kind, isBraidAttribute(fn, "symbol") {
            let names = targets.flatMap(Self.targetNames)
            guard targets.count == 1, case .name(let n) = targets[0].kind else {
                for n in names { constantProblems[n] = Diagnostic(value.loc, "assign each symbol to one name: N = \(braidAliasName).symbol('N')") }
                return
            }
            guard let a0 = args.first, case .constant(.string(let s)) = a0.kind else {
                constantProblems[n] = Diagnostic(value.loc, "symbol() takes the symbol's name as a string literal")
                return
            }
            if s != n {
                constantProblems[n] = Diagnostic(value.loc, "symbol '\(s)' is assigned to a variable named '\(n)'; use the same name")
                return
            }
            if !symbols.contains(n) { symbols.append(n) }
            return
        }
        if case .tuple(let elts) = value.kind, targets.count == 1, case .tuple(let names) = targets[0].kind,
           elts.count == names.count {
            for (t, v) in zip(names, elts) { try moduleAssign([t], v) }
            return
        }
        // `norm = np.linalg.norm`, `exp = math.exp`: another name for a function.
        if targets.count == 1, case .name(let n) = targets[0].kind, case .attribute = value.kind,
           let (module, path) = modulePath(value), foldConstant(value) == nil {
            bindImported(n, module, path)
            return
        }
        for n in targets.flatMap(Self.targetNames) { tupleConstants[n] = nil }
        if targets.count == 1, case .name(let n) = targets[0].kind, let t = foldTuple(value) {
            tupleConstants[n] = t
            constants[n] = nil
            constantProblems[n] = nil
            return
        }
        // `X = Y = 0.5` binds every target; anything else a name is bound to (a tuple, a list,
        // an array, a call) stays a Python value that compiled code cannot read.
        let folded = foldConstant(value)
        for target in targets {
            for n in Self.targetNames(target) {
                if let folded, case .name = target.kind {
                    constants[n] = folded
                    constantProblems[n] = nil
                } else {
                    constants[n] = nil
                    constantProblems[n] = Diagnostic(value.loc, "module-level '\(n)' is \(Self.describe(value)), not a "
                        + "number constant; compiled code reads module-level numbers (e.g. X = 2 * np.pi), "
                        + "strings and symbols only: pass it as a parameter or create it inside the function")
                }
            }
        }
    }

    /// Binds `local` to `module.name` (`from numpy import pi`, `from numpy.linalg import norm`,
    /// `norm = np.linalg.norm`): NumPy's and math's number constants become constants.
    private mutating func bindImported(_ local: String, _ module: String, _ name: String) {
        constantProblems[local] = nil
        constants[local] = nil
        fromImports[local] = nil
        if module == "numpy" || module == "math", let c = Self.mathConstant(name) {
            constants[local] = c
        } else if module == "numpy", name == "newaxis" {
            constants[local] = PyConstant.none
        } else {
            fromImports[local] = (module, name)
        }
    }

    /// `from numpy import *` / `from math import *`: every name Braid supports from the module.
    private mutating func starImport(_ module: String, at loc: SourceLocation) {
        switch module {
        case "numpy":
            for name in NumPyRegistry.functions.keys where !name.contains(".") && !Self.notExportedByNumPy.contains(name) {
                bindImported(name, "numpy", name)
            }
            for name in ["pi", "e", "inf", "nan", "newaxis", "linalg", "float32", "float64", "int8", "int16", "int32", "int64", "uint8",
                         "uint16", "uint32", "uint64", "complex64", "complex128", "bool", "bool_", "intp", "double", "single"] {
                bindImported(name, "numpy", name)
            }
            // Builtins NumPy's star export shadows with functions Braid does not have.
            for name in ["abs", "min", "max", "round", "sum", "all", "any", "pow", "divmod"] where fromImports[name] == nil {
                constantProblems[name] = Diagnostic(loc, "'\(name)' is NumPy's np.\(name) here (from numpy import *), which "
                    + "Braid does not support yet; import NumPy as np and write the call you mean")
            }
        case "math":
            for name in Self.mathNames { bindImported(name, "math", name) }
        default:
            break  // `from braid import *`: names are looked up as written
        }
    }

    /// Registry names NumPy 2 no longer exports with `from numpy import *`.
    private static let notExportedByNumPy: Set<String> = ["trapz"]

    /// The names `from math import *` binds.
    private static let mathNames = [
        "acos", "acosh", "asin", "asinh", "atan", "atan2", "atanh", "cbrt", "ceil", "comb", "copysign", "cos", "cosh",
        "degrees", "dist", "e", "erf", "erfc", "exp", "exp2", "expm1", "fabs", "factorial", "floor", "fmod", "frexp",
        "fsum", "gamma", "gcd", "hypot", "inf", "isclose", "isfinite", "isinf", "isnan", "isqrt", "lcm", "ldexp",
        "lgamma", "log", "log10", "log1p", "log2", "modf", "nan", "nextafter", "perm", "pi", "pow", "prod", "radians",
        "remainder", "sin", "sinh", "sqrt", "tan", "tanh", "tau", "trunc", "ulp",
    ]

    /// `np.linalg.norm` (or `la.norm` after `import numpy.linalg as la`) as a module path.
    private func modulePath(_ e: PyExpr) -> (module: String, name: String)? {
        switch e.kind {
        case .name(let n):
            if numpyAliases.contains(n) { return ("numpy", "") }
            if mathAliases.contains(n) { return ("math", "") }
            if let imp = fromImports[n], imp.module == "numpy" || imp.module == "math" { return imp }
            return nil
        case .attribute(let base, let attr):
            guard let (m, path) = modulePath(base) else { return nil }
            return (m, path.isEmpty ? attr : path + "." + attr)
        default:
            return nil
        }
    }

    /// `(1.0, 2.0, (3, 4))`: a tuple display whose elements are constants, folded.
    private func foldTuple(_ e: PyExpr) -> PyExpr? {
        guard case .tuple(let elts) = e.kind else { return nil }
        var folded: [PyExpr] = []
        for x in elts {
            if let c = foldConstant(x) {
                folded.append(PyExpr(.constant(c), x.loc))
            } else if let t = foldTuple(x) {
                folded.append(t)
            } else {
                return nil
            }
        }
        return PyExpr(.tuple(folded), e.loc)
    }

    /// `f` with its reads of module-level tuples replaced by their displays.
    private func withTupleConstants(_ f: PyFunctionDef) -> PyFunctionDef {
        let table = tupleConstants.filter { !f.localNames.contains($0.key) }
        guard !table.isEmpty, !f.referencedNames.isDisjoint(with: table.keys) else { return f }
        var g = f
        g.defaults = f.defaults.map { $0.replacingNames(table) }
        g.body = f.body.map { $0.replacingNames(table) }
        return g
    }

    /// `K += 1` at module level: still a constant when both sides are.
    private mutating func moduleAugAssign(_ target: PyExpr, _ op: PyBinOp, _ value: PyExpr, at loc: SourceLocation) {
        guard case .name(let n) = target.kind else { return }
        if let old = constants[n], let v = foldConstant(value), let r = Self.fold(old, op, v) {
            constants[n] = r
            return
        }
        constants[n] = nil
        if constantProblems[n] == nil {
            constantProblems[n] = Diagnostic(loc, "module-level '\(n)' is updated with a value Braid cannot compute "
                + "at compile time; pass it as a parameter instead")
        }
    }

    /// The value of a module-level constant expression, as Python computes it: numbers,
    /// earlier constants, `np.pi`/`math.pi` and friends, unary and binary arithmetic.
    /// Python scalars only (they stay weakly typed); nil for anything else.
    func foldConstant(_ e: PyExpr) -> PyConstant? {
        switch e.kind {
        case .constant(let c):
            return c
        case .name(let n):
            if let c = constants[n] { return c }
            if let imp = fromImports[n], imp.module == "numpy" || imp.module == "math" { return Self.mathConstant(imp.name) }
            return nil
        case .attribute(let base, let a):
            guard case .name(let m) = base.kind, numpyAliases.contains(m) || mathAliases.contains(m) else { return nil }
            return Self.mathConstant(a)
        case .unaryOp(let op, let x):
            guard let c = foldConstant(x) else { return nil }
            switch (op, c) {
            case (.uSub, .int(let v)) where v != Int.min: return .int(-v)
            case (.uSub, .float(let v)): return .float(-v)
            case (.uAdd, .int), (.uAdd, .float): return c
            default: return nil
            }
        case .binOp(let a, let op, let b):
            guard let x = foldConstant(a), let y = foldConstant(b) else { return nil }
            return Self.fold(x, op, y)
        default:
            return nil
        }
    }

    private static func mathConstant(_ name: String) -> PyConstant? {
        switch name {
        case "pi": return .float(Double.pi)
        case "e": return .float(M_E)
        case "tau": return .float(2 * Double.pi)
        case "inf", "Inf": return .float(Double.infinity)
        case "nan", "NaN": return .float(Double.nan)
        default: return nil
        }
    }

    /// `x op y` on Python ints and floats with Python's results; nil where Python would raise,
    /// overflow Braid's 64-bit ints, or round differently.
    static func fold(_ x: PyConstant, _ op: PyBinOp, _ y: PyConstant) -> PyConstant? {
        let exact = 1 << 53
        func real(_ c: PyConstant) -> Double? {
            switch c {
            case .float(let v): return v
            case .int(let v) where abs(v) <= exact: return Double(v)
            default: return nil
            }
        }
        if case .int(let a) = x, case .int(let b) = y {
            switch op {
            case .add: let r = a.addingReportingOverflow(b); return r.overflow ? nil : .int(r.partialValue)
            case .sub: let r = a.subtractingReportingOverflow(b); return r.overflow ? nil : .int(r.partialValue)
            case .mult: let r = a.multipliedReportingOverflow(by: b); return r.overflow ? nil : .int(r.partialValue)
            case .floorDiv, .mod:
                guard b != 0, !(a == Int.min && b == -1) else { return nil }
                var q = a / b, m = a % b
                if m != 0 && ((m < 0) != (b < 0)) { q -= 1; m += b }
                return .int(op == .floorDiv ? q : m)
            case .div:
                guard b != 0, abs(a) <= exact, abs(b) <= exact else { return nil }
                return .float(Double(a) / Double(b))
            case .pow:
                // A negative exponent: Python converts both to float (and 0 ** -1 raises).
                guard b >= 0 else { return a == 0 ? nil : foldFloat(.float(Double(a)), .pow, .int(b)) }
                if b > 64 {
                    switch a {
                    case 0, 1: return .int(a)
                    case -1: return .int(b % 2 == 0 ? 1 : -1)
                    default: return nil
                    }
                }
                var r = 1
                for _ in 0..<b {
                    let (p, o) = r.multipliedReportingOverflow(by: a)
                    if o { return nil }
                    r = p
                }
                return .int(r)
            default:
                return nil
            }
        }
        switch (x, y) {
        case (.float, .float), (.float, .int), (.int, .float): return foldFloat(x, op, y)
        default: return nil
        }

        func foldFloat(_ x: PyConstant, _ op: PyBinOp, _ y: PyConstant) -> PyConstant? {
            guard let a = real(x), let b = real(y) else { return nil }
            switch op {
            case .add: return .float(a + b)
            case .sub: return .float(a - b)
            case .mult: return .float(a * b)
            case .div: return b == 0 ? nil : .float(a / b)
            case .pow:
                // Python: 0.0 ** negative raises, a negative base with a fractional exponent is complex.
                if a == 0 && b < 0 { return nil }
                if a < 0 && b.rounded() != b { return nil }
                return .float(pow(a, b))
            default:
                return nil
            }
        }
    }

    /// How a module-level value that is not a constant reads in a message.
    private static func describe(_ e: PyExpr) -> String {
        switch e.kind {
        case .tuple: return "a tuple"
        case .list: return "a list"
        case .call: return "the result of a call"
        case .constant: return "a constant assigned together with other names"
        default: return "an expression Braid cannot compute at compile time"
        }
    }

    private static func statementName(_ s: PyStmt) -> String {
        switch s.kind {
        case .if: return "if"
        case .for: return "for loop"
        case .while: return "while loop"
        default: return "statement"
        }
    }

    /// `__name__ == "__main__"` (either way round).
    private static func isMainGuard(_ test: PyExpr) -> Bool {
        guard case .compare(let a, let ops, let rest) = test.kind, ops == [.eq], rest.count == 1 else { return false }
        let isName: (PyExpr) -> Bool = { if case .name("__name__") = $0.kind { return true } else { return false } }
        let isMain: (PyExpr) -> Bool = { if case .constant(.string("__main__")) = $0.kind { return true } else { return false } }
        return (isName(a) && isMain(rest[0])) || (isMain(a) && isName(rest[0]))
    }

    /// The names a block binds anywhere inside it (assignments, loop targets, defs, imports).
    private static func namesBound(inBlock ss: [PyStmt]) -> [String] {
        var names: [String] = []
        for s in ss {
            switch s.kind {
            case .for(let t, _, let body, let orelse):
                names += targetNames(t) + namesBound(inBlock: body) + namesBound(inBlock: orelse)
            case .while(_, let body, let orelse), .if(_, let body, let orelse):
                names += namesBound(inBlock: body) + namesBound(inBlock: orelse)
            default:
                names += assignedNames(s)
            }
        }
        return names
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
        if let problem = f.problems.first { throw problem }
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
        let br = braidAliasName
        // DaCe's storage location, `dc.float64[N] @ dc.StorageType.GPU_Global`: the data is the
        // same wherever it lives, and each target places containers itself.
        if case .binOp(let array, .matMult, let storage) = ann.kind {
            guard isBraidPath(storage, under: "StorageType") else {
                throw Diagnostic(storage.loc, "unsupported storage in a type annotation; write "
                    + "'\(br).float64[N] @ \(br).StorageType.Default' or leave out '@ ...'")
            }
            let t = try parseAnnotation(array)
            guard case .array = t else {
                throw Diagnostic(ann.loc, "a storage location ('@ \(br).StorageType...') applies to arrays; write '\(br).float64[N] @ ...'")
            }
            return t
        }
        if case .attribute(let base, "ndarray") = ann.kind, case .name(let m) = base.kind, numpyAliases.contains(m) {
            throw Diagnostic(ann.loc, "'\(m).ndarray' gives neither the dtype nor the shape of the array; write an "
                + "array type such as '\(br).float64[N, M]' (with N = \(br).symbol('N'))")
        }
        if isBraidAttribute(ann, "compiletime") {
            throw Diagnostic(ann.loc, "compile-time parameters ('\(br).compiletime') are not supported; give the "
                + "parameter a type such as '\(br).int64' (its value is then read at each call) or make it a "
                + "module-level constant")
        }
        throw Diagnostic(ann.loc, "unsupported type annotation; write a dtype such as '\(br).float64' or an array type such as '\(br).float64[N, M]'")
    }

    /// Whether `e` is `<braid alias>.<group>.<name>` (e.g. `dc.StorageType.CPU_Heap`).
    private func isBraidPath(_ e: PyExpr, under group: String) -> Bool {
        guard case .attribute(let inner, _) = e.kind else { return false }
        return isBraidAttribute(inner, group)
    }

    /// A shape expression in an annotation: integers, symbols, + - * //.
    func symbolicShape(_ e: PyExpr) throws -> SymExpr {
        switch e.kind {
        case .constant(.int(let v)): return .int(v)
        case .name(let n):
            if symbols.contains(n) { return .sym(n) }
            if case .int(let v)? = constants[n] { return .int(v) }
            if let problem = constantProblems[n] { throw problem }
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
        case "bool", "bool_", "?", "b1": return .bool
        case "float", "double", "d", "f8": return .float64
        case "single", "f", "f4": return .float32
        case "int", "intp", "int_", "long", "longlong", "l", "q", "p", "i8": return .int64
        case "intc", "i", "i4": return .int32
        case "short", "h", "i2": return .int16
        case "byte", "b", "i1": return .int8
        case "uint", "uintp", "ulong", "ulonglong", "L", "Q", "P", "u8": return .uint64
        case "uintc", "I", "u4": return .uint32
        case "ushort", "H", "u2": return .uint16
        case "ubyte", "B", "u1": return .uint8
        case "complex", "cdouble", "D", "c16": return .complex128
        case "csingle", "F", "c8": return .complex64
        default:
            // Native or little-endian byte order, as NumPy spells it in dtype strings: '<f8', '=i4', '|b1'.
            if name.count > 1, let first = name.first, "<=|".contains(first) { return lookup(String(name.dropFirst())) }
            return DType(rawValue: name)
        }
    }
}

/// `#pythran export` signatures: `name(float64[:,:], int, float32[:])`. Array types are
/// written `T[:,:]` or, in Pythran's older spelling, `T[][]`; a last dimension `::1` (C
/// contiguous) is accepted, since compiled modules require C-contiguous arrays anyway.
/// One comment may export several functions: `#pythran export f(int), g(float64[:])`.
enum ExportSignature {
    enum ArgType {
        case scalar(DType, weak: Bool)
        case array(DType, rank: Int)
    }

    /// The signatures of one export comment (or `--signature` value), each with the location
    /// of its name. `loc` is where `text` starts; `exact` says whether columns inside `text`
    /// are columns of the file (false for command-line signatures, reported at `loc`).
    /// `continuations` are the offsets in `text` where a continuation comment line starts (a
    /// signature spread over several `#` lines), with that text's location in the file.
    static func parseAll(_ text: String, loc: SourceLocation, exact: Bool = true,
                         continuations: [(offset: Int, loc: SourceLocation)] = []) throws -> [(String, [ArgType], SourceLocation)] {
        var result: [(String, [ArgType], SourceLocation)] = []
        var depth = 0
        var start = 0
        let chars = Array(text) + [","]  // a final separator ends the last signature
        func at(_ offset: Int) -> SourceLocation {
            guard exact else { return loc }
            if let c = continuations.last(where: { $0.offset <= offset }) {
                return SourceLocation(file: c.loc.file, line: c.loc.line, column: c.loc.column + offset - c.offset)
            }
            return SourceLocation(file: loc.file, line: loc.line, column: loc.column + offset)
        }
        for (i, ch) in chars.enumerated() {
            if ch == "(" || ch == "[" { depth += 1 }
            if ch == ")" || ch == "]" { depth -= 1 }
            guard ch == ",", depth == 0 else { continue }
            let piece = String(chars[start..<i])
            let lead = piece.prefix { $0 == " " || $0 == "\t" }.count
            if !piece.trimmingCharacters(in: .whitespaces).isEmpty {
                let pieceStart = start + lead
                let (name, types, optional) = try parseSignature(String(piece.dropFirst(lead)), loc: at(pieceStart)) {
                    at(pieceStart + $0)
                }
                // `f(int, float?)`: Pythran exports f(int) and f(int, float).
                for omitted in stride(from: optional, through: 0, by: -1) {
                    result.append((name, Array(types.dropLast(omitted)), at(pieceStart)))
                }
            }
            start = i + 1
        }
        if start < chars.count {  // unbalanced brackets: the last signature never ended
            throw Diagnostic(at(0), "malformed export signature '\(text.trimmingCharacters(in: .whitespaces))'; write name(float64[:,:], int)")
        }
        return result
    }

    /// One signature `name(types)`.
    static func parse(_ text: String, loc: SourceLocation, exact: Bool = true) throws -> (String, [ArgType]) {
        let (name, types, optional) = try parseSignature(text, loc: loc) {
            exact ? SourceLocation(file: loc.file, line: loc.line, column: loc.column + $0) : loc
        }
        guard optional == 0 else { throw Diagnostic(loc, "optional parameter types ('T?') need parseAll") }
        return (name, types)
    }

    /// One signature, with the number of its trailing optional parameters (`float?`); `at`
    /// locates an offset in `text`.
    private static func parseSignature(_ text: String, loc: SourceLocation,
                                       at: (Int) -> SourceLocation) throws -> (String, [ArgType], optional: Int) {
        let s = text.trimmingCharacters(in: .whitespaces)
        guard let open = s.firstIndex(of: "("), s.hasSuffix(")") else {
            throw Diagnostic(loc, "malformed export signature '\(s)'; write name(float64[:,:], int)")
        }
        let name = s[..<open].trimmingCharacters(in: .whitespaces)
        guard !name.isEmpty, name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }) else {
            throw Diagnostic(loc, "malformed export signature '\(s)'; write name(float64[:,:], int)")
        }
        let innerStart = s.distance(from: s.startIndex, to: open) + 1
        let inner = Array(s[s.index(after: open)..<s.index(before: s.endIndex)])
        var args: [ArgType] = []
        var depth = 0
        var parts: [(text: String, offset: Int)] = []
        var current = ""
        var currentStart = 0
        for (i, ch) in inner.enumerated() {
            if ch == "[" || ch == "(" { depth += 1 }
            if ch == "]" || ch == ")" { depth -= 1 }
            if ch == "," && depth == 0 {
                parts.append((current, currentStart))
                current = ""
                currentStart = i + 1
            } else {
                current.append(ch)
            }
        }
        if !current.trimmingCharacters(in: .whitespaces).isEmpty || !parts.isEmpty { parts.append((current, currentStart)) }
        var optional = 0
        for (p, offset) in parts {
            let lead = p.prefix { $0 == " " || $0 == "\t" }.count
            let here = at(innerStart + offset + lead)
            var t = p.trimmingCharacters(in: .whitespaces)
            if t.hasSuffix("?") {
                t = String(t.dropLast()).trimmingCharacters(in: .whitespaces)
                optional += 1
            } else if optional > 0 {
                throw Diagnostic(here, "'\(t)' follows an optional parameter ('T?'); only the last parameters may be optional")
            }
            args.append(try argType(t, loc: here))
        }
        return (name, args, optional)
    }

    private static func argType(_ t: String, loc: SourceLocation) throws -> ArgType {
        let words = t.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "[" || $0 == "]" || $0 == "(" || $0 == ")" })
        if words.contains("or") {
            throw Diagnostic(loc, "alternative types ('\(t)') are not supported in export signatures; export one type per parameter")
        }
        if t.hasPrefix("(") {
            throw Diagnostic(loc, "tuple parameters ('\(t)') are not supported; export each element as its own parameter, e.g. f(float64[:,:], int, int)")
        }
        if ["str", "string"].contains(t) {
            throw Diagnostic(loc, "string parameters ('\(t)') are not supported; pass a number, e.g. an int that selects the mode")
        }
        for container in ["list", "set", "dict", "tuple"] where words.contains(Substring(container)) {
            throw Diagnostic(loc, "Python \(container) parameters ('\(t)') are not supported; pass a NumPy array, e.g. float64[:]")
        }
        var t = t
        if let order = t.range(of: "order", options: .backwards),
           case let spec = t[order.upperBound...].filter({ $0 != " " && $0 != "\t" }), spec.hasPrefix("(") {
            guard spec == "(C)" else {
                throw Diagnostic(loc, "'\(t)': Fortran-ordered arrays are not supported; compiled functions take C-contiguous arrays, e.g. float64[:,:]")
            }
            t = t[..<order.lowerBound].trimmingCharacters(in: .whitespaces)  // C order is what compiled functions take
        }
        guard let br = t.firstIndex(of: "[") else {
            guard !t.isEmpty, let d = DTypeNames.lookup(t) else {
                throw Diagnostic(loc, t.isEmpty ? "empty parameter type in export signature" : "unknown type '\(t)' in export signature")
            }
            return .scalar(d, weak: ["int", "float", "complex", "bool"].contains(t))
        }
        let base = t[..<br].trimmingCharacters(in: .whitespaces)
        guard let d = DTypeNames.lookup(base) else {
            throw Diagnostic(loc, "unknown element type '\(base)' in export signature")
        }
        let brackets = t[br...].filter { $0 != " " && $0 != "\t" }
        let unsupported = Diagnostic(loc, "unsupported array type '\(t)' in export signature; write e.g. \(base)[:,:] (or \(base)[][])")
        // `T[][]...`: one pair of brackets per dimension.
        if brackets.count >= 2, brackets.count % 2 == 0,
           stride(from: 0, to: brackets.count, by: 2).allSatisfy({ Array(brackets)[$0] == "[" && Array(brackets)[$0 + 1] == "]" }) {
            return .array(d, rank: brackets.count / 2)
        }
        // `T[:, :]`, with `::1` allowed as the last dimension.
        guard brackets.hasPrefix("["), brackets.hasSuffix("]"), brackets.dropFirst().dropLast().allSatisfy({ $0 != "[" && $0 != "]" }) else {
            throw unsupported
        }
        let dims = brackets.dropFirst().dropLast().split(separator: ",", omittingEmptySubsequences: false)
        for (k, dim) in dims.enumerated() {
            guard dim == ":" || (dim == "::1" && k == dims.count - 1) else {
                if dim == "::1" {
                    throw Diagnostic(loc, "'\(t)': only the last dimension may be '::1' (compiled functions take C-contiguous arrays); write e.g. \(base)[:,::1] or \(base)[:,:]")
                }
                throw unsupported
            }
        }
        return .array(d, rank: dims.count)
    }
}

// MARK: - Replacing reads of module-level names

extension PyStmt {
    /// This statement with reads of the names in `table` replaced by their expressions (in
    /// nested functions too, unless they bind the name themselves).
    func replacingNames(_ table: [String: PyExpr]) -> PyStmt {
        func e(_ x: PyExpr) -> PyExpr { x.replacingNames(table) }
        func block(_ ss: [PyStmt]) -> [PyStmt] { ss.map { $0.replacingNames(table) } }
        let k: PyStmtKind
        switch kind {
        case .functionDef(var f):
            let inner = table.filter { !f.localNames.contains($0.key) }
            f.defaults = f.defaults.map(e)
            f.body = f.body.map { $0.replacingNames(inner) }
            k = .functionDef(f)
        case .assign(let targets, let value): k = .assign(targets: targets.map(e), value: e(value))
        case .augAssign(let target, let op, let value): k = .augAssign(target: e(target), op: op, value: e(value))
        case .annAssign(let target, let annotation, let value): k = .annAssign(target: e(target), annotation: annotation, value: value.map(e))
        case .exprStmt(let x): k = .exprStmt(e(x))
        case .return(let x): k = .return(x.map(e))
        case .for(let target, let iter, let body, let orelse): k = .for(target: target, iter: e(iter), body: block(body), orelse: block(orelse))
        case .while(let test, let body, let orelse): k = .while(test: e(test), body: block(body), orelse: block(orelse))
        case .if(let test, let body, let orelse): k = .if(test: e(test), body: block(body), orelse: block(orelse))
        case .assert(let test, let msg): k = .assert(test: e(test), msg: msg.map(e))
        case .import, .importFrom, .pass, .break, .continue, .unsupported: k = kind
        }
        return PyStmt(k, loc)
    }
}

extension PyExpr {
    /// This expression with reads of the names in `table` replaced by their expressions. Store
    /// targets keep their names (a name assigned in a function is local there, and the caller
    /// filters those out), so only reads change.
    func replacingNames(_ table: [String: PyExpr]) -> PyExpr {
        func r(_ x: PyExpr) -> PyExpr { x.replacingNames(table) }
        let k: PyExprKind
        switch kind {
        case .name(let n):
            guard let replacement = table[n] else { return self }
            return PyExpr(replacement.kind, loc)
        case .constant, .unsupported: return self
        case .attribute(let base, let attr): k = .attribute(r(base), attr)
        case .subscript(let base, let index): k = .subscript(r(base), r(index))
        case .slice(let lower, let upper, let step): k = .slice(lower: lower.map(r), upper: upper.map(r), step: step.map(r))
        case .tuple(let es): k = .tuple(es.map(r))
        case .list(let es): k = .list(es.map(r))
        case .binOp(let a, let op, let b): k = .binOp(r(a), op, r(b))
        case .unaryOp(let op, let a): k = .unaryOp(op, r(a))
        case .boolOp(let op, let es): k = .boolOp(op, es.map(r))
        case .compare(let first, let ops, let rest): k = .compare(r(first), ops, rest.map(r))
        case .call(let fn, let args, let keywords):
            k = .call(r(fn), args: args.map(r), keywords: keywords.map { PyKeyword(arg: $0.arg, value: r($0.value)) })
        case .ifExp(let test, let body, let orelse): k = .ifExp(test: r(test), body: r(body), orelse: r(orelse))
        case .comprehension(let element, let target, let iter, let generator):
            var bound = Set<String>()
            target.collectNames(into: &bound)
            let inner = table.filter { !bound.contains($0.key) }
            k = .comprehension(element: element.replacingNames(inner), target: target, iter: r(iter), generator: generator)
        case .starred(let a): k = .starred(r(a))
        }
        return PyExpr(k, loc)
    }
}
