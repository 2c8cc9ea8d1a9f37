import Foundation
import BraidIR

/// The shared lowering from a `Program` to the C-shaped tree, parameterized by a `CDialect`.
public final class CLowering {
    public let program: Program
    public let dialect: CDialect
    let containerIndex: [String: Container]
    /// Python source line of the node being lowered, for `// line N` comments.
    var lastLine = -1
    /// Where a `fail` jumps inside a map whose failures end only their iteration
    /// (`MapScope.failsEndIteration`): a label at the end of the iteration's body.
    var failLabel: String?
    var failLabels = 0
    /// Names the temporaries of each complex absolute value apart.
    var absCounter = 0

    public init(program: Program, dialect: CDialect) {
        self.program = program
        self.dialect = dialect
        var idx: [String: Container] = [:]
        for c in program.containers { idx[c.name] = c }
        containerIndex = idx
    }

    public func container(_ name: String) -> Container { containerIndex[name]! }

    // MARK: Entry point

    /// The native entry point with the calling convention of `ExtensionFunction`.
    public func entryFunction(name: String) throws -> CFunction {
        var params: [(type: String, name: String)] = program.symbols.map { ("int64_t", $0) }
        for p in program.params {
            let c = container(p)
            params.append(c.isScalar ? (dialect.typeName(c.dtype), p) : ("\(dialect.typeName(c.dtype)) *\(dialect.pointerQualifier)", p))
        }
        for r in program.results {
            let c = container(r)
            if c.isDynamic {
                // Storage the function allocates: handed to the caller with its shape (see `handOver`).
                params.append(("\(dialect.typeName(c.dtype)) **", Self.resultData(r)))
                params.append(("int64_t *", Self.resultShape(r)))
                continue
            }
            params.append(c.isScalar ? ("\(dialect.typeName(c.dtype)) *", r) : ("\(dialect.typeName(c.dtype)) *\(dialect.pointerQualifier)", r))
        }
        var body: [CStmt] = [.decl(type: "int", name: "braid_status", initializer: "0")]
        body += declarations(mapLocals: Set(allMapLocals(program.body)).subtracting(namesOutsideMaps(program.body)))
        body += allocations()
        body += try stmts(program.body)
        body.append(.label("braid_exit"))
        body += handOver()
        body += frees()
        body.append(.return("braid_status"))
        return CFunction(returnType: "int", name: name, params: params, body: body,
                         comment: "Python function '\(program.name)' (\(program.loc))")
    }

    func allMapLocals(_ nodes: [Node]) -> [String] {
        var out: [String] = []
        for n in nodes {
            switch n {
            case .map(let m): out += m.locals + allMapLocals(m.body)
            case .forLoop(let f): out += allMapLocals(f.body)
            case .whileLoop(let w): out += allMapLocals(w.body)
            case .branch(let b): out += allMapLocals(b.then) + allMapLocals(b.orElse)
            default: break
            }
        }
        return out
    }

    /// Containers and symbols that code outside every map mentions: a map local that is also
    /// one of these (a loop's private scalar, when the loop also runs as written) is declared
    /// at function scope too.
    func namesOutsideMaps(_ nodes: [Node]) -> Set<String> {
        var out = Set<String>()
        func memlet(_ m: Memlet) -> Memlet {
            out.insert(m.data)
            for s in m.subset {
                switch s {
                case .index(.sym(let e)): out.formUnion(e.freeSymbols)
                case .index(.dynamic(let e)): expr(e)
                case .range(let a, let b, let c): out.formUnion(a.freeSymbols + b.freeSymbols + c.freeSymbols)
                }
            }
            return m
        }
        func expr(_ e: ScalarExpr) {
            e.visitLoads { _ = memlet($0) }
            _ = e.mapSymbols { out.formUnion($0.freeSymbols); return $0 }
        }
        func range(_ r: SymRange) { out.formUnion(r.start.freeSymbols + r.end.freeSymbols + r.step.freeSymbols) }
        func visit(_ nodes: [Node]) {
            for n in nodes {
                switch n {
                case .tasklet(let t):
                    _ = memlet(t.output)
                    expr(t.value)
                case .library(let l): _ = l.op.mapMemlets(memlet)
                case .map(let m): m.ranges.forEach(range)
                case .forLoop(let f):
                    range(f.range)
                    visit(f.body)
                case .whileLoop(let w):
                    expr(w.condition)
                    visit(w.body)
                case .branch(let b):
                    expr(b.condition)
                    visit(b.then)
                    visit(b.orElse)
                case .allocate(let a): out.formUnion([a.container] + (a.takeFrom.map { [$0] } ?? []))
                case .breakLoop, .continueLoop, .returnProgram, .fail: break
                }
            }
        }
        visit(nodes)
        return out
    }

