import Foundation
import Testing
@testable import BraidToolchain

/// A fresh, empty directory under the system temporary directory.
func makeTemporaryDirectory(_ label: String) throws -> String {
    let path = FileManager.default.temporaryDirectory
        .appendingPathComponent("braid-test-\(label)-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

@Suite struct SHA256Tests {
    @Test func knownVectors() {
        #expect(SHA256.hash("").hex == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(SHA256.hash("abc").hex == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(SHA256.hash("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq").hex
            == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        #expect(SHA256.hash([UInt8](repeating: 0x61, count: 1_000_000)).hex
            == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    @Test func incrementalUpdatesMatchOneShot() {
        let message = [UInt8]((0..<1000).map { UInt8(truncatingIfNeeded: $0 &* 31) })
        for split in [0, 1, 55, 56, 63, 64, 65, 500, 1000] {
            var h = SHA256()
            h.update(message[..<split])
            h.update(message[split...])
            #expect(h.finalize() == SHA256.hash(message))
        }
    }
}

@Suite struct SubprocessTests {
    @Test func capturesLargeOutputOnBothStreams() throws {
        let script = "import sys; sys.stdout.write('o' * 300000); sys.stderr.write('e' * 300000); sys.exit(3)"
        let r = try Subprocess.run(PythonConfig.defaultInterpreter(), ["-c", script])
        #expect(r.status == 3)
        #expect(r.stdout.count == 300_000)
        #expect(r.stderr.count == 300_000)
    }

    @Test func missingProgramIsReported() {
        #expect(throws: ToolchainError.self) {
            _ = try Subprocess.run("braid-no-such-program-xyz", [])
        }
    }

    @Test func quotesForShells() {
        #expect(Subprocess.shellQuote("-O3") == "-O3")
        #expect(Subprocess.shellQuote("a b") == "'a b'")
        #expect(Subprocess.shellQuote("it's") == "'it'\\''s'")
    }
}

@Suite struct PythonConfigTests {
    @Test func probesTheUsersInterpreter() throws {
        let config = try PythonConfig.current()
        #expect(FileManager.default.fileExists(atPath: config.includeDirectory + "/Python.h"))
        #expect(config.supportsLimitedAPI)
        #expect(config.hasNumPy)
        #expect(config.version.hasPrefix("\(config.majorVersion).\(config.minorVersion)."))
        #expect(config.compilerFlags.first == "-I" + config.includeDirectory)
        #expect(PythonConfig.extensionSuffix == ".abi3.so")
        // A second probe is answered from the memo.
        #expect(try PythonConfig.current() == config)
    }

    @Test func probeIsRememberedOnDiskPerInterpreter() throws {
        let config = try PythonConfig.current()
        let file = try #require(PythonConfig.diskCacheFile(interpreter: "python3"))
        #expect(file.hasPrefix(CCompiler.defaultCacheDirectory() + "/python/"))
        #expect(PythonConfig.diskCacheFile(interpreter: "python3") == file)
        #expect(PythonConfig.diskCacheFile(interpreter: config.executable) != file)
        #expect(PythonConfig.diskCacheFile(interpreter: "no-such-python-here") == nil)
        let saved = String(decoding: try #require(FileManager.default.contents(atPath: file)), as: UTF8.self)
        #expect(saved.contains(config.includeDirectory.replacingOccurrences(of: "/", with: "\\/"))
                || saved.contains(config.includeDirectory))
    }

    @Test func interpreterCanBeOverridden() {
        #expect(PythonConfig.defaultInterpreter(environment: [:]) == "python3")
        #expect(PythonConfig.defaultInterpreter(environment: ["BRAID_PYTHON": "/opt/py/bin/python3.12"])
            == "/opt/py/bin/python3.12")
    }

    @Test func missingInterpreterIsAReadableError() {
        do {
            _ = try PythonConfig.probe(interpreter: "braid-no-such-python")
            Issue.record("expected an error")
        } catch {
            #expect("\(error)".contains("braid-no-such-python"))
        }
    }
}

@Suite struct CCompilerTests {
    @Test func cacheDirectoryFollowsTheEnvironment() {
        #expect(CCompiler.defaultCacheDirectory(environment: ["BRAID_CACHE_DIR": "/c", "XDG_CACHE_HOME": "/x"]) == "/c")
        #expect(CCompiler.defaultCacheDirectory(environment: ["XDG_CACHE_HOME": "/x", "HOME": "/h"]) == "/x/braid")
        #expect(CCompiler.defaultCacheDirectory(environment: ["HOME": "/h"]) == "/h/.cache/braid")
    }

    @Test func compilerComesFromTheEnvironment() {
        #expect(CompileJob.defaultCompiler(for: .c, environment: [:]) == "gcc")
        #expect(CompileJob.defaultCompiler(for: .cxx, environment: [:]) == "g++")
        #expect(CompileJob.defaultCompiler(for: .c, environment: ["CC": "clang"]) == "clang")
        #expect(CompileJob.defaultCompiler(for: .cxx, environment: ["CXX": "clang++"]) == "clang++")
        #expect(CompileJob.defaultFlags == ["-O3", "-march=native", "-fPIC", "-shared"])
    }

    /// A compiler wrapper that logs every compilation (not `--version` probes), so the
    /// test can see whether the compiler really ran.
    private func loggingCompiler(in dir: String) throws -> (compiler: String, log: String) {
        let log = dir + "/invocations.log"
        let script = dir + "/logging-cc"
        try """
            #!/bin/sh
            case "$*" in *--version*) ;; *) echo "$*" >> '\(log)' ;; esac
            exec gcc "$@"

            """.write(toFile: script, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: script)
        return (script, log)
    }

    private func invocationCount(_ log: String) -> Int {
        ((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").split(separator: "\n").count
    }

    @Test func secondCompileIsACacheHitWithoutRunningTheCompiler() throws {
        let dir = try makeTemporaryDirectory("cache")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let (cc, log) = try loggingCompiler(in: dir)
        let source = "int braid_answer(void) { return 42; }\n"
        let compiler = CCompiler(cacheDirectory: dir + "/cache")

        let first = try compiler.compile(CompileJob(source: source, compiler: cc, outputPath: dir + "/a/lib.so"))
        #expect(!first.cacheHit)
        #expect(invocationCount(log) == 1)
        #expect(first.cachedLibraryPath.hasPrefix(dir + "/cache/"))
        #expect(first.cachedSourcePath.hasSuffix("\(first.cacheKey).c"))
        #expect(try String(contentsOfFile: first.cachedSourcePath, encoding: .utf8) == source)

        let second = try compiler.compile(CompileJob(source: source, compiler: cc, outputPath: dir + "/b/lib.so"))
        #expect(second.cacheHit)
        #expect(second.cacheKey == first.cacheKey)
        #expect(invocationCount(log) == 1, "the compiler ran again on a cache hit")
        let a = try Data(contentsOf: URL(fileURLWithPath: dir + "/a/lib.so"))
        let b = try Data(contentsOf: URL(fileURLWithPath: dir + "/b/lib.so"))
        #expect(!a.isEmpty && a == b)

        // Changing the source or the flags changes the key and compiles again.
        let third = try compiler.compile(CompileJob(source: source + "\n", compiler: cc, outputPath: dir + "/c.so"))
        #expect(!third.cacheHit && third.cacheKey != first.cacheKey)
        let fourth = try compiler.compile(CompileJob(source: source, compiler: cc, extraFlags: ["-DX=1"],
                                                     outputPath: dir + "/d.so"))
        #expect(!fourth.cacheHit && fourth.cacheKey != first.cacheKey)
        #expect(invocationCount(log) == 3)

        // With the cache off, the compiler always runs.
        let uncached = CCompiler(cacheDirectory: dir + "/cache", useCache: false)
        let fifth = try uncached.compile(CompileJob(source: source, compiler: cc, outputPath: dir + "/e.so"))
        #expect(!fifth.cacheHit)
        #expect(invocationCount(log) == 4)
        // Deterministic: recompiling the same input gives the same bytes.
        #expect(try Data(contentsOf: URL(fileURLWithPath: dir + "/e.so")) == a)
    }

    @Test func concurrentCompilesOfTheSameSourceAgree() async throws {
        let dir = try makeTemporaryDirectory("concurrent")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let compiler = CCompiler(cacheDirectory: dir + "/cache")
        let source = "int braid_seven(void) { return 7; }\n"
        let keys = try await withThrowingTaskGroup(of: String.self) { group in
            for i in 0..<4 {
                group.addTask {
                    try compiler.compile(CompileJob(source: source, flags: ["-O1", "-fPIC", "-shared"],
                                                    outputPath: "\(dir)/out\(i).so")).cacheKey
                }
            }
            var keys: [String] = []
            for try await k in group { keys.append(k) }
            return keys
        }
        #expect(Set(keys).count == 1)
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: dir + "/cache/native")
            .filter { $0.hasSuffix(".tmp") }
        #expect(leftovers.isEmpty)
    }

    @Test func compilerFailureIsReadable() throws {
        let dir = try makeTemporaryDirectory("broken")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let context = "while compiling Python function 'gemm' (gemm.py)"
        let job = CompileJob(source: "int broken(void) { return undeclared_braid_name; }\n",
                             outputPath: dir + "/broken.so", context: context)
        do {
            _ = try CCompiler(cacheDirectory: dir + "/cache").compile(job)
            Issue.record("expected a compile error")
        } catch let error as CompileError {
            let message = error.description
            #expect(message.contains(context))
            #expect(message.contains("undeclared_braid_name"))
            #expect(message.contains("error:"))
            #expect(message.contains("gcc"))
            #expect(message.contains("-march=native"))
            #expect(error.exitStatus != nil && error.exitStatus != 0)
        }
        #expect(!FileManager.default.fileExists(atPath: dir + "/broken.so"))
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: dir + "/cache/native")
            .filter { $0.hasSuffix(".so") || $0.hasSuffix(".tmp") }
        #expect(leftovers.isEmpty)
    }

    @Test func longCompilerOutputIsTruncated() {
        let output = (1...100).map { "line \($0)" }.joined(separator: "\n")
        let error = CompileError(context: "ctx", reason: "failed", commandLine: "gcc x.c", exitStatus: 1,
                                 compilerOutput: output)
        #expect(error.description.contains("line 40"))
        #expect(!error.description.contains("line 41\n"))
        #expect(error.description.contains("60 more lines"))
    }

    @Test func missingCompilerIsReadable() throws {
        let dir = try makeTemporaryDirectory("nocc")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let job = CompileJob(source: "int x;", compiler: "braid-no-such-cc", outputPath: dir + "/x.so",
                             context: "while compiling module 'm'")
        #expect {
            _ = try CCompiler(cacheDirectory: dir).compile(job)
        } throws: { error in
            "\(error)".contains("braid-no-such-cc") && "\(error)".contains("while compiling module 'm'")
        }
    }

    @Test func cxxSourcesCompile() throws {
        let dir = try makeTemporaryDirectory("cxx")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let job = CompileJob(source: "#include <vector>\nextern \"C\" int f() { return (int)std::vector<int>(3).size(); }\n",
                             language: .cxx, outputPath: dir + "/f.so")
        let r = try CCompiler(cacheDirectory: dir + "/cache").compile(job)
        #expect(r.cachedSourcePath.hasSuffix(".cpp"))
        #expect(FileManager.default.fileExists(atPath: dir + "/f.so"))
    }
}
