import Testing
@testable import BraidIR
@testable import BraidFrontend

/// NumPy 2 semantics the lowering must keep: Python ints beyond a small integer dtype,
/// builtin sum/min/max, reductions without identity on empty arrays, float32 accumulation,
/// integer powers, float16 results, linspace with one sample.
@Suite struct SemanticsTests {
    @Test func outOfRangePythonIntComparisonsFold() throws {
        let ir = try lowerIR(header + """
        @br.program
        def f(x: br.int8[N]):
            return x > -200, x == 256
        """)
        // No comparison with a wrapped constant: the results are constants.
        #expect(!ir.contains("gt("))
        #expect(!ir.contains("eq("))
        #expect(ir.contains("] = True"))
        #expect(ir.contains("] = False"))
    }

    @Test func runTimePythonIntComparisonsAreExact() throws {
        let ir = try lowerIR(header + """
        @br.program
        def f(x: br.int8[N], k: int):
            return x > k
        """)
        // The int8 operand is widened, not the Python int narrowed.
        #expect(ir.contains("gt(int64(x[_i1]), k)"))
    }

    @Test func outOfRangePythonIntArithmeticIsAnError() {
        let d = diagnostic(header + """
        @br.program
        def f(x: br.int8[N]):
            y = x * 2
            return y + 300
        """)
        #expect(d?.loc.line == 7)
        #expect(d?.message.contains("Python integer 300 out of bounds for int8") == true)
        #expect(d?.message.contains("OverflowError") == true)
        #expect(d?.message.contains(".astype(np.int16)") == true)
    }

    @Test func builtinSumOfAMatrixIsOverTheFirstAxis() throws {
        let ir = try lowerIR(header + """
        @br.program
        def f(A: br.int8[N, M]):
            return sum(A)
        """)
        #expect(ir.contains("int8[M]"))
        #expect(!ir.contains("int64[M]"))
        #expect(ir.contains("for _k"))
    }

    @Test func builtinMaxOfAMatrixIsAnError() {
        let d = diagnostic(header + """
        @br.program
        def f(A: br.float64[N, M]):
            return max(A)
        """)
        #expect(d?.loc.line == 6)
        #expect(d?.message.contains("np.max(A, axis=0)") == true)
    }

    @Test func maxOfAnArrayChecksItsSizeWhenCalled() throws {
        let ir = try lowerIR(header + """
        @br.program
        def f(x: br.float64[N]):
            return np.max(x), np.argmin(x)
        """)
        #expect(ir.contains("assert min(1, N) == 1") || ir.contains("assert min(N, 1) == 1"))
        #expect(!ir.contains("fail "))
    }

    @Test func maxAfterAnEarlyReturnChecksWhereItRuns() throws {
        let ir = try lowerIR(header + """
        @br.program
        def f(x: br.float64[N]):
            if N == 0:
                return 0.0
            return np.max(x)
        """)
        #expect(!ir.contains("assert "))
        #expect(ir.contains("fail empty_reduction"))
    }

    @Test func maxOfAnAlwaysEmptyArrayIsAnError() {
        let d = diagnostic(header + """
        @br.program
        def f(x: br.float64[N]):
            return np.max(np.zeros((N, 0)))
        """)
        #expect(d?.loc.line == 6)
        #expect(d?.message.contains("zero-size array to reduction operation maximum") == true)
    }
}

@Suite struct SemanticsTests2 {
    @Test func float32SumsAccumulateInDouble() throws {
        let ir = try lowerIR(header + """
        @br.program
        def f(x: br.float32[N], A: br.float32[N, M]):
            return np.sum(x), A.sum(axis=1), np.mean(x)
        """)
        #expect(ir.contains("container _red1: float64"))
        #expect(ir.contains("float32(_red1)"))
        #expect(ir.contains("float32(_acc"))
    }

    @Test func builtinSumOfFloat32IsPythonsSequentialFloat32Loop() throws {
        let ir = try lowerIR(header + """
        @br.program
        def f(x: br.float32[N]):
            return sum(x)
        """)
        #expect(!ir.contains("float64"))
        #expect(ir.contains("for _k"))
    }

    @Test func constantNegativeIntegerPowerIsAnError() {
        let d = diagnostic(header + """
        @br.program
        def f(x: br.int32[N]):
            return x ** -2
        """)
        #expect(d?.loc.line == 6)
        #expect(d?.message.contains("Integers to negative integer powers are not allowed") == true)
    }

    @Test func runTimeIntegerExponentIsChecked() throws {
        let ir = try lowerIR(header + """
        @br.program
        def f(x: br.int32[N], k: br.int32):
            return x ** k
        """)
        #expect(ir.contains("fail invalid_value"))
    }

    @Test func pythonIntToANegativePowerIsAFloat() throws {
        let ir = try lowerIR(header + """
        @br.program
        def f(x: br.float64[N]):
            return x * 2 ** -2
        """)
        #expect(ir.contains("0.25"))
    }
}

@Suite struct SemanticsTests3 {
    @Test func float16ResultsAreAnError() {
        let d = diagnostic(header + """
        @br.program
        def f(x: br.uint8[N]):
            return np.exp(x)
        """)
        #expect(d?.loc.line == 6)
        #expect(d?.message.contains("np.exp of a uint8 array is float16 in NumPy") == true)
        #expect(d?.message.contains("x.astype(np.float32)") == true)
    }

    @Test func floorOfIntegersKeepsTheDtype() throws {
        let ir = try lowerIR(header + """
        @br.program
        def f(x: br.int32[N]):
            return np.floor(x)
        """)
        #expect(ir.contains("container _return0: int32[N]"))
        #expect(!ir.contains("floor("))
    }

    @Test func linspaceOfOneSampleIsStart() throws {
        let ir = try lowerIR(header + """
        @br.program
        def f(x: br.float64[N]):
            return np.linspace(0.0, 1.0, 1)
        """)
        // No sample is replaced by stop.
        #expect(!ir.contains("select("))
    }

    @Test func selectionUsedAsAValueIsANewArray() throws {
        let ir = try lowerIR(header + """
        @br.program
        def f(x: br.float64[N], y: br.float64[N]):
            return np.dot(x[x > 0.5], y[x > 0.5])
        """)
        #expect(ir.contains("matmul"))
        #expect(ir.contains("allocate"))
    }
}
