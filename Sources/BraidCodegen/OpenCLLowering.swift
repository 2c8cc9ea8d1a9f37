import BraidIR

/// One generated `__kernel` function.
struct OpenCLKernel {
    var name: String
    var function: CFunction
}

/// The kernels of a module, in the order the host indexes them (`braid_ocl_kernels[k]`).
final class OpenCLKernelTable {
    var kernels: [OpenCLKernel] = []
    func add(_ k: OpenCLKernel) -> Int {
        kernels.append(k)
        return kernels.count - 1
    }
}

/// A kernel argument: its OpenCL C declaration and how the host passes it.
struct OpenCLKernelArg {
    var type: String
    var name: String
    /// `sizeof` operand and pointer the host gives `clSetKernelArg`.
    var hostSize: String
    var hostValue: String
}

/// Lowers one program to OpenCL kernels plus the host entry point that runs them.
///
/// Execution model:
/// - every array the program touches lives in a device buffer for the whole call: arguments
///   are copied in when the buffer is created, results and written arguments are read back
///   at the end (only on success). An array whose size depends on data gets its buffer where
///   the program allocates it (`allocate`: the host reads the extents back and replaces a
///   buffer that is too small); a dynamic result goes back to the caller in host memory;
/// - a scalar container the device writes (scalar transients, results, written scalar
///   arguments) lives in a one-element device buffer; the host keeps a mirror it refreshes
///   (a blocking read) right before host code reads it. Read-only scalar arguments, size
///   symbols and host loop variables are passed to kernels by value;
/// - each outermost `deviceKernel` map is one NDRange kernel over up to three of its
///   parameters (the others are loops inside); a map with scalar reductions runs as a
///   grid-stride kernel writing one partial per work-item, then a single-work-item kernel
///   folds the partials into the scalar in a fixed order (no floating-point atomics);
/// - a selection loop (`x[mask]`, `np.nonzero`) runs as count, scan and ordered-write kernels,
///   and a run-time check over many elements as one kernel raising a flag (`Compaction`,
///   `parallelCheck`);
/// - control flow that contains a kernel map (or a `return`, or a `break`/`continue` of a host
///   loop) runs on the host; conditions reading array elements are computed by a tiny kernel;
/// - every other run of consecutive nodes (tasklets, sequential maps, loops without kernel
///   maps) becomes one single-work-item kernel, so data never leaves the device.
final class OpenCLProgramLowering {
    /// Maximum number of partial results of a reduction map (its global work size), and of
    /// chunks of a selection.
    static let reductionWorkItems = 4096

    let original: Program
    /// The program with OpenCL-safe names (and synthetic containers); what the code spells.
    var program: Program
    let table: OpenCLKernelTable
    let file: String
    /// Host-side rendering of expressions (conditions, sizes) over the host's variables.
    var host: CLowering!

    var deviceScalars = Set<String>()
    /// Transient scalars private to the one single-work-item kernel that uses them.
    var groupPrivate = Set<String>()
    var valueScalars = Set<String>()
    /// Arrays with a device buffer, in declaration order.
    var bufferArrays: [Container] = []
    var written = Set<String>()
    /// Loop variables of enclosing host loops (innermost last).
    var hostLoopVars: [String] = []
    /// Partial-result buffers of reduction maps: (host variable, dtype).
    var partialBuffers: [(String, DType)] = []
    var kernelCount = 0
    var hoistCount = 0
    static let condition = "braid_cond"
    /// Set by a parallel run-time check when any element fails it.
    static let failFlag = "braid_failed"

    init(program original: Program, table: OpenCLKernelTable) throws {
        self.original = original
        self.table = table
        self.file = original.loc.file.split(separator: "/").last.map(String.init) ?? original.loc.file
        try Self.checkSupported(original)
        var (p, _) = OpenCLNames.legalize(original)
        p = Self.explicitComplexUpdates(p)
        if Self.containsParallelCheck(p.body) {
            p.containers.append(Container(name: Self.failFlag, dtype: .bool, shape: [], role: .transient,
                                          storage: .register, isWritten: true))
        }
        if Self.needsDeviceCondition(p.body, p) {
            p.containers.append(Container(name: Self.condition, dtype: .bool, shape: [], role: .transient,
                                          storage: .register, isWritten: true))
        }
        program = p
        classify()
        host = CLowering(program: program, dialect: OpenCLBackend.hostDialect)
    }

    var kernelPrefix: String { "braid_k_\(cIdentifierFragment(original.name))_" }

    // MARK: Checks

    /// Rejects what the OpenCL target cannot run (reported at its line): np.linalg (no LAPACK
    /// on the device), and complex operations without an OpenCL helper.
    static func checkSupported(_ p: Program) throws {
        func complexCheck(_ e: ScalarExpr, _ loc: SourceLocation) throws {
            if let what = OpenCLComplex.unsupportedOperation(e) {
                throw BackendError(loc, "\(what) of complex numbers is not supported yet (complex numbers have +, -, *, /, **, ==, !=, abs, conj, real, imag, exp, log, sqrt, sin, cos, tan, sinh, cosh and tanh)")
            }
        }
        func visit(_ nodes: [Node]) throws {
            for n in nodes {
                switch n {
                case .tasklet(let t):
                    try complexCheck(t.value, t.loc)
                    if let c = p.container(t.output.data), c.dtype.isComplex, t.wcr == .max || t.wcr == .min {
                        throw BackendError(t.loc, "maximum/minimum of complex numbers is not supported yet; compare np.abs(z) or z.real instead")
                    }
                case .library(let l):
                    if case .linalg = l.op {
                        throw BackendError(l.loc, "\(l.op.numpyName) is not supported on the opencl target yet (it needs LAPACK); use --target cpu")
                    }
                case .map(let m):
                    if Set(m.params).count != m.params.count {
                        throw BackendError(m.loc, "internal: map with repeated parameters \(m.params.joined(separator: ", "))")
                    }
                    try visit(m.body)
                case .forLoop(let f): try visit(f.body)
                case .whileLoop(let w):
                    try complexCheck(w.condition, w.loc)
                    try visit(w.body)
                case .branch(let b):
                    try complexCheck(b.condition, b.loc)
                    try visit(b.then)
                    try visit(b.orElse)
                default: break
                }
            }
        }
        try visit(p.body)
    }

    /// Complex write-conflict resolution spelled out (`z = z * v`): the lowering's `lhs * value`
    /// would multiply the vectors elementwise. Device code is sequential within a work-item, and
    /// a reduction's accumulator is private to its work-item, so the two are the same.
    static func explicitComplexUpdates(_ p: Program) -> Program {
        func node(_ n: Node) -> Node {
            switch n {
            case .tasklet(var t):
                guard let op = t.wcr, let c = p.container(t.output.data), c.dtype.isComplex else { return n }
                let binary: BinaryOp = op == .mul ? .mul : .add
                t.value = .binary(binary, .load(t.output, c.dtype), OpenCLComplex.promote(t.value, c.dtype), c.dtype)
                t.wcr = nil
                return .tasklet(t)
            case .map(var m):
                m.body = m.body.map(node)
                return .map(m)
            case .forLoop(var f):
                f.body = f.body.map(node)
                return .forLoop(f)
            case .whileLoop(var w):
                w.body = w.body.map(node)
                return .whileLoop(w)
            case .branch(var b):
                b.then = b.then.map(node)
                b.orElse = b.orElse.map(node)
                return .branch(b)
            case .library, .breakLoop, .continueLoop, .returnProgram, .fail, .allocate:
                return n
            }
        }
        var q = p
        q.body = p.body.map(node)
        return q
    }

