import Foundation
import BraidIR

/// Arguments of a call, after lowering, with Python's positional/keyword rules.
struct CallArgs {
    var positional: [Value]
    var keywords: [String: Value]
    var loc: SourceLocation
    var function: String

    /// The argument at `position` or named `name`; `nil` if absent.
    func get(_ position: Int, _ name: String) -> Value? {
        if position < positional.count { return positional[position] }
        return keywords[name]
    }

    func require(_ position: Int, _ name: String) throws -> Value {
        guard let v = get(position, name) else {
            throw Diagnostic(loc, "\(function)() missing required argument '\(name)'")
        }
        return v
    }

    /// The same arguments with a positional `out` (at `position`) moved to the `out` keyword.
    func withOut(position: Int) -> CallArgs {
        guard positional.count > position else { return self }
        var c = self
        c.keywords["out"] = positional[position]
        c.positional.removeLast(positional.count - position)
        return c
    }

    /// Rejects keywords outside `allowed` and too many positionals.
    func check(maxPositional: Int, allowed: Set<String>) throws {
        if positional.count > maxPositional {
            throw Diagnostic(loc, "\(function)() takes at most \(maxPositional) positional arguments here, \(positional.count) given")
        }
        for k in keywords.keys.sorted() where !allowed.contains(k) {
            throw Diagnostic(loc, "\(function)(): keyword argument '\(k)' is not supported")
        }
    }
}

extension FunctionLowerer {
    func call(_ fn: PyExpr, _ args: [PyExpr], _ kws: [PyKeyword], loc: SourceLocation) throws -> Value {
        // Methods on arrays: A.sum(), A.copy(), ...
        if case .attribute(let base, let attr) = fn.kind {
            let b = try lowerExpr(base)
            var isArray = false
            switch b {
            case .array, .masked: isArray = true
            default: break
            }
            if isArray {
                var a = try lowerArgs(args, kws, loc: loc, function: attr)
                a.positional.insert(b, at: 0)
                guard let entry = NumPyRegistry.methods[attr] else {
                    throw Diagnostic(fn.loc, "array method '.\(attr)()' is not supported; supported: \(NumPyRegistry.methods.keys.sorted().joined(separator: ", "))")
                }
                return try entry.lower(self, a)
            }
        }
        let callee = try lowerExpr(fn)
        switch callee {
        case .function(let name):
            return try inline(name, args, kws, loc: loc)
        case .module(let path):
            let a = try lowerArgs(args, kws, loc: loc, function: path.split(separator: ".").last.map(String.init) ?? path)
            if path == "braid.define_local" || path == "braid.ndarray" {
                // DaCe's define_local(shape, dtype) and dace.ndarray(shape, dtype): np.empty.
                guard let empty = NumPyRegistry.functions["empty"] else { throw Diagnostic(loc, "internal: empty") }
                return try empty.lower(self, a)
            }
            if path == "braid.define_local_scalar" {
                // A scalar of the dtype, assigned before use (0 until then, as under CPython).
                try a.check(maxPositional: 1, allowed: ["dtype"])
                guard case .dtype(let d)? = a.get(0, "dtype") else { throw Diagnostic(loc, "define_local_scalar() takes a dtype such as dace.float64") }
                return .scalar(cast(.symbol(.zero), d), weak: false)
            }
            if path.hasPrefix("math.") {
                return try mathCall(String(path.dropFirst("math.".count)), a)
            }
            if path.hasPrefix("builtins.") {
                return try builtin(String(path.dropFirst("builtins.".count)), a)
            }
            if path.hasPrefix("numpy.") {
                let name = String(path.dropFirst("numpy.".count))
                guard let entry = NumPyRegistry.functions[name] else {
                    throw Diagnostic(fn.loc, "NumPy function 'np.\(name)' is not supported yet; see `braid features` for the supported list")
                }
                return try entry.lower(self, a)
            }
            throw Diagnostic(fn.loc, "'\(path)' cannot be called in a compiled function")
        case .dtype(let d):
            // np.float64(x), br.int32(x)
            let a = try lowerArgs(args, kws, loc: loc, function: d.rawValue)
            let v = try a.require(0, "x")
            switch v {
            case .scalar(let x, _): return .scalar(cast(x, d), weak: false)
            case .array(let l): return .array(castLazy(l, d))
            default: throw Diagnostic(loc, "cannot convert a \(v.kindName) to \(d.rawValue)")
            }
        default:
            throw Diagnostic(fn.loc, "a \(callee.kindName) is not callable")
        }
    }

