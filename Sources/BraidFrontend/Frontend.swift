import BraidIR

/// The frontend's entry point: Python source in, data-centric IR out.
public enum Frontend {
    /// Parses `source` and lowers every entry point (programs, exported functions, or
    /// the functions named by `signatures`, in `#pythran export` syntax).
    public static func lower(source: String, file: String, moduleName: String,
                             signatures: [String] = []) throws -> IRModule {
        let module = try PythonParser.parse(source: source, file: file)
        let ctx = try ModuleContext(module: module, signatures: signatures)
        guard !ctx.entries.isEmpty else {
            // A '# braid: entry=NAME' header (braid compare) names the function meant.
            let entry = module.comments.lazy.compactMap { c -> String? in
                guard let r = c.text.range(of: "braid: entry=") else { return nil }
                return String(c.text[r.upperBound...].prefix { $0.isLetter || $0.isNumber || $0 == "_" })
            }.first
            if let entry, let f = ctx.functions[entry] {
                let params = f.args.map { "<type of \($0.name)>" }.joined(separator: ", ")
                throw Diagnostic(f.loc, "function '\(entry)' has no parameter types: add a comment '#pythran export "
                    + "\(entry)(\(params))' above it, or pass --signature '\(entry)(\(params))', with types such as "
                    + "float64[:,:], float32[:], int64 or float")
            }
            throw Diagnostic(SourceLocation(file: file, line: 1, column: 1),
                             "no function to compile: decorate one with @braid.program (or @dace.program), add a '#pythran export name(float64[:])' comment, or pass --signature")
        }
        var programs: [Program] = []
        for entry in ctx.entries {
            var widened: [String: DType] = [:]
            var strong: Set<String> = []
            for _ in 0..<16 {
                do {
                    var program = try FunctionLowerer(ctx: ctx, entry: entry, widened: widened, strongVariables: strong).lower()
                    if entry.overload > 0 {
                        // Native names must differ; the wrapper exports every overload under the
                        // function's name (see ModuleSource.overloadMarker in BraidCodegen).
                        program.name += "__braid_overload\(entry.overload)"
                    }
                    programs.append(program)
                    break
                } catch let w as WidenRestart {
                    widened[w.name] = w.dtype
                    if w.strong { strong.insert(w.name) }
                }
            }
        }
        return IRModule(name: moduleName, sourceFile: file, programs: programs)
    }

    /// Markdown table of the supported NumPy surface, generated from the registry.
    public static func featureTable() -> String { NumPyRegistry.featureTable() }
}
