/// A CA with a serving certificate for an HTTPS pprof-server on 127.0.0.1 and a client certificate
/// for the proxy, made by the certs/ scripts.
struct UpstreamCertificates: Sendable {
    static let clientCommonName = "pprof-rbac-proxy-e2e-client"

    let certificateAuthority: String
    let serverCertificate: String
    let serverKey: String
    let clientCertificate: String
    let clientKey: String

    static func generate(in workspace: TestWorkspace) async throws -> UpstreamCertificates {
        let authority = try await TestCertificateAuthority.create(in: workspace, name: "upstream-ca")
        let server = try await authority.issueServingCertificate(file: "upstream-server", service: "pprof-server")
        let client = try await authority.issueClientCertificate(user: clientCommonName, groups: [], file: "upstream-client")
        return UpstreamCertificates(
            certificateAuthority: authority.certificate,
            serverCertificate: server.certificate, serverKey: server.privateKey,
            clientCertificate: client.certificate, clientKey: client.privateKey)
    }
}