    /// Scalar transients declared at function scope (map locals are declared in their scope).
    public func declarations(mapLocals: Set<String>) -> [CStmt] {
        program.containers.filter { $0.isTransient && $0.isScalar && !mapLocals.contains($0.name) }.map {
            .decl(type: dialect.typeName($0.dtype), name: $0.name, initializer: zero($0.dtype))
        }
    }

    func zero(_ t: DType) -> String {
        t.isBool ? "false" : "0"
    }

    /// Arrays the function allocates itself: heap transients, and dynamic results (which it
    /// hands to the caller on success).
    func ownedArrays() -> [Container] {
        program.containers.filter { ($0.isTransient || $0.isDynamic) && !$0.isScalar }
    }

    /// The `T **` parameter through which a dynamic result's storage goes to the caller.
    public static func resultData(_ name: String) -> String { "braid_out_" + name }
    /// The `int64_t *` parameter receiving a dynamic result's shape (one entry per dimension).
    public static func resultShape(_ name: String) -> String { "braid_shape_" + name }

    /// On success, each dynamic result's storage and shape go to the caller, which frees the
    /// storage; the pointer is cleared so the exit path does not free it. On failure the
    /// exit path frees it like any transient and the caller gets nothing.
    public func handOver() -> [CStmt] {
        let dynamic = program.results.map(container).filter(\.isDynamic)
        guard !dynamic.isEmpty else { return [] }
        var then: [CStmt] = []
        for c in dynamic {
            then.append(.assign(lhs: "*\(Self.resultData(c.name))", rhs: c.name))
            for (k, d) in c.shape.enumerated() {
                then.append(.assign(lhs: "\(Self.resultShape(c.name))[\(k)]", rhs: "(int64_t)(\(sym(d)))"))
            }
            then.append(.assign(lhs: c.name, rhs: "NULL"))
        }
        return [.ifElse(condition: "braid_status == 0", then: then, orElse: [])]
    }

    /// Heap transients, allocated once per call.
    public func allocations() -> [CStmt] {
        let arrays = ownedArrays()
        // Every pointer starts NULL, so the exit path may free them all after a failed allocation.
        // Dynamic containers hand their storage over to each other (`allocate ... from`), so
        // they are not `restrict`.
        let decls: [CStmt] = arrays.flatMap { c -> [CStmt] in
            c.isDynamic ? [.decl(type: dialect.typeName(c.dtype), name: "*" + c.name, initializer: "NULL"),
                           .decl(type: "size_t", name: Self.capacity(c.name), initializer: "0")]
                : [.decl(type: "\(dialect.typeName(c.dtype)) *\(dialect.pointerQualifier)", name: c.name, initializer: "NULL")]
        }
        // Dynamic containers get their storage where they are defined (`allocate` nodes).
        return decls + arrays.filter { !$0.isDynamic }.flatMap { allocation($0) }
    }

    /// `c = braid_alloc(size of c)`, leaving with status 1 when memory runs out.
    func allocation(_ c: Container) -> [CStmt] {
        let t = dialect.typeName(c.dtype)
        return [
            .assign(lhs: c.name, rhs: "(\(t) *)braid_alloc((size_t)(\(size(c))) * sizeof(\(t)))"),
            .ifElse(condition: "\(c.name) == NULL", then: [.assign(lhs: "braid_status", rhs: "1"), .goto("braid_exit")], orElse: []),
        ]
    }

    /// The variable holding the bytes a dynamic container's storage can hold.
    static func capacity(_ name: String) -> String { name + "_capacity" }

    /// A dynamic container's (re)allocation. Storage that is large enough is reused (a loop
    /// that compacts its arrays allocates only when they grow); a hand-over swaps the two
    /// containers' storage, so the one left "without storage" keeps a buffer to reuse.
    public func reallocation(_ a: Allocation) -> [CStmt] {
        let c = container(a.container)
        let cap = Self.capacity(c.name)
        if let from = a.takeFrom {
            let t = dialect.typeName(c.dtype)
            let fromCap = Self.capacity(from)
            return [.block([
                .decl(type: "\(t) *", name: "braid_swap", initializer: c.name),
                .decl(type: "size_t", name: "braid_swap_capacity", initializer: cap),
                .assign(lhs: c.name, rhs: from), .assign(lhs: cap, rhs: fromCap),
                .assign(lhs: from, rhs: "braid_swap"), .assign(lhs: fromCap, rhs: "braid_swap_capacity"),
            ])]
        }
        // Negative sizes (an empty selection never makes one, but a computed size might).
        let guardNegative: [CStmt] = c.shape.filter { $0.constant == nil }.map { d in
            .ifElse(condition: "(\(sym(d))) < 0", then: [.assign(lhs: "braid_status", rhs: "\(Failure.shapeMismatch.statusCode)"), .goto("braid_exit")], orElse: [])
        }
        let t = dialect.typeName(c.dtype)
        let bytes = "(size_t)(\(size(c))) * sizeof(\(t))"
        let grow: [CStmt] = [.expr("braid_free(\(c.name))")] + allocation(c) + [.assign(lhs: cap, rhs: bytes)]
        return guardNegative + [.ifElse(condition: "\(c.name) == NULL || \(bytes) > \(cap)", then: grow, orElse: [])]
    }

