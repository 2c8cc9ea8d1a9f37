import BraidIR
import Testing

@testable import BraidFrontend

// MARK: - Helpers

private func parse(_ source: String, file: String = "t.py") throws -> PyModule {
    try PythonParser.parse(source: source, file: file)
}

private func loc(_ line: Int, _ column: Int, file: String = "t.py") -> BraidIR.SourceLocation {
    BraidIR.SourceLocation(file: file, line: line, column: column)
}

/// A compact, exact rendering of an expression tree, so tests can compare whole trees.
private func render(_ expr: PyExpr?) -> String {
    guard let expr else { return "nil" }
    func list(_ exprs: [PyExpr]) -> String { exprs.map { render($0) }.joined(separator: ", ") }
    switch expr.kind {
    case .name(let id): return id
    case .constant(let value): return "\(value)"
    case .attribute(let value, let attr): return "\(render(value)).\(attr)"
    case .subscript(let value, let index): return "\(render(value))[\(render(index))]"
    case .slice(let lower, let upper, let step): return "Slice(\(render(lower)), \(render(upper)), \(render(step)))"
    case .tuple(let elts): return "Tuple(\(list(elts)))"
    case .list(let elts): return "List(\(list(elts)))"
    case .binOp(let left, let op, let right): return "\(op.rawValue)(\(render(left)), \(render(right)))"
    case .unaryOp(let op, let operand): return "\(op.rawValue)(\(render(operand)))"
    case .boolOp(let op, let values): return "\(op.rawValue)(\(list(values)))"
    case .compare(let left, let ops, let comparators):
        return "Compare(\(render(left)), [\(ops.map(\.rawValue).joined(separator: ", "))], [\(list(comparators))])"
    case .call(let function, let args, let keywords):
        let keywordText = keywords.map { "\($0.arg ?? "**")=\(render($0.value))" }
        return "Call(\(render(function)), [\(list(args))], [\(keywordText.joined(separator: ", "))])"
    case .ifExp(let test, let body, let orelse): return "IfExp(\(render(test)), \(render(body)), \(render(orelse)))"
    case .comprehension(let element, let target, let iter, let generator):
        return "\(generator ? "GeneratorExp" : "ListComp")(\(render(element)), \(render(target)), \(render(iter)))"
    case .starred(let value): return "*\(render(value))"
    case .unsupported(let kind): return "Unsupported(\(kind))"
    }
}

private extension PyStmt {
    var functionDef: PyFunctionDef? {
        if case .functionDef(let def) = kind { return def }
        return nil
    }
    /// The value of an expression statement, an assignment or a return.
    var value: PyExpr? {
        switch kind {
        case .exprStmt(let value), .assign(_, let value): return value
        case .return(let value): return value
        default: return nil
        }
    }
}

/// The value of the single statement `source`.
private func expression(_ source: String) throws -> PyExpr {
    let module = try parse(source)
    try #require(module.body.count == 1)
    return try #require(module.body[0].value)
}

// MARK: - Statements

@Test func functionWithAnnotationsDecoratorsAndDefaults() throws {
    let source = """
        import numpy as np


        @decorator
        @jit(parallel=True)
        def kernel(A: np.ndarray, n: int, /, alpha: float = 1.5, beta=-2) -> float:
            return alpha * A[0]
        """
    let module = try parse(source)
    #expect(module.file == "t.py")
    try #require(module.body.count == 2)
    guard case .import(let aliases) = module.body[0].kind else {
        Issue.record("expected an import, got \(module.body[0].kind)")
        return
    }
    #expect(aliases.map(\.name) == ["numpy"])
    #expect(aliases.map(\.asname) == ["np"])

    let def = try #require(module.body[1].functionDef)
    #expect(def.name == "kernel")
    // A decorated function's location is its `def` line, not the first decorator's.
    #expect(def.loc == loc(6, 1))
    #expect(module.body[1].loc == loc(6, 1))
    #expect(def.args.map(\.name) == ["A", "n", "alpha", "beta"])  // positional-only first
    #expect(def.args.map { render($0.annotation) } == ["np.ndarray", "int", "float", "nil"])
    #expect(def.args.map(\.loc) == [loc(6, 12), loc(6, 27), loc(6, 38), loc(6, 58)])
    #expect(def.defaults.map { render($0) } == ["float(1.5)", "USub(int(2))"])
    #expect(def.decorators.map { render($0) } == ["decorator", "Call(jit, [], [parallel=bool(true)])"])
    #expect(def.decorators.map(\.loc) == [loc(4, 2), loc(5, 2)])
    #expect(render(def.returns) == "float")
    try #require(def.body.count == 1)
    #expect(def.body[0].loc == loc(7, 5))
    #expect(render(def.body[0].value) == "Mult(alpha, A[int(0)])")
}

