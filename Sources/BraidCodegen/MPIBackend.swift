import BraidIR

/// C with MPI for clusters: SPMD code in which every rank runs the same function on the
/// same, full arguments, and every rank returns the full, correct result.
///
/// ## Distribution scheme: owner-computes with replication
///
/// Every rank holds a whole copy of every container, and the copies agree between
/// statements. That invariant makes everything that is not a distributed map simply run
/// *replicated*: sequential loops, branches, tasklets outside maps and BLAS and LAPACK
/// calls compute the same values on every rank, with no communication.
///
/// A map that `ScheduleMaps` marked `.distributed` is split across the ranks of
/// `MPI_COMM_WORLD`:
///
/// 1. **Block partition.** The iterations of the map's *first* parameter are cut into one
///    contiguous block per rank (block lengths differ by at most one; see
///    `braid_block_begin`). Rank `r` runs the whole map body for its block only; inner
///    parameters and nested loops run in full.
/// 2. **Re-replication.** Afterwards every array the map wrote is made whole again on every
///    rank with one in-place `MPI_Allgatherv`. This is valid when every write to the array
///    indexes its first dimension by `p + c`, where `p` is the first map parameter (with
///    coefficient 1) and `c` is the same invariant offset for all writes: then rank `r`
///    wrote only rows `p + c` of its block, the slab from its first to its last row is
///    disjoint from every other rank's slab, and the slab is `rows × row-size` contiguous
///    elements (row-major). Rows inside a slab that the rank did not write (a strided map,
///    columns the map does not touch) hold the same values on every rank, so sending them
///    is harmless. Counts and displacements come from the map's range at run time.
/// 3. **Reductions.** A scalar the map reduces into (`MapScope.reductions`) is saved, set to
///    the operation's identity, accumulated over the rank's block, combined across ranks
///    with `MPI_Allreduce` (SUM, PROD, MAX, MIN; NaN-propagating user operations for
///    floating-point max/min, as NumPy propagates NaN), and finally combined with the
///    saved value.
///
/// A distributed map whose writes do not fit step 2 (a transposed write, a data-dependent
/// row, a scalar written by every iteration, an array reduction) is not distributed: every
/// rank runs the whole map, which is always correct. So is a map that only copies elements
/// or fills constants: repeating the copy costs less than exchanging its rows. The generated code says so in a
/// comment. With one rank (or when the module runs under plain `python3`, a singleton MPI
/// world) no collective is called at all.
///
/// A call is collective: every rank of `MPI_COMM_WORLD` must make the same calls in the
/// same order with the same arguments (what an unchanged script run under `mpiexec` does);
/// a rank that skips a call leaves the others waiting in the exchange.
///
/// Nothing is exchanged ahead of a map: since every rank holds every row, a stencil reads
/// its neighbours' rows locally, and the exchange after each sweep acts as a (whole-slab)
/// halo exchange. The module initializes MPI on import unless someone (e.g. mpi4py) already
/// did, and then finalizes it when the interpreter exits.
public enum MPIBackend {
    public static let language = "c"
    /// The MPI compiler wrapper: it adds MPICH's include path and `-lmpich`.
    public static let compiler: String? = "mpicc"
    public static let compilerFlags: [String] = ["-fwrapv", "-fno-math-errno"]
    public static let linkFlags: [String] = ["-llapacke", "-lopenblas", "-lm"]

    static let dialect = CDialect(
        name: "mpi",
        typeName: { $0.cType },
        pointerQualifier: "restrict",
        mapPragmas: { _, _, _ in [] },
        overloadedMath: false,
        supportsComplex: true,
        library: { node, lowering in try BLAS.lower(node, lowering) },
        lowerMap: { m, lowering in try MPIDistribution.lower(m, lowering) })

