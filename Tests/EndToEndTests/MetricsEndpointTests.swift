import Foundation
import Testing
import TestProcesses

/// `/metrics`: where it is served, how it is protected, and that it tells the truth about traffic.
@Suite("Metrics endpoint", .timeLimit(.minutes(2)))
struct MetricsEndpointTests {
    func scrape(port: Int, token: String? = nil) async throws -> CurlResponse {
        try await Curl.perform(CurlRequest(url: "https://127.0.0.1:\(port)/metrics", bearerToken: token))
    }

    func metrics(port: Int, token: String? = TestUsers.alice.token) async throws -> PrometheusText {
        let response = try await scrape(port: port, token: token)
        try #require(response.status == 200, "\(response.summary)")
        #expect(response.header("content-type")?.hasPrefix("text/plain; version=0.0.4") == true)
        return try PrometheusText(parsing: response.bodyText)
    }

    /// Waits until `port` answers `/healthz` (the endpoints listener starts beside the proxy's).
    func waitForEndpoints(port: Int) async throws {
        try await eventually("the endpoints port to answer", timeout: .seconds(10)) {
            try await Curl.perform(CurlRequest(url: "https://127.0.0.1:\(port)/healthz")).status == 200 ? true : nil
        }
    }

    @Test("Next to /healthz: 401 without a token, 403 without a grant; for alice Prometheus text whose counters follow the traffic")
    func protectedOnEndpointsPort() async throws {
        let port = try FreePort.find()
        try await using(try TestWorkspace()) { certificates in
            let serving = try await ServingCertificate.generate(in: certificates)
            let arguments = [
                "--proxy-endpoints-port", String(port),
                "--tls-cert-file", serving.certificate, "--tls-private-key-file", serving.privateKey,
            ]
            try await ProxyEnvironment.withKubernetesProxy(
                proxyArguments: arguments, rules: [.aliceReadsPprof, .aliceReadsMetrics]
            ) { environment, _ in
                try await waitForEndpoints(port: port)
                let anonymous = try await scrape(port: port)
                #expect(anonymous.status == 401, "\(anonymous.summary)")
                #expect(anonymous.bodyText == "Unauthorized\n")
                let bob = try await scrape(port: port, token: TestUsers.bob.token)
                #expect(bob.status == 403, "\(bob.summary)")
                #expect(bob.bodyText == "Forbidden (user=bob, verb=get, path=/metrics)\n")

                let before = try await metrics(port: port)
                for _ in 0..<2 {
                    let heap = try await environment.request("/debug/pprof/heap", token: TestUsers.alice.token)
                    #expect(heap.status == 200, "\(heap.summary)")
                }
                let plainHTTP = try await CompletedProcess.run(
                    "curl", arguments: ["-sS", "-o", "/dev/null", "http://127.0.0.1:\(environment.proxy.port)/debug/pprof/heap"],
                    timeout: .seconds(15))
                #expect(plainHTTP.exitStatus != 0, "plain HTTP on the TLS port must fail")
                let handshakeFailure = ["listener": "proxy", "reason": "error"]
                let after = try await eventually("the failed handshake to be counted", timeout: .seconds(5)) {
                    let after = try await metrics(port: port)
                    let failures = after.count("pprof_rbac_proxy_tls_handshake_failures_total", handshakeFailure)
                    return failures > before.count("pprof_rbac_proxy_tls_handshake_failures_total", handshakeFailure) ? after : nil
                }

                func delta(_ name: String, _ labels: [String: String]) -> Double {
                    after.count(name, labels) - before.count(name, labels)
                }
                #expect(after.types["pprof_rbac_proxy_requests_total"] == "counter")
                #expect(after.types["pprof_rbac_proxy_request_duration_seconds"] == "histogram")
                let heap = ["endpoint": "heap"]
                #expect(delta("pprof_rbac_proxy_requests_total", ["code": "200", "endpoint": "heap"]) == 2)
                #expect(delta("pprof_rbac_proxy_request_duration_seconds_count", heap) == 2)
                #expect(delta("pprof_rbac_proxy_upstream_latency_seconds_count", heap) == 2)
                #expect(delta("pprof_rbac_proxy_upstream_response_bytes_total", heap) > 0)
                // alice's token is already cached by her first scrape; her heap question is new once.
                #expect(delta("pprof_rbac_proxy_authentication_cache_lookups_total", ["result": "hit"]) == 2)
                #expect(delta("pprof_rbac_proxy_authentication_cache_lookups_total", ["result": "miss"]) == 0)
                #expect(delta("pprof_rbac_proxy_authorization_cache_lookups_total", ["result": "miss"]) == 1)
                #expect(delta("pprof_rbac_proxy_authorization_cache_lookups_total", ["result": "hit"]) == 1)
                let reviews = "pprof_rbac_proxy_kubernetes_api_request_duration_seconds_count"
                #expect(delta(reviews, ["call": "subjectaccessreview"]) == 1)
                #expect(delta(reviews, ["call": "tokenreview"]) == 0)
                #expect(after.count(reviews, ["call": "tokenreview"]) >= 2, "alice's and bob's tokens were reviewed")

                let expiry = try #require(after.value("pprof_rbac_proxy_serving_certificate_expiry_timestamp_seconds"))
                let now = Date().timeIntervalSince1970
                #expect((now + 364 * 86_400...now + 366 * 86_400).contains(expiry), "certs/make-serving-cert issues for 365 days: \(expiry)")
            }
        }
    }