    func lowerArgs(_ args: [PyExpr], _ kws: [PyKeyword], loc: SourceLocation, function: String) throws -> CallArgs {
        var kw: [String: Value] = [:]
        for k in kws {
            guard let name = k.arg else { throw Diagnostic(k.value.loc, "'**' arguments are not supported") }
            kw[name] = Self.dtypeSpelling(try lowerExpr(k.value), string: name == "dtype")
        }
        let positional = try args.map { Self.dtypeSpelling(try lowerExpr($0), string: function == "astype") }
        return CallArgs(positional: positional, keywords: kw, loc: loc, function: function)
    }

    /// Python's types as dtypes, as NumPy reads them (`dtype=int` is int64, `float` float64,
    /// `bool`, `complex` complex128), and dtype names as strings where a dtype is expected
    /// (`dtype="float32"`, `x.astype("int32")`).
    static func dtypeSpelling(_ v: Value, string: Bool) -> Value {
        switch v {
        case .module(let m) where ["builtins.int", "builtins.float", "builtins.bool", "builtins.complex"].contains(m):
            return DTypeNames.lookup(String(m.dropFirst("builtins.".count))).map { .dtype($0) } ?? v
        case .string(let s) where string:
            return DTypeNames.lookup(s).map { .dtype($0) } ?? v
        default:
            return v
        }
    }

