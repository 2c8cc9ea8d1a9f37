import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The language of a source file handed to the compiler.
public enum SourceLanguage: String, Sendable, CaseIterable {
    /// C (OpenMP, MPI and OpenCL host code, extension wrappers).
    case c
    /// C++ (HLS C-simulation).
    case cxx

    /// The file extension the compiler uses to recognise the language.
    public var fileExtension: String { self == .c ? "c" : "cpp" }
}

/// One compilation of a source string into a shared library.
public struct CompileJob: Sendable {
    /// Flags every job gets unless it replaces `flags`.
    public static let defaultFlags = ["-O3", "-march=native", "-fPIC", "-shared"]

    /// The full source text.
    public var source: String
    public var language: SourceLanguage
    /// The compiler command: a program, optionally followed by arguments (`ccache gcc`).
    public var compiler: String
    /// Base flags, before the source file (default `defaultFlags`).
    public var flags: [String]
    /// Job-specific flags before the source file: `-fopenmp`, `-I<dir>`, `-D...`.
    public var extraFlags: [String]
    /// Flags after the source file, where the linker wants libraries: `-lopenblas`, `-lOpenCL`.
    public var linkFlags: [String]
    /// Where the finished library goes (replaced atomically).
    public var outputPath: String
    /// What is being built, for error messages, e.g.
    /// "while compiling Python function 'gemm' (gemm.py)".
    public var context: String

    /// A job; `compiler` defaults to `defaultCompiler(for: language)`.
    public init(source: String, language: SourceLanguage = .c, compiler: String? = nil,
                flags: [String] = CompileJob.defaultFlags, extraFlags: [String] = [], linkFlags: [String] = [],
                outputPath: String, context: String = "") {
        self.source = source
        self.language = language
        self.compiler = compiler ?? CompileJob.defaultCompiler(for: language)
        self.flags = flags
        self.extraFlags = extraFlags
        self.linkFlags = linkFlags
        self.outputPath = outputPath
        self.context = context
    }

    /// `CC` (for C) or `CXX` (for C++) from `environment` when set, else `gcc` / `g++`.
    /// MPI jobs pass `mpicc` explicitly.
    public static func defaultCompiler(for language: SourceLanguage,
                                       environment: [String: String] = ProcessInfo.processInfo.environment)
        -> String {
        let variable = language == .c ? "CC" : "CXX"
        if let value = environment[variable], !value.trimmingCharacters(in: .whitespaces).isEmpty {
            return value
        }
        return language == .c ? "gcc" : "g++"
    }

    /// The compiler command split into program and leading arguments.
    var compilerWords: [String] {
        let words = compiler.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
        return words.isEmpty ? [language == .c ? "gcc" : "g++"] : words
    }
}

/// The outcome of a successful `CCompiler.compile`.
public struct CompileResult: Sendable {
    /// The library the job asked for.
    public var outputPath: String
    /// True when the library came from the cache and the compiler did not run.
    public var cacheHit: Bool
    /// The content hash (SHA-256, hex) that names the cached artifact.
    public var cacheKey: String
    /// The cached library (`<cache>/native/<key>.so`).
    public var cachedLibraryPath: String
    /// The source, kept next to the cached library for users to read.
    public var cachedSourcePath: String
    /// The command line that builds (or built) the library.
    public var commandLine: String
    /// The compiler's diagnostics (warnings) when it ran; empty on a cache hit.
    public var diagnostics: String
}

/// A compilation that failed, with what a user needs to see why.
public struct CompileError: Error, CustomStringConvertible, Sendable {
    /// How many lines of compiler output `description` shows.
    public static let maxOutputLines = 40

    /// What was being built (`CompileJob.context`).
    public var context: String
    /// What went wrong, in a few words.
    public var reason: String
    /// The command line that failed.
    public var commandLine: String
    /// The compiler's exit status, when it ran.
    public var exitStatus: Int32?
    /// The compiler's full error output.
    public var compilerOutput: String

