import Foundation
import Testing
import TestProcesses

/// CPU profiles served from slices (`--cpu-profile-slices`, the default), end to end: the proxy
/// takes the upstream's CPU profile in back-to-back one-second captures while any request needs
/// one, and answers each request with the merge of the slices of its own window, which
/// `go tool pprof` reads.
@Suite("CPU profile slices", .timeLimit(.minutes(2)))
struct CPUProfileSlicingTests {
    /// A CPU profile of `seconds` through the proxy.
    private static func profile(
        _ environment: ProxyEnvironment, seconds: Int, version: HTTPVersion = .http1_1, progress: Bool = false
    ) async throws -> CurlResponse {
        try await Curl.perform(CurlRequest(
            url: environment.proxy.baseURL + "/debug/pprof/profile?seconds=\(seconds)", bearerToken: TestUsers.alice.token,
            httpVersion: version, headers: progress ? ["Pprof-Capture-Progress: 1"] : [], maxTime: .seconds(90)))
    }

    /// The upstream's CPU profile requests so far.
    private static func slices(_ environment: ProxyEnvironment) async throws -> [UpstreamRequest] {
        try await environment.upstream.requests().filter { $0.path == "/debug/pprof/profile" }
    }

    /// What `go tool pprof -raw` says a profile lasted, in seconds.
    private static func duration(of body: Data, in workspace: TestWorkspace, name: String) async throws -> Double {
        let file = workspace.path(name)
        try body.write(to: URL(fileURLWithPath: file))
        let raw = String(decoding: try await GoPprof.run(["-raw", file]), as: UTF8.self)
        let line = try #require(raw.split(separator: "\n").first { $0.hasPrefix("Duration: ") }, "\(raw)")
        return try #require(Double(line.dropFirst("Duration: ".count)), "\(line)")
    }

    /// An audit line's `captureSlices` as (first, last, count).
    private static func slices(in line: [String: Any]) -> (first: Int, last: Int, count: Int)? {
        guard let slices = line["captureSlices"] as? [String: Any], let first = slices["first"] as? Int,
            let last = slices["last"] as? Int, let count = slices["count"] as? Int
        else { return nil }
        return (first, last, count)
    }

    @Test("a 30 s CPU profile and a 10 s one that starts 5 s later are both served at once, from one series of 1 s slices, each with its own window")
    func overlapping() async throws {
        let metricsPort = try FreePort.find()
        let arguments = ["--proxy-endpoints-port", String(metricsPort), "--metrics-insecure"]
        try await ProxyEnvironment.withLocalProxy(proxyArguments: arguments, auditLog: true) { environment in
            try await using(try TestWorkspace()) { workspace in
                let clock = ContinuousClock()
                let longSent = clock.now
                let long = Task { (try await Self.profile(environment, seconds: 30), clock.now) }
                // Five slices in: the sixth is running.
                try await eventually("the long profile's sixth slice", timeout: .seconds(30)) {
                    try await Self.slices(environment).count >= 6 ? true : nil
                }
                let shortSent = clock.now
                let short = try await Self.profile(environment, seconds: 10, version: .http2, progress: true)
                let shortAnswered = clock.now
                let (longResponse, longAnswered) = try await long.value

                #expect(short.status == 200, "\(short.summary)")
                #expect(longResponse.status == 200, "\(longResponse.summary)")
                #expect(shortAnswered < longAnswered, "the short one does not wait for the long one")
                for response in [short, longResponse] {
                    #expect(response.isGzip)
                    #expect(response.header("Content-Type") == "application/octet-stream")
                    #expect(response.header("Content-Disposition") == #"attachment; filename="profile""#)
                }
                let told = short.interimValues("pprof-capture")
                #expect(told.first == "sliced; done=0; slices=10" && told.last == "sliced; done=10; slices=10", "\(told)")

                // Go reads both, and each says it lasted its own window: at least the seconds
                // asked for, within the time the request took.
                let shortDuration = try await Self.duration(of: short.body, in: workspace, name: "short.pb.gz")
                let longDuration = try await Self.duration(of: longResponse.body, in: workspace, name: "long.pb.gz")
                #expect(shortDuration >= 10 && shortDuration <= (shortAnswered - shortSent).inSeconds, "\(shortDuration)")
                #expect(longDuration >= 30 && longDuration <= (longAnswered - longSent).inSeconds, "\(longDuration)")
                for name in ["short.pb.gz", "long.pb.gz"] {
                    let top = String(decoding: try await GoPprof.run(["-top", workspace.path(name)]), as: UTF8.self)
                    #expect(top.contains("Type: cpu"), "\(top)")
                }

                // The upstream saw one-second slices only, 30 of them (the short window lies in
                // the long one), asked by the proxy without anyone's credentials.
                let upstream = try await Self.slices(environment)
                #expect(upstream.count == 30, "\(upstream.map(\.rawQuery))")
                #expect(upstream.allSatisfy { $0.rawQuery == "seconds=1" && $0.status == 200 && !$0.hasHeader("Authorization") })

                let audit = try await environment.waitForAuditLines(count: 2)
                #expect(audit.allSatisfy { $0["capture"] as? String == "sliced" && $0["status"] as? Int == 200 }, "\(audit)")
                let longLine = try #require(audit.first { $0["parameters"] as? [String: String] == ["seconds": "30"] })
                let shortLine = try #require(audit.first { $0["parameters"] as? [String: String] == ["seconds": "10"] })
                let longSlices = try #require(Self.slices(in: longLine))
                let shortSlices = try #require(Self.slices(in: shortLine))
                #expect(longSlices.first == 1 && longSlices.last == 30 && longSlices.count == 30, "\(longSlices)")
                #expect(shortSlices.count == 10 && shortSlices.first >= 7 && shortSlices.last <= 30, "\(shortSlices)")
                #expect((shortLine["captureLargestGapSeconds"] as? Double).map { $0 >= 0 } == true, "\(shortLine)")

                let metrics = try await eventually("/metrics", timeout: .seconds(10)) {
                    let response = try await Curl.perform(CurlRequest(url: "https://127.0.0.1:\(metricsPort)/metrics"))
                    return response.status == 200 ? try PrometheusText(parsing: response.bodyText) : nil
                }
                #expect(metrics.value("pprof_rbac_proxy_cpu_profile_slices_total", ["result": "ok"]) == 30)
                #expect(metrics.value("pprof_rbac_proxy_cpu_profile_slices_total", ["result": "failed"]) == 0)
                #expect(metrics.value("pprof_rbac_proxy_cpu_profile_slice_gap_seconds_count") == 29, "the gap before each slice but the first")
                #expect(metrics.value("pprof_rbac_proxy_captures_running", ["kind": "cpu"]) == 0)
            }
        }
    }

