import Logging
import RequestPolicy

/// Everything the proxy needs to start, as plain values: what the command line says, validated.
public struct ProxyConfiguration: Sendable {
    // Listeners
    /// `--secure-listen-address`; nil only when `--insecure-listen-address` is given instead.
    public var listenAddress: ListenAddress?
    /// `--insecure-listen-address` (deprecated): plain HTTP/1.1 and h2c.
    public var insecureListenAddress: ListenAddress?
    /// `--tls-cert-file` / `--tls-private-key-file`; both nil means a self-signed certificate.
    public var tlsCertificateFile: String?
    public var tlsPrivateKeyFile: String?
    /// `--client-ca-file`: verified client certificates authenticate (CN = user, O = groups).
    public var clientCAFile: String?
    public var tls = ServingTLSSettings()
    /// How often the serving certificate, key and client CA files are checked for changes.
    public var certificateReloadInterval: Duration = .seconds(1)
    /// `--proxy-endpoints-port`: `/healthz` and `/readyz` over TLS on the listen host.
    public var proxyEndpointsPort: Int?
    /// `--read-header-timeout`: how long a request head may take to arrive; nil: no limit.
    public var readHeaderTimeout: Duration? = .seconds(10)
    /// `--max-connections`: open client connections per listener; nil: no limit.
    public var maxConnections: Int? = 1024

    // Upstream
    public var upstream: UpstreamTarget
    public var upstreamCAFile: String?
    public var upstreamClientCertificateFile: String?
    public var upstreamClientKeyFile: String?
    public var upstreamForceH2C = false

    // Paths
    public var allowPaths: [PathPattern] = PathPolicy.pprofOnly().allowed
    /// `--ignore-paths`: proxied with no authentication, authorization or identity headers.
    public var ignorePaths: [PathPattern] = []

    // Authentication
    public var kubeconfigPath: String?
    public var tokenAudiences: [String] = []
    public var tokenAuthFilePath: String?
    public var authenticationCacheTimeToLive = CachingTokenAuthenticator.TimeToLive()

    // Authorization
    public var configFilePath: String?
    public var verbMapping = VerbMapping.apiserver
    public var authorizationCacheTimeToLive = CachingAuthorizer.TimeToLive()
    public var identityHeaders = IdentityHeaders()

    // pprof guardrails and capture scheduling
    /// `--max-capture-seconds`: the longest profile, trace or delta profile a request may ask for.
    public var maxCaptureSeconds = 300
    /// `--capture-join-window`: a CPU profile or trace asked with the same parameters this soon after
    /// one started joins it and receives the same bytes.
    public var captureJoinWindow: Duration = .seconds(2)
    /// `--capture-queue-timeout`: the longest a CPU profile or trace waits for the one running.
    public var captureQueueTimeout: Duration = .seconds(60)
    /// `--capture-queue-size`: how many CPU profiles and traces may wait, for each of the two.
    public var captureQueueSize = 8
    /// `--max-captures-per-user`: concurrent captures (running, joined or queued) per user.
    public var maxCapturesPerUser = 2

    // Observability
    /// `--audit-log-path`: one JSON line per request; `-` for standard error; nil for none.
    public var auditLogPath: String?
    /// `--metrics-bind-address`: a listener of its own for `/metrics`; nil serves it on the
    /// `--proxy-endpoints-port`.
    public var metricsBindAddress: ListenAddress?
    /// `--metrics-insecure`: serve `/metrics` without authentication and authorization.
    public var metricsInsecure = false
    /// `--allow-basic-auth-token`: `Authorization: Basic base64(anything:TOKEN)` counts as bearer TOKEN,
    /// for `go tool pprof https://x:TOKEN@host/...`.
    public var allowBasicAuthToken = false

    // Kubernetes API client
    public var kubeAPITimeout: Duration = .seconds(10)
    /// `--kube-api-qps` / `--kube-api-burst`; client-go's 5 and 10 when not set.
    public var kubeAPIQPS: Double = 5
    public var kubeAPIBurst = 10

    // Process
    public var shutdownGracePeriod: Duration = .seconds(90)
    public var logLevel: Logger.Level = .info

    public init(listenAddress: ListenAddress?, upstream: UpstreamTarget) {
        self.listenAddress = listenAddress
        self.upstream = upstream
    }
}
