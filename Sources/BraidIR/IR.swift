/// Braid's data-centric intermediate representation.
///
/// A `Program` owns its data containers (arrays and scalars, with dtype, symbolic
/// shape, storage and role) and a structured body. The body is a tree of control
/// nodes (sequential loops, `while`, branches) whose leaves are dataflow nodes:
/// tasklets (a typed scalar expression writing one element through a memlet) and
/// library nodes (matmul, ...). Maps are parallel scopes that own their body.
/// Every read and write names its container and symbolic subset (a `Memlet`), so
/// analyses see all data movement. Schedule (on maps) and storage (on containers)
/// are data: passes decide them, backends read them.
///
/// This is an SDFG in structured ("schedule tree") form: control flow is never a
/// state machine, and access nodes are the memlets' endpoints rather than separate
/// graph vertices, which keeps every pass a plain tree rewrite.

/// Where a container lives.
public enum Storage: String, Sendable, Hashable {
    /// Host memory allocated once per call (or provided by the caller for arguments/results).
    case hostHeap = "host_heap"
    /// A scalar in a register / local variable.
    case register
    /// Small fixed-size array on the stack.
    case stack
    /// OpenCL global memory.
    case deviceGlobal = "device_global"
    /// OpenCL local memory.
    case deviceLocal = "device_local"
    /// FPGA on-chip memory (BRAM/URAM).
    case fpgaOnChip = "fpga_on_chip"
}

/// How a container enters the program.
public enum ContainerRole: Hashable, Sendable {
    /// A parameter of the Python function (position `index`).
    case argument(index: Int)
    /// The `index`-th returned value; the caller (extension wrapper) allocates it, unless it
    /// is dynamic (`Container.isDynamic`): then the program allocates it and hands it over.
    case result(index: Int)
    /// Created and owned by the program.
    case transient
}

/// A named array or scalar.
public struct Container: Hashable, Sendable {
    public var name: String
    public var dtype: DType
    /// Symbolic shape; empty for scalars.
    public var shape: [SymExpr]
    public var role: ContainerRole
    public var storage: Storage
    /// Whether the program writes it (set by the frontend, kept up to date by passes).
    public var isWritten: Bool
    /// A transient array whose shape depends on values computed while the program runs
    /// (integer scalar containers in `shape`): it has no storage at entry and gets it from
    /// `Node.allocate` where it is defined (again at every redefinition); freed at exit.
    /// A dynamic result array is the same, except that on success its storage and its
    /// shape at exit go to the caller instead of being freed.
    public var isDynamic: Bool

    public init(name: String, dtype: DType, shape: [SymExpr], role: ContainerRole,
                storage: Storage, isWritten: Bool = false, isDynamic: Bool = false) {
        self.name = name
        self.dtype = dtype
        self.shape = shape
        self.role = role
        self.storage = storage
        self.isWritten = isWritten
        self.isDynamic = isDynamic
    }

    public var isScalar: Bool { shape.isEmpty }
    public var isArgument: Bool { if case .argument = role { return true } else { return false } }
    public var isTransient: Bool { role == .transient }
}

/// One index of a memlet: symbolic (analyzable) or computed from data (indirect).
public indirect enum Index: Hashable, Sendable {
    case sym(SymExpr)
    case dynamic(ScalarExpr)
}

/// One dimension of a memlet subset: a single index, or a half-open range `[start, end)` with a step.
public enum Subscript: Hashable, Sendable {
    case index(Index)
    case range(start: SymExpr, end: SymExpr, step: SymExpr)

    /// Number of elements this subscript selects (1 for an index).
    public var length: SymExpr {
        switch self {
        case .index: return .one
        case .range(let s, let e, let st):
            if st == .one { return e - s }
            return SymExpr.floorDivide(e - s + st - 1, st)
        }
    }
}

/// A data movement: which container, which subset.
public struct Memlet: Hashable, Sendable {
    public var data: String
    public var subset: [Subscript]
    public init(data: String, subset: [Subscript]) {
        self.data = data
        self.subset = subset
    }
    /// A point memlet with the given indices.
    public static func point(_ data: String, _ indices: [Index]) -> Memlet {
        Memlet(data: data, subset: indices.map { .index($0) })
    }
    /// Whether every subscript is a single index.
    public var isPoint: Bool {
        subset.allSatisfy { if case .index = $0 { return true } else { return false } }
    }
    /// The kept (range) dimensions' lengths: the shape of the view this memlet selects.
    public var viewShape: [SymExpr] {
        subset.compactMap { if case .range = $0 { return $0.length } else { return nil } }
    }
}

