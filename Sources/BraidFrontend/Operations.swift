import Foundation
import BraidIR

extension FunctionLowerer {
    func binaryOp(_ op: PyBinOp, _ a: Value, _ b: Value, loc: SourceLocation) throws -> Value {
        let bop: BinaryOp
        switch op {
        case .add: bop = .add
        case .sub: bop = .sub
        case .mult: bop = .mul
        case .div: bop = .div
        case .floorDiv: bop = .floorDiv
        case .mod: bop = .mod
        case .pow: bop = .pow
        case .lShift: bop = .shl
        case .rShift: bop = .shr
        case .bitAnd: bop = .bitAnd
        case .bitOr: bop = .bitOr
        case .bitXor: bop = .bitXor
        case .matMult: return try matmul(a, b, loc: loc)
        }
        return try arith(bop, a, b, loc: loc)
    }

    /// An elementwise operator on scalars and/or arrays, with NumPy 2 typing and broadcasting.
    func arith(_ op: BinaryOp, _ a: Value, _ b: Value, loc: SourceLocation) throws -> Value {
        // Elementwise work on x[mask] is done on x and keeps the mask (the other elements are dropped later).
        if case .masked(let x, let m) = a, case .scalar = b { return try keepMask(m, arith(op, .array(x), b, loc: loc), loc) }
        if case .masked(let x, let m) = b, case .scalar = a { return try keepMask(m, arith(op, a, .array(x), loc: loc), loc) }
        if case .masked(let x, let m) = a, case .masked(let y, let n) = b, m == n {
            return try keepMask(m, arith(op, .array(x), .array(y), loc: loc), loc)
        }
        if let folded = try weakIntegerOutOfRange(op, a, b, loc: loc) { return folded }
        switch (a, b) {
        case (.scalar(let x, let wx), .scalar(let y, let wy)):
            let (t, weak) = Typing.common(x.dtype, weakA: wx, y.dtype, weakB: wy)
            try checkOperandKinds(op, t, loc: loc)
            var (ot, rt) = Typing.binary(op, t)
            if let wide = exactComparisonType(op, a, b, ot) { ot = wide }
            if op == .pow && ot.isInteger {
                if wx && wy, let base = weakIntConstant(a), let e = weakIntConstant(b), e < 0 {
                    // Python: int ** negative int is a float.
                    guard base != 0 else { throw Diagnostic(loc, "0 ** \(e) raises ZeroDivisionError in Python") }
                    return .scalar(.literal(.float(Foundation.pow(Double(base), Double(e))), .float64), weak: true)
                }
                try checkIntegerPower(b, size: .one, loc: loc)
            }
            // Integer arithmetic on symbolic values stays symbolic (indices, bounds).
            if rt == .int64, case .symbol(let s) = x, case .symbol(let u) = y {
                switch op {
                case .add: return .scalar(.symbol(s + u), weak: weak)
                case .sub: return .scalar(.symbol(s - u), weak: weak)
                case .mul: return .scalar(.symbol(s * u), weak: weak)
                case .floorDiv: return .scalar(.symbol(.floorDivide(s, u)), weak: weak)
                case .mod: return .scalar(.symbol(.modulo(s, u)), weak: weak)
                case .max: return .scalar(.symbol(.maximum(s, u)), weak: weak)
                case .min: return .scalar(.symbol(.minimum(s, u)), weak: weak)
                default: break
                }
            }
            if op == .floorDiv && ot.isFloat {
                let r = floatFloorDivide(Lazy(node: .scalar(cast(x, ot)), shape: [], dtype: ot), Lazy(node: .scalar(cast(y, ot)), shape: [], dtype: ot), shape: [])
                return .scalar(r.element(at: []), weak: weak)
            }
            let value = ScalarExpr.binary(op, cast(x, ot), cast(y, ot), rt)
            if ot == .uint64, let (negative, result) = negativePythonIntComparison(op, a, b) {
                return .scalar(.select(negative, .literal(.bool(result), .bool), value, .bool), weak: false)
            }
            return .scalar(value, weak: weak && !op.isComparison)
        default:
            let la = try lazy(a, loc: loc), lb = try lazy(b, loc: loc)
            let (t, _) = Typing.common(la.dtype, weakA: isWeak(a), lb.dtype, weakB: isWeak(b))
            try checkOperandKinds(op, t, loc: loc)
            var (ot, rt) = Typing.binary(op, t)
            if let wide = exactComparisonType(op, a, b, ot) { ot = wide }
            let shape = try broadcast(la.shape, lb.shape, loc: loc)
            if op == .pow && ot.isInteger {
                try checkIntegerPower({ if case .scalar = b { return b } else { return .array(lb) } }(), size: shape.reduce(SymExpr.one, *), shape: shape, loc: loc)
            }
            if op == .floorDiv && ot.isFloat {
                return .array(floatFloorDivide(castLazy(la, ot), castLazy(lb, ot), shape: shape))
            }
            let value = Lazy(node: .binary(op, castLazy(la, ot), castLazy(lb, ot)), shape: shape, dtype: rt)
            if ot == .uint64, let (negative, result) = negativePythonIntComparison(op, a, b) {
                return .array(Lazy(node: .select(Lazy(node: .scalar(negative), shape: [], dtype: .bool),
                                                 Lazy(node: .scalar(.literal(.bool(result), .bool)), shape: [], dtype: .bool), value),
                                   shape: shape, dtype: .bool))
            }
            return .array(value)
        }
    }

