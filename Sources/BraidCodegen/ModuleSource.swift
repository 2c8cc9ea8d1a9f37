import Foundation
import BraidIR

/// Pieces shared by every backend's translation unit: the extension description of a
/// program and the standard C headers and helpers.
public enum ModuleSource {
    /// Name of the native entry point of a program.
    public static func nativeName(_ p: Program) -> String { "braid_native_\(p.name)" }

    /// Programs compiled from the second, third, ... export signature of one function are
    /// named `<function>__braid_overload<k>` by the frontend (native names must differ); the
    /// wrapper exports all of them under the function's name and dispatches on argument types.
    public static let overloadMarker = "__braid_overload"

    /// The Python name of a program (its name without an overload suffix).
    public static func pythonName(_ p: Program) -> String {
        guard let r = p.name.range(of: overloadMarker, options: .backwards),
              !p.name[r.upperBound...].isEmpty, p.name[r.upperBound...].allSatisfy(\.isNumber) else { return p.name }
        return String(p.name[..<r.lowerBound])
    }

    /// Whether a program of the module calls LAPACK (an `np.linalg` library node).
    public static func usesLAPACK(_ module: IRModule) -> Bool {
        func visit(_ nodes: [Node]) -> Bool {
            nodes.contains { n in
                switch n {
                case .library(let l): if case .linalg = l.op { return true } else { return false }
                case .map(let m): return visit(m.body)
                case .forLoop(let f): return visit(f.body)
                case .whileLoop(let w): return visit(w.body)
                case .branch(let b): return visit(b.then) || visit(b.orElse)
                case .tasklet, .breakLoop, .continueLoop, .returnProgram, .fail, .allocate: return false
                }
            }
        }
        return module.programs.contains { visit($0.body) }
    }

    /// The extension wrapper's view of a program.
    public static func extensionFunction(_ p: Program, doc: String) -> ExtensionFunction {
        // Shapes may name integer parameters; the wrapper knows them by their Python names.
        var rename: [String: SymExpr] = [:]
        for (container, name) in zip(p.params, p.pythonParamNames) where container != name {
            rename[container] = .sym(name)
        }
        let params: [ExtensionFunction.Param] = zip(p.params, p.pythonParamNames).map { container, name in
            let c = p.container(container)!
            return c.isScalar ? .scalar(name: name, dtype: c.dtype)
                : .array(name: name, dtype: c.dtype, shape: c.shape.map { $0.substituting(rename) }, writable: c.isWritten)
        }
        let results: [ExtensionFunction.Result] = p.results.map { name in
            let c = p.container(name)!
            if c.isDynamic { return .dynamicArray(dtype: c.dtype, rank: c.shape.count) }
            return c.isScalar ? .scalar(dtype: c.dtype) : .array(dtype: c.dtype, shape: c.shape.map { $0.substituting(rename) })
        }
        var f = ExtensionFunction(
            pythonName: pythonName(p), nativeName: nativeName(p), params: params, defaults: p.defaults,
            symbols: p.symbols, results: results,
            shapeAssertions: p.shapeAssertions.map {
                ShapeAssertion(lhs: $0.0.substituting(rename), rhs: $0.1.substituting(rename), message: $0.2)
            },
            doc: doc)
        f.returnsTuple = p.returnsTuple
        return f
    }

    /// The `braid_error_message` cases of the IR's run-time checks (`Failure.statusCode`),
    /// shared by every target whose host code runs them.
    static let runTimeCheckMessages = """
        case 5: return "IndexError: index out of bounds";
        case 6: return "ValueError: operands could not be broadcast together: shapes do not agree";
        case 7: return "ValueError: zero-size array to reduction operation which has no identity";
        case 8: return "ValueError: a value NumPy rejects (an integer to a negative integer power, a bin count below 1, a non-finite range, ...)";
    """

    /// `<complex.h>` without its `I` macro, and `CMPLX`/`CMPLXF` where the C library lacks them.
    static let complexHeader = """
        #include <complex.h>
        #undef I  /* complex.h's imaginary unit would shadow Python names such as the symbol I */
        #ifndef CMPLX
        #define CMPLX(r, i) ((double _Complex)((double)(r) + _Complex_I * (double)(i)))
        #endif
        #ifndef CMPLXF
        #define CMPLXF(r, i) ((float _Complex)((float)(r) + _Complex_I * (float)(i)))
        #endif
        /* NumPy's complex product: the textbook formula. C's `*` adds Annex G's recovery of
           infinities (a call to __muldc3 when both parts are NaN), which NumPy does not do and
           which keeps loops of complex products from vectorizing. */
        static inline double _Complex braid_cmul(double _Complex a, double _Complex b)
        {
            return CMPLX(creal(a) * creal(b) - cimag(a) * cimag(b), creal(a) * cimag(b) + cimag(a) * creal(b));
        }
        static inline float _Complex braid_cmulf(float _Complex a, float _Complex b)
        {
            return CMPLXF(crealf(a) * crealf(b) - cimagf(a) * cimagf(b), crealf(a) * cimagf(b) + cimagf(a) * crealf(b));
        }
        """

