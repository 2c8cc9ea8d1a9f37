import BraidIR

/// Thrown when a scalar variable turns out to need a wider type than its first
/// assignment gave it; lowering restarts with the wider type (a tiny fixpoint
/// type inference that needs no separate pass over the AST).
struct WidenRestart: Error {
    var name: String
    var dtype: DType
    /// The variable first held a Python scalar (weak) but later a NumPy one.
    var strong = false
}

/// Thrown when an array name turns out to be rebound to arrays of different shapes (inside a
/// loop, or in the branches of an `if`): lowering restarts with the name given its own
/// dynamic storage from its first binding on, so every use sees its current shape.
struct DynamicRestart: Error {
    var name: String
    /// Only storage of its own (a name bound to a parameter or a view before a loop that
    /// rebinds it to new arrays of the same shape), not a dynamic shape.
    var owned = false
}

/// Lowers one entry-point function (and the helpers it calls, inlined) to a `Program`.
final class FunctionLowerer {
    let ctx: ModuleContext
    let entry: EntryPoint
    /// Scalar variables whose type must be at least this (from earlier restarts).
    let widened: [String: DType]
    /// Variables that hold NumPy (strong) scalars at some point (from earlier restarts).
    let strongVariables: Set<String>
    /// Array names (with their inline prefix) rebound to arrays of different shapes (from
    /// earlier restarts): each has one dynamic container, reallocated at every binding.
    let dynamicNames: Set<String>
    /// Array names (with their inline prefix) that get a copy of the array they are first
    /// bound to, because a loop rebinds them after a binding to a parameter or a view.
    let ownedNames: Set<String>
    /// The dynamic container of each name in `dynamicNames` once bound.
    var dynamicStorage: [String: String] = [:]
    /// Integer scalars written once, just before the dynamic array they size is allocated
    /// (counts of selections): such shapes need no private copy.
    var privateSizes: Set<String> = []
    /// Arrays copied into a name's dynamic storage while other names may still reach them:
    /// the copy is only faithful if nothing writes them afterwards (checked at the end).
    var copiedSources: [(container: String, writes: Int, name: String, loc: SourceLocation)] = []
    /// Container counts where each enclosing loop body began (innermost last).
    var loopBodyStarts: [Int] = []
    /// Per enclosing loop body: arrays created in it that a longer-lived name copied.
    var loopCopies: [[(container: String, writes: Int, name: String, loc: SourceLocation)]] = []
    /// Names whose array was overwritten by another name's rebinding (name -> that name, where).
    var staleNames: [String: (String, SourceLocation)] = [:]
    /// Names that, after a loop, would be the same array as another name which the loop gave
    /// a copy instead (name -> (other name, where it was bound)): using them is an error.
    var splitAliases: [String: (String, SourceLocation)] = [:]
    /// How many times each container has been written so far.
    var writeCounts: [String: Int] = [:]
    /// Names written in place somewhere in the function (`x[...] = v`, `x += v`).
    var inPlaceTargets: Set<String> = []
    /// The lines of the in-place writes to each name (as `inPlaceTargets`).
    var inPlaceLines: [String: [Int]] = [:]
    /// Where the loops being lowered start (outermost first).
    var loopStarts: [SourceLocation] = []
    /// Scalar containers that hold Python scalars (weak in NumPy 2 promotion).
    var weakScalars: Set<String> = []

