import BraidIR
import Testing

@testable import BraidFrontend

/// What the parser records instead of rejecting (parameter kinds, oversized literals, ...) is
/// an error only for code that gets compiled: entry points, helpers they inline, and the
/// module constants either reads.
@Suite struct CompiledOnlyRejectionTests {
    static let helperWithStarArgs = """
        import numpy as np

        def make_data(*shape, **options):
            rng = np.random.default_rng(options.get("seed", 0))
            return rng.random(shape)

        def scale(x, *, factor=2.0):
            return x * factor

        #pythran export total(float64[:])
        def total(x):
            return np.sum(x)

        def initialize(N):
            return {"x": make_data(N, seed=1)}

        """

    @Test func helpersOnlyUsedByPythonMayUseAnyParameterKind() throws {
        let ir = try lowerIR(Self.helperWithStarArgs)
        #expect(ir.contains("total"))
    }

    @Test func aCompiledFunctionWithStarArgsIsRejectedAtItsDefinition() throws {
        let d = diagnostic(Self.helperWithStarArgs, signatures: ["make_data(int)"])
        #expect(d?.loc == SourceLocation(file: "k.py", line: 3, column: 1))
        #expect(d?.message.contains("function 'make_data': `*args` parameters (`*shape`) are not supported") == true,
                "\(d?.message ?? "no diagnostic")")
    }

    @Test func anInlinedHelperWithKeywordOnlyParametersIsRejected() throws {
        let source = Self.helperWithStarArgs + """
            #pythran export twice(float64[:])
            def twice(x):
                return scale(x) + 1.0
            """
        let d = diagnostic(source)
        #expect(d?.loc == SourceLocation(file: "k.py", line: 7, column: 1))
        #expect(d?.message.contains("keyword-only parameters (`factor`") == true, "\(d?.message ?? "no diagnostic")")
        #expect(d?.message.contains("'twice' uses it") == true, "\(d?.message ?? "no diagnostic")")
    }

    @Test func helpersOfHelpersAreChecked() throws {
        let source = """
            import numpy as np

            def inner(x, **kw):
                return x

            def middle(x):
                return inner(x) * 2.0

            #pythran export f(float64[:])
            def f(x):
                return middle(x)
            """
        let d = diagnostic(source)
        #expect(d?.loc.line == 3)
        #expect(d?.message.contains("`**kwargs` parameters (`**kw`)") == true)
        #expect(d?.message.contains("'middle' uses it") == true, "\(d?.message ?? "no diagnostic")")
    }

    @Test func aLocalVariableDoesNotPullInAHelperOfTheSameName() throws {
        let source = """
            import numpy as np

            def scale(*a):
                return a

            #pythran export f(float64[:])
            def f(x):
                scale = 2.0
                return x * scale
            """
        #expect(diagnostic(source) == nil)
    }

    @Test func oversizedLiteralsMatterOnlyWhereCompiled() throws {
        let unused = """
            import numpy as np
            MASK = 0xFFFFFFFFFFFFFFFF

            #pythran export f(int64[:])
            def f(x):
                return x + 1

            def initialize(N):
                return {"x": np.arange(N) & MASK}
            """
        #expect(diagnostic(unused) == nil)

        let read = unused.replacingOccurrences(of: "return x + 1", with: "return x & MASK")
        let d = diagnostic(read)
        #expect(d?.loc == SourceLocation(file: "k.py", line: 2, column: 8))
        #expect(d?.message.hasPrefix("integer literal too large") == true)
        #expect(d?.message.contains("'MASK' is read by compiled function 'f'") == true, "\(d?.message ?? "no diagnostic")")

        let inBody = unused.replacingOccurrences(of: "return x + 1", with: "return x + 18446744073709551616")
        let e = diagnostic(inBody)
        #expect(e?.loc == SourceLocation(file: "k.py", line: 6, column: 16))
        #expect(e?.message.hasPrefix("integer literal too large") == true)
    }

    @Test func unsupportedStatementsOutsideCompiledCodeAreFine() throws {
        let source = """
            import numpy as np

            class Config:
                size = 3

            def report(x):
                with open("log.txt", "w") as fh:
                    print(x, file=fh)
                return [v * 2 for v in x]

            #pythran export f(float64[:])
            def f(x):
                return x * 2.0
            """
        #expect(diagnostic(source) == nil)
    }
}

@Suite struct SymbolDeclarationTests {
    @Test func symbolsDeclaredWithAGenerator() throws {
        let ir = try lowerIR("""
            import numpy as np
            import dace as dc

            M, N = (dc.symbol(s, dtype=dc.int64) for s in ('M', 'N'))

            @dc.program
            def f(A: dc.float64[M, N], b: dc.float64[N]):
                return A @ b
            """)
        #expect(ir.contains("float64[M, N]"), "\(ir)")
    }
}

@Suite struct MalformedSymbolTests {
    static let source = """
        import braid as br
        N = br.symbol('N')
        K = br.symbol('M')

        @br.program
        def f(x: br.float64[N]):
            return x + 1.0
        """

    @Test func mattersOnlyWhereUsed() throws {
        #expect(try lowerIR(Self.source).contains("float64[N]"))
        let inAnnotation = diagnostic(Self.source.replacingOccurrences(of: "br.float64[N]", with: "br.float64[K]"))
        #expect(inAnnotation?.loc == SourceLocation(file: "k.py", line: 3, column: 5))
        #expect(inAnnotation?.message == "symbol 'M' is assigned to a variable named 'K'; use the same name")
        let inBody = diagnostic(Self.source.replacingOccurrences(of: "x + 1.0", with: "x + K"))
        #expect(inBody?.message.hasPrefix("symbol 'M' is assigned to a variable named 'K'") == true,
                "\(inBody?.message ?? "no diagnostic")")
    }
}

