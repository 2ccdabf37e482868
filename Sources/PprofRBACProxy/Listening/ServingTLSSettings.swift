import NIOSSL

/// How the listeners speak TLS and HTTP/2: `--tls-min-version`, `--tls-cipher-suites`,
/// `--http2-disable`, `--http2-max-concurrent-streams`, `--http2-max-size`.
package struct ServingTLSSettings: Sendable {
    package var minimumVersion: TLSVersion = .tlsv12
    /// Empty means the TLS library's defaults.
    package var cipherSuites: [NIOTLSCipher] = []
    package var http2Disabled = false
    package var http2MaxConcurrentStreams = 100
    /// The HTTP/2 maximum frame size read, and the per-stream receive window (kube-rbac-proxy uses
    /// it for both).
    package var http2MaxSize = 262_144

    package init() {}
}