    // MARK: Host / device partition

    static func containsDeviceMap(_ nodes: [Node]) -> Bool {
        nodes.contains { n in
            switch n {
            case .map(let m): return m.schedule == .deviceKernel || containsDeviceMap(m.body)
            case .forLoop(let f): return compaction(f) != nil || containsDeviceMap(f.body)
            case .whileLoop(let w): return containsDeviceMap(w.body)
            case .branch(let b): return containsDeviceMap(b.then) || containsDeviceMap(b.orElse)
            default: return false
            }
        }
    }

    /// A `return`, a failed check or an allocation: what only the host can do.
    static func containsReturn(_ nodes: [Node]) -> Bool {
        nodes.contains { n in
            switch n {
            case .returnProgram, .fail, .allocate: return true
            case .map(let m): return containsReturn(m.body)
            case .forLoop(let f): return containsReturn(f.body)
            case .whileLoop(let w): return containsReturn(w.body)
            case .branch(let b): return containsReturn(b.then) || containsReturn(b.orElse)
            default: return false
            }
        }
    }

    /// A `break`/`continue` not inside a loop of `nodes` (it leaves an enclosing loop).
    static func containsEscapingJump(_ nodes: [Node]) -> Bool {
        nodes.contains { n in
            switch n {
            case .breakLoop, .continueLoop: return true
            case .branch(let b): return containsEscapingJump(b.then) || containsEscapingJump(b.orElse)
            default: return false
            }
        }
    }

    /// Whether the node runs on the host (a kernel launch or host control flow) rather than
    /// inside a single-work-item kernel.
    static func isHost(_ n: Node) -> Bool {
        switch n {
        case .map(let m): return m.schedule == .deviceKernel || containsDeviceMap(m.body) || containsReturn(m.body)
        case .forLoop(let f): return compaction(f) != nil || containsDeviceMap(f.body) || containsReturn(f.body)
        case .whileLoop(let w): return containsDeviceMap(w.body) || containsReturn(w.body)
        case .branch(let b):
            return containsDeviceMap(b.then) || containsDeviceMap(b.orElse) || containsReturn(b.then)
                || containsReturn(b.orElse) || containsEscapingJump(b.then) || containsEscapingJump(b.orElse)
        case .breakLoop, .continueLoop, .returnProgram, .fail, .allocate: return true
        case .tasklet, .library: return false
        }
    }

    /// Whether the host evaluates a condition that reads array elements (computed on the device).
    static func needsDeviceCondition(_ nodes: [Node], _ p: Program) -> Bool {
        nodes.contains { n in
            guard isHost(n) else { return false }
            switch n {
            case .map(let m): return m.schedule != .deviceKernel && needsDeviceCondition(m.body, p)
            case .forLoop(let f): return needsDeviceCondition(f.body, p)
            case .whileLoop(let w): return readsArray(w.condition, p) || needsDeviceCondition(w.body, p)
            case .branch(let b):
                return readsArray(b.condition, p) || needsDeviceCondition(b.then, p) || needsDeviceCondition(b.orElse, p)
            default: return false
            }
        }
    }

    static func readsArray(_ e: ScalarExpr, _ p: Program) -> Bool {
        e.reads.contains { !(p.container($0.data)?.isScalar ?? true) }
    }

    // MARK: Where containers live

    func classify() {
        var kernelPrivate = Set<String>()
        func allLocals(_ nodes: [Node]) {
            for n in nodes {
                switch n {
                case .map(let m):
                    kernelPrivate.formUnion(m.locals)
                    allLocals(m.body)
                case .forLoop(let f): allLocals(f.body)
                case .whileLoop(let w): allLocals(w.body)
                case .branch(let b):
                    allLocals(b.then)
                    allLocals(b.orElse)
                default: break
                }
            }
        }
        func hostLevel(_ nodes: [Node]) {
            for n in nodes {
                guard Self.isHost(n) else { allLocals([n]); continue }
                switch n {
                case .map(let m) where m.schedule == .deviceKernel: allLocals([n])
                case .map(let m): hostLevel(m.body)
                case .forLoop(let f): hostLevel(f.body)
                case .whileLoop(let w): hostLevel(w.body)
                case .branch(let b):
                    hostLevel(b.then)
                    hostLevel(b.orElse)
                default: break
                }
            }
        }
        hostLevel(program.body)
        var (used, _) = Self.names(program.body)
        for c in program.containers where c.isDynamic && (used.contains(c.name) || program.results.contains(c.name)) {
            // The host reads a dynamic array's extents to allocate it (and to return it).
            used.insert(c.name)
            used.formUnion(c.shape.flatMap(\.freeSymbols))
        }
        written = Self.writtenContainers(program.body)
        // A transient scalar only one single-work-item kernel touches, launched once per call
        // (outside host loops), is a plain variable of that kernel.
        var users: [String: [(isGroup: Bool, inLoop: Bool)]] = [:]
        func user(_ names: Set<String>, group: Bool, inLoop: Bool) {
            for n in names { users[n, default: []].append((group, inLoop)) }
        }
        func partition(_ nodes: [Node], inLoop: Bool) {
            var group: [Node] = []
            func flush() {
                if !group.isEmpty { user(Self.names(group).used, group: true, inLoop: inLoop) }
                group = []
            }
            for n in nodes {
                guard Self.isHost(n) else { group.append(n); continue }
                flush()
                switch n {
                case .map(let m) where m.schedule == .deviceKernel:
                    user(Self.names([n]).used, group: false, inLoop: inLoop)
                case .map(let m):
                    user(symbols(m.ranges), group: false, inLoop: inLoop)
                    partition(m.body, inLoop: true)
                case .forLoop(let f) where Self.compaction(f) != nil:
                    user(Self.names([n]).used, group: false, inLoop: inLoop)
                case .forLoop(let f):
                    user(symbols([f.range]), group: false, inLoop: inLoop)
                    partition(f.body, inLoop: true)
                case .whileLoop(let w):
                    user(scalarReads(w.condition), group: false, inLoop: true)
                    partition(w.body, inLoop: true)
                case .branch(let b):
                    user(scalarReads(b.condition), group: false, inLoop: inLoop)
                    partition(b.then, inLoop: inLoop)
                    partition(b.orElse, inLoop: inLoop)
                case .allocate(let a):
                    if let c = program.container(a.container) {
                        user(Set(c.shape.flatMap(\.freeSymbols)), group: false, inLoop: inLoop)
                    }
                default: break
                }
            }
            flush()
        }
        for name in program.results {
            if let c = program.container(name), c.isDynamic {
                user(Set(c.shape.flatMap(\.freeSymbols)), group: false, inLoop: false)
            }
        }
        partition(program.body, inLoop: false)
        for c in program.containers where c.isScalar && c.isTransient && !kernelPrivate.contains(c.name) {
            if let u = users[c.name], u.count == 1, u[0].isGroup, !u[0].inLoop { groupPrivate.insert(c.name) }
        }
        for c in program.containers {
            if c.isScalar {
                if kernelPrivate.contains(c.name) || groupPrivate.contains(c.name) { continue }
                if c.isArgument && !written.contains(c.name) {
                    valueScalars.insert(c.name)
                } else if used.contains(c.name) || program.results.contains(c.name) || c.name == Self.condition || c.name == Self.failFlag {
                    deviceScalars.insert(c.name)
                }
            } else if used.contains(c.name) {
                bufferArrays.append(c)
            }
        }
    }

