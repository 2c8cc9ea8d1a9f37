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
        case .mpi:
            return Backend(language: SourceLanguage(rawValue: MPIBackend.language)!, compiler: MPIBackend.compiler,
                           compilerFlags: MPIBackend.compilerFlags, linkFlags: MPIBackend.linkFlags,
                           source: MPIBackend.source, translationUnit: MPIBackend.translationUnit,
                           sideFiles: MPIBackend.sideFiles)
        case .opencl:
            return Backend(language: SourceLanguage(rawValue: OpenCLBackend.language)!, compiler: OpenCLBackend.compiler,
                           compilerFlags: OpenCLBackend.compilerFlags, linkFlags: OpenCLBackend.linkFlags,
                           source: OpenCLBackend.source, translationUnit: OpenCLBackend.translationUnit,
                           sideFiles: OpenCLBackend.sideFiles)
        case .hls:
            return Backend(language: SourceLanguage(rawValue: HLSBackend.language)!, compiler: HLSBackend.compiler,
                           compilerFlags: HLSBackend.compilerFlags, linkFlags: HLSBackend.linkFlags,
                           source: HLSBackend.source, translationUnit: HLSBackend.translationUnit,
                           sideFiles: HLSBackend.sideFiles)
        }
    }
}
