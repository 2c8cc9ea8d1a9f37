import BraidIR

extension FunctionLowerer {
    func cast(_ e: ScalarExpr, _ t: DType) -> ScalarExpr {
        if e.dtype == t { return e }
        if case .literal(let l, _) = e {
            switch (l, t) {
            case (.float(let v), _) where t.isFloat: return .literal(.float(v), t)
            case (.int(let v), _) where t.isInteger: return .literal(.int(v), t)
            default: break
            }
        }
        if case .symbol(.int(let v)) = e {
            if t.isFloat { return .literal(.float(Double(v)), t) }
            if t.isInteger { return .literal(.int(v), t) }
            if t.isBool { return .literal(.bool(v != 0), t) }
        }
        return .cast(e, t)
    }

    func lowerExpr(_ e: PyExpr) throws -> Value {
        switch e.kind {
        case .name(let n):
            return try lookupName(n, loc: e.loc)
        case .constant(let c):
            return try constant(c, loc: e.loc)
        case .attribute(let base, let attr):
            return try attribute(try lowerExpr(base), attr, loc: e.loc)
        case .subscript(let base, let index):
            let b = try lowerExpr(base)
            switch b {
            case .module(let m) where m == "numpy.mgrid" || m == "numpy.ogrid":
                return try indexGrid(index, sparse: m == "numpy.ogrid")
            case .module(let m) where m == "numpy.r_" || m == "numpy.c_":
                return try indexConcatenate(index, columns: m == "numpy.c_")
            case .array(let l):
                let view = try l.asView ?? materializeNew(l, hint: "tmp", loc: base.loc).asView!
                return try self.index(view, index)
            case .masked(let x, let m):
                let view = try compacted(x, mask: m, loc: base.loc).asView!
                return try self.index(view, index)
            case .tuple(let vs):
                if case .slice(let lo, let hi, let st) = index.kind {
                    // A slice of a tuple (A.shape[1:], A.shape[::-1]) with constant bounds, as Python's.
                    func constant(_ x: PyExpr?) throws -> Int? {
                        guard let x else { return nil }
                        guard case .scalar(.symbol(.int(let k)), _) = try lowerExpr(x) else {
                            throw Diagnostic(x.loc, "a tuple is sliced with integer constants here")
                        }
                        return k
                    }
                    let step = try constant(st) ?? 1
                    guard step != 0 else { throw Diagnostic(index.loc, "slice step cannot be zero") }
                    let n = vs.count
                    func clamp(_ k: Int?, _ dflt: Int) -> Int {
                        guard var k else { return dflt }
                        if k < 0 { k += n }
                        return step > 0 ? min(max(k, 0), n) : min(max(k, -1), n - 1)
                    }
                    let start = clamp(try constant(lo), step > 0 ? 0 : n - 1), stop = clamp(try constant(hi), step > 0 ? n : -1)
                    return .tuple(Array(stride(from: start, to: stop, by: step)).map { vs[$0] })
                }
                guard case .scalar(.symbol(.int(let k)), _) = try lowerExpr(index), (-vs.count..<vs.count).contains(k) else {
                    throw Diagnostic(index.loc, "tuples can only be indexed by an integer constant in range")
                }
                return vs[k < 0 ? k + vs.count : k]
            default:
                throw Diagnostic(e.loc, "cannot index a \(b.kindName)")
            }
        case .tuple(let es), .list(let es):
            return .tuple(try es.map { try lowerExpr($0) })
        case .binOp(let a, let op, let b):
            var x = try lowerExpr(a), y = try lowerExpr(b)
            // Python sequences (tuples such as shapes, and lists): + joins, * by an int repeats.
            switch (x, y) {
            case (.tuple(let p), .tuple(let q)):
                guard op == .add else { throw Diagnostic(e.loc, "tuples and lists support only + here (Python raises TypeError otherwise); for elementwise arithmetic use np.array(...)") }
                return .tuple(p + q)
            case (.tuple(let p), .scalar(let k, _)), (.scalar(let k, _), .tuple(let p)):
                guard op == .mult, case .symbol(.int(let n)) = k else {
                    throw Diagnostic(e.loc, "arithmetic between a tuple or list and a number is not elementwise in Python (it raises TypeError, or repeats with * and an integer constant); use np.array(...)")
                }
                return .tuple(Array([[Value]](repeating: p, count: max(n, 0)).joined()))
            default: break
            }
            // x[mask] with an array (not the same mask's selection): the selection is a new array.
            switch (x, y) {
            case (.masked, .scalar), (.scalar, .masked): break
            case (.masked(_, let m), .masked(_, let n)) where m == n: break
            default:
                x = try compactedValue(x, loc: a.loc)
                y = try compactedValue(y, loc: b.loc)
            }
            return try binaryOp(op, x, y, loc: e.loc)
        case .unaryOp(let op, let a):
            return try unaryOp(op, try lowerExpr(a), loc: e.loc)
        case .boolOp(let op, let vs):
            var acc = try scalarOperand(vs[0])
            for v in vs.dropFirst() {
                // Python evaluates the operand only when the ones before leave the result open:
                // index checks inside it apply only then (`i < n and x[i] > 0`).
                indexGuards.append(op == .and ? truth(acc) : .unary(.not, truth(acc), .bool))
                defer { indexGuards.removeLast() }
                let x = try scalarOperand(v)
                acc = .binary(op == .and ? .and : .or, truth(acc), truth(x), .bool)
            }
            return .scalar(acc, weak: false)
        case .compare(let first, let ops, let rest):
            var left = try lowerExpr(first)
            var result: Value? = nil
            for (op, r) in zip(ops, rest) {
                let right = try lowerExpr(r)
                // Tuples (shapes) compare as Python tuples: one bool, equal lengths and items.
                if case .tuple(let p) = left, case .tuple(let q) = right {
                    guard op == .eq || op == .notEq else {
                        throw Diagnostic(e.loc, "tuples are compared with == and != here; compare their items for ordering")
                    }
                    var equal: Value = .scalar(.literal(.bool(p.count == q.count), .bool), weak: false)
                    if p.count == q.count {
                        for (x, y) in zip(p, q) {
                            guard case .scalar = x, case .scalar = y else {
                                throw Diagnostic(e.loc, "tuples of arrays cannot be compared with ==; compare the arrays with np.array_equal")
                            }
                            equal = try arith(.and, equal, try arith(.eq, x, y, loc: e.loc), loc: e.loc)
                        }
                    }
                    let c = op == .eq ? equal : try unaryOp(.not, equal, loc: e.loc)
                    result = try result.map { try arith(.and, $0, c, loc: e.loc) } ?? c
                    left = right
                    continue
                }
                // x.dtype == np.float32: dtypes are known here, so the comparison is a constant.
                if case .dtype(let p) = left, case .dtype(let q) = right, op == .eq || op == .notEq {
                    let c = Value.scalar(.literal(.bool((p == q) == (op == .eq)), .bool), weak: false)
                    result = try result.map { try arith(.and, $0, c, loc: e.loc) } ?? c
                    left = right
                    continue
                }
                let bop: BinaryOp
                switch op {
                case .eq: bop = .eq
                case .notEq: bop = .ne
                case .lt: bop = .lt
                case .ltE: bop = .le
                case .gt: bop = .gt
                case .gtE: bop = .ge
                default: throw Diagnostic(e.loc, "comparison '\(op.rawValue)' is not supported; use ==, !=, <, <=, >, >=")
                }
                let c = try arith(bop, left, right, loc: e.loc)
                if let prev = result {
                    result = try arith(.and, prev, c, loc: e.loc)
                } else {
                    result = c
                }
                left = right
            }
            return result!
        case .call(let fn, let args, let kws):
            // The callee's base (when a subscript) and the arguments are lowered once, here, so that a
            // selection (x[mask], x[mask] * 2) becomes a new array where the function needs one.
            // z.conj(), z.conjugate() on an array or a scalar: np.conj.
            if case .attribute(let base, let attr) = fn.kind, attr == "conj" || attr == "conjugate", args.isEmpty, kws.isEmpty {
                let b = try compactedValue(try lowerExpr(base), loc: base.loc)
                switch b {
                case .array, .scalar: return try complexPart(b, "conj", loc: e.loc)
                default: throw Diagnostic(e.loc, "a \(b.kindName) has no method '.\(attr)()'")
                }
            }
            var names: [String] = []
            defer { for n in names { env[n] = nil } }
            let keep = Self.selectionAwareCalls.contains({
                switch fn.kind {
                case .attribute(_, let a): return a
                case .name(let n): return n
                default: return ""
                }
            }())
            func early(_ x: PyExpr, onlySubscripts: Bool = false) throws -> PyExpr {
                if case .subscript = x.kind {} else if onlySubscripts { return x }
                var v = try lowerExpr(x)
                if case .masked = v, !keep { v = try compactedValue(v, loc: x.loc) }
                argumentCounter += 1
                let name = "$arg\(argumentCounter)"
                env[name] = v
                names.append(name)
                return PyExpr(.name(name), x.loc)
            }
            var callee = fn
            if case .attribute(let base, let attr) = fn.kind {
                callee = PyExpr(.attribute(try early(base, onlySubscripts: true), attr), fn.loc)
            }
            let savedUse = comprehensionUse
            comprehensionUse = comprehensionConsumer(fn)
            let positional = try args.map { try early($0) }
            comprehensionUse = .none
            let keywords = try kws.map { PyKeyword(arg: $0.arg, value: try early($0.value)) }
            comprehensionUse = savedUse
            return try call(callee, positional, keywords, loc: e.loc)
        case .ifExp(let test, let body, let orelse):
            let c = try condition(test)
            // Index checks inside each branch apply only when Python would evaluate it.
            indexGuards.append(c)
            let a = try lowerExpr(body)
            indexGuards[indexGuards.count - 1] = .unary(.not, c, .bool)
            defer { indexGuards.removeLast() }
            let b = try lowerExpr(orelse)
            return try select(.scalar(c, weak: false), a, b, loc: e.loc)
        case .slice:
            throw Diagnostic(e.loc, "a slice is only valid inside [...]")
        case .starred:
            throw Diagnostic(e.loc, "'*' unpacking is not supported; pass arguments one by one")
        case .comprehension(let element, let target, let iter, let generator):
            let use = comprehensionUse
            comprehensionUse = .none
            defer { comprehensionUse = use }
            guard use == .generator || (use == .list && !generator) else {
                throw Diagnostic(e.loc, generator
                    ? "unsupported expression 'GeneratorExp' here: a generator expression is supported as the argument of sum(), min() or max(); elsewhere build the array with np.array([...]) or an explicit loop"
                    : "a list comprehension is supported as the argument of np.array(...), np.asarray(...), sum(), min(), max() and NumPy reductions (np.sum([...])); elsewhere write np.array([...]) or an explicit loop")
            }
            return try comprehension(element, target, iter, loc: e.loc)
        case .unsupported(let kind):
            throw Diagnostic(e.loc, "unsupported expression '\(kind)'; \(kind.hasSuffix("Comp") ? "write an explicit loop or a NumPy array expression" : "rewrite it with NumPy operations")")
        }
    }