    static func writtenContainers(_ nodes: [Node]) -> Set<String> {
        var out = Set<String>()
        func visit(_ nodes: [Node]) {
            for n in nodes {
                switch n {
                case .tasklet(let t): out.insert(t.output.data)
                case .library(let l): for o in l.outputs { out.insert(o.data) }
                case .map(let m): visit(m.body)
                case .forLoop(let f): visit(f.body)
                case .whileLoop(let w): visit(w.body)
                case .branch(let b):
                    visit(b.then)
                    visit(b.orElse)
                default: break
                }
            }
        }
        visit(nodes)
        return out
    }

    /// Names `nodes` mention (containers and symbols), and the names they define
    /// (map parameters and locals, loop variables).
    static func names(_ nodes: [Node]) -> (used: Set<String>, defined: Set<String>) {
        var used = Set<String>(), defined = Set<String>()
        func sym(_ e: SymExpr) { used.formUnion(e.freeSymbols) }
        func memlet(_ m: Memlet) {
            used.insert(m.data)
            for s in m.subset {
                switch s {
                case .index(.sym(let e)): sym(e)
                case .index(.dynamic(let e)): expr(e)
                case .range(let a, let b, let c): sym(a); sym(b); sym(c)
                }
            }
        }
        func expr(_ e: ScalarExpr) {
            switch e {
            case .literal: break
            case .symbol(let s): sym(s)
            case .load(let m, _): memlet(m)
            case .unary(_, let a, _), .cast(let a, _): expr(a)
            case .binary(_, let a, let b, _): expr(a); expr(b)
            case .call(_, let args, _): args.forEach(expr)
            case .select(let c, let a, let b, _): expr(c); expr(a); expr(b)
            }
        }
        func visit(_ nodes: [Node]) {
            for n in nodes {
                switch n {
                case .tasklet(let t):
                    memlet(t.output)
                    expr(t.value)
                case .library(let l): (l.inputs + l.outputs).forEach(memlet)
                case .map(let m):
                    for r in m.ranges { sym(r.start); sym(r.end); sym(r.step) }
                    defined.formUnion(m.params)
                    defined.formUnion(m.locals)
                    visit(m.body)
                case .forLoop(let f):
                    sym(f.range.start); sym(f.range.end); sym(f.range.step)
                    defined.insert(f.variable)
                    visit(f.body)
                case .whileLoop(let w):
                    expr(w.condition)
                    visit(w.body)
                case .branch(let b):
                    expr(b.condition)
                    visit(b.then)
                    visit(b.orElse)
                default: break
                }
            }
        }
        visit(nodes)
        return (used, defined)
    }

    // MARK: Kernels

    /// The lowering of kernel code: device scalars are reached through pointers (`(*s)`),
    /// `privates` are plain variables, read-only scalars are by-value parameters.
    func kernelLowering(privates: Set<String>, extra: [Container] = []) -> CLowering {
        var p = program
        p.containers = program.containers.map { c in
            guard c.isScalar else { return c }
            var c = c
            if privates.contains(c.name) {
                c.role = .transient
            } else if deviceScalars.contains(c.name) {
                c.role = .result(index: 0)
            } else if valueScalars.contains(c.name) {
                c.role = .argument(index: 0)
            } else {
                c.role = .transient
            }
            return c
        } + extra
        return CLowering(program: p, dialect: OpenCLBackend.dialect)
    }

    /// Arguments of a kernel running `nodes`, except `privates` (declared inside it).
    func kernelArgs(_ nodes: [Node], privates: Set<String>, loc: SourceLocation) throws -> [OpenCLKernelArg] {
        var (used, defined) = Self.names(nodes)
        for name in used {
            // Row-major indexing needs every extent but the first.
            if let c = program.container(name), !c.isScalar { used.formUnion(c.shape.dropFirst().flatMap(\.freeSymbols)) }
        }
        used.subtract(defined)
        used.subtract(privates)
        var args: [OpenCLKernelArg] = []
        var done = Set<String>()
        for s in program.symbols where used.contains(s) && program.container(s) == nil && done.insert(s).inserted {
            args.append(index(s))
        }
        for v in hostLoopVars where used.contains(v) && program.container(v) == nil && done.insert(v).inserted {
            args.append(index(v))
        }
        for c in program.containers where used.contains(c.name) && done.insert(c.name).inserted {
            if c.isScalar && valueScalars.contains(c.name) && c.dtype.isComplex {
                // C99 complex has the layout of the OpenCL vector.
                args.append(OpenCLKernelArg(type: OpenCLBackend.deviceType(c.dtype), name: c.name, hostSize: c.dtype.cType,
                                            hostValue: "&\(c.name)"))
            } else if c.isScalar && valueScalars.contains(c.name) {
                let cl = OpenCLBackend.hostCLType(c.dtype)
                args.append(OpenCLKernelArg(type: OpenCLBackend.deviceType(c.dtype), name: c.name, hostSize: cl,
                                            hostValue: "&(\(cl)){\(c.name)}"))
            } else if !c.isScalar || deviceScalars.contains(c.name) {
                args.append(buffer(c.name, c.dtype))
            } else {
                throw BackendError(loc, "internal: scalar '\(c.name)' has no storage in the OpenCL kernel")
            }
        }
        if let missing = used.subtracting(done).sorted().first {
            throw BackendError(loc, "internal: unbound name '\(missing)' in an OpenCL kernel")
        }
        return args
    }

    func index(_ name: String) -> OpenCLKernelArg {
        OpenCLKernelArg(type: "long", name: name, hostSize: "cl_long", hostValue: "&(cl_long){\(name)}")
    }

    func buffer(_ name: String, _ t: DType, kernelName: String? = nil) -> OpenCLKernelArg {
        OpenCLKernelArg(type: "__global \(OpenCLBackend.deviceType(t)) *restrict", name: kernelName ?? name,
                        hostSize: "cl_mem", hostValue: "&\(Self.bufferName(name))")
    }

    static func bufferName(_ container: String) -> String { "braid_buf_\(container)" }

    func addKernel(_ args: [OpenCLKernelArg], _ body: [CStmt], comment: String) -> (Int, String) {
        let name = kernelPrefix + "\(kernelCount)"
        kernelCount += 1
        let f = CFunction(returnType: "void", name: name, params: args.map { ($0.type, $0.name) }, body: body,
                          qualifiers: "__kernel", comment: comment)
        return (table.add(OpenCLKernel(name: name, function: f)), name)
    }

    func lineText(_ loc: SourceLocation) -> String { "\(file):\(loc.line)" }

    // MARK: Host code

    func check(_ call: String) -> CStmt {
        .ifElse(condition: "(braid_status = \(call)) != 0", then: [.goto("braid_exit")], orElse: [])
    }