@Test func forWhileIfNest() throws {
    let source = """
        def f(n):
            total = 0
            for i in range(n):
                while total < 10:
                    if i % 2 == 0:
                        total += i
                    elif i > 5:
                        break
                    else:
                        continue
                else:
                    pass
            assert total >= 0, "negative"
            x: int = total
            return total
        """
    let def = try #require(try parse(source).body.first?.functionDef)
    try #require(def.body.count == 5)
    #expect(def.body.map(\.loc) == [loc(2, 5), loc(3, 5), loc(13, 5), loc(14, 5), loc(15, 5)])

    guard case .for(let target, let iter, let forBody, let forElse) = def.body[1].kind else {
        Issue.record("expected a for loop, got \(def.body[1].kind)")
        return
    }
    #expect(render(target) == "i")
    #expect(render(iter) == "Call(range, [n], [])")
    #expect(forElse.isEmpty)
    try #require(forBody.count == 1)

    guard case .while(let test, let whileBody, let whileElse) = forBody[0].kind else {
        Issue.record("expected a while loop, got \(forBody[0].kind)")
        return
    }
    #expect(forBody[0].loc == loc(4, 9))
    #expect(render(test) == "Compare(total, [Lt], [int(10)])")
    try #require(whileElse.count == 1)
    guard case .pass = whileElse[0].kind else {
        Issue.record("expected pass, got \(whileElse[0].kind)")
        return
    }
    #expect(whileElse[0].loc == loc(12, 13))
    try #require(whileBody.count == 1)

    // `elif` is an `If` nested in the outer `orelse`.
    guard case .if(let ifTest, let ifBody, let ifElse) = whileBody[0].kind else {
        Issue.record("expected an if, got \(whileBody[0].kind)")
        return
    }
    #expect(render(ifTest) == "Compare(Mod(i, int(2)), [Eq], [int(0)])")
    guard case .augAssign(let augTarget, let augOp, let augValue) = ifBody.first?.kind else {
        Issue.record("expected +=, got \(String(describing: ifBody.first?.kind))")
        return
    }
    #expect(render(augTarget) == "total" && augOp == .add && render(augValue) == "i")
    try #require(ifElse.count == 1)
    guard case .if(let elifTest, let elifBody, let elifElse) = ifElse[0].kind else {
        Issue.record("expected elif, got \(ifElse[0].kind)")
        return
    }
    #expect(ifElse[0].loc == loc(7, 13))  // an `elif` starts at its keyword
    #expect(render(elifTest) == "Compare(i, [Gt], [int(5)])")
    guard case .break = elifBody.first?.kind, case .continue = elifElse.first?.kind else {
        Issue.record("expected break / continue")
        return
    }

    guard case .assert(let assertTest, let message) = def.body[2].kind else {
        Issue.record("expected assert, got \(def.body[2].kind)")
        return
    }
    #expect(render(assertTest) == "Compare(total, [GtE], [int(0)])")
    #expect(render(message) == #"string("negative")"#)
    guard case .annAssign(let annTarget, let annotation, let annValue) = def.body[3].kind else {
        Issue.record("expected an annotated assignment, got \(def.body[3].kind)")
        return
    }
    #expect(render(annTarget) == "x" && render(annotation) == "int" && render(annValue) == "total")
}

