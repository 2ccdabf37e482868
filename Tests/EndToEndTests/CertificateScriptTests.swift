import Foundation
import Testing

/// certs/make-ca, make-serving-cert and make-client-cert: what openssl reads in their output, that
/// they are idempotent, and that curl and the proxy accept what they make.
@Suite("certs/ scripts", .timeLimit(.minutes(2)))
struct CertificateScriptTests {
    /// `openssl x509 -in certificate <arguments>`, its output as one string.
    func x509(_ certificate: String, _ arguments: [String]) async throws -> String {
        let result = try await CompletedProcess.run("openssl", arguments: ["x509", "-in", certificate, "-noout"] + arguments, timeout: .seconds(30))
        guard result.exitStatus == 0 else { throw EndToEndError("openssl x509 \(arguments) failed: \(result.output)") }
        return result.stdout.joined(separator: "\n")
    }

    /// The value lines under each `X509v3 ...:` heading of `openssl x509 -ext`, by heading.
    func extensions(_ certificate: String) async throws -> [String: String] {
        let text = try await x509(certificate, ["-ext", "subjectAltName,keyUsage,extendedKeyUsage,basicConstraints"])
        var result: [String: String] = [:]
        var heading = ""
        for line in text.split(separator: "\n") {
            if line.hasPrefix("X509v3 ") {
                heading = String(line.dropFirst("X509v3 ".count)).trimmingCharacters(in: .whitespaces)
            } else {
                result[heading, default: ""] += line.trimmingCharacters(in: .whitespaces)
            }
        }
        return result
    }

    /// Whether the certificate is still valid `days` from now.
    func validIn(_ certificate: String, days: Int) async throws -> Bool {
        try await CompletedProcess.run(
            "openssl", arguments: ["x509", "-in", certificate, "-noout", "-checkend", String(days * 86400)], timeout: .seconds(30)
        ).exitStatus == 0
    }

    func verify(_ certificate: String, by authority: TestCertificateAuthority) async throws -> Bool {
        try await CompletedProcess.run(
            "openssl", arguments: ["verify", "-CAfile", authority.certificate, certificate], timeout: .seconds(30)
        ).stdout == ["\(certificate): OK"]
    }

    func permissions(_ path: String) throws -> Int {
        try #require(try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int)
    }

    @Test("the CA: CA:TRUE pathlen 0, keyCertSign and cRLSign, P-256, 5 years, key 0600")
    func certificateAuthority() async throws {
        try await using(try TestWorkspace()) { workspace in
            let authority = try await TestCertificateAuthority.create(in: workspace, name: "ca")
            let found = try await extensions(authority.certificate)
            #expect(found["Basic Constraints: critical"] == "CA:TRUE, pathlen:0")
            #expect(found["Key Usage: critical"] == "Certificate Sign, CRL Sign")
            let text = try await x509(authority.certificate, ["-text"])
            #expect(text.contains("ASN1 OID: prime256v1") && text.contains("ecdsa-with-SHA256"))
            #expect(try await validIn(authority.certificate, days: 5 * 365))
            #expect(!(try await validIn(authority.certificate, days: 5 * 365 + 2)))
            #expect(try permissions(authority.directory + "/ca.key") == 0o600)
        }
    }