    /// The native C (`--emit c`): entry points with the extension calling convention.
    public static func source(_ module: IRModule) throws -> String {
        let lapack = ModuleSource.usesLAPACK(module) ? "#include <lapacke.h>\n" : ""
        var out = ModuleSource.cHeaders + "#include <mpi.h>\n#include <cblas.h>\n" + lapack + "\n" + CLowering.prelude + "\n"
        out += MPIDistribution.prelude + "\n"
        for p in module.programs {
            var f = try CLowering(program: p, dialect: dialect).entryFunction(name: ModuleSource.nativeName(p))
            if MPIDistribution.distributesWork(p.body, p) {
                f.body.insert(contentsOf: [
                    .comment("This rank and the number of ranks; distributed maps split their first dimension by them."),
                    .decl(type: "int", name: "braid_rank", initializer: "0"),
                    .decl(type: "int", name: "braid_nranks", initializer: "1"),
                    .expr("braid_mpi_world(&braid_rank, &braid_nranks)"),
                ], at: 1)
                f.comment += "\nSPMD: every rank calls this with the full arguments and returns the full results."
            } else {
                f.comment += "\nNo map is distributed: every rank computes everything (replicated)."
            }
            out += CPrinter.print(f) + "\n"
        }
        return out
    }

    /// The whole translation unit: native code, MPI setup glue and the Python wrapper.
    public static func translationUnit(_ module: IRModule) throws -> String {
        let spec = ExtensionModuleSpec(
            moduleName: module.name,
            functions: module.programs.map { ModuleSource.extensionFunction($0, doc: "Compiled by Braid (mpi) from \($0.loc).") },
            initCode: initCode,
            hasErrorMessages: true)
        return PyExtensionEmitter.translationUnitPrelude + (try source(module)) + moduleGlue + "\n"
            + PyExtensionEmitter.emit(spec)
    }

    /// Files written next to the module (suffix, text).
    public static func sideFiles(_ module: IRModule) throws -> [(String, String)] { [] }

    /// Defined before the wrapper; registered by `initCode`.
    static let moduleGlue = """
    /* Finalizes MPI at interpreter exit when this module initialized it. */
    static void braid_mpi_finalize_at_exit(void)
    {
        int finalized = 0;
        MPI_Finalized(&finalized);
        if (!finalized) MPI_Finalize();
    }

    """

    /// Module import: join `MPI_COMM_WORLD`.
    static let initCode = """
    /* MPI: reuse it when already initialized (mpi4py, another Braid module); otherwise
       initialize it here (a singleton world under plain python3) and finalize it at exit. */
    int braid_mpi_initialized = 0, braid_mpi_finalized = 0;
    MPI_Initialized(&braid_mpi_initialized);
    MPI_Finalized(&braid_mpi_finalized);
    if (!braid_mpi_initialized && !braid_mpi_finalized) {
        int braid_mpi_provided = 0;
        if (MPI_Init_thread(NULL, NULL, MPI_THREAD_SERIALIZED, &braid_mpi_provided) != MPI_SUCCESS) {
            PyErr_SetString(PyExc_ImportError, "MPI_Init_thread failed");
            return -1;
        }
        (void)Py_AtExit(braid_mpi_finalize_at_exit);
    }
    """
}

/// The lowering of `.distributed` maps (see `MPIBackend` for the scheme).
enum MPIDistribution {
    /// How a distributed map is run.
    enum Plan {
        /// Block-partitioned: gather these arrays' rows, combine these reductions.
        case distributed(gathers: [(container: String, offset: SymExpr)], reductions: [(String, WCR)])
        /// Every rank runs the whole map.
        case replicated(reason: String)
    }

    /// Whether some map of `nodes` is block-partitioned across ranks.
    static func distributesWork(_ nodes: [Node], _ p: Program) -> Bool {
        nodes.contains { n in
            switch n {
            case .map(let m):
                if m.schedule == .distributed, case .distributed = plan(m, p) { return true }
                return m.schedule != .distributed && distributesWork(m.body, p)
            case .forLoop(let f): return distributesWork(f.body, p)
            case .whileLoop(let w): return distributesWork(w.body, p)
            case .branch(let b): return distributesWork(b.then, p) || distributesWork(b.orElse, p)
            default: return false
            }
        }
    }

