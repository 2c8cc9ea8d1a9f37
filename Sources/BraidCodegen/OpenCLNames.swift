import BraidIR

/// Python names that would not survive as OpenCL C (or host C) identifiers: keywords, types,
/// built-in functions and macros of OpenCL C, and the names generated code uses itself.
/// `OpenCLNames.legalize` renames them (`local` → `py_local`) everywhere in a program.
enum OpenCLNames {
    static let reserved: Set<String> = [
        // C keywords and types that are valid Python identifiers
        "auto", "case", "char", "const", "default", "do", "double", "enum", "extern", "float", "goto", "int", "long",
        "register", "restrict", "short", "signed", "sizeof", "static", "struct", "switch", "typedef", "union",
        "unsigned", "void", "volatile", "inline", "bool", "true", "false", "complex", "imaginary", "NULL",
        "stdin", "stdout", "stderr", "errno", "EOF",
        // OpenCL C keywords, qualifiers and types
        "kernel", "global", "local", "constant", "private", "read_only", "write_only", "read_write", "uniform",
        "pipe", "half", "quad", "uchar", "ushort", "uint", "ulong", "size_t", "ptrdiff_t", "intptr_t", "uintptr_t",
        "event_t", "sampler_t", "image1d_t", "image2d_t", "image3d_t", "image1d_array_t", "image1d_buffer_t",
        "image2d_array_t", "int8_t", "int16_t", "int32_t", "int64_t", "uint8_t", "uint16_t", "uint32_t", "uint64_t",
        "INT64_C", "INT64_MIN", "UINT64_MAX", "NAN", "INFINITY", "HUGE_VAL", "HUGE_VALF", "MAXFLOAT",
        "CHAR_BIT", "CHAR_MAX", "CHAR_MIN", "INT_MAX", "INT_MIN", "LONG_MAX", "LONG_MIN", "SCHAR_MAX", "SCHAR_MIN",
        "SHRT_MAX", "SHRT_MIN", "UCHAR_MAX", "UINT_MAX", "ULONG_MAX", "USHRT_MAX",
        "M_E", "M_LOG2E", "M_LOG10E", "M_LN2", "M_LN10", "M_PI", "M_PI_2", "M_PI_4", "M_1_PI", "M_2_PI",
        "M_2_SQRTPI", "M_SQRT2", "M_SQRT1_2",
        // OpenCL C built-in functions (math, integer, common, geometric, relational, work-item, sync)
        "acos", "acosh", "acospi", "asin", "asinh", "asinpi", "atan", "atan2", "atanh", "atanpi", "atan2pi", "cbrt",
        "ceil", "copysign", "cos", "cosh", "cospi", "erfc", "erf", "exp", "exp2", "exp10", "expm1", "fabs", "fdim",
        "floor", "fma", "fmax", "fmin", "fmod", "fract", "frexp", "hypot", "ilogb", "ldexp", "lgamma", "lgamma_r",
        "log", "log2", "log10", "log1p", "logb", "mad", "maxmag", "minmag", "modf", "nan", "nextafter", "pow",
        "pown", "powr", "remainder", "remquo", "rint", "rootn", "round", "rsqrt", "sin", "sincos", "sinh", "sinpi",
        "sqrt", "tan", "tanh", "tanpi", "tgamma", "trunc", "abs", "abs_diff", "add_sat", "hadd", "rhadd", "clamp",
        "clz", "ctz", "mad_hi", "mad_sat", "max", "min", "mul_hi", "rotate", "sub_sat", "upsample", "popcount",
        "mad24", "mul24", "degrees", "mix", "radians", "step", "smoothstep", "sign", "cross", "dot", "distance",
        "length", "normalize", "isequal", "isnotequal", "isgreater", "isgreaterequal", "isless", "islessequal",
        "islessgreater", "isfinite", "isinf", "isnan", "isnormal", "isordered", "isunordered", "signbit", "any",
        "all", "bitselect", "select", "barrier", "mem_fence", "read_mem_fence", "write_mem_fence", "printf",
        "prefetch", "async_work_group_copy", "async_work_group_strided_copy", "wait_group_events", "shuffle",
        "shuffle2", "vec_step",
    ]

    static let reservedPrefixes = [
        "braid_", "get_", "convert_", "as_", "vload", "vstore", "native_", "half_", "atomic_", "atom_", "cl_", "CL_",
        "__", "FLT_", "DBL_", "M_", "pthread_",
    ]

    static let vectorTypeBases = ["char", "uchar", "short", "ushort", "int", "uint", "long", "ulong", "float", "double",
                                  "half", "bool"]

    static func isReserved(_ name: String) -> Bool {
        if reserved.contains(name) { return true }
        if reservedPrefixes.contains(where: { name.hasPrefix($0) }) { return true }
        for base in vectorTypeBases where name.hasPrefix(base) {
            let rest = name.dropFirst(base.count)
            if ["2", "3", "4", "8", "16"].contains(String(rest)) { return true }
        }
        return false
    }

