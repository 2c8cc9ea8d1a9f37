import Foundation
import Testing
@testable import BraidDriver

/// The repository root, found from this file's path.
let repoRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()

@Suite struct DriverTests {
    @Test func emitsIRAfterThePipeline() throws {
        var o = BuildOptions()
        o.emit = .ir
        let r = try Driver.build(file: repoRoot.appendingPathComponent("corpus/stencils/jacobi_2d.py").path, options: o)
        let ir = try #require(r.text)
        #expect(ir.contains("program jacobi_2d("))
        #expect(ir.contains("map[cpu_parallel]"))
    }

    @Test func emitsReadableCWithOpenMPAndBLAS() throws {
        var o = BuildOptions()
        o.emit = .c
        let gemm = try Driver.build(file: repoRoot.appendingPathComponent("corpus/polybench/gemm.py").path, options: o)
        let c = try #require(gemm.text)
        #expect(c.contains("int braid_native_gemm(int64_t NI, int64_t NJ, int64_t NK"))
        #expect(c.contains("cblas_dgemm(CblasRowMajor"))
        #expect(c.contains("#pragma omp parallel for"))
        #expect(c.contains("// gemm.py:"))
    }

    @Test func disablingAPassByNameKeepsMapsSequential() throws {
        var o = BuildOptions()
        o.emit = .c
        o.pipeline.disabled = ["schedule-maps"]
        let r = try Driver.build(file: repoRoot.appendingPathComponent("corpus/kernels/arc_distance.py").path, options: o)
        let c = try #require(r.text)
        #expect(!c.contains("#pragma omp parallel") && !c.contains("#pragma omp simd"))
        #expect(!c.contains("#pragma omp for"))
    }

    @Test func unknownPassNameIsAUsageError() {
        var o = BuildOptions()
        o.emit = .ir
        o.pipeline.disabled = ["no-such-pass"]
        #expect(throws: DriverError.self) {
            try Driver.build(file: repoRoot.appendingPathComponent("corpus/kernels/arc_distance.py").path, options: o)
        }
    }

    @Test func outputIsDeterministic() throws {
        var o = BuildOptions()
        o.emit = .c
        let f = repoRoot.appendingPathComponent("corpus/stencils/hdiff.py").path
        #expect(try Driver.build(file: f, options: o).text == Driver.build(file: f, options: o).text)
    }

    @Test func featureTableComesFromTheRegistry() {
        let t = Driver.featureTable()
        #expect(t.contains("`np.arctan2`"))
        #expect(t.contains("`np.zeros_like`"))
    }
}