    /// Whether the arguments of a call to `fn` may be comprehensions (see `ComprehensionUse`).
    func comprehensionConsumer(_ fn: PyExpr) -> ComprehensionUse {
        switch fn.kind {
        case .name(let n) where env[n] == nil && ctx.functions[n] == nil:
            if ["sum", "min", "max"].contains(n) { return .generator }
            if n == "len" { return .list }
            return .none
        case .attribute(let base, let attr):
            guard case .name(let m) = base.kind, env[m] == nil, ctx.numpyAliases.contains(m) else { return .none }
            return ["array", "asarray", "sum", "prod", "mean", "max", "min", "amax", "amin", "std", "var", "median",
                    "any", "all"].contains(attr) ? .list : .none
        default:
            return .none
        }
    }

    /// `[element for target in iter]` as a new array (its values stacked: arrays give a
    /// dimension in front), evaluated by a loop; the target is local to it. A tuple or list
    /// of values to iterate is unrolled into a tuple instead.
    func comprehension(_ element: PyExpr, _ target: PyExpr, _ iter: PyExpr, loc: SourceLocation) throws -> Value {
        let savedEnv = env
        defer { env = savedEnv }
        var values: [Value] = []
        guard let (length, elementAt) = try iteration(iter, values: &values) else {
            return .tuple(try values.map { v in
                try assign(target, v, loc: target.loc)
                return try compactedValue(try lowerExpr(element), loc: element.loc)
            })
        }
        if dependsOnData(length) {
            throw Diagnostic(iter.loc, "a comprehension whose length depends on data is not supported; fill an array made with np.empty in a loop")
        }
        argumentCounter += 1
        let position = "$pos\(argumentCounter)", result = "$elt\(argumentCounter)"
        let p = unique("i")
        let range = SymRange(.zero, length)
        loopRanges[p] = range
        env[position] = .scalar(.symbol(.sym(p)), weak: false)
        loopDepth += 1
        var body = try lowerLoopBody([
            PyStmt(.assign(targets: [target], value: elementAt(PyExpr(.name(position), target.loc))), target.loc),
            PyStmt(.assign(targets: [PyExpr(.name(result), element.loc)], value: element), element.loc),
        ])
        let value = env[result]
        loopDepth -= 1
        let out: ArrayView
        switch value {
        case .scalar(let x, let weak)?:
            let t = scalarVariableType(x.dtype, weak: weak)
            out = try newArray("list", t, [length], loc: loc)
            markWritten(out.container)
            body.append(.tasklet(Tasklet(output: out.memlet(at: [.sym(p)]), value: cast(x, t), loc: loc)))
        case .array(let l)?:
            if l.shape.contains(where: { $0.freeSymbols.contains(p) || dependsOnData($0) }) {
                throw Diagnostic(element.loc, "the elements of this comprehension have different shapes; NumPy cannot stack them into an array")
            }
            out = try newArray("list", l.dtype, [length] + l.shape, loc: loc)
            let row = out.reindexed(shape: l.shape, [.sym(p)] + ArrayView.placeholders(l.shape.count))
            body += try nested { try store(.array(l), into: row, loc: loc) }
        default:
            throw Diagnostic(element.loc, "comprehension elements must be numbers or arrays, not a \(value?.kindName ?? "value")")
        }
        emit(.forLoop(ForLoop(variable: p, range: range, body: body, loc: loc)))
        return .array(Lazy(node: .view(out), shape: out.shape, dtype: out.dtype))
    }