    /// Float `a // b` as NumPy computes it (npy_divmod): `(a - fmod(a, b)) / b`, one less where
    /// the remainder's sign differs from b's, snapped to the nearest integer; a signed zero for
    /// a zero quotient, and `a / b` for a zero divisor. `floor(a / b)` differs where a / b
    /// rounds up to an integer (-3.5 // 0.7 is -6.0, floor(-3.5 / 0.7) is -5.0).
    func floatFloorDivide(_ a: Lazy, _ b: Lazy, shape: [SymExpr]) -> Lazy {
        let t = a.dtype
        func node(_ n: LazyNode, _ dtype: DType = t) -> Lazy { Lazy(node: n, shape: shape, dtype: dtype) }
        func lit(_ v: Double) -> Lazy { Lazy(node: .scalar(.literal(.float(v), t)), shape: [], dtype: t) }
        func bin(_ op: BinaryOp, _ p: Lazy, _ q: Lazy) -> Lazy { node(.binary(op, p, q), op.isComparison || op == .and || op == .or ? .bool : t) }
        let mod = node(.call(.fmod, [a, b]))
        let quotient = bin(.div, bin(.sub, a, mod), b)
        let adjust = bin(.and, bin(.ne, mod, lit(0)), bin(.ne, bin(.lt, b, lit(0)), bin(.lt, mod, lit(0))))
        let div = node(.select(adjust, bin(.sub, quotient, lit(1)), quotient))
        let floorDiv = node(.call(.floor, [div]))
        let snapped = node(.select(bin(.gt, bin(.sub, div, floorDiv), lit(0.5)), bin(.add, floorDiv, lit(1)), floorDiv))
        let signedZero = node(.call(.copysign, [lit(0), bin(.div, a, b)]))
        let result = node(.select(bin(.ne, div, lit(0)), snapped, signedZero))
        return node(.select(bin(.eq, b, lit(0)), bin(.div, a, b), result))
    }

    /// uint64 compared with a Python int known at run time: a negative int is below every
    /// uint64 (it would wrap in the comparison). The test for it and the result then.
    func negativePythonIntComparison(_ op: BinaryOp, _ a: Value, _ b: Value) -> (ScalarExpr, Bool)? {
        guard op.isComparison else { return nil }
        var k: ScalarExpr, xop = op
        if case .scalar(let y, true) = b, y.dtype.isInteger, !isWeak(a) {
            k = y
        } else if case .scalar(let x, true) = a, x.dtype.isInteger, !isWeak(b) {
            k = x
            switch op {
            case .lt: xop = .gt
            case .le: xop = .ge
            case .gt: xop = .lt
            case .ge: xop = .le
            default: break
            }
        } else {
            return nil
        }
        k = cast(k, .int64)
        let result: Bool
        switch xop {
        case .gt, .ge, .ne: result = true
        default: result = false
        }
        return (.binary(.lt, k, .literal(.int(0), .int64), .bool), result)
    }

    /// The value of a Python int constant (a weak integer literal or module constant).
    func weakIntConstant(_ v: Value) -> Int? {
        guard case .scalar(let x, true) = v else { return nil }
        switch x {
        case .symbol(.int(let k)): return k
        case .literal(.int(let k), let t) where t.isInteger: return k
        default: return nil
        }
    }

    /// The dtype of a strong (NumPy-typed) scalar or array operand, without lowering it.
    func strongIntegerType(_ v: Value) -> DType? {
        switch v {
        case .scalar(let x, false): return x.dtype.isInteger ? x.dtype : nil
        case .array(let l), .masked(let l, _): return l.dtype.isInteger ? l.dtype : nil
        default: return nil
        }
    }

    /// Whether the integer dtype `t` holds the value `k`.
    static func holds(_ t: DType, _ k: Int) -> Bool {
        switch t {
        case .int8: return Int(Int8.min)...Int(Int8.max) ~= k
        case .int16: return Int(Int16.min)...Int(Int16.max) ~= k
        case .int32: return Int(Int32.min)...Int(Int32.max) ~= k
        case .uint8: return 0...Int(UInt8.max) ~= k
        case .uint16: return 0...Int(UInt16.max) ~= k
        case .uint32: return 0...Int(UInt32.max) ~= k
        case .uint64: return k >= 0
        default: return true
        }
    }

    /// NumPy 2 (NEP 50) with a Python int constant that the other operand's integer dtype
    /// cannot hold: comparisons are exact (the constant lies beyond every value, so the
    /// result is a constant), arithmetic raises OverflowError in NumPy: a Diagnostic here.
    /// `nil` when the rule does not apply.
    func weakIntegerOutOfRange(_ op: BinaryOp, _ a: Value, _ b: Value, loc: SourceLocation) throws -> Value? {
        let k: Int, t: DType, strong: Value, constantFirst: Bool
        if let kb = weakIntConstant(b), let ta = strongIntegerType(a) {
            (k, t, strong, constantFirst) = (kb, ta, a, false)
        } else if let ka = weakIntConstant(a), let tb = strongIntegerType(b) {
            (k, t, strong, constantFirst) = (ka, tb, b, true)
        } else {
            return nil
        }
        if Self.holds(t, k) { return nil }
        if op.isComparison {
            // The constant is above (or below) every value of t; `x op k` with x on the left.
            let above = k > 0
            var xop = op
            if constantFirst {
                switch op {
                case .lt: xop = .gt
                case .le: xop = .ge
                case .gt: xop = .lt
                case .ge: xop = .le
                default: break
                }
            }
            let result: Bool
            switch xop {
            case .eq: result = false
            case .ne: result = true
            case .lt, .le: result = above
            default: result = !above
            }
            let literal = ScalarExpr.literal(.bool(result), .bool)
            switch strong {
            case .scalar: return .scalar(literal, weak: false)
            case .array(let l): return .array(Lazy(node: .scalar(literal), shape: l.shape, dtype: .bool))
            case .masked(let l, let m): return .masked(Lazy(node: .scalar(literal), shape: l.shape, dtype: .bool), mask: m)
            default: return nil
            }
        }
        switch op {
        case .div, .and, .or: return nil  // true division computes in float64; logical ops in bool
        default: break
        }
        let wider = DType.promote(t, k >= Int(Int32.min) && k <= Int(Int32.max)
                                     ? (Self.holds(.int8, k) ? .int8 : Self.holds(.int16, k) ? .int16 : .int32) : .int64)
        let hint = wider.isInteger
            ? "convert the \(t.rawValue) operand first, e.g. with .astype(np.\(wider.rawValue)) (or np.\(wider.rawValue)(...) for a scalar)"
            : "no integer dtype holds both; convert the \(t.rawValue) operand first, e.g. with .astype(np.float64)"
        throw Diagnostic(loc, "Python integer \(k) out of bounds for \(t.rawValue): NumPy 2 keeps the array's dtype \(t.rawValue) for a Python int operand and raises OverflowError here; \(hint)")
    }