    public init(context: String, reason: String, commandLine: String, exitStatus: Int32?, compilerOutput: String) {
        self.context = context
        self.reason = reason
        self.commandLine = commandLine
        self.exitStatus = exitStatus
        self.compilerOutput = compilerOutput
    }

    /// The first `maxOutputLines` lines of `compilerOutput`.
    public var outputExcerpt: String {
        let lines = compilerOutput.split(separator: "\n", omittingEmptySubsequences: false)
        var shown = lines.prefix(CompileError.maxOutputLines).joined(separator: "\n")
        if lines.count > CompileError.maxOutputLines {
            shown += "\n... (\(lines.count - CompileError.maxOutputLines) more lines)"
        }
        return shown
    }

    public var description: String {
        var s = "error"
        if !context.isEmpty { s += " " + context }
        s += ": " + reason
        s += "\n  command: " + commandLine
        let excerpt = outputExcerpt.trimmingCharacters(in: .whitespacesAndNewlines)
        if !excerpt.isEmpty {
            s += "\n  compiler output:\n"
            s += excerpt.split(separator: "\n", omittingEmptySubsequences: false)
                .map { "    " + $0 }.joined(separator: "\n")
        }
        return s
    }
}

/// Compiles C and C++ sources into shared libraries through a content-hash cache.
///
/// The cache key is the SHA-256 of everything that determines the output: the source, the
/// compiler command and the resolved compiler path, its `--version` output (probed once per
/// process), all flags, the include/library search variables of the environment, and, for
/// `-march=native`, the host CPU. A hit copies the cached library to the output path
/// without running the compiler. Artifacts live in `<cacheDirectory>/native/` as
/// `<key>.so`, with the source beside them as `<key>.c` (or `.cpp`). Every file is written
/// under a unique temporary name and renamed into place, so concurrent builds (threads or
/// processes) never see partial files.
public struct CCompiler: Sendable {
    /// Root of the cache.
    public var cacheDirectory: String
    /// When false, every job compiles (artifacts still go through the cache directory).
    public var useCache: Bool

    /// A compiler using `cacheDirectory`, or `defaultCacheDirectory()` when nil.
    public init(cacheDirectory: String? = nil, useCache: Bool = true) {
        self.cacheDirectory = cacheDirectory ?? CCompiler.defaultCacheDirectory()
        self.useCache = useCache
    }

    /// `BRAID_CACHE_DIR`, else `$XDG_CACHE_HOME/braid`, else `~/.cache/braid`.
    public static func defaultCacheDirectory(environment: [String: String] = ProcessInfo.processInfo.environment)
        -> String {
        if let dir = environment["BRAID_CACHE_DIR"], !dir.isEmpty { return dir }
        if let xdg = environment["XDG_CACHE_HOME"], !xdg.isEmpty { return xdg + "/braid" }
        let home = environment["HOME"].flatMap { $0.isEmpty ? nil : $0 }
            ?? FileManager.default.homeDirectoryForCurrentUser.path
        return home + "/.cache/braid"
    }

    /// The cache key of `job` (hex SHA-256); probes the compiler's version if not yet known.
    public func cacheKey(for job: CompileJob) throws -> String {
        let words = job.compilerWords
        guard let resolved = Subprocess.findExecutable(words[0]) else {
            throw CompileError(context: job.context, reason: "compiler '\(words[0])' was not found on PATH",
                               commandLine: Subprocess.commandLine(words[0], Array(words.dropFirst())),
                               exitStatus: nil, compilerOutput: "")
        }
        let version = try CCompiler.compilerVersion(words, context: job.context)
        let env = ProcessInfo.processInfo.environment
        var hasher = SHA256()
        func field(_ s: String) {
            hasher.update("\(s.utf8.count):")
            hasher.update(s)
            hasher.update("\n")
        }
        field("braid-compile-v1")
        field(job.language.rawValue)
        field(words.joined(separator: "\u{1}"))
        field(resolved)
        field(version)
        field(job.flags.joined(separator: "\u{1}"))
        field(job.extraFlags.joined(separator: "\u{1}"))
        field(job.linkFlags.joined(separator: "\u{1}"))
        for variable in ["CPATH", "C_INCLUDE_PATH", "CPLUS_INCLUDE_PATH", "LIBRARY_PATH"] {
            field(env[variable] ?? "")
        }
        let allFlags = job.flags + job.extraFlags
        field(allFlags.contains { $0.contains("native") } ? CCompiler.hostCPU : "")
        field(job.source)
        return hasher.finalize().hex
    }