    var containers: [Container] = []
    var containerIndex: [String: Int] = [:]
    /// Python names in the current (possibly inlined) function scope.
    var env: [String: Value] = [:]
    /// Loop depth at which each array name was bound (to reject rebinding inside loops).
    var bindingDepth: [String: Int] = [:]
    var loopDepth = 0
    /// Containers created since the right-hand side of the current assignment began.
    var freshContainersStart = 0
    /// How many times each name is assigned in the function being lowered (parameters count once).
    var assignCounts: [String: Int] = [:]
    /// Ranges of the enclosing loop and map variables (for bounding loop-dependent shapes).
    var loopRanges: [String: SymRange] = [:]
    /// Conditions under which the expression being lowered is evaluated at all (inside
    /// `a if c else b`, `p and q`, `p or q`): index checks apply only then.
    var indexGuards: [ScalarExpr] = []
    var blocks: [[Node]] = [[]]
    /// An identity for each open block (innermost last), to tell straight-line code apart.
    var blockIDs: [Int] = [0]
    var blockCounter = 0
    /// Functions defined inside the function being compiled (closures): the definition, the
    /// scope it was defined in, and that scope's names when it was defined.
    var localFunctions: [String: (def: PyFunctionDef, prefix: String, env: [String: Value], depth: [String: Int])] = [:]
    /// The scopes suspended by the inlined calls in progress (innermost last): their prefix
    /// and names, so a closure called further in reads its defining scope's current names.
    var suspendedScopes: [(prefix: String, env: [String: Value], depth: [String: Int])] = []
    /// Inside an inlined program: its shape symbols, bound to the sizes of the arrays it was
    /// called with (`bins` of `bin_edges: float64[bins + 1]` called with `npt + 1` elements).
    var symbolBindings: [String: SymExpr] = [:]
    /// Variables keeping the values of names bound to expressions of loop variables (r = i).
    var loopValueShadows: [String: String] = [:]
    /// The block in which each named scalar variable's container was created.
    var scalarBlocks: [String: Int] = [:]
    /// Counts of true elements computed for masks in the current straight-line code:
    /// (block, mask, write counts of the containers it reads) -> the count scalar.
    var maskCounts: [(block: Int, mask: Lazy, writes: [Int], count: String)] = []
    /// Scalars created inside each enclosing map scope (innermost last).
    var mapLocals: [[String]] = []
    var symbols: [String] = []
    var assertions: [(SymExpr, SymExpr, String)] = []
    var results: [String]? = nil
    var returnsTuple = false
    /// The entry function's only `return`, when it is its last statement: arrays it
    /// returns can be the result storage itself instead of being copied into it.
    var finalReturn: SourceLocation? = nil
    var usedNames: Set<String> = []
    var counter = 0
    /// Numbers the names of arguments lowered ahead of their call (apart from `counter`, so
    /// the names of containers and loop variables do not depend on them).
    var argumentCounter = 0
    /// Where a comprehension may stand while the arguments of a call are lowered: `.list` in
    /// np.array(...) and reductions, `.generator` (lists too) in sum(), min() and max().
    var comprehensionUse: ComprehensionUse = .none
    enum ComprehensionUse { case none, list, generator }
    /// Names of scalar variables private to the current inlined helper (for renaming).
    var inlinePrefix = ""
    var inlineStack: [String] = []

    init(ctx: ModuleContext, entry: EntryPoint, widened: [String: DType], strongVariables: Set<String> = [],
         dynamicNames: Set<String> = [], ownedNames: Set<String> = []) {
        self.strongVariables = strongVariables
        self.dynamicNames = dynamicNames
        self.ownedNames = ownedNames
        self.ctx = ctx
        self.entry = entry
        self.widened = widened
        usedNames = Set(ctx.symbols).union(CNames.reserved)
    }

    // MARK: Entry

    func lower() throws -> Program {
        var names = dynamicNames, owned = ownedNames
        for _ in 0..<16 {
            do {
                return try FunctionLowerer(ctx: ctx, entry: entry, widened: widened, strongVariables: strongVariables,
                                           dynamicNames: names, ownedNames: owned).lowerOnce()
            } catch let r as DynamicRestart {
                guard !names.contains(r.name), !(r.owned && owned.contains(r.name)) else {
                    throw Diagnostic(entry.function.loc, "internal: '\(r.name)' already has storage of its own")
                }
                if r.owned { owned.insert(r.name) } else { names.insert(r.name) }
            }
        }
        throw Diagnostic(entry.function.loc, "too many arrays rebound to different shapes")
    }