    /// Comparisons of a small integer dtype with a Python int computed at run time are done
    /// in int64, so that they are exact as in NumPy 2 (`int8_array > k` for any int k).
    func exactComparisonType(_ op: BinaryOp, _ a: Value, _ b: Value, _ ot: DType) -> DType? {
        guard op.isComparison, ot.isInteger, ot.itemSize < 8 else { return nil }
        func weakInt(_ v: Value) -> Bool {
            if case .scalar(let x, true) = v { return x.dtype.isInteger }
            return false
        }
        guard weakInt(a) != weakInt(b) else { return nil }
        return .int64
    }

    /// NumPy raises ValueError for an integer raised to a negative integer power (for each
    /// element computed: an empty result raises nothing). A constant exponent is checked here.
    func checkIntegerPower(_ exponent: Value, size: SymExpr, shape: [SymExpr] = [], loc: SourceLocation) throws {
        let message = "Integers to negative integer powers are not allowed."
        switch exponent {
        case .scalar(let e, _):
            var k: Int? = nil
            if case .symbol(.int(let c)) = e { k = c }
            if case .literal(.int(let c), _) = e { k = c }
            if let k {
                if k < 0 && size.constant != 0 {
                    throw Diagnostic(loc, "NumPy raises ValueError here: \(message) Use a float base, e.g. x.astype(np.float64) ** \(k), or 1.0 / x ** \(-k)")
                }
                return
            }
            guard e.dtype.isSignedInteger else { return }
            let violated = ScalarExpr.binary(.and, .binary(.lt, e, cast(.symbol(.zero), e.dtype), .bool),
                                             .binary(.gt, .symbol(size), .symbol(.zero), .bool), .bool)
            if case .symbol(let s) = e {
                // min(max(-s, 0), size) == 0: s >= 0, or nothing is computed.
                valueErrorCheck(.minimum(.maximum(SymExpr.zero - s, .zero), size), .zero, violated: violated, message: message, loc: loc)
            } else {
                runtimeValueError(violated, loc: loc)
            }
        case .array(let l):
            guard l.dtype.isSignedInteger else { return }
            let zero = Lazy(node: .scalar(cast(.symbol(.zero), l.dtype)), shape: [], dtype: l.dtype)
            let negative = Lazy(node: .binary(.lt, l, zero), shape: shape.isEmpty ? l.shape : shape, dtype: .bool)
            guard case .scalar(let any, _) = try reduce(.max, .array(negative), axes: nil, keepdims: false, loc: loc) else { return }
            runtimeValueError(any, loc: loc)
        default:
            return
        }
    }

    // MARK: Run-time ValueErrors

    /// NumPy raises ValueError (`message`, NumPy's text) when `violated` holds. Where the
    /// operation runs unconditionally at the start of the function (its top level, before any
    /// `return`), and `okLHS == okRHS` states the requirement in array sizes only,
    /// the module checks it when called, with NumPy's message, on every target. Elsewhere
    /// the program fails where the operation runs (`violated`, a run-time test), raising
    /// ValueError with the generic message of a failed shape check.
    func valueErrorCheck(_ okLHS: SymExpr, _ okRHS: SymExpr, violated: ScalarExpr, message: String,
                         kind: Failure = .invalidValue, loc: SourceLocation) {
        if okLHS == okRHS { return }
        // Sizes only: an integer parameter named in a check would become a size symbol, which
        // the module requires to be non-negative.
        let entryValue: (SymExpr) -> Bool = { e in e.freeSymbols.allSatisfy { self.symbols.contains($0) } }
        func returns(_ nodes: [Node]) -> Bool {
            nodes.contains { n in
                switch n {
                // An earlier failed check raises first in NumPy too (a different exception at worst).
                case .returnProgram: return true
                case .map(let m): return returns(m.body)
                case .forLoop(let f): return returns(f.body)
                case .whileLoop(let w): return returns(w.body)
                case .branch(let b): return returns(b.then) || returns(b.orElse)
                default: return false
                }
            }
        }
        let unconditional = blocks.count == 1 && loopDepth == 0 && mapLocals.isEmpty && indexGuards.isEmpty && !returns(blocks[0])
        if unconditional && entryValue(okLHS) && entryValue(okRHS) {
            let msg = "\(loc): \(message)"
            if !assertions.contains(where: { $0.0 == okLHS && $0.1 == okRHS && $0.2 == msg }) { assertions.append((okLHS, okRHS, msg)) }
            return
        }
        runtimeValueError(violated, kind: kind, loc: loc)
    }

    /// Fails with ValueError where the operation runs, when `violated` holds there.
    func runtimeValueError(_ violated: ScalarExpr, kind: Failure = .invalidValue, loc: SourceLocation) {
        var condition = violated
        for g in indexGuards.reversed() { condition = .binary(.and, g, condition, .bool) }
        emit(.branch(Branch(condition: condition, then: [.fail(kind, loc)], orElse: [], loc: loc)))
    }

