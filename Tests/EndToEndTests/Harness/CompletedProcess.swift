import Foundation

/// The outcome of a command that was run to completion.
struct CompletedProcess: Sendable {
    let exitStatus: Int32
    let stdout: [String]
    let stderr: [String]

    /// Runs `executable` until it exits (killing it after `timeout`) and collects its output.
    static func run(
        _ executable: String,
        arguments: [String],
        environment: [String: String] = ChildProcess.inheritedEnvironment,
        workingDirectory: URL? = nil,
        timeout: Duration
    ) async throws -> CompletedProcess {
        let child = try ChildProcess.launch(
            executable, arguments: arguments, environment: environment, workingDirectory: workingDirectory)
        return try await using(child) { child in
            let status = try await child.waitForExit(timeout: timeout)
            return CompletedProcess(exitStatus: status, stdout: child.lines(in: .stdout), stderr: child.lines(in: .stderr))
        }
    }

    /// Both streams joined, for failure messages.
    var output: String {
        (stdout + stderr).joined(separator: "\n")
    }
}