@Test func importsAndAssignments() throws {
    let module = try parse("from .. import a as b, c\nfrom numpy import *\nx = y = [1, *z]\n")
    guard case .importFrom(let module1, let names1, let level1) = module.body[0].kind,
          case .importFrom(let module2, let names2, let level2) = module.body[1].kind,
          case .assign(let targets, let value) = module.body[2].kind else {
        Issue.record("unexpected statements: \(module.body.map(\.kind))")
        return
    }
    #expect(module1 == nil && level1 == 2)
    #expect(names1.map(\.name) == ["a", "c"] && names1.map(\.asname) == ["b", nil])
    #expect(module2 == "numpy" && level2 == 0 && names2.map(\.name) == ["*"])
    #expect(targets.map { render($0) } == ["x", "y"])
    #expect(render(value) == "List(int(1), *z)")
    #expect(value.loc == loc(3, 9))
}

// MARK: - Expressions

@Test func subscriptsWithSlicesAndTuples() throws {
    let expr = try expression("B = A[1:-1, :, i]")
    #expect(render(expr) == "A[Tuple(Slice(int(1), USub(int(1)), nil), Slice(nil, nil, nil), i)]")
    #expect(expr.loc == loc(1, 5))
    guard case .subscript(let value, let index) = expr.kind, case .tuple(let dims) = index.kind else {
        Issue.record("expected a subscript by a tuple, got \(expr.kind)")
        return
    }
    #expect(value.loc == loc(1, 5))
    #expect(index.loc == loc(1, 7))
    #expect(dims.map(\.loc) == [loc(1, 7), loc(1, 13), loc(1, 16)])

    #expect(render(try expression("A[::2]")) == "A[Slice(nil, nil, int(2))]")
    #expect(render(try expression("A[i][j + 1, ...]")) == "A[i][Tuple(Add(j, int(1)), ellipsis)]")
    #expect(render(try expression("A[a:b:c]")) == "A[Slice(a, b, c)]")
}

@Test func operators() throws {
    #expect(render(try expression("a + b * c ** -d")) == "Add(a, Mult(b, Pow(c, USub(d))))")
    #expect(render(try expression("(a - b) / c // d % e @ f"))
                == "MatMult(Mod(FloorDiv(Div(Sub(a, b), c), d), e), f)")
    #expect(render(try expression("a << 1 | b >> 2 & c ^ d")) == "BitOr(LShift(a, int(1)), BitXor(BitAnd(RShift(b, int(2)), c), d))")
    #expect(render(try expression("~a + +b")) == "Add(Invert(a), UAdd(b))")
    #expect(render(try expression("not a and b or c")) == "Or(And(Not(a), b), c)")
    #expect(render(try expression("0 <= i < n != m")) == "Compare(int(0), [LtE, Lt, NotEq], [i, n, m])")
    #expect(render(try expression("a is not None and b in c and d not in e and f is g and h == k and x > y >= z"))
                == "And(Compare(a, [IsNot], [none]), Compare(b, [In], [c]), Compare(d, [NotIn], [e]), "
                + "Compare(f, [Is], [g]), Compare(h, [Eq], [k]), Compare(x, [Gt, GtE], [y, z]))")
    #expect(render(try expression("x if c else y")) == "IfExp(c, x, y)")
    #expect(render(try expression("np.zeros((n, m), dtype=np.float64, **opts)"))
                == "Call(np.zeros, [Tuple(n, m)], [dtype=np.float64, **=opts])")
    #expect(render(try expression("f(*args)")) == "Call(f, [*args], [])")

    let call = try expression("r = f(a,\n      key=b)")
    guard case .call(_, _, let keywords) = call.kind else {
        Issue.record("expected a call, got \(call.kind)")
        return
    }
    #expect(keywords.first?.arg == "key")
    #expect(keywords.first?.value.loc == loc(2, 11))
}