    func builtin(_ name: String, _ a: CallArgs) throws -> Value {
        switch name {
        case "len":
            let v = try a.require(0, "obj")
            switch v {
            case .array(let l):
                guard let first = l.shape.first else { throw Diagnostic(a.loc, "len() of a 0-d array") }
                return .scalar(.symbol(first), weak: true)
            case .tuple(let vs): return .scalar(.symbol(.int(vs.count)), weak: true)
            default: throw Diagnostic(a.loc, "len() needs an array or a tuple")
            }
        case "min", "max":
            try a.check(maxPositional: Int.max, allowed: [])
            guard a.positional.count >= 2 else {
                if a.positional.count == 1 { return try builtinExtreme(name == "max", a.positional[0], loc: a.loc) }
                throw Diagnostic(a.loc, "\(name)() needs two or more scalar arguments")
            }
            // Python keeps the first of equal values and compares with > (<): a NaN after
            // the first argument never wins, a NaN first always does.
            var acc = a.positional[0]
            for v in a.positional.dropFirst() {
                guard case .scalar = acc, case .scalar = v else {
                    throw Diagnostic(a.loc, "\(name)() of arrays is not elementwise; use np.\(name == "min" ? "minimum" : "maximum")")
                }
                if integerOrBoolType(acc) != nil && integerOrBoolType(v) != nil {
                    // No NaN and no signed zero: Python's choice is the plain extreme, which
                    // loop-to-map recognizes as a reduction.
                    acc = try arith(name == "min" ? .min : .max, acc, v, loc: a.loc)
                } else {
                    acc = try select(try arith(name == "min" ? .lt : .gt, v, acc, loc: a.loc), v, acc, loc: a.loc)
                }
            }
            return acc
        case "abs":
            return try intrinsic(.abs, [try a.require(0, "x")], loc: a.loc, numpyResult: false)
        case "pow":
            try a.check(maxPositional: 2, allowed: [])
            return try binaryOp(.pow, try a.require(0, "base"), try a.require(1, "exp"), loc: a.loc)
        case "round":
            try a.check(maxPositional: 2, allowed: ["ndigits"])
            guard case .scalar(let x, let weak) = try a.require(0, "number") else {
                throw Diagnostic(a.loc, "round() takes a number; for arrays use np.round")
            }
            if x.dtype.isComplex { throw Diagnostic(a.loc, "round() of a complex number raises TypeError in Python") }
            if let nd = a.get(1, "ndigits"), !isNone(nd) {
                // NumPy scalars round as np.round; Python floats use a decimal algorithm Braid does not reproduce.
                guard !weak || x.dtype.isInteger else {
                    throw Diagnostic(a.loc, "round(x, ndigits) of a Python float is not supported; use np.round(x, ndigits)")
                }
                return try roundDecimals(.scalar(x, weak: false), nd, loc: a.loc)
            }
            // round(x) is a Python int, halves to even (as C's rint in the default rounding mode).
            if x.dtype.isInteger || x.dtype.isBool { return .scalar(cast(x, .int64), weak: true) }
            try failUnless(.binary(.lt, .call(.abs, [cast(x, .float64)], .float64), .literal(.float(.infinity), .float64), .bool), loc: a.loc)
            return try scalarResult(.cast(.call(.rint, [cast(x, .float64)], .float64), .int64), .int64, loc: a.loc)
        case "float" where { if case .string? = a.get(0, "x") { return true } else { return false } }():
            // float('inf'), float('-inf'), float('nan'), float('1e3'): a Python float.
            guard case .string(let text)? = a.get(0, "x"), let d = Double(text.trimmingCharacters(in: .whitespaces).lowercased()
                .replacingOccurrences(of: "infinity", with: "inf")) else {
                throw Diagnostic(a.loc, "float() of this string raises ValueError in Python")
            }
            return .scalar(.literal(.float(d), .float64), weak: true)
        case "float", "int", "bool", "complex":
            let t: DType = name == "float" ? .float64 : name == "int" ? .int64 : name == "bool" ? .bool : .complex128
            guard case .scalar(let x, _) = try a.require(0, "x") else {
                throw Diagnostic(a.loc, "\(name)() needs a scalar")
            }
            if t == .int64 && x.dtype.isFloat {
                // Python's int() truncates toward zero, as C's cast does.
                return .scalar(.cast(x, .int64), weak: false)
            }
            if t == .bool { return .scalar(truth(x), weak: false) }
            return .scalar(cast(x, t), weak: false)
        case "sum":
            try a.check(maxPositional: 2, allowed: ["start"])
            return try builtinSum(try a.require(0, "iterable"), start: a.get(1, "start") ?? .scalar(.symbol(.zero), weak: true), loc: a.loc)
        case "print":
            throw Diagnostic(a.loc, "print() is not supported in compiled functions; return the values instead")
        case "range":
            throw Diagnostic(a.loc, "range() is only supported as the iterable of a for loop")
        default:
            throw Diagnostic(a.loc, "builtin '\(name)' is not supported")
        }
    }

