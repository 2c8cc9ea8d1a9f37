import Foundation
import BraidIR

/// C with OpenMP for multicore CPUs; matmuls that BLAS can run call OpenBLAS `cblas`,
/// `np.linalg` nodes call LAPACK through `lapacke`.
public enum CPUBackend {
    public static let dialect: CDialect = {
        var d = baseDialect
        d.innerMapPragmas = { m, collapse in innerSIMD(m, collapse) }
        return d
    }()

    /// The innermost loop of a parallel map nest that is not collapsed and calls a vector math
    /// function runs its iterations in SIMD lanes (`omp simd`): they are independent by the
    /// map's definition, and without the pragma gcc, which sees the arrays through an OpenMP
    /// region's shared pointers and loses their `restrict`, would not vectorize loops it cannot
    /// prove free of overlap (nbody's `pow` over rows of a stride-3 array). The pragma also
    /// overrides gcc's cost model, so loops that only move data (a transposing copy) are left
    /// to it: forced gathers at a large stride ran attention 2.5x slower. Only maps without
    /// reductions or accumulating writes, with no loop, break, library call or index array inside.
    static func innerSIMD(_ m: MapScope, _ collapse: Int) -> [String] {
        guard m.schedule == .cpuParallel, m.params.count >= 2, m.reductions.isEmpty,
              !(collapse > 1 && ParallelCost.containsLoop(m.body)), plainBody(m.body) else { return [] }
        var math = false
        var gathers = false
        func scan(_ e: ScalarExpr) {
            switch e {
            case .literal, .symbol: break
            case .load(let mem, _):
                for case .index(.dynamic(let x)) in mem.subset { gathers = true; scan(x) }
            case .unary(_, let a, _), .cast(let a, _): scan(a)
            case .binary(let op, let a, let b, let t):
                if op == .pow && t.isFloat { math = true }
                scan(a)
                scan(b)
            case .call(let f, let args, let t):
                if vectorIntrinsics.contains(f) && !t.isComplex { math = true }
                args.forEach(scan)
            case .select(let c, let a, let b, _):
                scan(c)
                scan(a)
                scan(b)
            }
        }
        func visit(_ nodes: [Node]) {
            for n in nodes {
                switch n {
                case .tasklet(let t):
                    scan(t.value)
                    for case .index(.dynamic(let x)) in t.output.subset { gathers = true; scan(x) }
                case .branch(let b):
                    scan(b.condition)
                    visit(b.then)
                    visit(b.orElse)
                default: break
                }
            }
        }
        visit(m.body)
        return math && !gathers ? ["omp simd"] : []
    }

    /// The NumPy functions whose C functions have libmvec variants (`vectorMathFunctions`).
    static let vectorIntrinsics: Set<Intrinsic> = [
        .exp, .log, .sin, .cos, .tan, .arcsin, .arccos, .arctan, .sinh, .cosh, .tanh, .arctan2, .power,
        .hypot, .log10, .log2, .expm1, .log1p, .exp2, .cbrt, .arcsinh, .arccosh, .arctanh,
    ]

    static func plainBody(_ nodes: [Node]) -> Bool {
        nodes.allSatisfy { n in
            switch n {
            case .tasklet(let t): return t.wcr == nil
            case .branch(let b): return plainBody(b.then) && plainBody(b.orElse)
            default: return false
            }
        }
    }

    static let baseDialect = CDialect(
        name: "cpu",
        typeName: { $0.cType },
        pointerQualifier: "restrict",
        mapPragmas: { m, collapse, l in
            if m.schedule == .simd {
                let clauses = m.reductions.sorted { $0.key < $1.key }.map { "reduction(\(ParallelCost.clause($0.value)):\($0.key))" }
                return ["omp simd " + clauses.joined(separator: " ")]
            }
            guard m.schedule == .cpuParallel else { return [] }
            let (trips, weight) = ParallelCost.work(m)
            if let n = trips.constant, n * weight < ParallelCost.threshold { return [] }
            var p = "omp parallel for schedule(static)"
            // Collapsing makes the innermost loop recompute its indices and stops it from
            // vectorizing; only nests with loops inside (heavy iterations) collapse.
            if collapse > 1 && ParallelCost.containsLoop(m.body) { p += " collapse(\(collapse))" }
            // Small instances of a map whose size is only known at run time take the plain
            // loop nest next to this one (see `lowerMap`).
            for (name, op) in m.reductions.sorted(by: { $0.key < $1.key }) {
                // An array (histogram bins): each thread adds into its own copy of the whole
                // array, and the copies are summed at the end (an array-section reduction).
                let c = l.container(name)
                let section = c.isScalar ? "" : "[:\(l.sym(ParallelCost.elements(c)))]"
                p += " reduction(\(ParallelCost.clause(op)):\(name)\(section))"
            }
            return [p]
        },
        overloadedMath: false,
        supportsComplex: true,
        library: { node, lowering in try BLAS.lower(node, lowering) },
        lowerMap: { m, lowering in try ParallelCost.sizedByWork(m, lowering) })

