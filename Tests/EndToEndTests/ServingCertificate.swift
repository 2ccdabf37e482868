/// A CA and a serving certificate for 127.0.0.1 and localhost, made with openssl (ECDSA P-256).
struct ServingCertificate: Sendable {
    let certificateAuthority: String
    let certificate: String
    let privateKey: String

    static func generate(in workspace: TestWorkspace) async throws -> ServingCertificate {
        let generated = ServingCertificate(
            certificateAuthority: workspace.path("ca.crt"),
            certificate: workspace.path("tls.crt"),
            privateKey: workspace.path("tls.key"))
        let extensions = try workspace.write(
            """
            subjectAltName=IP:127.0.0.1,DNS:localhost
            extendedKeyUsage=serverAuth
            keyUsage=critical,digitalSignature
            basicConstraints=critical,CA:FALSE

            """,
            to: "serving-extensions.cnf")
        let ecKey = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
        try await openssl(["req", "-x509"] + ecKey + [
            "-keyout", workspace.path("ca.key"), "-out", generated.certificateAuthority, "-days", "2",
            "-subj", "/CN=pprof-rbac-proxy-e2e-ca",
            "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign",
        ])
        try await openssl(["req", "-new"] + ecKey + [
            "-keyout", generated.privateKey, "-out", workspace.path("tls.csr"), "-subj", "/CN=localhost",
        ])
        try await openssl([
            "x509", "-req", "-in", workspace.path("tls.csr"), "-CA", generated.certificateAuthority,
            "-CAkey", workspace.path("ca.key"), "-CAcreateserial", "-out", generated.certificate, "-days", "2",
            "-extfile", extensions,
        ])
        return generated
    }

    private static func openssl(_ arguments: [String]) async throws {
        let result = try await CompletedProcess.run("openssl", arguments: arguments, timeout: .seconds(30))
        guard result.exitStatus == 0 else {
            throw EndToEndError("openssl \(arguments.joined(separator: " ")) failed:\n\(result.output)")
        }
    }
}
