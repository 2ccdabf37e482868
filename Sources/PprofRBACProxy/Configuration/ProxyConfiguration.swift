import Logging

/// Everything the proxy needs to start, as plain values: what the command line says, validated.
public struct ProxyConfiguration: Sendable {
    public var listenAddress: ListenAddress
    public var upstream: UpstreamTarget
    /// `--tls-cert-file` / `--tls-private-key-file`; both nil means a self-signed certificate.
    public var tlsCertificateFile: String?
    public var tlsPrivateKeyFile: String?
    public var kubeconfigPath: String?
    public var tokenAudiences: [String] = []
    public var tokenAuthFilePath: String?
    public var configFilePath: String?
    public var allowPaths: [PathPattern] = PathPolicy.pprofOnly().allowed
    public var kubeAPITimeout: Duration = .seconds(10)
    public var shutdownGracePeriod: Duration = .seconds(90)
    public var authenticationCacheTimeToLive = CachingTokenAuthenticator.TimeToLive()
    public var authorizationCacheTimeToLive = CachingAuthorizer.TimeToLive()
    public var logLevel: Logger.Level = .info

    public init(listenAddress: ListenAddress, upstream: UpstreamTarget) {
        self.listenAddress = listenAddress
        self.upstream = upstream
    }
}
