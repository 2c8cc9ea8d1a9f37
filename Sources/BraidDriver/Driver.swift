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
        let (module, remarks) = try lowerExplained(file: file, options: options, log: log)
        var result = try emit(module, file: file, options: options)
        result.remarks = remarks
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
            return BuildResult(text: nil, modulePath: out, cacheHit: result.cacheHit, sideFiles: sideFiles)
        }
    }
}