    func lowerOnce() throws -> Program {
        let f = entry.function
        inPlaceTargets = Self.inPlaceTargets(f)
        inPlaceLines = Self.inPlaceLines(f)
        var params: [String] = []
        for (k, (arg, type)) in zip(f.args, entry.paramTypes).enumerated() {
            let name = unique(arg.name)
            switch type {
            case .array(let d, let shape):
                for s in shape.flatMap(\.freeSymbols) where !symbols.contains(s) { symbols.append(s) }
                addContainer(Container(name: name, dtype: d, shape: shape, role: .argument(index: k), storage: .hostHeap))
                env[arg.name] = .array(Lazy(node: .view(.whole(containers.last!)), shape: shape, dtype: d))
            case .scalar(let d, let weak):
                addContainer(Container(name: name, dtype: d, shape: [], role: .argument(index: k), storage: .register))
                scalarBlocks[name] = blockIDs[0]
                env[arg.name] = readScalarContainer(name)
                if weak, case .scalar(let x, _)? = env[arg.name] { env[arg.name] = .scalar(x, weak: true) }
            }
            bindingDepth[arg.name] = 0
            params.append(name)
        }
        // Parameters rebound to arrays of other shapes start as a copy in their own storage.
        for arg in f.args where dynamicNames.contains(arg.name) || ownedNames.contains(arg.name) {
            guard case .array(let l)? = env[arg.name], let v = l.asView else { continue }
            freshContainersStart = containers.count
            if dynamicNames.contains(arg.name) {
                env[arg.name] = nil
                try bindDynamic(arg.name, l, loc: arg.loc)
            } else {
                try noteCopy(arg.name, of: v, loc: arg.loc)
                env[arg.name] = .array(try materializeNew(l, hint: arg.name, loc: arg.loc))
            }
        }
        var defaults: [String: String] = [:]
        let firstDefault = f.args.count - f.defaults.count
        for (k, d) in f.defaults.enumerated() {
            guard case .constant(let c) = d.kind else {
                throw Diagnostic(d.loc, "default values must be literals (numbers, True/False)")
            }
            defaults[f.args[firstDefault + k].name] = Self.literalText(c)
        }
        assignCounts = Self.assignmentCounts(f)
        if let last = f.body.last, case .return = last.kind, !containsReturn(Array(f.body.dropLast())) {
            finalReturn = last.loc
        }
        try lowerBlock(f.body)
        for s in copiedSources where (writeCounts[s.container] ?? 0) != s.writes {
            throw Diagnostic(s.loc, "'\(s.name)' gets its own copy of this array here (it is rebound later inside a loop, or to arrays of other shapes), but the array is also modified in place afterwards, which in Python would show through '\(s.name)'; give the rebound name a fresh array (\(s.name) = x.copy())")
        }
        let body = blocks.removeLast()
        var program = Program(name: f.name, params: params, pythonParamNames: f.args.map(\.name), defaults: defaults, symbols: symbols,
                       containers: containers, results: results ?? [], shapeAssertions: assertions,
                       body: body, loc: f.loc)
        program.returnsTuple = returnsTuple
        return program
    }

    /// Counts assignments per name (targets of =, op=, annotated =, for loops; parameters once).
    static func assignmentCounts(_ f: PyFunctionDef) -> [String: Int] {
        var counts: [String: Int] = [:]
        for a in f.args { counts[a.name, default: 0] += 1 }
        func target(_ e: PyExpr) {
            switch e.kind {
            case .name(let n): counts[n, default: 0] += 1
            case .tuple(let ts), .list(let ts): ts.forEach(target)
            default: break
            }
        }
        func walk(_ stmts: [PyStmt]) {
            for s in stmts {
                switch s.kind {
                case .assign(let ts, _): ts.forEach(target)
                case .augAssign(let t, _, _): target(t); target(t)
                case .annAssign(let t, _, _): target(t)
                case .for(let t, _, let b, let o): target(t); target(t); walk(b); walk(o)
                case .while(_, let b, let o), .if(_, let b, let o): walk(b); walk(o)
                default: break
                }
            }
        }
        walk(f.body)
        return counts
    }

