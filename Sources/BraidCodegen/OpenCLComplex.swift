import BraidIR

/// Complex numbers on the OpenCL target. OpenCL C has no complex type: complex128 and
/// complex64 values are `double2` and `float2` vectors (`.x` the real part, `.y` the imaginary
/// part), which is also the memory layout of C99 complex numbers, so host buffers need no
/// conversion. Addition, subtraction, negation and selection are the vector operators; every
/// other operation is an inline helper (`braid_cmul`, ...; a trailing `f` for `float2`) that
/// follows NumPy's own formulas, and the program gets only the helpers its kernels call.
enum OpenCLComplex {
    /// The OpenCL C text of `e` when complex numbers are involved (as its value or an operand);
    /// `nil` for everything else, which the shared lowering renders.
    static func expression(_ e: ScalarExpr, _ lw: CLowering) throws -> String? {
        switch e {
        case .literal(let l, let t) where t.isComplex:
            let (re, im): (Double, Double)
            switch l {
            case .int(let v): (re, im) = (Double(v), 0)
            case .float(let v): (re, im) = (v, 0)
            case .bool(let b): (re, im) = (b ? 1 : 0, 0)
            case .complex(let r, let i): (re, im) = (r, i)
            }
            return pack(lw.literal(.float(re), part(t)), lw.literal(.float(im), part(t)), t)
        case .unary(let op, let a, let t) where a.dtype.isComplex || t.isComplex:
            let x = try lw.expr(a)
            switch op {
            case .neg: return "(-\(x))"
            case .not: return "(!\(call("cnz", a.dtype, x)))"
            case .bitNot: throw unsupported(lw, "bitwise not")
            }
        case .binary(let op, let a, let b, let t) where a.dtype.isComplex || b.dtype.isComplex || t.isComplex:
            let ct = t.isComplex ? t : widest([a.dtype, b.dtype])
            let x = try lw.expr(promote(a, ct)), y = try lw.expr(promote(b, ct))
            switch op {
            case .add: return "(\(x) + \(y))"
            case .sub: return "(\(x) - \(y))"
            case .mul: return call("cmul", ct, x, y)
            case .div: return call("cdiv", ct, x, y)
            case .pow: return call("cpow", ct, x, y)
            case .eq: return call("ceq", ct, x, y)
            case .ne: return "(!\(call("ceq", ct, x, y)))"
            case .lt: return call("clt", ct, x, y)
            case .le: return call("cle", ct, x, y)
            case .gt: return call("clt", ct, y, x)
            case .ge: return call("cle", ct, y, x)
            case .and: return "(\(call("cnz", ct, x)) && \(call("cnz", ct, y)))"
            case .or: return "(\(call("cnz", ct, x)) || \(call("cnz", ct, y)))"
            case .floorDiv, .mod, .bitAnd, .bitOr, .bitXor, .shl, .shr, .max, .min:
                throw unsupported(lw, op.rawValue)
            }
        case .call(let f, let args, let t) where args.contains(where: { $0.dtype.isComplex }):
            let ct = widest(args.map(\.dtype))
            let xs = try args.map { try lw.expr(promote($0, ct)) }
            switch f {
            case .abs: return call("cabs", ct, xs[0])
            case .real: return "(\(xs[0])).x"
            case .imag: return "(\(xs[0])).y"
            case .conj: return call("cconj", ct, xs[0])
            case .exp, .log, .sqrt, .sin, .cos, .tan, .sinh, .cosh, .tanh:
                return call("c" + f.rawValue, ct, xs[0])
            case .power:
                return call("cpow", t.isComplex ? t : ct, xs[0], xs[1])
            default: throw unsupported(lw, "np.\(f.rawValue)")
            }
        case .select(let c, let a, let b, let t) where t.isComplex:
            return "(\(try lw.expr(c)) ? \(try lw.expr(promote(a, t))) : \(try lw.expr(promote(b, t))))"
        case .cast(let a, let t) where a.dtype.isComplex || t.isComplex:
            let x = try lw.expr(a)
            if a.dtype == t { return x }
            if a.dtype.isComplex && t.isComplex { return "convert_\(OpenCLBackend.deviceType(t))(\(x))" }
            if t.isComplex {
                return pack("(\(lw.dialect.typeName(part(t))))(\(x))", lw.literal(.float(0), part(t)), t)
            }
            if t == .bool { return call("cnz", a.dtype, x) }
            return "((\(lw.dialect.typeName(t)))(\(x)).x)"
        default:
            return nil
        }
    }