    /// The host entry point with the extension calling convention.
    func entryFunction() throws -> CFunction {
        let p = program
        var params: [(type: String, name: String)] = p.symbols.map { ("int64_t", $0) }
        for name in p.params {
            let c = p.container(name)!
            params.append(c.isScalar ? (c.dtype.cType, name) : ("\(c.dtype.cType) *restrict", name))
        }
        for name in p.results {
            let c = p.container(name)!
            if c.isDynamic {
                // Host memory the function allocates for the caller, with the shape (see `handOver`).
                params.append(("\(c.dtype.cType) **", CLowering.resultData(name)))
                params.append(("int64_t *", CLowering.resultShape(name)))
                continue
            }
            params.append(c.isScalar ? ("\(c.dtype.cType) *", name) : ("\(c.dtype.cType) *restrict", name))
        }
        let body = try hostStmts(p.body)

        var out: [CStmt] = [.decl(type: "int", name: "braid_status", initializer: "0")]
        for c in p.containers where c.isScalar && c.isTransient && deviceScalars.contains(c.name) {
            out.append(.decl(type: c.dtype.cType, name: c.name, initializer: c.dtype.isBool ? "false" : "0"))
        }
        let buffers = bufferArrays.map(\.name) + p.containers.filter { deviceScalars.contains($0.name) }.map(\.name)
        for b in buffers { out.append(.decl(type: "cl_mem", name: Self.bufferName(b), initializer: "NULL")) }
        for (b, _) in partialBuffers { out.append(.decl(type: "cl_mem", name: b, initializer: "NULL")) }
        for c in bufferArrays where c.isDynamic {
            out.append(.decl(type: "size_t", name: Self.capacityName(c.name), initializer: "0"))
        }
        out.append(.comment("Device, context and program (built on the first call); serializes calls."))
        out.append(check("braid_ocl_enter()"))
        if !bufferArrays.isEmpty || !deviceScalars.isEmpty {
            out.append(.comment("Device buffers: arguments are copied in, results and transients start uninitialized."))
        }
        for c in bufferArrays where !c.isDynamic {
            let bytes = "(size_t)(\(host.size(c))) * sizeof(\(c.dtype.cType))"
            let readOnly = c.isArgument && !written.contains(c.name)
            let (initial, how) = c.isArgument ? (c.name, "BRAID_OCL_INPUT") : c.isTransient ? ("NULL", "BRAID_OCL_EMPTY") : (c.name, "BRAID_OCL_OUTPUT")
            out.append(check("braid_ocl_buffer(&\(Self.bufferName(c.name)), \(bytes), \(initial), \(readOnly ? 1 : 0), \(how), \(cStringLiteral(c.name)))"))
        }
        for c in p.containers where deviceScalars.contains(c.name) {
            let lv = try host.lvalue(.point(c.name, []))
            if case .result = c.role { out.append(.assign(lhs: lv, rhs: c.dtype.isBool ? "false" : "0")) }
            out.append(check("braid_ocl_buffer(&\(Self.bufferName(c.name)), sizeof(\(c.dtype.cType)), &\(lv), 0, BRAID_OCL_COPY, \(cStringLiteral(c.name)))"))
        }
        for (b, t) in partialBuffers {
            out.append(check("braid_ocl_buffer(&\(b), \(Self.reductionWorkItems) * sizeof(\(t.cType)), NULL, 0, BRAID_OCL_EMPTY, \"reduction partials\")"))
        }
        out += body
        out.append(.label("braid_exit"))
        var copyOut: [CStmt] = []
        for c in bufferArrays where !c.isTransient && !c.isDynamic && written.contains(c.name) {
            let bytes = "(size_t)(\(host.size(c))) * sizeof(\(c.dtype.cType))"
            copyOut.append(.assign(lhs: "braid_status", rhs: "braid_ocl_read(\(Self.bufferName(c.name)), \(bytes), \(c.name), \(cStringLiteral(c.name)))"))
        }
        for name in p.results {
            let c = p.container(name)!
            guard c.isScalar, deviceScalars.contains(name) else { continue }
            copyOut.append(.assign(lhs: "braid_status", rhs: "braid_ocl_read(\(Self.bufferName(name)), sizeof(\(c.dtype.cType)), \(name), \(cStringLiteral(name)))"))
        }
        copyOut += try handOver()
        copyOut.append(.assign(lhs: "braid_status", rhs: "braid_ocl_finish()"))
        out.append(.comment("Results and written arguments back to the host (only after success)."))
        for s in copyOut { out.append(.ifElse(condition: "braid_status == 0", then: [s], orElse: [])) }
        for b in buffers { out.append(.expr("braid_ocl_release(&\(Self.bufferName(b)))")) }
        for (b, _) in partialBuffers { out.append(.expr("braid_ocl_release(&\(b))")) }
        out.append(.expr("braid_ocl_leave()"))
        out.append(.return("braid_status"))
        return CFunction(returnType: "int", name: ModuleSource.nativeName(original), params: params, body: out,
                         comment: "Python function '\(original.name)' (\(original.loc)): host code for target opencl")
    }

    /// Each dynamic result (an array whose size depends on data) goes to the caller in host
    /// memory it frees, with its shape; its extents are read back first.
    func handOver() throws -> [CStmt] {
        var out: [CStmt] = []
        for name in program.results {
            guard let c = program.container(name), c.isDynamic else { continue }
            let extents = Set(c.shape.flatMap(\.freeSymbols))
            for s in program.containers where s.isScalar && extents.contains(s.name) && deviceScalars.contains(s.name) {
                let lv = try host.lvalue(.point(s.name, []))
                out.append(.assign(lhs: "braid_status", rhs: "braid_ocl_read(\(Self.bufferName(s.name)), sizeof(\(s.dtype.cType)), &\(lv), \(cStringLiteral(s.name)))"))
            }
            let t = c.dtype.cType
            var give: [CStmt] = [.assign(lhs: "*\(CLowering.resultData(name))", rhs: "braid_host")]
            for (k, d) in c.shape.enumerated() {
                give.append(.assign(lhs: "\(CLowering.resultShape(name))[\(k)]", rhs: "(int64_t)(\(host.sym(d)))"))
            }
            out.append(.block([
                .decl(type: "const size_t", name: "braid_bytes", initializer: "(size_t)(\(host.size(c))) * sizeof(\(t))"),
                .decl(type: "\(t) *", name: "braid_host", initializer: "(\(t) *)malloc(braid_bytes > 0 ? braid_bytes : 1)"),
                .ifElse(condition: "braid_host == NULL", then: [.assign(lhs: "braid_status", rhs: "1")], orElse: [
                    .assign(lhs: "braid_status", rhs: "braid_ocl_read(\(Self.bufferName(name)), braid_bytes, braid_host, \(cStringLiteral(name)))"),
                    .ifElse(condition: "braid_status == 0", then: give, orElse: [.expr("free(braid_host)")]),
                ]),
            ]))
        }
        return out
    }

    /// The bytes a dynamic array's device buffer holds.
    static func capacityName(_ container: String) -> String { "braid_cap_\(container)" }