    /// Builds `job.outputPath`, from the cache when possible.
    ///
    /// Throws `CompileError` when the compiler is missing or fails (its message names
    /// `job.context`, the command line and the first lines of the compiler's output), and
    /// `ToolchainError.fileSystem` when files cannot be written.
    public func compile(_ job: CompileJob) throws -> CompileResult {
        let key = try cacheKey(for: job)
        let fm = FileManager.default
        let dir = cacheDirectory + "/native"
        do {
            try fm.createDirectory(atPath: dir, withIntermediateDirectories: true)
        } catch {
            throw ToolchainError.fileSystem("cannot create the cache directory \(dir): \(error.localizedDescription)")
        }
        let library = "\(dir)/\(key).so"
        let sourcePath = "\(dir)/\(key).\(job.language.fileExtension)"
        let words = job.compilerWords
        let temporaryLibrary = "\(dir)/.\(key).\(UUID().uuidString).so.tmp"
        let arguments = Array(words.dropFirst()) + job.flags + job.extraFlags
            + ["-o", library, sourcePath] + job.linkFlags
        let shownCommand = Subprocess.commandLine(words[0], arguments)

        if useCache, CCompiler.isNonEmptyFile(library) {
            try CCompiler.installAtomically(from: library, to: job.outputPath)
            if !fm.fileExists(atPath: sourcePath) {
                try? CCompiler.writeAtomically(job.source, to: sourcePath)
            }
            return CompileResult(outputPath: job.outputPath, cacheHit: true, cacheKey: key,
                                 cachedLibraryPath: library, cachedSourcePath: sourcePath,
                                 commandLine: shownCommand, diagnostics: "")
        }

        try CCompiler.writeAtomically(job.source, to: sourcePath)
        let realArguments = Array(words.dropFirst()) + job.flags + job.extraFlags
            + ["-o", temporaryLibrary, sourcePath] + job.linkFlags
        let run: SubprocessResult
        do {
            run = try Subprocess.run(words[0], realArguments)
        } catch let error as ToolchainError {
            throw CompileError(context: job.context, reason: error.description, commandLine: shownCommand,
                               exitStatus: nil, compilerOutput: "")
        }
        guard run.succeeded, CCompiler.isNonEmptyFile(temporaryLibrary) else {
            try? fm.removeItem(atPath: temporaryLibrary)
            let how = run.terminatedBySignal ? "was killed by signal \(run.status)" : "failed with exit status \(run.status)"
            let output = run.stderr.isEmpty ? run.stdout : run.stderr
            throw CompileError(context: job.context, reason: "the compiler \(how)", commandLine: shownCommand,
                               exitStatus: run.status, compilerOutput: output)
        }
        try CCompiler.rename(temporaryLibrary, to: library)
        try CCompiler.installAtomically(from: library, to: job.outputPath)
        return CompileResult(outputPath: job.outputPath, cacheHit: false, cacheKey: key,
                             cachedLibraryPath: library, cachedSourcePath: sourcePath,
                             commandLine: shownCommand, diagnostics: run.stderr)
    }

    /// Installs the cached library named `key` at `output`; false when it is not cached.
    public func installCached(key: String, to output: String) -> Bool {
        let library = "\(cacheDirectory)/native/\(key).so"
        guard useCache, CCompiler.isNonEmptyFile(library) else { return false }
        return (try? CCompiler.installAtomically(from: library, to: output)) != nil
    }

