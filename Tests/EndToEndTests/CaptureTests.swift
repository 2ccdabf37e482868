import Foundation
import Testing
import TestProcesses

/// The pprof guardrails and the capture scheduler, end to end: the upstream's tracer (and, with
/// `--cpu-profile-slices=false`, its CPU profiler) is shared, queued and capped instead of
/// answering 500. CPUProfileSlicingTests has CPU profiles with slicing on, the default.
@Suite("Captures", .timeLimit(.minutes(2)))
struct CaptureTests {
    /// Join-or-queue for CPU profiles, as before slicing.
    static let withoutSlices = "--cpu-profile-slices=false"

    /// A CPU profile of `seconds`; with `progress`, asking to be told where it stands (`Pprof-Capture-Progress: 1`).
    private static func profile(
        _ environment: ProxyEnvironment, seconds: Int, version: HTTPVersion = .http1_1, maxTime: Duration = .seconds(30),
        progress: Bool = false
    ) async throws -> CurlResponse {
        try await Curl.perform(CurlRequest(
            url: environment.proxy.baseURL + "/debug/pprof/profile?seconds=\(seconds)", bearerToken: TestUsers.alice.token,
            httpVersion: version, headers: progress ? ["Pprof-Capture-Progress: 1"] : [], maxTime: maxTime))
    }

    /// Starts a CPU profile far longer than the test, holding the profiler until the returned task
    /// is cancelled: that kills its curl, and the proxy then frees the upstream profiler at once.
    /// (Waiters behind it need a `--capture-queue-timeout` above a minute.) With slices, it holds
    /// a capture slot of its user, and the upstream sees its first one-second slice.
    private static func holdProfiler(_ environment: ProxyEnvironment, sliced: Bool = false) async throws -> Task<CurlResponse, any Error> {
        let holder = Task { try await profile(environment, seconds: 60, maxTime: .seconds(90)) }
        let upstreamQuery = sliced ? "seconds=1" : "seconds=60"
        _ = try await environment.upstream.waitForRequest("the long profile", timeout: .seconds(10)) { $0.rawQuery == upstreamQuery }
        return holder
    }

    /// The capture metrics, from `/metrics` on the endpoints port (`--metrics-insecure`).
    private static func captureMetrics(port: Int) async throws -> PrometheusText {
        try await eventually("/metrics on the endpoints port", timeout: .seconds(10)) {
            let response = try await Curl.perform(CurlRequest(url: "https://127.0.0.1:\(port)/metrics"))
            return response.status == 200 ? try PrometheusText(parsing: response.bodyText) : nil
        }
    }

    /// The debug lines the capture scheduler has logged so far with `message`.
    private static func schedulerLines(_ environment: ProxyEnvironment, _ message: String) -> [String] {
        environment.proxy.process.lines(in: .stderr).filter { $0.contains(message) }
    }

    @Test("two concurrent 3 s CPU profiles share one upstream capture and get the same bytes")
    func joined() async throws {
        let metricsPort = try FreePort.find()
        let arguments = [Self.withoutSlices, "--capture-join-window=20s", "--proxy-endpoints-port", String(metricsPort), "--metrics-insecure"]
        try await ProxyEnvironment.withLocalProxy(proxyArguments: arguments, auditLog: true) { environment in
            async let first = Self.profile(environment, seconds: 3, version: .http1_1)
            async let second = Self.profile(environment, seconds: 3, version: .http2, progress: true)
            let (a, b) = try await (first, second)
            #expect(a.status == 200, "\(a.summary)")
            #expect(b.status == 200, "\(b.summary)")
            #expect(a.interimHeaders.isEmpty, "nobody asked for progress on the first: \(a.interimHeaders)")
            let told = b.interimValues("pprof-capture")
            #expect(told == ["started"] || told == ["joined"], "one 102 Processing over HTTP/2 saying which: \(told)")
            #expect(a.isGzip && a.body == b.body, "both clients must receive the same profile")
            let captures = try await environment.upstream.requests().filter { $0.path == "/debug/pprof/profile" }
            #expect(captures.count == 1, "one capture upstream, not \(captures.count)")
            let metrics = try await Self.captureMetrics(port: metricsPort)
            #expect(metrics.value("pprof_rbac_proxy_captures_joined_total", ["kind": "cpu"]) == 1)
            #expect(metrics.value("pprof_rbac_proxy_captures_running", ["kind": "cpu"]) == 0)
            let profile = ["endpoint": "profile"]
            #expect(metrics.count("pprof_rbac_proxy_upstream_latency_seconds_count", profile) == 1, "the one upstream capture is measured")
            #expect(metrics.count("pprof_rbac_proxy_upstream_response_bytes_total", profile) == Double(a.body.count))
            let audit = try await environment.waitForAuditLines(count: 2)
            #expect(Set(audit.compactMap { $0["capture"] as? String }) == ["started", "joined"])
        }
    }

