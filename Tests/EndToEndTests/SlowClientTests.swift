import Foundation
import Testing
import TestProcesses

/// Clients too slow to send a request head are cut off by --read-header-timeout; clients too slow
/// to read hold back only their own upstream request.
@Suite("Slow clients", .timeLimit(.minutes(3)))
struct SlowClientTests {
    @Test("Slowloris connections are closed after --read-header-timeout while a CPU profile on another connection completes")
    func slowlorisIsCutOff() async throws {
        try await ProxyEnvironment.withLocalProxy(proxyArguments: ["--read-header-timeout", "2s"]) { environment in
            async let profile = environment.request("/debug/pprof/profile?seconds=5", token: TestUsers.alice.token)
            let dribbling = try await HostileClient.hold(count: 20, port: environment.proxy.port, dribble: .milliseconds(300))
            let silentTLS = try await HostileClient.hold(count: 10, port: environment.proxy.port, handshake: true)
            let silentTCP = try await HostileClient.hold(count: 10, port: environment.proxy.port, tls: false)
            let capture = try await profile
            #expect(capture.status == 200 && capture.isGzip, "\(capture.summary)")
            #expect(capture.elapsed >= .seconds(5))

            // The held clients never close by themselves: the proxy must close every one of them.
            try await eventually("the proxy to close the 40 slow connections", timeout: .seconds(60)) {
                let resources = try ProcessResources.of(environment.proxy.process.processIdentifier)
                return resources.connections.contains { $0.localPort == environment.proxy.port } ? nil : true
            }
            for (name, held) in [("dribbling", dribbling), ("TLS, then silent", silentTLS), ("TCP, then silent", silentTCP)] {
                let report = try await held.release()
                #expect(report.failed == 0, "\(name): \(report.firstError)")
                #expect(report.closedByServer == report.opened, "\(name): \(report.closedByServer) of \(report.opened) closed by the proxy")
                // Not before the timeout: a head that is late, not a connection that is slow, is what gets cut.
                #expect(report.closedByServerAfterSeconds.allSatisfy { $0 >= 1.8 }, "\(name): \(report.closedByServerAfterSeconds)")
            }
            #expect(Set(try await environment.upstream.requests().map(\.path)) == ["/debug/pprof/profile"], "its slices, and nothing else")
        }
    }

    @Test("A client reading a stream slowly holds back its own upstream request; another stream completes meanwhile")
    func slowReaderBackpressure() async throws {
        try await ProxyEnvironment.withLocalProxy { environment in
            var slow = CurlRequest(
                url: environment.proxy.baseURL + "/debug/pprof/stream?bytes=200000000", bearerToken: TestUsers.alice.token,
                maxTime: .seconds(150))
            slow.extraArguments = ["--limit-rate", "100K"]
            let slowReader = try ChildProcess.launch("curl", arguments: slow.arguments + ["-o", "/dev/null", slow.url])
            try await using(slowReader) { slowReader in
                _ = try await environment.upstream.waitForRequest("the slow stream", timeout: .seconds(10)) { $0.path == "/debug/pprof/stream" }

                let fast = try await environment.request("/debug/pprof/stream?bytes=50000000", token: TestUsers.alice.token)
                #expect(fast.status == 200 && fast.body.count == 50_000_000, "\(fast.summary)")
                // 50 MB went through while the slow reader, at 100 KB/s, has read at most a few: its
                // stream is still held back at pprof, not buffered by the proxy.
                let slowStillRunning = try await environment.upstream.requests().contains {
                    $0.path == "/debug/pprof/stream" && $0.ended == "running"
                }
                #expect(slowStillRunning, "the slow stream must still be held back while the fast one completes")
                await slowReader.tearDown()
            }
            let streams = try await eventually("the slow upstream request to end", timeout: .seconds(30)) {
                let records = try await environment.upstream.requests().filter { $0.path == "/debug/pprof/stream" && $0.ended != "running" }
                return records.count == 2 ? records : nil
            }
            let slowRecord = try #require(streams.first { $0.bytes != 50_000_000 })
            #expect(slowRecord.ended == "client-gone")
            #expect(slowRecord.bytes < 32 << 20, "pprof wrote \(slowRecord.bytes) bytes for a client that read a few MB")
        }
    }
}
