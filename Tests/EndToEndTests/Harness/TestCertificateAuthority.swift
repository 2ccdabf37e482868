/// A CA made by certs/make-ca in a folder of a workspace, issuing serving and client certificates
/// with certs/make-serving-cert and certs/make-client-cert (ECDSA P-256).
struct TestCertificateAuthority: Sendable {
    /// The folder holding ca.crt, ca.key and every certificate issued.
    let directory: String

    /// The CA certificate, PEM.
    var certificate: String { directory + "/ca.crt" }

    static func create(in workspace: TestWorkspace, name: String) async throws -> TestCertificateAuthority {
        let authority = TestCertificateAuthority(directory: workspace.path(name))
        try await CertificateScripts.succeed("make-ca", ["--dir", authority.directory, "--name", name])
        return authority
    }

    /// A client certificate: CN = user, one O per group.
    func issueClientCertificate(user: String, groups: [String], file: String) async throws -> IssuedCertificate {
        try await CertificateScripts.succeed("make-client-cert", ["--dir", directory, "--out", file, user] + groups)
        return issued(file)
    }

    /// A serving certificate for `service` in `namespace`, localhost and 127.0.0.1.
    func issueServingCertificate(
        file: String, service: String = "pprof-rbac-proxy", namespace: String = "e2e"
    ) async throws -> IssuedCertificate {
        try await CertificateScripts.succeed("make-serving-cert", ["--dir", directory, "--out", file, service, namespace])
        return issued(file)
    }

    private func issued(_ file: String) -> IssuedCertificate {
        IssuedCertificate(certificate: "\(directory)/\(file).crt", privateKey: "\(directory)/\(file).key")
    }
}