@Test func constantsOfEveryKind() throws {
    let source = """
        values = (1, -1, 2.5, -0.5, 2j, 1.5 + 2j, True, False, None, ..., "text", 0xFF, 1e300, 'ü')
        """
    let expr = try expression(source)
    guard case .tuple(let elts) = expr.kind else {
        Issue.record("expected a tuple, got \(expr.kind)")
        return
    }
    let constants: [PyConstant?] = elts.map {
        if case .constant(let value) = $0.kind { return value }
        return nil
    }
    #expect(constants == [.int(1), nil, .float(2.5), nil, .complex(real: 0, imag: 2), nil, .bool(true),
                          .bool(false), PyConstant.none, .ellipsis, .string("text"), .int(255), .float(1e300),
                          .string("ü")])
    // Negative numbers are `USub` applied to the literal, as in CPython.
    #expect(render(elts[1]) == "USub(int(1))")
    #expect(render(elts[3]) == "USub(float(0.5))")
    #expect(render(elts[5]) == "Add(float(1.5), complex(real: 0.0, imag: 2.0))")
    #expect(elts[1].loc == loc(1, 14))
    guard case .unaryOp(_, let operand) = elts[1].kind else { return }
    #expect(operand.loc == loc(1, 15))

    #expect(render(try expression("9223372036854775807")) == "int(9223372036854775807)")
    // The one literal whose negation fits in 64 bits but which does not itself.
    #expect(render(try expression("-9223372036854775808")) == "int(-9223372036854775808)")
    #expect(render(try expression("b'raw'")) == "Unsupported(Bytes)")
    #expect(render(try expression("f'{x}'")) == "Unsupported(JoinedStr)")
}

@Test func integerLiteralTooLarge() throws {
    let module = try parse("x = 1\ny = 2 * 9223372036854775808\n", file: "big.py")
    #expect(render(module.body[1].value) == "Mult(int(2), Unsupported(LargeInteger))")
    let problem = try #require(module.problems.first)
    #expect(module.problems.count == 1 && problem.statement == 1)
    #expect(problem.diagnostic.loc == loc(2, 9, file: "big.py"))
    #expect(problem.diagnostic.message.hasPrefix("integer literal too large"))
}

@Test func columnsCountCodePoints() throws {
    // CPython reports `col_offset` in UTF-8 bytes; columns here count code points, like
    // SyntaxError offsets do.
    let module = try parse("s = 'ünïcode' + x\nt = y\n")
    #expect(render(module.body[0].value) == #"Add(string("ünïcode"), x)"#)
    guard case .binOp(_, _, let right) = module.body[0].value?.kind else {
        Issue.record("expected a binary operation")
        return
    }
    #expect(right.loc == loc(1, 17))
    #expect(module.body[1].value?.loc == loc(2, 5))
}

// MARK: - Comments

@Test func pythranExportCommentsWithLineNumbers() throws {
    let source = """
        #pythran export kernel(float64[:,:], int)
        # pythran export other(float32[])
        import numpy as np

        s = "# not a comment"  # trailing comment
        t = '''
        # inside a triple-quoted string
        '''
        def kernel(A, n):  # pythran export ignored(int)
            return A
        """
    let module = try parse(source)
    #expect(module.comments.map(\.line) == [1, 2, 5, 9])
    #expect(module.comments.map(\.column) == [1, 1, 24, 20])
    #expect(module.comments.map(\.text) == ["#pythran export kernel(float64[:,:], int)",
                                            "# pythran export other(float32[])",
                                            "# trailing comment",
                                            "# pythran export ignored(int)"])
}

@Test func commentLinesWithWindowsLineEnds() throws {
    let module = try parse("# first\r\nx = 1\r\n# third\r\ny = 2\n")
    #expect(module.comments.map(\.line) == [1, 3])
    #expect(module.comments.map(\.text) == ["# first", "# third"])
    #expect(module.body.map(\.loc) == [loc(2, 1), loc(4, 1)])
}

// MARK: - Errors and unsupported constructs

@Test func syntaxErrorHasExactPosition() throws {
    let error = #expect(throws: Diagnostic.self) {
        try parse("def f(x):\n    y = 1\n    z = = 2\n", file: "k.py")
    }
    #expect(error?.loc == loc(3, 9, file: "k.py"))
    #expect(error?.message == "Python syntax error: invalid syntax")
    #expect(error?.description == "k.py:3:9: error: Python syntax error: invalid syntax")

    let indentation = #expect(throws: Diagnostic.self) { try parse("if x:\npass\n") }
    #expect(indentation?.loc == loc(2, 1))
    #expect(indentation?.message == "Python syntax error: expected an indented block after 'if' statement on line 1")

    let unclosed = #expect(throws: Diagnostic.self) { try parse("x = (1,\n") }
    #expect(unclosed?.loc == loc(1, 5))
    #expect(unclosed?.message == "Python syntax error: '(' was never closed")
}

