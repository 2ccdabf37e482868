import Foundation
import TestProcesses

/// Builds each Go program in tools/ once per test run, however many tests ask for it at once.
actor GoProgramBuilder {
    static let shared = GoProgramBuilder()

    private var builds: [GoProgram: Task<String, any Error>] = [:]

    /// The path of the built executable for `program`, building it on first use.
    func executable(for program: GoProgram) async throws -> String {
        if let build = builds[program] {
            return try await build.value
        }
        let build = Task { try await GoBuildQueue.shared.run { try await Self.build(program) } }
        builds[program] = build
        return try await build.value
    }

    private static func build(_ program: GoProgram) async throws -> String {
        try FileManager.default.createDirectory(at: PackagePaths.goBinaries, withIntermediateDirectories: true)
        let output = PackagePaths.goBinaries.appendingPathComponent(program.rawValue).path
        var environment = ChildProcess.inheritedEnvironment
        // Standard library only: never reach for the network.
        environment["GOPROXY"] = "off"
        environment["GOFLAGS"] = "-mod=mod"
        environment["CGO_ENABLED"] = "0"
        if environment["GOCACHE"] == nil, environment["HOME"] == nil, environment["XDG_CACHE_HOME"] == nil {
            environment["GOCACHE"] = PackagePaths.goBinaries.appendingPathComponent("go-cache").path
        }
        let result = try await CompletedProcess.run(
            "go",
            arguments: ["build", "-buildvcs=false", "-o", output, "./\(program.rawValue)"],
            environment: environment,
            workingDirectory: PackagePaths.tools,
            timeout: .seconds(300))
        guard result.exitStatus == 0 else {
            throw EndToEndError("go build ./\(program.rawValue) failed (status \(result.exitStatus)):\n\(result.output)")
        }
        return output
    }
}
