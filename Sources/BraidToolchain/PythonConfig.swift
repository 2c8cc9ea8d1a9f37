import Foundation

/// Facts about the user's Python interpreter that building extension modules needs.
///
/// Braid's own embedded interpreter only parses source; generated modules are built for,
/// and run by, the user's interpreter: `python3` on `PATH`, or the one named by the
/// environment variable `BRAID_PYTHON`. Modules use the Limited API, so one build loads in
/// any CPython ≥ 3.11 and is named `<module>.abi3.so` (`extensionSuffix`).
public struct PythonConfig: Sendable, Equatable {
    /// The file-name suffix of every extension module Braid builds.
    public static let extensionSuffix = ".abi3.so"
    /// The oldest CPython the Limited API modules support.
    public static let minimumVersion = (major: 3, minor: 11)

    /// The interpreter command as given (`python3`, or `BRAID_PYTHON`).
    public var interpreter: String
    /// `sys.executable` as the interpreter reports it.
    public var executable: String
    /// `sysconfig.get_paths()["include"]`: where `Python.h` lives.
    public var includeDirectory: String
    /// `sysconfig.get_paths()["platinclude"]` (often the same as `includeDirectory`).
    public var platformIncludeDirectory: String
    /// Version as "major.minor.micro".
    public var version: String
    /// `sys.version_info.major` and `.minor`.
    public var majorVersion: Int
    public var minorVersion: Int
    /// NumPy's version when `import numpy` works in that interpreter, else `nil`.
    public var numpyVersion: String?
    /// The interpreter's own (version-specific) suffix, for information only.
    public var nativeExtensionSuffix: String

    /// Whether `import numpy` works.
    public var hasNumPy: Bool { numpyVersion != nil }

    /// Whether the interpreter can load Limited API (3.11) modules.
    public var supportsLimitedAPI: Bool {
        (majorVersion, minorVersion) >= (PythonConfig.minimumVersion.major, PythonConfig.minimumVersion.minor)
    }

    /// Include directories to pass to the C compiler, without duplicates.
    public var includeDirectories: [String] {
        var out = [includeDirectory]
        if !platformIncludeDirectory.isEmpty && platformIncludeDirectory != includeDirectory {
            out.append(platformIncludeDirectory)
        }
        return out
    }

    /// `-I<dir>` flags for `includeDirectories`.
    public var compilerFlags: [String] { includeDirectories.map { "-I" + $0 } }

    /// The interpreter Braid uses: `BRAID_PYTHON` from `environment` if set and non-empty,
    /// else `python3`.
    public static func defaultInterpreter(environment: [String: String] = ProcessInfo.processInfo.environment)
        -> String {
        if let p = environment["BRAID_PYTHON"], !p.isEmpty { return p }
        return "python3"
    }

    /// The configuration of the default interpreter, probed once per process.
    public static func current() throws -> PythonConfig {
        try probe(interpreter: defaultInterpreter())
    }

    /// The configuration of `interpreter`, probed by running it once (results are cached
    /// per interpreter for the life of the process).
    public static func probe(interpreter: String) throws -> PythonConfig {
        if let cached = cache.value(for: interpreter) { return cached }
        let file = diskCacheFile(interpreter: interpreter)
        if let file, let data = FileManager.default.contents(atPath: file),
           let info = try? JSONDecoder().decode(ProbeOutput.self, from: data) {
            let config = PythonConfig(interpreter: interpreter, probe: info)
            cache.store(config, for: interpreter)
            return config
        }
        let (config, info) = try runProbe(interpreter: interpreter)
        cache.store(config, for: interpreter)
        if let file, let data = try? JSONEncoder().encode(info) {
            try? FileManager.default.createDirectory(atPath: (file as NSString).deletingLastPathComponent,
                                                     withIntermediateDirectories: true)
            FileManager.default.createFile(atPath: file + ".\(getpid())", contents: data)
            _ = rename(file + ".\(getpid())", file)
        }
        return config
    }

