import Foundation
import Testing
import BraidIR
@testable import BraidCodegen
import BraidToolchain

// MARK: - Small programs built by hand

private let N = SymExpr.sym("N")
private let M = SymExpr.sym("M")
private func loc(_ line: Int) -> BraidIR.SourceLocation { BraidIR.SourceLocation(file: "kernels.py", line: line, column: 5) }
private func at(_ name: String, _ indices: String...) -> Memlet {
    .point(name, indices.map { .sym(.sym($0)) })
}
private func load(_ name: String, _ indices: String..., type: DType = .float64) -> ScalarExpr {
    .load(.point(name, indices.map { .sym(.sym($0)) }), type)
}

/// `tmp = np.exp(x); return a * tmp` — elementwise, with a transient array.
private func scaledExp() -> Program {
    Program(
        name: "scaled_exp", params: ["x", "a"], defaults: [:], symbols: ["N"],
        containers: [
            Container(name: "x", dtype: .float64, shape: [N], role: .argument(index: 0), storage: .hostHeap),
            Container(name: "a", dtype: .float64, shape: [], role: .argument(index: 1), storage: .register),
            Container(name: "tmp", dtype: .float64, shape: [N], role: .transient, storage: .hostHeap, isWritten: true),
            Container(name: "_return0", dtype: .float64, shape: [N], role: .result(index: 0), storage: .hostHeap,
                      isWritten: true),
        ],
        results: ["_return0"], shapeAssertions: [],
        body: [
            .map(MapScope(params: ["i"], ranges: [SymRange(.zero, N)], schedule: .pipelined, body: [
                .tasklet(Tasklet(output: at("tmp", "i"), value: .call(.exp, [load("x", "i")], .float64), loc: loc(3))),
            ], loc: loc(3))),
            .map(MapScope(params: ["j"], ranges: [SymRange(.zero, N)], schedule: .pipelined, body: [
                .tasklet(Tasklet(output: at("_return0", "j"),
                                 value: .binary(.mul, .load(.point("a", []), .float64), load("tmp", "j"), .float64),
                                 loc: loc(4))),
            ], loc: loc(4))),
            .returnProgram(loc(4)),
        ],
        loc: loc(2))
}

/// `return A @ v` after matmul expansion: a map over rows with a sequential reduction loop.
private func matvec() -> Program {
    Program(
        name: "matvec", params: ["A", "v"], defaults: [:], symbols: ["N", "M"],
        containers: [
            Container(name: "A", dtype: .float64, shape: [N, M], role: .argument(index: 0), storage: .hostHeap),
            Container(name: "v", dtype: .float64, shape: [M], role: .argument(index: 1), storage: .hostHeap),
            Container(name: "acc", dtype: .float64, shape: [], role: .transient, storage: .register, isWritten: true),
            Container(name: "_return0", dtype: .float64, shape: [N], role: .result(index: 0), storage: .hostHeap,
                      isWritten: true),
        ],
        results: ["_return0"], shapeAssertions: [],
        body: [
            .map(MapScope(params: ["i"], ranges: [SymRange(.zero, N)], schedule: .pipelined, body: [
                .tasklet(Tasklet(output: at("acc"), value: .literal(.float(0), .float64), loc: loc(8))),
                .forLoop(ForLoop(variable: "k", range: SymRange(.zero, M), body: [
                    .tasklet(Tasklet(output: at("acc"), wcr: .add,
                                     value: .binary(.mul, load("A", "i", "k"), load("v", "k"), .float64), loc: loc(8))),
                ], loc: loc(8))),
                .tasklet(Tasklet(output: at("_return0", "i"), value: load("acc"), loc: loc(8))),
            ], locals: ["acc"], loc: loc(8))),
        ],
        loc: loc(7))
}

