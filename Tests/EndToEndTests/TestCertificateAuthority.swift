/// A CA made with openssl in a workspace, issuing client and serving certificates (ECDSA P-256).
struct TestCertificateAuthority: Sendable {
    let workspace: TestWorkspace
    let name: String
    /// The CA certificate, PEM.
    let certificate: String
    private let key: String

    static func create(in workspace: TestWorkspace, name: String) async throws -> TestCertificateAuthority {
        let authority = TestCertificateAuthority(
            workspace: workspace, name: name, certificate: workspace.path("\(name).crt"), key: workspace.path("\(name).key"))
        try await openssl(["req", "-x509"] + Self.ecKey + [
            "-keyout", authority.key, "-out", authority.certificate, "-days", "2", "-subj", "/CN=\(name)",
            "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign",
        ])
        return authority
    }

    /// A client certificate: CN = user, one O per group.
    func issueClientCertificate(user: String, groups: [String], file: String) async throws -> IssuedCertificate {
        let subject = groups.map { "/O=\($0)" }.joined() + "/CN=\(user)"
        return try await issue(subject: subject, extensions: "extendedKeyUsage=clientAuth\nkeyUsage=critical,digitalSignature\n", file: file)
    }

    /// A serving certificate for 127.0.0.1 and localhost.
    func issueServingCertificate(file: String) async throws -> IssuedCertificate {
        try await issue(
            subject: "/CN=localhost",
            extensions: "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\nkeyUsage=critical,digitalSignature\n",
            file: file)
    }

    private func issue(subject: String, extensions: String, file: String) async throws -> IssuedCertificate {
        let issued = IssuedCertificate(certificate: workspace.path("\(file).crt"), privateKey: workspace.path("\(file).key"))
        let extensionFile = try workspace.write(extensions + "basicConstraints=critical,CA:FALSE\n", to: "\(file).cnf")
        try await Self.openssl(["req", "-new"] + Self.ecKey + [
            "-keyout", issued.privateKey, "-out", workspace.path("\(file).csr"), "-subj", subject,
        ])
        try await Self.openssl([
            "x509", "-req", "-in", workspace.path("\(file).csr"), "-CA", certificate, "-CAkey", key,
            "-CAcreateserial", "-out", issued.certificate, "-days", "2", "-extfile", extensionFile,
        ])
        return issued
    }

    private static let ecKey = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]

    private static func openssl(_ arguments: [String]) async throws {
        let result = try await CompletedProcess.run("openssl", arguments: arguments, timeout: .seconds(30))
        guard result.exitStatus == 0 else {
            throw EndToEndError("openssl \(arguments.joined(separator: " ")) failed:\n\(result.output)")
        }
    }
}