@Suite struct ExportSignatureTests {
    func types(_ text: String) throws -> [String] {
        let (_, args) = try ExportSignature.parse(text, loc: SourceLocation(file: "k.py", line: 1, column: 1))
        return args.map {
            switch $0 {
            case .scalar(let d, let weak): return "\(d.rawValue)\(weak ? " weak" : "")"
            case .array(let d, let rank): return "\(d.rawValue)/\(rank)"
            }
        }
    }

    @Test func pythranSpellings() throws {
        #expect(try types("f(float64[:,:], float[][], uint32 [][][], int)") == ["float64/2", "float64/2", "uint32/3", "int64 weak"])
        #expect(try types("f(float64[ : , : ], complex128[:,::1], float32[::1])") == ["float64/2", "complex128/2", "float32/1"])
        #expect(try types("f()") == [])
        #expect(try types("f(float64[:,:] order(C), int32[][] order (C))") == ["float64/2", "int32/2"])
    }

    @Test func severalFunctionsInOneComment() throws {
        let all = try ExportSignature.parseAll("f(float64[:,:], int), g(float32[])",
                                               loc: SourceLocation(file: "k.py", line: 4, column: 17))
        #expect(all.map(\.0) == ["f", "g"])
        #expect(all.map(\.2.column) == [17, 39])
    }

    @Test(arguments: [
        ("f(float64[:] or float32[:])", "alternative types", 3),
        ("f(int, float64 list)", "Python list parameters", 8),
        ("f(float64[:,:] order(F))", "Fortran-ordered", 3),
        ("f(float64[::1,:])", "only the last dimension may be '::1'", 3),
        ("f(float64[2,:])", "unsupported array type 'float64[2,:]'", 3),
        ("f(float64[][:])", "unsupported array type", 3),
        ("f(int, quad)", "unknown type 'quad'", 8),
        ("f(float64[:,:)", "malformed export signature", 1),
    ])
    func clearErrors(text: String, expected: String, column: Int) throws {
        let error = #expect(throws: Diagnostic.self) {
            try ExportSignature.parseAll(text, loc: SourceLocation(file: "k.py", line: 1, column: 1))
        }
        #expect(error?.message.contains(expected) == true, "\(error?.message ?? "")")
        #expect(error?.loc.column == column)
    }

    @Test func errorsPointIntoTheComment() throws {
        let d = diagnostic("import numpy as np\n\n  #  pythran export f(float64[:], bad)\ndef f(x, y):\n    return x\n")
        #expect(d?.loc == SourceLocation(file: "k.py", line: 3, column: 35))
        #expect(d?.message.contains("unknown type 'bad'") == true)
    }

    @Test func oldStyleSignatureCompiles() throws {
        let ir = try lowerIR("""
            import numpy as np

            #pythran export harris(float64[][]), scale(float [], float)
            def harris(I):
                return I[1:, 1:] * I[:-1, :-1]

            def scale(x, a):
                return x * a
            """)
        #expect(ir.contains("harris") && ir.contains("scale"))
    }
}

@Suite struct OverloadTests {
    static let source = """
        import numpy as np
        #pythran export f(float64[:]), f(float32[:])
        #pythran export f(float64[:])
        def f(x):
            return x * 2
        """

    @Test func eachDistinctSignatureIsAnOverload() throws {
        let module = try Frontend.lower(source: Self.source, file: "k.py", moduleName: "k")
        #expect(module.programs.map(\.name) == ["f", "f__braid_overload1"])
        let ir = IRPrinter.print(module)
        #expect(ir.contains("x: float32[x_shape_0]") || ir.contains("float32[x_shape_0]"), "\(ir)")
    }

    @Test func commandLineSignaturesReplaceTheComments() throws {
        let module = try Frontend.lower(source: Self.source, file: "k.py", moduleName: "k", signatures: ["f(int32[:])"])
        #expect(module.programs.map(\.name) == ["f"])
        #expect(IRPrinter.print(module).contains("int32[x_shape_0]"))
    }

    @Test func commandLineSignatureOfAnAnnotatedProgramIsAnError() throws {
        let d = diagnostic("""
            import braid as br
            N = br.symbol('N')

            @br.program
            def g(x: br.float64[N]):
                return x + 1.0
            """, signatures: ["g(float32[:])"])
        #expect(d?.loc.line == 4 || d?.loc.line == 5)
        #expect(d?.message.contains("--signature names 'g', a program whose parameter types are its annotations") == true,
                "\(d?.message ?? "no diagnostic")")
    }
}

@Suite struct NoEntryPointTests {
    @Test func theHeaderEntryGetsASignatureTemplate() throws {
        let d = diagnostic("""
            # braid: entry=rosen
            import numpy as np

            def rosen(x, scale=1.0):
                return np.sum(100.0 * (x[1:] - x[:-1] ** 2.0) ** 2.0) * scale
            """)
        #expect(d?.loc == SourceLocation(file: "k.py", line: 4, column: 1))
        #expect(d?.message.contains("function 'rosen' has no parameter types") == true, "\(d?.message ?? "")")
        #expect(d?.message.contains("--signature 'rosen(<type of x>, <type of scale>)'") == true)
    }

    @Test func withoutAHeaderTheGeneralMessage() throws {
        let d = diagnostic("import numpy as np\n\ndef f(x):\n    return x\n")
        #expect(d?.loc.line == 1)
        #expect(d?.message.hasPrefix("no function to compile") == true)
    }
}
