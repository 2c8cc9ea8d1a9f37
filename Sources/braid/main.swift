import ArgumentParser
import Foundation
import BraidDriver
import BraidIR

/// `braid`: compile annotated Python/NumPy files into importable native modules.
struct Braid: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "braid",
        abstract: "Compile annotated Python/NumPy files into native Python extension modules.",
        discussion: """
        Braid reads a Python file whose functions are annotated in one of three ways:
          - data-centric: @braid.program (or @dace.program) with typed parameters A: braid.float64[N, M];
          - export comments: '#pythran export kernel(float64[:,:], float64[:], int)' above a plain NumPy function;
          - the same signature on the command line: --signature 'kernel(float64[:,:], float64[:], int)'.
        `braid build kernels.py` writes kernels.abi3.so next to the file; `import kernels` then gives the
        compiled functions with the same names and parameters.
        """,
        subcommands: [Build.self, Compare.self, Features.self])
}

struct CommonBuildOptions: ParsableArguments {
    @Option(name: .shortAndLong, help: "Target: cpu (C + OpenMP), mpi (C + MPI), opencl (OpenCL kernels), hls (HLS C++ + C-simulation module).")
    var target: String = "cpu"

    @Option(name: .customLong("signature"), help: "Export signature for an unannotated function, e.g. 'f(float64[:,:], int)'. Repeatable.")
    var signatures: [String] = []

    @Option(name: .customLong("disable-pass"), help: "Switch off a pass by name (to bisect a wrong result). Repeatable.")
    var disabledPasses: [String] = []

    @Flag(name: .customLong("print-after-all"), help: "Print the IR after every pass (to stderr).")
    var printAfterAll = false

    @Flag(name: .customLong("time-passes"), help: "Print the time each pass takes (to stderr).")
    var timePasses = false

    @Flag(name: .customLong("no-cache"), help: "Always run the C compiler.")
    var noCache = false

    func buildOptions() throws -> BuildOptions {
        guard let t = Target(rawValue: target) else {
            throw ValidationError("unknown target '\(target)'; choose one of: \(Target.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        var o = BuildOptions()
        o.target = t
        o.signatures = signatures
        o.pipeline.disabled = Set(disabledPasses)
        o.pipeline.printAfterAll = printAfterAll
        o.pipeline.timePasses = timePasses
        o.useCache = !noCache
        return o
    }
}

struct Build: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Compile a Python file into an extension module (or print its IR or generated code).")

    @Argument(help: "The Python source file.")
    var file: String

    @Option(name: .shortAndLong, help: "Folder for the module (default: next to the source).")
    var output: String?

    @Option(help: "What to produce: module (default), ir (the data-centric IR), c (the generated source).")
    var emit: String = "module"

    @Flag(help: "List, per loop and array statement, what was fused or parallelized, and for what stayed sequential the dependence that kept it so (with its Python line).")
    var explain = false

    @OptionGroup var common: CommonBuildOptions

    func run() throws {
        var o = try common.buildOptions()
        guard let e = EmitKind(rawValue: emit) else {
            throw ValidationError("unknown --emit '\(emit)'; choose one of: module, ir, c")
        }
        o.emit = e
        o.outputDirectory = output
        o.explain = explain
        let r = try Driver.build(file: file, options: o, log: { FileHandle.standardError.write(($0 + "\n").data(using: .utf8)!) })
        if let text = r.text { print(text, terminator: text.hasSuffix("\n") ? "" : "\n") }
        if explain {
            for remark in r.remarks { print(remark) }
        }
        if let path = r.modulePath {
            print("wrote \(path)\(r.cacheHit ? " (cached)" : "")")
            for f in r.sideFiles { print("wrote \(f)") }
        }
    }
}

struct Compare: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Build a file, then run CPython/NumPy and the compiled module on the same inputs, check they agree and print both timings.",
        discussion: "The file needs a '# braid:' header (entry, presets, tolerance) and an initialize(**sizes) function; see corpus/ for examples.")

    @Argument(help: "The Python source file.")
    var file: String

    @Option(help: "Size preset from the file's header (tiny or default).")
    var preset: String = "default"

    @Option(name: .customLong("size"), help: "Override a size, e.g. --size N=1000. Repeatable.")
    var sizes: [String] = []

    @Option(name: .customLong("repeat"), help: "Timed runs of each side (median reported).")
    var repeats: Int = 5

    @OptionGroup var common: CommonBuildOptions

    func run() throws {
        var o = try common.buildOptions()
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("braid-compare-\(getpid())").path
        o.outputDirectory = dir
        let r = try Driver.build(file: file, options: o, log: { FileHandle.standardError.write(($0 + "\n").data(using: .utf8)!) })
        print("built \(r.modulePath ?? "")\(r.cacheHit ? " (cached)" : "")")
        var args = ["-m", "braid.compare", file, "--module-dir", dir, "--preset", preset, "--repeat", String(repeats)]
        for s in sizes { args += ["--size", s] }
        var launcher = [ProcessInfo.processInfo.environment["BRAID_PYTHON"] ?? "python3"] + args
        if o.target == .mpi {
            launcher = ["mpiexec", "-n", ProcessInfo.processInfo.environment["BRAID_MPI_RANKS"] ?? "2"] + launcher
        }
        let status = try Runner.run(launcher)
        try? FileManager.default.removeItem(atPath: dir)
        if status != 0 { throw ExitCode(status) }
    }
}