    @Test("--metrics-bind-address: its own TLS listener serving only /metrics, protected; not on the endpoints port")
    func ownListener() async throws {
        let endpointsPort = try FreePort.find()
        try await ProxyEnvironment.withKubernetesProxy(
            proxyArguments: ["--metrics-bind-address", "127.0.0.1:0", "--proxy-endpoints-port", String(endpointsPort)],
            rules: [.aliceReadsPprof, .aliceReadsMetrics]
        ) { environment, _ in
            let marker = "metrics listener serving /metrics on 127.0.0.1:"
            let line = try await environment.proxy.process.waitForLine(containing: marker, in: .stderr, timeout: .seconds(10))
            let port = try #require(line.range(of: marker).flatMap { Int(line[$0.upperBound...].prefix(while: \.isNumber)) })
            #expect(try await scrape(port: port).status == 401)
            let text = try await metrics(port: port)
            #expect(text.types["pprof_rbac_proxy_audit_lines_dropped_total"] == "counter")
            let health = try await Curl.perform(CurlRequest(url: "https://127.0.0.1:\(port)/healthz"))
            #expect(health.status == 404, "\(health.summary)")

            try await waitForEndpoints(port: endpointsPort)
            let elsewhere = try await scrape(port: endpointsPort, token: TestUsers.alice.token)
            #expect(elsewhere.status == 404, "\(elsewhere.summary)")
        }
    }

    @Test("--metrics-insecure: /metrics open to anyone, with a warning at startup")
    func insecure() async throws {
        let port = try FreePort.find()
        try await ProxyEnvironment.withLocalProxy(
            proxyArguments: ["--proxy-endpoints-port", String(port), "--metrics-insecure"]
        ) { environment in
            try await waitForEndpoints(port: port)
            _ = try await metrics(port: port, token: nil)
            #expect(environment.proxy.process.allOutput.contains("--metrics-insecure: /metrics is served to anyone"))
        }
    }

    @Test("Neither --metrics-bind-address nor --proxy-endpoints-port: /metrics is not served, and the log says so")
    func notServed() async throws {
        try await ProxyEnvironment.withLocalProxy { environment in
            #expect(environment.proxy.process.allOutput.contains("/metrics is not served"))
            let onProxy = try await environment.request("/metrics", token: TestUsers.alice.token)
            #expect(onProxy.status == 404, "\(onProxy.summary)")
        }
    }
}
