/// Element types of data containers and scalars, with NumPy's names and NumPy 2 promotion.
public enum DType: String, CaseIterable, Hashable, Sendable, Comparable {
    case bool
    case int8, int16, int32, int64
    case uint8, uint16, uint32, uint64
    case float32, float64
    case complex64, complex128

    public static func < (a: DType, b: DType) -> Bool {
        allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
    }

    public var isBool: Bool { self == .bool }
    public var isSignedInteger: Bool { [.int8, .int16, .int32, .int64].contains(self) }
    public var isUnsignedInteger: Bool { [.uint8, .uint16, .uint32, .uint64].contains(self) }
    public var isInteger: Bool { isSignedInteger || isUnsignedInteger }
    public var isFloat: Bool { self == .float32 || self == .float64 }
    public var isComplex: Bool { self == .complex64 || self == .complex128 }
    /// Float or complex.
    public var isInexact: Bool { isFloat || isComplex }

    /// Size of one element in bytes.
    public var itemSize: Int {
        switch self {
        case .bool, .int8, .uint8: return 1
        case .int16, .uint16: return 2
        case .int32, .uint32, .float32: return 4
        case .int64, .uint64, .float64, .complex64: return 8
        case .complex128: return 16
        }
    }

    /// The C type that stores one element.
    public var cType: String {
        switch self {
        case .bool: return "bool"
        case .int8: return "int8_t"
        case .int16: return "int16_t"
        case .int32: return "int32_t"
        case .int64: return "int64_t"
        case .uint8: return "uint8_t"
        case .uint16: return "uint16_t"
        case .uint32: return "uint32_t"
        case .uint64: return "uint64_t"
        case .float32: return "float"
        case .float64: return "double"
        case .complex64: return "float _Complex"
        case .complex128: return "double _Complex"
        }
    }

    /// Python buffer-protocol format characters NumPy uses for this type on this platform
    /// (without byte-order prefix).
    public var bufferFormats: [String] {
        switch self {
        case .bool: return ["?"]
        case .int8: return ["b"]
        case .int16: return ["h"]
        case .int32: return ["i"]
        case .int64: return ["l", "q"]
        case .uint8: return ["B"]
        case .uint16: return ["H"]
        case .uint32: return ["I"]
        case .uint64: return ["L", "Q"]
        case .float32: return ["f"]
        case .float64: return ["d"]
        case .complex64: return ["Zf"]
        case .complex128: return ["Zd"]
        }
    }

    /// The real type of a complex type (itself otherwise).
    public var realPart: DType {
        switch self {
        case .complex64: return .float32
        case .complex128: return .float64
        default: return self
        }
    }

    /// The complex type whose parts are this float type.
    public var complexOf: DType {
        switch self {
        case .float32, .complex64: return .complex64
        default: return .complex128
        }
    }

    /// NumPy 2 promotion of two array dtypes (`np.result_type`).
    public static func promote(_ a: DType, _ b: DType) -> DType {
        if a == b { return a }
        if a == .bool { return b }
        if b == .bool { return a }
        if a.isComplex || b.isComplex {
            let bits = Swift.max(a.floatBitsNeeded, b.floatBitsNeeded)
            return bits > 32 ? .complex128 : .complex64
        }
        if a.isFloat || b.isFloat {
            let bits = Swift.max(a.floatBitsNeeded, b.floatBitsNeeded)
            return bits > 32 ? .float64 : .float32
        }
        // both integers
        if a.isSignedInteger == b.isSignedInteger {
            return a.itemSize >= b.itemSize ? a : b
        }
        let (s, u) = a.isSignedInteger ? (a, b) : (b, a)
        if s.itemSize > u.itemSize { return s }
        switch u.itemSize {
        case 1: return .int16
        case 2: return .int32
        case 4: return .int64
        default: return .float64
        }
    }

    /// Bits of float precision needed to hold this type exactly in NumPy's lattice.
    private var floatBitsNeeded: Int {
        switch self {
        case .bool, .int8, .uint8, .int16, .uint16: return 32  // float16 isn't modelled; float32 suffices
        case .int32, .uint32, .int64, .uint64: return 64
        case .float32, .complex64: return 32
        case .float64, .complex128: return 64
        }
    }

    /// Signed integer type of this size (for bitwise results and indices).
    public static func signed(bytes: Int) -> DType {
        switch bytes {
        case 1: return .int8
        case 2: return .int16
        case 4: return .int32
        default: return .int64
        }
    }
}
