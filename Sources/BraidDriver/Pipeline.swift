import Foundation
import BraidIR
import BraidPasses

/// The targets Braid compiles for.
public enum Target: String, CaseIterable, Sendable {
    case cpu, mpi, opencl, hls
}

/// The pass pipeline of each target, read top to bottom.
public enum Pipeline {
    public static func passes(for target: Target) -> [any Pass] {
        switch target {
        case .cpu:
            return [
                ExpandLibraryNodes(keepBLAS: true),
                StrengthReduction(),
                VersionBoundsChecks(),
                MapFusion(),
                LoopToMap(arrayReductions: true),
                SpeculateChecks(),
                ScheduleMaps(schedule: .cpuParallel),
                ReductionInterchange(),
                FuseMatvec(),
                NarrowIntegers(),
            ]
        case .mpi:
            return [
                ExpandLibraryNodes(keepBLAS: true),
                StrengthReduction(),
                ScheduleMaps(schedule: .distributed),
            ]
        case .opencl:
            return [
                ExpandLibraryNodes(keepBLAS: false),
                StrengthReduction(),
                MapFusion(),
                LoopToMap(),
                ScheduleMaps(schedule: .deviceKernel),
            ]
        case .hls:
            return [
                ExpandLibraryNodes(keepBLAS: false),
                ScheduleMaps(schedule: .pipelined),
            ]
        }
    }

    /// Options that developers use to inspect and bisect the pipeline.
    public struct Options: Sendable {
        public var disabled: Set<String> = []
        public var printAfterAll = false
        public var timePasses = false
        /// Run the verifier after every pass that changed the program.
        public var verify = true
        public init() {}
    }

    /// Runs the target's passes over every program; logs to `log` when asked. Returns what
    /// the passes did and why they left things alone, in source order (`--explain`).
    @discardableResult
    public static func run(_ module: inout IRModule, target: Target, options: Options,
                           log: (String) -> Void) throws -> [Remark] {
        var remarks: [Remark] = []
        let passes = passes(for: target)
        let known = Set(passes.map(\.name))
        for d in options.disabled where !known.contains(d) {
            throw DriverError.usage("unknown pass '\(d)'; passes of target \(target.rawValue): \(passes.map(\.name).joined(separator: ", "))")
        }
        for k in module.programs.indices {
            try Verifier.verify(module.programs[k])
            for pass in passes where !options.disabled.contains(pass.name) {
                let start = Date()
                let changed = try pass.run(&module.programs[k], remarks: &remarks)
                if options.timePasses {
                    log(String(format: "%-24@ %-20@ %8.3f ms%@", pass.name as NSString, module.programs[k].name as NSString,
                               Date().timeIntervalSince(start) * 1000, (changed ? " (changed)" : "") as NSString))
                }
                if changed && options.verify { try Verifier.verify(module.programs[k]) }
                if options.printAfterAll {
                    log("// ----- after \(pass.name) -----\n" + IRPrinter.print(module.programs[k]))
                }
            }
        }
        return remarks.enumerated().sorted {
            ($0.element.loc.line, $0.element.loc.column, $0.offset) < ($1.element.loc.line, $1.element.loc.column, $1.offset)
        }.map(\.element)
    }
}

public enum DriverError: Error, CustomStringConvertible {
    case usage(String)
    case io(String)
    case compile(String)

    public var description: String {
        switch self {
        case .usage(let s), .io(let s), .compile(let s): return s
        }
    }
}