/// Write-conflict resolution: how concurrent writes to one element combine.
public enum WCR: String, Hashable, Sendable {
    case add, mul, max, min
}

public enum UnaryOp: String, Hashable, Sendable {
    case neg, not, bitNot = "bit_not"
}

public enum BinaryOp: String, Hashable, Sendable {
    case add, sub, mul, div, floorDiv = "floordiv", mod, pow
    case bitAnd = "bit_and", bitOr = "bit_or", bitXor = "bit_xor", shl, shr
    case eq, ne, lt, le, gt, ge, and, or
    case max, min

    public var isComparison: Bool { [.eq, .ne, .lt, .le, .gt, .ge].contains(self) }
}

/// Math functions a tasklet may call; each backend spells them for its dialect.
public enum Intrinsic: String, Hashable, Sendable, CaseIterable {
    case exp, log, sqrt, sin, cos, tan, arcsin, arccos, arctan, sinh, cosh, tanh
    case arctan2, abs, floor, ceil, power, hypot, log10, log2, expm1, log1p
    case real, imag, conj
    case trunc, rint, exp2, cbrt, arcsinh, arccosh, arctanh, fmod, copysign
}

/// A constant scalar.
public enum Literal: Hashable, Sendable {
    case int(Int)
    case float(Double)
    case bool(Bool)
    case complex(Double, Double)
}

/// A typed scalar expression: the body of a tasklet. Operands of a binary node have
/// already been cast to the node's operand type by the frontend.
public indirect enum ScalarExpr: Hashable, Sendable {
    case literal(Literal, DType)
    /// A symbolic integer (symbols, loop variables, integer scalars) as int64.
    case symbol(SymExpr)
    /// Read one element of a container.
    case load(Memlet, DType)
    case unary(UnaryOp, ScalarExpr, DType)
    /// `type` is the result type; comparisons and logic produce `.bool`.
    case binary(BinaryOp, ScalarExpr, ScalarExpr, DType)
    case call(Intrinsic, [ScalarExpr], DType)
    case select(ScalarExpr, ScalarExpr, ScalarExpr, DType)
    case cast(ScalarExpr, DType)

    public var dtype: DType {
        switch self {
        case .literal(_, let t), .load(_, let t), .unary(_, _, let t), .binary(_, _, _, let t),
             .call(_, _, let t), .select(_, _, _, let t), .cast(_, let t):
            return t
        case .symbol: return .int64
        }
    }

    /// Every memlet this expression reads, in evaluation order (indices' reads included).
    public var reads: [Memlet] {
        var out: [Memlet] = []
        visitLoads { out.append($0) }
        return out
    }

    public func visitLoads(_ f: (Memlet) -> Void) {
        switch self {
        case .literal, .symbol: break
        case .load(let m, _):
            for s in m.subset {
                if case .index(.dynamic(let e)) = s { e.visitLoads(f) }
            }
            f(m)
        case .unary(_, let a, _), .cast(let a, _): a.visitLoads(f)
        case .binary(_, let a, let b, _):
            a.visitLoads(f)
            b.visitLoads(f)
        case .call(_, let args, _): for a in args { a.visitLoads(f) }
        case .select(let c, let a, let b, _):
            c.visitLoads(f)
            a.visitLoads(f)
            b.visitLoads(f)
        }
    }

    /// Applies `f` to every symbolic expression inside (indices, symbols).
    public func mapSymbols(_ f: (SymExpr) -> SymExpr) -> ScalarExpr {
        func memlet(_ m: Memlet) -> Memlet {
            Memlet(data: m.data, subset: m.subset.map { s in
                switch s {
                case .index(.sym(let e)): return .index(.sym(f(e)))
                case .index(.dynamic(let e)): return .index(.dynamic(e.mapSymbols(f)))
                case .range(let a, let b, let c): return .range(start: f(a), end: f(b), step: f(c))
                }
            })
        }
        switch self {
        case .literal: return self
        case .symbol(let s): return .symbol(f(s))
        case .load(let m, let t): return .load(memlet(m), t)
        case .unary(let op, let a, let t): return .unary(op, a.mapSymbols(f), t)
        case .binary(let op, let a, let b, let t): return .binary(op, a.mapSymbols(f), b.mapSymbols(f), t)
        case .call(let fn, let args, let t): return .call(fn, args.map { $0.mapSymbols(f) }, t)
        case .select(let c, let a, let b, let t):
            return .select(c.mapSymbols(f), a.mapSymbols(f), b.mapSymbols(f), t)
        case .cast(let a, let t): return .cast(a.mapSymbols(f), t)
        }
    }
}

