import Foundation
import Testing
import TestProcesses

/// `--client-ca-file`: a verified client certificate authenticates (CN = user, O = groups).
@Suite("Client certificates", .timeLimit(.minutes(2)))
struct ClientCertificateTests {
    @Test("mTLS with curl --cert: allowed 200, denied by RBAC 403, another CA's certificate 401, none 401")
    func mutualTLS() async throws {
        try await using(try TestWorkspace()) { certificates in
            let clientCA = try await TestCertificateAuthority.create(in: certificates, name: "client-ca")
            let otherCA = try await TestCertificateAuthority.create(in: certificates, name: "other-ca")
            let alice = try await clientCA.issueClientCertificate(user: "alice", groups: ["pprof-users"], file: "alice")
            let bob = try await clientCA.issueClientCertificate(user: "bob", groups: ["others"], file: "bob")
            let impostor = try await otherCA.issueClientCertificate(user: "alice", groups: ["pprof-users"], file: "impostor")

            try await ProxyEnvironment.withKubernetesProxy(proxyArguments: ["--client-ca-file", clientCA.certificate]) { environment, apiServer in
                func get(_ certificate: IssuedCertificate?, version: HTTPVersion) async throws -> CurlResponse {
                    try await Curl.perform(CurlRequest(
                        url: environment.proxy.baseURL + "/debug/pprof/heap", httpVersion: version, clientCertificate: certificate))
                }
                for version in HTTPVersion.allCases {
                    let allowed = try await get(alice, version: version)
                    #expect(allowed.status == 200, "\(allowed.summary)")
                    #expect(allowed.isGzip)
                    #expect(try await get(bob, version: version).status == 403)
                    #expect(try await get(impostor, version: version).status == 401)
                    #expect(try await get(nil, version: version).status == 401)
                }
                #expect(try await apiServer.calls().tokenReviews == 0, "certificates need no TokenReview")
                let forwarded = try await environment.upstream.requests()
                #expect(forwarded.count == 2, "only alice's requests reach pprof: \(forwarded.map(\.path))")
                try await environment.proxy.waitForLogLine(containing: "path=/debug/pprof/heap user=alice status=200")
                try await environment.proxy.waitForLogLine(containing: "path=/debug/pprof/heap user=bob status=403")
            }
        }
    }
}

/// The serving certificate and the client CA are re-read while the proxy runs.
@Suite("Certificate reload", .timeLimit(.minutes(2)))
struct CertificateReloadTests {
    /// Replaces `destination` with a copy of `source` in one rename, as `kubectl cp` or a Secret update would.
    func atomicallyReplace(_ destination: String, with source: String) throws {
        let temporary = destination + ".new"
        try? FileManager.default.removeItem(atPath: temporary)
        try FileManager.default.copyItem(atPath: source, toPath: temporary)
        guard rename(temporary, destination) == 0 else { throw EndToEndError("rename \(temporary) failed") }
    }

    @Test("a new serving certificate is served without a restart; a broken one is logged and the old kept")
    func servingCertificate() async throws {
        try await using(try TestWorkspace()) { files in
            let firstCA = try await TestCertificateAuthority.create(in: files, name: "first-ca")
            let secondCA = try await TestCertificateAuthority.create(in: files, name: "second-ca")
            let first = try await firstCA.issueServingCertificate(file: "first")
            let second = try await secondCA.issueServingCertificate(file: "second")
            let certificate = files.path("tls.crt")
            let key = files.path("tls.key")
            try FileManager.default.copyItem(atPath: first.certificate, toPath: certificate)
            try FileManager.default.copyItem(atPath: first.privateKey, toPath: key)

            try await ProxyEnvironment.withLocalProxy(
                proxyArguments: ["--tls-cert-file", certificate, "--tls-private-key-file", key]
            ) { environment in
                func verified(by authority: TestCertificateAuthority) async throws -> CurlResponse {
                    try await Curl.perform(CurlRequest(
                        url: environment.proxy.baseURL + "/debug/pprof/cmdline", bearerToken: TestUsers.alice.token,
                        caCertificate: authority.certificate))
                }
                #expect(try await verified(by: firstCA).status == 200)

                try atomicallyReplace(key, with: second.privateKey)
                try atomicallyReplace(certificate, with: second.certificate)
                try await eventually("the second certificate to be served", timeout: .seconds(10)) {
                    try await verified(by: secondCA).status == 200 ? true : nil
                }

                try files.write("-----BEGIN CERTIFICATE-----\nbroken\n", to: "broken.crt")
                try atomicallyReplace(certificate, with: files.path("broken.crt"))
                try await environment.proxy.process.waitForLine(containing: "cannot reload", in: .stderr, timeout: .seconds(10))
                #expect(try await verified(by: secondCA).status == 200, "the last good certificate keeps serving")
                #expect(environment.proxy.process.exitStatus == nil, "the proxy must not exit")
            }
        }
    }