    /// Maps nested in a distributed map run sequentially inside the rank's block.
    static func sequential(_ nodes: [Node]) -> [Node] {
        nodes.map { n in
            switch n {
            case .map(var m):
                m.schedule = .sequential
                m.body = sequential(m.body)
                return .map(m)
            case .forLoop(var f):
                f.body = sequential(f.body)
                return .forLoop(f)
            case .whileLoop(var w):
                w.body = sequential(w.body)
                return .whileLoop(w)
            case .branch(var b):
                b.then = sequential(b.then)
                b.orElse = sequential(b.orElse)
                return .branch(b)
            default: return n
            }
        }
    }

    /// Whether the body only copies elements or fills constants (no arithmetic, no loops).
    static func isPlainCopy(_ nodes: [Node]) -> Bool {
        func trivial(_ e: ScalarExpr) -> Bool {
            switch e {
            case .literal, .symbol: return true
            case .load(let m, _): return m.isPoint && m.subset.allSatisfy { if case .index(.sym) = $0 { return true } else { return false } }
            case .cast(let a, _): return trivial(a)
            default: return false
            }
        }
        return nodes.allSatisfy { n in
            if case .tasklet(let t) = n { return t.wcr == nil && trivial(t.value) }
            return false
        }
    }

    /// Decides whether and how the map can be distributed.
    static func plan(_ m: MapScope, _ p: Program) -> Plan {
        guard let p0 = m.params.first else { return .replicated(reason: "the map has no parameters") }
        if isPlainCopy(m.body) {
            return .replicated(reason: "a plain copy or fill: repeating it is cheaper than exchanging its rows")
        }
        // Names bound inside the map: its parameters, nested loop variables, private scalars.
        var bound = Set(m.params).union(m.locals)
        var locals = Set(m.locals)
        var writes: [(memlet: Memlet, wcr: WCR?)] = []
        var hasReturn = false
        func walk(_ nodes: [Node]) {
            for n in nodes {
                switch n {
                case .tasklet(let t): writes.append((t.output, t.wcr))
                case .library(let l): for o in l.outputs { writes.append((o, nil)) }
                case .map(let inner):
                    bound.formUnion(inner.params)
                    bound.formUnion(inner.locals)
                    locals.formUnion(inner.locals)
                    walk(inner.body)
                case .forLoop(let f):
                    bound.insert(f.variable)
                    walk(f.body)
                case .whileLoop(let w): walk(w.body)
                case .branch(let b):
                    walk(b.then)
                    walk(b.orElse)
                case .returnProgram, .fail, .allocate: hasReturn = true
                case .breakLoop, .continueLoop: break
                }
            }
        }
        walk(m.body)
        if hasReturn { return .replicated(reason: "the map body returns from the function") }
        let written = Set(writes.map(\.memlet.data)).subtracting(locals)
        let reductions = m.reductions.filter { !locals.contains($0.key) }
        for (name, op) in reductions.sorted(by: { $0.key < $1.key }) {
            guard let c = p.container(name), c.isScalar else {
                return .replicated(reason: "'\(name)' is an array reduction")
            }
            if c.dtype.isComplex && (op == .max || op == .min) {
                return .replicated(reason: "max/min reduction of complex '\(name)'")
            }
        }
        var gathers: [(container: String, offset: SymExpr)] = []
        for (memlet, wcr) in writes where !locals.contains(memlet.data) {
            let name = memlet.data
            if let op = reductions[name] {
                guard wcr == op, memlet.subset.isEmpty else {
                    return .replicated(reason: "'\(name)' is both reduced and written directly")
                }
                continue
            }
            guard let c = p.container(name), !c.isScalar else {
                return .replicated(reason: "every iteration writes the scalar '\(name)'")
            }
            guard case .index(.sym(let e))? = memlet.subset.first,
                  let (coefficient, offset) = e.linear(in: p0), coefficient == 1 else {
                return .replicated(reason: "'\(name)' is not written at row \(p0) + offset")
            }
            let free = Set(offset.freeSymbols)
            guard free.isDisjoint(with: bound), free.isDisjoint(with: written) else {
                return .replicated(reason: "the row offset of '\(name)' varies inside the map")
            }
            if let k = gathers.firstIndex(where: { $0.container == name }) {
                if gathers[k].offset != offset {
                    return .replicated(reason: "'\(name)' is written at rows with different offsets")
                }
            } else {
                gathers.append((name, offset))
            }
        }
        return .distributed(gathers: gathers, reductions: reductions.sorted { $0.key < $1.key }.map { ($0.key, $0.value) })
    }