    /// Names used as the base of an in-place write: `x[...] = v`, `x[...] += v`, `x += v`.
    /// The lines of the statements writing into each name in place (see `inPlaceTargets`).
    static func inPlaceLines(_ f: PyFunctionDef) -> [String: [Int]] {
        var out: [String: [Int]] = [:]
        func walk(_ stmts: [PyStmt]) {
            for s in stmts {
                switch s.kind {
                case .for(_, _, let b, let o), .while(_, let b, let o), .if(_, let b, let o): walk(b); walk(o)
                default:
                    let probe = PyFunctionDef(name: "", args: [], defaults: [], body: [s], decorators: [], returns: nil, loc: s.loc)
                    for n in inPlaceTargets(probe) { out[n, default: []].append(s.loc.line) }
                }
            }
        }
        walk(f.body)
        return out
    }

    static func inPlaceTargets(_ f: PyFunctionDef) -> Set<String> {
        var out: Set<String> = []
        func base(_ e: PyExpr) {
            switch e.kind {
            case .name(let n): out.insert(n)
            case .subscript(let b, _), .attribute(let b, _): base(b)
            case .tuple(let ts), .list(let ts): ts.forEach(target)
            default: break
            }
        }
        func target(_ e: PyExpr) {
            switch e.kind {
            case .subscript(let b, _): base(b)
            case .tuple(let ts), .list(let ts): ts.forEach(target)
            default: break
            }
        }
        func walk(_ stmts: [PyStmt]) {
            for s in stmts {
                switch s.kind {
                case .assign(let ts, _): ts.forEach(target)
                case .augAssign(let t, _, _): base(t)
                case .annAssign(let t, _, _): target(t)
                case .for(_, _, let b, let o), .while(_, let b, let o), .if(_, let b, let o): walk(b); walk(o)
                default: break
                }
            }
        }
        walk(f.body)
        return out
    }

    static func literalText(_ c: PyConstant) -> String {
        switch c {
        case .int(let v): return "\(v)"
        case .float(let v): return "\(v)"
        case .bool(let b): return b ? "True" : "False"
        case .complex(let r, let i): return "complex(\(r), \(i))"
        case .string(let s): return "'\(s)'"
        case .none: return "None"
        case .ellipsis: return "..."
        }
    }

    // MARK: Containers and names

    func unique(_ base: String) -> String {
        var name = CNames.sanitize(base)
        if usedNames.contains(name) {
            var k = 1
            while usedNames.contains("\(name)_\(k)") { k += 1 }
            name = "\(name)_\(k)"
        }
        usedNames.insert(name)
        return name
    }

    func fresh(_ hint: String) -> String {
        counter += 1
        return unique("_\(hint)\(counter)")
    }

    func addContainer(_ c: Container) {
        containerIndex[c.name] = containers.count
        containers.append(c)
    }

    func container(_ name: String) -> Container { containers[containerIndex[name]!] }

    func markWritten(_ name: String) {
        containers[containerIndex[name]!].isWritten = true
        writeCounts[name, default: 0] += 1
    }

    /// A new scalar transient (private to the innermost enclosing map, if any).
    func newScalar(_ hint: String, _ dtype: DType, named: Bool = false) -> String {
        let name = named ? unique(inlinePrefix + hint) : fresh(hint)
        addContainer(Container(name: name, dtype: dtype, shape: [], role: .transient, storage: .register))
        if !mapLocals.isEmpty { mapLocals[mapLocals.count - 1].append(name) }
        return name
    }