    /// Functions and methods that take x[mask] as it is (reductions over the selected
    /// elements, no new array); every other call gets the selection as a new array.
    static let selectionAwareCalls: Set<String> = ["sum", "mean", "max", "min", "amax", "amin", "prod", "any", "all",
                                                   "count_nonzero", "abs", "absolute"]

    /// A Python literal: a weak scalar (NEP 50), or a string/None.
    func constant(_ c: PyConstant, loc: SourceLocation) throws -> Value {
        switch c {
        case .int(let v): return .scalar(.symbol(.int(v)), weak: true)
        case .float(let v): return .scalar(.literal(.float(v), .float64), weak: true)
        case .bool(let b): return .scalar(.literal(.bool(b), .bool), weak: true)
        case .complex(let r, let i): return .scalar(.literal(.complex(r, i), .complex128), weak: true)
        case .string(let s): return .string(s)
        case .none: return .none
        case .ellipsis: throw Diagnostic(loc, "'...' is only supported as A[...]")
        }
    }

    func scalarOperand(_ e: PyExpr) throws -> ScalarExpr {
        guard case .scalar(let x, _) = try lowerExpr(e) else {
            throw Diagnostic(e.loc, "'and'/'or' work on scalars; for arrays use np.logical_and / & ")
        }
        return x
    }