    /// The `lowerMap` hook of the MPI dialect.
    static func lower(_ m: MapScope, _ l: CLowering) throws -> [CStmt]? {
        guard m.schedule == .distributed else { return nil }
        var whole = m
        whole.schedule = .sequential
        whole.body = sequential(m.body)
        let gathers: [(container: String, offset: SymExpr)]
        let reductions: [(String, WCR)]
        switch plan(m, l.program) {
        case .replicated(let reason):
            return [.comment("Replicated map: every rank runs all iterations (\(reason)).")] + (try l.map(whole))
        case .distributed(let g, let r):
            gathers = g
            reductions = r
        }

        let p0 = m.params[0], r0 = m.ranges[0]
        let count = "braid_n_\(p0)", lo = "braid_lo_\(p0)", hi = "braid_hi_\(p0)"
        func first(_ block: String) -> String {
            let scaled = r0.step == .one ? block : "(\(block)) * (\(l.sym(r0.step)))"
            return r0.start == .zero ? scaled : "\(l.sym(r0.start)) + \(scaled)"
        }
        let iterations = SymExpr.maximum(.zero, Subscript.range(start: r0.start, end: r0.end, step: r0.step).length)
        var body: [CStmt] = [
            .comment("Distributed map: the iterations of \(p0) are split into one contiguous block per rank;"),
            .comment("this rank runs [\(lo), \(hi)) of \(p0) (all of the inner dimensions)."),
            .decl(type: "const int64_t", name: count, initializer: l.sym(iterations)),
            .decl(type: "const int64_t", name: lo, initializer: first("braid_block_begin(\(count), braid_rank, braid_nranks)")),
            .decl(type: "const int64_t", name: hi, initializer: first("braid_block_begin(\(count), braid_rank + 1, braid_nranks)")),
        ]

        // Reductions: each rank accumulates a partial from the identity.
        var combine: [CStmt] = []
        for (name, op) in reductions {
            let c = l.container(name)
            let t = l.dialect.typeName(c.dtype)
            let v = try l.lvalue(.point(name, []))
            let saved = "braid_before_\(name)"
            body += [
                .comment("Reduction into \(name) (\(op.rawValue)): this rank's partial starts at the identity."),
                .decl(type: "const \(t)", name: saved, initializer: v),
                .assign(lhs: v, rhs: identity(op, c.dtype)),
            ]
            let combined: String
            switch op {
            case .add: combined = l.narrow("\(saved) + \(v)", c.dtype)
            case .mul: combined = l.narrow("\(saved) * \(v)", c.dtype)
            case .max, .min: combined = try l.minMax(op, saved, v, c.dtype)
            }
            combine += [
                .comment("Combine the partials of \(name) across ranks, then with its value before the map."),
                .ifElse(condition: "braid_nranks > 1", then: [
                    .expr("MPI_Allreduce(MPI_IN_PLACE, &\(v), 1, \(mpiType(c.dtype)), \(mpiOp(op, c.dtype)), MPI_COMM_WORLD)"),
                ], orElse: []),
                .assign(lhs: v, rhs: combined),
            ]
        }

        var local = whole
        local.ranges[0] = SymRange(.sym(lo), .sym(hi), step: r0.step)
        body += try l.map(local)
        body += combine

        // Re-replication: every rank sends the rows it wrote to every other rank.
        var exchange: [CStmt] = []
        for (name, offset) in gathers {
            let c = l.container(name)
            let rowSize = c.shape.count > 1 ? c.shape.dropFirst().map { "(\(l.sym($0)))" }.joined(separator: " * ") : "1"
            let rowOffset = offset == .zero ? "" : " + \(l.sym(offset))"
            exchange += [
                .comment("\(name): rank r wrote rows \(p0)\(rowOffset) of its block; gather them on every rank."),
                .assign(lhs: "braid_status", rhs: "braid_mpi_allgather_rows(\(name), \(mpiType(c.dtype)), \(l.sym(c.shape[0])), \(rowSize), \(count), \(l.sym(r0.start + offset)), \(l.sym(r0.step)), braid_nranks)"),
                .ifElse(condition: "braid_status != 0", then: [.goto("braid_exit")], orElse: []),
            ]
        }
        if !exchange.isEmpty {
            body.append(.ifElse(condition: "braid_nranks > 1", then: exchange, orElse: []))
        }
        return [.block(body)]
    }

