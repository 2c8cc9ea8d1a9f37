import BraidIR
import Testing

@testable import BraidFrontend

/// Files as DaCe and Pythran users write them: module-level constant expressions, DaCe's
/// storage and schedule annotations, and clear errors for what stays unsupported.
@Suite struct DialectTrialTests {
    @Test func moduleConstantExpressionsAreFolded() throws {
        let ir = try lowerIR("""
            import numpy as np
            import math
            from math import pi

            TWO_PI = 2 * np.pi
            K = 3
            K2 = K * 2 + 1
            K2 += 1
            Q = -7 // 2
            R = math.pi / 4 + pi

            #pythran export f(float64[:])
            def f(x):
                return x * TWO_PI + K2 + Q + R
            """)
        #expect(ir.contains("add(add(add(mul(x[_i1], 6.283185307179586), 8.0), -4.0), 3.9269908169872414)"))
    }

    @Test(arguments: [
        ("COEFFS = (1.0, np.ones(2))\n", "COEFFS", "module-level 'COEFFS' is a tuple"),
        ("W = np.ones(3)\n", "W", "module-level 'W' is the result of a call"),
        ("K = 2\nif True:\n    K = 3\n", "K", "assigned inside a module-level if"),
        ("K = 2\nK = np.float32(3)\n", "K", "module-level 'K' is the result of a call"),
    ])
    func nonConstantModuleNamesAreLocatedErrors(prefix: String, name: String, expected: String) throws {
        let d = diagnostic("import numpy as np\n" + prefix + """

            #pythran export f(float64[:])
            def f(x):
                return x * \(name)
            """)
        #expect(d?.message.contains(expected) == true, "\(d?.message ?? "no error")")
        #expect(d?.message.contains("read by compiled function 'f'") == true)
        #expect((d?.loc.line ?? 0) >= 2)
    }

    @Test func theMainGuardDoesNotRunOnImport() throws {
        let ir = try lowerIR("""
            import numpy as np
            K = 5

            #pythran export f(float64[:])
            def f(x):
                return x * K

            if __name__ == "__main__":
                K = 7
                print(f(np.ones(3)))
            """)
        #expect(ir.contains("mul(x[_i1], 5.0)"))
    }

    @Test func aNameRebindToAConstantIsReadable() throws {
        let ir = try lowerIR("""
            import numpy as np
            K = np.ones(3)
            K = 5

            #pythran export f(float64[:])
            def f(x):
                return x * K
            """)
        #expect(ir.contains("mul(x[_i1], 5.0)"))
    }

    @Test func storageAndScheduleHintsAreAccepted() throws {
        let ir = try lowerIR("""
            import numpy as np
            import dace as dc
            N = dc.symbol('N')

            @dc.program
            def f(A: dc.float64[N] @ dc.StorageType.CPU_Heap, B: dc.float64[N]):
                for i in dc.map[0:N] @ dc.ScheduleType.Sequential:
                    B[i] = A[i] * 2.0
            """)
        #expect(ir.contains("container A: float64[N] arg 0"))
    }

    @Test(arguments: [
        ("A: np.ndarray", "'np.ndarray' gives neither the dtype nor the shape"),
        ("A: dc.float64[N], k: dc.compiletime", "compile-time parameters ('dc.compiletime') are not supported"),
        ("A: dc.float64 @ dc.StorageType.CPU_Heap", "applies to arrays"),
        ("A: dc.float64[N] @ dc.float64", "unsupported storage"),
    ])
    func unsupportedAnnotationsSayWhatToWrite(params: String, expected: String) throws {
        let d = diagnostic("""
            import numpy as np
            import dace as dc
            N = dc.symbol('N')

            @dc.program
            def f(\(params)):
                return A
            """)
        #expect(d?.message.contains(expected) == true, "\(d?.message ?? "no error")")
        #expect(d?.loc.line == 6)
    }