@Test func unexpectedPythonErrorIsReportedAtStartOfFile() throws {
    // CPython rejects NUL characters (with ValueError or SyntaxError depending on version).
    let error = #expect(throws: Diagnostic.self) { try parse("x = 1\n\u{0}\n", file: "nul.py") }
    #expect(error?.loc.file == "nul.py")
    #expect(error?.message.contains("null bytes") == true)
}

@Test func unsupportedNodesKeepClassNameAndLocation() throws {
    let source = """
        f = lambda x: x + 1
        squares = [i * i for i in items]
        with open(p) as h:
            pass
        class C:
            pass
        async def g():
            pass
        global q
        h += lambda: 0
        """
    let module = try parse(source)
    try #require(module.body.count == 7)
    let lambda = try #require(module.body[0].value)
    #expect(render(lambda) == "Unsupported(Lambda)")
    #expect(lambda.loc == loc(1, 5))
    #expect(render(module.body[1].value) == "Unsupported(ListComp)")
    let statements: [String?] = module.body.map {
        if case .unsupported(let kind) = $0.kind { return kind }
        return nil
    }
    #expect(statements == [nil, nil, "With", "ClassDef", "AsyncFunctionDef", "Global", nil])
    #expect(module.body[2].loc == loc(3, 1) && module.body[3].loc == loc(5, 1))
    guard case .augAssign(let target, .add, let value) = module.body[6].kind else {
        Issue.record("expected +=, got \(module.body[6].kind)")
        return
    }
    #expect(render(target) == "h" && render(value) == "Unsupported(Lambda)")
}

@Test(arguments: [
    ("def f(a, *rest):\n    pass\n", "`*args` parameters (`*rest`)"),
    ("def f(a, *, b):\n    pass\n", "keyword-only parameters (`b`"),
    ("def f(a, **options):\n    pass\n", "`**kwargs` parameters (`**options`)"),
])
func unsupportedParameterKindsAreRecordedOnTheFunction(source: String, expected: String) throws {
    // Not a parse error: the function may be one that never gets compiled.
    let module = try parse("\n" + source)
    let def = try #require(module.body.first?.functionDef)
    #expect(def.args.map(\.name) == ["a"])
    let problem = try #require(def.problems.first)
    #expect(def.problems.count == 1)
    #expect(problem.loc == loc(2, 1))
    #expect(problem.message.contains("function 'f'"))
    #expect(problem.message.contains(expected), "\(problem.message)")
    #expect(problem.message.contains("plain positional parameter"))
    #expect(module.problems.isEmpty)
}

@Test func problemsBelongToTheInnermostFunction() throws {
    let module = try parse("""
        def outer(x):
            def inner(*a):
                return 9223372036854775808
            return x
        y = 18446744073709551616
        """)
    let outer = try #require(module.body[0].functionDef)
    #expect(outer.problems.isEmpty)
    guard case .functionDef(let inner)? = outer.body.first?.kind else {
        Issue.record("expected the nested def")
        return
    }
    #expect(inner.problems.map(\.loc) == [loc(2, 5), loc(3, 16)])
    #expect(inner.problems[1].message.hasPrefix("integer literal too large"))
    #expect(module.problems.map(\.statement) == [1])
    #expect(module.problems.first?.diagnostic.loc == loc(5, 5))
}

@Test func deeplyNestedExpressionIsRecorded() throws {
    let source = "x = 1\ny = " + Array(repeating: "a", count: 2_000).joined(separator: " + ") + "\n"
    let module = try parse(source)
    #expect(module.body.count == 2)
    #expect(!module.problems.isEmpty && module.problems.allSatisfy { $0.statement == 1 })
    #expect(module.problems.first?.diagnostic.message.contains("nested too deeply") == true)

    let fine = "x = " + Array(repeating: "a", count: 300).joined(separator: " + ") + "\n"
    let parsed = try parse(fine)
    #expect(parsed.body.count == 1 && parsed.problems.isEmpty)
}

