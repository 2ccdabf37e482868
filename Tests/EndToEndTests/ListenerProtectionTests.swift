import Foundation
import Testing
import TestProcesses

/// Every listener the proxy opens has the proxy listener's protections: the endpoints port (where
/// the kubelet probes) and the metrics listener cut off slow clients at --read-header-timeout, stop
/// accepting at --max-connections, and read request heads up to the same limits.
@Suite("Listener protections end to end", .timeLimit(.minutes(3)))
struct ListenerProtectionTests {
    /// Runs `body` with a local-mode proxy that has an endpoints port and a metrics listener, and
    /// their ports.
    func withListeners(
        _ arguments: [String], _ body: (ProxyEnvironment, _ endpoints: Int, _ metrics: Int) async throws -> Void
    ) async throws {
        let endpointsPort = try FreePort.find()
        try await ProxyEnvironment.withLocalProxy(
            proxyArguments: arguments + ["--proxy-endpoints-port", String(endpointsPort), "--metrics-bind-address", "127.0.0.1:0"]
        ) { environment in
            let marker = "metrics listener serving /metrics on 127.0.0.1:"
            let line = try await environment.proxy.process.waitForLine(containing: marker, in: .stderr, timeout: .seconds(10))
            let metricsPort = try #require(line.range(of: marker).flatMap { Int(line[$0.upperBound...].prefix(while: \.isNumber)) })
            try await environment.proxy.process.waitForLine(containing: "endpoints listener serving", in: .stderr, timeout: .seconds(10))
            try await body(environment, endpointsPort, metricsPort)
        }
    }

    /// A kubelet-like probe of `/healthz` on `port`: one GET with a 1 s timeout.
    func probe(port: Int, maxTime: Duration = .seconds(1)) async throws -> CurlResponse {
        try await Curl.perform(CurlRequest(url: "https://127.0.0.1:\(port)/healthz", maxTime: maxTime))
    }

    @Test("slowloris and silent clients on the endpoints and metrics ports are closed at --read-header-timeout, and the probes meanwhile succeed")
    func slowClientsAreCutOff() async throws {
        try await withListeners(["--read-header-timeout", "2s"]) { _, endpoints, metrics in
            let held = [
                ("endpoints, dribbling", try await HostileClient.hold(count: 20, port: endpoints, dribble: .milliseconds(300))),
                ("endpoints, TLS then silent", try await HostileClient.hold(count: 10, port: endpoints, handshake: true)),
                ("endpoints, TCP then silent", try await HostileClient.hold(count: 10, port: endpoints, tls: false)),
                ("metrics, dribbling", try await HostileClient.hold(count: 10, port: metrics, dribble: .milliseconds(300))),
            ]
            // Probes for a while after the read-header timeout has passed for every held connection.
            var probes: [Int] = []
            let until = ContinuousClock.now + .seconds(5)
            while ContinuousClock.now < until {
                probes.append(try await probe(port: endpoints).status)
            }
            let failedInARow = probes.split(separator: 200).map(\.count).max() ?? 0
            // The kubelet restarts a container after three failed probes in a row (failureThreshold).
            #expect(failedInARow < 3, "probes: \(probes)")
            #expect(probes.filter { $0 == 200 }.count >= 3, "probes: \(probes)")

            for (name, connections) in held {
                let report = try await connections.release()
                #expect(report.failed == 0, "\(name): \(report.firstError)")
                #expect(report.closedByServer == report.opened, "\(name): \(report.closedByServer) of \(report.opened) closed by the proxy")
                #expect(report.closedByServerAfterSeconds.allSatisfy { $0 >= 1.8 }, "\(name): closed before the timeout: \(report.closedByServerAfterSeconds)")
            }
        }
    }

    @Test("--max-connections holds on the endpoints and metrics ports: a further client waits until one closes")
    func connectionLimit() async throws {
        try await withListeners(["--max-connections", "3", "--read-header-timeout", "0s"]) { _, endpoints, metrics in
            for port in [endpoints, metrics] {
                let held = try await HostileClient.hold(count: 3, port: port, handshake: true)
                #expect(held.opened == 3)
                let waiting = try await probe(port: port, maxTime: .seconds(2))
                #expect(waiting.exitCode == 28, "port \(port): not accepted while 3 are open, so curl times out: \(waiting.summary)")
                let report = try await held.release()
                #expect(report.closedByServer == 0, "port \(port): \(report)")
                let served = try await eventually("port \(port) to accept again", timeout: .seconds(10)) {
                    let response = try await probe(port: port, maxTime: .seconds(5))
                    return response.exitCode == 0 ? response : nil
                }
                #expect(served.status == (port == endpoints ? 200 : 404), "\(served.summary)")
            }
        }
    }

    @Test("the endpoints port reads request heads up to the proxy's limit and answers 431 above it, with the proxy's body")
    func headLimits() async throws {
        try await withListeners([]) { environment, endpoints, _ in
            let large = try await Curl.perform(CurlRequest(
                url: "https://127.0.0.1:\(endpoints)/healthz", headers: ["X-Large: " + String(repeating: "a", count: 100_000)]))
            #expect(large.status == 200, "\(large.summary)")
            let request = "GET /healthz HTTP/1.1\r\nHost: proxy\r\nX-Large: \(String(repeating: "a", count: 1_100_000))\r\n\r\n"
            let tooLarge = try await HostileClient.raw(request, port: endpoints, in: environment.workspace, readTimeout: .seconds(5))
            let response = try #require(tooLarge.responses.first, "\(tooLarge.ended): \(tooLarge.received.prefix(200))")
            #expect(response.status == 431)
            #expect(response.body.hasPrefix("Request Header Fields Too Large"), "\(response.body)")
            #expect(tooLarge.closedByServer)
        }
    }
}
