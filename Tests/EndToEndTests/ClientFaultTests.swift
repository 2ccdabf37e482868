import Foundation
import Testing
import TestProcesses

/// Clients that leave at any moment (during the TLS handshake, while the gate asks the Kubernetes
/// API, while pprof prepares its answer, mid-body): the upstream request is closed at once, nothing
/// undecided is forwarded, and the proxy keeps no descriptor, connection or thread for them.
@Suite("Client faults", .timeLimit(.minutes(2)))
struct ClientFaultTests {
    @Test("Connections closed before or during the TLS handshake: counted as handshake EOFs, nothing kept")
    func disconnectDuringHandshake() async throws {
        let endpointsPort = try FreePort.find()
        let arguments = ["--proxy-endpoints-port", String(endpointsPort), "--metrics-insecure"]
        try await ProxyEnvironment.withLocalProxy(proxyArguments: arguments) { environment in
            let baseline = try await ProxyFootprint.baseline(of: environment)
            let forwardedBefore = try await environment.upstream.requests().count
            let handshakeEOFs = ["listener": "proxy", "reason": "eof"]
            let before = try await Self.metrics(port: endpointsPort).count("pprof_rbac_proxy_tls_handshake_failures_total", handshakeEOFs)

            // 20 TCP connections that never start the handshake, then close.
            let held = try await HostileClient.hold(count: 20, port: environment.proxy.port, tls: true, handshake: false)
            #expect(held.opened == 20 && held.failed == 0, "opened \(held.opened), failed \(held.failed)")
            _ = try await held.release()
            // One that sends the start of a ClientHello (a 512-byte handshake record announced, 75
            // bytes of it sent; every byte ASCII, as the request file is UTF-8) and closes.
            let partialClientHello = "\u{16}\u{03}\u{01}\u{02}\u{00}" + "\u{01}\u{00}\u{01}\u{7c}" + "\u{03}\u{03}"
                + String(repeating: "r", count: 64)
            let partial = try await HostileClient.raw(
                partialClientHello, port: environment.proxy.port, in: environment.workspace, tls: false,
                extraArguments: ["-close-after-send"])
            #expect(partial.bytesSent == 75 && partial.ended == "client-closed", "\(partial.ended), \(partial.bytesSent) bytes sent")
            #expect(partial.received.isEmpty, "the proxy answered a partial ClientHello: \(partial.received.debugDescription)")

            try await eventually("21 handshakes ended by EOF", timeout: .seconds(10)) {
                let after = try await Self.metrics(port: endpointsPort).count("pprof_rbac_proxy_tls_handshake_failures_total", handshakeEOFs)
                return after >= before + 21 ? true : nil
            }
            #expect(try await environment.upstream.requests().count == forwardedBefore, "a connection without a handshake was forwarded")
            try await ProxyFootprint.expectBack(to: baseline, in: environment)
        }
    }

    @Test("Client gone while the gate waits for a slow TokenReview: nothing forwarded once the API answers, nothing kept")
    func disconnectDuringAuthentication() async throws {
        let bobReadsPprof = FakeAPIServerRule(user: "bob", paths: ["/debug/pprof", "/debug/pprof/*"], verbs: ["get"])
        try await ProxyEnvironment.withKubernetesProxy(rules: [.aliceReadsPprof, bobReadsPprof], auditLog: true) { environment, apiServer in
            let baseline = try await ProxyFootprint.baseline(of: environment)
            try await apiServer.setMode(.slow(.seconds(3)))

            // bob's token has not been checked yet, so the gate waits for the API.
            let request = "GET /debug/pprof/heap?left=during-authentication HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                + "Authorization: Bearer \(TestUsers.bob.token)\r\n\r\n"
            let gone = try await HostileClient.raw(
                request, port: environment.proxy.port, in: environment.workspace, extraArguments: ["-close-after-send"])
            #expect(gone.allSent && gone.ended == "client-closed", "\(gone.ended)")
            #expect(gone.responses.isEmpty, "answered before the API did: \(gone.statuses)")
            try await eventually("bob's TokenReview to reach the API", timeout: .seconds(10)) {
                try await apiServer.calls().tokenReviews >= 2 ? true : nil
            }
            try await apiServer.setMode(.normal)

            // This request shares the slow TokenReview (or finds its answer cached), so it is decided
            // only once the gate has bob's identity for the request of the client that left too.
            let next = try await environment.request("/debug/pprof/heap?left=no", token: TestUsers.bob.token)
            #expect(next.status == 200, "\(next.summary)")

            let audit = try await environment.waitForAuditLines(count: 3)
            let goneRecord = try #require(audit.first { ($0["path"] as? String) == "/debug/pprof/heap" && $0["status"] == nil })
            #expect(goneRecord["decision"] as? String == "none", "\(goneRecord)")
            try await ProxyFootprint.expectBack(to: baseline, in: environment)
            let forwarded = try await environment.upstream.requests().filter { $0.rawQuery.hasPrefix("left=") }
            #expect(forwarded.map(\.rawQuery) == ["left=no"], "forwarded: \(forwarded.map(\.rawQuery))")
        }
    }