    /// Builtin `sum(iterable, start=0)`: Python iterates over the first axis and adds in
    /// order, `start + x[0] + x[1] + ...`, with NumPy's typing of each `+` (an int8 array sums
    /// to int8, wrapping; float32 adds in float32). A 2-D array sums its rows: a 1-D result,
    /// as `np.sum(A, axis=0)` but in the operands' dtype.
    func builtinSum(_ v: Value, start: Value, loc: SourceLocation) throws -> Value {
        if case .scalar = v { throw Diagnostic(loc, "sum() needs an iterable (an array or a tuple), not a scalar") }
        // A tuple or list holding an array: Python adds its items in order (start + v0 + v1 ...).
        if case .tuple(let items) = v, items.contains(where: { if case .scalar = $0 { return false } else { return true } }) {
            return try items.reduce(start) { try arith(.add, $0, try compactedValue($1, loc: loc), loc: loc) }
        }
        let l = try lazy(v, loc: loc)
        guard let n = l.shape.first else {
            throw Diagnostic(loc, "sum() of a 0-d array: iterating over a 0-d array raises TypeError in Python; use np.sum")
        }
        guard case .scalar(let s0, let weakStart) = start else {
            throw Diagnostic(loc, "sum(): the start value must be a scalar here")
        }
        let (common, _) = Typing.common(l.dtype, weakA: false, s0.dtype, weakB: weakStart)
        try checkOperandKinds(.add, common, loc: loc)
        let (ot, t) = Typing.binary(.add, common)
        let rest = Array(l.shape.dropFirst())
        let out = rest.isEmpty ? nil : try newArray("sum", t, rest, loc: loc)
        if let out { markWritten(out.container) }
        var accName = ""
        try emitMap(rest, loc: loc) { idx in
            let acc = newScalar("acc", t)
            accName = acc
            emitTasklet(.point(acc, []), cast(s0, t), loc: loc)
            markWritten(acc)
            let k = fresh("k")
            let x = l.element(at: [.sym(k)] + idx)
            let add = ScalarExpr.binary(.add, cast(.load(.point(acc, []), t), ot), cast(x, ot), t)
            emit(.forLoop(ForLoop(variable: k, range: SymRange(.zero, n),
                                  body: [.tasklet(Tasklet(output: .point(acc, []), value: add, loc: loc))], loc: loc)))
            if let out { emitTasklet(out.memlet(at: idx), .load(.point(acc, []), t), loc: loc) }
        }
        if let out { return .array(Lazy(node: .view(out), shape: out.shape, dtype: t)) }
        return .scalar(.load(.point(accName, []), t), weak: false)
    }

    /// Builtin `max(x)`/`min(x)` of a 1-D array: Python's loop, `r = x[0]`, then `r = v` for
    /// each later `v > r` (`v < r`): the first of equal values, and NaN only when it comes
    /// first (unlike np.max). An empty array raises ValueError.
    func builtinExtreme(_ isMax: Bool, _ v: Value, loc: SourceLocation) throws -> Value {
        let name = isMax ? "max" : "min"
        if case .scalar = v { throw Diagnostic(loc, "\(name)() of one scalar: Python needs an iterable or two or more arguments") }
        let l = try lazy(v, loc: loc)
        guard l.shape.count == 1 else {
            throw Diagnostic(loc, l.shape.isEmpty
                ? "\(name)() of a 0-d array: iterating over a 0-d array raises TypeError in Python; use np.\(name)"
                : "\(name)() of a \(l.shape.count)-D array compares its rows with \(isMax ? ">" : "<"), which raises ValueError in Python (the truth value of an array is ambiguous); use np.\(name)(A) for all elements or np.\(name)(A, axis=0) for each column")
        }
        if l.dtype.isComplex { throw Diagnostic(loc, "\(name)() of complex numbers raises TypeError in Python") }
        let n = l.shape[0]
        try failIfEmpty(n, message: "\(name)() iterable argument is empty", loc: loc)
        let acc = newScalar(name, l.dtype)
        emitTasklet(.point(acc, []), l.element(at: [.zero]), loc: loc)
        markWritten(acc)
        let k = fresh("k")
        let x = l.element(at: [.sym(k)])
        let current = ScalarExpr.load(.point(acc, []), l.dtype)
        let better = ScalarExpr.binary(isMax ? .gt : .lt, x, current, .bool)
        emit(.forLoop(ForLoop(variable: k, range: SymRange(.one, n),
                              body: [.tasklet(Tasklet(output: .point(acc, []), value: .select(better, x, current, l.dtype), loc: loc))], loc: loc)))
        return .scalar(current, weak: false)
    }