    /// The starting value of a rank's partial result.
    static func identity(_ op: WCR, _ t: DType) -> String {
        let (lowest, highest): (String, String)
        switch t {
        case .bool: return op == .add || op == .max ? "false" : "true"
        case .float32: (lowest, highest) = ("(-INFINITY)", "INFINITY")
        case .float64: (lowest, highest) = ("(-(double)INFINITY)", "(double)INFINITY")
        case .int8: (lowest, highest) = ("INT8_MIN", "INT8_MAX")
        case .int16: (lowest, highest) = ("INT16_MIN", "INT16_MAX")
        case .int32: (lowest, highest) = ("INT32_MIN", "INT32_MAX")
        case .int64: (lowest, highest) = ("INT64_MIN", "INT64_MAX")
        case .uint8: (lowest, highest) = ("(uint8_t)0", "UINT8_MAX")
        case .uint16: (lowest, highest) = ("(uint16_t)0", "UINT16_MAX")
        case .uint32: (lowest, highest) = ("(uint32_t)0", "UINT32_MAX")
        case .uint64: (lowest, highest) = ("(uint64_t)0", "UINT64_MAX")
        case .complex64, .complex128: (lowest, highest) = ("0", "0")  // max/min of complex are rejected
        }
        switch op {
        case .add: return "0"
        case .mul: return "1"
        case .max: return lowest
        case .min: return highest
        }
    }

    static func mpiType(_ t: DType) -> String {
        switch t {
        case .bool: return "MPI_C_BOOL"
        case .int8: return "MPI_INT8_T"
        case .int16: return "MPI_INT16_T"
        case .int32: return "MPI_INT32_T"
        case .int64: return "MPI_INT64_T"
        case .uint8: return "MPI_UINT8_T"
        case .uint16: return "MPI_UINT16_T"
        case .uint32: return "MPI_UINT32_T"
        case .uint64: return "MPI_UINT64_T"
        case .float32: return "MPI_FLOAT"
        case .float64: return "MPI_DOUBLE"
        case .complex64: return "MPI_C_FLOAT_COMPLEX"
        case .complex128: return "MPI_C_DOUBLE_COMPLEX"
        }
    }

    static func mpiOp(_ op: WCR, _ t: DType) -> String {
        if t == .bool { return op == .add || op == .max ? "MPI_LOR" : "MPI_LAND" }
        switch op {
        case .add: return "MPI_SUM"
        case .mul: return "MPI_PROD"
        case .max: return t.isFloat ? "braid_mpi_nan_max()" : "MPI_MAX"
        case .min: return t.isFloat ? "braid_mpi_nan_min()" : "MPI_MIN"
        }
    }

