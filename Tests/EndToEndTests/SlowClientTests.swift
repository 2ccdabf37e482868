import Foundation
import Testing

/// Clients too slow to send a request head are cut off by --read-header-timeout; clients too slow
/// to read hold back only their own upstream request.
@Suite("Slow clients", .timeLimit(.minutes(3)))
struct SlowClientTests {
    @Test("Slowloris connections are closed after --read-header-timeout while a CPU profile on another connection completes")
    func slowlorisIsCutOff() async throws {
        try await CPUHeavy.shared.run {
            try await ProxyEnvironment.withLocalProxy(proxyArguments: ["--read-header-timeout", "2s"]) { environment in
                async let profile = environment.request("/debug/pprof/profile?seconds=5", token: TestUsers.alice.token)
                let dribbling = try await HostileClient.hold(count: 20, port: environment.proxy.port, dribble: .milliseconds(300))
                let silentTLS = try await HostileClient.hold(count: 10, port: environment.proxy.port, handshake: true)
                let silentTCP = try await HostileClient.hold(count: 10, port: environment.proxy.port, tls: false)
                let capture = try await profile
                #expect(capture.status == 200 && capture.isGzip, "\(capture.summary)")
                #expect(capture.elapsed >= .seconds(5))

                for (name, held) in [("dribbling", dribbling), ("TLS, then silent", silentTLS), ("TCP, then silent", silentTCP)] {
                    let report = try await held.release()
                    #expect(report.failed == 0, "\(name): \(report.firstError)")
                    #expect(report.closedByServer == report.opened, "\(name): \(report.closedByServer) of \(report.opened) closed by the proxy")
                    #expect(report.closedByServerAfterSeconds.allSatisfy { $0 >= 1.8 && $0 < 4.5 }, "\(name): \(report.closedByServerAfterSeconds)")
                }
                #expect(try await environment.upstream.requests().map(\.path) == ["/debug/pprof/profile"])
            }
        }
    }

    @Test("A client reading a stream slowly holds back its own upstream request; another stream runs at full speed")
    func slowReaderBackpressure() async throws {
        try await CPUHeavy.shared.run {
            try await ProxyEnvironment.withLocalProxy { environment in
                var slow = CurlRequest(
                    url: environment.proxy.baseURL + "/debug/pprof/stream?bytes=200000000", bearerToken: TestUsers.alice.token,
                    maxTime: .seconds(20))
                slow.extraArguments = ["--limit-rate", "100K"]
                async let slowResponse = Curl.perform(slow)
                _ = try await environment.upstream.waitForRequest("the slow stream", timeout: .seconds(10)) { $0.path == "/debug/pprof/stream" }

                let fast = try await environment.request("/debug/pprof/stream?bytes=50000000", token: TestUsers.alice.token)
                #expect(fast.status == 200 && fast.body.count == 50_000_000, "\(fast.summary)")
                // At least 5 MB/s, fifty times the slow reader's rate, while that one is still stalled;
                // an absolute "full speed" would measure the test machine's load, not the proxy.
                #expect(fast.elapsed < .seconds(10), "the fast stream took \(fast.elapsed)")
                let slowStillRunning = try await environment.upstream.requests().contains {
                    $0.path == "/debug/pprof/stream" && $0.ended == "running"
                }
                #expect(slowStillRunning, "the slow stream must still be held back while the fast one completes")

                let slowResult = try await slowResponse
                #expect(slowResult.exitCode == 28, "curl's --max-time ends the slow read: \(slowResult.summary)")
                let streams = try await eventually("the slow upstream request to end", timeout: .seconds(10)) {
                    let records = try await environment.upstream.requests().filter { $0.path == "/debug/pprof/stream" && $0.ended != "running" }
                    return records.count == 2 ? records : nil
                }
                let slowRecord = try #require(streams.first { $0.bytes != 50_000_000 })
                #expect(slowRecord.ended == "client-gone")
                #expect(slowRecord.bytes < 32 << 20, "pprof wrote \(slowRecord.bytes) bytes for a client that read about 2 MB")
            }
        }
    }
}