    /// NumPy's ValueError for a reduction without identity (max, min, argmax, ...) over
    /// `count` elements when `count` is zero; a constant zero is a compile-time error.
    func failIfEmpty(_ count: SymExpr, message: String, loc: SourceLocation) throws {
        if let c = count.constant {
            if c > 0 { return }
            throw Diagnostic(loc, "this raises ValueError in NumPy: \(message) (the array is always empty here)")
        }
        // min(count, 1) == 1 exactly when count >= 1.
        valueErrorCheck(.minimum(count, .one), .one, violated: .binary(.le, .symbol(count), .symbol(.zero), .bool), message: message,
                        kind: .emptyReduction, loc: loc)
    }

    func keepMask(_ mask: Lazy, _ v: Value, _ loc: SourceLocation) throws -> Value {
        guard case .array(let l) = v else { return v }
        return .masked(l, mask: mask)
    }

    func checkOperandKinds(_ op: BinaryOp, _ t: DType, loc: SourceLocation) throws {
        switch op {
        case .bitAnd, .bitOr, .bitXor, .shl, .shr:
            if !(t.isInteger || t.isBool) {
                throw Diagnostic(loc, "bitwise operators need integer or boolean operands, not \(t.rawValue)")
            }
            if t.isBool && (op == .shl || op == .shr) {
                throw Diagnostic(loc, "shifts need integer operands, not bool")
            }
        case .floorDiv, .mod, .lt, .le, .gt, .ge, .max, .min:
            if t.isComplex { throw Diagnostic(loc, "this operator is not defined for complex numbers") }
        default: break
        }
    }

    func isWeak(_ v: Value) -> Bool {
        if case .scalar(_, let w) = v { return w }
        return false
    }

    /// Any array-like value as a lazy expression (scalars broadcast as 0-d).
    func lazy(_ v: Value, loc: SourceLocation) throws -> Lazy {
        switch v {
        case .array(let l): return l
        case .scalar(let x, _): return Lazy(node: .scalar(x), shape: [], dtype: x.dtype)
        case .tuple(let vs):
            // A tuple of scalars is a 1-D array literal.
            var elems: [ScalarExpr] = []
            for e in vs {
                guard case .scalar(let x, _) = e else {
                    throw Diagnostic(loc, "nested sequences cannot be used as arrays; build the array with np.empty and assignments")
                }
                elems.append(x)
            }
            let t = elems.map(\.dtype).reduce(elems.first?.dtype ?? .float64) { DType.promote($0, $1) }
            let view = try newArray("lit", t, [.int(elems.count)], loc: loc)
            for (k, x) in elems.enumerated() { emitTasklet(view.memlet(at: [.int(k)]), cast(x, t), loc: loc) }
            return Lazy(node: .view(view), shape: view.shape, dtype: t)
        case .masked(let x, let m):
            // A selection used as a value is a new array (its size depends on the data).
            return try compacted(x, mask: m, loc: loc)
        default:
            throw Diagnostic(loc, "expected an array or a number, got a \(v.kindName)")
        }
    }

    func castLazy(_ l: Lazy, _ t: DType) -> Lazy {
        if l.dtype == t { return l }
        if case .scalar(let x) = l.node { return Lazy(node: .scalar(cast(x, t)), shape: [], dtype: t) }
        return Lazy(node: .cast(l), shape: l.shape, dtype: t)
    }

    func unaryOp(_ op: PyUnaryOp, _ a: Value, loc: SourceLocation) throws -> Value {
        switch op {
        case .uAdd: return a
        case .uSub:
            if case .scalar(.symbol(let s), let w) = a { return .scalar(.symbol(-s), weak: w) }
            if case .scalar(.literal(.float(let v), let t), let w) = a { return .scalar(.literal(.float(-v), t), weak: w) }
            return try mapUnary(.neg, a, loc: loc) { t in t.isBool ? nil : t }
        case .not:
            guard case .scalar(let x, _) = a else {
                throw Diagnostic(loc, "'not' needs a scalar; for arrays use np.logical_not or ~")
            }
            return .scalar(.unary(.not, truth(x), .bool), weak: false)
        case .invert:
            return try mapUnary(.bitNot, a, loc: loc) { t in t.isInteger || t.isBool ? t : nil }
        }
    }

    func mapUnary(_ op: UnaryOp, _ a: Value, loc: SourceLocation, _ type: (DType) -> DType?) throws -> Value {
        switch a {
        case .scalar(let x, let w):
            guard let t = type(x.dtype) else { throw Diagnostic(loc, "operator not defined for \(x.dtype.rawValue)") }
            let opr: UnaryOp = (op == .bitNot && t == .bool) ? .not : op
            return .scalar(.unary(opr, cast(x, t), t), weak: w)
        default:
            let l = try lazy(a, loc: loc)
            guard let t = type(l.dtype) else { throw Diagnostic(loc, "operator not defined for \(l.dtype.rawValue)") }
            let opr: UnaryOp = (op == .bitNot && t == .bool) ? .not : op
            return .array(Lazy(node: .unary(opr, castLazy(l, t)), shape: l.shape, dtype: t))
        }
    }

    /// `np.where(c, a, b)` and conditional expressions.
    func select(_ c: Value, _ a: Value, _ b: Value, loc: SourceLocation) throws -> Value {
        let ta: DType, tb: DType
        switch (a, b) {
        case (.scalar(let x, let wx), .scalar(let y, let wy)):
            let (t, w) = Typing.common(x.dtype, weakA: wx, y.dtype, weakB: wy)
            if case .scalar(let cx, _) = c {
                return .scalar(.select(truth(cx), cast(x, t), cast(y, t), t), weak: w)
            }
            ta = t
            tb = t
        default:
            let la = try lazy(a, loc: loc), lb = try lazy(b, loc: loc)
            ta = Typing.common(la.dtype, weakA: isWeak(a), lb.dtype, weakB: isWeak(b)).0
            tb = ta
        }
        let lc = try lazy(c, loc: loc), la = try lazy(a, loc: loc), lb = try lazy(b, loc: loc)
        let shape = try broadcast(try broadcast(lc.shape, la.shape, loc: loc), lb.shape, loc: loc)
        let cond = lc.dtype == .bool ? lc : Lazy(node: .binary(.ne, lc, Lazy(node: .scalar(cast(.symbol(.zero), lc.dtype)), shape: [], dtype: lc.dtype)), shape: lc.shape, dtype: .bool)
        return .array(Lazy(node: .select(cond, castLazy(la, ta), castLazy(lb, tb)), shape: shape, dtype: ta))
    }