    public func frees() -> [CStmt] {
        ownedArrays().reversed().map { .expr("braid_free(\($0.name))") }
    }

    /// Number of elements of a container, as C.
    public func size(_ c: Container) -> String {
        c.shape.isEmpty ? "1" : c.shape.map { "(\(sym($0)))" }.joined(separator: " * ")
    }

    // MARK: Statements

    public func stmts(_ nodes: [Node]) throws -> [CStmt] {
        try nodes.flatMap { try stmt($0) }
    }

    func lineComment(_ loc: SourceLocation) -> [CStmt] {
        guard loc.line != lastLine else { return [] }
        lastLine = loc.line
        return [.comment("\(loc.file.split(separator: "/").last.map(String.init) ?? loc.file):\(loc.line)")]
    }

    public func stmt(_ n: Node) throws -> [CStmt] {
        switch n {
        case .tasklet(let t):
            return lineComment(t.loc) + [try tasklet(t)]
        case .library(let l):
            guard let lib = dialect.library else {
                throw BackendError(l.loc, "internal: library node reached the \(dialect.name) printer unexpanded")
            }
            return lineComment(l.loc) + (try lib(l, self))
        case .map(let m):
            let comment = lineComment(m.loc)
            if let custom = dialect.lowerMap, let lowered = try custom(m, self) { return comment + lowered }
            return comment + (try map(m))
        case .forLoop(let f):
            if let appended = try branchlessSelection(f) { return lineComment(f.loc) + appended }
            let body = try stmts(f.body)
            let innermost = !containsLoop(f.body)
            return lineComment(f.loc) + [.forLoop(pragmas: [], variable: f.variable, start: sym(f.range.start),
                                                  end: sym(f.range.end), step: sym(f.range.step),
                                                  body: dialect.innerLoopPragmas(innermost).map { .pragma($0) } + body)]
        case .whileLoop(let w):
            return lineComment(w.loc) + [.whileLoop(condition: try expr(w.condition), body: try stmts(w.body))]
        case .branch(let b):
            return lineComment(b.loc) + [.ifElse(condition: try expr(b.condition), then: try stmts(b.then), orElse: try stmts(b.orElse))]
        case .breakLoop: return [.break]
        case .continueLoop: return [.continue]
        case .returnProgram: return [.goto("braid_exit")]
        case .fail(let f, let loc):
            if let failLabel { return lineComment(loc) + [.goto(failLabel)] }
            return lineComment(loc) + [.assign(lhs: "braid_status", rhs: "\(f.statusCode)"), .goto("braid_exit")]
        case .allocate(let a):
            return lineComment(a.loc) + reallocation(a)
        }
    }

