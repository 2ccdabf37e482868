import Testing
import TestProcesses

/// A client that stops reading its HTTP/2 streams (tools/hostile-client h2 zero-window). The floods,
/// which need the whole machine, are in the heavy tier (`Heavy.HTTP2Floods`).
@Suite("HTTP/2 abuse", .timeLimit(.minutes(3)))
struct HTTP2AbuseTests {
    @Test("Streams of a client that stops reading (zero window) hold back only their own upstream requests")
    func zeroWindowBackpressure() async throws {
        try await ProxyEnvironment.withKubernetesProxy { environment, _ in
            let report = try await HostileClient.h2(
                "zero-window", port: environment.proxy.port, token: TestUsers.alice.token,
                path: "/debug/pprof/stream?bytes=100000000", duration: .seconds(2), count: 10)
            #expect(report.statuses["200"] == 10)
            let stalled = try await eventually("the 10 stalled upstream requests to end", timeout: .seconds(20)) {
                let streams = try await environment.upstream.requests().filter { $0.path == "/debug/pprof/stream" }
                return streams.count == 10 && streams.allSatisfy { $0.ended != "running" } ? streams : nil
            }
            for stream in stalled {
                #expect(stream.ended == "client-gone")
                #expect(stream.bytes < 16 << 20, "pprof wrote \(stream.bytes) bytes for a client that read none")
            }
        }
    }
}