    @Test("Client gone while pprof prepares a 100 s answer: the upstream request is closed, not left to run, nothing kept", arguments: HTTPVersion.allCases)
    func disconnectWaitingForUpstreamHead(version: HTTPVersion) async throws {
        try await ProxyEnvironment.withLocalProxy { environment in
            let baseline = try await ProxyFootprint.baseline(of: environment)

            // Far longer than the test may take on a loaded machine to see the request and stop curl,
            // so that only the proxy closing the upstream request ends it before its answer.
            let curl = try Self.launchCurl(environment, "/debug/pprof/slow-head?delay=100s", version: version)
            try await using(curl) { curl in
                _ = try await environment.upstream.waitForRequest("the slow request", timeout: .seconds(30)) {
                    $0.path == "/debug/pprof/slow-head"
                }
                await curl.tearDown()
            }
            let upstream = try await environment.upstream.waitForRequest("the slow request to end", timeout: .seconds(30)) {
                $0.path == "/debug/pprof/slow-head" && $0.ended != "running"
            }
            #expect(upstream.ended == "client-gone")
            #expect(upstream.durationSeconds < 60, "pprof kept the request \(upstream.durationSeconds) s of its 100")
            try await ProxyFootprint.expectBack(to: baseline, in: environment)
        }
    }

    @Test("HTTP/1.1 client closing after 1 MB of a 20 s stream: the upstream request is closed at once, nothing kept")
    func disconnectMidBodyHTTP1() async throws {
        try await ProxyEnvironment.withLocalProxy { environment in
            let baseline = try await ProxyFootprint.baseline(of: environment)

            let request = "GET \(Self.pacedStream) HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer \(TestUsers.alice.token)\r\n\r\n"
            let client = try await HostileClient.raw(
                request, port: environment.proxy.port, in: environment.workspace, extraArguments: ["-close-after-bytes", "1000000"])
            #expect(client.ended == "client-closed", "\(client.ended)")
            #expect(client.received.hasPrefix("HTTP/1.1 200 "), "\(client.received.prefix(200))")

            try await Self.expectStreamClosedEarly(environment)
            try await ProxyFootprint.expectBack(to: baseline, in: environment)
        }
    }

    @Test("HTTP/2 client killed after 1 MB of a 20 s stream: the upstream request is closed at once, nothing kept")
    func disconnectMidBodyHTTP2() async throws {
        try await ProxyEnvironment.withLocalProxy { environment in
            let baseline = try await ProxyFootprint.baseline(of: environment)

            let output = environment.workspace.path("stream")
            let curl = try Self.launchCurl(environment, Self.pacedStream, version: .http2, output: output)
            try await using(curl) { curl in
                try await eventually("1 MB of the stream", timeout: .seconds(15)) {
                    let size = (try? FileManager.default.attributesOfItem(atPath: output)[.size] as? Int) ?? 0
                    return size >= 1_000_000 ? true : nil
                }
                await curl.tearDown()
            }

            try await Self.expectStreamClosedEarly(environment)
            try await ProxyFootprint.expectBack(to: baseline, in: environment)
        }
    }

    /// 100 MB paced over 20 s, 64 KiB at a time.
    static let pacedStream = "/debug/pprof/stream?bytes=100000000&duration=20s"

    /// Checks that pprof saw the paced stream's client leave long before the stream's 20 s.
    static func expectStreamClosedEarly(_ environment: ProxyEnvironment, sourceLocation: SourceLocation = #_sourceLocation) async throws {
        let upstream = try await environment.upstream.waitForRequest("the stream to end", timeout: .seconds(10)) {
            $0.path == "/debug/pprof/stream" && $0.ended != "running"
        }
        #expect(upstream.ended == "client-gone", sourceLocation: sourceLocation)
        #expect(upstream.durationSeconds < 10, "the stream ran \(upstream.durationSeconds) s", sourceLocation: sourceLocation)
        #expect(upstream.bytes < 50_000_000, "pprof sent \(upstream.bytes) bytes", sourceLocation: sourceLocation)
    }

