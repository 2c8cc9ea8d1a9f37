import Testing
@testable import BraidIR

@Suite struct VerifierTests {
    let loc = SourceLocation(file: "t.py", line: 1, column: 1)

    func program(_ body: [Node], written: Bool = true) -> Program {
        Program(name: "f", params: ["A"], defaults: [:], symbols: ["N"],
                containers: [Container(name: "A", dtype: .float64, shape: [.sym("N")], role: .argument(index: 0),
                                       storage: .hostHeap, isWritten: written)],
                results: [], shapeAssertions: [], body: body, loc: loc)
    }

    func store(_ idx: SymExpr) -> Node {
        .tasklet(Tasklet(output: .point("A", [.sym(idx)]), value: .literal(.float(1), .float64), loc: loc))
    }

    @Test func acceptsWellFormedMap() throws {
        let p = program([.map(MapScope(params: ["i"], ranges: [SymRange(.zero, .sym("N"))], schedule: .sequential,
                                       body: [store(.sym("i"))], loc: loc))])
        try Verifier.verify(p)
        #expect(IRPrinter.print(p).contains("map[sequential] i in 0:N:"))
    }

    @Test func rejectsUnboundLoopVariable() {
        #expect(throws: Verifier.Failure.self) { try Verifier.verify(program([store(.sym("i"))])) }
    }

    @Test func rejectsWriteToUnwrittenContainer() {
        let p = program([.map(MapScope(params: ["i"], ranges: [SymRange(.zero, .sym("N"))], schedule: .sequential,
                                       body: [store(.sym("i"))], loc: loc))], written: false)
        #expect(throws: Verifier.Failure.self) { try Verifier.verify(p) }
    }

    @Test func rejectsRankMismatchAndBreakOutsideLoop() {
        let bad = Node.tasklet(Tasklet(output: .point("A", []), value: .literal(.float(1), .float64), loc: loc))
        #expect(throws: Verifier.Failure.self) { try Verifier.verify(program([bad])) }
        #expect(throws: Verifier.Failure.self) { try Verifier.verify(program([.breakLoop(loc)])) }
    }
}
