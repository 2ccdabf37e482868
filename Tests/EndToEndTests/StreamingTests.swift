import Foundation
import Testing

/// Long captures stream through, client aborts release the profiler, both HTTP versions work.
@Suite("Streaming and cancellation", .timeLimit(.minutes(2)))
struct StreamingTests {
    @Test("A 5 s CPU profile comes through, from five one-second slices")
    func cpuProfile() async throws {
        try await ProxyEnvironment.withKubernetesProxy { environment, _ in
            let response = try await environment.request(
                "/debug/pprof/profile?seconds=5", token: TestUsers.alice.token)

            #expect(response.status == 200, "\(response.summary)")
            #expect(response.isGzip)
            #expect(response.elapsed >= .seconds(5), "took \(response.elapsed)")
            #expect(response.header("Content-Disposition") == "attachment; filename=\"profile\"")
            let slices = try await environment.upstream.requests().filter { $0.path == "/debug/pprof/profile" }
            #expect(slices.map(\.rawQuery) == Array(repeating: "seconds=1", count: 5))
            #expect(slices.allSatisfy { $0.ended == "done" && $0.durationSeconds >= 0.9 })
        }
    }

    @Test("Upstream connections are kept alive and reused across requests", arguments: HTTPVersion.allCases)
    func upstreamKeepAlive(version: HTTPVersion) async throws {
        try await ProxyEnvironment.withKubernetesProxy { environment, _ in
            let repeated = CurlRequest(
                url: environment.proxy.baseURL + "/debug/pprof/cmdline", bearerToken: TestUsers.alice.token,
                httpVersion: version)
            let statuses = try await Curl.statusCodes(of: repeated, count: 20)
            #expect(statuses == Array(repeating: 200, count: 20))
            let connections = Set(try await environment.upstream.requests().map(\.remoteAddr))
            #expect(connections.count == 1, "20 sequential requests used \(connections.count) upstream connections")
        }
    }

    @Test("No timeout cuts a 60 s capture, on either HTTP version", arguments: HTTPVersion.allCases)
    func longCapture(version: HTTPVersion) async throws {
        try await ProxyEnvironment.withKubernetesProxy { environment, _ in
            let response = try await environment.request(
                "/debug/pprof/profile?seconds=60", token: TestUsers.alice.token, httpVersion: version, maxTime: .seconds(90))
            #expect(response.status == 200, "\(response.summary)")
            #expect(response.isGzip)
            #expect(response.elapsed >= .seconds(60), "took \(response.elapsed)")
        }
    }

    @Test("Without CPU profile slices, a client that gives up releases the upstream CPU profiler at once", arguments: HTTPVersion.allCases)
    func clientAbort(version: HTTPVersion) async throws {
        try await ProxyEnvironment.withKubernetesProxy(proxyArguments: [CaptureTests.withoutSlices]) { environment, _ in
            // Warm the review caches for this path, so the aborted request reaches pprof well within its 1 s.
            let warmUp = try await environment.request("/debug/pprof/profile?seconds=1", token: TestUsers.alice.token)
            #expect(warmUp.status == 200, "\(warmUp.summary)")

            try await ClientAbortCheck.expectProfilerReleased(in: environment, version: version)
        }
    }

    @Test("Without CPU profile slices, an HTTP/2 stream reset releases the profiler while the connection stays open")
    func http2StreamReset() async throws {
        try await ProxyEnvironment.withKubernetesProxy(proxyArguments: [CaptureTests.withoutSlices]) { environment, _ in
            let warmUp = try await environment.request("/debug/pprof/profile?seconds=1", token: TestUsers.alice.token)
            #expect(warmUp.status == 200, "\(warmUp.summary)")

            try await StreamResetCheck.expectProfilerReleased(in: environment)
        }
    }

    @Test("HTTP/1.1 and HTTP/2 both carry small and large responses", arguments: HTTPVersion.allCases)
    func httpVersions(version: HTTPVersion) async throws {
        try await ProxyEnvironment.withKubernetesProxy { environment, _ in
            let heap = try await environment.request(
                "/debug/pprof/heap", token: TestUsers.alice.token, httpVersion: version)
            #expect(heap.status == 200, "\(heap.summary)")
            #expect(heap.httpVersion == version.rawValue)
            #expect(heap.isGzip)

            let size = 8 << 20
            let stream = try await environment.request(
                "/debug/pprof/stream?bytes=\(size)", token: TestUsers.alice.token, httpVersion: version)
            #expect(stream.status == 200, "\(stream.summary)")
            #expect(stream.httpVersion == version.rawValue)
            #expect(stream.body.count == size)
            #expect(stream.body.prefix(26) == Data("abcdefghijklmnopqrstuvwxyz".utf8))
        }
    }
}