    /// The native C of every program (entry points with the extension calling convention).
    public static func nativeCode(_ module: IRModule) throws -> String {
        // lapacke.h is large (a tenth of a second of the C compiler's time): only where needed.
        let lapack = ModuleSource.usesLAPACK(module) ? "#include <lapacke.h>\n" : ""
        var out = ModuleSource.cHeaders + "#include <cblas.h>\n" + lapack + "\n" + CLowering.prelude + "\n"
        out += reductionDeclarations + "\n" + vectorMath + loadAdaptiveTeams
        for p in module.programs {
            var f = try CLowering(program: p, dialect: dialect).entryFunction(name: ModuleSource.nativeName(p))
            // The caller's team size comes back on every path: all exits go through the final return.
            f.body.insert(.decl(type: "const int", name: "braid_threads", initializer: "braid_teams_begin()"), at: 0)
            f.body.insert(.expr("omp_set_num_threads(braid_threads)"), at: f.body.count - 1)
            out += CPrinter.print(f)
            out += "\n"
        }
        return out
    }

    /// Team sizes follow the machine's load for the duration of each call, unless the user
    /// set `OMP_NUM_THREADS` or `OMP_DYNAMIC`: the team leaves out the processors that other
    /// processes keep busy, at least one thread. Without it, a machine whose cores are already
    /// busy (other processes, a shared CI host) makes every region wait at its barrier for
    /// threads that are not running while the others spin; measured on a 2-core host with a
    /// load of 3-4, programs with regions inside time loops ran 2-10x slower on two threads
    /// than on one.
    ///
    /// The load of the others is the kernel's count of runnable threads (`/proc/loadavg`)
    /// minus this process's own runnable threads (`/proc/self/task/*/stat`), smoothed over
    /// about a second. Load averages would not do: they lag by a minute and count this
    /// process's own threads, so a program that keeps both cores busy would soon see a full
    /// machine and shrink its own team. Without `/proc` the team is every processor.
    ///
    /// The size goes through `omp_set_num_threads`, not `omp_set_dynamic`, so that OpenBLAS
    /// (built on OpenMP) asks for the same team: its level-3 threads wait for each other and
    /// never finish when OpenMP grants fewer threads than it asked for. The load is read at
    /// most every 100 ms. Team sizes never change results beyond the reassociation of
    /// parallel reductions.
    static let loadAdaptiveTeams = """
    #include <omp.h>
    #include <dirent.h>
    #include <math.h>
    #include <pthread.h>
    #include <time.h>
    static int braid_user_teams;
    __attribute__((constructor)) static void braid_read_omp_environment(void) {
        braid_user_teams = getenv("OMP_NUM_THREADS") != NULL || getenv("OMP_DYNAMIC") != NULL;
    }
    /* Runnable threads of the whole machine, or -1 without /proc. */
    static int braid_machine_runnable(void) {
        FILE *f = fopen("/proc/loadavg", "r");
        int running = -1;
        if (f == NULL) return -1;
        if (fscanf(f, "%*f %*f %*f %d/%*d", &running) != 1) running = -1;
        fclose(f);
        return running;
    }
    /* Runnable threads of this process (the calling thread included). */
    static int braid_own_runnable(void) {
        DIR *d = opendir("/proc/self/task");
        struct dirent *e;
        int running = 0;
        if (d == NULL) return 1;
        while ((e = readdir(d)) != NULL) {
            char path[64], text[512];
            FILE *f;
            size_t n;
            if (e->d_name[0] == '.') continue;
            snprintf(path, sizeof path, "/proc/self/task/%.20s/stat", e->d_name);
            f = fopen(path, "r");
            if (f == NULL) continue;
            n = fread(text, 1, sizeof text - 1, f);
            fclose(f);
            text[n] = 0;
            const char *close = strrchr(text, ')');
            if (close != NULL && close[1] == ' ' && close[2] == 'R') running++;
        }
        closedir(d);
        return running > 0 ? running : 1;
    }
    static pthread_mutex_t braid_load_lock = PTHREAD_MUTEX_INITIALIZER;
    static double braid_others_load = -1.0;
    static long long braid_load_at_ms;
    static int braid_free_procs(void) {
        struct timespec ts;
        const int procs = omp_get_num_procs();
        int free_procs;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        const long long now = (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
        pthread_mutex_lock(&braid_load_lock);
        if (braid_others_load < 0 || now - braid_load_at_ms >= 100) {
            const int machine = braid_machine_runnable();
            if (machine >= 0) {
                int others = machine - braid_own_runnable();
                if (others < 0) others = 0;
                /* Exponential smoothing with a time constant of one second. */
                const double w = braid_others_load < 0 ? 0.0 : exp(-(double)(now - braid_load_at_ms) / 1000.0);
                braid_others_load = w * (braid_others_load < 0 ? 0.0 : braid_others_load) + (1.0 - w) * others;
            } else {
                braid_others_load = 0.0;
            }
            braid_load_at_ms = now;
        }
        free_procs = procs - (int)(braid_others_load + 0.5);
        pthread_mutex_unlock(&braid_load_lock);
        return free_procs < 1 ? 1 : free_procs;
    }
    /* The process that loaded the module. GNU libgomp's thread pool does not survive fork:
       in a child forked after the parent ran a parallel region (multiprocessing's default
       start method on Linux), a region with more than one thread waits forever for threads
       that were not copied. Such a child runs every region on its own thread. */
    static pid_t braid_loaded_by = 0;
    __attribute__((constructor)) static void braid_record_loader(void) { braid_loaded_by = getpid(); }
    static int braid_teams_begin(void) {
        const int was = omp_get_max_threads();
        if (braid_loaded_by != 0 && getpid() != braid_loaded_by) {
            omp_set_num_threads(1);
            return was;
        }
        if (!braid_user_teams) {
            const int free_procs = braid_free_procs();
            if (free_procs < was) omp_set_num_threads(free_procs);
        }
        return was;
    }

    """