    /// Where the probe of `interpreter` is remembered between runs (starting Python costs
    /// a tenth of a second, more than a cached build): keyed by the interpreter file's path,
    /// size and modification time and by what selects an interpreter behind a `python3` shim
    /// (PATH, virtual environment, pyenv version, working directory).
    static func diskCacheFile(interpreter: String) -> String? {
        let env = ProcessInfo.processInfo.environment
        guard let path = Subprocess.findExecutable(interpreter),
              let attrs = try? FileManager.default.attributesOfItem(atPath: (path as NSString).resolvingSymlinksInPath),
              let size = attrs[.size] as? NSNumber, let mtime = attrs[.modificationDate] as? Date else { return nil }
        let key = [path, (path as NSString).resolvingSymlinksInPath, "\(size)", "\(mtime.timeIntervalSince1970)",
                   env["PATH"] ?? "", env["VIRTUAL_ENV"] ?? "", env["PYENV_VERSION"] ?? "",
                   FileManager.default.currentDirectoryPath].joined(separator: "\u{0}")
        return CCompiler.defaultCacheDirectory() + "/python/" + SHA256.hash(key).hex + ".json"
    }

    private static let cache = ProbeCache()

    private static let probeScript = """
        import json, sys, sysconfig
        paths = sysconfig.get_paths()
        info = {
            "executable": sys.executable or "",
            "include": paths.get("include", ""),
            "platinclude": paths.get("platinclude", ""),
            "version": "%d.%d.%d" % sys.version_info[:3],
            "major": sys.version_info[0],
            "minor": sys.version_info[1],
            "ext_suffix": sysconfig.get_config_var("EXT_SUFFIX") or "",
            "numpy": None,
        }
        try:
            import numpy
            info["numpy"] = str(numpy.__version__)
        except Exception:
            pass
        print("BRAID-PROBE " + json.dumps(info))
        """

    fileprivate struct ProbeOutput: Codable {
        var executable: String
        var include: String
        var platinclude: String
        var version: String
        var major: Int
        var minor: Int
        var ext_suffix: String
        var numpy: String?
    }

    private static func runProbe(interpreter: String) throws -> (PythonConfig, ProbeOutput) {
        let result: SubprocessResult
        do {
            result = try Subprocess.run(interpreter, ["-c", probeScript])
        } catch let error as ToolchainError {
            throw ToolchainError.pythonProbeFailed(interpreter: interpreter, reason: error.description)
        }
        guard result.succeeded else {
            let tail = result.stderr.split(separator: "\n").suffix(5).joined(separator: "\n")
            throw ToolchainError.pythonProbeFailed(interpreter: interpreter,
                                                   reason: "exit status \(result.status): \(tail)")
        }
        guard let line = result.stdout.split(separator: "\n").last(where: { $0.hasPrefix("BRAID-PROBE ") }),
              let info = try? JSONDecoder().decode(ProbeOutput.self, from: Data(line.dropFirst(12).utf8)) else {
            throw ToolchainError.pythonProbeFailed(interpreter: interpreter, reason: "unexpected output")
        }
        return (PythonConfig(interpreter: interpreter, probe: info), info)
    }

}

extension PythonConfig {
    fileprivate init(interpreter: String, probe info: ProbeOutput) {
        self.init(interpreter: interpreter, executable: info.executable, includeDirectory: info.include,
                  platformIncludeDirectory: info.platinclude, version: info.version,
                  majorVersion: info.major, minorVersion: info.minor, numpyVersion: info.numpy,
                  nativeExtensionSuffix: info.ext_suffix)
    }
}

/// A lock-protected memo of probe results.
private final class ProbeCache: @unchecked Sendable {
    private let lock = NSLock()
    private var entries: [String: PythonConfig] = [:]

    func value(for key: String) -> PythonConfig? {
        lock.lock()
        defer { lock.unlock() }
        return entries[key]
    }

    func store(_ value: PythonConfig, for key: String) {
        lock.lock()
        defer { lock.unlock() }
        entries[key] = value
    }
}
