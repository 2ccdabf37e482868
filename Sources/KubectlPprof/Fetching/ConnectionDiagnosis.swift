import Foundation
import NIOCore
import NIOPosix
import NIOSSL
import NIOTLS
import X509

/// Turns a failed connection to the proxy into one line a person can act on. A failed TLS
/// handshake is looked at again without verification, to say which names the proxy's certificate
/// carries or that its issuer is not trusted.
enum ConnectionDiagnosis {
    static func failure(_ error: any Error, endpoint: ProxyEndpoint) async -> PluginFailure {
        let address = "\(endpoint.host):\(endpoint.port)"
        if let error = error as? IOError {
            return .connection("cannot connect to the proxy at \(address): \(String(cString: strerror(error.errnoCode)))")
        }
        if let error = error as? NIOConnectionError {
            let reasons = error.connectionErrors.map { ($0.error as? IOError).map { String(cString: strerror($0.errnoCode)) } ?? "\($0.error)" }
            return .connection("cannot connect to the proxy at \(address): \(reasons.first ?? "\(error)")")
        }
        if error is ChannelError {
            return .connection("cannot connect to the proxy at \(address): \(error)")
        }
        guard error is NIOSSLError || error is BoringSSLError else {
            return .connection("the connection to the proxy at \(address) failed: \(error)")
        }
        guard let certificate = await peerCertificate(of: endpoint) else {
            return .connection("TLS with the proxy at \(address) failed: \(error)")
        }
        if let mismatch = nameMismatch(certificate, endpoint: endpoint) {
            return mismatch
        }
        let trusted = endpoint.caCertificatePath.map { "the CA in --cacert \($0)" } ?? "a CA this machine trusts"
        return .connection(
            "the proxy's certificate (issuer \(certificate.issuer)) is not signed by \(trusted): pass --cacert with the proxy's CA "
                + "(deploy/ with cert-manager: kubectl get secret pprof-rbac-proxy-tls -o jsonpath='{.data.ca\\.crt}' | base64 -d > ca.crt)")
    }

    /// The failure when `certificate` does not carry the endpoint's server name, else nil. (NIOSSL
    /// would also accept a certificate naming the IP address connected to, which through a
    /// port-forward is always 127.0.0.1.)
    static func nameMismatch(_ certificate: Certificate, endpoint: ProxyEndpoint) -> PluginFailure? {
        let names = Self.names(of: certificate)
        guard !names.contains(where: { matches($0, endpoint.serverName) }) else { return nil }
        let listed = names.isEmpty ? "no DNS or IP names" : names.joined(separator: ", ")
        return .connection(
            "the proxy's certificate does not name \(endpoint.serverName) (it names \(listed)): pass --tls-server-name with one of them")
    }

    /// The DNS and IP names of the certificate.
    static func names(of certificate: Certificate) -> [String] {
        guard let alternatives = try? certificate.extensions.subjectAlternativeNames else { return [] }
        return alternatives.compactMap { name in
            switch name {
            case .dnsName(let dns): return dns
            case .ipAddress(let octets):
                let bytes = Array(octets.bytes)
                if bytes.count == 4 { return bytes.map(String.init).joined(separator: ".") }
                if bytes.count == 16 {
                    return stride(from: 0, to: 16, by: 2).map { String(UInt16(bytes[$0]) << 8 | UInt16(bytes[$0 + 1]), radix: 16) }
                        .joined(separator: ":")
                }
                return nil
            default: return nil
            }
        }
    }

    /// Whether certificate name `pattern` (maybe `*.example.com`) covers `name`.
    static func matches(_ pattern: String, _ name: String) -> Bool {
        let pattern = pattern.lowercased()
        let name = name.lowercased()
        if pattern.hasPrefix("*."), !name.hasPrefix("*") {
            guard let dot = name.firstIndex(of: ".") else { return false }
            return name[dot...] == pattern.dropFirst()
        }
        return pattern == name
    }

    /// The certificate the proxy presents, read over a handshake that verifies nothing and sends nothing.
    private static func peerCertificate(of endpoint: ProxyEndpoint) async -> Certificate? {
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.certificateVerification = .none
        guard let context = try? NIOSSLContext(configuration: tls) else { return nil }
        let serverHostname = endpoint.serverNameIsAddress ? nil : endpoint.serverName
        do {
            let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .connectTimeout(.seconds(10))
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        let pipeline = channel.pipeline.syncOperations
                        try pipeline.addHandler(NIOSSLClientHandler(context: context, serverHostname: serverHostname))
                        try pipeline.addHandler(HandshakeSignal(promise: channel.eventLoop.makePromise()))
                    }
                }
                .connect(host: endpoint.host, port: endpoint.port).get()
            defer { channel.close(promise: nil) }
            return try await HandshakeSignal.peerCertificate(of: channel)
        } catch {
            return nil
        }
    }
}
