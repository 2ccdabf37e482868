import Foundation

/// Runs `go tool pprof` (Go's own reader and merger of profiles) for the tests to compare with.
public enum GoPprof {
    public struct Failed: Error, CustomStringConvertible {
        public var description: String
    }

    /// `go tool pprof ARGUMENTS`, its standard output as bytes; throws with its output when it fails.
    public static func run(_ arguments: [String]) async throws -> Data {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["go", "tool", "pprof"] + arguments
        var environment = ProcessInfo.processInfo.environment
        environment["PPROF_TMPDIR"] = FileManager.default.temporaryDirectory.path
        process.environment = environment
        let output = ProcessLaunchLock.withLock { Pipe() }
        let errors = ProcessLaunchLock.withLock { Pipe() }
        try await ProcessLaunchLock.runToExit(process, output: output, errors: errors)
        let data = output.fileHandleForReading.readDataToEndOfFile()
        guard process.terminationStatus == 0 else {
            let text = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            throw Failed(description: "go tool pprof \(arguments.joined(separator: " ")) exited \(process.terminationStatus): \(text)")
        }
        return data
    }

    /// `go tool pprof -top`'s "Total samples = …" of `file`.
    public static func totalSamples(_ file: String) async throws -> String {
        let top = String(decoding: try await run(["-top", file]), as: UTF8.self)
        guard let line = top.split(separator: "\n").first(where: { $0.contains("Total samples = ") }) else {
            throw Failed(description: "no total in go tool pprof -top of \(file):\n\(top)")
        }
        return String(line[line.range(of: "Total samples = ")!.upperBound...])
    }
}