    /// Inlines a helper function defined in the same file.
    func inline(_ name: String, _ args: [PyExpr], _ kws: [PyKeyword], loc: SourceLocation) throws -> Value {
        let local = localFunctions[name]
        guard let f = local?.def ?? ctx.functions[name] else { throw Diagnostic(loc, "unknown function '\(name)'") }
        if inlineStack.contains(name) || inlineStack.count > 16 {
            throw Diagnostic(loc, "recursive call to '\(name)' cannot be inlined; rewrite it as a loop")
        }
        let a = try lowerArgs(args, kws, loc: loc, function: name)
        var bound: [String: Value] = [:]
        let firstDefault = f.args.count - f.defaults.count
        for (k, p) in f.args.enumerated() {
            if let v = a.get(k, p.name) {
                bound[p.name] = v
            } else if k >= firstDefault {
                bound[p.name] = try lowerExpr(f.defaults[k - firstDefault])
            } else {
                throw Diagnostic(loc, "\(name)() missing required argument '\(p.name)'")
            }
        }
        if a.positional.count > f.args.count {
            throw Diagnostic(loc, "\(name)() takes \(f.args.count) arguments, \(a.positional.count) given")
        }
        for k in a.keywords.keys where !f.args.contains(where: { $0.name == k }) {
            throw Diagnostic(loc, "\(name)() got an unexpected keyword argument '\(k)'")
        }
        // A return is supported as the helper's last statement (possibly after loops/branches that don't return).
        var body = foldEarlyReturns(foldLoopReturns(f.body))
        var returnExpr: PyExpr? = nil
        var hasReturn = false
        if let last = body.last, case .return(let e) = last.kind {
            returnExpr = e
            hasReturn = true
            body.removeLast()
        }
        // `if ...: return a  else: return b` at the end: each branch assigns the result.
        var branchResult: String? = nil
        if !hasReturn, let last = body.last, case .if = last.kind, endsInReturn([last]), !containsReturn(Array(body.dropLast())),
           !returnsInLoops([last]) {
            branchResult = "__return_\(name)"
            body[body.count - 1] = rewriteReturns(last, into: branchResult!)
            returnExpr = PyExpr(.name(branchResult!), last.loc)
            hasReturn = true
        }
        if containsReturn(body) {
            throw Diagnostic(loc, "helper '\(name)' returns from inside a loop or from a branch that does not end the function; only a final 'return' (or a final if/else whose branches all return) can be inlined")
        }
        // A program called from another: its shape symbols take the sizes of the arguments.
        let savedBindings = symbolBindings
        let bindings = try programSymbolBindings(f, bound, loc: loc)
        let savedEnv = env, savedDepth = bindingDepth, savedPrefix = inlinePrefix, savedCounts = assignCounts
        assignCounts = Self.assignmentCounts(f)
        inlineStack.append(name)
        inlinePrefix = "\(name)_"
        env = [:]
        bindingDepth = [:]
        if let local {
            // The enclosing scope's names, as they are now when called from that scope; the
            // names the closure assigns (and its parameters) are its own locals.
            let own = Set(Self.assignmentCounts(f).keys)
            let scope = ([(savedPrefix, savedEnv, savedDepth)] + suspendedScopes.reversed()).first { $0.0 == local.prefix }
            let outer = scope?.1 ?? local.env
            let depths = scope?.2 ?? local.depth
            for (n, v) in outer where !own.contains(n) {
                env[n] = v
                if let d = depths[n] { bindingDepth[n] = d }
            }
        }
        // In parameter order: the generated code must not depend on dictionary order.
        for k in f.args.map(\.name) {
            guard let v = bound[k] else { continue }
            switch v {
            case .scalar(let x, let weak):
                // Parameters are local variables: copy so the helper may reassign them.
                let t = scalarVariableType(x.dtype, weak: weak)
                let c = newScalar(k, widened[inlinePrefix + k].map { DType.promote($0, t) } ?? t, named: true)
                if weak && !strongVariables.contains(inlinePrefix + k) { weakScalars.insert(c) }
                emitTasklet(.point(c, []), cast(x, container(c).dtype), loc: loc)
                env[k] = readScalarContainer(c)
            default:
                env[k] = v
            }
            bindingDepth[k] = loopDepth
        }
        suspendedScopes.append((savedPrefix, savedEnv, savedDepth))
        symbolBindings = bindings
        defer {
            symbolBindings = savedBindings
            suspendedScopes.removeLast()
            env = savedEnv
            bindingDepth = savedDepth
            inlinePrefix = savedPrefix
            inlineStack.removeLast()
            assignCounts = savedCounts
        }
        try lowerBlock(body)
        guard hasReturn, let returnExpr else { return .none }
        return try lowerExpr(returnExpr)
    }