    /// Every identifier the program's native code declares or uses.
    static func identifiers(_ p: Program) -> Set<String> {
        var out = Set(p.containers.map(\.name))
        out.formUnion(p.symbols)
        func sym(_ e: SymExpr) { out.formUnion(e.freeSymbols) }
        func visit(_ nodes: [Node]) {
            for n in nodes {
                switch n {
                case .map(let m):
                    out.formUnion(m.params)
                    out.formUnion(m.locals)
                    for r in m.ranges { sym(r.start); sym(r.end); sym(r.step) }
                    visit(m.body)
                case .forLoop(let f):
                    out.insert(f.variable)
                    visit(f.body)
                case .whileLoop(let w): visit(w.body)
                case .branch(let b):
                    visit(b.then)
                    visit(b.orElse)
                default: break
                }
            }
        }
        visit(p.body)
        return out
    }

    /// The program with every reserved identifier renamed, and the renaming applied.
    static func legalize(_ p: Program) -> (Program, [String: String]) {
        let names = identifiers(p)
        var map: [String: String] = [:]
        var taken = names
        for n in names.sorted() where isReserved(n) {
            // `py_` starts no reserved name, so the loop ends.
            var candidate = "py_" + n
            var k = 1
            while taken.contains(candidate) {
                candidate = "py_\(n)_\(k)"
                k += 1
            }
            taken.insert(candidate)
            map[n] = candidate
        }
        if map.isEmpty { return (p, map) }
        return (rename(p, map), map)
    }

    static func rename(_ p: Program, _ map: [String: String]) -> Program {
        let subst = map.mapValues { SymExpr.sym($0) }
        func n(_ s: String) -> String { map[s] ?? s }
        func sym(_ e: SymExpr) -> SymExpr { e.substituting(subst) }
        func memlet(_ m: Memlet) -> Memlet {
            Memlet(data: n(m.data), subset: m.subset.map { s in
                switch s {
                case .index(.sym(let e)): return .index(.sym(sym(e)))
                case .index(.dynamic(let e)): return .index(.dynamic(expr(e)))
                case .range(let a, let b, let c): return .range(start: sym(a), end: sym(b), step: sym(c))
                }
            })
        }
        func expr(_ e: ScalarExpr) -> ScalarExpr {
            switch e {
            case .literal: return e
            case .symbol(let s): return .symbol(sym(s))
            case .load(let m, let t): return .load(memlet(m), t)
            case .unary(let op, let a, let t): return .unary(op, expr(a), t)
            case .binary(let op, let a, let b, let t): return .binary(op, expr(a), expr(b), t)
            case .call(let f, let args, let t): return .call(f, args.map(expr), t)
            case .select(let c, let a, let b, let t): return .select(expr(c), expr(a), expr(b), t)
            case .cast(let a, let t): return .cast(expr(a), t)
            }
        }
        func range(_ r: SymRange) -> SymRange { SymRange(sym(r.start), sym(r.end), step: sym(r.step)) }
        func node(_ x: Node) -> Node {
            switch x {
            case .tasklet(var t):
                t.output = memlet(t.output)
                t.value = expr(t.value)
                return .tasklet(t)
            case .library(var l):
                l.op = l.op.mapMemlets(memlet)
                return .library(l)
            case .map(var m):
                m.params = m.params.map(n)
                m.ranges = m.ranges.map(range)
                m.locals = m.locals.map(n)
                m.reductions = Dictionary(uniqueKeysWithValues: m.reductions.map { (n($0.key), $0.value) })
                m.body = m.body.map(node)
                return .map(m)
            case .forLoop(var f):
                f.variable = n(f.variable)
                f.range = range(f.range)
                f.body = f.body.map(node)
                return .forLoop(f)
            case .whileLoop(var w):
                w.condition = expr(w.condition)
                w.body = w.body.map(node)
                return .whileLoop(w)
            case .branch(var b):
                b.condition = expr(b.condition)
                b.then = b.then.map(node)
                b.orElse = b.orElse.map(node)
                return .branch(b)
            case .breakLoop, .continueLoop, .returnProgram, .fail:
                return x
            case .allocate(var a):
                a.container = n(a.container)
                a.takeFrom = a.takeFrom.map(n)
                return .allocate(a)
            }
        }
        var q = p
        q.params = p.params.map(n)
        q.symbols = p.symbols.map(n)
        q.results = p.results.map(n)
        q.defaults = Dictionary(uniqueKeysWithValues: p.defaults.map { (n($0.key), $0.value) })
        q.containers = p.containers.map { c in
            var c = c
            c.name = n(c.name)
            c.shape = c.shape.map(sym)
            return c
        }
        q.shapeAssertions = p.shapeAssertions.map { (sym($0.0), sym($0.1), $0.2) }
        q.body = p.body.map(node)
        return q
    }
}