    /// The whole translation unit: native code plus the Python wrapper.
    public static func translationUnit(_ module: IRModule) throws -> String {
        let spec = ExtensionModuleSpec(
            moduleName: module.name,
            functions: module.programs.map { ModuleSource.extensionFunction($0, doc: "Compiled by Braid (cpu) from \($0.loc).") },
            hasErrorMessages: true)
        return PyExtensionEmitter.translationUnitPrelude + (try nativeCode(module)) + PyExtensionEmitter.emit(spec)
    }

    /// The libm functions glibc's libmvec (2.35 and later, x86-64) has SIMD variants of, for
    /// `double` and `float` and every x86 vector ISA (SSE4, AVX, AVX2, AVX-512), with their
    /// argument counts. `pow` is among them: a loop computing `x**3` (which stays a `pow`
    /// call, as NumPy's power ufunc calls it) vectorizes only with it.
    static let vectorMathFunctions: [(name: String, arguments: Int)] =
        ["exp", "log", "sin", "cos", "tan", "sinh", "cosh", "tanh", "asin", "acos", "atan", "asinh",
         "acosh", "atanh", "exp2", "expm1", "log10", "log2", "log1p", "cbrt"].map { ($0, 1) }
        + ["pow", "atan2", "hypot"].map { ($0, 2) }

    /// SIMD declarations of `vectorMathFunctions` (glibc's libmvec, linked through `-lm`,
    /// whose linker script adds libmvec as needed): declaring them lets the C compiler
    /// vectorize loops that call them, as NumPy's own SIMD loops are vectorized. glibc's
    /// `<math.h>` declares them only under `-ffast-math`, which Braid cannot use (it drops
    /// NaN and infinity semantics). libmvec documents at most 4 ulp of error (NumPy's SIMD
    /// functions are not correctly rounded either); lanes holding special values (NaN,
    /// infinities, zeros, overflow and underflow) are recomputed by the scalar function.
    static let vectorMath: String = {
        let libmvec = ["/lib/x86_64-linux-gnu/libmvec.so.1", "/usr/lib/x86_64-linux-gnu/libmvec.so.1"]
        guard libmvec.contains(where: { FileManager.default.fileExists(atPath: $0) }) else { return "" }
        var out = "#if defined(__x86_64__) && defined(__GLIBC__) && (__GLIBC__ > 2 || __GLIBC_MINOR__ >= 35)\n"
        for (n, arity) in vectorMathFunctions {
            let doubles = Array(repeating: "double", count: arity).joined(separator: ", ")
            let floats = Array(repeating: "float", count: arity).joined(separator: ", ")
            out += "#pragma omp declare simd notinbranch\ndouble \(n)(\(doubles));\n"
            out += "#pragma omp declare simd notinbranch\nfloat \(n)f(\(floats));\n"
        }
        return out + "#endif\n"
    }()

    /// `braid_max`/`braid_min` OpenMP reductions for every scalar C type: partial results
    /// combine with the same NaN-propagating comparison the loop body uses.
    static let reductionDeclarations: String = {
        var out = ""
        let floats = [("double", "braid_fmax", "braid_fmin", "INFINITY"), ("float", "braid_fmaxf", "braid_fminf", "INFINITY")]
        for (t, mx, mn, inf) in floats {
            out += "#pragma omp declare reduction(braid_max : \(t) : omp_out = \(mx)(omp_out, omp_in)) initializer(omp_priv = -\(inf))\n"
            out += "#pragma omp declare reduction(braid_min : \(t) : omp_out = \(mn)(omp_out, omp_in)) initializer(omp_priv = \(inf))\n"
        }
        let ints = [("int8_t", "INT8_MIN", "INT8_MAX"), ("int16_t", "INT16_MIN", "INT16_MAX"), ("int32_t", "INT32_MIN", "INT32_MAX"),
                    ("int64_t", "INT64_MIN", "INT64_MAX"), ("uint8_t", "0", "UINT8_MAX"), ("uint16_t", "0", "UINT16_MAX"),
                    ("uint32_t", "0", "UINT32_MAX"), ("uint64_t", "0", "UINT64_MAX"), ("bool", "false", "true")]
        for (t, lo, hi) in ints {
            out += "#pragma omp declare reduction(braid_max : \(t) : omp_out = omp_in > omp_out ? omp_in : omp_out) initializer(omp_priv = \(lo))\n"
            out += "#pragma omp declare reduction(braid_min : \(t) : omp_out = omp_in < omp_out ? omp_in : omp_out) initializer(omp_priv = \(hi))\n"
        }
        return out
    }()

