import Logging
import RequestPolicy

/// Everything the proxy needs to start, as plain values: what the command line says, validated.
package struct ProxyConfiguration: Sendable {
    // Listeners
    /// `--secure-listen-address`; nil only when `--insecure-listen-address` is given instead.
    package var listenAddress: ListenAddress?
    /// `--insecure-listen-address` (deprecated): plain HTTP/1.1 and h2c.
    package var insecureListenAddress: ListenAddress?
    /// `--tls-cert-file` / `--tls-private-key-file`; both nil means a self-signed certificate.
    package var tlsCertificateFile: String?
    package var tlsPrivateKeyFile: String?
    /// `--client-ca-file`: verified client certificates authenticate (CN = user, O = groups).
    package var clientCAFile: String?
    package var tls = ServingTLSSettings()
    /// How often the serving certificate, key and client CA files are checked for changes.
    package var certificateReloadInterval: Duration = .seconds(1)
    /// `--proxy-endpoints-port`: `/healthz` and `/readyz` over TLS on the listen host.
    package var proxyEndpointsPort: Int?
    /// `--read-header-timeout`: how long a request head may take to arrive; nil: no limit.
    package var readHeaderTimeout: Duration? = .seconds(10)
    /// `--max-connections`: open client connections per listener; nil: no limit.
    package var maxConnections: Int? = 1024

    // Upstream
    package var upstream: UpstreamTarget
    package var upstreamCAFile: String?
    package var upstreamClientCertificateFile: String?
    package var upstreamClientKeyFile: String?
    package var upstreamForceH2C = false

    // Paths
    package var allowPaths: [PathPattern] = PathPolicy.pprofOnly().allowed
    /// `--ignore-paths`: proxied with no authentication, authorization or identity headers.
    package var ignorePaths: [PathPattern] = []

    // Authentication
    package var kubeconfigPath: String?
    package var tokenAudiences: [String] = []
    package var tokenAuthFilePath: String?
    package var authenticationCacheTimeToLive = CachingTokenAuthenticator.TimeToLive()

    // Authorization
    package var configFilePath: String?
    package var verbMapping = VerbMapping.apiserver
    package var authorizationCacheTimeToLive = CachingAuthorizer.TimeToLive()
    package var identityHeaders = IdentityHeaders()

    // pprof guardrails and capture scheduling
    /// `--max-capture-seconds`: the longest profile, trace or delta profile a request may ask for.
    package var maxCaptureSeconds = 300
    /// `--cpu-profile-slices`: serve CPU profiles from back-to-back slices merged per request,
    /// instead of joining or queueing them like traces.
    package var cpuProfileSlices = true
    /// `--capture-join-window`: a CPU profile or trace asked with the same parameters this soon after
    /// one started joins it and receives the same bytes.
    package var captureJoinWindow: Duration = .seconds(2)
    /// `--capture-queue-timeout`: the longest a CPU profile or trace waits for the one running.
    package var captureQueueTimeout: Duration = .seconds(60)
    /// `--capture-queue-size`: how many CPU profiles and traces may wait, for each of the two.
    package var captureQueueSize = 8
    /// `--max-captures-per-user`: concurrent captures (running, joined or queued) per user.
    package var maxCapturesPerUser = 2

    // Observability
    /// `--audit-log-path`: one JSON line per request; `-` for standard error; nil for none.
    package var auditLogPath: String?
    /// `--metrics-bind-address`: a listener of its own for `/metrics`; nil serves it on the
    /// `--proxy-endpoints-port`.
    package var metricsBindAddress: ListenAddress?
    /// `--metrics-insecure`: serve `/metrics` without authentication and authorization.
    package var metricsInsecure = false
    /// `--allow-basic-auth-token`: `Authorization: Basic base64(anything:TOKEN)` counts as bearer TOKEN,
    /// for `go tool pprof https://x:TOKEN@host/...`.
    package var allowBasicAuthToken = false

    // Kubernetes API client
    package var kubeAPITimeout: Duration = .seconds(10)
    /// `--kube-api-qps` / `--kube-api-burst`; client-go's 5 and 10 when not set.
    package var kubeAPIQPS: Double = 5
    package var kubeAPIBurst = 10

    // Process
    package var shutdownGracePeriod: Duration = .seconds(90)
    package var logLevel: Logger.Level = .info

    package init(listenAddress: ListenAddress?, upstream: UpstreamTarget) {
        self.listenAddress = listenAddress
        self.upstream = upstream
    }
}

extension ProxyConfiguration {
    /// The combinations of settings the proxy cannot start with, checked in this one place: by the
    /// command line, so that they exit 2 like any other usage error, and by `ProxyApplication.run`
    /// for configurations made in code.
    package func validate() throws(ConfigurationError) {
        guard listenAddress != nil || insecureListenAddress != nil else { throw .noListenAddress }
        if (tlsCertificateFile == nil) != (tlsPrivateKeyFile == nil) {
            throw .missingFlag(
                flag: tlsCertificateFile == nil ? "--tls-cert-file" : "--tls-private-key-file",
                hint: "--tls-cert-file and --tls-private-key-file must be given together"
            )
        }
        if (upstreamClientCertificateFile == nil) != (upstreamClientKeyFile == nil) {
            throw .missingFlag(
                flag: upstreamClientCertificateFile == nil ? "--upstream-client-cert-file" : "--upstream-client-key-file",
                hint: "--upstream-client-cert-file and --upstream-client-key-file must be given together"
            )
        }
        if upstreamForceH2C, upstream.scheme == .https {
            throw .invalidFlag(
                flag: "--upstream-force-h2c", value: "true",
                reason: "h2c is cleartext HTTP/2 and cannot be used with an https:// upstream; use an http:// URL"
            )
        }
    }
}
