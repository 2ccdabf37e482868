// swift-tools-version:6.1
import PackageDescription

let package = Package(
    name: "pprof-rbac-proxy",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "pprof-rbac-proxy", targets: ["pprof-rbac-proxy"]),
        // `kubectl pprof`: on PATH as kubectl-pprof, kubectl runs it as a plugin.
        .executable(name: "kubectl-pprof", targets: ["kubectl-pprof"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.0"),
        .package(url: "https://github.com/apple/swift-nio-http2.git", from: "1.46.0"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.0"),
        .package(url: "https://github.com/apple/swift-crypto.git", "3.12.0"..<"5.0.0"),
        .package(url: "https://github.com/apple/swift-certificates.git", from: "1.21.0"),
        .package(url: "https://github.com/apple/swift-asn1.git", from: "1.7.0"),
        .package(url: "https://github.com/apple/swift-collections.git", from: "1.6.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.0"),
    ],
    targets: [
        .executableTarget(
            name: "pprof-rbac-proxy",
            dependencies: [
                "PprofRBACProxy",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // What a request asks for, as plain values and with no I/O: path normalization and policy,
        // the authorization questions, the pprof capture a query starts and its guardrails, bearer/Basic
        // extraction, the token file CSV, static-rule matching, Go durations. Fuzzed by RequestPolicyFuzzer.
        .target(
            name: "RequestPolicy",
            dependencies: [.product(name: "NIOHTTP1", package: "swift-nio")]
        ),
        // pprof profiles (profile.proto) decoded, merged and encoded, with no I/O and bounded memory:
        // what CPU profile slices are merged with. Fuzzed by RequestPolicyFuzzer.
        .target(name: "PprofProfile", dependencies: ["CZlib"]),
        // The system's zlib (Debian: zlib1g-dev), for gzip.
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        // libFuzzer over RequestPolicy and PprofProfile (scripts/fuzz); an ordinary build replays input files instead.
        .executableTarget(
            name: "RequestPolicyFuzzer",
            dependencies: ["RequestPolicy", "PprofProfile", .product(name: "NIOHTTP1", package: "swift-nio")]
        ),
        .target(
            name: "PprofRBACProxy",
            dependencies: [
                "RequestPolicy",
                "PprofProfile",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOTLS", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOHTTP2", package: "swift-nio-http2"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "DequeModule", package: "swift-collections"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ]
        ),
        .executableTarget(
            name: "kubectl-pprof",
            dependencies: ["KubectlPprof"]
        ),
        // The kubectl plugin: the caller's kubeconfig identity (tokens, exec plugins, client
        // certificates, TokenRequest), pod lookup, port-forward, the fetch with its progress, and
        // advice on refusals. Reuses the proxy's kubeconfig reading and TLS setup.
        .target(
            name: "KubectlPprof",
            dependencies: [
                "PprofRBACProxy",
                "RequestPolicy",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOTLS", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "X509", package: "swift-certificates"),
            ]
        ),
        .testTarget(
            name: "KubectlPprofTests",
            dependencies: [
                "KubectlPprof",
                "PprofRBACProxy",
                "TestProcesses",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]
        ),
        .testTarget(
            name: "PprofProfileTests",
            dependencies: ["PprofProfile", "TestProcesses"]
        ),
        .testTarget(
            name: "PprofRBACProxyTests",
            dependencies: [
                "PprofRBACProxy",
                "PprofProfile",
                "RequestPolicy",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOHTTP2", package: "swift-nio-http2"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                "TestProcesses",
            ]
        ),
        // Drives real processes (the proxy binary, Go programs, curl, kubectl); Yams reads the
        // manifests `kubectl kustomize` renders.
        .testTarget(
            name: "EndToEndTests",
            dependencies: ["TestProcesses", .product(name: "Yams", package: "Yams")]
        ),
        // Shared by both test targets, which launch child processes and build Go programs in one test run.
        .target(name: "TestProcesses", path: "Tests/TestProcesses"),
    ]
)