    /// `-ffp-contract=off`: every `a * b + c` rounds twice, as NumPy's ufunc loops do; a fused
    /// multiply-add rounds once, and iterated kernels (Mandelbrot, fluid solvers) then drift
    /// away from NumPy's results.
    public static let compilerFlags = ["-fopenmp", "-fwrapv", "-fno-math-errno", "-ffp-contract=off"]
    public static let linkFlags = ["-llapacke"] + openBLAS + ["-lm"]

    /// OpenBLAS built on OpenMP when installed (Debian's `libopenblas-openmp-dev`): BLAS calls
    /// then share the OpenMP threads of the generated loops instead of a second thread pool
    /// that competes with them for the cores (measured 25x slower on LAPACK-heavy code).
    static let openBLAS: [String] = {
        for dir in ["/usr/lib/x86_64-linux-gnu/openblas-openmp", "/usr/lib/aarch64-linux-gnu/openblas-openmp"]
        where FileManager.default.fileExists(atPath: dir + "/libopenblas.so") {
            return ["-L\(dir)", "-Wl,-rpath,\(dir)", "-lopenblas"]
        }
        return ["-lopenblas"]
    }()
}

/// How much work a parallel map does, to keep small instances on one thread.
enum ParallelCost {
    /// Work units (one tasklet execution each) below which a map runs sequentially.
    static let threshold = 32_768

    /// The map's iteration count and the estimated work of one iteration.
    static func work(_ m: MapScope) -> (trips: SymExpr, weight: Int) {
        let trips = m.ranges.reduce(SymExpr.one) { acc, r in acc * count(r) }
        return (trips, weight(m.body))
    }

    /// A parallel map whose size is only known at run time, as a branch on its work between
    /// the parallel loop nest and the same nest as plain loops: small instances run on one
    /// thread. An OpenMP `if` clause would do the same but still enters the runtime (about a
    /// microsecond per region, measured); a small map inside a sequential loop (a row of
    /// Gauss-Seidel, one step of a substitution) then spends more there than on its work.
    ///
    /// A map reducing into arrays also needs the arrays small: every thread gets a copy of each
    /// (OpenMP places it on the thread's stack), and adds it to the result at the end. It runs in
    /// parallel only when they have at most `arrayReductionLimit` elements in all and the map's
    /// work is at least 8 times that.
    static func sizedByWork(_ m: MapScope, _ l: CLowering) throws -> [CStmt]? {
        guard m.schedule == .cpuParallel else { return nil }
        let (trips, weight) = work(m)
        let arrays = m.reductions.keys.sorted().map(l.container).filter { !$0.isScalar }
        guard trips.constant == nil || !arrays.isEmpty else { return nil }
        let n = l.sym(trips)
        var plain = m
        plain.schedule = .sequential
        plain.reductions = [:]
        var condition = "(\(n)) * \(weight) >= \(threshold)"
        if !arrays.isEmpty {
            let size = l.sym(arrays.map(elements).reduce(SymExpr.zero, +))
            condition += " && (\(size)) <= \(arrayReductionLimit) && (\(size)) * 8 <= (\(n)) * \(weight)"
        }
        return [.ifElse(condition: condition, then: try l.map(m), orElse: try l.map(plain))]
    }

    /// The most elements of arrays a parallel map reduces into (per thread: 256 KiB of doubles).
    static let arrayReductionLimit = 32_768

    /// The number of elements of an array container.
    static func elements(_ c: Container) -> SymExpr { c.shape.reduce(SymExpr.one, *) }

    static func count(_ r: SymRange) -> SymExpr {
        r.step == .one ? r.end - r.start : SymExpr.floorDivide(r.end - r.start + r.step - 1, r.step)
    }

    static func containsLoop(_ nodes: [Node]) -> Bool {
        nodes.contains { n in
            switch n {
            case .map, .forLoop, .whileLoop: return true
            case .branch(let b): return containsLoop(b.then) || containsLoop(b.orElse)
            default: return false
            }
        }
    }

    /// The OpenMP reduction identifier of a write-conflict resolution. OpenMP's own max/min
    /// combine partial results with `<`, which drops a NaN partial; NumPy's max/min propagate
    /// NaN, so they use the declared `braid_max`/`braid_min` (see `reductionDeclarations`).
    static func clause(_ op: WCR) -> String {
        switch op {
        case .add: return "+"
        case .mul: return "*"
        case .max: return "braid_max"
        case .min: return "braid_min"
        }
    }

    /// Tasklets per iteration; loops of unknown length count as 32 iterations.
    static func weight(_ nodes: [Node]) -> Int {
        var w = 0
        for n in nodes {
            switch n {
            case .tasklet: w += 1
            case .library: w += 4096
            case .map(let m):
                let t = m.ranges.reduce(SymExpr.one) { $0 * count($1) }
                w += max(1, min(t.constant ?? 32, 1 << 20)) * weight(m.body)
            case .forLoop(let f): w += max(1, min(count(f.range).constant ?? 32, 1 << 20)) * weight(f.body)
            case .whileLoop(let l): w += 32 * weight(l.body)
            case .branch(let b): w += 1 + max(weight(b.then), weight(b.orElse))
            case .breakLoop, .continueLoop, .returnProgram, .fail, .allocate: break
            }
            w = min(w, 1 << 30)
        }
        return max(w, 1)
    }
}

