import Foundation
import BraidIR
import BraidFrontend
import BraidPasses
import BraidCodegen
import BraidToolchain

/// What `braid build` produces.
public enum EmitKind: String, CaseIterable, Sendable {
    /// The importable extension module (default).
    case module
    /// The data-centric IR after the target's passes.
    case ir
    /// The generated source (C, OpenCL host+kernels, or HLS C++).
    case c
}

public struct BuildOptions: Sendable {
    public var target: Target = .cpu
    public var emit: EmitKind = .module
    /// Output folder for the module; `nil` means next to the source.
    public var outputDirectory: String?
    public var signatures: [String] = []
    public var pipeline = Pipeline.Options()
    public var useCache = true
    /// The passes' remarks are wanted (`--explain`): the build runs in full.
    public var explain = false
    public init() {}
}

public struct BuildResult: Sendable {
    /// Printed IR or source, for `--emit ir|c`.
    public var text: String?
    /// The module written, for `--emit module`.
    public var modulePath: String?
    public var cacheHit: Bool
    /// Extra files written (e.g. the HLS kernel source).
    public var sideFiles: [String]
    /// What the passes did, and why they left loops sequential (`--explain`), in source order.
    public var remarks: [Remark] = []
    /// The native cache key of the module built.
    public var nativeKey: String?
}

/// Remembers which native library a Python file built to, keyed by everything the build
/// depends on (the file's text and path, the options, this compiler's executable, the
/// interpreter and the environment variables the build reads), so rebuilding an unchanged
/// file skips the frontend and passes too (starting the embedded interpreter is most of a
/// cached build's time). Only plain module builds use it.
struct SourceCache {
    let indexFile: String
    let output: String

    init?(file: String, options: BuildOptions) {
        guard options.emit == .module, options.useCache, !options.explain, options.target != .hls,
              !options.pipeline.printAfterAll, !options.pipeline.timePasses,
              let source = FileManager.default.contents(atPath: file),
              let exe = Bundle.main.executablePath,
              let attrs = try? FileManager.default.attributesOfItem(atPath: exe),
              let size = attrs[.size] as? NSNumber, let mtime = attrs[.modificationDate] as? Date,
              let python = try? PythonConfig.current() else { return nil }
        let env = ProcessInfo.processInfo.environment
        var h = SHA256()
        let fields = [URL(fileURLWithPath: file).standardizedFileURL.path, exe, "\(size)", "\(mtime.timeIntervalSince1970)",
                      options.target.rawValue, options.signatures.joined(separator: "\u{1}"),
                      options.pipeline.disabled.sorted().joined(separator: ","), python.executable, python.version,
                      python.includeDirectory, env["CC"] ?? "", env["BRAID_CC"] ?? "", env["PATH"] ?? ""]
        for f in fields { h.update(Array(f.utf8) + [0]) }
        h.update(Array(source))
        indexFile = CCompiler.defaultCacheDirectory() + "/source/" + h.finalize().hex
        let dir = options.outputDirectory ?? URL(fileURLWithPath: file).deletingLastPathComponent().path
        output = URL(fileURLWithPath: dir).appendingPathComponent(Driver.moduleName(for: file) + PythonConfig.extensionSuffix).path
    }

    /// The module installed from the cache, or nil.
    func lookUp() -> BuildResult? {
        guard let data = FileManager.default.contents(atPath: indexFile),
              let key = String(data: data, encoding: .utf8), key.count == 64,
              (try? FileManager.default.createDirectory(atPath: (output as NSString).deletingLastPathComponent,
                                                        withIntermediateDirectories: true)) != nil,
              CCompiler().installCached(key: key, to: output) else { return nil }
        return BuildResult(text: nil, modulePath: output, cacheHit: true, sideFiles: [], nativeKey: key)
    }