    /// A selection loop (`y = x[mask]`, `np.flatnonzero`) without a branch per element:
    ///
    ///     for i: if (cond) { y[k] = x[i]; k = k + 1; }
    ///
    /// becomes
    ///
    ///     if (k < n_y) for i: { y[k] = x[i]; k += cond; if (k >= n_y) break; }
    ///
    /// A data-dependent branch mispredicts on random masks (NumPy's selection is branch-free);
    /// the loop's exit is predictable. Every write lands at k < n_y (the length of each array it
    /// appends to), and a write of an element that is not selected is overwritten by the next
    /// selected one or is never read: the loop stops once the last selected element is written,
    /// since n_y counts the same mask. Only for one loop level whose appended values are plain
    /// reads (no index arrays, nothing that may trap), so reading an element that is not
    /// selected is harmless.
    func branchlessSelection(_ f: ForLoop) throws -> [CStmt]? {
        guard f.body.count == 1, case .branch(let b) = f.body[0], b.orElse.isEmpty,
              case .tasklet(let increment)? = b.then.last, increment.wcr == nil, increment.output.subset.isEmpty
        else { return nil }
        let k = increment.output.data
        guard increment.value == .symbol(.sym(k) + 1), container(k).dtype == .int64, container(k).role == .transient,
              b.condition.dtype == .bool else { return nil }
        func plain(_ e: ScalarExpr) -> Bool {
            switch e {
            case .literal, .symbol: return true
            case .load(let m, _):
                return m.subset.allSatisfy { if case .index(.sym) = $0 { return true } else { return false } }
            case .cast(let a, let t): return !t.isComplex && plain(a)
            default: return false
            }
        }
        var length: SymExpr?
        var writes: [Tasklet] = []
        for n in b.then.dropLast() {
            guard case .tasklet(let t) = n, t.wcr == nil, plain(t.value),
                  case .index(.sym(.sym(k)))? = t.output.subset.first,
                  t.output.subset.dropFirst().allSatisfy({ if case .index(.sym(let e)) = $0 { return !e.freeSymbols.contains(k) } else { return false } })
            else { return nil }
            let c = container(t.output.data)
            guard c.isDynamic, let n0 = c.shape.first, length == nil || length == n0 else { return nil }
            length = n0
            writes.append(t)
        }
        guard let n = length, !writes.isEmpty else { return nil }
        var readNames = Set<String>()
        b.condition.visitLoads { readNames.insert($0.data) }
        for t in writes { t.value.visitLoads { readNames.insert($0.data) } }
        guard writes.allSatisfy({ !readNames.contains($0.output.data) }), !n.freeSymbols.contains(k),
              !n.freeSymbols.contains(f.variable) else { return nil }
        let end = "braid_sel_n"
        let body: [CStmt] = try writes.map { try tasklet($0) } + [
            .assign(lhs: k, rhs: "\(k) + (int64_t)(\(try expr(b.condition)))"),
            .ifElse(condition: "\(k) >= \(end)", then: [.break], orElse: []),
        ]
        // The arrays and the counter are shadowed by block-local copies (restrict pointers): the
        // function-scope names are shared with OpenMP regions, so their addresses escape and the
        // C compiler would reload them after every store.
        let arrays = (readNames.union(writes.map(\.output.data))).sorted().filter { a in
            let c = container(a)
            switch c.role {
            case .transient, .argument: return !c.shape.isEmpty
            case .result: return false
            }
        }
        var outer: [CStmt] = [.decl(type: "const int64_t", name: end, initializer: "(\(sym(n)))"),
                              .decl(type: "int64_t", name: "braid_sel_k", initializer: k)]
        var inner: [CStmt] = [.decl(type: "int64_t", name: k, initializer: "braid_sel_k")]
        for (i, a) in arrays.enumerated() {
            let t = dialect.typeName(container(a).dtype)
            outer.append(.decl(type: "\(t) *const", name: "braid_sel_\(i)", initializer: a))
            inner.append(.decl(type: "\(t) *restrict const", name: a, initializer: "braid_sel_\(i)"))
        }
        inner.append(.ifElse(condition: "\(k) < \(end)", then: [
            .forLoop(pragmas: [], variable: f.variable, start: sym(f.range.start), end: sym(f.range.end),
                     step: sym(f.range.step), body: body),
        ], orElse: []))
        inner.append(.assign(lhs: "braid_sel_k", rhs: k))
        return [.block(outer + [.block(inner), .assign(lhs: k, rhs: "braid_sel_k")])]
    }

    func containsLoop(_ nodes: [Node]) -> Bool {
        nodes.contains { n in
            switch n {
            case .map, .forLoop, .whileLoop: return true
            case .branch(let b): return containsLoop(b.then) || containsLoop(b.orElse)
            default: return false
            }
        }
    }

    /// A map as a loop nest; the dialect's pragmas go on the outermost loop.
    public func map(_ m: MapScope) throws -> [CStmt] {
        var body: [CStmt] = m.locals.map { .decl(type: dialect.typeName(container($0).dtype), name: $0, initializer: zero(container($0).dtype)) }
        let outerLabel = failLabel
        defer { failLabel = outerLabel }
        failLabel = nil
        if m.failsEndIteration {
            failLabels += 1
            failLabel = "braid_next_\(failLabels)"
        }
        body += try stmts(m.body)
        if let failLabel { body.append(.label(failLabel)) }
        // Ranges that don't depend on other params of the same map can be collapsed.
        let rectangular = m.ranges.allSatisfy { r in
            Set([r.start, r.end, r.step].flatMap(\.freeSymbols)).isDisjoint(with: m.params)
        }
        let collapse = rectangular ? m.params.count : 1
        let innermost = !containsLoop(m.body)
        for (k, (p, r)) in zip(m.params, m.ranges).enumerated().reversed() {
            let pragmas = k == 0 ? dialect.mapPragmas(m, collapse, self)
                : k == m.params.count - 1 ? dialect.innerMapPragmas(m, collapse) : []
            let inner = k == m.params.count - 1 ? dialect.innerLoopPragmas(innermost).map { CStmt.pragma($0) } : []
            body = [.forLoop(pragmas: pragmas, variable: p, start: sym(r.start), end: sym(r.end), step: sym(r.step),
                             body: inner + body)]
        }
        return body
    }

    public func tasklet(_ t: Tasklet) throws -> CStmt {
        let lhs = try lvalue(t.output)
        let value = try expr(t.value)
        let type = container(t.output.data).dtype
        guard let wcr = t.wcr else { return .assign(lhs: lhs, rhs: value) }
        switch wcr {
        case .add: return .assign(lhs: lhs, rhs: narrow("\(lhs) + \(value)", type))
        case .mul: return .assign(lhs: lhs, rhs: type.isComplex ? complexProduct(lhs, value, type)
                                                                : narrow("\(lhs) * \(value)", type))
        case .max: return .assign(lhs: lhs, rhs: try minMax(.max, lhs, value, type))
        case .min: return .assign(lhs: lhs, rhs: try minMax(.min, lhs, value, type))
        }
    }