    /// C helpers of the MPI target (after `CLowering.prelude`).
    static let prelude = """
    /* ---- Distribution: owner-computes with replication ----
       Every rank holds whole copies of all arrays. A distributed map splits the iterations of
       its first parameter into one contiguous block per rank; afterwards the rows each rank
       wrote are gathered on every rank (MPI_Allgatherv), and scalar reductions are combined
       (MPI_Allreduce). Everything else runs replicated on every rank. */

    /* This rank and the size of MPI_COMM_WORLD; rank 0 of 1 when MPI is not (or no longer)
       initialized, which is always correct since then every caller computes everything. */
    static inline void braid_mpi_world(int *rank, int *nranks)
    {
        int initialized = 0, finalized = 0;
        *rank = 0;
        *nranks = 1;
        MPI_Initialized(&initialized);
        MPI_Finalized(&finalized);
        if (!initialized || finalized) return;
        MPI_Comm_rank(MPI_COMM_WORLD, rank);
        MPI_Comm_size(MPI_COMM_WORLD, nranks);
    }

    /* First iteration of rank r's block when n iterations are cut into nranks contiguous
       blocks (the first n % nranks blocks are one longer); block r is
       [braid_block_begin(n, r, nranks), braid_block_begin(n, r + 1, nranks)). */
    static inline int64_t braid_block_begin(int64_t n, int r, int nranks)
    {
        if (n <= 0) return 0;
        int64_t q = n / nranks, extra = n % nranks;
        return q * r + (r < extra ? r : extra);
    }

    /* After a distributed map over `iterations` iterations: rank r wrote rows
       first_row + k * row_step for the iterations k of its block. Its slab, from its first to
       its last row (clipped to [0, rows)), is sent to every rank in place; rows of a slab that
       its rank did not write are the same on every rank. Returns 0, or 1 when out of memory. */
    static inline int braid_mpi_allgather_rows(void *data, MPI_Datatype type, int64_t rows, int64_t row_elems,
                                               int64_t iterations, int64_t first_row, int64_t row_step, int nranks)
    {
    #if MPI_VERSION >= 4
        MPI_Count *counts = malloc((size_t)nranks * sizeof *counts);
        MPI_Aint *displs = malloc((size_t)nranks * sizeof *displs);
    #else
        int *counts = malloc((size_t)nranks * sizeof *counts);
        int *displs = malloc((size_t)nranks * sizeof *displs);
    #endif
        if (counts == NULL || displs == NULL) {
            free(counts);
            free(displs);
            return 1;
        }
        for (int r = 0; r < nranks; ++r) {
            int64_t b = braid_block_begin(iterations, r, nranks), e = braid_block_begin(iterations, r + 1, nranks);
            int64_t lo = 0, hi = 0;
            if (e > b) {
                lo = braid_imax(0, first_row + b * row_step);
                hi = braid_imin(rows, first_row + (e - 1) * row_step + 1);
                if (hi < lo) lo = hi = 0;
            }
    #if MPI_VERSION < 4
            if ((hi - lo) * row_elems > INT32_MAX || hi * row_elems > INT32_MAX) {
                free(counts);
                free(displs);
                return 2;  /* too large for MPI-3 counts */
            }
    #endif
            counts[r] = (hi - lo) * row_elems;
            displs[r] = lo * row_elems;
        }
    #if MPI_VERSION >= 4
        MPI_Allgatherv_c(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, data, counts, displs, type, MPI_COMM_WORLD);
    #else
        MPI_Allgatherv(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, data, counts, displs, type, MPI_COMM_WORLD);
    #endif
        free(counts);
        free(displs);
        return 0;
    }

    /* NumPy's maximum/minimum propagate NaN, MPI_MAX/MPI_MIN need not: floating-point max/min
       reductions use these operations (created on first use, freed by MPI_Finalize). */
    static inline void braid_mpi_nan_max_fn(void *in, void *inout, int *len, MPI_Datatype *type)
    {
        if (*type == MPI_FLOAT) {
            float *a = in, *b = inout;
            for (int k = 0; k < *len; ++k) b[k] = braid_fmaxf(a[k], b[k]);
        } else {
            double *a = in, *b = inout;
            for (int k = 0; k < *len; ++k) b[k] = braid_fmax(a[k], b[k]);
        }
    }

    static inline void braid_mpi_nan_min_fn(void *in, void *inout, int *len, MPI_Datatype *type)
    {
        if (*type == MPI_FLOAT) {
            float *a = in, *b = inout;
            for (int k = 0; k < *len; ++k) b[k] = braid_fminf(a[k], b[k]);
        } else {
            double *a = in, *b = inout;
            for (int k = 0; k < *len; ++k) b[k] = braid_fmin(a[k], b[k]);
        }
    }

    static inline MPI_Op braid_mpi_nan_max(void)
    {
        static MPI_Op op = MPI_OP_NULL;
        if (op == MPI_OP_NULL) MPI_Op_create(braid_mpi_nan_max_fn, 1, &op);
        return op;
    }

    static inline MPI_Op braid_mpi_nan_min(void)
    {
        static MPI_Op op = MPI_OP_NULL;
        if (op == MPI_OP_NULL) MPI_Op_create(braid_mpi_nan_min_fn, 1, &op);
        return op;
    }

    """
}