    /// A dynamic array's device buffer for its extents at this point (read back from the
    /// device first): a buffer that is large enough is kept, a smaller one is replaced; a
    /// hand-over (`allocate x from y`) swaps the two buffers, as the CPU target swaps storage.
    func allocation(_ a: Allocation) throws -> [CStmt] {
        let isBuffer = { (name: String) in self.bufferArrays.contains { $0.name == name } }
        guard let c = program.container(a.container), isBuffer(c.name) else { return [] }
        let buffer = Self.bufferName(c.name), capacity = Self.capacityName(c.name)
        var stmts: [CStmt] = [.comment(lineText(a.loc))]
        if let from = a.takeFrom, isBuffer(from) {
            stmts.append(.block([
                .decl(type: "cl_mem", name: "braid_swap", initializer: buffer),
                .decl(type: "size_t", name: "braid_swap_capacity", initializer: capacity),
                .assign(lhs: buffer, rhs: Self.bufferName(from)), .assign(lhs: capacity, rhs: Self.capacityName(from)),
                .assign(lhs: Self.bufferName(from), rhs: "braid_swap"), .assign(lhs: Self.capacityName(from), rhs: "braid_swap_capacity"),
            ]))
            return stmts
        }
        stmts += try readBack(Set(c.shape.flatMap(\.freeSymbols)))
        for d in c.shape where d.constant == nil {
            stmts.append(.ifElse(condition: "(\(host.sym(d))) < 0", then: [
                .assign(lhs: "braid_status", rhs: "\(Failure.shapeMismatch.statusCode)"), .goto("braid_exit"),
            ], orElse: []))
        }
        let bytes = "(size_t)(\(host.size(c))) * sizeof(\(c.dtype.cType))"
        stmts.append(.ifElse(condition: "\(buffer) == NULL || \(bytes) > \(capacity)", then: [
            .expr("braid_ocl_release(&\(buffer))"),
            check("braid_ocl_buffer(&\(buffer), \(bytes), NULL, 0, BRAID_OCL_EMPTY, \(cStringLiteral(c.name)))"),
            .assign(lhs: capacity, rhs: bytes),
        ], orElse: []))
        return stmts
    }

    /// Host statements for a sequence: host nodes in place, runs of device nodes as one
    /// single-work-item kernel each.
    func hostStmts(_ nodes: [Node]) throws -> [CStmt] {
        var out: [CStmt] = []
        var group: [Node] = []
        func flush() throws {
            if !group.isEmpty { out += try singleWorkItem(group) }
            group = []
        }
        for n in nodes {
            if Self.isHost(n) {
                try flush()
                out += try hostStmt(n)
            } else {
                group.append(n)
            }
        }
        try flush()
        return out
    }

    /// Blocking reads of the device scalars `names` into their host mirrors.
    func readBack(_ names: Set<String>) throws -> [CStmt] {
        try program.containers.filter { $0.isScalar && names.contains($0.name) && deviceScalars.contains($0.name) }.map { c in
            let lv = try host.lvalue(.point(c.name, []))
            return check("braid_ocl_read(\(Self.bufferName(c.name)), sizeof(\(c.dtype.cType)), &\(lv), \(cStringLiteral(c.name)))")
        }
    }

    func symbols(_ rs: [SymRange]) -> Set<String> {
        Set(rs.flatMap { [$0.start, $0.end, $0.step].flatMap(\.freeSymbols) })
    }

    func scalarReads(_ e: ScalarExpr) -> Set<String> { Self.expressionNames(e) }

    /// Containers and symbols an expression reads (indices included).
    static func expressionNames(_ e: ScalarExpr) -> Set<String> {
        var out = Set<String>()
        func sym(_ s: SymExpr) { out.formUnion(s.freeSymbols) }
        func visit(_ e: ScalarExpr) {
            switch e {
            case .literal: break
            case .symbol(let s): sym(s)
            case .load(let m, _):
                out.insert(m.data)
                for s in m.subset {
                    if case .index(.sym(let x)) = s { sym(x) }
                    if case .index(.dynamic(let x)) = s { visit(x) }
                }
            case .unary(_, let a, _), .cast(let a, _): visit(a)
            case .binary(_, let a, let b, _): visit(a); visit(b)
            case .call(_, let args, _): args.forEach(visit)
            case .select(let c, let a, let b, _): visit(c); visit(a); visit(b)
            }
        }
        visit(e)
        return out
    }

    /// Statements evaluating a host condition, and its C text.
    func condition(_ e: ScalarExpr, loc: SourceLocation) throws -> ([CStmt], String) {
        if Self.readsArray(e, program) {
            let node = Node.tasklet(Tasklet(output: .point(Self.condition, []), value: .cast(e, .bool), loc: loc))
            var stmts = try singleWorkItem([node], comment: "condition at \(lineText(loc))")
            stmts += try readBack([Self.condition])
            return (stmts, Self.condition)
        }
        return (try readBack(scalarReads(e)), try host.expr(e))
    }

    func hostStmt(_ n: Node) throws -> [CStmt] {
        switch n {
        case .map(let m) where m.schedule == .deviceKernel:
            return [.comment(lineText(m.loc))] + (try kernelMap(m))
        case .map(let m) where Self.parallelCheck(m) != nil:
            return try parallelCheck(m, Self.parallelCheck(m)!)
        case .forLoop(let f) where Self.compaction(f) != nil:
            return try compactionStmts(Self.compaction(f)!)
        case .map(let m):
            // A sequential map around kernel maps: host loops over its parameters.
            var stmts = try readBack(symbols(m.ranges))
            hostLoopVars += m.params
            var body = try hostStmts(m.body)
            hostLoopVars.removeLast(m.params.count)
            for (p, r) in zip(m.params, m.ranges).reversed() {
                body = [.forLoop(pragmas: [], variable: p, start: host.sym(r.start), end: host.sym(r.end),
                                 step: host.sym(r.step), body: body)]
            }
            stmts.append(.comment(lineText(m.loc)))
            return stmts + body
        case .forLoop(let f):
            let reads = symbols([f.range]).intersection(deviceScalars)
            var stmts: [CStmt] = [.comment(lineText(f.loc))] + (try readBack(reads))
            var end = host.sym(f.range.end)
            if !reads.isEmpty {
                // Python evaluates range() once; the host mirror may be refreshed inside the loop.
                let name = "braid_end\(hoistCount)"
                hoistCount += 1
                stmts.append(.decl(type: "const int64_t", name: name, initializer: end))
                end = name
            }
            hostLoopVars.append(f.variable)
            let body = try hostStmts(f.body)
            hostLoopVars.removeLast()
            stmts.append(.forLoop(pragmas: [], variable: f.variable, start: host.sym(f.range.start), end: end,
                                  step: host.sym(f.range.step), body: body))
            return stmts
        case .whileLoop(let w):
            let (pre, cond) = try condition(w.condition, loc: w.loc)
            let body = try hostStmts(w.body)
            if pre.isEmpty { return [.comment(lineText(w.loc)), .whileLoop(condition: cond, body: body)] }
            return [.comment(lineText(w.loc)),
                    .whileLoop(condition: "1", body: pre + [.ifElse(condition: "!(\(cond))", then: [.break], orElse: [])] + body)]
        case .branch(let b):
            let (pre, cond) = try condition(b.condition, loc: b.loc)
            return [.comment(lineText(b.loc))] + pre
                + [.ifElse(condition: cond, then: try hostStmts(b.then), orElse: try hostStmts(b.orElse))]
        case .breakLoop: return [.break]
        case .continueLoop: return [.continue]
        case .returnProgram: return [.goto("braid_exit")]
        case .fail(let f, let loc):
            // A run-time check that failed on the host: the wrapper raises the failure's
            // exception; results are not copied back.
            return [.comment(lineText(loc)), .assign(lhs: "braid_status", rhs: "\(f.statusCode)"), .goto("braid_exit")]
        case .allocate(let a): return try allocation(a)
        case .tasklet, .library: return try singleWorkItem([n])
        }
    }

