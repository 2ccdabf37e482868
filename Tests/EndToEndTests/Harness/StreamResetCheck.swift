import TestProcesses
import Testing

/// Resets an HTTP/2 stream running a 20 s CPU profile through the proxy (tools/h2-reset-client),
/// then checks that pprof released the profiler at once and that the next profile, sent on the
/// same client connection, succeeds.
enum StreamResetCheck {
    static func expectProfilerReleased(
        in environment: ProxyEnvironment, sourceLocation: SourceLocation = #_sourceLocation
    ) async throws {
        let client = try await GoProgramBuilder.shared.executable(for: .h2ResetClient)
        let run = try await CompletedProcess.run(
            client,
            arguments: [
                "-first", environment.proxy.baseURL + "/debug/pprof/profile?seconds=20",
                "-second", environment.proxy.baseURL + "/debug/pprof/profile?seconds=1",
                "-token", TestUsers.alice.token, "-cancel-after", "1s",
                // The next profile goes out once pprof has noticed the reset, as a person would retry.
                "-released", "http://127.0.0.1:\(environment.upstream.port)/control/requests",
                "-released-marker", #""ended":"client-gone""#,
            ],
            timeout: .seconds(15)
        )
        #expect(run.exitStatus == 0, "\(run.output)", sourceLocation: sourceLocation)
        #expect(run.stdout.contains("status=200 proto=HTTP/2.0 reused=true"), "\(run.output)", sourceLocation: sourceLocation)

        let upstreamProfile = try await environment.upstream.waitForRequest(
            "the reset 20 s profile to end", timeout: .seconds(5)
        ) { $0.rawQuery == "seconds=20" && $0.ended != "running" }
        #expect(upstreamProfile.ended == "client-gone", sourceLocation: sourceLocation)
        #expect(upstreamProfile.durationSeconds < 6, "the profiler was held \(upstreamProfile.durationSeconds) s", sourceLocation: sourceLocation)
    }
}