struct Features: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List the supported NumPy surface (generated from the compiler's registry).")
    func run() throws {
        print(Driver.featureTable(), terminator: "")
    }
}

/// Runs a child process with inherited stdio; returns its exit status.
enum Runner {
    static func run(_ argv: [String]) throws -> Int32 {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = argv
        var env = ProcessInfo.processInfo.environment
        if let tools = Runner.toolsDirectory() {
            env["PYTHONPATH"] = tools + (env["PYTHONPATH"].map { ":" + $0 } ?? "")
        }
        p.environment = env
        try p.run()
        p.waitUntilExit()
        return p.terminationStatus
    }

    /// The repository's tools/ folder (holding the `braid` Python package), found from the executable.
    static func toolsDirectory() -> String? {
        var url = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        for _ in 0..<6 {
            let candidate = url.appendingPathComponent("tools/braid/__init__.py").path
            if FileManager.default.fileExists(atPath: candidate) { return url.appendingPathComponent("tools").path }
            url.deleteLastPathComponent()
        }
        return nil
    }
}

// Exit codes: 0 success, 1 compile errors (file:line:col: error: ...), 2 command-line misuse.
do {
    var command = try Braid.parseAsRoot()
    do {
        try command.run()
    } catch let d as Diagnostic {
        FileHandle.standardError.write((d.description + "\n").data(using: .utf8)!)
        exit(1)
    } catch let e as DriverError {
        FileHandle.standardError.write(("error: \(e)\n").data(using: .utf8)!)
        if case .usage = e { exit(2) }
        exit(1)
    } catch let e as ExitCode {
        exit(e.rawValue)
    } catch let e as ValidationError {
        FileHandle.standardError.write(("error: \(e.message)\n\n" + Braid.helpMessage(for: type(of: command)) + "\n").data(using: .utf8)!)
        exit(2)
    } catch {
        if command is Braid {
            // `braid` alone: no subcommand given.
            FileHandle.standardError.write((Braid.helpMessage() + "\n").data(using: .utf8)!)
            exit(2)
        }
        if Braid.exitCode(for: error) == .success {
            print(Braid.fullMessage(for: error))
            exit(0)
        }
        FileHandle.standardError.write(("error: \(error)\n").data(using: .utf8)!)
        exit(1)
    }
} catch {
    let code = Braid.exitCode(for: error)
    if code == .success {
        print(Braid.fullMessage(for: error))
        exit(0)
    }
    FileHandle.standardError.write((Braid.fullMessage(for: error) + "\n").data(using: .utf8)!)
    exit(2)
}