    /// Host code that sets `args` of kernel `index` and launches it over `global` work-items.
    func launch(_ index: Int, _ name: String, _ args: [OpenCLKernelArg], global: [String], loc: SourceLocation) -> [CStmt] {
        let whereText = cStringLiteral("kernel \(name) (\(lineText(loc)))")
        var stmts: [CStmt] = []
        for (k, a) in args.enumerated() {
            stmts.append(check("braid_ocl_arg(braid_kernel, \(k), sizeof(\(a.hostSize)), \(a.hostValue), \(whereText))"))
        }
        stmts.append(.decl(type: "const size_t", name: "braid_global[\(global.count)]",
                           initializer: "{\(global.joined(separator: ", "))}"))
        stmts.append(check("braid_ocl_launch(braid_kernel, \(global.count), braid_global, \(whereText))"))
        return stmts
    }

    /// A run of device nodes as one kernel executed by a single work-item.
    func singleWorkItem(_ nodes: [Node], comment: String? = nil) throws -> [CStmt] {
        let loc = Self.firstLoc(nodes) ?? program.loc
        let privates = Self.names(nodes).used.intersection(groupPrivate)
        let args = try kernelArgs(nodes, privates: privates, loc: loc)
        let lw = kernelLowering(privates: privates)
        for n in nodes {
            if case .library(let l) = n {
                throw BackendError(l.loc, "internal: library node reached the OpenCL backend unexpanded")
            }
        }
        var body: [CStmt] = program.containers.filter { privates.contains($0.name) }.map {
            .decl(type: OpenCLBackend.dialect.typeName($0.dtype), name: $0.name, initializer: $0.dtype.isBool ? "false" : "0")
        }
        body += try lw.stmts(nodes)
        let what = comment ?? "lines \(lineText(loc))"
        let (k, name) = addKernel(args, body, comment: "Single work-item kernel: \(what) (sequential code kept on the device)")
        return [.comment("\(lineText(loc)): \(name) (single work-item)"),
                .block([.decl(type: "cl_kernel", name: "braid_kernel", initializer: "braid_ocl_kernels[\(k)]")]
                       + launch(k, name, args, global: ["1"], loc: loc))]
    }

    static func firstLoc(_ nodes: [Node]) -> SourceLocation? {
        for n in nodes {
            switch n {
            case .tasklet(let t): return t.loc
            case .library(let l): return l.loc
            case .map(let m): return m.loc
            case .forLoop(let f): return f.loc
            case .whileLoop(let w): return w.loc
            case .branch(let b): return b.loc
            case .breakLoop(let l), .continueLoop(let l), .returnProgram(let l), .fail(_, let l): return l
            case .allocate(let a): return a.loc
            }
        }
        return nil
    }

    /// Number of iterations of a range, as host C (may be negative when empty).
    func count(_ r: SymRange) -> String {
        let n = r.step == .one ? r.end - r.start : SymExpr.floorDivide(r.end - r.start + r.step - 1, r.step)
        return host.sym(n)
    }

    /// `start + id * step` with the trivial parts left out.
    func offset(_ r: SymRange, _ lw: CLowering, id: String) -> String {
        var s = r.step == .one ? id : "\(id) * (\(lw.sym(r.step)))"
        if r.start != .zero { s = "\(lw.sym(r.start)) + \(s)" }
        return s
    }

    /// One outermost parallel map as an NDRange kernel (plus a fold kernel for reductions).
    func kernelMap(_ m: MapScope) throws -> [CStmt] {
        if m.params.isEmpty { return try singleWorkItem(m.body) }
        let reductions = m.reductions.sorted { $0.key < $1.key }
        // NDRange dimensions: the leading parameters (at most 3) whose ranges do not depend on
        // other parameters of the map; one dimension when the map reduces into scalars.
        var nd = 0
        let maxDims = reductions.isEmpty ? 3 : 1
        while nd < min(maxDims, m.params.count),
              symbols([m.ranges[nd]]).isDisjoint(with: m.params) {
            nd += 1
        }
        if nd == 0 { return try singleWorkItem([.map(m)]) }
        let ndParams = Array(m.params.prefix(nd)), ndRanges = Array(m.ranges.prefix(nd))
        let inner = MapScope(params: Array(m.params.dropFirst(nd)), ranges: Array(m.ranges.dropFirst(nd)),
                             schedule: .sequential, body: m.body, locals: m.locals, loc: m.loc)
        let reductionNames = Set(reductions.map(\.key))
        var args = try kernelArgs([.map(m)], privates: reductionNames, loc: m.loc)
        let lw = kernelLowering(privates: reductionNames)
        var stmts = try readBack(symbols(m.ranges).intersection(deviceScalars))
        let counts = ndRanges.indices.map { "braid_n\($0)" }
        var block: [CStmt] = [.decl(type: "cl_kernel", name: "braid_kernel", initializer: "")]
        for (k, r) in ndRanges.enumerated() {
            block.append(.decl(type: "const int64_t", name: counts[k], initializer: count(r)))
        }
        var body: [CStmt] = []
        var launchStmts: [CStmt] = []
        let kernelIndex: Int, kernelName: String
        if reductions.isEmpty {
            // Dimension 0 (the fastest varying) is the last NDRange parameter.
            for (k, (p, r)) in zip(ndParams, ndRanges).enumerated() {
                let dim = nd - 1 - k
                body.append(.decl(type: "const int64_t", name: p, initializer: offset(r, lw, id: "(int64_t)get_global_id(\(dim))")))
                body.append(.ifElse(condition: "\(p) >= \(lw.sym(r.end))", then: [.return("")], orElse: []))
            }
            body += try lw.map(inner)
            (kernelIndex, kernelName) = addKernel(args, body, comment: "Parallel map at \(lineText(m.loc)): one work-item per (\(ndParams.joined(separator: ", ")))")
            let multiples = nd == 1 ? [64] : [32, 4, 1]
            let global = (0..<nd).map { dim in "braid_ocl_round(\(counts[nd - 1 - dim]), \(multiples[dim]))" }
            launchStmts = launch(kernelIndex, kernelName, args, global: global, loc: m.loc)
        } else {
            // Grid-stride loop with private accumulators, one partial per work-item.
            let p = ndParams[0], r = ndRanges[0]
            body.append(.decl(type: "const int64_t", name: "braid_id", initializer: "(int64_t)get_global_id(0)"))
            body.append(.decl(type: "const int64_t", name: "braid_size", initializer: "(int64_t)get_global_size(0)"))
            var partialArgs: [OpenCLKernelArg] = []
            var fold: [Node] = []
            var foldContainers: [Container] = []
            var foldArgs: [OpenCLKernelArg] = [index("braid_n")]
            for (name, op) in reductions {
                let t = program.container(name)!.dtype
                body.append(.decl(type: OpenCLBackend.dialect.typeName(t), name: name, initializer: try identity(op, t, lw)))
                let host = "braid_part\(partialBuffers.count)"
                partialBuffers.append((host, t))
                let kname = "braid_partial_\(name)"
                partialArgs.append(OpenCLKernelArg(type: "__global \(OpenCLBackend.deviceType(t)) *restrict", name: kname,
                                                   hostSize: "cl_mem", hostValue: "&\(host)"))
                foldArgs.append(OpenCLKernelArg(type: "__global \(OpenCLBackend.deviceType(t)) *restrict", name: kname,
                                                hostSize: "cl_mem", hostValue: "&\(host)"))
                foldArgs.append(buffer(name, t))
                foldContainers.append(Container(name: kname, dtype: t, shape: [.sym("braid_n")], role: .transient,
                                                storage: .deviceGlobal, isWritten: true))
                let partial = ScalarExpr.load(.point(kname, [.sym(.sym("braid_k"))]), t)
                fold.append(t.isComplex
                    ? .tasklet(Tasklet(output: .point(name, []), value: .binary(op == .mul ? .mul : .add, .load(.point(name, []), t), partial, t), loc: m.loc))
                    : .tasklet(Tasklet(output: .point(name, []), wcr: op, value: partial, loc: m.loc)))
            }
            let start = offset(r, lw, id: "braid_id")
            let step = r.step == .one ? "braid_size" : "braid_size * (\(lw.sym(r.step)))"
            body.append(.forLoop(pragmas: [], variable: p, start: start, end: lw.sym(r.end), step: step,
                                 body: try lw.map(inner)))
            for (name, _) in reductions { body.append(.assign(lhs: "braid_partial_\(name)[braid_id]", rhs: name)) }
            args += partialArgs
            (kernelIndex, kernelName) = addKernel(args, body, comment: "Parallel map at \(lineText(m.loc)) reducing into \(reductions.map(\.key).joined(separator: ", ")): grid-stride loop, one partial result per work-item")
            let foldLowering = kernelLowering(privates: [], extra: foldContainers)
            let foldBody = try foldLowering.stmts([.forLoop(ForLoop(variable: "braid_k", range: SymRange(.zero, .sym("braid_n")),
                                                                     body: fold, loc: m.loc))])
            let (foldIndex, foldName) = addKernel(foldArgs, foldBody, comment: "Folds the partial results of \(kernelName) in order (single work-item)")
            block.append(.decl(type: "const int64_t", name: "braid_items",
                               initializer: "braid_imin(\(counts[0]), \(Self.reductionWorkItems))"))
            launchStmts = launch(kernelIndex, kernelName, args, global: ["(size_t)braid_items"], loc: m.loc)
            launchStmts.append(.assign(lhs: "braid_kernel", rhs: "braid_ocl_kernels[\(foldIndex)]"))
            let foldLaunch = launch(foldIndex, foldName, foldArgs.enumerated().map { k, a in
                k == 0 ? OpenCLKernelArg(type: a.type, name: a.name, hostSize: "cl_long", hostValue: "&(cl_long){braid_items}") : a
            }, global: ["1"], loc: m.loc)
            launchStmts += [.block(foldLaunch)]
        }
        block[0] = .decl(type: "cl_kernel", name: "braid_kernel", initializer: "braid_ocl_kernels[\(kernelIndex)]")
        let nonEmpty = counts.map { "\($0) > 0" }.joined(separator: " && ")
        block.append(.ifElse(condition: nonEmpty, then: launchStmts, orElse: []))
        stmts.append(.block(block))
        return stmts
    }