/// Lowers matmul library nodes to `cblas_?gemm/gemv/dot` (and `np.linalg` nodes to LAPACK).
enum BLAS {
    struct Layout {
        var pointer: String
        var lengths: [String]
        var strides: [String]

        /// The pointer, parenthesized when it is an expression.
        var base: String { pointer.contains(" ") ? "(\(pointer))" : pointer }

        /// The element at kept-dimension indices `i` (and `j` for a matrix), as a C lvalue.
        func element(_ i: String, _ j: String? = nil) -> String {
            func term(_ index: String, _ stride: String) -> String {
                stride == "1" ? index : "\(index.contains(" ") ? "(\(index))" : index) * \(stride)"
            }
            var terms = [term(i, strides[0])]
            if let j, strides.count > 1 { terms.append(term(j, strides[1])) }
            return "\(base)[\(terms.joined(separator: " + "))]"
        }
    }

    static func layout(_ m: Memlet, _ l: CLowering) throws -> Layout {
        let c = l.container(m.data)
        let cs = l.strides(c)
        var offset: [String] = []
        var lengths: [String] = []
        var strides: [String] = []
        for (k, s) in m.subset.enumerated() {
            switch s {
            case .index(.sym(let e)):
                if e != .zero { offset.append("(\(l.sym(e))) * \(cs[k])") }
            case .index(.dynamic(let e)):
                offset.append("((int64_t)(\(try l.expr(e)))) * \(cs[k])")
            case .range(let a, _, let st):
                if a != .zero { offset.append("(\(l.sym(a))) * \(cs[k])") }
                lengths.append(l.sym(s.length))
                strides.append(st == .one ? cs[k] : "(\(l.sym(st))) * \(cs[k])")
            }
        }
        let base = c.isScalar ? "&\(try! l.lvalue(.point(c.name, [])))" : c.name
        let ptr = offset.isEmpty ? base : "\(base) + \(offset.joined(separator: " + "))"
        return Layout(pointer: ptr, lengths: lengths, strides: strides)
    }

    static func lower(_ node: LibraryNode, _ l: CLowering) throws -> [CStmt] {
        if case .matvecPair(let a, let x, let y, let accY, let u, let v, let accV) = node.op {
            return try matvecPair(a, x: x, y: y, accumulateY: accY, u: u, v: v, accumulateV: accV, node.loc, l)
        }
        guard case .matmul(let a, let b, let c, let acc) = node.op else { return try LAPACK.lower(node, l) }
        let t = l.container(c.data).dtype
        let p = t == .float32 ? "s" : "d"
        let beta = acc ? "1.0" : "0.0"
        let la = try layout(a, l), lb = try layout(b, l), lc = try layout(c, l)
        func ld(_ s: String) -> String { "braid_imax(1, \(s))" }
        // BLAS may return early on an empty contraction without writing its output;
        // NumPy's result is then zero (or unchanged when accumulating).
        func guarded(_ k: String, _ call: CStmt) -> [CStmt] {
            if acc { return [call] }
            let c = l.container(c.data)
            let zero = CStmt.expr("memset(\(c.name), 0, (size_t)(\(l.size(c))) * sizeof(\(l.dialect.typeName(c.dtype))))")
            return [.ifElse(condition: "(\(k)) == 0", then: [zero], orElse: [call])]
        }
        // A transposed operand is the stored matrix read with BLAS's transpose flag; its
        // effective rows and columns are the stored ones swapped.
        func trans(_ t: Bool) -> String { t ? "CblasTrans" : "CblasNoTrans" }
        let (ta, tb) = (node.transposeA, node.transposeB)
        switch (la.lengths.count, lb.lengths.count) {
        case (2, 2):
            let m = ta ? la.lengths[1] : la.lengths[0], k = ta ? la.lengths[0] : la.lengths[1]
            let n = tb ? lb.lengths[0] : lb.lengths[1]
            return guarded(k, .expr("cblas_\(p)gemm(CblasRowMajor, \(trans(ta)), \(trans(tb)), \(m), \(n), \(k), 1.0, \(la.pointer), \(ld(la.strides[0])), \(lb.pointer), \(ld(lb.strides[0])), \(beta), \(lc.pointer), \(ld(lc.strides[0])))"))
        case (2, 1):
            return guarded(ta ? la.lengths[0] : la.lengths[1], .expr("cblas_\(p)gemv(CblasRowMajor, \(trans(ta)), \(la.lengths[0]), \(la.lengths[1]), 1.0, \(la.pointer), \(ld(la.strides[0])), \(lb.pointer), \(lb.strides[0]), \(beta), \(lc.pointer), \(lc.strides[0]))"))
        case (1, 2):
            // x @ B is B^T x; with B transposed it is B x.
            return guarded(la.lengths[0], .expr("cblas_\(p)gemv(CblasRowMajor, \(trans(!tb)), \(lb.lengths[0]), \(lb.lengths[1]), 1.0, \(lb.pointer), \(ld(lb.strides[0])), \(la.pointer), \(la.strides[0]), \(beta), \(lc.pointer), \(lc.strides[0]))"))
        default:
            let dot = "cblas_\(p)dot(\(la.lengths[0]), \(la.pointer), \(la.strides[0]), \(lb.pointer), \(lb.strides[0]))"
            let out = try l.lvalue(c)
            return [.assign(lhs: out, rhs: acc ? "\(out) + \(dot)" : dot)]
        }
    }
}