    @Test(arguments: [
        ("f(float64[:,:], (int, int))", "tuple parameters ('(int, int)') are not supported", 17),
        ("f(float64[:], str)", "string parameters ('str') are not supported", 15),
    ])
    func pythranTypesWithoutAnArrayForm(text: String, expected: String, column: Int) throws {
        let error = #expect(throws: Diagnostic.self) {
            try ExportSignature.parseAll(text, loc: SourceLocation(file: "k.py", line: 1, column: 1))
        }
        #expect(error?.message.contains(expected) == true, "\(error?.message ?? "")")
        #expect(error?.loc.column == column)
    }

    @Test func exportWithFewerTypesFixesTheRestAtTheirDefaults() throws {
        let ir = try lowerIR("""
            import numpy as np
            EPS = 1e-3

            #pythran export f(float64[:])
            def f(x, lo=-1.0, eps=EPS):
                return x * lo + eps
            """)
        #expect(ir.contains("program f(x) symbols"))
        #expect(ir.contains("lo = -1.0  # line 5"))
        #expect(ir.contains("eps = 0.001  # line 5"))
        #expect(ir.contains("_return0[_i1] = add(mul(x[_i1], lo), eps)"))
    }

    @Test func defaultsAreTheConstantsWhereTheDefRuns() throws {
        let ir = try lowerIR("""
            import numpy as np
            EPS = 1e-3

            #pythran export f(float64[:], float)
            def f(x, eps=EPS / 2):
                return x + eps

            EPS = 1.0
            """)
        #expect(ir.contains("program f(x, eps) symbols"))
        let f = try #require(try ModuleContext(module: PythonParser.parse(source: """
            EPS = 1e-3
            def f(x, eps=EPS / 2, w=-2 * EPS):
                return x
            EPS = 1.0
            """, file: "k.py"), signatures: []).functions["f"])
        #expect(f.defaults.map { "\($0.kind)" } == ["constant(BraidFrontend.PyConstant.float(0.0005))",
                                                   "constant(BraidFrontend.PyConstant.float(-0.002))"])
    }

    @Test(arguments: [
        ("kern(float64[:,:], float64[:])", 4, "--signature of 'kern' gives 2 parameter types, but the function takes 3 (A, b, n)"),
        ("kern(float64[:,:], float64[:], integer)", 4, "--signature 'kern(float64[:,:], float64[:], integer)': unknown type 'integer'"),
        ("nope(float64[:])", 1, "--signature names 'nope', but the file defines no function of that name (it defines: kern)"),
    ])
    func commandLineSignatureErrorsNameTheOptionAndTheFunction(signature: String, line: Int, expected: String) throws {
        let d = diagnostic("import numpy as np\n\n\ndef kern(A, b, n):\n    return A @ b * n\n", signatures: [signature])
        #expect(d?.message.contains(expected) == true, "\(d?.message ?? "no error")")
        #expect(d?.loc.line == line)
    }

    @Test func numpyDtypeStringsAndAliases() {
        let cases: [(String, DType?)] = [
            ("f4", .float32), ("<f8", .float64), ("=i4", .int32), ("|b1", .bool), ("u1", .uint8), ("c8", .complex64),
            ("D", .complex128), ("l", .int64), ("intc", .int32), ("ubyte", .uint8), ("uint", .uint64), ("longlong", .int64),
            ("csingle", .complex64), (">f8", nil), ("f2", nil), ("e", nil), ("float128", nil),
        ]
        for (name, expected) in cases { #expect(DTypeNames.lookup(name) == expected, "\(name)") }
    }

    @Test func exportCommentsGoOnInTheNextCommentLines() throws {
        let ir = try lowerIR("""
            import numpy as np

            # pythran export f(float64[:],
            #     float64[:], int,
            # bool)
            def f(a, b, k, flag):
                return a * k + b
            """)
        #expect(ir.contains("program f(a, b, k, flag)"))
        let d = diagnostic("import numpy as np\n\n# pythran export f(float64[:],\n#     float64[:], quad,\n#     int)\ndef f(a, b, c, d):\n    return a\n")
        #expect(d?.message.contains("unknown type 'quad'") == true)
        #expect(d?.loc == SourceLocation(file: "k.py", line: 4, column: 19))
    }

    @Test func optionalParameterTypesExportEachArity() throws {
        let all = try ExportSignature.parseAll("weights(uint8[:,:], float?, int?)", loc: SourceLocation(file: "k.py", line: 1, column: 1))
        #expect(all.map { $0.1.count } == [1, 2, 3])
        let error = #expect(throws: Diagnostic.self) {
            try ExportSignature.parseAll("f(float64[:], int?, float)", loc: SourceLocation(file: "k.py", line: 1, column: 1))
        }
        #expect(error?.message.contains("only the last parameters may be optional") == true)
        #expect(error?.loc.column == 21)
    }

    @Test(arguments: [
        "from numpy import linalg\nN = linalg.norm",
        "import numpy.linalg\nN = numpy.linalg.norm",
        "import numpy.linalg as la\nN = la.norm",
        "from numpy.linalg import norm as N",
        "N = np.linalg.norm",
    ])
    func numpySubmodulesAndFunctionAliases(header: String) throws {
        let ir = try lowerIR("import numpy as np\n" + header + "\n\n#pythran export f(float64[:])\ndef f(x):\n    return N(x)\n")
        #expect(ir.contains("program f(x)"))
        #expect(ir.contains("sqrt"))
    }

    @Test func starImportsBindWhatTheModulesExport() throws {
        let ctx = try ModuleContext(module: PythonParser.parse(source: "from math import *\nfrom numpy import *\n", file: "k.py"),
                                    signatures: [])
        #expect(ctx.fromImports["sqrt"]?.module == "numpy")  // the later import wins, as in Python
        #expect(ctx.fromImports["max"]?.module == "numpy")  // np.max shadows the builtin
        #expect(ctx.fromImports["factorial"]?.module == "math")
        #expect(ctx.constants["pi"] == .float(Double.pi))
        #expect(ctx.constants["newaxis"] == PyConstant.none)
        #expect(ctx.fromImports["trapz"] == nil)
    }

    @Test func moduleTuplesOfNumbersAreReadAsTheirDisplays() throws {
        let ir = try lowerIR("""
            import numpy as np
            W = (0.25, 0.5, 0.25)

            #pythran export f(float64[:])
            def f(x):
                s = 0.0
                for w in W:
                    s += w
                return W[0] * x[:-2] + W[2] * x[2:], s

            #pythran export g(float64[:])
            def g(x):
                W = 3.0
                return x * W
            """)
        #expect(ir.contains("mul(0.25, x[_i1])"))
        #expect(ir.contains("mul(x[_i1], W)") || ir.contains("mul(x[_i1], 3.0)"))
        let d = diagnostic("import numpy as np\nW = [0.25, 0.5]\n\n#pythran export f(float64[:])\ndef f(x):\n    return x * W[0]\n")
        #expect(d?.message.contains("module-level 'W' is a list") == true)  // lists can change: not inlined
    }

    @Test func foldingFollowsPythonArithmetic() {
        #expect(ModuleContext.fold(.int(-7), .floorDiv, .int(2)) == .int(-4))
        #expect(ModuleContext.fold(.int(-7), .mod, .int(2)) == .int(1))
        #expect(ModuleContext.fold(.int(7), .div, .int(2)) == .float(3.5))
        #expect(ModuleContext.fold(.int(2), .pow, .int(10)) == .int(1024))
        #expect(ModuleContext.fold(.int(2), .pow, .int(-1)) == .float(0.5))
        #expect(ModuleContext.fold(.int(0), .pow, .int(-1)) == nil)  // ZeroDivisionError in Python
        #expect(ModuleContext.fold(.int(2), .pow, .int(70)) == nil)  // beyond int64
        #expect(ModuleContext.fold(.int(Int.max), .add, .int(1)) == nil)
        #expect(ModuleContext.fold(.float(-8), .pow, .float(0.5)) == nil)  // complex in Python
        #expect(ModuleContext.fold(.int(1), .div, .int(0)) == nil)
        #expect(ModuleContext.fold(.float(1.5), .mult, .int(2)) == .float(3.0))
    }
}