    func lookupName(_ n: String, loc: SourceLocation) throws -> Value {
        if let v = env[n] { return v }
        if let (other, at) = splitAliases[n] {
            throw Diagnostic(loc, "'\(n)' is the same array as '\(other)' after the loop that binds '\(other) = \(n)' at line \(at.line), which Braid compiles as a copy; bind '\(other) = \(n).copy()' in the loop, or do not use '\(n)' after the loop body")
        }
        if let (other, at) = staleNames[n] {
            throw Diagnostic(loc, "'\(n)' refers to the array '\(other)' had before it was rebound at line \(at.line); Braid reuses that array's storage, so bind '\(n)' to a copy (\(n) = \(other).copy()) if it is needed afterwards")
        }
        // Sizes are Python ints under CPython (a symbol is bound to one), so they are weak:
        // x / N of a float32 array stays float32, k + N of an int32 array int32.
        if let bound = symbolBindings[n] { return .scalar(.symbol(bound), weak: true) }
        if ctx.symbols.contains(n) {
            if !symbols.contains(n) { symbols.append(n) }
            return .scalar(.symbol(.sym(n)), weak: true)
        }
        if let c = ctx.constants[n] { return try constant(c, loc: loc) }
        if ctx.functions[n] != nil { return .function(n) }
        if ctx.numpyAliases.contains(n) { return .module("numpy") }
        if ctx.braidAliases.contains(n) { return .module("braid") }
        if ctx.mathAliases.contains(n) { return .module("math") }
        if let imp = ctx.fromImports[n], imp.module == "math" { return mathAttribute(imp.name) }
        if let imp = ctx.fromImports[n] {
            if imp.module == "braid" && imp.name == "map" { return .mapRange }
            if let d = DTypeNames.lookup(imp.name) { return .dtype(d) }
            return .module("\(imp.module).\(imp.name)")
        }
        if Builtins.names.contains(n) { return .module("builtins.\(n)") }
        throw Diagnostic(loc, "name '\(n)' is not defined in the compiled function (module-level variables must be symbols or constants)")
    }

    func attribute(_ base: Value, _ attr: String, loc: SourceLocation) throws -> Value {
        switch base {
        case .module(let m):
            if m == "braid" {
                if attr == "map" { return .mapRange }
                if let d = DTypeNames.lookup(attr) { return .dtype(d) }
                return .module("braid.\(attr)")
            }
            if m == "math" { return mathAttribute(attr) }
            if m == "numpy" {
                switch attr {
                case "pi": return .scalar(.literal(.float(Double.pi), .float64), weak: true)
                case "e": return .scalar(.literal(.float(2.718281828459045), .float64), weak: true)
                case "inf", "Inf": return .scalar(.literal(.float(Double.infinity), .float64), weak: true)
                case "nan", "NaN": return .scalar(.literal(.float(Double.nan), .float64), weak: true)
                case "newaxis": return .none
                default: break
                }
                if let d = DTypeNames.lookup(attr), attr != "int", attr != "float", attr != "complex", attr != "bool" {
                    return .dtype(d)
                }
            }
            return .module("\(m).\(attr)")
        case .masked(let x, let m) where ["shape", "ndim", "size", "T"].contains(attr):
            return try attribute(.array(try compacted(x, mask: m, loc: loc)), attr, loc: loc)
        case .array(let l):
            switch attr {
            // Python ints in NumPy: weak in arithmetic with arrays.
            case "shape": return .tuple(l.shape.map { .scalar(.symbol($0), weak: true) })
            case "ndim": return .scalar(.symbol(.int(l.shape.count)), weak: true)
            case "size": return .scalar(.symbol(l.shape.reduce(SymExpr.one, *)), weak: true)
            case "dtype": return .dtype(l.dtype)
            case "T": return try transpose(base, axes: nil, loc: loc)
            case "real", "imag": return try complexPart(base, attr, loc: loc)
            default:
                return .module("array.\(attr)")  // a method, resolved when called
            }
        case .masked(let x, let m) where attr == "real" || attr == "imag":
            return try complexPart(.array(try compacted(x, mask: m, loc: loc)), attr, loc: loc)
        case .scalar where attr == "real" || attr == "imag":
            return try complexPart(base, attr, loc: loc)
        default:
            throw Diagnostic(loc, "a \(base.kindName) has no attribute '\(attr)' that Braid supports")
        }
    }

    /// `z.real`, `z.imag`, `z.conj()` of an array or a scalar: np.real, np.imag, np.conj.
    func complexPart(_ base: Value, _ attr: String, loc: SourceLocation) throws -> Value {
        guard let entry = NumPyRegistry.functions[attr] else {
            throw Diagnostic(loc, "'.\(attr)' is not supported")
        }
        return try entry.lower(self, CallArgs(positional: [base], keywords: [:], loc: loc, function: attr))
    }

    // MARK: Indexing

