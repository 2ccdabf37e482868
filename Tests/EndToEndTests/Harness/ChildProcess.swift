import Foundation
import TestProcesses

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A child process whose stdout and stderr are collected line by line as they arrive.
///
/// `@unchecked Sendable`: the wrapped `Process` is only used to launch, to read the pid and to
/// send signals; everything that changes afterwards lives in the thread-safe `ProcessOutput`.
final class ChildProcess: TestResource, @unchecked Sendable {
    let name: String
    private let process: Process
    private let output: ProcessOutput
    /// The write end of the child's standard input, when it was launched with `keepingStandardInput`.
    private let standardInput: FileHandle?

    /// The environment children get: the test runner's, minus anything that would point a proxy
    /// at a real cluster.
    static var inheritedEnvironment: [String: String] {
        var environment = ProcessInfo.processInfo.environment
        for variable in ["KUBERNETES_SERVICE_HOST", "KUBERNETES_SERVICE_PORT", "KUBECONFIG"] {
            environment[variable] = nil
        }
        return environment
    }

    private init(name: String, process: Process, output: ProcessOutput, standardInput: FileHandle?) {
        self.name = name
        self.process = process
        self.output = output
        self.standardInput = standardInput
    }

    /// Starts `executable` (a path, or a program name looked up in PATH) with `arguments`. Its
    /// standard input is empty, or with `keepingStandardInput` a pipe that stays open until
    /// `closeStandardInput()`.
    static func launch(
        _ executable: String,
        arguments: [String],
        name: String? = nil,
        environment: [String: String] = inheritedEnvironment,
        workingDirectory: URL? = nil,
        keepingStandardInput: Bool = false
    ) throws -> ChildProcess {
        let process = Process()
        if executable.contains("/") {
            process.executableURL = URL(fileURLWithPath: executable)
            process.arguments = arguments
        } else {
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = [executable] + arguments
        }
        process.environment = environment
        if let workingDirectory {
            process.currentDirectoryURL = workingDirectory
        }
        let output = ProcessOutput()
        let standardInput = keepingStandardInput ? Pipe() : nil
        process.standardInput = standardInput ?? FileHandle.nullDevice
        process.terminationHandler = { finished in
            output.recordExit(status: finished.terminationStatus)
        }
        let (stdout, stderr) = try ProcessLaunchLock.withLock {
            let stdout = Pipe()
            let stderr = Pipe()
            process.standardOutput = stdout
            process.standardError = stderr
            do {
                try process.run()
            } catch {
                throw EndToEndError("could not start \(executable): \(error)")
            }
            return (stdout, stderr)
        }
        // Process has closed the parent's write ends, so the readers see end-of-file when the child exits.
        startReading(stdout.fileHandleForReading, into: output, as: .stdout)
        startReading(stderr.fileHandleForReading, into: output, as: .stderr)
        return ChildProcess(
            name: name ?? URL(fileURLWithPath: executable).lastPathComponent, process: process, output: output,
            standardInput: standardInput?.fileHandleForWriting)
    }

    /// Reads `handle` on its own thread until end-of-file, passing on whatever each read(2) returns
    /// (FileHandle's own reads wait for a full buffer on pipes); blocking reads keep this simple.
    /// The pipe is closed at end-of-file: left to the objects that hold it, a run of the suite kept
    /// 2,000 pipes open, and Foundation's `Process.run()` (Swift 6.3.1) can crash reading a long
    /// /proc/self/fd (swift-corelibs-foundation#5472).
    private static func startReading(_ handle: FileHandle, into output: ProcessOutput, as stream: StandardStream) {
        Thread.detachNewThread {
            var buffer = [UInt8](repeating: 0, count: 64 * 1024)
            while true {
                let count = read(handle.fileDescriptor, &buffer, buffer.count)
                if count > 0 {
                    output.append(Data(buffer[..<count]), to: stream)
                } else if count < 0, errno == EINTR {
                    continue
                } else {
                    break
                }
            }
            try? handle.close()
            output.end(stream)
        }
    }

    func lines(in stream: StandardStream) -> [String] {
        output.lines(in: stream)
    }

    /// Both streams, for failure messages and for checks that something never appears.
    var allOutput: String {
        (lines(in: .stdout) + lines(in: .stderr)).joined(separator: "\n")
    }

    /// The exit status, or nil while the process runs.
    var exitStatus: Int32? {
        output.exitStatus
    }

    /// Waits until a line containing `text` appears on `stream` and returns it.
    @discardableResult
    func waitForLine(containing text: String, in stream: StandardStream, timeout: Duration) async throws -> String {
        try await eventually("\(name) to print a line containing \"\(text)\"", timeout: timeout) {
            if let line = lines(in: stream).first(where: { $0.contains(text) }) {
                return line
            }
            if let status = exitStatus, output.isComplete {
                throw EndToEndError("\(name) exited with status \(status) before printing \"\(text)\"; output:\n\(allOutput)")
            }
            return nil
        }
    }

    /// Waits for the process to exit and for its output to be read to the end; returns the status.
    @discardableResult
    func waitForExit(timeout: Duration) async throws -> Int32 {
        try await eventually("\(name) to exit", timeout: timeout) {
            output.isComplete ? exitStatus : nil
        }
    }

    /// Ends the standard input of a child launched with `keepingStandardInput`.
    func closeStandardInput() {
        try? standardInput?.close()
    }

    /// The process id, for reading /proc.
    var processIdentifier: Int32 {
        process.processIdentifier
    }

    func send(signal: Int32) {
        if exitStatus == nil {
            kill(process.processIdentifier, signal)
        }
    }

    /// Kills the process and its descendants (Process starts each child in its own process group)
    /// if it still runs, and waits briefly for it to be gone.
    func tearDown() async {
        closeStandardInput()
        if exitStatus == nil {
            kill(-process.processIdentifier, SIGKILL)
        }
        let deadline = ContinuousClock.now + .seconds(5)
        while exitStatus == nil, ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(10))
        }
    }
}