/// `A[:, :] *= 0.5; return np.sum(A)` — a 2-D map, an in-place array and a scalar result.
private func halveAndSum() -> Program {
    Program(
        name: "halve_and_sum", params: ["A"], defaults: [:], symbols: ["N", "M"],
        containers: [
            Container(name: "A", dtype: .float32, shape: [N, M], role: .argument(index: 0), storage: .hostHeap,
                      isWritten: true),
            Container(name: "_return0", dtype: .float32, shape: [], role: .result(index: 0), storage: .register,
                      isWritten: true),
        ],
        results: ["_return0"], shapeAssertions: [],
        body: [
            .map(MapScope(params: ["i", "j"], ranges: [SymRange(.zero, N), SymRange(.zero, M)], schedule: .pipelined,
                          body: [
                              .tasklet(Tasklet(output: at("A", "i", "j"),
                                               value: .binary(.mul, load("A", "i", "j", type: .float32),
                                                              .literal(.float(0.5), .float32), .float32),
                                               loc: loc(12))),
                          ], loc: loc(12))),
            .tasklet(Tasklet(output: at("_return0"), value: .literal(.float(0), .float32), loc: loc(13))),
            .map(MapScope(params: ["i2", "j2"], ranges: [SymRange(.zero, N), SymRange(.zero, M)], schedule: .pipelined,
                          body: [
                              .tasklet(Tasklet(output: at("_return0"), wcr: .add,
                                               value: load("A", "i2", "j2", type: .float32), loc: loc(13))),
                          ], reductions: ["_return0": .add], loc: loc(13))),
        ],
        loc: loc(11))
}

/// `return z * z` on complex numbers: not expressible in HLS C++ here.
private func complexSquare() -> Program {
    Program(
        name: "csquare", params: ["z"], defaults: [:], symbols: ["N"],
        containers: [
            Container(name: "z", dtype: .complex128, shape: [N], role: .argument(index: 0), storage: .hostHeap),
            Container(name: "_return0", dtype: .complex128, shape: [N], role: .result(index: 0), storage: .hostHeap,
                      isWritten: true),
        ],
        results: ["_return0"], shapeAssertions: [],
        body: [
            .map(MapScope(params: ["i"], ranges: [SymRange(.zero, N)], schedule: .pipelined, body: [
                .tasklet(Tasklet(output: at("_return0", "i"),
                                 value: .binary(.mul, load("z", "i", type: .complex128), load("z", "i", type: .complex128),
                                                .complex128),
                                 loc: loc(17))),
            ], loc: loc(17))),
        ],
        loc: loc(16))
}

private func module(_ programs: Program..., name: String = "kernels") -> IRModule {
    IRModule(name: name, sourceFile: "kernels.py", programs: programs)
}

