import Testing

/// The proxy's side of the upstream connection: verified HTTPS with a client certificate, and
/// HTTP/2 with prior knowledge (`--upstream-force-h2c`).
@Suite("Upstream transports", .timeLimit(.minutes(2)))
struct UpstreamTransportTests {
    /// Runs `body` against a proxy in local mode (alice may read /debug/pprof/*) in front of `upstream`,
    /// which is torn down afterwards.
    private static func withLocalProxy(
        in workspace: TestWorkspace, upstream: PprofServer, proxyArguments: [String],
        _ body: (ProxyEnvironment) async throws -> Void
    ) async throws {
        try await using(upstream) { upstream in
            let tokenFile = try workspace.write(ConfigurationFiles.tokenAuthFile(TestUsers.all), to: "tokens.csv")
            let configFile = try workspace.write(
                ConfigurationFiles.staticAuthorizationConfig([.aliceReadsPprof]), to: "config.yaml")
            let arguments = ["--token-auth-file", tokenFile, "--config-file", configFile] + proxyArguments
            try await using(try await ProxyProcess.start(upstream: upstream.upstreamURL, arguments: arguments)) { proxy in
                try await body(ProxyEnvironment(workspace: workspace, upstream: upstream, proxy: proxy))
                expectNoSecrets(in: proxy.process)
            }
        }
    }

    @Test("HTTPS upstream requiring a client certificate: verified with --upstream-ca-file, the proxy's certificate presented")
    func mutualTLS() async throws {
        try await using(try TestWorkspace()) { workspace in
            let certificates = try await UpstreamCertificates.generate(in: workspace)
            try await Self.withLocalProxy(
                in: workspace, upstream: try await PprofServer.start(tls: certificates),
                proxyArguments: [
                    "--upstream-ca-file", certificates.certificateAuthority,
                    "--upstream-client-cert-file", certificates.clientCertificate,
                    "--upstream-client-key-file", certificates.clientKey,
                ]
            ) { environment in
                let response = try await environment.request("/debug/pprof/heap?debug=1", token: TestUsers.alice.token)
                #expect(response.status == 200, "\(response.summary)")
                #expect(response.bodyText.contains("heap profile"))

                let forwarded = try await environment.upstream.requests()
                #expect(forwarded.map(\.path) == ["/debug/pprof/heap"])
                #expect(forwarded.first?.clientCN == UpstreamCertificates.clientCommonName)
                #expect(forwarded.first?.proto == "HTTP/1.1")
            }
        }
    }

    @Test("A client certificate without --upstream-ca-file: the system roots decide, so a private CA's upstream is a 502")
    func clientCertificateWithSystemRoots() async throws {
        try await using(try TestWorkspace()) { workspace in
            let certificates = try await UpstreamCertificates.generate(in: workspace)
            try await Self.withLocalProxy(
                in: workspace, upstream: try await PprofServer.start(tls: certificates),
                proxyArguments: [
                    "--upstream-client-cert-file", certificates.clientCertificate,
                    "--upstream-client-key-file", certificates.clientKey,
                ]
            ) { environment in
                let response = try await environment.request("/debug/pprof/heap", token: TestUsers.alice.token)
                expectProxyError(response, status: 502, bodyPrefix: "Bad Gateway: ")
                #expect(response.bodyText.contains("CERTIFICATE_VERIFY_FAILED"), "\(response.bodyText)")
                try await environment.expectNothingForwarded()
            }
        }
    }

    @Test(
        "Half an upstream client certificate: refused at startup, naming both flags",
        arguments: ["--upstream-client-cert-file", "--upstream-client-key-file"]
    )
    func halfAClientCertificate(flag: String) async throws {
        let (status, output) = try await ProxyProcess.startupRefusal(upstream: "https://127.0.0.1:1/", arguments: [flag, "/dev/null"])
        #expect(status == 2, "a usage error, found from the arguments alone")
        #expect(
            output.contains("--upstream-client-cert-file and --upstream-client-key-file must be given together"),
            "output: \(output)")
        #expect(!output.contains("listening on"))
    }

    @Test("--upstream-force-h2c: requests reach the upstream as HTTP/2.0, as streams of one connection", arguments: HTTPVersion.allCases)
    func h2c(version: HTTPVersion) async throws {
        try await using(try TestWorkspace()) { workspace in
            try await Self.withLocalProxy(
                in: workspace, upstream: try await PprofServer.start(arguments: ["-h2c"]),
                proxyArguments: ["--upstream-force-h2c"]
            ) { environment in
                let response = try await environment.request(
                    "/debug/pprof/heap?debug=1", token: TestUsers.alice.token, httpVersion: version)
                #expect(response.status == 200, "\(response.summary)")
                #expect(response.httpVersion == version.rawValue)
                #expect(response.bodyText.contains("heap profile"))

                // One client connection stays on one event loop, whose requests share its h2c connection.
                let repeated = CurlRequest(
                    url: environment.proxy.baseURL + "/debug/pprof/cmdline", bearerToken: TestUsers.alice.token,
                    httpVersion: version)
                #expect(try await Curl.statusCodes(of: repeated, count: 10) == Array(repeating: 200, count: 10))
                let forwarded = try await environment.upstream.requests()
                #expect(forwarded.count == 11)
                #expect(forwarded.allSatisfy { $0.proto == "HTTP/2.0" }, "\(forwarded.map(\.proto))")
                let connections = Set(forwarded.filter { $0.path == "/debug/pprof/cmdline" }.map(\.remoteAddr))
                #expect(connections.count == 1, "10 sequential requests used \(connections.count) h2c connections")
            }
        }
    }

    @Test("--upstream-force-h2c, without CPU profile slices: a client that gives up releases the upstream CPU profiler at once", arguments: HTTPVersion.allCases)
    func h2cClientAbort(version: HTTPVersion) async throws {
        try await using(try TestWorkspace()) { workspace in
            try await Self.withLocalProxy(
                in: workspace, upstream: try await PprofServer.start(arguments: ["-h2c"]),
                proxyArguments: ["--upstream-force-h2c", CaptureTests.withoutSlices]
            ) { environment in
                try await ClientAbortCheck.expectProfilerReleased(in: environment, version: version, upstreamProto: "HTTP/2.0")
            }
        }
    }

    @Test("--upstream-force-h2c, without CPU profile slices: a client's HTTP/2 stream reset resets only the upstream stream, not the h2c connection")
    func h2cStreamReset() async throws {
        try await using(try TestWorkspace()) { workspace in
            try await Self.withLocalProxy(
                in: workspace, upstream: try await PprofServer.start(arguments: ["-h2c"]),
                proxyArguments: ["--upstream-force-h2c", CaptureTests.withoutSlices]
            ) { environment in
                try await StreamResetCheck.expectProfilerReleased(in: environment)
                // Both requests came over one client connection, so one event loop and one h2c connection.
                let connections = Set(try await environment.upstream.requests().map(\.remoteAddr))
                #expect(connections.count == 1, "the stream reset closed the h2c connection: \(connections)")
            }
        }
    }

    @Test("--upstream-force-h2c with an https:// upstream: refused at startup as a usage error")
    func h2cWithHTTPS() async throws {
        let (status, output) = try await ProxyProcess.startupRefusal(upstream: "https://127.0.0.1:1/", arguments: ["--upstream-force-h2c"])
        #expect(status == 2, "a usage error, found from the arguments alone")
        #expect(output.contains("h2c is cleartext HTTP/2 and cannot be used with an https:// upstream"), "output: \(output)")
        #expect(!output.contains("listening on"))
    }
}
