import BraidIR
import BraidCodegen
import BraidToolchain

/// What the driver needs from a target's code generator.
struct Backend {
    var language: SourceLanguage
    /// `nil`: the default C/C++ compiler (CC/CXX honoured).
    var compiler: String?
    var compilerFlags: [String]
    var linkFlags: [String]
    /// Human-readable generated source (`--emit c`).
    var source: (IRModule) throws -> String
    /// The translation unit compiled into the module.
    var translationUnit: (IRModule) throws -> String
    /// Files written next to the module (suffix → text).
    var sideFiles: (IRModule) throws -> [(String, String)]
}

enum Backends {
    static func backend(for target: Target) -> Backend {
        switch target {
        case .cpu:
            return Backend(language: .c, compiler: nil, compilerFlags: CPUBackend.compilerFlags,
                           linkFlags: CPUBackend.linkFlags, source: CPUBackend.nativeCode,
                           translationUnit: CPUBackend.translationUnit, sideFiles: { _ in [] })
        case .mpi, .opencl, .hls:
            return Backend(language: .c, compiler: nil, compilerFlags: [], linkFlags: [],
                           source: { _ in throw DriverError.usage("target '\(target.rawValue)' is not available yet") },
                           translationUnit: { _ in throw DriverError.usage("target '\(target.rawValue)' is not available yet") },
                           sideFiles: { _ in [] })
        }
    }
}
