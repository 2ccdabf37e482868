import Foundation

/// The Go programs in tools/ that the tests run.
public enum GoProgram: String, Sendable {
    case pprofServer = "pprof-server"
    case fakeAPIServer = "fake-apiserver"
    case h2ResetClient = "h2-reset-client"
    case hostileClient = "hostile-client"
}

/// Builds each Go program in tools/ once per test run into `.build/test-go/`, for both test
/// targets, however many tests ask for it at once.
///
/// Builds run one after another: on a fresh machine Go's build cache is cold, and builds started
/// together would each compile the standard library beside the others, loading the machine while
/// the first tests run. One at a time, each later build finds the packages the earlier ones compiled.
public actor GoProgramBuilder {
    /// `go build` failed; its output says why.
    public struct BuildFailed: Error, CustomStringConvertible {
        public let description: String
    }

    public static let shared = GoProgramBuilder()

    /// The package root, three levels above this file (Tests/TestProcesses/GoProgramBuilder.swift).
    static let packageRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    private var builds: [GoProgram: Task<String, any Error>] = [:]
    /// The build started last, which the next one waits for.
    private var lastBuild: Task<String, any Error>?

    /// The path of the built executable for `program`, building it on first use.
    public func executable(for program: GoProgram) async throws -> String {
        if let build = builds[program] {
            return try await build.value
        }
        let previous = lastBuild
        let build = Task {
            _ = await previous?.result
            return try await Self.build(program)
        }
        builds[program] = build
        lastBuild = build
        return try await build.value
    }

    private static func build(_ program: GoProgram) async throws -> String {
        let directory = packageRoot.appendingPathComponent(".build/test-go")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let executable = directory.appendingPathComponent(program.rawValue).path
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["go", "build", "-buildvcs=false", "-o", executable, "./\(program.rawValue)"]
        process.currentDirectoryURL = packageRoot.appendingPathComponent("tools")
        var environment = ProcessInfo.processInfo.environment
        // Standard library only: never reach for the network.
        environment["GOPROXY"] = "off"
        environment["GOFLAGS"] = "-mod=mod"
        environment["CGO_ENABLED"] = "0"
        if environment["HOME"] == nil, environment["GOCACHE"] == nil, environment["XDG_CACHE_HOME"] == nil {
            environment["GOCACHE"] = directory.appendingPathComponent("go-cache").path
        }
        process.environment = environment
        let log = ProcessLaunchLock.withLock { Pipe() }
        try await ProcessLaunchLock.runToExit(process, output: log, errors: log)
        guard process.terminationStatus == 0 else {
            let output = String(decoding: log.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            throw BuildFailed(description: "go build ./\(program.rawValue) failed (status \(process.terminationStatus)):\n\(output)")
        }
        return executable
    }
}
