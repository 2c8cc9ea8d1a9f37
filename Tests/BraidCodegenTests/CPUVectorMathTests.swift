import Foundation
import Testing
import BraidIR
import BraidToolchain
@testable import BraidCodegen

private let N = SymExpr.sym("N")
private let here = SourceLocation(file: "vmath.py", line: 3, column: 5)

/// `y[i] = x[i] ** 3; z[i] = tanh(x[i]); w[i] = arctan2(x[i], y[i])` over `0:N`, in `dtype`,
/// as `ScheduleMaps` leaves an elementwise map.
private func elementwise(_ dtype: DType) -> Program {
    let i = SymExpr.sym("i")
    func load(_ name: String) -> ScalarExpr { .load(.point(name, [.sym(i)]), dtype) }
    func store(_ name: String, _ value: ScalarExpr) -> Node {
        .tasklet(Tasklet(output: .point(name, [.sym(i)]), value: value, loc: here))
    }
    let body: [Node] = [
        store("y", .call(.power, [load("x"), .literal(.float(3), dtype)], dtype)),
        store("z", .call(.tanh, [load("x")], dtype)),
        store("w", .call(.arctan2, [load("x"), load("y")], dtype)),
    ]
    let name = "vmath_\(dtype)"
    return Program(
        name: name, params: ["x", "y", "z", "w"], defaults: [:], symbols: ["N"],
        containers: ["x", "y", "z", "w"].enumerated().map { k, c in
            Container(name: c, dtype: dtype, shape: [N], role: .argument(index: k), storage: .hostHeap, isWritten: k > 0)
        },
        results: [], shapeAssertions: [],
        body: [.map(MapScope(params: ["i"], ranges: [SymRange(.zero, N)], schedule: .cpuParallel, body: body, loc: here))],
        loc: here)
}

private func nativeCode() throws -> String {
    try CPUBackend.nativeCode(IRModule(name: "vmath", sourceFile: "vmath.py",
                                       programs: [elementwise(.float64), elementwise(.float32)]))
}

@Suite struct CPUVectorMathTests {
    /// Every libmvec function is declared SIMD-callable for double and float, with its own
    /// number of arguments, before the first entry point uses it.
    @Test(.enabled(if: !CPUBackend.vectorMath.isEmpty, "glibc's libmvec is not installed"))
    func declarationsPrecedeTheEntryPoints() throws {
        let c = try nativeCode()
        let entry = try #require(c.range(of: "int braid_native_vmath_float64(")).lowerBound
        for (name, arity) in CPUBackend.vectorMathFunctions {
            for (type, suffix) in [("double", ""), ("float", "f")] {
                let arguments = Array(repeating: type, count: arity).joined(separator: ", ")
                let declaration = "#pragma omp declare simd notinbranch\n\(type) \(name)\(suffix)(\(arguments));\n"
                let at = try #require(c.range(of: declaration), "\(name)\(suffix) is not declared SIMD")
                #expect(at.upperBound <= entry)
            }
        }
        #expect(CPUBackend.vectorMathFunctions.contains { $0 == ("pow", 2) })
        #expect(CPUBackend.vectorMathFunctions.contains { $0 == ("tanh", 1) })
        // Only under a glibc recent enough to have all of them, on x86-64.
        #expect(c.contains("#if defined(__x86_64__) && defined(__GLIBC__) && (__GLIBC__ > 2 || __GLIBC_MINOR__ >= 35)"))
    }

    /// The C compiler, with Braid's own flags, turns the elementwise loops into calls of the
    /// vector variants (`_ZGV<isa>N<lanes>v_tanh`, `..vv_pow`, `..vv_atan2f`, ...).
    @Test(.enabled(if: !CPUBackend.vectorMath.isEmpty, "glibc's libmvec is not installed"))
    func loopsCallTheVectorVariants() throws {
        let dir = FileManager.default.temporaryDirectory
            .appendingPathComponent("braid-vmath-test-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let object = dir + "/vmath.o"
        let job = CompileJob(source: "#include <stdio.h>\n" + (try nativeCode()),
                             flags: ["-O3", "-march=native", "-fPIC", "-c"], extraFlags: CPUBackend.compilerFlags,
                             outputPath: object, context: "vector math test")
        _ = try CCompiler(cacheDirectory: dir + "/cache").compile(job)
        let nm = try Subprocess.run("nm", ["-u", object])
        #expect(nm.status == 0, "\(nm.stderr)")
        let symbols = nm.stdout.split(separator: "\n").compactMap { $0.split(separator: " ").last.map(String.init) }
        func vectorized(_ suffix: String) -> Bool {
            symbols.contains { $0.hasPrefix("_ZGV") && $0.hasSuffix(suffix) }
        }
        for f in ["v_tanh", "vv_pow", "vv_atan2", "v_tanhf", "vv_powf", "vv_atan2f"] {
            #expect(vectorized(f), "no vector call ending in \(f): \(symbols.filter { $0.hasPrefix("_ZGV") })")
        }
    }
}
