import Testing

/// Starts a 20 s CPU profile through the proxy with a curl that gives up after 1 s, then checks that
/// pprof released the profiler at once (the client left, not the profile ended) and that the next
/// profile succeeds.
enum ClientAbortCheck {
    static func expectProfilerReleased(
        in environment: ProxyEnvironment, version: HTTPVersion, upstreamProto: String? = nil,
        sourceLocation: SourceLocation = #_sourceLocation
    ) async throws {
        let aborted = try await environment.request(
            "/debug/pprof/profile?seconds=20", token: TestUsers.alice.token, httpVersion: version, maxTime: .seconds(1))
        #expect(aborted.exitCode == 28, "curl should have timed out: \(aborted.summary)", sourceLocation: sourceLocation)

        let upstreamProfile = try await environment.upstream.waitForRequest(
            "the aborted 20 s profile to end", timeout: .seconds(5)
        ) { $0.rawQuery == "seconds=20" && $0.ended != "running" }
        #expect(upstreamProfile.ended == "client-gone", sourceLocation: sourceLocation)
        if let upstreamProto {
            #expect(upstreamProfile.proto == upstreamProto, sourceLocation: sourceLocation)
        }
        #expect(upstreamProfile.durationSeconds < 6, "the profiler was held \(upstreamProfile.durationSeconds) s", sourceLocation: sourceLocation)

        let next = try await environment.request("/debug/pprof/profile?seconds=1", token: TestUsers.alice.token)
        #expect(next.status == 200, "the profiler is still busy: \(next.summary)", sourceLocation: sourceLocation)
        #expect(next.isGzip, sourceLocation: sourceLocation)
    }
}