    /// A new array transient of the given shape. A shape that depends on enclosing loop
    /// variables is allocated once at its largest extent over the loop ranges; the
    /// returned view then has the exact (loop-dependent) shape.
    func newArray(_ hint: String, _ dtype: DType, _ shape: [SymExpr], loc: SourceLocation) throws -> ArrayView {
        let bounded = try shape.map { try upperBound($0, loc: loc) }
        if bounded.contains(where: dependsOnData) {
            return try newDynamicArray(hint, dtype, shape, loc: loc)
        }
        let name = unique(inlinePrefix + hint)
        addContainer(Container(name: name, dtype: dtype, shape: bounded, role: .transient, storage: .hostHeap))
        return ArrayView(container: name, dtype: dtype, shape: shape, access: ArrayView.placeholders(shape.count))
    }

    /// The largest value of a dimension over the enclosing loops, in symbols and parameters only.
    func upperBound(_ d: SymExpr, loc: SourceLocation) throws -> SymExpr {
        var e = d
        for _ in 0..<8 {
            let loopSyms = e.freeSymbols.filter { loopRanges[$0] != nil }
            if loopSyms.isEmpty { break }
            for v in loopSyms {
                let r = loopRanges[v]!
                guard let (c, _) = e.linear(in: v) else {
                    throw Diagnostic(loc, "this array's size depends non-linearly on the loop variable '\(v)'; Braid cannot bound it")
                }
                let extreme = c >= 0 ? r.end - 1 : r.start
                e = e.substituting([v: extreme])
            }
        }
        return e
    }

    /// Whether a size uses values computed while the program runs (not only symbols,
    /// integer parameters and loop variables).
    func dependsOnData(_ d: SymExpr) -> Bool {
        d.freeSymbols.contains { s in
            if symbols.contains(s) || loopRanges[s] != nil { return false }
            if let c = containerIndex[s].map({ containers[$0] }), c.isArgument { return false }
            return true
        }
    }

    /// A new array whose shape depends on data: a dynamic container allocated here (again
    /// each time this point runs). Sizes that may change later are first copied into
    /// private scalars, so the container's shape stays the one it was allocated with.
    func newDynamicArray(_ hint: String, _ dtype: DType, _ shape: [SymExpr], loc: SourceLocation) throws -> ArrayView {
        guard mapLocals.isEmpty else {
            throw Diagnostic(loc, "an array whose size depends on data cannot be created inside a parallel map (\(ctx.braidAliasName).map); create it before the map, or use a range loop")
        }
        let dims = shape.map { d -> SymExpr in
            if d.constant != nil || d.freeSymbols.allSatisfy({ s in symbols.contains(s) || privateSizes.contains(s) || isStableSymbolic(.sym(s)) && loopRanges[s] == nil }) {
                return d
            }
            let s = newScalar("\(hint)_size", .int64)
            emitTasklet(.point(s, []), .symbol(d), loc: loc)
            privateSizes.insert(s)
            return .sym(s)
        }
        let name = unique(inlinePrefix + hint)
        addContainer(Container(name: name, dtype: dtype, shape: dims, role: .transient, storage: .hostHeap, isDynamic: true))
        emit(.allocate(Allocation(container: name, loc: loc)))
        return ArrayView(container: name, dtype: dtype, shape: dims, access: ArrayView.placeholders(dims.count))
    }

    /// The value of reading a scalar container: int64 scalars are symbolic so indices stay analyzable.
    func readScalarContainer(_ name: String) -> Value {
        let c = container(name)
        let weak = weakScalars.contains(name)
        if c.dtype == .int64 { return .scalar(.symbol(.sym(name)), weak: weak) }
        return .scalar(.load(.point(name, []), c.dtype), weak: weak)
    }

    // MARK: Emission

    func emit(_ n: Node) { blocks[blocks.count - 1].append(n) }

