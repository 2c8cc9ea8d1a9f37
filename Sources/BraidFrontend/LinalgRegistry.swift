import BraidIR

/// `np.linalg` functions (keys are the path after `numpy.`, e.g. "linalg.solve").
///
/// `solve`, `inv`, `cholesky` and `det` become `LibraryOp.linalg` nodes (LAPACK on the CPU
/// and MPI targets); `norm` is an elementwise square and a reduction, with no library call.
/// Shapes are checked here: at compile time where they are declared, else when the module
/// is called (`ValueError`, as NumPy's `LinAlgError` is a `ValueError`).
enum LinalgRegistry {
    static let functions: [String: NumPyFunction] = square.merging(others) { first, _ in first }

    /// Functions of one square matrix.
    private static let square: [String: NumPyFunction] = Dictionary(uniqueKeysWithValues: [
        (LinalgFunction.inv, "inv(a), a n×n (LAPACK gesv with the identity, as NumPy; singular raises RuntimeError)"),
        (.cholesky, "cholesky(a), lower factor of a Hermitian positive-definite n×n a (LAPACK potrf)"),
        (.det, "det(a), a n×n (LAPACK getrf)"),
    ].map { f, summary in
        ("linalg.\(f.rawValue)", NumPyFunction(family: .linalg, summary: summary) { l, a in
            try a.check(maxPositional: 1, allowed: [])
            return try l.linalgSquare(f, try a.require(0, "a"), loc: a.loc)
        })
    })

    private static let others: [String: NumPyFunction] = [
        "linalg.solve": NumPyFunction(
            family: .linalg,
            summary: "solve(a, b), a n×n, b n or n×k (LAPACK gesv; a singular a raises RuntimeError 'Singular matrix')"
        ) { l, a in
            try a.check(maxPositional: 2, allowed: [])
            return try l.linalgSolve(try a.require(0, "a"), try a.require(1, "b"), loc: a.loc)
        },
        "linalg.norm": NumPyFunction(
            family: .linalg,
            summary: "norm(x, ord=None, axis=None|int|pair, keepdims=False): vectors any ord (2 default, inf, -inf, 0, p); matrices Frobenius (default), 1, -1, inf, -inf"
        ) { l, a in
            try a.check(maxPositional: 4, allowed: ["ord", "axis", "keepdims"])
            return try l.linalgNorm(a)
        },
    ]
}

extension FunctionLowerer {
    /// NumPy's result dtype for `np.linalg` (`linalg._commonType`): single precision only
    /// when every operand is float32/complex64, else double; complex if any operand is.
    /// (NumPy computes in double either way; so does the CPU lowering.)
    func linalgResultType(_ types: [DType]) -> DType {
        let single = types.allSatisfy { $0 == .float32 || $0 == .complex64 }
        let complex = types.contains { $0.isComplex }
        switch (single, complex) {
        case (true, true): return .complex64
        case (true, false): return .float32
        case (false, true): return .complex128
        case (false, false): return .float64
        }
    }

    /// The operand of `np.linalg.<fn>` as a square 2-D view, and its order.
    func linalgMatrix(_ v: Value, _ fn: String, loc: SourceLocation) throws -> (ArrayView, SymExpr) {
        let view = try viewOf(v, loc: loc)
        let s = view.shape
        guard s.count == 2 else {
            if s.count > 2 {
                throw Diagnostic(loc, "np.linalg.\(fn) of a stack of matrices (\(s.count)-D) is not supported yet; loop over the matrices")
            }
            throw Diagnostic(loc, "np.linalg.\(fn) needs a 2-D matrix, got a \(s.count)-D \(s.isEmpty ? "scalar" : "array")")
        }
        try linalgSameLength(s[0], s[1], "np.linalg.\(fn) needs a square matrix", loc: loc)
        return (view, s[0])
    }

    /// Requires two dimensions to be equal: a compile error where that is decidable (or the
    /// shapes are declared), else a check when the module is called (`ValueError`).
    func linalgSameLength(_ x: SymExpr, _ y: SymExpr, _ what: String, loc: SourceLocation) throws {
        if x == y { return }
        if let d = (x - y).constant, d != 0 {
            throw Diagnostic(loc, "\(what) (\(x) vs \(y))")
        }
        if entry.declaredShapes {
            throw Diagnostic(loc, "\(what) (\(x) vs \(y)); declare both with the same symbol if they are equal")
        }
        if !assertions.contains(where: { $0.0 == x && $0.1 == y }) {
            assertions.append((x, y, "\(loc): \(what) (\(x) != \(y))"))
        }
    }