    /// Starts curl fetching `path` as alice, writing the body to `output`; the test kills it.
    static func launchCurl(
        _ environment: ProxyEnvironment, _ path: String, version: HTTPVersion, output: String = "/dev/null"
    ) throws -> ChildProcess {
        let request = CurlRequest(url: environment.proxy.baseURL + path, bearerToken: TestUsers.alice.token, httpVersion: version)
        return try ChildProcess.launch("curl", arguments: request.arguments + ["-o", output, request.url])
    }

    /// `/metrics` from the endpoints port (`--metrics-insecure`).
    static func metrics(port: Int) async throws -> PrometheusText {
        try await eventually("/metrics on the endpoints port", timeout: .seconds(10)) {
            let response = try await Curl.perform(CurlRequest(url: "https://127.0.0.1:\(port)/metrics"))
            return response.status == 200 ? try PrometheusText(parsing: response.bodyText) : nil
        }
    }
}

/// What the proxy process holds once idle: descriptors, TCP connections by peer, and threads.
///
/// Idle keep-alive connections to pprof are kept apart: each event loop pools its own, so how many
/// there are depends on which loops served requests, not on leaks; they must be idle
/// (`ESTABLISHED`, no request running at pprof). Nothing else may exceed the baseline. It is an
/// upper bound, not an exact count, because an idle proxy briefly opens a descriptor now and then
/// (re-reading its files) and runs 4 to 7 threads (dispatch workers come and go).
///
/// The proxy has no count of its Swift tasks. A task leaked per request would hold what it waits
/// on (a connection, a descriptor) or a thread, so the descriptors and the thread count (which
/// must not grow) stand in for it.
struct ProxyFootprint: Equatable, CustomStringConvertible {
    /// Open descriptors other than the idle pooled connections to pprof.
    let fileDescriptors: Int
    /// Connections accepted on the proxy's listener.
    let clientConnections: Int
    /// Any other TCP connection (the Kubernetes API, the endpoints port).
    let otherConnections: Int
    let threads: Int
    /// The states of the pooled connections to pprof.
    let upstreamConnectionStates: [String]

    var description: String {
        "\(fileDescriptors) descriptors besides \(upstreamConnectionStates.count) pooled connections to pprof "
            + "\(upstreamConnectionStates), \(clientConnections) client and \(otherConnections) other connections, \(threads) threads"
    }

    /// Reads the proxy's footprint now.
    static func of(_ environment: ProxyEnvironment) throws -> ProxyFootprint {
        let resources = try ProcessResources.of(environment.proxy.process.processIdentifier)
        let clients = resources.connections.filter { $0.localPort == environment.proxy.port }.count
        let upstream = resources.connections.filter { $0.remotePort == environment.upstream.port }.map(\.state)
        return ProxyFootprint(
            fileDescriptors: resources.fileDescriptors - upstream.count, clientConnections: clients,
            otherConnections: resources.connections.count - clients - upstream.count, threads: resources.threads,
            upstreamConnectionStates: upstream)
    }

    /// True when this footprint holds nothing `baseline` did not: no more descriptors, connections
    /// or threads, and only idle pooled connections to pprof.
    func isBack(to baseline: ProxyFootprint) -> Bool {
        fileDescriptors <= baseline.fileDescriptors && clientConnections <= baseline.clientConnections
            && otherConnections <= baseline.otherConnections && threads <= baseline.threads
            && upstreamConnectionStates.allSatisfy { $0 == "ESTABLISHED" }
    }

    /// Warms the proxy up as alice, over HTTP/1.1 and then HTTP/2, waits until the client
    /// connections are closed, and returns the footprint then.
    static func baseline(of environment: ProxyEnvironment) async throws -> ProxyFootprint {
        for version in HTTPVersion.allCases {
            let response = try await environment.request("/debug/pprof/heap", token: TestUsers.alice.token, httpVersion: version)
            try #require(response.status == 200, "warm-up: \(response.summary)")
        }
        return try await eventually("the warm-up's client connections to close", timeout: .seconds(10)) {
            let footprint = try of(environment)
            return footprint.clientConnections == 0 ? footprint : nil
        }
    }

    /// Waits until the proxy holds no more than at `baseline`, and pprof runs no request.
    static func expectBack(
        to baseline: ProxyFootprint, in environment: ProxyEnvironment, sourceLocation: SourceLocation = #_sourceLocation
    ) async throws {
        var last = try of(environment)
        do {
            try await eventually("the proxy's footprint to return to \(baseline)", timeout: .seconds(10)) {
                last = try of(environment)
                return last.isBack(to: baseline) ? true : nil
            }
        } catch {
            Issue.record("\(error); now \(last)", sourceLocation: sourceLocation)
        }
        let running = try await environment.upstream.requests().filter { $0.ended == "running" }
        #expect(running.isEmpty, "pprof still runs \(running.map(\.path))", sourceLocation: sourceLocation)
    }
}