    @Test("a CPU profile with other parameters waits for the running one, then runs (no 500)")
    func queued() async throws {
        try await ProxyEnvironment.withLocalProxy(proxyArguments: [Self.withoutSlices, "--capture-queue-timeout=5m", "-v=4"], auditLog: true) { environment in
            let holder = try await Self.holdProfiler(environment)
            async let queued = Self.profile(environment, seconds: 1, progress: true)
            try await environment.proxy.process.waitForLine(containing: "capture waiting", in: .stderr, timeout: .seconds(10))
            #expect(try await environment.upstream.requests().count == 1, "the second waits in the proxy, not at pprof")
            holder.cancel()
            let response = try await queued
            #expect(response.status == 200, "\(response.summary)")
            #expect(response.isGzip)
            let told = response.interimValues("pprof-capture")
            #expect(told.first == "queued; position=1" && told.count == 2, "queued, then started: \(told)")
            let waited = told.last.flatMap { $0.hasPrefix("started; waited=") ? Double($0.dropFirst(16)) : nil }
            #expect((waited ?? 0) > 0, "the start names the wait: \(told)")
            // Go may still be stopping the killed profile when the queued one starts: that first try
            // is answered 500 by pprof and sent again by the proxy, so the client never sees it.
            let captures = try await environment.upstream.requests().filter { $0.path == "/debug/pprof/profile" }
            #expect(captures.first?.rawQuery == "seconds=60")
            #expect(captures.dropFirst().allSatisfy { $0.rawQuery == "seconds=1" })
            #expect(captures.last?.status == 200)
            let audit = try await environment.waitForAuditLines(count: 2)
            let queuedLine = try #require(audit.first { $0["parameters"] as? [String: String] == ["seconds": "1"] })
            #expect(queuedLine["capture"] as? String == "queued")
            #expect((queuedLine["captureWaitSeconds"] as? Double ?? 0) > 0, "it waited for the running profile")
        }
    }

    @Test("a full queue is 429 with Retry-After, in go tool pprof's error format")
    func queueFull() async throws {
        let metricsPort = try FreePort.find()
        let arguments = [
            Self.withoutSlices, "--capture-queue-size=1", "--capture-queue-timeout=5m", "--max-captures-per-user=5", "-v=4",
            "--proxy-endpoints-port", String(metricsPort), "--metrics-insecure",
        ]
        try await ProxyEnvironment.withLocalProxy(proxyArguments: arguments) { environment in
            let holder = try await Self.holdProfiler(environment)
            async let waiting = Self.profile(environment, seconds: 1)
            try await environment.proxy.process.waitForLine(containing: "capture waiting", in: .stderr, timeout: .seconds(10))
            let refused = try await Self.profile(environment, seconds: 2)
            #expect(refused.status == 429, "\(refused.summary)")
            #expect(Int(refused.header("Retry-After") ?? "") ?? 0 >= 1)
            #expect(refused.header("X-Go-Pprof") == "1")
            #expect(refused.bodyText.contains("--capture-queue-size"), "\(refused.bodyText)")
            let metrics = try await Self.captureMetrics(port: metricsPort)
            #expect(metrics.value("pprof_rbac_proxy_captures_running", ["kind": "cpu"]) == 1)
            #expect(metrics.value("pprof_rbac_proxy_captures_queued", ["kind": "cpu"]) == 1)
            #expect(metrics.value("pprof_rbac_proxy_captures_queued", ["kind": "trace"]) == 0)
            holder.cancel()
            #expect(try await waiting.status == 200, "the waiter runs once the profiler is released")
        }
    }