    // MARK: Memlets

    /// The C lvalue of a point memlet.
    /// Whether a symbolic index divides (`//` or `%`) somewhere.
    static func divides(_ e: SymExpr) -> Bool {
        switch e {
        case .int, .sym: return false
        case .floorDiv, .mod: return true
        case .add(let xs), .mul(let xs): return xs.contains(where: divides)
        case .min(let a, let b), .max(let a, let b): return divides(a) || divides(b)
        }
    }

    public func lvalue(_ m: Memlet) throws -> String {
        let c = container(m.data)
        if c.isScalar {
            if case .result = c.role { return "(*\(c.name))" }
            return c.name
        }
        // Indices of a reshaped view ((lin // d) % e ...): the offset as one symbolic sum, in
        // which (q // d) * d + q % d collapses to q, so a reshape of a C-order array costs no
        // division per element.
        let indices = m.subset.compactMap { s -> SymExpr? in if case .index(.sym(let e)) = s { return e } else { return nil } }
        if indices.count == m.subset.count, indices.contains(where: Self.divides) {
            var offset = SymExpr.zero, stride = SymExpr.one
            for (k, e) in indices.enumerated().reversed() {
                offset = offset + e * stride
                stride = stride * c.shape[k]
            }
            return "\(c.name)[\(sym(offset))]"
        }
        var terms: [String] = []
        var strideText = ""
        for (k, s) in m.subset.enumerated().reversed() {
            guard case .index(let i) = s else {
                throw BackendError(program.loc, "internal: range memlet \(IRPrinter.memlet(m)) used as a point")
            }
            let idx: String
            switch i {
            case .sym(let e): idx = sym(e)
            case .dynamic(let e): idx = "(int64_t)(\(try expr(e)))"
            }
            terms.append(strideText.isEmpty ? idx : "(\(idx)) * \(strideText)")
            let d = "(\(sym(c.shape[k])))"
            strideText = strideText.isEmpty ? d : "\(strideText) * \(d)"
        }
        return "\(c.name)[\(terms.reversed().joined(separator: " + "))]"
    }

    /// Element strides of a container (row-major), as C.
    public func strides(_ c: Container) -> [String] {
        var out: [String] = []
        var acc = ""
        for d in c.shape.reversed() {
            out.append(acc.isEmpty ? "1" : acc)
            acc = acc.isEmpty ? "(\(sym(d)))" : "\(acc) * (\(sym(d)))"
        }
        return out.reversed()
    }

    // MARK: Expressions

    public func sym(_ e: SymExpr) -> String {
        e.render(symbol: { self.symbolName($0) }, floorDiv: "braid_floordiv(", mod: "braid_mod(",
                 min: "braid_imin", max: "braid_imax", negative: { "(int64_t)((\($0)) < 0)" })
    }

    func symbolName(_ s: String) -> String {
        if let c = containerIndex[s], c.isScalar {
            if case .result = c.role { return "(*\(s))" }
            if c.dtype != .int64 { return "((int64_t)\(s))" }
        }
        return s
    }

    func narrow(_ text: String, _ t: DType) -> String {
        // C promotes small integers to int; NumPy wraps in the element type.
        if t.isInteger && t.itemSize < 4 || t == .bool { return "(\(dialect.typeName(t)))(\(text))" }
        return text
    }

    public func literal(_ l: Literal, _ t: DType) -> String {
        switch l {
        case .bool(let b): return b ? "true" : "false"
        case .int(let v):
            if t.isFloat { return floatLiteral(Double(v), t) }
            if t == .bool { return v != 0 ? "true" : "false" }
            if t == .uint64 && v == Int.max { return "UINT64_MAX" }
            if v == Int.min { return "INT64_MIN" }
            if t == .int64 { return "INT64_C(\(v))" }
            if t == .uint64 || t == .uint32 { return "(\(dialect.typeName(t)))\(v)u" }
            return "(\(dialect.typeName(t)))\(v)"
        case .float(let v):
            if t.isComplex { return complexLiteral(v, 0, t) }
            return floatLiteral(v, t)
        case .complex(let r, let i): return complexLiteral(r, i, t)
        }
    }

    func floatLiteral(_ v: Double, _ t: DType) -> String {
        let cast = t == .float32 ? "(float)" : ""
        if v.isNaN { return "\(cast)NAN" }
        if v.isInfinite { return v > 0 ? "\(cast)INFINITY" : "(-\(cast)INFINITY)" }
        // Shortest text that round-trips (Swift's description), in C syntax.
        var s = t == .float32 ? "\(Float(v))" : "\(v)"
        if !s.contains(".") && !s.contains("e") { s += ".0" }
        if t == .float32 { s += "f" }
        return v < 0 ? "(\(s))" : s
    }

