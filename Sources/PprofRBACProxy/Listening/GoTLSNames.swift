import NIOSSL

/// The TLS version and cipher-suite names kube-rbac-proxy's flags take (Go's `crypto/tls` names).
package enum GoTLSNames {
    /// `--tls-min-version` values.
    package static let versions: [String: TLSVersion] = [
        "VersionTLS10": .tlsv1, "VersionTLS11": .tlsv11, "VersionTLS12": .tlsv12, "VersionTLS13": .tlsv13,
    ]

    /// `--tls-cipher-suites` values that BoringSSL can serve, by Go name (including Go's legacy
    /// aliases for the ChaCha20 suites).
    package static let cipherSuites: [String: NIOTLSCipher] = [
        "TLS_AES_128_GCM_SHA256": .TLS_AES_128_GCM_SHA256,
        "TLS_AES_256_GCM_SHA384": .TLS_AES_256_GCM_SHA384,
        "TLS_CHACHA20_POLY1305_SHA256": .TLS_CHACHA20_POLY1305_SHA256,
        "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA": .TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA,
        "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA": .TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA,
        "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA": .TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA,
        "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA": .TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA,
        "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256": .TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
        "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384": .TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
        "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256": .TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
        "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384": .TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
        "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256": .TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
        "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256": .TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
        "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305": .TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
        "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305": .TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
        "TLS_RSA_WITH_AES_128_CBC_SHA": .TLS_RSA_WITH_AES_128_CBC_SHA,
        "TLS_RSA_WITH_AES_256_CBC_SHA": .TLS_RSA_WITH_AES_256_CBC_SHA,
        "TLS_RSA_WITH_AES_128_GCM_SHA256": .TLS_RSA_WITH_AES_128_GCM_SHA256,
        "TLS_RSA_WITH_AES_256_GCM_SHA384": .TLS_RSA_WITH_AES_256_GCM_SHA384,
    ]

    /// Go names of suites Go knows (as insecure) but BoringSSL cannot serve: refused with their own message.
    package static let unservableCipherSuites: Set<String> = [
        "TLS_RSA_WITH_RC4_128_SHA", "TLS_RSA_WITH_3DES_EDE_CBC_SHA", "TLS_RSA_WITH_AES_128_CBC_SHA256",
        "TLS_ECDHE_ECDSA_WITH_RC4_128_SHA", "TLS_ECDHE_RSA_WITH_RC4_128_SHA", "TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA",
        "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256", "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256",
    ]

    package static func version(named name: String) throws(ConfigurationError) -> TLSVersion {
        guard let version = versions[name] else {
            throw .invalidFlag(
                flag: "--tls-min-version", value: name,
                reason: "unknown TLS version; use one of \(versions.keys.sorted().joined(separator: ", "))"
            )
        }
        return version
    }

    package static func cipherSuite(named name: String) throws(ConfigurationError) -> NIOTLSCipher {
        if let suite = cipherSuites[name] { return suite }
        let reason = unservableCipherSuites.contains(name)
            ? "an insecure suite Go knows but this proxy's TLS library (BoringSSL) does not offer"
            : "unknown cipher suite; use Go crypto/tls names such as TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"
        throw .invalidFlag(flag: "--tls-cipher-suites", value: name, reason: reason)
    }
}
