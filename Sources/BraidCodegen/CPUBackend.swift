import BraidIR

/// C with OpenMP for multicore CPUs; matmuls that BLAS can run call OpenBLAS `cblas`.
public enum CPUBackend {
    public static let dialect = CDialect(
        name: "cpu",
        typeName: { $0.cType },
        pointerQualifier: "restrict",
        mapPragmas: { m, collapse in
            guard m.schedule == .cpuParallel else { return [] }
            var p = "omp parallel for schedule(static)"
            if collapse > 1 { p += " collapse(\(collapse))" }
            for (name, op) in m.reductions.sorted(by: { $0.key < $1.key }) {
                let sym: String
                switch op {
                case .add: sym = "+"
                case .mul: sym = "*"
                case .max: sym = "max"
                case .min: sym = "min"
                }
                p += " reduction(\(sym):\(name))"
            }
            return [p]
        },
        overloadedMath: false,
        supportsComplex: true,
        library: { node, lowering in try BLAS.lower(node, lowering) })

    /// The native C of every program (entry points with the extension calling convention).
    public static func nativeCode(_ module: IRModule) throws -> String {
        var out = ModuleSource.cHeaders + "#include <cblas.h>\n\n" + CLowering.prelude + "\n"
        for p in module.programs {
            out += CPrinter.print(try CLowering(program: p, dialect: dialect).entryFunction(name: ModuleSource.nativeName(p)))
            out += "\n"
        }
        return out
    }

    /// The whole translation unit: native code plus the Python wrapper.
    public static func translationUnit(_ module: IRModule) throws -> String {
        let spec = ExtensionModuleSpec(
            moduleName: module.name,
            functions: module.programs.map { ModuleSource.extensionFunction($0, doc: "Compiled by Braid (cpu) from \($0.loc).") },
            hasErrorMessages: true)
        return PyExtensionEmitter.translationUnitPrelude + (try nativeCode(module)) + PyExtensionEmitter.emit(spec)
    }

    public static let compilerFlags = ["-fopenmp", "-fwrapv", "-fno-math-errno"]
    public static let linkFlags = ["-lopenblas", "-lm"]
}

/// Lowers matmul library nodes to `cblas_?gemm/gemv/dot`.
enum BLAS {
    struct Layout {
        var pointer: String
        var lengths: [String]
        var strides: [String]
    }

    static func layout(_ m: Memlet, _ l: CLowering) -> Layout {
        let c = l.container(m.data)
        let cs = l.strides(c)
        var offset: [String] = []
        var lengths: [String] = []
        var strides: [String] = []
        for (k, s) in m.subset.enumerated() {
            switch s {
            case .index(.sym(let e)):
                offset.append("(\(l.sym(e))) * \(cs[k])")
            case .index(.dynamic):
                offset.append("0")
            case .range(let a, _, let st):
                offset.append("(\(l.sym(a))) * \(cs[k])")
                lengths.append(l.sym(s.length))
                strides.append(st == .one ? cs[k] : "(\(l.sym(st))) * \(cs[k])")
            }
        }
        let base = c.isScalar ? "&\(try! l.lvalue(.point(c.name, [])))" : c.name
        let ptr = offset.isEmpty ? base : "\(base) + \(offset.joined(separator: " + "))"
        return Layout(pointer: ptr, lengths: lengths, strides: strides)
    }

    static func lower(_ node: LibraryNode, _ l: CLowering) throws -> [CStmt] {
        guard case .matmul(let a, let b, let c, let acc) = node.op else { return [] }
        let t = l.container(c.data).dtype
        let p = t == .float32 ? "s" : "d"
        let beta = acc ? "1.0" : "0.0"
        let la = layout(a, l), lb = layout(b, l), lc = layout(c, l)
        func ld(_ s: String) -> String { "braid_imax(1, \(s))" }
        switch (la.lengths.count, lb.lengths.count) {
        case (2, 2):
            return [.expr("cblas_\(p)gemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, \(la.lengths[0]), \(lb.lengths[1]), \(la.lengths[1]), 1.0, \(la.pointer), \(ld(la.strides[0])), \(lb.pointer), \(ld(lb.strides[0])), \(beta), \(lc.pointer), \(ld(lc.strides[0])))")]
        case (2, 1):
            return [.expr("cblas_\(p)gemv(CblasRowMajor, CblasNoTrans, \(la.lengths[0]), \(la.lengths[1]), 1.0, \(la.pointer), \(ld(la.strides[0])), \(lb.pointer), \(lb.strides[0]), \(beta), \(lc.pointer), \(lc.strides[0]))")]
        case (1, 2):
            return [.expr("cblas_\(p)gemv(CblasRowMajor, CblasTrans, \(lb.lengths[0]), \(lb.lengths[1]), 1.0, \(lb.pointer), \(ld(lb.strides[0])), \(la.pointer), \(la.strides[0]), \(beta), \(lc.pointer), \(lc.strides[0]))")]
        default:
            let dot = "cblas_\(p)dot(\(la.lengths[0]), \(la.pointer), \(la.strides[0]), \(lb.pointer), \(lb.strides[0]))"
            let out = try l.lvalue(c)
            return [.assign(lhs: out, rhs: acc ? "\(out) + \(dot)" : dot)]
        }
    }
}