    @Test("a slice that is not a profile is a clear 502 for the requests it belonged to; the next request is served again")
    func garbage() async throws {
        try await ProxyEnvironment.withLocalProxy { environment in
            try await environment.upstream.answerCPUProfiles(withGarbage: true)
            let refused = try await Self.profile(environment, seconds: 2)
            #expect(refused.status == 502, "\(refused.summary)")
            #expect(refused.bodyText.hasPrefix("Bad Gateway: a CPU profile slice from the upstream is "), "\(refused.bodyText)")
            #expect(refused.header("X-Go-Pprof") == "1")
            try await environment.proxy.process.waitForLine(containing: "CPU profile slice failed", in: .stderr, timeout: .seconds(10))

            try await environment.upstream.answerCPUProfiles(withGarbage: false)
            let served = try await Self.profile(environment, seconds: 1)
            #expect(served.status == 200, "\(served.summary)")
            #expect(served.isGzip)
        }
    }

    @Test("a client that gives up: the slice running ends, no other follows, and the next request starts the slices again", arguments: HTTPVersion.allCases)
    func clientLeaves(version: HTTPVersion) async throws {
        try await ProxyEnvironment.withLocalProxy(auditLog: true) { environment in
            let leaving = Task { try await Self.profile(environment, seconds: 20, version: version) }
            try await eventually("the second slice", timeout: .seconds(10)) {
                try await Self.slices(environment).count >= 2 ? true : nil
            }
            leaving.cancel()
            // Slicing back to back, a slice is always running; stopped, none is.
            let taken = try await eventually("the slices to stop", timeout: .seconds(10)) {
                let slices = try await Self.slices(environment)
                return slices.contains { $0.ended == "running" } ? nil : slices.count
            }
            let next = try await Self.profile(environment, seconds: 1, version: version)
            #expect(next.status == 200, "\(next.summary)")
            #expect(try await Self.slices(environment).count == taken + 1, "one more slice, for the next request only")
            let audit = try await environment.waitForAuditLines(count: 2)
            #expect(audit.first?["outcome"] as? String == "aborted")
            let nextSlices = try #require(audit.last.flatMap(Self.slices(in:)))
            #expect(nextSlices.first == taken + 1 && nextSlices.count == 1, "\(nextSlices)")
        }
    }
}