    /// Complex operations the target has no helper for, reported where they occur (the
    /// frontend rejects most of them for every target already).
    static func unsupportedOperation(_ e: ScalarExpr) -> String? {
        var found: String?
        func visit(_ e: ScalarExpr) {
            guard found == nil else { return }
            switch e {
            case .literal, .symbol, .load: break
            case .unary(let op, let a, _):
                if op == .bitNot && a.dtype.isComplex { found = "bitwise not" }
                visit(a)
            case .cast(let a, _): visit(a)
            case .binary(let op, let a, let b, let t):
                if a.dtype.isComplex || b.dtype.isComplex || t.isComplex {
                    switch op {
                    case .floorDiv, .mod, .bitAnd, .bitOr, .bitXor, .shl, .shr, .max, .min: found = op.rawValue
                    default: break
                    }
                }
                visit(a)
                visit(b)
            case .call(let f, let args, _):
                if args.contains(where: { $0.dtype.isComplex }) {
                    switch f {
                    case .abs, .real, .imag, .conj, .exp, .log, .sqrt, .sin, .cos, .tan, .sinh, .cosh, .tanh, .power: break
                    default: found = "np.\(f.rawValue)"
                    }
                }
                args.forEach(visit)
            case .select(let c, let a, let b, _):
                visit(c)
                visit(a)
                visit(b)
            }
        }
        visit(e)
        return found
    }

    static func unsupported(_ lw: CLowering, _ what: String) -> BackendError {
        BackendError(lw.program.loc, "internal: \(what) of complex numbers reached the OpenCL printer (checkSupported rejects it)")
    }

    /// The real type of a complex type's parts.
    static func part(_ t: DType) -> DType { t == .complex64 ? .float32 : .float64 }

    static func widest(_ ts: [DType]) -> DType {
        ts.contains(.complex128) || ts.contains(.float64) || ts.contains(where: { $0.isInteger && $0.itemSize >= 4 })
            ? .complex128 : .complex64
    }

    static func promote(_ e: ScalarExpr, _ t: DType) -> ScalarExpr { e.dtype == t ? e : .cast(e, t) }

    static func pack(_ re: String, _ im: String, _ t: DType) -> String {
        "((\(OpenCLBackend.deviceType(t)))(\(re), \(im)))"
    }

    /// A helper call, spelled for the precision of `t`.
    static func call(_ helper: String, _ t: DType, _ args: String...) -> String {
        "braid_\(helper)\(t == .complex64 ? "f" : "")(\(args.joined(separator: ", ")))"
    }

    // MARK: Device helpers

    /// A helper function: its name, the helpers it calls, and its OpenCL C text in double
    /// precision (`T` the real type, `T2` the vector, `F` the name suffix; the single-precision
    /// text substitutes them). Literals are integers, so float helpers stay in float.
    struct Helper {
        var name: String
        var uses: [String]
        var text: String
    }

