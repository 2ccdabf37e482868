import Foundation
import TestProcesses

/// tools/hostile-client, driven from the tests: exact bytes over TLS (`raw`), many held or
/// slowloris connections (`hold`), and HTTP/2 attacks (`h2`). See tools/README.md.
enum HostileClient {
    /// What `raw` saw: everything received, the HTTP/1.x responses in it, and how it ended.
    struct RawReport: Decodable, Sendable {
        struct Response: Decodable, Sendable {
            let status: Int
            let headers: [String: [String]]
            let body: String

            func header(_ name: String) -> String? { headers[name.lowercased()]?.first }
        }

        let received: String
        let responses: [Response]
        /// `eof`, `reset`, `timeout`, `client-closed` or `error`.
        let ended: String
        let bytesSent: Int
        let allSent: Bool
        let elapsedSeconds: Double
        let handshakeError: String

        /// The server closed the connection (cleanly or with a reset).
        var closedByServer: Bool { ended == "eof" || ended == "reset" }
        var statuses: [Int] { responses.map(\.status) }
    }

    /// What `h2` saw.
    struct H2Report: Decodable, Sendable {
        struct GoAway: Decodable, Sendable {
            let code: String
            let lastStreamID: Int
            let debug: String
        }

        let attack: String
        let framesSent: Int
        let streamsOpened: Int
        let framesReceived: [String: Int]
        let goAway: GoAway?
        let resets: [String: Int]
        let statuses: [String: Int]
        let serverMaxConcurrentStreams: Int?
        let serverMaxFrameSize: Int
        let serverMaxHeaderListSize: Int?
        /// `goaway`, `eof`, `reset`, `error`, `duration` or `write-timeout`.
        let ended: String
        /// The server closed the TCP connection (after a GOAWAY, within 5 s of it).
        let closedByServer: Bool
        let elapsedSeconds: Double
    }

    /// The request of `h2 -attack large-headers`: `bytes` of header values in `fields` fields, in
    /// HEADERS and CONTINUATION frames of at most `fragment` bytes.
    struct LargeHeaders: Sendable, CustomStringConvertible {
        var bytes: Int
        var fields = 1
        var fragment = 1 << 14

        var description: String { "\(bytes) bytes in \(fields) fields, frames of \(fragment) bytes" }
    }

    /// What `hold` reports once its connections are released.
    struct HoldReport: Decodable, Sendable {
        let opened: Int
        let failed: Int
        let firstError: String
        let closedByServer: Int
        let closedByServerAfterSeconds: [Double]
    }

    /// Connections `hold` keeps open until `release()`.
    struct HeldConnections: TestResource {
        let process: ChildProcess
        let opened: Int
        let failed: Int

        /// Closes the connections and returns the report.
        func release() async throws -> HoldReport {
            process.closeStandardInput()
            try await process.waitForExit(timeout: .seconds(30))
            return try HostileClient.decode(HoldReport.self, from: process)
        }

        func tearDown() async {
            await process.tearDown()
        }
    }

    /// Sends `request` byte for byte to the proxy on `port` (TLS, ALPN http/1.1 unless `tls` is
    /// false), one byte every `dribble` if given, and reads until the server closes or goes quiet
    /// for `readTimeout`.
    static func raw(
        _ request: String, port: Int, in workspace: TestWorkspace, tls: Bool = true,
        dribble: Duration? = nil, readTimeout: Duration = .seconds(10), extraArguments: [String] = []
    ) async throws -> RawReport {
        let requestFile = try workspace.write(request, to: "raw-request-\(UUID().uuidString)")
        var arguments = ["raw", "-addr", "127.0.0.1:\(port)", "-request-file", requestFile, "-read-timeout", readTimeout.goSyntax]
        if tls {
            arguments += ["-tls", "-alpn", "http/1.1"]
        }
        if let dribble {
            arguments += ["-dribble", dribble.goSyntax]
        }
        return try await run(RawReport.self, arguments + extraArguments, timeout: .seconds(120))
    }

    /// Runs one HTTP/2 attack against the proxy on `port`.
    static func h2(
        _ attack: String, port: Int, token: String? = nil, path: String = "/debug/pprof/heap",
        duration: Duration = .seconds(5), count: Int? = nil, largeHeaders: LargeHeaders? = nil
    ) async throws -> H2Report {
        var arguments = ["h2", "-addr", "127.0.0.1:\(port)", "-attack", attack, "-path", path, "-duration", duration.goSyntax]
        if let token {
            arguments += ["-token", token]
        }
        if let count {
            arguments += ["-count", String(count)]
        }
        if let largeHeaders {
            arguments += [
                "-header-bytes", String(largeHeaders.bytes), "-fields", String(largeHeaders.fields),
                "-fragment", String(largeHeaders.fragment),
            ]
        }
        // Below the proxy's priority: a flood must not take the CPU the rest of the suite needs.
        return try await run(H2Report.self, arguments, timeout: duration + .seconds(60), niceness: 10)
    }

    /// Opens `count` connections to `port` and keeps them open (with `dribble`, sending a request
    /// head that never ends, one byte at a time) until `release()`.
    static func hold(
        count: Int, port: Int, tls: Bool = true, handshake: Bool = false, dribble: Duration? = nil
    ) async throws -> HeldConnections {
        var arguments = ["hold", "-addr", "127.0.0.1:\(port)", "-count", String(count)]
        if tls {
            arguments += ["-tls", "-alpn", "http/1.1"] + (handshake ? ["-handshake"] : [])
        }
        if let dribble {
            arguments += ["-dribble", dribble.goSyntax]
        }
        let process = try ChildProcess.launch(
            try await GoProgramBuilder.shared.executable(for: .hostileClient), arguments: arguments, keepingStandardInput: true)
        do {
            let line = try await process.waitForLine(containing: "holding ", in: .stdout, timeout: .seconds(60))
            let numbers = line.split(separator: " ").dropFirst().compactMap { Int($0) }
            guard numbers.count == 2 else { throw EndToEndError("hostile-client hold printed \(line)") }
            return HeldConnections(process: process, opened: numbers[0], failed: numbers[1])
        } catch {
            await process.tearDown()
            throw error
        }
    }

    private static func run<Report: Decodable>(
        _ type: Report.Type, _ arguments: [String], timeout: Duration, niceness: Int = 0
    ) async throws -> Report {
        let executable = try await GoProgramBuilder.shared.executable(for: .hostileClient)
        let process = try ChildProcess.launch("nice", arguments: ["-n", String(niceness), executable] + arguments)
        return try await using(process) { process in
            let status = try await process.waitForExit(timeout: timeout)
            guard status == 0 else {
                throw EndToEndError("hostile-client \(arguments.first ?? "") exited with \(status):\n\(process.allOutput)")
            }
            return try decode(type, from: process)
        }
    }

    private static func decode<Report: Decodable>(_ type: Report.Type, from process: ChildProcess) throws -> Report {
        guard let json = process.lines(in: .stdout).last(where: { $0.hasPrefix("{") }) else {
            throw EndToEndError("hostile-client printed no report:\n\(process.allOutput)")
        }
        return try JSONDecoder().decode(type, from: Data(json.utf8))
    }
}