    func remember(nativeKey: String) {
        let fm = FileManager.default
        try? fm.createDirectory(atPath: (indexFile as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        let tmp = indexFile + ".\(getpid())"
        if fm.createFile(atPath: tmp, contents: Data(nativeKey.utf8)) { _ = rename(tmp, indexFile) }
    }
}

/// Orchestrates frontend, passes, backend and toolchain.
public enum Driver {
    public static func moduleName(for file: String) -> String {
        URL(fileURLWithPath: file).deletingPathExtension().lastPathComponent
    }

    /// Frontend and the target's passes.
    public static func lower(file: String, options: BuildOptions, log: (String) -> Void) throws -> IRModule {
        try lowerExplained(file: file, options: options, log: log).module
    }

    /// Frontend and the target's passes, with the passes' remarks.
    public static func lowerExplained(file: String, options: BuildOptions, log: (String) -> Void) throws -> (module: IRModule, remarks: [Remark]) {
        guard let data = FileManager.default.contents(atPath: file), let source = String(data: data, encoding: .utf8) else {
            throw DriverError.io("cannot read '\(file)'")
        }
        let name = moduleName(for: file)
        guard name.range(of: "^[A-Za-z_][A-Za-z0-9_]*$", options: .regularExpression) != nil else {
            throw DriverError.usage("'\(name)' is not a valid Python module name; rename the file")
        }
        var module = try Frontend.lower(source: source, file: file, moduleName: name, signatures: options.signatures)
        let remarks = try Pipeline.run(&module, target: options.target, options: options.pipeline, log: log)
        return (module, remarks)
    }

    /// Markdown table of the supported NumPy surface, generated from the frontend's registry.
    public static func featureTable() -> String { Frontend.featureTable() }

    public static func build(file: String, options: BuildOptions, log: (String) -> Void = { _ in }) throws -> BuildResult {
        do {
            return try buildUnchecked(file: file, options: options, log: log)
        } catch let e as BackendError {
            throw e.diagnostic
        }
    }

    static func buildUnchecked(file: String, options: BuildOptions, log: (String) -> Void) throws -> BuildResult {
        let quick = SourceCache(file: file, options: options)
        if let hit = quick?.lookUp() { return hit }
        let (module, remarks) = try lowerExplained(file: file, options: options, log: log)
        var result = try emit(module, file: file, options: options)
        result.remarks = remarks
        if let quick, let key = result.nativeKey { quick.remember(nativeKey: key) }
        return result
    }

    static func emit(_ module: IRModule, file: String, options: BuildOptions) throws -> BuildResult {
        let backend = Backends.backend(for: options.target)
        switch options.emit {
        case .ir:
            return BuildResult(text: IRPrinter.print(module), modulePath: nil, cacheHit: false, sideFiles: [])
        case .c:
            return BuildResult(text: try backend.source(module), modulePath: nil, cacheHit: false, sideFiles: [])
        case .module:
            let dir = options.outputDirectory ?? URL(fileURLWithPath: file).deletingLastPathComponent().path
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            let out = URL(fileURLWithPath: dir).appendingPathComponent(module.name + PythonConfig.extensionSuffix).path
            let python = try PythonConfig.current()
            var sideFiles: [String] = []
            for (suffix, text) in try backend.sideFiles(module) {
                let path = URL(fileURLWithPath: dir).appendingPathComponent(module.name + suffix).path
                try text.write(toFile: path, atomically: true, encoding: .utf8)
                sideFiles.append(path)
            }
            let job = CompileJob(
                source: try backend.translationUnit(module), language: backend.language,
                compiler: backend.compiler, flags: CompileJob.defaultFlags,
                extraFlags: python.compilerFlags + backend.compilerFlags, linkFlags: backend.linkFlags,
                outputPath: out,
                context: "while compiling Python function(s) \(module.programs.map { "'\($0.name)'" }.joined(separator: ", ")) of \(file) for target \(options.target.rawValue)")
            let result = try CCompiler(useCache: options.useCache).compile(job)
            return BuildResult(text: nil, modulePath: out, cacheHit: result.cacheHit, sideFiles: sideFiles,
                               nativeKey: result.cacheKey)
        }
    }
}
