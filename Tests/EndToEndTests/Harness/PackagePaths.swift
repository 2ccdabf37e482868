import Foundation

/// Where the package, its Go tools and the binaries under test live.
enum PackagePaths {
    /// The package root, four levels above this file (Tests/EndToEndTests/Harness/PackagePaths.swift).
    static let root = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent()
        .deletingLastPathComponent()
        .deletingLastPathComponent()
        .deletingLastPathComponent()

    /// The Go module with pprof-server and fake-apiserver.
    static let tools = root.appendingPathComponent("tools")

    /// The pprof-rbac-proxy executable: `PPROF_RBAC_PROXY_BINARY`, else the one `swift build`
    /// put next to the test runner.
    static func proxyBinary() throws -> URL {
        if let configured = ProcessInfo.processInfo.environment["PPROF_RBAC_PROXY_BINARY"], !configured.isEmpty {
            guard FileManager.default.isExecutableFile(atPath: configured) else {
                throw EndToEndError("PPROF_RBAC_PROXY_BINARY=\(configured) is not an executable file")
            }
            return URL(fileURLWithPath: configured)
        }
        let runnerDirectory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        let candidate = runnerDirectory.appendingPathComponent("pprof-rbac-proxy")
        guard FileManager.default.isExecutableFile(atPath: candidate.path) else {
            throw EndToEndError(
                "pprof-rbac-proxy binary not found at \(candidate.path); run `swift build` first or set PPROF_RBAC_PROXY_BINARY")
        }
        return candidate
    }

    /// The kubectl-pprof executable `swift build` put next to the test runner.
    static func pluginBinary() throws -> String {
        let runnerDirectory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        let candidate = runnerDirectory.appendingPathComponent("kubectl-pprof").path
        guard FileManager.default.isExecutableFile(atPath: candidate) else {
            throw EndToEndError("kubectl-pprof binary not found at \(candidate); run `swift build` first")
        }
        return candidate
    }
}