    // MARK: Selections and run-time checks in parallel

    /// A selection loop as the frontend writes it (`x[mask]`, `np.nonzero`): loops from 0 over
    /// the mask's extents around `if cond: <writes at position k>; k = k + 1`, where no
    /// iteration reads what another writes. It runs as three kernels: each work-item counts
    /// the selected elements of one contiguous chunk, a single work-item turns the counts into
    /// starting positions (an exclusive scan from k), and each work-item writes its chunk from
    /// its position; the order of the elements is the sequential loop's.
    struct Compaction {
        var loop: ForLoop
        var variables: [String]
        var extents: [SymExpr]
        var branch: Branch
        var counter: String
    }

    static func compaction(_ f: ForLoop) -> Compaction? {
        var variables: [String] = [], extents: [SymExpr] = []
        var body: [Node] = [.forLoop(f)]
        while body.count == 1, case .forLoop(let l) = body[0] {
            guard l.range.start == .zero, l.range.step == .one else { return nil }
            variables.append(l.variable)
            extents.append(l.range.end)
            body = l.body
        }
        guard body.count == 1, case .branch(let b) = body[0], b.orElse.isEmpty,
              case .tasklet(let increment)? = b.then.last, increment.wcr == nil, increment.output.subset.isEmpty
        else { return nil }
        let k = increment.output.data
        guard increment.value == .symbol(.sym(k) + 1) else { return nil }
        let take = Array(b.then.dropLast())
        func plain(_ nodes: [Node]) -> Bool {
            nodes.allSatisfy { n in
                switch n {
                case .tasklet(let t): return t.wcr == nil && t.output.data != k
                case .forLoop(let l): return plain(l.body)
                default: return false
                }
            }
        }
        guard !take.isEmpty, plain(take) else { return nil }
        let extentNames = Set(extents.flatMap(\.freeSymbols))
        let conditionNames = expressionNames(b.condition)
        guard extentNames.isDisjoint(with: variables), !extentNames.contains(k), !conditionNames.contains(k) else { return nil }
        // Nothing an iteration writes is read by the condition or by the writes of another.
        var reads = conditionNames
        func collect(_ nodes: [Node]) {
            for n in nodes {
                switch n {
                case .tasklet(let t):
                    reads.formUnion(expressionNames(t.value))
                    for case .index(.dynamic(let x)) in t.output.subset { reads.formUnion(expressionNames(x)) }
                case .forLoop(let l): collect(l.body)
                default: break
                }
            }
        }
        collect(take)
        guard writtenContainers(take).isDisjoint(with: reads) else { return nil }
        return Compaction(loop: f, variables: variables, extents: extents, branch: b, counter: k)
    }

