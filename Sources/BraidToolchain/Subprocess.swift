import Foundation

/// What a finished subprocess produced.
public struct SubprocessResult: Sendable {
    /// Exit status (or the terminating signal number when `terminatedBySignal`).
    public var status: Int32
    /// Whether the process was killed by a signal rather than exiting.
    public var terminatedBySignal: Bool
    /// Everything written to standard output (UTF-8, invalid bytes repaired).
    public var stdout: String
    /// Everything written to standard error (UTF-8, invalid bytes repaired).
    public var stderr: String

    /// True when the process exited normally with status 0.
    public var succeeded: Bool { !terminatedBySignal && status == 0 }
}

/// Errors from starting or talking to external tools.
public enum ToolchainError: Error, CustomStringConvertible, Sendable {
    /// A program was not found on `PATH`.
    case programNotFound(String)
    /// A program could not be started.
    case launchFailed(program: String, reason: String)
    /// The Python interpreter could not be probed.
    case pythonProbeFailed(interpreter: String, reason: String)
    /// A file-system operation failed.
    case fileSystem(String)

    public var description: String {
        switch self {
        case .programNotFound(let p):
            return "program '\(p)' was not found on PATH"
        case .launchFailed(let p, let reason):
            return "could not run '\(p)': \(reason)"
        case .pythonProbeFailed(let interpreter, let reason):
            return "could not query the Python interpreter '\(interpreter)': \(reason)"
        case .fileSystem(let message):
            return message
        }
    }
}

/// Runs external programs and captures their output.
///
/// Output goes to temporary files rather than pipes, so a chatty process can never
/// deadlock against a full pipe buffer, whatever it writes to which stream.
public enum Subprocess {
    /// The full path of `program`: itself when it contains a `/`, else the first
    /// executable match on `PATH` (from `environment`, or this process's environment).
    public static func findExecutable(_ program: String, environment: [String: String]? = nil) -> String? {
        let fm = FileManager.default
        if program.contains("/") {
            return fm.isExecutableFile(atPath: program) ? program : nil
        }
        let env = environment ?? ProcessInfo.processInfo.environment
        let path = env["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        for dir in path.split(separator: ":", omittingEmptySubsequences: true) {
            let candidate = String(dir) + "/" + program
            var isDirectory: ObjCBool = false
            if fm.fileExists(atPath: candidate, isDirectory: &isDirectory), !isDirectory.boolValue,
               fm.isExecutableFile(atPath: candidate) {
                return candidate
            }
        }
        return nil
    }

    /// Runs `program` (looked up on `PATH` unless it contains a `/`) with `arguments` and
    /// waits for it. `environment` replaces the child's environment when given;
    /// `currentDirectory` sets its working directory; `input` is written to its stdin.
    public static func run(_ program: String, _ arguments: [String], environment: [String: String]? = nil,
                           currentDirectory: String? = nil, input: String? = nil) throws -> SubprocessResult {
        guard let path = findExecutable(program, environment: environment) else {
            throw ToolchainError.programNotFound(program)
        }
        let fm = FileManager.default
        let scratch = fm.temporaryDirectory.appendingPathComponent("braid-proc-\(UUID().uuidString)")
        do {
            try fm.createDirectory(at: scratch, withIntermediateDirectories: true)
        } catch {
            throw ToolchainError.fileSystem("cannot create a temporary directory: \(error.localizedDescription)")
        }
        defer { try? fm.removeItem(at: scratch) }
        let outURL = scratch.appendingPathComponent("stdout")
        let errURL = scratch.appendingPathComponent("stderr")
        let inURL = scratch.appendingPathComponent("stdin")
        guard fm.createFile(atPath: outURL.path, contents: nil),
              fm.createFile(atPath: errURL.path, contents: nil),
              fm.createFile(atPath: inURL.path, contents: Data((input ?? "").utf8)) else {
            throw ToolchainError.fileSystem("cannot create temporary files in \(scratch.path)")
        }

        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        if let environment { process.environment = environment }
        if let currentDirectory { process.currentDirectoryURL = URL(fileURLWithPath: currentDirectory) }
        let outHandle: FileHandle, errHandle: FileHandle, inHandle: FileHandle
        do {
            outHandle = try FileHandle(forWritingTo: outURL)
            errHandle = try FileHandle(forWritingTo: errURL)
            inHandle = try FileHandle(forReadingFrom: inURL)
        } catch {
            throw ToolchainError.fileSystem("cannot open temporary files: \(error.localizedDescription)")
        }
        defer {
            try? outHandle.close()
            try? errHandle.close()
            try? inHandle.close()
        }
        process.standardOutput = outHandle
        process.standardError = errHandle
        process.standardInput = inHandle
        do {
            try process.run()
        } catch {
            throw ToolchainError.launchFailed(program: path, reason: error.localizedDescription)
        }
        process.waitUntilExit()
        let stdout = (try? Data(contentsOf: outURL)) ?? Data()
        let stderr = (try? Data(contentsOf: errURL)) ?? Data()
        return SubprocessResult(status: process.terminationStatus,
                                terminatedBySignal: process.terminationReason == .uncaughtSignal,
                                stdout: String(decoding: stdout, as: UTF8.self),
                                stderr: String(decoding: stderr, as: UTF8.self))
    }

    /// A shell-style rendering of a command line (arguments quoted where needed), for messages.
    public static func commandLine(_ program: String, _ arguments: [String]) -> String {
        ([program] + arguments).map(shellQuote).joined(separator: " ")
    }

    /// `s` quoted for a POSIX shell when it contains anything but safe characters.
    public static func shellQuote(_ s: String) -> String {
        let safe = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./=:,+@%")
        if !s.isEmpty && s.allSatisfy({ safe.contains($0) }) { return s }
        return "'" + s.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }
}