    func complexLiteral(_ r: Double, _ i: Double, _ t: DType) -> String {
        let p = t == .complex64 ? DType.float32 : .float64
        return "\(t == .complex64 ? "CMPLXF" : "CMPLX")(\(floatLiteral(r, p)), \(floatLiteral(i, p)))"
    }

    public func expr(_ e: ScalarExpr) throws -> String {
        if let custom = dialect.expression, let text = try custom(e, self) { return text }
        switch e {
        case .literal(let l, let t): return literal(l, t)
        case .symbol(let s): return sym(s)
        case .load(let m, _): return try lvalue(m)
        case .unary(let op, let a, let t):
            let x = try expr(a)
            switch op {
            case .neg: return narrow("-\(x)", t)
            case .not: return "(!\(x))"
            case .bitNot: return narrow("~\(x)", t)
            }
        case .binary(let op, let a, let b, let t):
            return try binary(op, a, b, t)
        case .call(let f, let args, let t):
            return try call(f, args, t)
        case .select(let c, let a, let b, _):
            return "(\(try expr(c)) ? \(try expr(a)) : \(try expr(b)))"
        case .cast(let a, let t):
            let x = try expr(a)
            // A complex number is true when either part is nonzero (NumPy's astype(bool)).
            if t == .bool { return "(\(x) != 0)" }
            if a.dtype.isComplex && !t.isComplex {
                return "((\(dialect.typeName(t)))creal(\(x)))"
            }
            return "((\(dialect.typeName(t)))(\(x)))"
        }
    }

    func binary(_ op: BinaryOp, _ a: ScalarExpr, _ b: ScalarExpr, _ t: DType) throws -> String {
        let x = try expr(a), y = try expr(b)
        let ot = a.dtype
        if ot.isComplex && !dialect.supportsComplex {
            throw BackendError(program.loc, "complex arithmetic is not supported by the \(dialect.name) target yet")
        }
        switch op {
        case .add: return narrow("(\(x) + \(y))", t)
        case .sub: return narrow("(\(x) - \(y))", t)
        case .mul: return ot.isComplex ? complexProduct(x, y, ot) : narrow("(\(x) * \(y))", t)
        case .div: return "(\(x) / \(y))"
        case .floorDiv:
            if ot.isUnsignedInteger { return "((\(dialect.typeName(t)))braid_ufloordiv((uint64_t)(\(x)), (uint64_t)(\(y))))" }
            if ot.isInteger { return "((\(dialect.typeName(t)))braid_floordiv((int64_t)(\(x)), (int64_t)(\(y))))" }
            return "\(math("floor", ot))(\(x) / \(y))"
        case .mod:
            if ot.isUnsignedInteger { return "((\(dialect.typeName(t)))braid_umod((uint64_t)(\(x)), (uint64_t)(\(y))))" }
            if ot.isInteger { return "((\(dialect.typeName(t)))braid_mod((int64_t)(\(x)), (int64_t)(\(y))))" }
            return ot == .float32 ? "braid_fmodf(\(x), \(y))" : "braid_fmod(\(x), \(y))"
        case .pow:
            if case .symbol(.int(2)) = b { return "(\(x) * \(x))" }
            if case .literal(.float(2), _) = b { return "(\(x) * \(x))" }
            if case .literal(.int(2), _) = b { return narrow("(\(x) * \(x))", t) }
            if ot.isInteger { return "((\(dialect.typeName(t)))braid_ipow((int64_t)(\(x)), (int64_t)(\(y))))" }
            if ot.isComplex { return "\(ot == .complex64 ? "cpowf" : "cpow")(\(x), \(y))" }
            return "\(math("pow", ot))(\(x), \(y))"
        case .bitAnd: return narrow("(\(x) & \(y))", t)
        case .bitOr: return narrow("(\(x) | \(y))", t)
        case .bitXor: return narrow("(\(x) ^ \(y))", t)
        // NumPy: a count outside [0, bits) shifts everything out (0, or -1 for >> of a negative
        // value); C leaves it undefined. Counts below 64 give NumPy's result after narrowing.
        case .shl, .shr:
            let name = (op == .shl ? "shl" : "shr")
            if t.isUnsignedInteger {
                return "((\(dialect.typeName(t)))braid_u\(name)((uint64_t)(\(x)), (int64_t)(\(y))))"
            }
            return "((\(dialect.typeName(t)))braid_\(name)((int64_t)(\(x)), (int64_t)(\(y))))"
        case .eq: return "(\(x) == \(y))"
        case .ne: return "(\(x) != \(y))"
        case .lt: return "(\(x) < \(y))"
        case .le: return "(\(x) <= \(y))"
        case .gt: return "(\(x) > \(y))"
        case .ge: return "(\(x) >= \(y))"
        case .and: return eager(b, after: a) ? "((\(x)) & (\(y)))" : "(\(x) && \(y))"
        case .or: return eager(b, after: a) ? "((\(x)) | (\(y)))" : "(\(x) || \(y))"
        case .max: return try minMax(.max, x, y, t)
        case .min: return try minMax(.min, x, y, t)
        }
    }

