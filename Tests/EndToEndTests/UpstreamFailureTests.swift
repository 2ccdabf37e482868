import Testing

/// An unreachable or misbehaving pprof server is a 502, never a 200.
@Suite("Upstream failures", .timeLimit(.minutes(2)))
struct UpstreamFailureTests {
    @Test("pprof server not running: 502")
    func upstreamDown() async throws {
        try await ProxyEnvironment.withKubernetesProxy { environment, _ in
            await environment.upstream.tearDown()

            let response = try await environment.request("/debug/pprof/heap", token: TestUsers.alice.token)

            expectProxyError(response, status: 502, bodyPrefix: "")
        }
    }

    @Test("pprof server closing the connection before a response head: 502")
    func upstreamHangsUp() async throws {
        try await ProxyEnvironment.withKubernetesProxy { environment, _ in
            let response = try await environment.request("/debug/pprof/hangup", token: TestUsers.alice.token)

            expectProxyError(response, status: 502, bodyPrefix: "")
            let hangups = try await environment.upstream.requests().filter { $0.path == "/debug/pprof/hangup" }
            #expect(!hangups.isEmpty, "the 502 must come from pprof hanging up, so the request has to reach it")
        }
    }

    @Test("pprof server resetting the connection before a response head: 502", arguments: HTTPVersion.allCases)
    func upstreamResetsBeforeHead(version: HTTPVersion) async throws {
        try await ProxyEnvironment.withKubernetesProxy { environment, _ in
            let response = try await environment.request("/debug/pprof/reset", token: TestUsers.alice.token, httpVersion: version)

            expectProxyError(response, status: 502, bodyPrefix: "Bad Gateway")
            let resets = try await environment.upstream.requests().filter { $0.path == "/debug/pprof/reset" }
            #expect(!resets.isEmpty, "the 502 must come from pprof resetting, so the request has to reach it")
        }
    }

    /// A pprof-server endpoint that sends a 200 head and 100,000 body bytes, then breaks off.
    enum MidBodyFault: String, CaseIterable, Sendable, CustomTestStringConvertible {
        case resetAfterChunk = "/debug/pprof/reset?after=100000"
        case truncatedLengthFramed = "/debug/pprof/truncate?bytes=100000&framing=length"
        case truncatedChunked = "/debug/pprof/truncate?bytes=100000&framing=chunked"

        var testDescription: String { rawValue }
    }

    /// curl's exit codes for a transfer that broke off: 18 partial file, 56 receive failure,
    /// 92 HTTP/2 stream not closed cleanly.
    static let abortedTransferExitCodes: Set<Int32> = [18, 56, 92]

    @Test(
        "pprof server dying mid-body: the client sees an aborted transfer, never a clean end",
        arguments: MidBodyFault.allCases, HTTPVersion.allCases)
    func upstreamDiesMidBody(fault: MidBodyFault, version: HTTPVersion) async throws {
        try await ProxyEnvironment.withKubernetesProxy { environment, _ in
            let response = try await environment.request(fault.rawValue, token: TestUsers.alice.token, httpVersion: version)

            #expect(response.status == 200, "the head was relayed before the fault: \(response.summary)")
            #expect(response.httpVersion == version.rawValue)
            #expect(Self.abortedTransferExitCodes.contains(response.exitCode), "\(response.summary)")
            #expect(response.body.count <= 100_000, "more bytes than pprof sent: \(response.summary)")
            let forwarded = try await environment.upstream.requests()
            #expect(forwarded.map(\.ended) == ["aborted"], "\(forwarded.map { "\($0.path) \($0.ended)" })")
        }
    }

    @Test("pprof server answering after 15 s: the response arrives, and other requests are served meanwhile", arguments: HTTPVersion.allCases)
    func slowUpstreamHead(version: HTTPVersion) async throws {
        try await ProxyEnvironment.withKubernetesProxy { environment, _ in
            let alice = TestUsers.alice.token
            async let slow = environment.request("/debug/pprof/slow-head?delay=15s", token: alice, httpVersion: version)
            _ = try await environment.upstream.waitForRequest("the slow request", timeout: .seconds(10)) {
                $0.path == "/debug/pprof/slow-head"
            }

            // 15 s leaves a loaded test machine ample time to serve the other request meanwhile.
            let other = try await environment.request("/debug/pprof/cmdline", token: alice, httpVersion: version)
            #expect(other.status == 200, "\(other.summary)")
            let slowRecord = try #require(try await environment.upstream.requests().first { $0.path == "/debug/pprof/slow-head" })
            #expect(slowRecord.ended == "running", "the other request waited for the slow one: \(other.summary)")

            let slowResponse = try await slow
            #expect(slowResponse.status == 200, "\(slowResponse.summary)")
            #expect(slowResponse.bodyText == "slow head\n")
            #expect(slowResponse.elapsed >= .seconds(15), "\(slowResponse.summary)")
        }
    }

    @Test("HTTP/2: a stream waiting 5 s for pprof does not hold up another stream on the same connection")
    func slowUpstreamHeadMultiplexed() async throws {
        try await ProxyEnvironment.withKubernetesProxy { environment, _ in
            // One curl, both requests in parallel; curl multiplexes them on one connection.
            let request = CurlRequest(url: environment.proxy.baseURL, bearerToken: TestUsers.alice.token, httpVersion: .http2)
            let run = try await CompletedProcess.run(
                "curl",
                arguments: request.arguments + [
                    "--parallel", "-w", "%{url_effective} %{http_code} %{num_connects} %{time_total}\\n",
                    "-o", "/dev/null", request.url + "/debug/pprof/slow-head?delay=5s",
                    "-o", "/dev/null", request.url + "/debug/pprof/cmdline",
                ],
                timeout: .seconds(30))
            #expect(run.exitStatus == 0, "\(run.output)")

            // curl writes each line as its transfer ends.
            let lines = run.stdout.map { $0.split(separator: " ") }
            try #require(lines.count == 2 && lines.allSatisfy { $0.count == 4 }, "\(run.output)")
            #expect(lines[0][0].hasSuffix("/debug/pprof/cmdline"), "the fast request ended last: \(run.output)")
            #expect(lines.map { $0[1] } == ["200", "200"], "\(run.output)")
            #expect(lines.map { Int($0[2]) ?? -1 }.reduce(0, +) == 1, "not one shared connection: \(run.output)")
            let seconds = lines.map { Double($0[3]) ?? -1 }
            #expect(seconds[0] < 5 && seconds[1] >= 5, "\(run.output)")
        }
    }
}