    func compactionStmts(_ c: Compaction) throws -> [CStmt] {
        let loc = c.loop.loc
        guard deviceScalars.contains(c.counter) else {
            throw BackendError(loc, "internal: the position '\(c.counter)' of a selection has no device storage")
        }
        let privates: Set<String> = [c.counter]
        let lw = kernelLowering(privates: privates)
        let partials = "braid_part\(partialBuffers.count)"
        partialBuffers.append((partials, .int64))
        let items = OpenCLKernelArg(type: "long", name: "braid_items", hostSize: "cl_long", hostValue: "&(cl_long){braid_items}")
        let offsets = OpenCLKernelArg(type: "__global long *restrict", name: "braid_offsets", hostSize: "cl_mem", hostValue: "&\(partials)")
        let args = try kernelArgs([.forLoop(c.loop)], privates: privates, loc: loc) + [items, offsets]
        let total = c.extents.dropFirst().reduce(c.extents[0]) { $0 * $1 }
        // This work-item's chunk of the flat iteration space, and the loop variables of element braid_f.
        let chunk: [CStmt] = [
            .decl(type: "const int64_t", name: "braid_id", initializer: "(int64_t)get_global_id(0)"),
            .decl(type: "const int64_t", name: "braid_total", initializer: lw.sym(total)),
            .decl(type: "const int64_t", name: "braid_chunk", initializer: "(braid_total + braid_items - 1) / braid_items"),
            .decl(type: "const int64_t", name: "braid_lo", initializer: "braid_id * braid_chunk"),
            .decl(type: "const int64_t", name: "braid_hi", initializer: "braid_imin(braid_lo + braid_chunk, braid_total)"),
        ]
        var indices: [CStmt] = []
        var stride = ""
        for (v, d) in zip(c.variables, c.extents).reversed() {
            let quotient = stride.isEmpty ? "braid_f" : "braid_f / (\(stride))"
            indices.insert(.decl(type: "const int64_t", name: v, initializer: "(\(quotient)) % (\(lw.sym(d)))"), at: 0)
            stride = stride.isEmpty ? "(\(lw.sym(d)))" : "\(stride) * (\(lw.sym(d)))"
        }
        func chunkLoop(_ body: [CStmt]) -> CStmt {
            .forLoop(pragmas: [], variable: "braid_f", start: "braid_lo", end: "braid_hi", step: "1", body: indices + body)
        }
        let line = lineText(loc)
        let (countIndex, countName) = addKernel(args, chunk + [
            .decl(type: "long", name: "braid_count", initializer: "0"),
            chunkLoop([.ifElse(condition: try lw.expr(c.branch.condition), then: [.assign(lhs: "braid_count", rhs: "braid_count + 1")], orElse: [])]),
            .assign(lhs: "braid_offsets[braid_id]", rhs: "braid_count"),
        ], comment: "Selection at \(line), step 1: the selected elements of each work-item's chunk")
        let scanArgs = [items, offsets, buffer(c.counter, .int64)]
        let (scanIndex, scanName) = addKernel(scanArgs, [
            .decl(type: "long", name: "braid_run", initializer: "(*\(c.counter))"),
            .forLoop(pragmas: [], variable: "braid_g", start: "0", end: "braid_items", step: "1", body: [
                .decl(type: "const long", name: "braid_c", initializer: "braid_offsets[braid_g]"),
                .assign(lhs: "braid_offsets[braid_g]", rhs: "braid_run"),
                .assign(lhs: "braid_run", rhs: "braid_run + braid_c"),
            ]),
            .assign(lhs: "(*\(c.counter))", rhs: "braid_run"),
        ], comment: "Selection at \(line), step 2: each chunk's first position (single work-item)")
        let (writeIndex, writeName) = addKernel(args, chunk + [
            .decl(type: "long", name: c.counter, initializer: "braid_offsets[braid_id]"),
            chunkLoop(try lw.stmts([.branch(c.branch)])),
        ], comment: "Selection at \(line), step 3: each work-item writes its chunk's elements in order")
        var block: [CStmt] = [
            .decl(type: "cl_kernel", name: "braid_kernel", initializer: "braid_ocl_kernels[\(countIndex)]"),
            .decl(type: "const int64_t", name: "braid_total", initializer: host.sym(total)),
            .decl(type: "const int64_t", name: "braid_items", initializer: "braid_imin(braid_total, \(Self.reductionWorkItems))"),
        ]
        var launches: [CStmt] = [.block(launch(countIndex, countName, args, global: ["(size_t)braid_items"], loc: loc))]
        launches.append(.assign(lhs: "braid_kernel", rhs: "braid_ocl_kernels[\(scanIndex)]"))
        launches.append(.block(launch(scanIndex, scanName, scanArgs, global: ["1"], loc: loc)))
        launches.append(.assign(lhs: "braid_kernel", rhs: "braid_ocl_kernels[\(writeIndex)]"))
        launches.append(.block(launch(writeIndex, writeName, args, global: ["(size_t)braid_items"], loc: loc)))
        let nonEmpty = c.extents.map { "(\(host.sym($0))) > 0" }.joined(separator: " && ")
        block.append(.ifElse(condition: nonEmpty, then: launches, orElse: []))
        return [.comment(line)] + (try readBack(Set(c.extents.flatMap(\.freeSymbols)))) + [.block(block)]
    }

    /// A run-time check over many elements (`for ...: if bad: fail`), which runs as one
    /// parallel kernel setting a flag; the host reads it back and fails as the loop would have.
    static func parallelCheck(_ m: MapScope) -> (condition: ScalarExpr, failure: Failure, loc: SourceLocation)? {
        guard m.schedule != .deviceKernel, !m.params.isEmpty, m.body.count == 1, case .branch(let b) = m.body[0],
              b.orElse.isEmpty, b.then.count == 1, case .fail(let f, let loc) = b.then[0] else { return nil }
        return (b.condition, f, loc)
    }

    static func containsParallelCheck(_ nodes: [Node]) -> Bool {
        nodes.contains { n in
            switch n {
            case .map(let m): return parallelCheck(m) != nil || containsParallelCheck(m.body)
            case .forLoop(let f): return containsParallelCheck(f.body)
            case .whileLoop(let w): return containsParallelCheck(w.body)
            case .branch(let b): return containsParallelCheck(b.then) || containsParallelCheck(b.orElse)
            default: return false
            }
        }
    }

    func parallelCheck(_ m: MapScope, _ check: (condition: ScalarExpr, failure: Failure, loc: SourceLocation)) throws -> [CStmt] {
        let flag = Memlet.point(Self.failFlag, [])
        var stmts: [CStmt] = [.comment(lineText(m.loc))]
        stmts += try singleWorkItem([.tasklet(Tasklet(output: flag, value: .literal(.bool(false), .bool), loc: m.loc))],
                                    comment: "clears the flag of the check at \(lineText(m.loc))")
        let parallel = MapScope(params: m.params, ranges: m.ranges, schedule: .deviceKernel, body: [
            .branch(Branch(condition: check.condition, then: [.tasklet(Tasklet(output: flag, value: .literal(.bool(true), .bool), loc: check.loc))],
                           orElse: [], loc: check.loc)),
        ], locals: m.locals, loc: m.loc)
        stmts += try kernelMap(parallel)
        stmts += try readBack([Self.failFlag])
        stmts.append(.ifElse(condition: try host.expr(.load(flag, .bool)), then: [
            .assign(lhs: "braid_status", rhs: "\(check.failure.statusCode)"), .goto("braid_exit"),
        ], orElse: []))
        return stmts
    }

    /// The neutral element of a reduction, as OpenCL C.
    func identity(_ op: WCR, _ t: DType, _ lw: CLowering) throws -> String {
        if t.isComplex {
            // max/min of complex numbers are rejected by `checkSupported`.
            return try lw.expr(.literal(.complex(op == .mul ? 1 : 0, 0), t))
        }
        switch op {
        case .add: return lw.literal(.int(0), t)
        case .mul: return lw.literal(.int(1), t)
        case .max, .min:
            let isMax = op == .max
            if t.isFloat { return lw.literal(.float(isMax ? -Double.infinity : Double.infinity), t) }
            if t.isBool { return isMax ? "false" : "true" }
            let bits = t.itemSize * 8
            if t.isUnsignedInteger {
                if isMax { return lw.literal(.int(0), t) }
                return bits == 64 ? "UINT64_MAX" : "(\(OpenCLBackend.deviceType(t)))\(UInt64(1) << UInt64(bits) - 1)u"
            }
            if bits == 64 { return isMax ? "INT64_MIN" : "INT64_C(9223372036854775807)" }
            let limit = Int64(1) << Int64(bits - 1)
            return isMax ? "(\(OpenCLBackend.deviceType(t)))(\(-limit))" : "(\(OpenCLBackend.deviceType(t)))\(limit - 1)"
        }
    }
}
