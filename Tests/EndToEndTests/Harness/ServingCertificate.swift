/// A CA and a serving certificate for 127.0.0.1 and localhost, made by the certs/ scripts.
struct ServingCertificate: Sendable {
    let certificateAuthority: String
    let certificate: String
    let privateKey: String

    static func generate(in workspace: TestWorkspace) async throws -> ServingCertificate {
        let authority = try await TestCertificateAuthority.create(in: workspace, name: "serving-ca")
        let serving = try await authority.issueServingCertificate(file: "tls")
        return ServingCertificate(
            certificateAuthority: authority.certificate, certificate: serving.certificate, privateKey: serving.privateKey)
    }
}