extension BLAS {
    /// `y (+)= A @ x` and `v (+)= A.T @ u` in one pass over A's rows (`fuse-matvec`): each
    /// thread takes a static block of rows; for each row it computes y[i] and then adds
    /// u[i] * A[i, :] to its own partial sum of v while the row is in cache. The partials
    /// (one row of v per thread, from the pool) are then added in thread order, each thread
    /// summing a block of v's elements, so the result is the same on every run with the same
    /// team size. Small products run on one thread.
    static func matvecPair(_ a: Memlet, x: Memlet, y: Memlet, accumulateY: Bool, u: Memlet, v: Memlet,
                           accumulateV: Bool, _ loc: SourceLocation, _ l: CLowering) throws -> [CStmt] {
        let t = l.dialect.typeName(l.container(a.data).dtype)
        let la = try layout(a, l), lx = try layout(x, l), ly = try layout(y, l), lu = try layout(u, l), lv = try layout(v, l)
        let n = "braid_mv_n", m = "braid_mv_m", part = "braid_mv_part"
        let row = "braid_mv_row", acc = "braid_mv_acc"
        let yi = ly.element("braid_mv_i"), vj = lv.element("braid_mv_j")
        let rowsLoop: CStmt = .forLoop(pragmas: ["omp for schedule(static)"], variable: "braid_mv_i", start: "0", end: n, step: "1", body: [
            .decl(type: "const \(t) *restrict", name: row, initializer: "\(la.base) + braid_mv_i * (\(la.strides[0]))"),
            .comment("16 partial sums: the additions of a dot product form one dependence chain otherwise"),
            .decl(type: t, name: "braid_mv_lane[16]", initializer: "{0}"),
            .forLoop(pragmas: [], variable: "braid_mv_b", start: "0", end: "braid_mv_blocks", step: "16", body: [
                .forLoop(pragmas: ["omp simd"], variable: "braid_mv_k", start: "0", end: "16", step: "1", body: [
                    .assign(lhs: "braid_mv_lane[braid_mv_k]",
                            rhs: "braid_mv_lane[braid_mv_k] + \(row)[braid_mv_b + braid_mv_k] * \(lx.element("braid_mv_b + braid_mv_k"))"),
                ]),
            ]),
            .decl(type: t, name: "braid_mv_d", initializer: "0"),
            .forLoop(pragmas: [], variable: "braid_mv_j", start: "braid_mv_blocks", end: m, step: "1", body: [
                .assign(lhs: "braid_mv_d", rhs: "braid_mv_d + \(row)[braid_mv_j] * \(lx.element("braid_mv_j"))"),
            ]),
            .forLoop(pragmas: [], variable: "braid_mv_k", start: "0", end: "16", step: "1", body: [
                .assign(lhs: "braid_mv_d", rhs: "braid_mv_d + braid_mv_lane[braid_mv_k]"),
            ]),
            .assign(lhs: yi, rhs: accumulateY ? "\(yi) + braid_mv_d" : "braid_mv_d"),
            .comment("u[i] after y[i]: u may be y"),
            .decl(type: "const \(t)", name: "braid_mv_u", initializer: lu.element("braid_mv_i")),
            .forLoop(pragmas: ["omp simd"], variable: "braid_mv_j", start: "0", end: m, step: "1", body: [
                .assign(lhs: "\(acc)[braid_mv_j]", rhs: "\(acc)[braid_mv_j] + braid_mv_u * \(row)[braid_mv_j]"),
            ]),
        ])
        let sumLoop: CStmt = .forLoop(pragmas: ["omp for schedule(static)"], variable: "braid_mv_j", start: "0", end: m, step: "1", body: [
            .decl(type: t, name: "braid_mv_s", initializer: "0"),
            .forLoop(pragmas: [], variable: "braid_mv_t", start: "0", end: "braid_mv_used", step: "1", body: [
                .assign(lhs: "braid_mv_s", rhs: "braid_mv_s + \(part)[braid_mv_t * \(m) + braid_mv_j]"),
            ]),
            .assign(lhs: vj, rhs: accumulateV ? "\(vj) + braid_mv_s" : "braid_mv_s"),
        ])
        let region: CStmt = .block([
            .decl(type: "const int64_t", name: "braid_mv_id", initializer: "omp_get_thread_num()"),
            .decl(type: "\(t) *restrict", name: acc, initializer: "\(part) + braid_mv_id * \(m)"),
            .ifElse(condition: "braid_mv_id == 0", then: [.assign(lhs: "braid_mv_used", rhs: "omp_get_num_threads()")], orElse: []),
            .forLoop(pragmas: ["omp simd"], variable: "braid_mv_j", start: "0", end: m, step: "1", body: [
                .assign(lhs: "\(acc)[braid_mv_j]", rhs: "0"),
            ]),
            rowsLoop,
            sumLoop,
        ])
        return [.block([
            .comment("y = A @ x and v = A.T @ u in one pass over the rows of A (fuse-matvec)"),
            .decl(type: "const int64_t", name: n, initializer: la.lengths[0]),
            .decl(type: "const int64_t", name: m, initializer: la.lengths[1]),
            .decl(type: "const int64_t", name: "braid_mv_blocks", initializer: "\(m) / 16 * 16"),
            .decl(type: "const int64_t", name: "braid_mv_threads",
                  initializer: "\(n) * \(m) >= \(ParallelCost.threshold) ? omp_get_max_threads() : 1"),
            .decl(type: "int64_t", name: "braid_mv_used", initializer: "1"),
            .decl(type: "\(t) *", name: part,
                  initializer: "(\(t) *)braid_alloc((size_t)braid_mv_threads * (size_t)(\(m) > 0 ? \(m) : 1) * sizeof(\(t)))"),
            .ifElse(condition: "\(part) == NULL", then: [.assign(lhs: "braid_status", rhs: "1"), .goto("braid_exit")], orElse: []),
            .pragma("omp parallel num_threads(braid_mv_threads)"),
            region,
            .expr("braid_free(\(part))"),
        ])]
    }
}