    /// `view[index]` as a new view (NumPy basic indexing: integers, slices with any
    /// constant step, `...`, `np.newaxis`/`None`).
    /// The items of a subscript, each non-slice item lowered once, in order.
    func indexItems(_ index: PyExpr) throws -> [(PyExpr, Value?)] {
        var items: [PyExpr]
        if case .tuple(let ts) = index.kind { items = ts } else { items = [index] }
        // A tuple value is the index tuple itself (A[np.nonzero(m)], A[iu] with iu = np.triu_indices(n)).
        if items.count == 1, case .name = index.kind, case .tuple(let vs) = try lowerExpr(index) {
            return try vs.map { (index, try compactedValue($0, loc: index.loc)) }
        }
        if items.count == 1, case .call = index.kind {
            let v = try lowerExpr(index)
            if case .tuple(let vs) = v { return try vs.map { (index, try compactedValue($0, loc: index.loc)) } }
            return [(index, try compactedValue(v, loc: index.loc))]
        }
        return try items.map { item in
            if case .constant(.ellipsis) = item.kind { return (item, nil) }
            if case .slice = item.kind { return (item, nil) }
            // A list of numbers is an index array (A[:, [0, 2]]), as np.array makes it.
            if case .list = item.kind {
                let v = try lowerExpr(item)
                return (item, try arrayCall(CallArgs(positional: [v], keywords: [:], loc: item.loc, function: "array"), copy: true))
            }
            // An index array selected by a mask (x[idx[mask]]) is a new array of data-dependent length.
            return (item, try compactedValue(try lowerExpr(item), loc: item.loc))
        }
    }

    /// `view[index]` for any supported index: basic indexing gives a view; integer index
    /// arrays (with integers and slices elsewhere) give a gather; a boolean mask of the view's
    /// shape gives a masked selection.
    func index(_ view: ArrayView, _ index: PyExpr, items: [(PyExpr, Value?)]? = nil) throws -> Value {
        let values = try items ?? indexItems(index)
        let arrays = values.enumerated().filter { if case .array? = $0.element.1 { return true } else { return false } }
        guard let (pos, (item, value)) = arrays.first else {
            let sub = try subscriptView(view, index, values)
            return sub.shape.isEmpty ? .scalar(.load(sub.memlet(at: []), sub.dtype), weak: false)
                : .array(Lazy(node: .view(sub), shape: sub.shape, dtype: sub.dtype))
        }
        guard case .array(let idx) = value else { fatalError("unreachable") }
        let whole = Lazy(node: .view(view), shape: view.shape, dtype: view.dtype)
        if let mask = arrays.first(where: { if case .array(let l)? = $0.element.1 { return l.dtype == .bool } else { return false } }) {
            let others = values.enumerated().filter { $0.offset != pos }
            let allFull = others.allSatisfy { _, v in
                if case .slice(nil, nil, nil) = v.0.kind { return true }
                return false
            }
            guard arrays.count == 1, allFull else {
                throw Diagnostic(mask.element.0.loc, "a boolean mask combined with other indices is not supported; index with the mask alone (x[mask], A[rows], A[:, cols]) or turn it into integers with np.nonzero(mask)")
            }
            // A[rows], A[:, cols]: a 1-D mask on one axis selects whole slices into a new array.
            if idx.shape.count == 1, view.shape.count > 1, pos < view.shape.count {
                return .array(try compacted(whole, mask: idx, axis: pos, loc: item.loc))
            }
            guard pos == 0, idx.shape.count == view.shape.count else {
                throw Diagnostic(item.loc, "a boolean mask must have the array's shape (x[mask]) or be 1-D along one axis (A[rows], A[:, cols])")
            }
            _ = try broadcast(view.shape, idx.shape, loc: item.loc)
            return .masked(whole, mask: idx)
        }
        for (_, (item, value)) in arrays {
            guard case .array(let l)? = value, l.dtype.isInteger else { throw Diagnostic(item.loc, "index arrays must be integer or boolean") }
        }
        // NumPy's advanced indexing: the integer arrays and the integers among the items index
        // together (broadcast against each other); every other item is basic indexing. Each
        // advanced item becomes a full slice of the basic view, then indexes that dimension.
        var basicItems: [(PyExpr, Value?)] = []
        var advanced: [(item: PyExpr, dim: Int, index: Value)] = []
        var advancedItems: [Int] = []
        let isEllipsis: ((PyExpr, Value?)) -> Bool = { if case .constant(.ellipsis) = $0.0.kind { return true } else { return false } }
        let consuming = values.filter { v in
            if case .none? = v.1 { return false }
            return !isEllipsis(v)
        }.count
        guard consuming <= view.shape.count else {
            throw Diagnostic(index.loc, "too many indices: the array has \(view.shape.count) dimensions, \(consuming) were given")
        }
        var dim = 0
        for (k, (item, value)) in values.enumerated() {
            if isEllipsis((item, value)) {
                dim += view.shape.count - consuming
                basicItems.append((item, value))
                continue
            }
            switch value {
            case .array?:
                advanced.append((item, dim, value!))
            case .scalar(let x, _)? where x.dtype.isInteger:
                advanced.append((item, dim, value!))
            default:
                basicItems.append((item, value))
                dim += 1
                continue
            }
            advancedItems.append(k)
            basicItems.append((PyExpr(.slice(lower: nil, upper: nil, step: nil), item.loc), nil))
            dim += 1
        }
        var basic = try subscriptView(view, index, basicItems)
        // A reshaped view is not affine in its indices: copy it first.
        let affine = advanced.allSatisfy { a in basic.access.allSatisfy { $0.linear(in: ArrayView.placeholder(a.dim)) != nil } }
        if !affine {
            basic = try materializeNew(Lazy(node: .view(basic), shape: basic.shape, dtype: basic.dtype), hint: "gathered", loc: index.loc).asView!
        }
        var indices: [Lazy] = []
        var broadcastShape: [SymExpr] = []
        for a in advanced {
            let length = basic.shape[a.dim]
            switch a.index {
            case .array(let l):
                try checkBounds(l, length: length, loc: a.item.loc)
                indices.append(l)
            case .scalar(let x, _):
                let k = checkedIndex(symbolicValue(x, loc: a.item.loc), length, loc: a.item.loc)
                indices.append(Lazy(node: .scalar(.symbol(k)), shape: [], dtype: .int64))
            default: fatalError("unreachable")
            }
            broadcastShape = try broadcast(broadcastShape, indices.last!.shape, loc: a.item.loc)
        }
        // Advanced items next to each other put their dimensions where they stand; apart
        // (A[idx, :, 0]), in front.
        let adjacent = zip(advancedItems, advancedItems.dropFirst()).allSatisfy { $1 == $0 + 1 }
        let axes = advanced.map(\.dim)
        let rest = basic.shape.indices.filter { !axes.contains($0) }.map { basic.shape[$0] }
        let at = adjacent ? axes[0] : 0
        let shape = Array(rest[..<at]) + broadcastShape + Array(rest[at...])
        return .array(Lazy(node: .gather(basic, axes: axes, indices: indices, at: at), shape: shape, dtype: view.dtype))
    }