/// Writes `value` to one element (`output` is a point memlet), optionally combining with `wcr`.
public struct Tasklet: Hashable, Sendable {
    public var output: Memlet
    public var wcr: WCR?
    public var value: ScalarExpr
    public var loc: SourceLocation
    public init(output: Memlet, wcr: WCR? = nil, value: ScalarExpr, loc: SourceLocation) {
        self.output = output
        self.wcr = wcr
        self.value = value
        self.loc = loc
    }
}

/// A dense linear-algebra function of `np.linalg` on a square matrix `a` (n×n view).
public enum LinalgFunction: String, Hashable, Sendable, CaseIterable {
    /// `x = solve(a, b)`: inputs `[a, b]`, `b` n or n×k, `x` shaped like `b`.
    case solve
    /// `out = inv(a)`: inputs `[a]`, `out` n×n.
    case inv
    /// `out = cholesky(a)`: inputs `[a]` (Hermitian positive definite, lower triangle read),
    /// `out` n×n lower triangular with `a = out @ out^H`.
    case cholesky
    /// `out = det(a)`: inputs `[a]`, `out` a scalar.
    case det
}

/// A library operation on whole views of containers.
public enum LibraryOp: Hashable, Sendable {
    /// `c = a @ b` (or `c += a @ b` when `accumulate`), with NumPy's matmul rules on
    /// 1-D and 2-D views: matrix·matrix, matrix·vector, vector·matrix, vector·vector.
    case matmul(a: Memlet, b: Memlet, c: Memlet, accumulate: Bool)
    /// `output = np.linalg.<function>(inputs...)`. Inputs are only read (a backend works on
    /// copies); any numeric input dtype is accepted and, as in NumPy, the work is done in
    /// double precision (complex128 if any operand is complex) and rounded to the output's
    /// dtype. No loop-nest expansion exists: targets without LAPACK reject it.
    case linalg(LinalgFunction, inputs: [Memlet], output: Memlet)
    /// `y = A @ x` (`+=` when `accumulateY`) and `v = A.T @ u` (`+=` when `accumulateV`) in
    /// one pass over the rows of the 2-D view `matrix`: row i gives y[i] (a dot product) and
    /// adds u[i] * A[i, :] to v, so A is read from memory once instead of twice. u[i] is read
    /// after y[i] is written, so `u` may be `y` (`A.T @ (A @ x)`). Made by the CPU pass
    /// `fuse-matvec` from two adjacent matrix-vector products; other targets never see it.
    case matvecPair(matrix: Memlet, x: Memlet, y: Memlet, accumulateY: Bool, u: Memlet, v: Memlet, accumulateV: Bool)

    /// The NumPy spelling, for messages.
    public var numpyName: String {
        switch self {
        case .matmul, .matvecPair: return "np.matmul"
        case .linalg(let f, _, _): return "np.linalg.\(f.rawValue)"
        }
    }

    /// Whether the operation can fail at run time (no memory for its scratch copies, a
    /// singular or non-positive-definite matrix), ending the program with an error status:
    /// it then acts like a `return` for passes (it must not run inside a parallel map).
    public var canFail: Bool {
        switch self {
        case .matmul: return false
        case .linalg, .matvecPair: return true  // matvecPair: per-thread partial sums of v
        }
    }