/// Lowers `np.linalg` library nodes to LAPACK (`lapacke`'s `_work` functions, which call
/// LAPACK directly: no NaN screening and no layout transposition of their own).
///
/// Each call works on scratch copies in column-major (Fortran) order, made from the
/// operands' views with their own strides, so the caller's arrays are never overwritten.
/// As NumPy does, the work is done in double precision (`d`), or double complex (`z`,
/// `lapack_complex_double`, which is C99's `double _Complex`) when an operand is complex,
/// and the result is rounded to the output's dtype when it is copied back.
///
/// A singular or non-positive-definite matrix sets `braid_status` (codes from
/// `ModuleSource.cHeaders`) and leaves the program; the Python wrapper then raises
/// `RuntimeError` with the message ("Singular matrix", "Matrix is not positive definite").
/// NumPy raises `numpy.linalg.LinAlgError` (a subclass of `ValueError`) with the same
/// words; the compiled module cannot import NumPy's exception class, so callers that
/// catch `LinAlgError` need to catch `RuntimeError` as well. Since a failing call jumps to
/// the exit, `ScheduleMaps` never puts one inside a parallel map (`LibraryOp.canFail`).
enum LAPACK {
    /// `braid_status` codes (see `braid_error_message`).
    static let outOfMemory = 1, singular = 2, notPositiveDefinite = 3, invalidArgument = 4