    func nested(_ f: () throws -> Void) rethrows -> [Node] {
        blocks.append([])
        blockCounter += 1
        blockIDs.append(blockCounter)
        defer { blockIDs.removeLast() }
        try f()
        return blocks.removeLast()
    }

    func emitTasklet(_ out: Memlet, _ value: ScalarExpr, wcr: WCR? = nil, loc: SourceLocation) {
        markWritten(out.data)
        emit(.tasklet(Tasklet(output: out, wcr: wcr, value: value, loc: loc)))
    }

    /// Emits a map over `shape` whose body `body(idx)` builds; returns nothing.
    func emitMap(_ shape: [SymExpr], loc: SourceLocation, reductions: [String: WCR] = [:],
                 _ body: ([SymExpr]) throws -> Void) rethrows {
        if shape.isEmpty {
            try body([])
            return
        }
        let params = shape.map { _ in fresh("i") }
        for (p, d) in zip(params, shape) { loopRanges[p] = SymRange(.zero, d) }
        mapLocals.append([])
        let inner = try nested { try body(params.map { .sym($0) }) }
        let locals = mapLocals.removeLast()
        emit(.map(MapScope(params: params, ranges: shape.map { SymRange(.zero, $0) }, schedule: .sequential,
                           body: inner, locals: locals, reductions: reductions, loc: loc)))
    }

    // MARK: Shapes

    /// NumPy broadcasting of two shapes; unprovable equalities become run-time checks
    /// (export-signature entries) or errors (declared shapes).
    func broadcast(_ a: [SymExpr], _ b: [SymExpr], loc: SourceLocation) throws -> [SymExpr] {
        let n = max(a.count, b.count)
        var out: [SymExpr] = []
        for k in 0..<n {
            let x = k - (n - a.count) >= 0 ? a[k - (n - a.count)] : SymExpr.one
            let y = k - (n - b.count) >= 0 ? b[k - (n - b.count)] : SymExpr.one
            out.append(try agree(x, y, loc: loc, broadcasting: true))
        }
        return out
    }