    /// `np.linalg.solve(a, b)`: `b` is a vector (n) or a matrix of right-hand sides (n×k).
    func linalgSolve(_ a: Value, _ b: Value, loc: SourceLocation) throws -> Value {
        let (va, n) = try linalgMatrix(a, "solve", loc: loc)
        let vb = try viewOf(b, loc: loc)
        let sb = vb.shape
        guard (1...2).contains(sb.count) else {
            throw Diagnostic(loc, sb.isEmpty ? "np.linalg.solve needs b to be a vector or a matrix, got a scalar"
                : "np.linalg.solve with a \(sb.count)-D b (stacked right-hand sides) is not supported yet")
        }
        try linalgSameLength(n, sb[0], "np.linalg.solve: b must have as many rows as a", loc: loc)
        let t = linalgResultType([va.dtype, vb.dtype])
        let out = try newArray("solve", t, sb.count == 1 ? [n] : [n, sb[1]], loc: loc)
        markWritten(out.container)
        let inputs = [try rangeMemlet(va, as: va.dtype, loc: loc), try rangeMemlet(vb, as: vb.dtype, loc: loc)]
        emit(.library(LibraryNode(op: .linalg(.solve, inputs: inputs, output: out.rangeMemlet!), loc: loc)))
        return .array(Lazy(node: .view(out), shape: out.shape, dtype: t))
    }

    /// `np.linalg.inv/cholesky/det(a)` of one square matrix.
    func linalgSquare(_ f: LinalgFunction, _ a: Value, loc: SourceLocation) throws -> Value {
        let (va, n) = try linalgMatrix(a, f.rawValue, loc: loc)
        let t = linalgResultType([va.dtype])
        // Operands keep their dtype: the lowering converts while it copies them.
        let input = try rangeMemlet(va, as: va.dtype, loc: loc)
        if f == .det {
            let name = newScalar("det", t)
            markWritten(name)
            emit(.library(LibraryNode(op: .linalg(.det, inputs: [input], output: .point(name, [])), loc: loc)))
            return .scalar(.load(.point(name, []), t), weak: false)
        }
        let out = try newArray(f == .inv ? "inv" : "chol", t, [n, n], loc: loc)
        markWritten(out.container)
        emit(.library(LibraryNode(op: .linalg(f, inputs: [input], output: out.rangeMemlet!), loc: loc)))
        return .array(Lazy(node: .view(out), shape: out.shape, dtype: t))
    }

    /// `np.linalg.norm` with the default order: sqrt(sum(|x|^2)) over everything (the
    /// 2-norm of a vector, the Frobenius norm of a matrix) or along one axis.
    func linalgNorm(_ a: CallArgs) throws -> Value {
        var x = try lazy(try a.require(0, "x"), loc: a.loc)
        var axes: [Int]? = nil
        if let ax = a.get(2, "axis"), !isNone(ax) {
            axes = try intList(ax, loc: a.loc)
            guard (1...2).contains(axes!.count) else {
                throw Diagnostic(a.loc, "np.linalg.norm: axis must be None, an integer or a pair of integers")
            }
        }
        var order: Double? = nil
        let vectorNorm = axes?.count == 1 || axes == nil && x.shape.count == 1
        let matrixNorm = axes?.count == 2 || axes == nil && x.shape.count == 2
        if let o = a.get(1, "ord") {
            switch o {
            case .none: break
            case .string("fro") where matrixNorm: break
            case .scalar(.symbol(.int(let k)), _): order = Double(k)
            case .scalar(.literal(.int(let k), _), _): order = Double(k)
            case .scalar(.literal(.float(let d), _), _): order = d
            default:
                throw Diagnostic(a.loc, "np.linalg.norm: ord must be None, a number, np.inf or -np.inf (or 'fro' for matrices)")
            }
            if order == 2 && vectorNorm { order = nil }
            if let p = order, !vectorNorm {
                guard matrixNorm, [1, -1, Double.infinity, -Double.infinity].contains(p) else {
                    throw Diagnostic(a.loc, "np.linalg.norm of a matrix supports the default order (Frobenius, 'fro') and ord 1, -1, np.inf, -np.inf; 2, -2 and 'nuc' need singular values, which Braid does not compute")
                }
            }
        }
        var keepdims = false
        if let kd = a.get(3, "keepdims") {
            guard case .scalar(.literal(.bool(let b), _), _) = kd else {
                throw Diagnostic(a.loc, "keepdims must be True or False")
            }
            keepdims = b
        }
        // NumPy: integer and bool input is converted to float64; the result has the real dtype.
        if !x.dtype.isInexact { x = castLazy(x, .float64) }
        let real = x.dtype.isComplex ? x.dtype.realPart : x.dtype
        if let p = order {
            return try orderedNorm(x, p, axes: axes, matrix: !vectorNorm, keepdims: keepdims, loc: a.loc)
        }
        let square: Lazy
        if x.dtype.isComplex {
            let re = Lazy(node: .call(.real, [x]), shape: x.shape, dtype: real)
            let im = Lazy(node: .call(.imag, [x]), shape: x.shape, dtype: real)
            square = Lazy(node: .binary(.add, Lazy(node: .binary(.mul, re, re), shape: x.shape, dtype: real),
                                        Lazy(node: .binary(.mul, im, im), shape: x.shape, dtype: real)),
                          shape: x.shape, dtype: real)
        } else {
            square = Lazy(node: .binary(.mul, x, x), shape: x.shape, dtype: real)
        }
        // float32 squares are summed in float64 (at least as accurate as NumPy's float32
        // sum) and the result rounded to float32, NumPy's result dtype.
        let sum = try reduce(.add, .array(castLazy(square, .float64)), axes: axes, keepdims: keepdims, loc: a.loc)
        let root = try intrinsic(.sqrt, [sum], loc: a.loc)
        guard real == .float32 else { return root }
        switch root {
        case .scalar(let s, _): return .scalar(cast(s, .float32), weak: false)
        case .array(let l): return .array(castLazy(l, .float32))
        default: return root
        }
    }

