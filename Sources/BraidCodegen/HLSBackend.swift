import BraidIR

/// The HLS target (not implemented yet).
public enum HLSBackend {
    public static let language = "c"
    public static let compiler: String? = nil
    public static let compilerFlags: [String] = []
    public static let linkFlags: [String] = []

    public static func source(_ module: IRModule) throws -> String {
        throw BackendError(module.programs[0].loc, "the HLS target is not implemented yet")
    }

    public static func translationUnit(_ module: IRModule) throws -> String { try source(module) }

    /// Files written next to the module (suffix, text).
    public static func sideFiles(_ module: IRModule) throws -> [(String, String)] { [] }
}