    /// For a data-centric program inlined into another: each shape symbol of its array
    /// annotations that appears alone (or plus a constant) in a dimension is bound to that
    /// dimension of the argument; then every declared dimension must agree with the argument.
    /// Functions without program annotations bind nothing (their symbols stay the caller's).
    func programSymbolBindings(_ f: PyFunctionDef, _ bound: [String: Value], loc: SourceLocation) throws -> [String: SymExpr] {
        guard f.decorators.contains(where: { ctx.isProgramDecorator($0) }) else { return symbolBindings }
        var out: [String: SymExpr] = [:]
        var declared: [(String, [SymExpr], [SymExpr])] = []
        for p in f.args {
            guard let ann = p.annotation, let v = bound[p.name], case .array(_, let dims)? = try? ctx.parseAnnotation(ann) else { continue }
            let actual: [SymExpr]
            switch v {
            case .array(let l): actual = l.shape
            case .masked(let x, let m): actual = try compacted(x, mask: m, loc: loc).shape
            default: throw Diagnostic(loc, "'\(f.name)' declares '\(p.name)' as an array; pass an array")
            }
            guard actual.count == dims.count else {
                throw Diagnostic(loc, "'\(f.name)' declares '\(p.name)' with \(dims.count) dimensions; the argument has \(actual.count)")
            }
            // The caller's own bindings apply to the sizes it passes (already in its terms).
            declared.append((p.name, dims, actual))
            for (d, a) in zip(dims, actual) {
                let free = d.freeSymbols.filter { ctx.symbols.contains($0) && out[$0] == nil }
                guard free.count == 1, let (c, rest) = d.substituting(out).linear(in: free[0]), c == 1 || c == -1 else { continue }
                out[free[0]] = c == 1 ? a - rest : rest - a
            }
        }
        for (_, dims, actual) in declared {
            for (d, a) in zip(dims, actual) {
                let e = d.substituting(out)
                // Symbols the arguments do not determine stay the caller's.
                _ = try agree(e, a, loc: loc, broadcasting: false)
            }
        }
        return out
    }