    @Test("a serving certificate: the Service's names, localhost and 127.0.0.1; serverAuth; signed by the CA; 1 year")
    func servingCertificate() async throws {
        try await using(try TestWorkspace()) { workspace in
            let authority = try await TestCertificateAuthority.create(in: workspace, name: "ca")
            let serving = try await authority.issueServingCertificate(
                file: "tls", service: "controller-manager-pprof", namespace: "example-system")
            let found = try await extensions(serving.certificate)
            let names = Set((found["Subject Alternative Name:"] ?? "").components(separatedBy: ", "))
            #expect(names == [
                "DNS:controller-manager-pprof", "DNS:controller-manager-pprof.example-system",
                "DNS:controller-manager-pprof.example-system.svc", "DNS:controller-manager-pprof.example-system.svc.cluster.local",
                "DNS:localhost", "IP Address:127.0.0.1",
            ])
            #expect(found["Key Usage: critical"] == "Digital Signature")
            #expect(found["Extended Key Usage:"] == "TLS Web Server Authentication")
            #expect(found["Basic Constraints: critical"] == "CA:FALSE")
            #expect(try await x509(serving.certificate, ["-subject", "-nameopt", "RFC2253"]) == "subject=CN=controller-manager-pprof.example-system.svc")
            #expect(try await verify(serving.certificate, by: authority))
            #expect(try await x509(serving.certificate, ["-text"]).contains("ASN1 OID: prime256v1"))
            #expect(try await validIn(serving.certificate, days: 364))
            #expect(!(try await validIn(serving.certificate, days: 366)))
            #expect(try permissions(serving.privateKey) == 0o600)
        }
    }

    @Test("a client certificate: CN = user, O = each group; clientAuth; signed by the CA; 90 days")
    func clientCertificate() async throws {
        try await using(try TestWorkspace()) { workspace in
            let authority = try await TestCertificateAuthority.create(in: workspace, name: "ca")
            let client = try await authority.issueClientCertificate(user: "alice", groups: ["pprof-readers", "team-a"], file: "alice")
            #expect(try await x509(client.certificate, ["-subject", "-nameopt", "RFC2253"]) == "subject=CN=alice,O=team-a,O=pprof-readers")
            let found = try await extensions(client.certificate)
            #expect(found["Extended Key Usage:"] == "TLS Web Client Authentication")
            #expect(found["Key Usage: critical"] == "Digital Signature")
            #expect(found["Subject Alternative Name:"] == nil)
            #expect(try await verify(client.certificate, by: authority))
            #expect(try await validIn(client.certificate, days: 89))
            #expect(!(try await validIn(client.certificate, days: 91)))
        }
    }

    @Test("idempotent: a second run keeps every file byte for byte; changed names or groups reissue; a half CA is refused")
    func idempotent() async throws {
        try await using(try TestWorkspace()) { workspace in
            let directory = workspace.path("certs")
            func contents() throws -> [String: Data] {
                var files: [String: Data] = [:]
                for name in try FileManager.default.contentsOfDirectory(atPath: directory) {
                    files[name] = try Data(contentsOf: URL(fileURLWithPath: "\(directory)/\(name)"))
                }
                return files
            }
            func makeAll() async throws -> [String] {
                var said: [String] = []
                for (script, arguments) in [
                    ("make-ca", [String]()), ("make-serving-cert", ["svc", "ns"]), ("make-client-cert", ["alice", "pprof-readers"]),
                ] {
                    said += try await CertificateScripts.succeed(script, ["--dir", directory] + arguments).stderr
                }
                return said
            }
            _ = try await makeAll()
            let first = try contents()
            #expect(Set(first.keys) == ["ca.crt", "ca.key", "tls.crt", "tls.key", "client-alice.crt", "client-alice.key"])
            let again = try await makeAll()
            #expect(try contents() == first)
            #expect(again.filter { $0.contains("keeping") }.count == 3, "\(again)")

            try await CertificateScripts.succeed("make-client-cert", ["--dir", directory, "alice", "pprof-readers", "team-b"])
            try await CertificateScripts.succeed("make-serving-cert", ["--dir", directory, "--san", "DNS:pprof.example.com", "svc", "ns"])
            let changed = try contents()
            #expect(changed["client-alice.crt"] != first["client-alice.crt"] && changed["client-alice.key"] != first["client-alice.key"])
            #expect(changed["tls.crt"] != first["tls.crt"])
            #expect(changed["ca.crt"] == first["ca.crt"] && changed["ca.key"] == first["ca.key"])
            #expect(try await x509("\(directory)/tls.crt", ["-ext", "subjectAltName"]).contains("DNS:pprof.example.com"))

            try FileManager.default.removeItem(atPath: "\(directory)/ca.key")
            let halfCA = try await CertificateScripts.run("make-ca", ["--dir", directory])
            #expect(halfCA.exitStatus == 1)
            #expect(halfCA.output.contains("only one of ca.crt and ca.key"))
            #expect(try contents()["ca.crt"] == first["ca.crt"], "a CA is never overwritten")

            let usage = try await CertificateScripts.run("make-serving-cert", ["--dir", directory, "only-a-service"])
            #expect(usage.exitStatus == 2)
            #expect(usage.output.contains("usage: make-serving-cert"))
            let badGroup = try await CertificateScripts.run("make-client-cert", ["--dir", directory, "alice", "a,b"])
            #expect(badGroup.exitStatus == 2)
        }
    }

    @Test("curl and the proxy accept them: the serving certificate by each of its names, client certificates for mTLS")
    func acceptedByCurlAndProxy() async throws {
        try await using(try TestWorkspace()) { workspace in
            let authority = try await TestCertificateAuthority.create(in: workspace, name: "ca")
            let serving = try await authority.issueServingCertificate(
                file: "tls", service: "controller-manager-pprof", namespace: "example-system")
            let alice = try await authority.issueClientCertificate(user: "alice", groups: ["pprof-users"], file: "alice")
            let arguments = [
                "--tls-cert-file", serving.certificate, "--tls-private-key-file", serving.privateKey,
                "--client-ca-file", authority.certificate,
            ]
            try await ProxyEnvironment.withKubernetesProxy(proxyArguments: arguments) { environment, _ in
                let port = environment.proxy.port
                for host in ["controller-manager-pprof.example-system.svc", "controller-manager-pprof", "localhost", "127.0.0.1"] {
                    for version in HTTPVersion.allCases {
                        let response = try await Curl.perform(CurlRequest(
                            url: "https://\(host):\(port)/debug/pprof/cmdline", bearerToken: TestUsers.alice.token,
                            httpVersion: version, caCertificate: authority.certificate, resolve: ["\(host):\(port):127.0.0.1"]))
                        #expect(response.status == 200, "\(host) \(version): \(response.summary)")
                    }
                }
                let mutual = try await Curl.perform(CurlRequest(
                    url: "https://localhost:\(port)/debug/pprof/heap", caCertificate: authority.certificate, clientCertificate: alice))
                #expect(mutual.status == 200, "\(mutual.summary)")
                try await environment.proxy.waitForLogLine(containing: "path=/debug/pprof/heap user=alice status=200")

                let wrongName = try await Curl.perform(CurlRequest(
                    url: "https://other.example-system.svc:\(port)/debug/pprof/cmdline", bearerToken: TestUsers.alice.token,
                    caCertificate: authority.certificate, resolve: ["other.example-system.svc:\(port):127.0.0.1"]))
                #expect(wrongName.status == 0 && wrongName.exitCode == 60, "curl must refuse a name the certificate lacks")
            }
        }
    }
}