    /// The same operation with every memlet rewritten by `f`.
    public func mapMemlets(_ f: (Memlet) -> Memlet) -> LibraryOp {
        switch self {
        case .matmul(let a, let b, let c, let acc): return .matmul(a: f(a), b: f(b), c: f(c), accumulate: acc)
        case .linalg(let fn, let ins, let out): return .linalg(fn, inputs: ins.map(f), output: f(out))
        case .matvecPair(let a, let x, let y, let accY, let u, let v, let accV):
            return .matvecPair(matrix: f(a), x: f(x), y: f(y), accumulateY: accY, u: f(u), v: f(v), accumulateV: accV)
        }
    }
}

public struct LibraryNode: Hashable, Sendable {
    public var op: LibraryOp
    public var loc: SourceLocation
    /// For `.matmul`: the operand is the transpose of the 2-D view its memlet selects
    /// (`A.T @ x` reads `A` in place; BLAS is told to transpose).
    public var transposeA: Bool
    public var transposeB: Bool
    public init(op: LibraryOp, loc: SourceLocation, transposeA: Bool = false, transposeB: Bool = false) {
        self.op = op
        self.loc = loc
        self.transposeA = transposeA
        self.transposeB = transposeB
    }
    public var inputs: [Memlet] {
        switch op {
        case .matmul(let a, let b, let c, let acc): return acc ? [a, b, c] : [a, b]
        case .linalg(_, let ins, _): return ins
        case .matvecPair(let a, let x, let y, let accY, let u, let v, let accV):
            return [a, x, u] + (accY ? [y] : []) + (accV ? [v] : [])
        }
    }
    public var outputs: [Memlet] {
        switch op {
        case .matmul(_, _, let c, _): return [c]
        case .linalg(_, _, let out): return [out]
        case .matvecPair(_, _, let y, _, _, let v, _): return [y, v]
        }
    }
}

/// How a map's iterations run.
public enum Schedule: String, Hashable, Sendable {
    case sequential
    /// In order on one thread, in SIMD lanes: iterations proved independent (with the
    /// declared reductions) inside a parallel map.
    case simd
    case cpuParallel = "cpu_parallel"
    case deviceKernel = "device_kernel"
    case pipelined
    case distributed
}

/// A range `start ..< end` by `step` (step > 0).
public struct SymRange: Hashable, Sendable {
    public var start: SymExpr
    public var end: SymExpr
    public var step: SymExpr
    public init(_ start: SymExpr, _ end: SymExpr, step: SymExpr = .one) {
        self.start = start
        self.end = end
        self.step = step
    }
}

/// A parallel scope: every point of the iteration space is independent (except for
/// writes with WCR, listed as `reductions`). It owns its body.
public struct MapScope: Hashable, Sendable {
    public var params: [String]
    public var ranges: [SymRange]
    public var schedule: Schedule
    public var body: [Node]
    /// Scalar containers private to each iteration (declared inside the scope).
    public var locals: [String]
    /// Containers written with WCR by iterations (combined across iterations).
    public var reductions: [String: WCR]
    /// A `fail` in the body ends only its own iteration (the other iterations run on), instead
    /// of the program: a speculative map, whose body records the failure in a reduction before
    /// each `fail` and whose caller redoes the work sequentially when one was recorded.
    public var failsEndIteration: Bool
    public var loc: SourceLocation

    public init(params: [String], ranges: [SymRange], schedule: Schedule, body: [Node],
                locals: [String] = [], reductions: [String: WCR] = [:], failsEndIteration: Bool = false,
                loc: SourceLocation) {
        self.params = params
        self.ranges = ranges
        self.schedule = schedule
        self.body = body
        self.locals = locals
        self.reductions = reductions
        self.failsEndIteration = failsEndIteration
        self.loc = loc
    }
}

/// A sequential `for variable in range(start, end, step)` loop.
public struct ForLoop: Hashable, Sendable {
    public var variable: String
    public var range: SymRange
    public var body: [Node]
    public var loc: SourceLocation
    public init(variable: String, range: SymRange, body: [Node], loc: SourceLocation) {
        self.variable = variable
        self.range = range
        self.body = body
        self.loc = loc
    }
}

public struct WhileLoop: Hashable, Sendable {
    public var condition: ScalarExpr
    public var body: [Node]
    public var loc: SourceLocation
    public init(condition: ScalarExpr, body: [Node], loc: SourceLocation) {
        self.condition = condition
        self.body = body
        self.loc = loc
    }
}

