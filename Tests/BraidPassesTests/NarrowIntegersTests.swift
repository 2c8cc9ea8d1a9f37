import Testing
import BraidIR
@testable import BraidPasses

/// `narrow-integers`: map-private integer scalars whose values provably fit int16 are held in
/// int16 (loads cast back); anything with an unknown or wider range is left alone.
@Suite struct NarrowIntegersTests {
    func narrowed(_ source: String) throws -> (changed: Bool, ir: String, remarks: [Remark]) {
        var p = try program(source)
        for pass in [MapFusion(), ScheduleMaps(schedule: .cpuParallel)] as [any Pass] { _ = try pass.run(&p) }
        return try applyExplained(NarrowIntegers(), &p)
    }

    @Test func sumOfBytesIsHeldInInt16() throws {
        let (changed, ir, remarks) = try narrowed("""
        @br.program
        def f(b: br.uint8[N], out: br.uint8[N]):
            n = b[:-2].astype(np.int32) + b[1:-1] + b[2:]
            out[1:-1] = (n == 2).astype(np.uint8)
        """)
        #expect(changed)
        #expect(ir.contains("container n: int16 transient"))
        // Reads of n see its old type.
        #expect(ir.contains("int32(n)"))
        #expect(remarks.contains { $0.message.contains("'n' is held in int16: its values lie in [0, 765]") })
    }

    @Test func sumsThatMayNotFitAreLeftAlone() throws {
        // int32 inputs have no known small range; a product of two bytes reaches 65025. (The
        // byte widened to int32 on its own still fits.)
        let (_, ir, _) = try narrowed("""
        @br.program
        def f(a: br.int32[N], b: br.uint8[N], out: br.int32[N], out2: br.int32[N]):
            n = a[:-1] + a[1:]
            out[1:] = n * 2
            m = b[:-1].astype(np.int32) * b[1:]
            out2[1:] = m + 1
        """)
        #expect(ir.contains("container n: int32 transient"))
        #expect(ir.contains("container m: int32 transient"))
        #expect(ir.contains("container cast: int16 transient"))
    }
}
