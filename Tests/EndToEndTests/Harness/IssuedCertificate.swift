/// A certificate and its private key on disk, PEM.
struct IssuedCertificate: Sendable {
    let certificate: String
    let privateKey: String
}