    @Test("three rotations of the serving certificate under load: every request succeeds, a capture spanning them too")
    func rotationUnderLoad() async throws {
        try await using(try TestWorkspace()) { files in
            let authority = try await TestCertificateAuthority.create(in: files, name: "rotating-ca")
            var issued: [IssuedCertificate] = []
            for generation in 0...3 {
                issued.append(try await authority.issueServingCertificate(file: "generation-\(generation)", service: "generation-\(generation)"))
            }
            let certificate = files.path("tls.crt")
            let key = files.path("tls.key")
            try FileManager.default.copyItem(atPath: issued[0].certificate, toPath: certificate)
            try FileManager.default.copyItem(atPath: issued[0].privateKey, toPath: key)

            try await ProxyEnvironment.withLocalProxy(
                proxyArguments: ["--tls-cert-file", certificate, "--tls-private-key-file", key]
            ) { environment in
                let request = CurlRequest(
                    url: environment.proxy.baseURL + "/debug/pprof/cmdline", bearerToken: TestUsers.alice.token,
                    caCertificate: authority.certificate)
                var capture = request
                capture.url = environment.proxy.baseURL + "/debug/pprof/profile?seconds=4"
                async let spanning = Curl.perform(capture)

                let rotated = StopSignal()
                async let load = withThrowingTaskGroup(of: [Int].self) { group in
                    for _ in 0..<4 {
                        group.addTask {
                            var statuses: [Int] = []
                            repeat {
                                statuses.append(try await Curl.perform(request).status)
                            } while !rotated.isRaised
                            return statuses
                        }
                    }
                    return try await group.reduce(into: []) { $0 += $1 }
                }
                for generation in 1...3 {
                    try atomicallyReplace(key, with: issued[generation].privateKey)
                    try atomicallyReplace(certificate, with: issued[generation].certificate)
                    try await eventually("generation \(generation) to be served", timeout: .seconds(10)) {
                        try await Self.servedSubject(port: environment.proxy.port).contains("generation-\(generation)") ? true : nil
                    }
                }
                rotated.raise()
                let statuses = try await load
                #expect(statuses.count >= 8)
                #expect(statuses.allSatisfy { $0 == 200 }, "failed during rotation: \(statuses.filter { $0 != 200 })")
                let profile = try await spanning
                #expect(profile.status == 200 && profile.isGzip, "\(profile.summary)")
            }
        }
    }

    /// The subject of the certificate the proxy on `port` serves now.
    static func servedSubject(port: Int) async throws -> String {
        let shown = try await CompletedProcess.run(
            "bash", arguments: ["-c", "openssl s_client -connect 127.0.0.1:\(port) </dev/null 2>/dev/null | openssl x509 -noout -subject"],
            timeout: .seconds(10))
        return shown.stdout.joined()
    }

    @Test("a new client CA is trusted without a restart")
    func clientCA() async throws {
        try await using(try TestWorkspace()) { files in
            let firstCA = try await TestCertificateAuthority.create(in: files, name: "first-ca")
            let secondCA = try await TestCertificateAuthority.create(in: files, name: "second-ca")
            let alice = try await secondCA.issueClientCertificate(user: "alice", groups: [], file: "alice")
            let clientCAFile = files.path("client-ca.crt")
            try FileManager.default.copyItem(atPath: firstCA.certificate, toPath: clientCAFile)

            try await ProxyEnvironment.withLocalProxy(proxyArguments: ["--client-ca-file", clientCAFile]) { environment in
                let request = CurlRequest(url: environment.proxy.baseURL + "/debug/pprof/cmdline", clientCertificate: alice)
                #expect(try await Curl.perform(request).status == 401)
                try atomicallyReplace(clientCAFile, with: secondCA.certificate)
                try await eventually("alice's certificate to be accepted", timeout: .seconds(10)) {
                    try await Curl.perform(request).status == 200 ? true : nil
                }
            }
        }
    }
}
