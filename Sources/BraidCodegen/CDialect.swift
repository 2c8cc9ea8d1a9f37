import BraidIR

/// What distinguishes one C-family output from another, as data over the shared lowering.
public struct CDialect: Sendable {
    public var name: String
    /// Spelling of an element type.
    public var typeName: @Sendable (DType) -> String
    /// Qualifier for array pointer parameters (`restrict` in C, `__global` in OpenCL, ...).
    public var pointerQualifier: String
    /// Pragmas placed before the outermost loop of a map with this schedule (the lowering
    /// gives containers' shapes, for array-section clauses).
    public var mapPragmas: @Sendable (MapScope, _ collapse: Int, CLowering) -> [String]
    /// Pragmas placed inside the innermost loop of a map or a sequential loop (HLS pipelining).
    public var innerLoopPragmas: @Sendable (_ isInnermost: Bool) -> [String]
    /// Pragmas placed before the loop of a map's last parameter when the map has several
    /// (after the outer loop's `mapPragmas`, with the same `collapse`).
    public var innerMapPragmas: @Sendable (MapScope, _ collapse: Int) -> [String] = { _, _ in [] }
    /// Whether math functions are type-generic (OpenCL, C++) instead of suffixed (`expf`).
    public var overloadedMath: Bool
    public var supportsComplex: Bool
    /// Lowers a library node the dialect calls a library for (BLAS on CPU); `nil` means
    /// library nodes must have been expanded by a pass before codegen.
    public var library: (@Sendable (LibraryNode, CLowering) throws -> [CStmt])?
    /// Lowers a map the dialect handles itself (MPI's distributed maps); returning `nil`
    /// (or leaving this `nil`) gives the shared loop nest of `CLowering.map`.
    public var lowerMap: (@Sendable (MapScope, CLowering) throws -> [CStmt]?)?
    /// Renders an expression the dialect spells itself (OpenCL's complex numbers as vectors);
    /// returning `nil` (or leaving this `nil`) gives the shared rendering of `CLowering.expr`.
    public var expression: (@Sendable (ScalarExpr, CLowering) throws -> String?)?

    public init(name: String, typeName: @escaping @Sendable (DType) -> String, pointerQualifier: String,
                mapPragmas: @escaping @Sendable (MapScope, Int, CLowering) -> [String],
                innerLoopPragmas: @escaping @Sendable (Bool) -> [String] = { _ in [] },
                overloadedMath: Bool, supportsComplex: Bool,
                library: (@Sendable (LibraryNode, CLowering) throws -> [CStmt])? = nil,
                lowerMap: (@Sendable (MapScope, CLowering) throws -> [CStmt]?)? = nil,
                expression: (@Sendable (ScalarExpr, CLowering) throws -> String?)? = nil) {
        self.name = name
        self.typeName = typeName
        self.pointerQualifier = pointerQualifier
        self.mapPragmas = mapPragmas
        self.innerLoopPragmas = innerLoopPragmas
        self.overloadedMath = overloadedMath
        self.supportsComplex = supportsComplex
        self.library = library
        self.lowerMap = lowerMap
        self.expression = expression
    }
}

/// A construct a backend cannot express, reported at its Python source line.
public struct BackendError: Error, CustomStringConvertible, Sendable {
    public var diagnostic: Diagnostic
    public init(_ loc: SourceLocation, _ message: String) { diagnostic = Diagnostic(loc, message) }
    public var description: String { diagnostic.description }
}