    /// A math function applied elementwise.
    func intrinsic(_ f: Intrinsic, _ args: [Value], loc: SourceLocation, numpyResult: Bool = true) throws -> Value {
        if args.count == 1, case .masked(let x, let m) = args[0] {
            return try keepMask(m, intrinsic(f, [.array(x)], loc: loc), loc)
        }
        try checkFloatResult(f, args, loc: loc)
        let resultType: (DType) -> DType
        switch f {
        case .abs:
            resultType = { $0.isComplex ? $0.realPart : $0 }
        case .real, .imag:
            resultType = { $0.realPart }
        case .conj:
            resultType = { $0 }
        default:
            resultType = Typing.floatResult
        }
        if args.allSatisfy({ if case .scalar = $0 { return true } else { return false } }) {
            var xs = args.map { v -> (ScalarExpr, Bool) in
                if case .scalar(let x, let w) = v { return (x, w) }
                fatalError("unreachable")
            }
            var t = xs[0].0.dtype
            var weak = xs[0].1
            for (x, w) in xs.dropFirst() { (t, weak) = Typing.common(t, weakA: weak, x.dtype, weakB: w) }
            let opType = (f == .abs || f == .conj || f == .real || f == .imag) ? t : Typing.floatResult(t)
            if weak && opType == .float32 { t = .float64 }
            xs = xs.map { (cast($0.0, f == .abs || f == .conj || f == .real || f == .imag ? t : opType), $0.1) }
            if (f == .real || f == .imag) && !t.isComplex {
                return f == .real ? .scalar(xs[0].0, weak: weak) : .scalar(cast(.symbol(.zero), t), weak: weak)
            }
            // A NumPy function returns a NumPy scalar (strong); Python's abs keeps a Python number.
            return .scalar(.call(f, xs.map(\.0), resultType(t)), weak: weak && !numpyResult)
        }
        var ls = try args.map { try lazy($0, loc: loc) }
        var t = ls[0].dtype
        var weak = isWeak(args[0])
        var shape = ls[0].shape
        for (k, l) in ls.enumerated().dropFirst() {
            (t, weak) = Typing.common(t, weakA: weak, l.dtype, weakB: isWeak(args[k]))
            shape = try broadcast(shape, l.shape, loc: loc)
        }
        let opType = (f == .abs || f == .conj || f == .real || f == .imag) ? t : Typing.floatResult(t)
        ls = ls.map { castLazy($0, opType) }
        if (f == .real || f == .imag) && !t.isComplex {
            return f == .real ? .array(ls[0]) : .array(Lazy(node: .scalar(cast(.symbol(.zero), t)), shape: shape, dtype: t))
        }
        return .array(Lazy(node: .call(f, ls), shape: shape, dtype: resultType(opType)))
    }

    /// NumPy's float math functions of bool, int8 and uint8 give float16, which Braid does
    /// not have: an error instead of another dtype. (Integer fmod is integer in NumPy.)
    func checkFloatResult(_ f: Intrinsic, _ args: [Value], name: String? = nil, loc: SourceLocation) throws {
        let fname = name ?? f.rawValue
        switch f {
        case .abs, .conj, .real, .imag, .floor, .ceil, .trunc: return
        default: break
        }
        var t: DType? = nil
        var weak = false
        for v in args {
            let vt: DType, vw: Bool
            switch v {
            case .scalar(let x, let w): (vt, vw) = (x.dtype, w)
            case .array(let l), .masked(let l, _): (vt, vw) = (l.dtype, false)
            default: return
            }
            if let u = t { (t, weak) = Typing.common(u, weakA: weak, vt, weakB: vw) } else { (t, weak) = (vt, vw) }
        }
        guard let t else { return }
        if f == .fmod && (t.isInteger || t.isBool) {
            throw Diagnostic(loc, "np.fmod of \(t.rawValue) operands is an integer remainder in NumPy, which is not supported yet; use % (Python's remainder, the sign of the divisor) or convert first, e.g. np.fmod(x.astype(np.float64), y)")
        }
        if t == .bool || t == .int8 || t == .uint8 {
            let kind = args.contains { if case .scalar = $0 { return false } else { return true } } ? "array" : "scalar"
            throw Diagnostic(loc, "np.\(fname) of a \(t.rawValue) \(kind) is float16 in NumPy, which Braid does not support; convert first, e.g. np.\(fname)(x.astype(np.float32)) (float32 holds every \(t.rawValue) value)")
        }
    }

    /// Makes an array value addressable (a view), materializing expressions.
    func viewOf(_ v: Value, loc: SourceLocation) throws -> ArrayView {
        let l = try lazy(v, loc: loc)
        if let view = l.asView { return view }
        if l.shape.isEmpty, case .scalar(let x) = l.node {
            let name = newScalar("s", x.dtype)
            emitTasklet(.point(name, []), x, loc: loc)
            return .whole(container(name))
        }
        return try materializeNew(l, hint: "tmp", loc: loc).asView!
    }

    // MARK: Library operations