    @Test("a waiter whose client leaves is taken out of the queue: it never runs, the next one goes first")
    func waiterLeaves() async throws {
        try await ProxyEnvironment.withLocalProxy(proxyArguments: [Self.withoutSlices, "--capture-queue-timeout=5m", "--max-captures-per-user=5", "-v=4"]) { environment in
            let holder = try await Self.holdProfiler(environment)
            let leaving = Task { try await Self.profile(environment, seconds: 20) }
            try await environment.proxy.process.waitForLine(containing: "capture waiting", in: .stderr, timeout: .seconds(10))
            leaving.cancel()
            let left = try await environment.proxy.process.waitForLine(containing: "capture waiter left", in: .stderr, timeout: .seconds(10))
            #expect(left.contains("waiting=0"), "the queue is empty again: \(left)")

            async let next = Self.profile(environment, seconds: 1)
            let nextWaits = try await eventually("the next profile to queue", timeout: .seconds(10)) {
                Self.schedulerLines(environment, "capture waiting").dropFirst().first
            }
            #expect(nextWaits.contains("waiting=1"), "only the next one waits: \(nextWaits)")
            holder.cancel()
            #expect(try await next.status == 200)
            let captures = try await environment.upstream.requests().filter { $0.path == "/debug/pprof/profile" }
            #expect(!captures.contains { $0.rawQuery == "seconds=20" }, "the leaver must never reach pprof")
            #expect(captures.last?.rawQuery == "seconds=1" && captures.last?.status == 200)
        }
    }

    @Test("--max-captures-per-user: one more capture is 429, with CPU profile slices or without", arguments: [true, false])
    func perUserLimit(sliced: Bool) async throws {
        let arguments = ["--max-captures-per-user=1"] + (sliced ? [] : [Self.withoutSlices])
        try await ProxyEnvironment.withLocalProxy(proxyArguments: arguments) { environment in
            let holder = try await Self.holdProfiler(environment, sliced: sliced)
            let delta = try await environment.request("/debug/pprof/heap?seconds=1", token: TestUsers.alice.token)
            #expect(delta.status == 429, "\(delta.summary)")
            #expect(delta.bodyText.contains("--max-captures-per-user=1"))
            #expect(try await environment.request("/debug/pprof/heap", token: TestUsers.alice.token).status == 200, "not a capture")
            holder.cancel()
            try await eventually("the capture slot to be released", timeout: .seconds(15)) {
                let retry = try await environment.request("/debug/pprof/heap?seconds=1", token: TestUsers.alice.token)
                return retry.status == 200 ? retry : nil
            }
        }
    }

    @Test("the capture cap cannot be bypassed: long seconds, duplicate keys, form bodies, other methods")
    func cap() async throws {
        let workspace = try TestWorkspace()
        defer { Task { await workspace.tearDown() } }
        let anyMethod = try workspace.write(ConfigurationFiles.staticAuthorizationConfig([.aliceDoesAnything]), to: "config.yaml")
        try await ProxyEnvironment.withLocalProxy(proxyArguments: ["--max-capture-seconds=10", "--config-file", anyMethod]) { environment in
            func send(_ path: String, method: String? = nil, headers: [String] = [], body: String? = nil) async throws -> CurlResponse {
                try await Curl.perform(CurlRequest(
                    url: environment.proxy.baseURL + path, bearerToken: TestUsers.alice.token, method: method,
                    headers: headers, body: body))
            }
            let long = try await send("/debug/pprof/profile?seconds=11")
            #expect(long.status == 400)
            #expect(long.bodyText.contains("--max-capture-seconds=10"), "\(long.bodyText)")
            #expect(long.header("X-Go-Pprof") == "1")
            #expect(try await send("/debug/pprof/profile").status == 400, "the default 30 s is over the cap")
            #expect(try await send("/debug/pprof/trace?seconds=3600").status == 400)
            #expect(try await send("/debug/pprof/heap?seconds=3600").status == 400)
            #expect(try await send("/debug/pprof/profile?seconds=3600&seconds=1").status == 400)
            #expect(try await send("/debug/pprof/profile?sec%6Fnds=3600").status == 400)
            let form = try await send(
                "/debug/pprof/profile?seconds=1", method: "POST",
                headers: ["Content-Type: application/x-www-form-urlencoded"], body: "seconds=3600")
            #expect(form.status == 405)
            #expect(form.header("Allow") == "GET, HEAD")
            #expect(try await send("/debug/pprof/profile?seconds=1", method: "PUT", body: "seconds=3600").status == 405)
            #expect(try await send("/debug/pprof/heap", method: "DELETE").status == 405)
            let withBody = try await send(
                "/debug/pprof/profile?seconds=1", headers: ["Content-Type: application/x-www-form-urlencoded"], body: "seconds=3600")
            #expect(withBody.status == 405, "curl sends a body as POST")
            #expect(try await environment.upstream.requests().isEmpty, "nothing reached pprof")
        }
    }

