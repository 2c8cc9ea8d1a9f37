import BraidIR

/// NumPy 2 typing of operations (NEP 50: Python scalars are "weak" and never widen arrays).
enum Typing {
    /// The common operand type of two values.
    static func common(_ a: DType, weakA: Bool, _ b: DType, weakB: Bool) -> (DType, weak: Bool) {
        switch (weakA, weakB) {
        case (true, true):
            let k = Swift.max(kindRank(a), kindRank(b))
            return ([DType.bool, .int64, .float64, .complex128][k], true)
        case (false, true): return (absorbWeak(strong: a, weak: b), false)
        case (true, false): return (absorbWeak(strong: b, weak: a), false)
        case (false, false): return (DType.promote(a, b), false)
        }
    }

    /// 0 bool, 1 integer, 2 float, 3 complex.
    static func kindRank(_ t: DType) -> Int {
        if t.isBool { return 0 }
        if t.isInteger { return 1 }
        if t.isFloat { return 2 }
        return 3
    }

    static func absorbWeak(strong t: DType, weak w: DType) -> DType {
        switch kindRank(w) {
        case 0: return t
        case 1: return t.isBool ? .int64 : t
        case 2: return t.isInexact ? t : .float64
        default: return t.isComplex ? t : (t.isFloat ? t.complexOf : .complex128)
        }
    }

    /// Operand and result types of a binary operator on the common type `t`.
    static func binary(_ op: BinaryOp, _ t: DType) -> (operand: DType, result: DType) {
        switch op {
        case .div:
            let o: DType = t.isInexact ? t : .float64
            return (o, o)
        case .eq, .ne, .lt, .le, .gt, .ge:
            return (t, .bool)
        case .and, .or:
            return (.bool, .bool)
        case .add, .sub, .mul, .pow, .floorDiv, .mod, .max, .min:
            // NumPy: bool + bool stays bool for logical ops; arithmetic on bools gives int for - and **.
            if t.isBool && (op == .sub || op == .pow || op == .floorDiv || op == .mod) { return (.int64, .int64) }
            return (t, t)
        case .bitAnd, .bitOr, .bitXor, .shl, .shr:
            return (t, t)
        }
    }

    /// Result type of a floating-point math function on an argument of type `t`.
    static func floatResult(_ t: DType) -> DType {
        t.isInexact ? t : (t.itemSize <= 2 && !t.isBool ? .float32 : .float64)
    }
}