    /// A library operand: the view as a strided box of type `t`, copying it first when it
    /// is not one (transposed, reshaped or broadcast views) or has another type.
    func rangeMemlet(_ v: ArrayView, as t: DType, loc: SourceLocation) throws -> Memlet {
        if v.dtype == t, let m = v.rangeMemlet { return m }
        let lazyView = Lazy(node: .view(v), shape: v.shape, dtype: v.dtype)
        let copy = try materializeNew(castLazy(lazyView, t), hint: "operand", loc: loc)
        return copy.asView!.rangeMemlet!
    }

    /// A matmul operand: a 2-D view that is the transpose of a strided box (`A.T`) is passed
    /// as that box with the transpose flag, so it is read in place instead of copied.
    func matmulOperand(_ v: ArrayView, as t: DType, loc: SourceLocation) throws -> (Memlet, Bool) {
        if v.shape.count == 2, v.dtype == t, v.rangeMemlet == nil {
            let stored = v.reindexed(shape: [v.shape[1], v.shape[0]], ArrayView.placeholders(2).reversed())
            if let m = stored.rangeMemlet { return (m, true) }
        }
        return (try rangeMemlet(v, as: t, loc: loc), false)
    }

    /// A scalar factor of an elementwise product (`alpha * A`), split off so that a matmul
    /// can scale its (smaller) result instead of materializing the scaled operand.
    func scalarFactor(_ v: Value) -> (Value, ScalarExpr)? {
        guard case .array(let l) = v, case .binary(.mul, let x, let y) = l.node else { return nil }
        if case .scalar(let s) = x.node, y.shape == l.shape { return (.array(y), s) }
        if case .scalar(let s) = y.node, x.shape == l.shape { return (.array(x), s) }
        return nil
    }

    /// `a @ b` with NumPy's rules for 1-D and 2-D operands. A scalar factor of an operand
    /// (`alpha * A @ x`) scales the result instead: the same value up to rounding, without
    /// a scaled copy of the matrix.
    func matmul(_ a: Value, _ b: Value, loc: SourceLocation) throws -> Value {
        if let (inner, s) = scalarFactor(a) {
            return try arith(.mul, .scalar(s, weak: false), try matmul(inner, b, loc: loc), loc: loc)
        }
        if let (inner, s) = scalarFactor(b) {
            return try arith(.mul, try matmul(a, inner, loc: loc), .scalar(s, weak: false), loc: loc)
        }
        let va = try viewOf(a, loc: loc), vb = try viewOf(b, loc: loc)
        let sa = va.shape, sb = vb.shape
        guard !sa.isEmpty, !sb.isEmpty else {
            throw Diagnostic(loc, "matmul: input operand does not have enough dimensions (a 0-d operand); use * for scalars")
        }
        if sa.count > 2 || sb.count > 2 { return try batchedMatmul(va, vb, loc: loc) }
        let t = DType.promote(va.dtype, vb.dtype)
        if t.isBool { throw Diagnostic(loc, "matmul of boolean arrays is not supported") }
        let ka = sa.last!, kb = sb.count == 2 ? sb[0] : sb[0]
        _ = try agree(ka, kb, loc: loc, broadcasting: false)
        var outShape: [SymExpr] = []
        if sa.count == 2 { outShape.append(sa[0]) }
        if sb.count == 2 { outShape.append(sb[1]) }
        let (ma, ta) = try matmulOperand(va, as: t, loc: loc), (mb, tb) = try matmulOperand(vb, as: t, loc: loc)
        if outShape.isEmpty {
            let name = newScalar("dot", t)
            markWritten(name)
            emit(.library(LibraryNode(op: .matmul(a: ma, b: mb, c: .point(name, []), accumulate: false), loc: loc)))
            return .scalar(.load(.point(name, []), t), weak: false)
        }
        let out = try newArray("mm", t, outShape, loc: loc)
        markWritten(out.container)
        emit(.library(LibraryNode(op: .matmul(a: ma, b: mb, c: out.rangeMemlet!, accumulate: false), loc: loc,
                                  transposeA: ta, transposeB: tb)))
        return .array(Lazy(node: .view(out), shape: outShape, dtype: t))
    }

    /// `np.sum/max/min/prod` over all axes or one axis, as maps with write-conflict resolution.
    /// Normalizes reduction axes (negative counts from the end); `nil` means all axes.
    func normalizedAxes(_ axes: [Int]?, rank: Int, loc: SourceLocation) throws -> [Int] {
        guard let axes else { return Array(0..<rank) }
        var out: [Int] = []
        for a in axes {
            let ax = a < 0 ? a + rank : a
            guard (0..<rank).contains(ax) else {
                throw Diagnostic(loc, "axis \(a) is out of bounds for an array of dimension \(rank)")
            }
            guard !out.contains(ax) else { throw Diagnostic(loc, "duplicate value in 'axis'") }
            out.append(ax)
        }
        return out.sorted()
    }