    /// A loop of a helper that returns from inside its body (not from a loop nested in it):
    /// each `return v` there becomes `$ret = v; $found = True; break`, and the loop is followed
    /// by `if $found: return $ret` (then folded with the statements after it).
    func foldLoopReturns(_ stmts: [PyStmt]) -> [PyStmt] {
        var out: [PyStmt] = []
        for s in stmts {
            let body: [PyStmt]
            switch s.kind {
            case .for(_, _, let b, let o) where o.isEmpty: body = b
            case .while(_, let b, let o) where o.isEmpty: body = b
            case .if(let t, let b, let o):
                out.append(PyStmt(.if(test: t, body: foldLoopReturns(b), orelse: foldLoopReturns(o)), s.loc))
                continue
            default:
                out.append(s)
                continue
            }
            guard containsReturn(body), !returnsInLoops(body) else { out.append(s); continue }
            argumentCounter += 1
            let found = PyExpr(.name("$found\(argumentCounter)"), s.loc), value = PyExpr(.name("$ret\(argumentCounter)"), s.loc)
            func rewrite(_ stmts: [PyStmt]) -> [PyStmt] {
                stmts.flatMap { t -> [PyStmt] in
                    switch t.kind {
                    case .return(let v):
                        return [PyStmt(.assign(targets: [value], value: v ?? PyExpr(.constant(.none), t.loc)), t.loc),
                                PyStmt(.assign(targets: [found], value: PyExpr(.constant(.bool(true)), t.loc)), t.loc),
                                PyStmt(.break, t.loc)]
                    case .if(let c, let b, let o): return [PyStmt(.if(test: c, body: rewrite(b), orelse: rewrite(o)), t.loc)]
                    default: return [t]
                    }
                }
            }
            let loop: PyStmt
            switch s.kind {
            case .for(let target, let iter, _, _): loop = PyStmt(.for(target: target, iter: iter, body: rewrite(body), orelse: []), s.loc)
            case .while(let test, _, _): loop = PyStmt(.while(test: test, body: rewrite(body), orelse: []), s.loc)
            default: loop = s
            }
            out.append(PyStmt(.assign(targets: [found], value: PyExpr(.constant(.bool(false)), s.loc)), s.loc))
            out.append(loop)
            out.append(PyStmt(.if(test: found, body: [PyStmt(.return(value), s.loc)], orelse: []), s.loc))
        }
        return out
    }

    /// `if c: ... return a` followed by more statements (an early return) becomes
    /// `if c: ... return a  else: <the statements after>`, so every return is final.
    func foldEarlyReturns(_ stmts: [PyStmt]) -> [PyStmt] {
        for (k, s) in stmts.enumerated() {
            guard case .if(let test, let body, let orelse) = s.kind, k < stmts.count - 1, !returnsInLoops([s]) else { continue }
            let bodyEnds = endsInReturn(foldEarlyReturns(body)), elseEnds = endsInReturn(foldEarlyReturns(orelse))
            guard bodyEnds || elseEnds else { continue }
            let rest = Array(stmts[(k + 1)...])
            let newBody = foldEarlyReturns(bodyEnds ? body : body + rest)
            let newElse = foldEarlyReturns(elseEnds ? orelse : orelse + rest)
            return Array(stmts[..<k]) + [PyStmt(.if(test: test, body: newBody, orelse: newElse), s.loc)]
        }
        return stmts
    }

    /// Whether every path through the statements ends in `return`.
    func endsInReturn(_ stmts: [PyStmt]) -> Bool {
        guard let last = stmts.last else { return false }
        switch last.kind {
        case .return: return true
        case .if(_, let b, let o): return endsInReturn(b) && endsInReturn(o)
        default: return false
        }
    }

    func returnsInLoops(_ stmts: [PyStmt]) -> Bool {
        stmts.contains { s in
            switch s.kind {
            case .for(_, _, let b, let o), .while(_, let b, let o): return containsReturn(b) || containsReturn(o)
            case .if(_, let b, let o): return returnsInLoops(b) || returnsInLoops(o)
            default: return false
            }
        }
    }

    /// Turns each final `return v` of an if/else tree into `name = v`.
    func rewriteReturns(_ s: PyStmt, into name: String) -> PyStmt {
        switch s.kind {
        case .return(let v):
            return PyStmt(.assign(targets: [PyExpr(.name(name), s.loc)], value: v ?? PyExpr(.constant(.none), s.loc)), s.loc)
        case .if(let t, let b, let o):
            return PyStmt(.if(test: t, body: b.dropLast() + [rewriteReturns(b.last!, into: name)],
                              orelse: o.dropLast() + [rewriteReturns(o.last!, into: name)]), s.loc)
        default:
            return s
        }
    }

    func containsReturn(_ stmts: [PyStmt]) -> Bool {
        stmts.contains { s in
            switch s.kind {
            case .return: return true
            case .for(_, _, let b, let o), .while(_, let b, let o), .if(_, let b, let o):
                return containsReturn(b) || containsReturn(o)
            default: return false
            }
        }
    }
}
