// swift-tools-version:6.0
import PackageDescription

// Dependencies point one way: braid (CLI) → BraidDriver → {BraidFrontend, BraidPasses,
// BraidCodegen, BraidToolchain} → BraidIR.
let package = Package(
    name: "Braid",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "braid", targets: ["braid"]),
        .library(name: "BraidDriver", targets: ["BraidDriver"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        .systemLibrary(name: "CPython", pkgConfig: "python3-embed",
                       providers: [.apt(["libpython3-dev"])]),
        .target(name: "CPythonShim", dependencies: ["CPython"]),
        .target(name: "BraidIR"),
        .target(name: "BraidFrontend", dependencies: ["BraidIR", "CPythonShim"]),
        .target(name: "BraidPasses", dependencies: ["BraidIR"]),
        .target(name: "BraidCodegen", dependencies: ["BraidIR"]),
        .target(name: "BraidToolchain"),
        .target(name: "BraidDriver",
                dependencies: ["BraidIR", "BraidFrontend", "BraidPasses", "BraidCodegen", "BraidToolchain"]),
        .executableTarget(name: "braid", dependencies: [
            "BraidDriver", .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .testTarget(name: "BraidIRTests", dependencies: ["BraidIR"]),
        .testTarget(name: "BraidFrontendTests", dependencies: ["BraidFrontend", "BraidIR"]),
        .testTarget(name: "BraidPassesTests", dependencies: ["BraidPasses", "BraidFrontend", "BraidIR"]),
        .testTarget(name: "BraidCodegenTests", dependencies: ["BraidCodegen", "BraidToolchain", "BraidIR"]),
        .testTarget(name: "BraidDriverTests", dependencies: ["BraidDriver"]),
    ]
)