    /// `np.sum/prod/max/min/any/all` over all axes or some, as maps with write-conflict resolution.
    func reduce(_ op: WCR, _ v: Value, axes requested: [Int]?, keepdims: Bool, loc: SourceLocation,
                resultType: DType? = nil) throws -> Value {
        let l = try lazy(v, loc: loc)
        var t = resultType ?? l.dtype
        if resultType == nil && (op == .add || op == .mul) {
            if t.isBool || (t.isSignedInteger && t.itemSize < 8) { t = .int64 }
            if t.isUnsignedInteger && t.itemSize < 8 { t = .uint64 }
        }
        // float32 (complex64) sums accumulate in double precision and round once at the end:
        // NumPy adds pairwise (error ~ log2(n) eps); one float32 accumulator drifts ~ n eps.
        var accType = t
        if op == .add && t == .float32 { accType = .float64 }
        if op == .add && t == .complex64 { accType = .complex128 }
        let input = castLazy(castLazy(l, t), accType)
        let rank = l.shape.count
        let axes = try normalizedAxes(requested, rank: rank, loc: loc)
        let initial = reductionIdentity(op, accType)
        let keptAxes = (0..<rank).filter { !axes.contains($0) }
        let keptShape = keptAxes.map { l.shape[$0] }
        if keptAxes.isEmpty {
            // Whole-array reduction into a scalar, combined across parallel iterations.
            let acc = newScalar("red", accType)
            emitTasklet(.point(acc, []), initial, loc: loc)
            try emitMap(l.shape, loc: loc, reductions: [acc: op]) { idx in
                emitTasklet(.point(acc, []), input.element(at: idx), wcr: op, loc: loc)
            }
            let result = cast(ScalarExpr.load(.point(acc, []), accType), t)
            if keepdims && rank > 0 {
                let out = try newArray("red", t, Array(repeating: .one, count: rank), loc: loc)
                emitTasklet(out.memlet(at: Array(repeating: .zero, count: rank)), result, loc: loc)
                return .array(Lazy(node: .view(out), shape: out.shape, dtype: t))
            }
            return .scalar(result, weak: false)
        }
        let outShape = (0..<rank).map { axes.contains($0) ? SymExpr.one : l.shape[$0] }
        let out = try newArray("red", t, keepdims ? outShape : keptShape, loc: loc)
        // Each output element is independent; the reduced axes run sequentially inside.
        try emitMap(keptShape, loc: loc) { idx in
            let acc = newScalar("acc", accType)
            emitTasklet(.point(acc, []), initial, loc: loc)
            let loopVars = axes.map { _ in fresh("k") }
            var full = [SymExpr](repeating: .zero, count: rank)
            for (k, ax) in keptAxes.enumerated() { full[ax] = idx[k] }
            for (k, ax) in axes.enumerated() { full[ax] = .sym(loopVars[k]) }
            var body: [Node] = [.tasklet(Tasklet(output: .point(acc, []), wcr: op, value: input.element(at: full), loc: loc))]
            markWritten(acc)
            for (k, ax) in axes.enumerated().reversed() {
                body = [.forLoop(ForLoop(variable: loopVars[k], range: SymRange(.zero, l.shape[ax]), body: body, loc: loc))]
            }
            for n in body { emit(n) }
            let o = keepdims ? (0..<rank).map { axes.contains($0) ? SymExpr.zero : full[$0] } : idx
            emitTasklet(out.memlet(at: o), cast(.load(.point(acc, []), accType), t), loc: loc)
        }
        return .array(Lazy(node: .view(out), shape: out.shape, dtype: t))
    }

    /// Number of elements reduced over `axes`.
    func reducedCount(_ shape: [SymExpr], _ axes: [Int]) -> SymExpr {
        axes.reduce(SymExpr.one) { $0 * shape[$1] }
    }

    /// `np.mean`, and `np.var`/`np.std` (two passes, as NumPy: mean first, then squared deviations).
    func moment(_ kind: String, _ v: Value, axes requested: [Int]?, keepdims: Bool, ddof: Int,
                loc: SourceLocation) throws -> Value {
        let l = try lazy(v, loc: loc)
        let ft: DType = l.dtype.isInexact ? l.dtype : .float64
        let axes = try normalizedAxes(requested, rank: l.shape.count, loc: loc)
        let count = Value.scalar(.symbol(reducedCount(l.shape, axes)), weak: true)
        let total = try reduce(.add, .array(castLazy(l, ft)), axes: axes, keepdims: kind != "mean" || keepdims,
                               loc: loc, resultType: ft)
        let mean = try arith(.div, total, count, loc: loc)
        if kind == "mean" { return mean }
        let meanValue: Value
        if case .array(let m) = mean { meanValue = .array(try materializeNew(m, hint: "mean", loc: loc)) } else { meanValue = mean }
        let dev = try arith(.sub, .array(castLazy(l, ft)), meanValue, loc: loc)
        let sq: Value = ft.isComplex
            ? try arith(.mul, try intrinsic(.abs, [dev], loc: loc), try intrinsic(.abs, [dev], loc: loc), loc: loc)
            : try arith(.mul, dev, dev, loc: loc)
        let ss = try reduce(.add, sq, axes: axes, keepdims: keepdims, loc: loc, resultType: ft.realPart)
        let n = Value.scalar(.symbol(reducedCount(l.shape, axes) - .int(ddof)), weak: true)
        let variance = try arith(.div, ss, n, loc: loc)
        return kind == "var" ? variance : try intrinsic(.sqrt, [variance], loc: loc)
    }