    /// Every index must lie in [-length, length): reads and writes never leave the array.
    func checkBounds(_ idx: Lazy, length: SymExpr, loc: SourceLocation) throws {
        try emitMap(idx.shape, loc: loc) { i in
            let k = ScalarExpr.cast(idx.element(at: i), .int64)
            let bad = ScalarExpr.binary(.or, .binary(.lt, k, .symbol(-length), .bool), .binary(.ge, k, .symbol(length), .bool), .bool)
            emit(.branch(Branch(condition: bad, then: [.fail(.indexOutOfBounds, loc)], orElse: [], loc: loc)))
        }
    }

    func subscriptView(_ view: ArrayView, _ index: PyExpr, _ values: [(PyExpr, Value?)]? = nil) throws -> ArrayView {
        let values = try values ?? indexItems(index)
        let isNewAxis: ((PyExpr, Value?)) -> Bool = { if case .none? = $0.1 { return true } else { return false } }
        let ellipses = values.filter { if case .constant(.ellipsis) = $0.0.kind { return true } else { return false } }.count
        guard ellipses <= 1 else { throw Diagnostic(index.loc, "an index can only have a single ellipsis ('...')") }
        let consuming = values.filter { !isNewAxis($0) && !(ellipses == 1 && { if case .constant(.ellipsis) = $0.0.kind { return true } else { return false } }($0)) }.count
        guard consuming <= view.shape.count else {
            throw Diagnostic(index.loc, "too many indices: the array has \(view.shape.count) dimensions, \(consuming) were given")
        }
        var newShape: [SymExpr] = []
        var map: [SymExpr] = []  // old view dim -> expression of new placeholders
        func next() -> SymExpr { .sym(ArrayView.placeholder(newShape.count)) }
        var d = 0
        for (item, value) in values {
            if case .constant(.ellipsis) = item.kind {
                for _ in 0..<(view.shape.count - consuming) {
                    map.append(next())
                    newShape.append(view.shape[d])
                    d += 1
                }
                continue
            }
            if case .none? = value {
                newShape.append(.one)
                continue
            }
            let length = view.shape[d]
            if case .slice(let lo, let hi, let st) = item.kind {
                var step = 1
                if let st {
                    guard let c = try symbolic(st).constant, c != 0 else {
                        throw Diagnostic(st.loc, "slice steps must be nonzero integer constants")
                    }
                    step = c
                }
                let (start, count) = try sliceBounds(lo, hi, step: step, length: length)
                map.append(start + .int(step) * next())
                newShape.append(count)
                d += 1
                continue
            }
            guard case .scalar(let x, _)? = value, x.dtype.isInteger else {
                throw Diagnostic(item.loc, "array indices must be integers, slices, ..., np.newaxis, or integer or boolean arrays; got a \(value.map { $0.kindName == "scalar" ? "non-integer scalar" : $0.kindName } ?? "value")")
            }
            map.append(checkedIndex(symbolicValue(x, loc: item.loc), length, loc: item.loc))
            d += 1
        }
        while d < view.shape.count {
            map.append(next())
            newShape.append(view.shape[d])
            d += 1
        }
        return view.reindexed(shape: newShape, map)
    }

    // MARK: Bounds