public struct Branch: Hashable, Sendable {
    public var condition: ScalarExpr
    public var then: [Node]
    public var orElse: [Node]
    public var loc: SourceLocation
    public init(condition: ScalarExpr, then: [Node], orElse: [Node], loc: SourceLocation) {
        self.condition = condition
        self.then = then
        self.orElse = orElse
        self.loc = loc
    }
}

/// Gives a dynamic container (`Container.isDynamic`) storage for its shape as evaluated at
/// this point, releasing the storage it had. Without `takeFrom` the new contents are
/// undefined; with it, the container takes over the storage of that other dynamic
/// container of the same dtype (which is left without storage) and the program has made
/// both shapes equal just before: a rebinding without a copy.
public struct Allocation: Hashable, Sendable {
    public var container: String
    public var takeFrom: String?
    public var loc: SourceLocation
    public init(container: String, takeFrom: String? = nil, loc: SourceLocation) {
        self.container = container
        self.takeFrom = takeFrom
        self.loc = loc
    }
}

/// A node of the structured program tree.
public indirect enum Node: Hashable, Sendable {
    case tasklet(Tasklet)
    case library(LibraryNode)
    case map(MapScope)
    case forLoop(ForLoop)
    case whileLoop(WhileLoop)
    case branch(Branch)
    case breakLoop(SourceLocation)
    case continueLoop(SourceLocation)
    /// Leave the program (results have been written).
    case returnProgram(SourceLocation)
    /// Leave the program with an error the caller sees as an exception.
    case fail(Failure, SourceLocation)
    /// (Re)allocate a dynamic container: arrays whose size depends on data.
    case allocate(Allocation)
}

/// Run-time errors a program can raise.
public enum Failure: String, Hashable, Sendable {
    case indexOutOfBounds = "index_out_of_bounds"
    case shapeMismatch = "shape_mismatch"
    /// A reduction without identity (max, min, argmax, ...) over an empty extent.
    case emptyReduction = "empty_reduction"
    /// Another value NumPy rejects with ValueError (an integer to a negative power, a bin
    /// count below 1, a non-finite histogram range, ...).
    case invalidValue = "invalid_value"

    /// The status the native entry point returns (see `braid_error_message`).
    public var statusCode: Int {
        switch self {
        case .indexOutOfBounds: return 5
        case .shapeMismatch: return 6
        case .emptyReduction: return 7
        case .invalidValue: return 8
        }
    }
}

/// One compiled function.
public struct Program: Sendable {
    public var name: String
    /// Parameters in Python order (names of argument containers).
    public var params: [String]
    /// The Python names of `params` (a container is renamed where a name collides with C).
    public var pythonParamNames: [String]
    /// Default values of trailing parameters (by Python name), as Python literal text.
    public var defaults: [String: String]
    /// Size symbols, in the order the native entry point takes them.
    public var symbols: [String]
    /// All containers, in declaration order.
    public var containers: [Container]
    /// Result containers in return order.
    public var results: [String]
    /// Whether the function returns a tuple (even of one element).
    public var returnsTuple = false
    /// Shape relations checked at call time (lhs == rhs, message).
    public var shapeAssertions: [(SymExpr, SymExpr, String)]
    public var body: [Node]
    public var loc: SourceLocation

    public init(name: String, params: [String], pythonParamNames: [String]? = nil, defaults: [String: String], symbols: [String],
                containers: [Container], results: [String], shapeAssertions: [(SymExpr, SymExpr, String)],
                body: [Node], loc: SourceLocation) {
        self.name = name
        self.params = params
        self.pythonParamNames = pythonParamNames ?? params
        self.defaults = defaults
        self.symbols = symbols
        self.containers = containers
        self.results = results
        self.shapeAssertions = shapeAssertions
        self.body = body
        self.loc = loc
    }

    /// Looks up a container by name.
    public func container(_ name: String) -> Container? {
        containers.first { $0.name == name }
    }
}

/// A compiled Python file: its programs.
public struct IRModule: Sendable {
    public var name: String
    public var sourceFile: String
    public var programs: [Program]
    public init(name: String, sourceFile: String, programs: [Program]) {
        self.name = name
        self.sourceFile = sourceFile
        self.programs = programs
    }
}
