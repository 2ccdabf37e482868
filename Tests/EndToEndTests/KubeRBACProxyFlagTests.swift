import Foundation
import TestProcesses
import Testing

/// kube-rbac-proxy's flags for identity headers, paths, HTTP/2, listeners and the endpoints port.
@Suite("kube-rbac-proxy flags end to end", .timeLimit(.minutes(2)))
struct KubeRBACProxyFlagTests {
    @Test("identity headers reach the upstream as configured; forged inbound copies (X-Remote-Extra-* too) never do, on any path")
    func identityHeaders() async throws {
        let forged = [
            "X-User: admin", "X-Remote-Groups: system:masters", "X-Remote-User: admin",
            "X-Remote-Extra-Scopes: admin", "x-remote-extra-authentication.kubernetes.io%2fpod-name: p", "X-REMOTE-EXTRA-UID: 0",
        ]
        func expectNoForgery(_ seen: UpstreamRequest, allowing allowed: Set<String> = []) {
            for name in ["X-User", "X-Remote-Groups", "X-Remote-User"] where !allowed.contains(name) {
                #expect(!seen.hasHeader(name), "\(name) reached the upstream: \(seen.headers)")
            }
            let extras = seen.headers.keys.filter { $0.lowercased().hasPrefix("x-remote-extra-") }
            #expect(extras.isEmpty, "X-Remote-Extra-* reached the upstream: \(seen.headers)")
        }
        try await ProxyEnvironment.withKubernetesProxy(proxyArguments: [
            "--auth-header-fields-enabled", "--auth-header-user-field-name=X-User",
            "--auth-header-groups-field-separator", ",", "--ignore-paths=/debug/pprof/symbol",
        ]) { environment, _ in
            let response = try await Curl.perform(CurlRequest(
                url: environment.proxy.baseURL + "/debug/pprof/cmdline", bearerToken: TestUsers.alice.token, headers: forged))
            #expect(response.status == 200, "\(response.summary)")
            let ignored = try await Curl.perform(CurlRequest(url: environment.proxy.baseURL + "/debug/pprof/symbol", headers: forged))
            #expect(ignored.status == 200, "\(ignored.summary)")
            let seen = try await environment.upstream.requests()
            #expect(seen.map(\.path) == ["/debug/pprof/cmdline", "/debug/pprof/symbol"])
            let authorized = try #require(seen.first)
            #expect(authorized.headers["X-User"] == ["alice"])
            #expect(authorized.headers["X-Remote-Groups"] == ["pprof-users,system:authenticated"])
            expectNoForgery(authorized, allowing: ["X-User", "X-Remote-Groups"])
            for request in seen.dropFirst() {
                expectNoForgery(request)
            }
        }
        try await ProxyEnvironment.withKubernetesProxy { environment, _ in
            let response = try await Curl.perform(CurlRequest(
                url: environment.proxy.baseURL + "/debug/pprof/cmdline", bearerToken: TestUsers.alice.token, headers: forged))
            #expect(response.status == 200, "\(response.summary)")
            // X-User is no identity header here: only the default names and X-Remote-Extra-* are.
            expectNoForgery(try #require(try await environment.upstream.requests().first), allowing: ["X-User"])
        }
    }

    @Test("--ignore-paths: served without credentials, and no Authorization reaches the upstream")
    func ignorePaths() async throws {
        try await ProxyEnvironment.withKubernetesProxy(proxyArguments: ["--ignore-paths=/debug/pprof/cmdline"]) { environment, apiServer in
            #expect(try await environment.request("/debug/pprof/cmdline").status == 200)
            #expect(try await environment.request("/debug/pprof/cmdline", token: TestUsers.bob.token).status == 200)
            #expect(try await environment.request("/debug/pprof/heap").status == 401)
            let forwarded = try await environment.upstream.requests()
            #expect(forwarded.map(\.path) == ["/debug/pprof/cmdline", "/debug/pprof/cmdline"])
            #expect(forwarded.allSatisfy { !$0.hasHeader("Authorization") })
            #expect(try await apiServer.calls() == ReviewCalls(tokenReviews: 0, subjectAccessReviews: 0))
        }
    }

    @Test("--http2-disable: only HTTP/1.1 is offered")
    func http2Disable() async throws {
        try await ProxyEnvironment.withLocalProxy(proxyArguments: ["--http2-disable"]) { environment in
            let response = try await environment.request("/debug/pprof/cmdline", token: TestUsers.alice.token, httpVersion: .http2)
            #expect(response.status == 200, "\(response.summary)")
            #expect(response.httpVersion == "1.1")
        }
    }

    @Test("--http2-max-concurrent-streams and --http2-max-size are what the proxy's SETTINGS frame announces")
    func http2Settings() async throws {
        try await ProxyEnvironment.withLocalProxy(
            proxyArguments: ["--http2-max-concurrent-streams=7", "--http2-max-size=32768"]
        ) { environment in
            let result = try await CompletedProcess.run(
                "nghttp", arguments: ["-nv", "-H", "authorization: Bearer \(TestUsers.alice.token)", environment.proxy.baseURL + "/debug/pprof/cmdline"],
                timeout: .seconds(15))
            let output = result.output
            #expect(output.contains("SETTINGS_MAX_CONCURRENT_STREAMS(0x03):7"), "\(output)")
            #expect(output.contains("SETTINGS_MAX_FRAME_SIZE(0x05):32768"), "\(output)")
            #expect(output.contains(":status: 200"), "\(output)")
        }
    }

    @Test("--tls-min-version=VersionTLS13 refuses TLS 1.2 clients")
    func tlsMinimumVersion() async throws {
        try await ProxyEnvironment.withLocalProxy(proxyArguments: ["--tls-min-version=VersionTLS13"]) { environment in
            let tls12 = try await CompletedProcess.run(
                "curl", arguments: ["-sk", "--tls-max", "1.2", "-o", "/dev/null", environment.proxy.baseURL + "/debug/pprof/cmdline"],
                timeout: .seconds(15))
            #expect(tls12.exitStatus != 0, "a TLS 1.2 handshake must fail")
            #expect(try await environment.request("/debug/pprof/cmdline", token: TestUsers.alice.token).status == 200)
        }
    }

    @Test("--proxy-endpoints-port: /healthz and /readyz ok, /dependencies follows the Kubernetes API and the upstream, nothing proxied")
    func proxyEndpoints() async throws {
        let port = try FreePort.find()
        try await ProxyEnvironment.withKubernetesProxy(proxyArguments: ["--proxy-endpoints-port", String(port)]) { environment, apiServer in
            func get(_ path: String) async throws -> CurlResponse {
                try await Curl.perform(CurlRequest(url: "https://127.0.0.1:\(port)\(path)"))
            }
            try await eventually("the endpoints port to answer", timeout: .seconds(10)) {
                try await get("/healthz").status == 200 ? true : nil
            }
            #expect(try await get("/healthz").bodyText == "ok\n")
            #expect(try await get("/readyz").status == 200)
            #expect(try await get("/dependencies").status == 200)
            #expect(try await get("/debug/pprof/heap").status == 404)
            await apiServer.tearDown()
            let apiDown = try await get("/dependencies")
            #expect(apiDown.status == 503)
            #expect(apiDown.bodyText.contains("Kubernetes API"), "\(apiDown.bodyText)")
            #expect(!apiDown.bodyText.contains("upstream"), "\(apiDown.bodyText)")
            await environment.upstream.tearDown()
            let bothDown = try await get("/dependencies")
            #expect(bothDown.status == 503)
            #expect(bothDown.bodyText.contains("upstream"), "\(bothDown.bodyText)")
            #expect(try await get("/healthz").status == 200)
            #expect(try await get("/readyz").status == 200, "readiness must not take the pod out of its Services")
        }
    }

    @Test("--insecure-listen-address (deprecated): HTTP/1.1 and h2c with prior knowledge, with a warning")
    func insecureListener() async throws {
        try await using(try TestWorkspace()) { workspace in
            let tokens = try workspace.write(ConfigurationFiles.tokenAuthFile(TestUsers.all), to: "tokens.csv")
            let config = try workspace.write(ConfigurationFiles.staticAuthorizationConfig([.aliceReadsPprof]), to: "config.yaml")
            try await using(try await PprofServer.start()) { upstream in
                let process = try ProxyProcess.launch([
                    "--insecure-listen-address", "127.0.0.1:0", "--upstream", upstream.upstreamURL,
                    "--token-auth-file", tokens, "--config-file", config,
                ])
                try await using(process) { process in
                    let line = try await process.waitForLine(containing: ListeningAddress.marker, in: .stderr, timeout: .seconds(30))
                    let url = "http://127.0.0.1:\(try ListeningAddress.port(in: line))/debug/pprof/cmdline"
                    #expect(process.allOutput.contains("deprecated"))
                    for flag in ["--http1.1", "--http2-prior-knowledge"] {
                        let result = try await CompletedProcess.run(
                            "curl", arguments: ["-s", flag, "-o", "/dev/null", "-w", "%{http_code} %{http_version}",
                                                "-H", "Authorization: Bearer \(TestUsers.alice.token)", url],
                            timeout: .seconds(15))
                        #expect(result.stdout.first == (flag == "--http1.1" ? "200 1.1" : "200 2"), "\(flag): \(result.output)")
                    }
                }
            }
        }
    }
}