    /// `x[e]` along a dimension of `length`: NumPy wraps a negative index once (e + length)
    /// and raises IndexError outside [-length, length). What the enclosing loop ranges prove
    /// needs neither: `x[i]`, `x[i + 1]` with `i` in `range(1, n - 1)` stay as they are; an
    /// index that may be negative is wrapped (`x[i - 1]` at i = 0 reads the last element);
    /// one that may be out of range gets a run-time check.
    func checkedIndex(_ e: SymExpr, _ length: SymExpr, loc: SourceLocation) -> SymExpr {
        var facts = loopFacts(e)
        let stable = (e.freeSymbols + length.freeSymbols).allSatisfy { loopRanges[$0] != nil || symbols.contains($0) }
        if provablyNonNegative(e, facts: facts) && provablyNonNegative(length - 1 - e, facts: facts) { return e }
        // The loops around the access run at least once (x[0] inside `for i in range(n)`).
        facts += enclosingLoopFacts()
        let nonNegative = provablyNonNegative(e, facts: facts)
        let below = provablyNonNegative(length - 1 - e, facts: facts)
        if nonNegative && below { return e }
        // In bounds whenever the dimension is not empty (x[0], x[n - 1]): only that is checked.
        let nonEmpty = facts + [length - 1]
        if provablyNonNegative(e, facts: nonEmpty) && provablyNonNegative(length - 1 - e, facts: nonEmpty) {
            emitIndexCheck(.binary(.le, .symbol(length), .symbol(.zero), .bool), stable: stable, loc: loc)
            return e
        }
        let negative = provablyNonNegative(.int(-1) - e, facts: facts)
        let above = provablyNonNegative(e + length, facts: facts)
        if !(below && above) {
            let k = ScalarExpr.symbol(e)
            let high = ScalarExpr.binary(.ge, k, .symbol(length), .bool)
            let low = ScalarExpr.binary(.lt, k, .symbol(-length), .bool)
            let bad: ScalarExpr = nonNegative || above ? high : (below || negative) ? low : .binary(.or, low, high, .bool)
            emitIndexCheck(bad, stable: stable, loc: loc)
        }
        if nonNegative { return e }
        if negative { return e + length }
        return wrapped(e, length)
    }

    /// `e < 0 ? e + length : e` as a symbolic expression (min(max(-e, 0), 1) is 1 exactly when e < 0).
    func wrapped(_ e: SymExpr, _ length: SymExpr) -> SymExpr {
        e + length * .minimum(.maximum(-e, .zero), .one)
    }

    /// Fails with IndexError where `bad` holds (and Python evaluates the expression at all).
    func emitIndexCheck(_ bad: ScalarExpr, stable: Bool = false, loc: SourceLocation) {
        var condition = bad
        for g in indexGuards.reversed() { condition = .binary(.and, g, condition, .bool) }
        // The same check on loop variables and sizes (which do not change inside a block) is
        // made once per block.
        if stable, indexGuards.isEmpty,
           blocks[blocks.count - 1].contains(where: { node in
               if case .branch(let b) = node, b.condition == condition, b.then.count == 1, case .fail(.indexOutOfBounds, _) = b.then[0] { return true }
               return false
           }) {
            return
        }
        emit(.branch(Branch(condition: condition, then: [.fail(.indexOutOfBounds, loc)], orElse: [], loc: loc)))
    }

    /// A slice `lo:hi:step` of a dimension of `length` with Python's rules: a negative bound
    /// counts from the end once, then bounds are clamped to the dimension, and the count is
    /// never negative. Returns the first index and the count. Bounds that are provably in
    /// range stay as written; a start past the end is left unclamped (the count is then 0).
    func sliceBounds(_ lo: PyExpr?, _ hi: PyExpr?, step: Int, length n: SymExpr) throws -> (SymExpr, SymExpr) {
        let a = try lo.map { try symbolic($0) }, b = try hi.map { try symbolic($0) }
        func nonNegative(_ e: SymExpr) -> Bool { provablyNonNegative(e, facts: loopFacts(e)) }
        // x[:1] and x[-1:] keep the extent 1 (a size-1 dimension broadcasts; one that is 1 unless
        // the array is empty would not): an empty dimension is an IndexError here, where NumPy
        // gives an empty slice.
        if step == 1, (a == nil || a == .zero) && b == .one || a == .int(-1) && b == nil {
            if !provablyNonNegative(n - 1, facts: enclosingLoopFacts()) {
                emitIndexCheck(.binary(.le, .symbol(n), .symbol(.zero), .bool),
                               stable: n.freeSymbols.allSatisfy { symbols.contains($0) }, loc: (lo ?? hi)!.loc)
            }
            return (a == nil || a == .zero ? .zero : n - 1, .one)
        }
        let start: SymExpr, stop: SymExpr, span: SymExpr
        // n - 1 and n - 2 as bounds act like -1 and -2: where they are negative (n < 2), adding
        // n once more keeps them at or below 0.
        func nearEnd(_ e: SymExpr) -> Bool { (e - n).constant.map { $0 == -1 || $0 == -2 } ?? false }
        if step > 0 {
            if let a {
                if nonNegative(a) { start = a }
                else if nonNegative(.int(-1) - a) { start = nonNegative(a + n) ? a + n : .maximum(a + n, .zero) }
                else if nearEnd(a) { start = .maximum(a, .zero) }
                else { start = .maximum(wrapped(a, n), .zero) }
            } else { start = .zero }
            if let b {
                if nonNegative(b) { stop = nonNegative(n - b) ? b : .minimum(b, n) }
                else if nonNegative(.int(-1) - b) { stop = b + n }  // below start when negative: count 0
                else if nearEnd(b) { stop = b }  // likewise
                else { stop = .minimum(wrapped(b, n), n) }
            } else { stop = n }
            span = step == 1 ? stop - start : SymExpr.floorDivide(stop - start + .int(step - 1), .int(step))
        } else {
            // Negative steps run from start down to just above stop, both within [-1, n - 1].
            if let a {
                if nonNegative(a) { start = nonNegative(n - 1 - a) ? a : .minimum(a, n - 1) }
                else if nonNegative(.int(-1) - a) { start = a + n }  // below 0: count 0
                else { start = .minimum(wrapped(a, n), n - 1) }
            } else { start = n - 1 }
            if let b {
                if nonNegative(b) { stop = b }  // past the end: count 0
                else if nonNegative(.int(-1) - b) { stop = nonNegative(b + n + 1) ? b + n : .maximum(b + n, .int(-1)) }
                else { stop = .maximum(wrapped(b, n), .int(-1)) }
            } else { stop = .int(-1) }
            span = SymExpr.floorDivide(start - stop + .int(-step - 1), .int(-step))
        }
        return (start, nonNegative(span) ? span : .maximum(span, .zero))
    }