    /// Norms of other orders, as NumPy writes them: vectors `sum(|x|**p)**(1/p)` (1: sum of
    /// |x|, inf/-inf: max/min of |x|, 0: the count of nonzeros); matrices 1/-1 (max/min
    /// column sum of |x|) and inf/-inf (max/min row sum).
    func orderedNorm(_ x: Lazy, _ p: Double, axes: [Int]?, matrix: Bool, keepdims: Bool, loc: SourceLocation) throws -> Value {
        let absx = try intrinsic(.abs, [.array(x)], loc: loc)
        let t = try lazy(absx, loc: loc).dtype
        if matrix {
            guard !keepdims else { throw Diagnostic(loc, "np.linalg.norm of a matrix with keepdims=True is not supported") }
            // Each axis on its own: the order of the pair matters (rows, columns).
            let pair = try (axes ?? [0, 1]).flatMap { try normalizedAxes([$0], rank: x.shape.count, loc: loc) }
            guard pair.count == 2, pair[0] != pair[1] else { throw Diagnostic(loc, "np.linalg.norm: duplicate axes") }
            var (rowAxis, colAxis) = (pair[0], pair[1])
            let byColumns = abs(p) == 1
            if !byColumns { swap(&rowAxis, &colAxis) }
            let sums = try reduce(.add, absx, axes: [rowAxis], keepdims: false, loc: loc)
            let rest = colAxis > rowAxis ? colAxis - 1 : colAxis
            let op: WCR = p > 0 ? .max : .min
            try checkNotEmpty(op, sums, axes: [rest], loc: loc)
            return try reduce(op, sums, axes: [rest], keepdims: false, loc: loc)
        }
        switch p {
        case .infinity, -.infinity:
            let op: WCR = p > 0 ? .max : .min
            try checkNotEmpty(op, absx, axes: axes, loc: loc)
            return try reduce(op, absx, axes: axes, keepdims: keepdims, loc: loc)
        case 0:
            let nz = try castValue(try arith(.ne, absx, .scalar(.literal(.float(0), .float64), weak: true), loc: loc), t)
            return try reduce(.add, nz, axes: axes, keepdims: keepdims, loc: loc, resultType: t)
        case 1:
            return try reduce(.add, absx, axes: axes, keepdims: keepdims, loc: loc)
        default:
            let pw = Value.scalar(.literal(.float(p), .float64), weak: true)
            let total = try reduce(.add, try arith(.pow, absx, pw, loc: loc), axes: axes, keepdims: keepdims, loc: loc)
            return try arith(.pow, total, .scalar(.literal(.float(1 / p), .float64), weak: true), loc: loc)
        }
    }
}