    static func lower(_ node: LibraryNode, _ l: CLowering) throws -> [CStmt] {
        guard case .linalg(let f, let inputs, let output) = node.op else { return [] }
        let complex = (inputs + [output]).contains { l.container($0.data).dtype.isComplex }
        let t = complex ? DType.complex128.cType : DType.float64.cType
        let x = complex ? "z" : "d"
        let a = try BLAS.layout(inputs[0], l)
        let out = try BLAS.layout(output, l)
        guard a.lengths.count == 2 else {
            throw BackendError(node.loc, "internal: np.linalg.\(f.rawValue) needs a 2-D matrix")
        }
        let n = "braid_la_n", lda = "(lapack_int)braid_imax(1, braid_la_n)"
        func loops(_ rows: String, _ cols: String, _ body: CStmt) -> CStmt {
            .forLoop(pragmas: [], variable: "braid_la_j", start: "0", end: cols, step: "1", body: [
                .forLoop(pragmas: [], variable: "braid_la_i", start: "0", end: rows, step: "1", body: [body]),
            ])
        }
        func scratch(_ name: String, _ count: String, type: String? = nil) -> CStmt {
            let ty = type ?? t
            return .decl(type: ty, name: "*" + name, initializer: "(\(ty) *)braid_alloc((size_t)(\(count)) * sizeof(\(ty)))")
        }
        /// scratch[i + j*n] = A[i, j]: the matrix in column-major order.
        let copyA = loops(n, n, .assign(lhs: "braid_la_a[braid_la_i + braid_la_j * braid_la_n]", rhs: a.element("braid_la_i", "braid_la_j")))
        func status(_ info: String, positive: Int) -> CStmt {
            .assign(lhs: "braid_la_status", rhs: "\(info) < 0 ? \(invalidArgument) : \(info) > 0 ? \(positive) : 0")
        }
        var decls: [CStmt] = [.decl(type: "const int64_t", name: n, initializer: a.lengths[0]), scratch("braid_la_a", "\(n) * \(n)")]
        var buffers = ["braid_la_a"]
        var run: [CStmt] = [copyA]
        switch f {
        case .solve, .inv:
            // solve: B is b (one column for a vector); inv: B is the identity, as NumPy's inv does.
            var rhs = "braid_la_n"
            if f == .solve {
                let b = try BLAS.layout(inputs[1], l)
                rhs = b.lengths.count == 2 ? b.lengths[1] : "1"
                run.append(loops(n, "braid_la_k", .assign(lhs: "braid_la_b[braid_la_i + braid_la_j * braid_la_n]",
                                                          rhs: b.element("braid_la_i", "braid_la_j"))))
            } else {
                run.append(loops(n, n, .assign(lhs: "braid_la_b[braid_la_i + braid_la_j * braid_la_n]",
                                               rhs: "braid_la_i == braid_la_j ? 1 : 0")))
            }
            decls += [.decl(type: "const int64_t", name: "braid_la_k", initializer: rhs),
                      scratch("braid_la_b", "\(n) * braid_la_k"),
                      scratch("braid_la_ipiv", n, type: "lapack_int")]
            buffers += ["braid_la_b", "braid_la_ipiv"]
            run += [
                .decl(type: "lapack_int", name: "braid_la_info",
                      initializer: "LAPACKE_\(x)gesv_work(LAPACK_COL_MAJOR, (lapack_int)\(n), (lapack_int)braid_la_k, braid_la_a, \(lda), braid_la_ipiv, braid_la_b, \(lda))"),
                status("braid_la_info", positive: singular),
                .ifElse(condition: "braid_la_status == 0", then: [
                    loops(n, "braid_la_k", .assign(lhs: out.element("braid_la_i", "braid_la_j"),
                                                   rhs: "braid_la_b[braid_la_i + braid_la_j * braid_la_n]")),
                ], orElse: []),
            ]
        case .cholesky:
            run += [
                .decl(type: "lapack_int", name: "braid_la_info",
                      initializer: "LAPACKE_\(x)potrf_work(LAPACK_COL_MAJOR, 'L', (lapack_int)\(n), braid_la_a, \(lda))"),
                status("braid_la_info", positive: notPositiveDefinite),
                .comment("L is the lower triangle; the upper one is zero."),
                .ifElse(condition: "braid_la_status == 0", then: [
                    loops(n, n, .assign(lhs: out.element("braid_la_i", "braid_la_j"),
                                        rhs: "braid_la_i >= braid_la_j ? braid_la_a[braid_la_i + braid_la_j * braid_la_n] : 0")),
                ], orElse: []),
            ]
        case .det:
            // As NumPy: sign and log|det| from the LU factors, det = sign * exp(logdet)
            // (no overflow in the running product); an exactly singular matrix has det 0.
            decls.append(scratch("braid_la_ipiv", n, type: "lapack_int"))
            buffers.append("braid_la_ipiv")
            let absU = complex ? "cabs(braid_la_u)" : "fabs(braid_la_u)"
            let unit: CStmt = complex ? .assign(lhs: "braid_la_sign", rhs: "braid_la_sign * (braid_la_u / braid_la_abs)")
                : .ifElse(condition: "braid_la_u < 0", then: [.assign(lhs: "braid_la_sign", rhs: "-braid_la_sign")], orElse: [])
            run += [
                .decl(type: "lapack_int", name: "braid_la_info",
                      initializer: "LAPACKE_\(x)getrf_work(LAPACK_COL_MAJOR, (lapack_int)\(n), (lapack_int)\(n), braid_la_a, \(lda), braid_la_ipiv)"),
                .assign(lhs: "braid_la_status", rhs: "braid_la_info < 0 ? \(invalidArgument) : 0"),
                .decl(type: t, name: "braid_la_sign", initializer: "braid_la_info > 0 ? 0 : 1"),
                .decl(type: "double", name: "braid_la_logdet", initializer: "0"),
                .ifElse(condition: "braid_la_info == 0", then: [
                    .forLoop(pragmas: [], variable: "braid_la_i", start: "0", end: n, step: "1", body: [
                        .decl(type: t, name: "braid_la_u", initializer: "braid_la_a[braid_la_i + braid_la_i * braid_la_n]"),
                        .decl(type: "double", name: "braid_la_abs", initializer: absU),
                        .ifElse(condition: "braid_la_ipiv[braid_la_i] != braid_la_i + 1",
                                then: [.assign(lhs: "braid_la_sign", rhs: "-braid_la_sign")], orElse: []),
                        unit,
                        .assign(lhs: "braid_la_logdet", rhs: "braid_la_logdet + log(braid_la_abs)"),
                    ]),
                ], orElse: []),
                .assign(lhs: try l.lvalue(output), rhs: "braid_la_sign * exp(braid_la_logdet)"),
            ]
        }
        let allocated = buffers.map { "\($0) != NULL" }.joined(separator: " && ")
        var body: [CStmt] = [.comment("np.linalg.\(f.rawValue): LAPACK on column-major copies (the arguments are not modified)")]
        body += decls
        body.append(.decl(type: "int", name: "braid_la_status", initializer: "\(outOfMemory)"))
        body.append(.ifElse(condition: allocated, then: run, orElse: []))
        body += buffers.reversed().map { .expr("braid_free(\($0))") }
        body.append(.ifElse(condition: "braid_la_status != 0",
                            then: [.assign(lhs: "braid_status", rhs: "braid_la_status"), .goto("braid_exit")], orElse: []))
        return [.block(body)]
    }
}
