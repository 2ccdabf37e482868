/// A CA with a serving certificate for an HTTPS pprof-server on 127.0.0.1 and a client certificate
/// for the proxy, made with openssl (ECDSA P-256).
struct UpstreamCertificates: Sendable {
    static let clientCommonName = "pprof-rbac-proxy-e2e-client"

    let certificateAuthority: String
    let serverCertificate: String
    let serverKey: String
    let clientCertificate: String
    let clientKey: String

    static func generate(in workspace: TestWorkspace) async throws -> UpstreamCertificates {
        let certificates = UpstreamCertificates(
            certificateAuthority: workspace.path("upstream-ca.crt"),
            serverCertificate: workspace.path("upstream-server.crt"), serverKey: workspace.path("upstream-server.key"),
            clientCertificate: workspace.path("upstream-client.crt"), clientKey: workspace.path("upstream-client.key"))
        let ecKey = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
        try await openssl(["req", "-x509"] + ecKey + [
            "-keyout", workspace.path("upstream-ca.key"), "-out", certificates.certificateAuthority, "-days", "2",
            "-subj", "/CN=pprof-rbac-proxy-e2e-upstream-ca",
            "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign",
        ])
        try await issue(
            in: workspace, name: "upstream-server", subject: "/CN=127.0.0.1",
            extensions: "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n", certificates: certificates)
        try await issue(
            in: workspace, name: "upstream-client", subject: "/CN=\(clientCommonName)",
            extensions: "extendedKeyUsage=clientAuth\n", certificates: certificates)
        return certificates
    }

    /// Makes `name.key` and `name.crt`, signed by the CA.
    private static func issue(
        in workspace: TestWorkspace, name: String, subject: String, extensions: String, certificates: UpstreamCertificates
    ) async throws {
        let extensionFile = try workspace.write(
            extensions + "keyUsage=critical,digitalSignature\nbasicConstraints=critical,CA:FALSE\n", to: "\(name).cnf")
        try await openssl([
            "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
            "-keyout", workspace.path("\(name).key"), "-out", workspace.path("\(name).csr"), "-subj", subject,
        ])
        try await openssl([
            "x509", "-req", "-in", workspace.path("\(name).csr"), "-CA", certificates.certificateAuthority,
            "-CAkey", workspace.path("upstream-ca.key"), "-CAcreateserial", "-out", workspace.path("\(name).crt"),
            "-days", "2", "-extfile", extensionFile,
        ])
    }

    private static func openssl(_ arguments: [String]) async throws {
        let result = try await CompletedProcess.run("openssl", arguments: arguments, timeout: .seconds(30))
        guard result.exitStatus == 0 else {
            throw EndToEndError("openssl \(arguments.joined(separator: " ")) failed:\n\(result.output)")
        }
    }
}