// MARK: - Comprehensions over literal sequences (module level)

@Test func symbolGeneratorIsUnrolled() throws {
    let module = try parse("M, N = (dc.symbol(s) for s in ('M', 'N'))\nK = [dc.symbol(s, dtype=dc.int64) for s in 'K']\n")
    #expect(render(module.body[0].value)
            == #"Tuple(Call(dc.symbol, [string("M")], []), Call(dc.symbol, [string("N")], []))"#)
    #expect(render(module.body[1].value) == #"List(Call(dc.symbol, [string("K")], [dtype=dc.int64]))"#)
    #expect(render(try expression("[i * i for i in range(1, 7, 2)]")) == "List(Mult(int(1), int(1)), Mult(int(3), int(3)), Mult(int(5), int(5)))")
}

@Test(arguments: [
    "(s for s in names)",                    // not a literal sequence
    "[s for s in ('a', 'b') if f(s)]",       // a condition that is not a constant
    "[a + b for a in (1, 2) for b in x]",    // an inner loop over a name
    "[s for s in range(1000)]",              // too many items
    "{s: 1 for s in 'ab'}",                  // not a list or generator
])
func otherComprehensionsStayUnsupported(source: String) throws {
    guard case .unsupported = try expression(source).kind else {
        Issue.record("\(source) should stay unsupported")
        return
    }
}

@Test func inFunctionsListComprehensionsUnrollButGeneratorsDoNot() throws {
    let module = try parse("def f(x):\n    a = [x * i for i in (1, 2)]\n    return (x * i for i in (1, 2))\n")
    let body = try #require(module.body.first?.functionDef?.body)
    #expect(render(body[0].value) == "List(Mult(x, int(1)), Mult(x, int(2)))")
    #expect(render(body[1].value) == "GeneratorExp($item, $item, List(Mult(x, int(1)), Mult(x, int(2))))")
}

@Test func nestedComprehensionsWithConstantConditionsUnroll() throws {
    #expect(render(try expression("[a + b for a in (1, 2) for b in (3,)]")) == "List(Add(int(1), int(3)), Add(int(2), int(3)))")
    #expect(render(try expression("[(i, j) for i in (-1, 0, 1) for j in range(i, 1) if i != 0 or j != 0]"))
            == "List(Tuple(int(-1), int(-1)), Tuple(int(-1), int(0)))")
}

@Test func inFunctionsComprehensionsOverRunTimeRangesAreKept() throws {
    let module = try parse("def f(x, n):\n    a = [x[i] for i in range(n)]\n    b = [v for v in x if v]\n")
    let body = try #require(module.body.first?.functionDef?.body)
    #expect(render(body[0].value) == "ListComp(x[i], i, Call(range, [n], []))")
    #expect(render(body[1].value) == "Unsupported(ListComp)")
}

// MARK: - Concurrency

@Test func parsesFromParallelTasks() async throws {
    let results = await withTaskGroup(of: (Int, String?, Int?).self) { group in
        for index in 0..<50 {
            group.addTask {
                let source = "#pythran export f\(index)(int)\ndef f\(index)(n):\n    return n + \(index)\n"
                guard let module = try? PythonParser.parse(source: source, file: "m\(index).py"),
                      let def = module.body.first?.functionDef,
                      case .return(let value)? = def.body.first?.kind,
                      case .binOp(_, .add, let right)? = value?.kind,
                      case .constant(.int(let constant)) = right.kind else {
                    return (index, nil, nil)
                }
                return (index, def.name + "@" + def.loc.description, constant)
            }
        }
        var collected: [(Int, String?, Int?)] = []
        for await result in group { collected.append(result) }
        return collected.sorted { $0.0 < $1.0 }
    }
    #expect(results.count == 50)
    for (index, name, constant) in results {
        #expect(name == "f\(index)@m\(index).py:2:1")
        #expect(constant == index)
    }
}