    /// In dependency order: a helper comes after the helpers it calls.
    static let helpers: [Helper] = [
        Helper(name: "cnz", uses: [], text: """
            int braid_cnzF(T2 z) { return z.x != 0 || z.y != 0; }
            """),
        Helper(name: "ceq", uses: [], text: """
            int braid_ceqF(T2 a, T2 b) { return a.x == b.x && a.y == b.y; }
            """),
        // NumPy's lexicographic order: NaN in an imaginary part makes a "<" on the real parts false.
        Helper(name: "clt", uses: [], text: """
            int braid_cltF(T2 a, T2 b) { return (a.x < b.x && a.y == a.y && b.y == b.y) || (a.x == b.x && a.y < b.y); }
            """),
        Helper(name: "cle", uses: [], text: """
            int braid_cleF(T2 a, T2 b) { return (a.x < b.x && a.y == a.y && b.y == b.y) || (a.x == b.x && a.y <= b.y); }
            """),
        Helper(name: "cconj", uses: [], text: """
            T2 braid_cconjF(T2 z) { return (T2)(z.x, -z.y); }
            """),
        Helper(name: "cabs", uses: [], text: """
            T braid_cabsF(T2 z) { return hypot(z.x, z.y); }
            """),
        Helper(name: "cmul", uses: [], text: """
            T2 braid_cmulF(T2 a, T2 b) { return (T2)(a.x * b.x - a.y * b.y, a.x * b.y + a.y * b.x); }
            """),
        // Smith's algorithm, as NumPy's complex division.
        Helper(name: "cdiv", uses: [], text: """
            T2 braid_cdivF(T2 a, T2 b)
            {
                T ar = fabs(b.x), ai = fabs(b.y);
                if (ar >= ai) {
                    if (ar == 0 && ai == 0) return (T2)(a.x / ar, a.y / ar);
                    T rat = b.y / b.x, scl = 1 / (b.x + b.y * rat);
                    return (T2)((a.x + a.y * rat) * scl, (a.y - a.x * rat) * scl);
                }
                T rat = b.x / b.y, scl = 1 / (b.y + b.x * rat);
                return (T2)((a.x * rat + a.y) * scl, (a.y * rat - a.x) * scl);
            }
            """),
        Helper(name: "cexp", uses: [], text: """
            T2 braid_cexpF(T2 z)
            {
                T e = exp(z.x);
                if (z.y == 0) return (T2)(e, z.y);
                return (T2)(e * cos(z.y), e * sin(z.y));
            }
            """),
        Helper(name: "clog", uses: ["cabs"], text: """
            T2 braid_clogF(T2 z) { return (T2)(log(braid_cabsF(z)), atan2(z.y, z.x)); }
            """),
        Helper(name: "csqrt", uses: ["cabs"], text: """
            T2 braid_csqrtF(T2 z)
            {
                if (z.x == 0 && z.y == 0) return (T2)(0, z.y);
                if (isinf(z.y)) return (T2)(INFINITY, z.y);
                T t = sqrt((fabs(z.x) + braid_cabsF(z)) / 2);
                if (z.x >= 0) return (T2)(t, z.y / (2 * t));
                return (T2)(fabs(z.y) / (2 * t), copysign(t, z.y));
            }
            """),
        Helper(name: "csin", uses: [], text: """
            T2 braid_csinF(T2 z) { return (T2)(sin(z.x) * cosh(z.y), cos(z.x) * sinh(z.y)); }
            """),
        Helper(name: "ccos", uses: [], text: """
            T2 braid_ccosF(T2 z) { return (T2)(cos(z.x) * cosh(z.y), -(sin(z.x) * sinh(z.y))); }
            """),
        Helper(name: "csinh", uses: [], text: """
            T2 braid_csinhF(T2 z) { return (T2)(sinh(z.x) * cos(z.y), cosh(z.x) * sin(z.y)); }
            """),
        Helper(name: "ccosh", uses: [], text: """
            T2 braid_ccoshF(T2 z) { return (T2)(cosh(z.x) * cos(z.y), sinh(z.x) * sin(z.y)); }
            """),
        // Kahan's formula (as the C library's ctanh), which neither overflows nor cancels.
        Helper(name: "ctanh", uses: [], text: """
            T2 braid_ctanhF(T2 z)
            {
                if (fabs(z.x) > 22) {
                    T e = exp(-2 * fabs(z.x));
                    return (T2)(copysign((T)1, z.x), 4 * sin(z.y) * cos(z.y) * e);
                }
                T t = tan(z.y), beta = 1 + t * t, s = sinh(z.x), rho = sqrt(1 + s * s), d = 1 + beta * s * s;
                return (T2)(beta * rho * s / d, t / d);
            }
            """),
        // tan(z) = -i tanh(i z).
        Helper(name: "ctan", uses: ["ctanh"], text: """
            T2 braid_ctanF(T2 z) { T2 w = braid_ctanhF((T2)(-z.y, z.x)); return (T2)(w.y, -w.x); }
            """),
        // NumPy's npy_cpow: integer exponents below 100 in magnitude by binary exponentiation,
        // the rest as exp(b log a).
        Helper(name: "cpow", uses: ["cmul", "cdiv", "cexp", "clog"], text: """
            T2 braid_cpowF(T2 a, T2 b)
            {
                if (b.x == 0 && b.y == 0) return (T2)(1, 0);
                if (a.x == 0 && a.y == 0) {
                    if (b.x > 0 && b.y == 0) return (T2)(0, 0);
                    return (T2)(NAN, NAN);
                }
                if (b.y == 0 && b.x == trunc(b.x) && fabs(b.x) < 100) {
                    long n = (long)b.x;
                    if (n == 1) return a;
                    if (n == 2) return braid_cmulF(a, a);
                    if (n == 3) return braid_cmulF(a, braid_cmulF(a, a));
                    long m = n < 0 ? -n : n;
                    T2 r = (T2)(1, 0), p = a;
                    while (1) {
                        if (m & 1) r = braid_cmulF(r, p);
                        m >>= 1;
                        if (m == 0) break;
                        p = braid_cmulF(p, p);
                    }
                    return n < 0 ? braid_cdivF((T2)(1, 0), r) : r;
                }
                return braid_cexpF(braid_cmulF(b, braid_clogF(a)));
            }
            """),
    ]

    /// The helpers `kernels` (OpenCL C text) call, with the helpers they call, as OpenCL C.
    static func helpers(usedIn kernels: String) -> String {
        var out: [String] = []
        for (suffix, real, vector) in [("", "double", "double2"), ("f", "float", "float2")] {
            var needed = Set(helpers.map(\.name).filter { kernels.contains("braid_\($0)\(suffix)(") })
            for h in helpers.reversed() where needed.contains(h.name) { needed.formUnion(h.uses) }
            for h in helpers where needed.contains(h.name) {
                out.append(h.text.replacingOccurrences(of: "T2", with: vector)
                    .replacingOccurrences(of: "(T)", with: "(\(real))")
                    .replacingOccurrences(of: "T ", with: real + " ")
                    .replacingOccurrences(of: "F(", with: suffix + "("))
            }
        }
        if out.isEmpty { return "" }
        return "/* Complex numbers as (real, imaginary) vectors: the helpers the kernels call. */\n"
            + out.joined(separator: "\n") + "\n\n"
    }
}