    /// `np.argmax/argmin` over the flattened array or along one axis; the first
    /// occurrence wins, and NaN counts as the extreme (as NumPy).
    func argExtreme(_ isMax: Bool, _ v: Value, axis: Int?, loc: SourceLocation) throws -> Value {
        var l = try lazy(v, loc: loc)
        if axis == nil && l.shape.count != 1 {
            let flat = try reshape(.array(l), [.int(-1)], loc: loc)
            l = try lazy(flat, loc: loc)
        }
        let rank = l.shape.count
        let ax = try normalizedAxes([axis ?? 0], rank: rank, loc: loc)[0]
        try failIfEmpty(l.shape[ax], message: "attempt to get \(isMax ? "argmax" : "argmin") of an empty sequence", loc: loc)
        let keptAxes = (0..<rank).filter { $0 != ax }
        let keptShape = keptAxes.map { l.shape[$0] }
        var result: ArrayView? = nil
        if !keptShape.isEmpty { result = try newArray("arg", .int64, keptShape, loc: loc) }
        let scalarResult = keptShape.isEmpty ? newScalar("arg", .int64) : nil
        try emitMap(keptShape, loc: loc) { idx in
            let best = newScalar("best", l.dtype)
            let where_ = newScalar("at", .int64)
            var full = [SymExpr](repeating: .zero, count: rank)
            for (k, a) in keptAxes.enumerated() { full[a] = idx[k] }
            emitTasklet(.point(best, []), l.element(at: full), loc: loc)
            emitTasklet(.point(where_, []), .symbol(.zero), loc: loc)
            let k = fresh("k")
            full[ax] = .sym(k)
            let x = l.element(at: full)
            let b = ScalarExpr.load(.point(best, []), l.dtype)
            var better = ScalarExpr.binary(isMax ? .gt : .lt, x, b, .bool)
            if l.dtype.isFloat {
                // x is NaN and best is not: NaN wins.
                let xNaN = ScalarExpr.binary(.ne, x, x, .bool), bNaN = ScalarExpr.binary(.ne, b, b, .bool)
                better = .binary(.or, better, .binary(.and, xNaN, .unary(.not, bNaN, .bool), .bool), .bool)
            }
            let update = nested {
                emitTasklet(.point(best, []), x, loc: loc)
                emitTasklet(.point(where_, []), .symbol(.sym(k)), loc: loc)
            }
            emit(.forLoop(ForLoop(variable: k, range: SymRange(.one, l.shape[ax]),
                                  body: [.branch(Branch(condition: better, then: update, orElse: [], loc: loc))], loc: loc)))
            if let result {
                emitTasklet(result.memlet(at: idx), .symbol(.sym(where_)), loc: loc)
            } else {
                emitTasklet(.point(scalarResult!, []), .symbol(.sym(where_)), loc: loc)
            }
        }
        if let result { return .array(Lazy(node: .view(result), shape: result.shape, dtype: .int64)) }
        return .scalar(.symbol(.sym(scalarResult!)), weak: false)
    }

    func reductionIdentity(_ op: WCR, _ t: DType) -> ScalarExpr {
        switch op {
        case .add: return cast(.symbol(.zero), t)
        case .mul: return cast(.symbol(.one), t)
        case .max:
            if t.isFloat { return .literal(.float(-Double.infinity), t) }
            if t.isBool { return .literal(.bool(false), t) }
            return .literal(.int(t.isUnsignedInteger ? 0 : Self.minValue(t)), t)
        case .min:
            if t.isFloat { return .literal(.float(Double.infinity), t) }
            if t.isBool { return .literal(.bool(true), t) }
            return .literal(.int(Self.maxValue(t)), t)
        }
    }

    static func minValue(_ t: DType) -> Int {
        switch t {
        case .int8: return Int(Int8.min)
        case .int16: return Int(Int16.min)
        case .int32: return Int(Int32.min)
        default: return Int.min
        }
    }

    static func maxValue(_ t: DType) -> Int {
        switch t {
        case .int8: return Int(Int8.max)
        case .int16: return Int(Int16.max)
        case .int32: return Int(Int32.max)
        case .uint8: return Int(UInt8.max)
        case .uint16: return Int(UInt16.max)
        case .uint32: return Int(UInt32.max)
        default: return Int.max  // uint64's max is written as -1 cast in C
        }
    }
}

// MARK: Views: transpose and reshape

extension FunctionLowerer {
    /// `a.T`, `np.transpose(a, axes)`: a view with permuted dimensions.
    func transpose(_ v: Value, axes: [Int]?, loc: SourceLocation) throws -> Value {
        let view = try viewOf(v, loc: loc)
        let rank = view.shape.count
        let perm = axes ?? Array((0..<rank).reversed())
        guard perm.count == rank, Set(perm) == Set(0..<rank) else {
            throw Diagnostic(loc, "axes don't match the array's \(rank) dimensions")
        }
        var map = [SymExpr](repeating: .zero, count: rank)
        for (k, p) in perm.enumerated() { map[p] = .sym(ArrayView.placeholder(k)) }
        let t = view.reindexed(shape: perm.map { view.shape[$0] }, map)
        return .array(Lazy(node: .view(t), shape: t.shape, dtype: t.dtype))
    }

    /// `a.reshape(shape)`, `np.reshape(a, shape)`: a view in C order of the whole
    /// container, or of a copy when the array is not a whole contiguous container
    /// (as NumPy, which copies then).
    func reshape(_ v: Value, _ requested: [SymExpr], loc: SourceLocation) throws -> Value {
        var view = try viewOf(v, loc: loc)
        if !view.isWhole(of: container(view.container)) {
            view = try materializeNew(Lazy(node: .view(view), shape: view.shape, dtype: view.dtype), hint: "reshaped", loc: loc).asView!
        }
        let total = view.shape.reduce(SymExpr.one, *)
        var shape = requested
        if let k = shape.firstIndex(of: .int(-1)) {
            var rest = shape
            rest.remove(at: k)
            shape[k] = .floorDivide(total, rest.reduce(SymExpr.one, *))
        }
        _ = try agree(shape.reduce(SymExpr.one, *), total, loc: loc, broadcasting: false)
        // Linear index of the new view, then the old indices from it.
        var lin = SymExpr.zero
        var stride = SymExpr.one
        for k in shape.indices.reversed() {
            lin = lin + stride * .sym(ArrayView.placeholder(k))
            stride = stride * shape[k]
        }
        // One size at a time from the last: old index j is (lin // (d_{j+1} ... d_n)) % d_j as
        // successive divisions (equal since sizes are not negative), the form in which the
        // flat offset of the old array collapses back to lin ((q // d) * d + q % d == q).
        var map = [SymExpr](repeating: .zero, count: view.shape.count)
        var q = lin
        for j in view.shape.indices.reversed() {
            map[j] = j == 0 ? q : .modulo(q, view.shape[j])
            q = .floorDivide(q, view.shape[j])
        }
        let r = view.reindexed(shape: shape, map)
        return .array(Lazy(node: .view(r), shape: r.shape, dtype: r.dtype))
    }
}