    /// The allocator of every array a call allocates (temporaries, results): blocks of at
    /// least 4 MiB that a call frees are kept, up to a byte budget, and handed to the next
    /// call that asks for about as much, instead of going back to the kernel. A fresh block
    /// costs a page fault and the kernel's zeroing for every page on its first write (for an
    /// 800 MB result, more time than the program's arithmetic); a kept one is already
    /// mapped. Kept blocks are `madvise(MADV_FREE)`: under memory pressure the kernel takes
    /// their pages back (a later call then faults them in again), so keeping them costs no
    /// memory the system needs. New large blocks are aligned to 2 MiB and
    /// `madvise(MADV_HUGEPAGE)`, as NumPy's own allocator does, so the faults they do take
    /// are one per 2 MiB.
    ///
    /// The budget is `BRAID_POOL_BYTES` (bytes; 0 keeps nothing), by default an eighth of
    /// physical memory, at most 2 GiB, per module. Blocks are reused only for requests
    /// between 80% and 100% of their size; the least recently kept block leaves first.
    /// `braid_pool_free` frees any pointer from `malloc`/`aligned_alloc` (a block it did not
    /// hand out goes straight to `free`). The wrapper includes the same text (guarded), so
    /// results and the native code share one pool.
    public static let memoryPool = """
        #ifndef BRAID_POOL_DEFINED
        #define BRAID_POOL_DEFINED
        #include <pthread.h>
        #include <stdlib.h>
        #include <unistd.h>
        #include <sys/mman.h>
        #define BRAID_POOL_MIN ((size_t)4 << 20)
        #define BRAID_POOL_ALIGN ((size_t)2 << 20)
        #define BRAID_POOL_KEPT 8
        #define BRAID_POOL_LIVE 64
        typedef struct { void *p; size_t bytes; unsigned long stamp; } braid_pool_block;
        static braid_pool_block braid_pool_kept[BRAID_POOL_KEPT];  /* freed, kept for reuse */
        static braid_pool_block braid_pool_live[BRAID_POOL_LIVE];  /* large blocks handed out */
        static size_t braid_pool_kept_bytes = 0;
        static size_t braid_pool_budget = (size_t)-1;  /* read on first use */
        static unsigned long braid_pool_clock = 0;
        static pthread_mutex_t braid_pool_lock = PTHREAD_MUTEX_INITIALIZER;
        static pthread_once_t braid_pool_once = PTHREAD_ONCE_INIT;

        /* A fork while another thread holds the lock (multiprocessing) must not leave the
           child's pool locked forever: the lock is taken around fork and fresh in the child. */
        static void braid_pool_fork_prepare(void) { pthread_mutex_lock(&braid_pool_lock); }
        static void braid_pool_fork_parent(void) { pthread_mutex_unlock(&braid_pool_lock); }
        static void braid_pool_fork_child(void) { pthread_mutex_init(&braid_pool_lock, NULL); }
        static void braid_pool_register(void)
        {
            (void)pthread_atfork(braid_pool_fork_prepare, braid_pool_fork_parent, braid_pool_fork_child);
        }
        static void braid_pool_enter(void)
        {
            (void)pthread_once(&braid_pool_once, braid_pool_register);
            pthread_mutex_lock(&braid_pool_lock);
        }

        static size_t braid_pool_budget_bytes(void)
        {
            if (braid_pool_budget == (size_t)-1) {
                const char *e = getenv("BRAID_POOL_BYTES");
                size_t b = (size_t)1 << 30;  /* where the memory size is not known */
        #if defined(_SC_PHYS_PAGES) && defined(_SC_PAGESIZE)
                long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
                if (pages > 0 && page > 0) b = (size_t)pages / 8 * (size_t)page;
                if (b > ((size_t)2 << 30)) b = (size_t)2 << 30;
        #endif
                if (e != NULL && *e != '\\0') {
                    char *end = NULL;
                    unsigned long long v = strtoull(e, &end, 10);
                    if (end != NULL && *end == '\\0') b = (size_t)v;
                }
                braid_pool_budget = b;
            }
            return braid_pool_budget;
        }

        static void *braid_pool_alloc(size_t bytes)
        {
            void *p = NULL;
            size_t rounded;
            int k, best = -1;
            if (bytes < BRAID_POOL_MIN) return aligned_alloc(64, bytes ? (bytes + 63) & ~(size_t)63 : 64);
            rounded = (bytes + BRAID_POOL_ALIGN - 1) & ~(BRAID_POOL_ALIGN - 1);
            if (rounded < bytes) return NULL;
            braid_pool_enter();
            for (k = 0; k < BRAID_POOL_KEPT; k++) {
                size_t b = braid_pool_kept[k].bytes;
                if (braid_pool_kept[k].p != NULL && b >= rounded && b - b / 5 <= rounded
                    && (best < 0 || b < braid_pool_kept[best].bytes)) best = k;
            }
            if (best >= 0) {
                p = braid_pool_kept[best].p;
                rounded = braid_pool_kept[best].bytes;
                braid_pool_kept_bytes -= rounded;
                braid_pool_kept[best].p = NULL;
                braid_pool_kept[best].bytes = 0;
            }
            pthread_mutex_unlock(&braid_pool_lock);
            if (p == NULL) {
                p = aligned_alloc(BRAID_POOL_ALIGN, rounded);
                if (p == NULL) return NULL;
        #ifdef MADV_HUGEPAGE
                (void)madvise(p, rounded, MADV_HUGEPAGE);
        #endif
            }
            braid_pool_enter();
            for (k = 0; k < BRAID_POOL_LIVE; k++) {
                if (braid_pool_live[k].p == NULL) {
                    braid_pool_live[k].p = p;
                    braid_pool_live[k].bytes = rounded;
                    break;
                }
            }
            pthread_mutex_unlock(&braid_pool_lock);
            return p;  /* not recorded when 64 large blocks are out: braid_pool_free frees it */
        }

        static void braid_pool_free(void *p)
        {
            void *drop[BRAID_POOL_KEPT + 1];
            int k, n = 0, slot = -1;
            size_t bytes = 0;
            if (p == NULL) return;
            braid_pool_enter();
            for (k = 0; k < BRAID_POOL_LIVE; k++) {
                if (braid_pool_live[k].p == p) {
                    bytes = braid_pool_live[k].bytes;
                    braid_pool_live[k].p = NULL;
                    break;
                }
            }
            if (bytes == 0 || bytes > braid_pool_budget_bytes()) {
                pthread_mutex_unlock(&braid_pool_lock);
                free(p);
                return;
            }
            /* Room for it: drop the least recently kept blocks. */
            for (;;) {
                int oldest = -1;
                slot = -1;
                for (k = 0; k < BRAID_POOL_KEPT; k++) {
                    if (braid_pool_kept[k].p == NULL) { if (slot < 0) slot = k; continue; }
                    if (oldest < 0 || braid_pool_kept[k].stamp < braid_pool_kept[oldest].stamp) oldest = k;
                }
                if (slot >= 0 && braid_pool_kept_bytes + bytes <= braid_pool_budget) break;
                drop[n++] = braid_pool_kept[oldest].p;
                braid_pool_kept_bytes -= braid_pool_kept[oldest].bytes;
                braid_pool_kept[oldest].p = NULL;
                braid_pool_kept[oldest].bytes = 0;
            }
        #ifdef MADV_FREE
            (void)madvise(p, bytes, MADV_FREE);
        #endif
            braid_pool_kept[slot].p = p;
            braid_pool_kept[slot].bytes = bytes;
            braid_pool_kept[slot].stamp = ++braid_pool_clock;
            braid_pool_kept_bytes += bytes;
            pthread_mutex_unlock(&braid_pool_lock);
            for (k = 0; k < n; k++) free(drop[k]);
        }
        #endif

        """

    /// Standard headers and helpers for C targets (after `<Python.h>`).
    public static let cHeaders = """
    #include <stdint.h>
    #include <stdbool.h>
    #include <stdlib.h>
    #include <string.h>
    #include <math.h>
    \(complexHeader)

    \(memoryPool)
    static void *braid_alloc(size_t bytes) { return braid_pool_alloc(bytes); }
    static void braid_free(void *p) { braid_pool_free(p); }

    /* "Kind: message": the wrapper raises the exception class NumPy raises (see PyExtensionEmitter). */
    const char *braid_error_message(int code)
    {
        switch (code) {
        case 1: return "MemoryError: out of memory while allocating a temporary array";
        case 2: return "LinAlgError: Singular matrix";
        case 3: return "LinAlgError: Matrix is not positive definite";
        case 4: return "LAPACK rejected an argument (internal error)";
    \(runTimeCheckMessages)
        default: return "native code failed";
        }
    }

    """
}