    // MARK: - Compiler identity

    private static let versions = VersionCache()

    /// `<compiler> --version`, run once per compiler command per process.
    static func compilerVersion(_ words: [String], context: String) throws -> String {
        let key = words.joined(separator: " ")
        if let cached = versions.value(for: key) { return cached }
        let run: SubprocessResult
        do {
            run = try Subprocess.run(words[0], Array(words.dropFirst()) + ["--version"])
        } catch let error as ToolchainError {
            throw CompileError(context: context, reason: error.description,
                               commandLine: Subprocess.commandLine(words[0], Array(words.dropFirst()) + ["--version"]),
                               exitStatus: nil, compilerOutput: "")
        }
        let version = run.stdout + run.stderr
        versions.store(version, for: key)
        return version
    }

    /// The host CPU's model and feature flags (what `-march=native` depends on).
    static let hostCPU: String = {
        var parts: [String] = []
        if let info = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8) {
            for prefix in ["vendor_id", "model name", "flags", "Features", "CPU part"] {
                if let line = info.split(separator: "\n").first(where: { $0.hasPrefix(prefix) }) {
                    parts.append(String(line))
                }
            }
        }
        var uts = utsname()
        if uname(&uts) == 0 {
            let machine = withUnsafeBytes(of: &uts.machine) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            parts.append(machine)
        }
        return parts.joined(separator: "\n")
    }()

    // MARK: - Files

    static func isNonEmptyFile(_ path: String) -> Bool {
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: path),
              let size = attributes[.size] as? NSNumber else { return false }
        return size.intValue > 0
    }

    /// Writes `text` to a unique temporary file beside `path`, then renames it into place.
    static func writeAtomically(_ text: String, to path: String) throws {
        let temporary = temporaryPath(beside: path)
        guard FileManager.default.createFile(atPath: temporary, contents: Data(text.utf8)) else {
            throw ToolchainError.fileSystem("cannot write \(temporary)")
        }
        try rename(temporary, to: path)
    }

    /// Copies `source` to a temporary file beside `destination`, then renames it into place
    /// (a new inode: a process that has the old library loaded keeps a valid mapping).
    static func installAtomically(from source: String, to destination: String) throws {
        let fm = FileManager.default
        let parent = (destination as NSString).deletingLastPathComponent
        if !parent.isEmpty {
            try? fm.createDirectory(atPath: parent, withIntermediateDirectories: true)
        }
        let temporary = temporaryPath(beside: destination)
        do {
            try fm.copyItem(atPath: source, toPath: temporary)
        } catch {
            throw ToolchainError.fileSystem("cannot copy \(source) to \(temporary): \(error.localizedDescription)")
        }
        try rename(temporary, to: destination)
    }

    static func temporaryPath(beside path: String) -> String {
        let url = URL(fileURLWithPath: path)
        return url.deletingLastPathComponent()
            .appendingPathComponent(".\(url.lastPathComponent).\(UUID().uuidString).tmp").path
    }

    /// POSIX `rename`: atomic, and replaces an existing destination.
    static func rename(_ from: String, to: String) throws {
        #if canImport(Glibc)
        let status = Glibc.rename(from, to)
        #else
        let status = Darwin.rename(from, to)
        #endif
        if status != 0 {
            let reason = String(cString: strerror(errno))
            try? FileManager.default.removeItem(atPath: from)
            throw ToolchainError.fileSystem("cannot rename \(from) to \(to): \(reason)")
        }
    }
}

/// A lock-protected memo of compiler `--version` outputs.
private final class VersionCache: @unchecked Sendable {
    private let lock = NSLock()
    private var entries: [String: String] = [:]

    func value(for key: String) -> String? {
        lock.lock()
        defer { lock.unlock() }
        return entries[key]
    }

    func store(_ value: String, for key: String) {
        lock.lock()
        defer { lock.unlock() }
        entries[key] = value
    }
}