    /// NumPy's maximum/minimum propagate NaN.
    func minMax(_ op: WCR, _ x: String, _ y: String, _ t: DType) throws -> String {
        let n = op == .max ? "max" : "min"
        if t == .float64 { return "braid_f\(n)(\(x), \(y))" }
        if t == .float32 { return "braid_f\(n)f(\(x), \(y))" }
        if t.isComplex { throw BackendError(program.loc, "maximum/minimum of complex numbers is not supported") }
        if t == .uint64 { return "braid_u\(n)(\(x), \(y))" }
        return "((\(dialect.typeName(t)))braid_i\(n)((int64_t)(\(x)), (int64_t)(\(y))))"
    }

    /// Whether the right operand of `and`/`or` may be evaluated whether or not the left one
    /// decides: both are booleans, and it reads only scalars and what the left operand reads, and calls
    /// nothing (so it cannot read out of bounds or cost more than a comparison). `&` then
    /// replaces `&&` and the loop has no branch per element (np.logical_and of two comparisons
    /// of the same array vectorizes instead of mispredicting on random data).
    func eager(_ y: ScalarExpr, after x: ScalarExpr) -> Bool {
        guard x.dtype == .bool, y.dtype == .bool else { return false }
        func simple(_ e: ScalarExpr) -> Bool {
            switch e {
            case .literal, .symbol, .load: return true
            case .unary(_, let a, _), .cast(let a, _): return simple(a)
            case .binary(let op, let a, let b, let t):
                switch op {
                case .floorDiv, .mod, .pow, .shl, .shr, .div: return false
                default: return !t.isComplex && !a.dtype.isComplex && simple(a) && simple(b)
                }
            case .call, .select: return false
            }
        }
        let before = Self.alwaysRead(x)
        return simple(y) && y.reads.allSatisfy { $0.subset.isEmpty || before.contains($0) }
    }

    /// The memlets an expression reads whatever its values: the right operands of `and`/`or`
    /// and the arms of a select may be skipped (`x[i]` in `i < n and x[i] > 0`), so only
    /// what is read before them counts.
    static func alwaysRead(_ e: ScalarExpr) -> Set<Memlet> {
        switch e {
        case .literal, .symbol: return []
        case .load(let m, _):
            var out: Set<Memlet> = [m]
            for case .index(.dynamic(let x)) in m.subset { out.formUnion(alwaysRead(x)) }
            return out
        case .unary(_, let a, _), .cast(let a, _): return alwaysRead(a)
        case .binary(.and, let a, _, _), .binary(.or, let a, _, _): return alwaysRead(a)
        case .binary(_, let a, let b, _): return alwaysRead(a).union(alwaysRead(b))
        case .call(_, let args, _): return args.reduce(into: []) { $0.formUnion(alwaysRead($1)) }
        case .select(let c, _, _, _): return alwaysRead(c)
        }
    }

    /// A complex product as NumPy computes it (`braid_cmul` of the C headers), not C's `*`.
    func complexProduct(_ x: String, _ y: String, _ t: DType) -> String {
        "\(t == .complex64 ? "braid_cmulf" : "braid_cmul")(\(x), \(y))"
    }

    /// |z| as sqrt(re^2 + im^2) where that neither overflows nor underflows (within about an
    /// ulp, like NumPy's own complex absolute), else libm's hypot, which is exact but an order
    /// of magnitude slower. A statement expression (gcc, clang) keeps the shared prelude free
    /// of complex types, which the HLS target's C++ does not have.
    func complexAbs(_ z: String, single: Bool) -> String {
        absCounter += 1
        let v = "braid_abs\(absCounter)"
        let (t, f, lo, hi) = single ? ("float", "f", "1.17549435e-38f", "3.40282347e38f")
            : ("double", "", "2.2250738585072014e-308", "1.7976931348623157e308")
        return "({ \(t) _Complex \(v) = (\(z)); \(t) \(v)_x = creal\(f)(\(v)), \(v)_y = cimag\(f)(\(v)), "
            + "\(v)_s = \(v)_x * \(v)_x + \(v)_y * \(v)_y; "
            + "(\(v)_s >= \(lo) && \(v)_s <= \(hi)) ? sqrt\(f)(\(v)_s) : hypot\(f)(\(v)_x, \(v)_y); })"
    }