    @Test(
        "not captures, or not ours: POST /debug/pprof/symbol works; a profiler busy elsewhere gives Go's 500 unchanged, or with slices a 502 quoting it",
        arguments: [false, true])
    func passThrough(sliced: Bool) async throws {
        let workspace = try TestWorkspace()
        defer { Task { await workspace.tearDown() } }
        let anyMethod = try workspace.write(ConfigurationFiles.staticAuthorizationConfig([.aliceDoesAnything]), to: "config.yaml")
        let arguments = ["--config-file", anyMethod] + (sliced ? [] : [Self.withoutSlices])
        try await ProxyEnvironment.withLocalProxy(proxyArguments: arguments) { environment in
            let symbol = try await Curl.perform(CurlRequest(
                url: environment.proxy.baseURL + "/debug/pprof/symbol", bearerToken: TestUsers.alice.token, method: "POST",
                body: "0x1+0x2"))
            #expect(symbol.status == 200, "\(symbol.summary)")
            #expect(symbol.bodyText.hasPrefix("num_symbols: 1\n"), "\(symbol.bodyText)")

            let direct = Task {
                try await Curl.perform(CurlRequest(url: environment.upstream.upstreamURL + "debug/pprof/profile?seconds=60", maxTime: .seconds(90)))
            }
            defer { direct.cancel() }
            _ = try await environment.upstream.waitForRequest("the profile started around the proxy", timeout: .seconds(10)) {
                $0.rawQuery == "seconds=60"
            }
            let busy = try await Self.profile(environment, seconds: 1)
            #expect(busy.status == (sliced ? 502 : 500), "\(busy.summary)")
            #expect(busy.bodyText.contains("cpu profiling already in use"), "Go's own message: \(busy.bodyText)")
            #expect(busy.header("X-Go-Pprof") == "1", "go tool pprof prints the body")
        }
    }

    @Test("traces keep join-or-queue with CPU profile slices on: a second trace waits for the running one, then runs")
    func tracesQueue() async throws {
        try await ProxyEnvironment.withLocalProxy(proxyArguments: ["--capture-queue-timeout=5m", "-v=4"], auditLog: true) { environment in
            func trace(seconds: Int) async throws -> CurlResponse {
                try await Curl.perform(CurlRequest(
                    url: environment.proxy.baseURL + "/debug/pprof/trace?seconds=\(seconds)", bearerToken: TestUsers.alice.token,
                    headers: ["Pprof-Capture-Progress: 1"], maxTime: .seconds(90)))
            }
            let holder = Task { try await trace(seconds: 60) }
            _ = try await environment.upstream.waitForRequest("the long trace", timeout: .seconds(10)) { $0.rawQuery == "seconds=60" }
            async let queued = trace(seconds: 1)
            try await environment.proxy.process.waitForLine(containing: "capture waiting", in: .stderr, timeout: .seconds(10))
            holder.cancel()
            let response = try await queued
            #expect(response.status == 200, "\(response.summary)")
            #expect(response.interimValues("pprof-capture").first == "queued; position=1")
            let audit = try await environment.waitForAuditLines(count: 2)
            let queuedLine = try #require(audit.first { $0["parameters"] as? [String: String] == ["seconds": "1"] })
            #expect(queuedLine["capture"] as? String == "queued")
        }
    }
}