private func lines(_ text: String) -> [String] {
    text.split(separator: "\n", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
}

private func count(_ needle: String, in text: String) -> Int {
    text.components(separatedBy: needle).count - 1
}

private func temporaryDirectory(_ label: String) throws -> String {
    let path = FileManager.default.temporaryDirectory
        .appendingPathComponent("braid-hls-test-\(label)-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

// MARK: - Generated text

@Suite struct HLSBackendTextTests {
    @Test func topFunctionIsExternCWithPointerArraysAndScalarRegisters() throws {
        let text = try HLSBackend.source(module(scaledExp()))
        #expect(text.contains("#include \"ap_int.h\""))
        #expect(text.contains("#include <cmath>"))
        #expect(text.contains("#include <cstdint>"))
        #expect(text.contains(
            "extern \"C\" int scaled_exp_top(int64_t N, const double *x, double a, double *_return0, double *tmp)"))
        #expect(!text.contains("complex"))
        #expect(!text.contains("restrict"))
        #expect(!text.contains("braid_alloc"), "the top function allocates nothing")
    }

    @Test func everyArrayIsAnAXIMasterOnItsOwnBundle() throws {
        let text = try HLSBackend.source(module(scaledExp()))
        #expect(text.contains("#pragma HLS INTERFACE m_axi port=x offset=slave bundle=gmem0 depth=BRAID_HLS_DEPTH"))
        #expect(text.contains("#pragma HLS INTERFACE m_axi port=_return0 offset=slave bundle=gmem1 depth=BRAID_HLS_DEPTH"))
        // The transient is a scratch buffer the caller allocates.
        #expect(text.contains("#pragma HLS INTERFACE m_axi port=tmp offset=slave bundle=gmem2 depth=BRAID_HLS_DEPTH"))
        #expect(count("INTERFACE m_axi", in: text) == 3)
        #expect(!text.contains("m_axi port=a "), "scalars are registers, not memory ports")
    }

    @Test func scalarsSymbolsAndReturnAreAXILiteRegisters() throws {
        let text = try HLSBackend.source(module(scaledExp()))
        for port in ["N", "a", "x", "_return0", "tmp", "return"] {
            #expect(text.contains("#pragma HLS INTERFACE s_axilite port=\(port) bundle=control"), "port \(port)")
        }
        #expect(count("s_axilite port=return", in: text) == 1)
    }

    @Test func constantShapesGiveAConstantDepth() throws {
        var p = scaledExp()
        p.symbols = []
        p.containers = p.containers.map { var c = $0; if !c.isScalar { c.shape = [.int(64)] }; return c }
        p.body = p.body.map { n in
            guard case .map(var m) = n else { return n }
            m.ranges = [SymRange(.zero, .int(64))]
            return .map(m)
        }
        let text = try HLSBackend.source(module(p))
        #expect(text.contains("m_axi port=x offset=slave bundle=gmem0 depth=64"))
        #expect(!text.contains("port=N"))
    }

    @Test func innermostLoopsArePipelined() throws {
        let text = try HLSBackend.source(module(matvec()))
        let ls = lines(text)
        let pipelines = ls.indices.filter { ls[$0] == "#pragma HLS PIPELINE II=1" }
        #expect(pipelines.count == 1, "only the reduction loop is innermost:\n\(text)")
        guard let p = pipelines.first else { return }
        #expect(ls[p - 1].hasPrefix("for (int64_t k = 0; k < M; ++k) {"), "the pragma opens the innermost loop body")
        let rowLoop = try #require(ls.firstIndex { $0.hasPrefix("for (int64_t i = 0; i < N; ++i) {") })
        #expect(rowLoop < p - 1)
        #expect(text.contains("extern \"C\" int matvec_top(int64_t N, int64_t M, const double *A, const double *v, double *_return0)"))
    }

    @Test func twoDimensionalMapPipelinesItsInnerLoopAndScalarResultIsAPointer() throws {
        let text = try HLSBackend.source(module(halveAndSum()))
        let ls = lines(text)
        #expect(text.contains("extern \"C\" int halve_and_sum_top(int64_t N, int64_t M, float *A, float *_return0)"))
        #expect(text.contains("#pragma HLS INTERFACE m_axi port=A offset=slave bundle=gmem0"))
        #expect(!text.contains("m_axi port=_return0"), "a scalar result is a register")
        #expect(text.contains("#pragma HLS INTERFACE s_axilite port=_return0 bundle=control"))
        #expect(text.contains("(*_return0) = "))
        for v in ["j", "j2"] {
            let loop = try #require(ls.firstIndex { $0.hasPrefix("for (int64_t \(v) = 0; \(v) < M; ++\(v)) {") })
            #expect(ls[loop + 1] == "#pragma HLS PIPELINE II=1")
        }
        #expect(count("PIPELINE", in: text) == 2)
        #expect(!text.contains("#pragma omp"))
    }

    @Test func earlyReturnIsAReturnNotAGoto() throws {
        let text = try HLSBackend.source(module(scaledExp()))
        #expect(!text.contains("goto"))
        #expect(!text.contains("braid_exit"))
    }

    @Test func mathIsOverloadedStdMath() throws {
        let text = try HLSBackend.source(module(scaledExp()))
        #expect(text.contains("tmp[i] = exp(x[i]);"))
        #expect(text.contains("using std::exp;"))
        #expect(!text.contains("expf"))
    }

    @Test func sideFileIsTheHLSSource() throws {
        let m = module(scaledExp(), matvec())
        let files = try HLSBackend.sideFiles(m)
        #expect(files.count == 1)
        #expect(files.first?.0 == ".hls.cpp")
        #expect(files.first?.1 == (try HLSBackend.source(m)))
        #expect(try HLSBackend.source(m) == (try HLSBackend.source(m)), "deterministic")
        #expect(HLSBackend.language == "cxx")
        #expect(SourceLanguage(rawValue: HLSBackend.language) == .cxx)
    }

    @Test func nativeEntryAllocatesScratchAndCallsTheTop() throws {
        let text = CPrinter.print(try HLSBackend.nativeEntry(scaledExp()))
        #expect(text.contains("int braid_native_scaled_exp(int64_t N, double *__restrict x, double a, double *__restrict _return0)"))
        #expect(text.contains("double *tmp = (double *)braid_alloc("))
        #expect(text.contains("scaled_exp_top(N, x, a, _return0, tmp);"))
        #expect(text.contains("free(tmp);"))
        #expect(text.contains("return 1;"), "out of memory is reported as status 1")
    }

    @Test func onChipTransientsOfConstantSizeAreLocalArrays() throws {
        var p = scaledExp()
        p.containers = p.containers.map { c in
            guard c.name == "tmp" else { return c }
            var t = c
            t.storage = .fpgaOnChip
            t.shape = [.int(128)]
            return t
        }
        let text = try HLSBackend.source(module(p))
        #expect(text.contains("double tmp[128];"))
        #expect(!text.contains("port=tmp"))
        #expect(!CPrinter.print(try HLSBackend.nativeEntry(p)).contains("braid_alloc"))
    }

    @Test func complexNumbersAreRejectedAtThePythonLine() {
        do {
            _ = try HLSBackend.source(module(complexSquare()))
            Issue.record("a complex program was accepted")
        } catch let e as BackendError {
            #expect(e.diagnostic.loc.line == 17)
            #expect(e.diagnostic.loc.file == "kernels.py")
            #expect(e.description.contains("complex"))
            #expect(e.description.contains("hls"))
        } catch {
            Issue.record("unexpected error \(error)")
        }
        #expect(throws: BackendError.self) { try HLSBackend.translationUnit(module(complexSquare())) }
        #expect(throws: BackendError.self) { try HLSBackend.sideFiles(module(complexSquare())) }
    }

    @Test func complexParameterIsRejectedEvenWhenOnlyCopied() {
        var p = complexSquare()
        p.body = []
        #expect(throws: BackendError.self) { try HLSBackend.source(module(p)) }
    }
}

// MARK: - ap_types lookup

@Suite struct HLSAPTypesTests {
    @Test func environmentVariableWins() throws {
        let dir = try temporaryDirectory("ap")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try "// stub\n".write(toFile: dir + "/ap_int.h", atomically: true, encoding: .utf8)
        #expect(try HLSBackend.apTypesDirectory(environment: ["BRAID_AP_TYPES": dir], executable: "/nonexistent/bin/braid") == dir)
    }

    @Test func foundNextToTheExecutablesCheckout() throws {
        let dir = try temporaryDirectory("repo")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try FileManager.default.createDirectory(atPath: dir + "/third_party/ap_types", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: dir + "/.build/debug", withIntermediateDirectories: true)
        try "// stub\n".write(toFile: dir + "/third_party/ap_types/ap_int.h", atomically: true, encoding: .utf8)
        let found = try HLSBackend.apTypesDirectory(environment: [:], executable: dir + "/.build/debug/braid")
        #expect(URL(fileURLWithPath: found).resolvingSymlinksInPath().path
                == URL(fileURLWithPath: dir + "/third_party/ap_types").resolvingSymlinksInPath().path)
    }

    @Test func missingHeadersTellTheUserToRunSetup() throws {
        let dir = try temporaryDirectory("empty")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        for env in [["BRAID_AP_TYPES": dir], [:]] {
            do {
                _ = try HLSBackend.apTypesDirectory(environment: env, executable: dir + "/bin/braid")
                Issue.record("found ap_types in an empty folder")
            } catch let e as HLSBackend.SetupError {
                #expect(e.description.contains("tools/setup.sh"))
                #expect(e.description.contains("BRAID_AP_TYPES"))
            }
        }
    }
}