    func math(_ name: String, _ t: DType) -> String {
        if dialect.overloadedMath { return name }
        return t == .float32 ? name + "f" : name
    }

    func call(_ f: Intrinsic, _ args: [ScalarExpr], _ t: DType) throws -> String {
        let xs = try args.map { try expr($0) }
        let at = args[0].dtype
        if at.isComplex {
            guard dialect.supportsComplex else {
                throw BackendError(program.loc, "complex math is not supported by the \(dialect.name) target yet")
            }
            let suffix = at == .complex64 ? "f" : ""
            switch f {
            case .abs: return complexAbs(xs[0], single: at == .complex64)
            case .real: return "creal\(suffix)(\(xs[0]))"
            case .imag: return "cimag\(suffix)(\(xs[0]))"
            case .conj: return "conj\(suffix)(\(xs[0]))"
            case .exp, .log, .sqrt, .sin, .cos, .tan, .sinh, .cosh, .tanh:
                return "c\(f.rawValue)\(suffix)(\(xs[0]))"
            case .power: return "cpow\(suffix)(\(xs[0]), \(xs[1]))"
            default: throw BackendError(program.loc, "np.\(f.rawValue) of complex numbers is not supported yet")
            }
        }
        if at.isInteger || at.isBool {
            switch f {
            case .abs: return at.isUnsignedInteger || at.isBool ? xs[0] : "((\(dialect.typeName(t)))braid_iabs((int64_t)(\(xs[0]))))"
            case .real, .conj: return xs[0]
            default: break
            }
        }
        let name: String
        switch f {
        case .arcsin: name = "asin"
        case .arccos: name = "acos"
        case .arctan: name = "atan"
        case .arctan2: name = "atan2"
        case .arcsinh: name = "asinh"
        case .arccosh: name = "acosh"
        case .arctanh: name = "atanh"
        case .abs: name = "fabs"
        case .power: name = "pow"
        case .real, .conj: return xs[0]
        case .imag: return literal(.float(0), t)
        default: name = f.rawValue
        }
        return "\(math(name, t))(\(xs.joined(separator: ", ")))"
    }

    /// C helpers every generated translation unit includes (Python integer semantics, NaN-propagating min/max).
    public static let prelude = """
    static inline int64_t braid_floordiv(int64_t a, int64_t b) { if (b == 0) return 0; if (b == -1) return (int64_t)(0 - (uint64_t)a); int64_t q = a / b; return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q; }
    static inline int64_t braid_mod(int64_t a, int64_t b) { if (b == 0 || b == -1) return 0; int64_t r = a % b; return (r != 0 && ((r < 0) != (b < 0))) ? r + b : r; }
    static inline uint64_t braid_ufloordiv(uint64_t a, uint64_t b) { return b == 0 ? 0 : a / b; }
    static inline uint64_t braid_umod(uint64_t a, uint64_t b) { return b == 0 ? 0 : a % b; }
    static inline int64_t braid_shl(int64_t a, int64_t b) { return (uint64_t)b < 64 ? (int64_t)((uint64_t)a << b) : 0; }
    static inline int64_t braid_shr(int64_t a, int64_t b) { return (uint64_t)b < 64 ? a >> b : (a < 0 ? -1 : 0); }
    static inline uint64_t braid_ushl(uint64_t a, int64_t b) { return (uint64_t)b < 64 ? a << b : 0; }
    static inline uint64_t braid_ushr(uint64_t a, int64_t b) { return (uint64_t)b < 64 ? a >> b : 0; }
    static inline int64_t braid_imin(int64_t a, int64_t b) { return a < b ? a : b; }
    static inline int64_t braid_imax(int64_t a, int64_t b) { return a > b ? a : b; }
    static inline uint64_t braid_umin(uint64_t a, uint64_t b) { return a < b ? a : b; }
    static inline uint64_t braid_umax(uint64_t a, uint64_t b) { return a > b ? a : b; }
    static inline int64_t braid_iabs(int64_t a) { return a < 0 ? -a : a; }
    static inline int64_t braid_ipow(int64_t a, int64_t b) { int64_t r = 1; if (b < 0) return 0; while (b) { if (b & 1) r *= a; a *= a; b >>= 1; } return r; }
    static inline double braid_fmax(double a, double b) { return (a > b || a != a) ? a : b; }
    static inline double braid_fmin(double a, double b) { return (a < b || a != a) ? a : b; }
    static inline float braid_fmaxf(float a, float b) { return (a > b || a != a) ? a : b; }
    static inline float braid_fminf(float a, float b) { return (a < b || a != a) ? a : b; }
    static inline double braid_fmod(double a, double b) { double r = fmod(a, b); if (r != 0 && ((r < 0) != (b < 0))) r += b; return r; }
    static inline float braid_fmodf(float a, float b) { float r = fmodf(a, b); if (r != 0 && ((r < 0) != (b < 0))) r += b; return r; }

    """
}