    /// Two dimensions that must be equal (or, when broadcasting, one of them 1).
    func agree(_ x: SymExpr, _ y: SymExpr, loc: SourceLocation, broadcasting: Bool) throws -> SymExpr {
        if x == y { return x }
        // A slice's extent max(e, 0) agrees with max(e, 0) and, where e is made of declared
        // sizes only, with e: they differ only where e < 0, and no array has a negative extent.
        func unclamped(_ e: SymExpr) -> SymExpr {
            if case .max(let p, let q) = e, p == .zero || q == .zero { return unclamped(p == .zero ? q : p) }
            return e
        }
        let (ux, uy) = (unclamped(x), unclamped(y))
        if ux == uy && (x != ux && y != uy || ux.freeSymbols.allSatisfy { symbols.contains($0) }) {
            return x == ux ? y : x
        }
        if broadcasting && x == .one { return y }
        if broadcasting && y == .one { return x }
        if let d = (x - y).constant, d != 0 {
            throw Diagnostic(loc, "shapes do not agree: dimension \(x) vs \(y)")
        }
        // Declared shapes are trusted to be distinct where their symbols differ; sizes computed
        // from integer parameters or data (np.arange(n * m), selections) are checked when known.
        let declaredOnly: (SymExpr) -> Bool = { e in e.freeSymbols.allSatisfy { self.symbols.contains($0) } }
        // Slice extents clamped to their dimension (min/max) are compared when the module is called.
        func clamped(_ e: SymExpr) -> Bool {
            switch e {
            case .min, .max: return true
            case .int, .sym: return false
            case .add(let ts), .mul(let ts): return ts.contains(where: clamped)
            case .floorDiv(let a, let b), .mod(let a, let b): return clamped(a) || clamped(b)
            }
        }
        // Only where declaring one symbol could fix it (N vs M, N + 1 vs M): sizes computed from
        // several symbols (a reshape to (N, C) of an (N, H // 2, W // 2, 16) array) are checked
        // when the module is called, as the relation between the symbols is the caller's.
        func simple(_ e: SymExpr) -> Bool { e.freeSymbols.count <= 1 && e.freeSymbols.allSatisfy { e.linear(in: $0) != nil } }
        if entry.declaredShapes && declaredOnly(x) && declaredOnly(y) && !clamped(x) && !clamped(y) && simple(x) && simple(y) {
            throw Diagnostic(loc, "shapes do not agree: dimension \(x) vs \(y); declare both with the same symbol if they are equal")
        }
        let msg = "\(loc): shapes do not agree: \(x) != \(y)"
        // Checked when the module is called if it only involves sizes and parameters;
        // otherwise (loop variables, data) where the operation runs.
        let atEntry: (SymExpr) -> Bool = { e in
            e.freeSymbols.allSatisfy { s in
                if self.symbols.contains(s) { return true }
                guard let k = self.containerIndex[s], case .argument = self.containers[k].role else { return false }
                return self.assignCounts[s] == 1
            }
        }
        let (lhs, rhs): (SymExpr, SymExpr) = atEntry(x) && atEntry(y) ? (x, y) : (x - y, .zero)
        if atEntry(lhs) {
            if !assertions.contains(where: { $0.0 == lhs && $0.1 == rhs }) { assertions.append((lhs, rhs, msg)) }
        } else {
            let condition = ScalarExpr.binary(.ne, .symbol(x), .symbol(y), .bool)
            // The same check just made (an operand checked twice on one line) is not repeated.
            if case .branch(let b)? = blocks[blocks.count - 1].last, b.condition == condition, b.orElse.isEmpty,
               b.then.count == 1, case .fail(.shapeMismatch, _) = b.then[0] {
                return x
            }
            emit(.branch(Branch(condition: condition, then: [.fail(.shapeMismatch, loc)], orElse: [], loc: loc)))
        }
        return x
    }
}

/// C identifiers: names from Python are kept, except where they collide with C.
enum CNames {
    static let reserved: Set<String> = [
        "auto", "break", "case", "char", "const", "continue", "default", "do", "double", "else", "enum",
        "extern", "float", "for", "goto", "if", "inline", "int", "long", "register", "restrict", "return",
        "short", "signed", "sizeof", "static", "struct", "switch", "typedef", "union", "unsigned", "void",
        "volatile", "while", "bool", "true", "false", "main", "exp", "log", "sqrt", "sin", "cos", "tan",
        "abs", "fabs", "pow", "floor", "ceil", "round", "max", "min", "fmax", "fmin", "exit", "malloc",
        "free", "printf", "memcpy", "memset", "errno", "I", "NAN", "INFINITY", "kernel", "global", "local",
        "private", "constant", "half", "atan2", "tanh", "sinh", "cosh", "time", "index", "signal", "y0", "y1",
        "j0", "j1", "yn", "jn", "gamma", "div", "rand", "new", "delete", "class", "this", "template",
        "namespace", "operator", "public", "protected", "virtual", "complex", "imag", "real",
        "typename", "using", "nullptr", "mutable", "explicit", "friend", "export", "decltype", "noexcept",
        "constexpr", "alignas", "alignof", "char16_t", "char32_t", "thread_local", "static_assert", "try",
        "catch", "throw", "typeid", "wchar_t", "and", "or", "not", "xor", "std",
    ]

    static func sanitize(_ s: String) -> String {
        var out = ""
        for ch in s.unicodeScalars {
            if ch.properties.isAlphabetic && ch.isASCII || ch == "_" || (ch.isASCII && ch.properties.numericType != nil) {
                out.unicodeScalars.append(ch)
            } else {
                out += "_"
            }
        }
        if out.isEmpty || out.first!.isNumber { out = "_" + out }
        return out
    }
}