// MARK: - C-simulation: the generated HLS C++ really compiles and runs

@Suite struct HLSCSimulationTests {
    /// A C++ test bench around the HLS source, as a user would write for Vitis csim.
    @Test func hlsSourceCompilesAgainstAPTypesAndComputes() throws {
        let apTypes = try HLSBackend.apTypesDirectory()
        let dir = try temporaryDirectory("csim")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let bench = """

        #include <cstdio>
        static_assert(ap_int<12>::width == 12, "the ap_types headers are really in use");
        int main()
        {
            const int64_t n = 3, m = 4;
            double A[n * m], v[m], y[n];
            for (int64_t i = 0; i < n * m; ++i) A[i] = (double)i;
            for (int64_t k = 0; k < m; ++k) v[k] = 1.0 + (double)k;
            matvec_top(n, m, A, v, y);
            double x[3] = {0.0, 1.0, -1.0}, out[3], tmp[3];
            scaled_exp_top(3, x, 2.0, out, tmp);
            float B[n * m];
            for (int64_t i = 0; i < n * m; ++i) B[i] = 1.0f;
            float total = 0;
            halve_and_sum_top(n, m, B, &total);
            std::printf("%.6f %.6f %.6f|%.6f %.6f %.6f|%.3f\\n", y[0], y[1], y[2], out[0], out[1], out[2], total);
            return 0;
        }

        """
        let source = try HLSBackend.source(module(matvec(), scaledExp(), halveAndSum())) + bench
        let exe = dir + "/csim"
        let job = CompileJob(source: source, language: .cxx, flags: ["-O2"],
                             extraFlags: ["-std=c++17", "-Wall", "-Wextra", "-Werror", "-Wno-unknown-pragmas",
                                          "-isystem", apTypes],
                             outputPath: exe, context: "HLS C-simulation test bench")
        _ = try CCompiler(cacheDirectory: dir + "/cache").compile(job)
        let run = try Subprocess.run(exe, [])
        #expect(run.status == 0, "\(run.stdout)\n\(run.stderr)")
        // A = [[0,1,2,3],[4,5,6,7],[8,9,10,11]], v = [1,2,3,4]; 2*exp([0,1,-1]); sum of twelve halves.
        #expect(run.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
                == "20.000000 60.000000 100.000000|2.000000 5.436564 0.735759|6.000")
    }

    /// The importable module built from the same source, called from the user's python3.
    @Test func moduleBuiltFromTheHLSSourceMatchesNumPy() throws {
        let python = try PythonConfig.current()
        try #require(python.hasNumPy, "the user's interpreter must have NumPy")
        let dir = try temporaryDirectory("module")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let name = "braid_hls_mod"
        let m = module(scaledExp(), matvec(), halveAndSum(), name: name)
        let tu = try HLSBackend.translationUnit(m)
        #expect(tu.contains(try HLSBackend.source(m)), "the module is built from the HLS source itself")
        let job = CompileJob(source: tu, language: .cxx, flags: ["-fPIC", "-shared"],
                             extraFlags: HLSBackend.compilerFlags + ["-Wall", "-Wextra", "-Werror"] + python.compilerFlags,
                             linkFlags: HLSBackend.linkFlags,
                             outputPath: "\(dir)/\(name)\(PythonConfig.extensionSuffix)", context: "HLS module test")
        _ = try CCompiler(cacheDirectory: dir + "/cache").compile(job)
        let script = """
        import sys
        sys.path.insert(0, sys.argv[1])
        import numpy as np
        import braid_hls_mod as m
        rng = np.random.default_rng(1)
        x = rng.random(17)
        assert np.allclose(m.scaled_exp(x, 1.5), 1.5 * np.exp(x))
        A = rng.random((5, 7)); v = rng.random(7)
        assert np.allclose(m.matvec(A, v), A @ v)
        B = rng.random((4, 3)).astype(np.float32); expected = B * np.float32(0.5)
        s = m.halve_and_sum(B)
        assert np.allclose(B, expected) and np.isclose(s, expected.sum(), rtol=1e-5)
        print("HLS-MODULE-OK")

        """
        try script.write(toFile: dir + "/check.py", atomically: true, encoding: .utf8)
        let run = try Subprocess.run(python.interpreter, [dir + "/check.py", dir])
        #expect(run.status == 0, "\(run.stdout)\n\(run.stderr)")
        #expect(run.stdout.contains("HLS-MODULE-OK"))
    }
}
