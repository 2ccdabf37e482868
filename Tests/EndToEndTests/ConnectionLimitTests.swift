import Foundation
import Testing
import TestProcesses

/// --max-connections makes further clients wait instead of exhausting the proxy, and running out
/// of file descriptors anyway is survived.
@Suite("Connection limits", .timeLimit(.minutes(3)))
struct ConnectionLimitTests {
    @Test("With --max-connections reached, a new client waits in the backlog and is served once a connection closes")
    func maxConnections() async throws {
        // No header timeout: the held connections must stay until the test releases them.
        try await ProxyEnvironment.withLocalProxy(proxyArguments: ["--max-connections", "5", "--read-header-timeout", "0s"]) { environment in
            let held = try await HostileClient.hold(count: 5, port: environment.proxy.port, handshake: true)
            #expect(held.opened == 5)
            try await environment.proxy.waitForLogLine(containing: "--max-connections reached")

            let refused = try await environment.request("/debug/pprof/cmdline", token: TestUsers.alice.token, maxTime: .seconds(2))
            #expect(refused.exitCode == 28, "not accepted while 5 are open, so curl times out: \(refused.summary)")

            async let waiting = environment.request("/debug/pprof/cmdline", token: TestUsers.alice.token, maxTime: .seconds(30))
            try await eventually("the waiting client's connection to queue", timeout: .seconds(10)) {
                try Self.queuedConnections(port: environment.proxy.port) > 0 ? true : nil
            }
            let report = try await held.release()
            #expect(report.closedByServer == 0, "the proxy closed held connections: \(report)")
            let served = try await waiting
            #expect(served.status == 200, "\(served.summary)")
        }
    }

    @Test("Out of file descriptors: accepting pauses instead of crashing, and serving resumes once they are back")
    func fileDescriptorExhaustion() async throws {
        try await ProxyEnvironment.withLocalProxy(proxyArguments: ["--max-connections", "0", "--read-header-timeout", "0s"]) { environment in
            let warmUp = try await environment.request("/debug/pprof/cmdline", token: TestUsers.alice.token)
            #expect(warmUp.status == 200)
            let pid = environment.proxy.process.processIdentifier
            let limit = try ProcessResources.of(pid).fileDescriptors + 20
            let lowered = try await CompletedProcess.run(
                "prlimit", arguments: ["--pid", String(pid), "--nofile=\(limit):\(limit)"], timeout: .seconds(10))
            try #require(lowered.exitStatus == 0, "prlimit: \(lowered.output)")

            let held = try await HostileClient.hold(count: 60, port: environment.proxy.port)
            let starved = try await environment.request("/debug/pprof/cmdline", token: TestUsers.alice.token, maxTime: .seconds(3))
            #expect(starved.status != 200, "with every descriptor taken nothing can be served: \(starved.summary)")
            #expect(environment.proxy.process.exitStatus == nil, "the proxy died")

            _ = try await held.release()
            let recovered = try await eventually("the proxy to serve again", timeout: .seconds(20)) {
                let response = try await environment.request("/debug/pprof/cmdline", token: TestUsers.alice.token, maxTime: .seconds(5))
                return response.status == 200 ? response : nil
            }
            #expect(recovered.status == 200)
            #expect(environment.proxy.process.exitStatus == nil)
        }
    }

    /// Connections to `port` the kernel completed but nobody accepted yet (the listener's Recv-Q).
    static func queuedConnections(port: Int) throws -> Int {
        let table = try ProcessResources.contents(of: "/proc/net/tcp")
        let listening = String(format: ":%04X", port)
        for line in table.split(separator: "\n").dropFirst() {
            let fields = line.split(separator: " ")
            // local_address, rem_address, st (0A = LISTEN), tx_queue:rx_queue
            guard fields.count > 4, fields[1].hasSuffix(listening), fields[3] == "0A" else { continue }
            let queues = fields[4].split(separator: ":")
            return queues.count == 2 ? Int(queues[1], radix: 16) ?? 0 : 0
        }
        return 0
    }
}