    /// The least and greatest value of `e` over the enclosing loop ranges, as expressions
    /// free of loop variables; nil where `e` is not linear in one of them.
    func extremes(_ e: SymExpr) -> (SymExpr, SymExpr)? {
        var lo = e, hi = e
        for _ in 0..<8 {
            let present = Set(lo.freeSymbols + hi.freeSymbols).filter { loopRanges[$0] != nil }.sorted()
            if present.isEmpty { return (lo, hi) }
            // Inner loop variables first (those no other range mentions), so that `i - j` with
            // j in range(i) keeps its relation to i.
            let mentioned = Set(present.flatMap { u in loopRanges[u]!.start.freeSymbols + loopRanges[u]!.end.freeSymbols })
            let inner = present.filter { !mentioned.contains($0) }
            for v in inner.isEmpty ? present : inner {
                let r = loopRanges[v]!
                guard let step = r.step.constant, step != 0,
                      let (cl, _) = lo.linear(in: v), let (ch, _) = hi.linear(in: v) else { return nil }
                // Values of v while the body runs: first .. last (end - 1 or end + 1).
                let least = step > 0 ? r.start : r.end + 1, greatest = step > 0 ? r.end - 1 : r.start
                lo = lo.substituting([v: cl >= 0 ? least : greatest])
                hi = hi.substituting([v: ch >= 0 ? greatest : least])
            }
        }
        return nil
    }

    /// What holds because the loops the code being lowered sits in run: their ranges are not
    /// empty. Those loops are the loop variables bound to a name whose loop has not been
    /// emitted yet (a loop is emitted once its body is lowered).
    func enclosingLoopFacts() -> [SymExpr] {
        let bound = Set(env.values.compactMap { v -> String? in
            if case .scalar(.symbol(.sym(let p)), _) = v, loopRanges[p] != nil { return p }
            return nil
        })
        if bound.isEmpty { return [] }
        var finished: Set<String> = []
        func scan(_ nodes: [Node]) {
            for n in nodes {
                switch n {
                case .map(let m): finished.formUnion(m.params); scan(m.body)
                case .forLoop(let f): finished.insert(f.variable); scan(f.body)
                case .whileLoop(let w): scan(w.body)
                case .branch(let b): scan(b.then); scan(b.orElse)
                default: break
                }
            }
        }
        for b in blocks { scan(b) }
        return loopFacts(vars: bound.subtracting(finished).sorted())
    }

    /// What holds because the loops over the variables of `e` run: each range is not empty.
    func loopFacts(_ e: SymExpr) -> [SymExpr] {
        loopFacts(vars: e.freeSymbols.filter { loopRanges[$0] != nil })
    }

    func loopFacts(vars: [String]) -> [SymExpr] {
        var facts: [SymExpr] = [], seen: Set<String> = []
        var todo = vars
        while let v = todo.popLast() {
            guard seen.insert(v).inserted, let r = loopRanges[v], let step = r.step.constant else { continue }
            facts.append(step > 0 ? r.end - r.start - 1 : r.start - r.end - 1)
            todo += (r.start.freeSymbols + r.end.freeSymbols).filter { loopRanges[$0] != nil }
        }
        return facts
    }

    /// Whether `e >= 0` wherever it is evaluated: from its least value over the loop ranges,
    /// sizes (never negative) and the non-emptiness of the loops it is evaluated in.
    func provablyNonNegative(_ e: SymExpr, facts: [SymExpr]) -> Bool {
        guard let (lo, _) = extremes(e) else { return false }
        if isNonNegative(lo) { return true }
        return facts.contains { f in
            guard let (l, _) = extremes(lo - f) else { return false }
            return isNonNegative(l)
        }
    }

    /// Structurally non-negative: non-negative constants and sizes combined by +, *, min, max, //.
    func isNonNegative(_ e: SymExpr) -> Bool {
        switch e {
        case .int(let v): return v >= 0
        case .sym(let s): return symbols.contains(s) || ctx.symbols.contains(s)
        case .add(let ts): return ts.allSatisfy(isNonNegative)
        case .mul(let fs): return fs.allSatisfy(isNonNegative)
        case .min(let a, let b), .floorDiv(let a, let b): return isNonNegative(a) && isNonNegative(b)
        case .max(let a, let b): return isNonNegative(a) || isNonNegative(b)
        case .mod(let a, let b): return (b.constant ?? 0) > 0 || isNonNegative(a) && isNonNegative(b)
        }
    }
}

/// Python builtins the compiler understands.
enum Builtins {
    static let names: Set<String> = ["range", "len", "min", "max", "abs", "float", "int", "bool", "complex", "print", "sum",
                                     "round", "pow"]
}
