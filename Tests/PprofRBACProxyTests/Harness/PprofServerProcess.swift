import Foundation
import NIOConcurrencyHelpers
import TestProcesses

/// tools/pprof-server (the Go upstream of the end-to-end tests) as a child process of a unit test:
/// built once per run by `GoProgramBuilder`, started with the given flags, stopped by `stop()`.
final class PprofServerProcess {
    /// Why the program could not be built or started.
    struct LaunchError: Error, CustomStringConvertible {
        let description: String
    }

    let port: Int
    private let process: Process
    private let output: NIOLockedValueBox<String>

    private init(port: Int, process: Process, output: NIOLockedValueBox<String>) {
        self.port = port
        self.process = process
        self.output = output
    }

    /// Runs `body` with a started server and stops the server afterwards, whatever happens.
    static func with<Result>(
        address: String = "127.0.0.1:0", arguments: [String] = [], _ body: (PprofServerProcess) async throws -> Result
    ) async throws -> Result {
        let server = try await start(address: address, arguments: arguments)
        defer { server.stop() }
        return try await body(server)
    }

    /// Starts the server on `address` and waits for its `listening on 127.0.0.1:PORT` line.
    static func start(address: String = "127.0.0.1:0", arguments: [String]) async throws -> PprofServerProcess {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try await GoProgramBuilder.shared.executable(for: .pprofServer))
        process.arguments = ["-addr", address] + arguments
        let output = NIOLockedValueBox("")
        let pipe = ProcessLaunchLock.withLock { Pipe() }
        // Keep draining: the server prints a line per request and would block on a full pipe.
        pipe.fileHandleForReading.readabilityHandler = { handle in
            let data = handle.availableData
            guard !data.isEmpty else {
                handle.readabilityHandler = nil
                return
            }
            output.withLockedValue { $0 += String(decoding: data, as: UTF8.self) }
        }
        try ProcessLaunchLock.withLock {
            process.standardOutput = pipe
            process.standardError = pipe
            try process.run()
        }
        let marker = "listening on 127.0.0.1:"
        // Only a deadline for a server that never starts: a loaded machine may take a while to run it.
        let deadline = ContinuousClock.now + .seconds(60)
        while ContinuousClock.now < deadline {
            let text = output.withLockedValue { $0 }
            if let range = text.range(of: marker), let port = Int(text[range.upperBound...].prefix(while: \.isNumber)) {
                return PprofServerProcess(port: port, process: process, output: output)
            }
            guard process.isRunning else { break }
            try await Task.sleep(for: .milliseconds(20))
        }
        process.terminate()
        throw LaunchError(description: "pprof-server \(arguments) did not start: \(output.withLockedValue { $0 })")
    }

    /// Everything the server printed so far.
    var printed: String { output.withLockedValue { $0 } }

    func stop() {
        if process.isRunning {
            process.terminate()
        }
        process.waitUntilExit()
    }
}
