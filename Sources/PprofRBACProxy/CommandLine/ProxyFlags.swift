import RequestPolicy

/// Every flag the proxy accepts, each declared once: binding, `--help` and tests refer to these constants.
package enum ProxyFlags {
    private static let defaults = ProxyConfiguration(listenAddress: nil, upstream: UpstreamTarget(host: "", port: 0))

    // MARK: - kube-rbac-proxy's own flags, then this proxy's

    static let insecureListenAddress = Flag<String>(
        "insecure-listen-address", kind: .string, default: "",
        usage: "[DEPRECATED] The address of a plain-HTTP listener (HTTP/1.1 and h2c). Tokens cross the network in clear text; use --secure-listen-address."
    )
    static let secureListenAddress = Flag<String>(
        "secure-listen-address", kind: .string, default: "",
        usage: "The address the TLS listener binds to (HOST:PORT; port 0 picks a free port). This or --insecure-listen-address is required."
    )
    static let upstream = Flag<String>(
        "upstream", kind: .string, default: "",
        usage: "The URL of the pprof server to proxy to once a request is authenticated and authorized, e.g. http://127.0.0.1:8081/. Required."
    )
    static let upstreamForceH2C = Flag<Bool>(
        "upstream-force-h2c", kind: .bool, default: false,
        usage: "Speak HTTP/2 over cleartext (prior knowledge) to the upstream."
    )
    static let upstreamCAFile = Flag<String>(
        "upstream-ca-file", kind: .string, default: "",
        usage: "PEM CA bundle that verifies an https:// upstream. Empty: the system roots."
    )
    static let upstreamClientCertFile = Flag<String>(
        "upstream-client-cert-file", kind: .string, default: "",
        usage: "PEM client certificate the proxy presents to an https:// upstream. Needs --upstream-client-key-file."
    )
    static let upstreamClientKeyFile = Flag<String>(
        "upstream-client-key-file", kind: .string, default: "",
        usage: "The private key of --upstream-client-cert-file."
    )
    static let configFile = Flag<String>(
        "config-file", kind: .string, default: "",
        usage: "kube-rbac-proxy's YAML authorization config: authorization.resourceAttributes, .rewrites and .static rules."
    )
    static let allowPaths = Flag<[String]>(
        "allow-paths", kind: .stringSlice, default: PathPolicy.defaultAllowPatterns,
        usage: "Comma-separated Go path.Match globs of the paths served; any other path is 404 before authentication. Cannot be used with --ignore-paths."
    )
    static let ignorePaths = Flag<[String]>(
        "ignore-paths", kind: .stringSlice, default: [],
        usage: "Comma-separated globs of paths proxied without authentication or authorization; other paths must match the default --allow-paths. Cannot be used with --allow-paths."
    )
    static let proxyEndpointsPort = Flag<Int>(
        "proxy-endpoints-port", kind: .int, default: 0,
        usage: "Port that serves /healthz and /readyz over TLS on the listen address's host. 0: off."
    )
    static let tlsCertFile = Flag<String>(
        "tls-cert-file", kind: .string, default: "",
        usage: "PEM serving certificate, intermediates after it. Without it and --tls-private-key-file, a self-signed certificate is made in memory."
    )
    static let tlsPrivateKeyFile = Flag<String>(
        "tls-private-key-file", kind: .string, default: "",
        usage: "PEM private key of --tls-cert-file."
    )
    static let tlsMinVersion = Flag<String>(
        "tls-min-version", kind: .string, default: "VersionTLS12",
        usage: "Minimum TLS version: VersionTLS10, VersionTLS11, VersionTLS12 or VersionTLS13."
    )
    static let tlsCipherSuites = Flag<[String]>(
        "tls-cipher-suites", kind: .stringSlice, default: [],
        usage: "Comma-separated TLS 1.2 cipher suites by Go crypto/tls name. Empty: the TLS library's defaults. No effect on TLS 1.3."
    )
    static let tlsReloadInterval = Flag<Duration>(
        "tls-reload-interval", kind: .duration, default: defaults.certificateReloadInterval,
        usage: "[DEPRECATED] How often the serving certificate, key and client CA files are checked for changes."
    )
    static let clientCAFile = Flag<String>(
        "client-ca-file", kind: .string, default: "",
        usage: "PEM CA bundle; a client certificate it verifies authenticates the request (CN = user, O = groups). Reloaded when the file changes."
    )
    static let authTokenAudiences = Flag<[String]>(
        "auth-token-audiences", kind: .stringSlice, default: [],
        usage: "Comma-separated audiences sent in TokenReview spec.audiences; the token must be valid for one of them."
    )
    static let authHeaderFieldsEnabled = Flag<Bool>(
        "auth-header-fields-enabled", kind: .bool, default: false,
        usage: "Send the authenticated user and groups to the upstream in the two headers below."
    )
    static let authHeaderUserFieldName = Flag<String>(
        "auth-header-user-field-name", kind: .string, default: defaults.identityHeaders.userHeader,
        usage: "The header that carries the user name. Inbound copies are always removed."
    )
    static let authHeaderGroupsFieldName = Flag<String>(
        "auth-header-groups-field-name", kind: .string, default: defaults.identityHeaders.groupsHeader,
        usage: "The header that carries the groups. Inbound copies are always removed."
    )
    static let authHeaderGroupsFieldSeparator = Flag<String>(
        "auth-header-groups-field-separator", kind: .string, default: defaults.identityHeaders.groupsSeparator,
        usage: "The separator the groups are joined with."
    )
    static let kubeconfig = Flag<String>(
        "kubeconfig", kind: .string, default: "",
        usage: "Kubeconfig for the TokenReview and SubjectAccessReview client. Empty: the in-cluster service account."
    )
    static let kubeAPIQPS = Flag<Double>(
        "kube-api-qps", kind: .float32, default: defaults.kubeAPIQPS,
        usage: "Queries per second to the Kubernetes API (client-side throttling, as client-go). Values <= 0 keep the default."
    )
    static let kubeAPIBurst = Flag<Int>(
        "kube-api-burst", kind: .int, default: defaults.kubeAPIBurst,
        usage: "Burst of queries to the Kubernetes API above --kube-api-qps. Values <= 0 keep the default."
    )
    static let http2Disable = Flag<Bool>(
        "http2-disable", kind: .bool, default: false,
        usage: "Offer only HTTP/1.1 (no h2 in ALPN, no h2c on the insecure listener)."
    )
    static let http2MaxConcurrentStreams = Flag<Int>(
        "http2-max-concurrent-streams", kind: .uint32, default: defaults.tls.http2MaxConcurrentStreams,
        usage: "Maximum concurrent HTTP/2 streams per connection. 0: Go's default of 250."
    )
    static let http2MaxSize = Flag<Int>(
        "http2-max-size", kind: .uint32, default: defaults.tls.http2MaxSize,
        usage: "HTTP/2 maximum frame size read and per-stream receive window, in bytes (16384-16777215). 0: Go's default of 1 MiB."
    )
    static let tokenAuthFile = Flag<String>(
        "token-auth-file", kind: .string, default: "",
        usage: "kube-apiserver static token CSV (token,user,uid,\"group1,group2\"), checked before TokenReview. With no cluster: local mode."
    )
    static let verbMapping = Flag<String>(
        "verb-mapping", kind: .string, default: defaults.verbMapping.rawValue,
        usage: "How HTTP methods become authorization verbs: apiserver (lower-cased method, as the kube-apiserver for non-resource URLs) or kube-rbac-proxy (POST→create, HEAD→*, …)."
    )
    static let kubeAPITimeout = Flag<Duration>(
        "kube-api-timeout", kind: .duration, default: defaults.kubeAPITimeout,
        usage: "Timeout of one TokenReview or SubjectAccessReview call."
    )
    static let readHeaderTimeout = Flag<Duration>(
        "read-header-timeout", kind: .duration, default: defaults.readHeaderTimeout ?? .zero,
        usage: "How long a client may take to send a request head, counted from accept (TLS handshake included) for a connection's first request and from its first byte for later ones; slower connections are closed. 0: no limit."
    )
    static let maxConnections = Flag<Int>(
        "max-connections", kind: .int, default: defaults.maxConnections ?? 0,
        usage: "Open client connections per listener; further clients wait in the listen backlog until one closes. 0: no limit."
    )
    static let shutdownGracePeriod = Flag<Duration>(
        "shutdown-grace-period", kind: .duration, default: defaults.shutdownGracePeriod,
        usage: "How long in-flight requests may run after SIGTERM or SIGINT."
    )
    static let authenticationTokenWebhookCacheTTL = Flag<Duration>(
        "authentication-token-webhook-cache-ttl", kind: .duration,
        default: defaults.authenticationCacheTimeToLive.authenticated,
        usage: "How long an authenticated token is remembered."
    )
    static let authenticationTokenWebhookCacheUnauthenticatedTTL = Flag<Duration>(
        "authentication-token-webhook-cache-unauthenticated-ttl", kind: .duration,
        default: defaults.authenticationCacheTimeToLive.unauthenticated,
        usage: "How long a rejected token is remembered."
    )
    static let authorizationWebhookCacheAuthorizedTTL = Flag<Duration>(
        "authorization-webhook-cache-authorized-ttl", kind: .duration,
        default: defaults.authorizationCacheTimeToLive.allowed,
        usage: "How long an allow decision is remembered."
    )
    static let authorizationWebhookCacheUnauthorizedTTL = Flag<Duration>(
        "authorization-webhook-cache-unauthorized-ttl", kind: .duration,
        default: defaults.authorizationCacheTimeToLive.denied,
        usage: "How long a deny decision is remembered."
    )
    static let maxCaptureSeconds = Flag<Int>(
        "max-capture-seconds", kind: .int, default: defaults.maxCaptureSeconds,
        usage: "The longest CPU profile, trace or delta profile (seconds=) a request may ask for; longer ones are refused with 400."
    )
    static let cpuProfileSlices = Flag<Bool>(
        "cpu-profile-slices", kind: .bool, default: defaults.cpuProfileSlices,
        usage: "Serve every CPU profile request at once from back-to-back 1 s upstream captures, each answered with the merge of the slices covering its window. False: CPU profiles join or queue like traces."
    )
    static let captureJoinWindow = Flag<Duration>(
        "capture-join-window", kind: .duration, default: defaults.captureJoinWindow,
        usage: "A CPU profile or trace asked with the same parameters this soon after one started joins it and receives the same bytes."
    )
    static let captureQueueTimeout = Flag<Duration>(
        "capture-queue-timeout", kind: .duration, default: defaults.captureQueueTimeout,
        usage: "The longest a CPU profile or trace waits for the one running before it is refused with 429."
    )
    static let captureQueueSize = Flag<Int>(
        "capture-queue-size", kind: .int, default: defaults.captureQueueSize,
        usage: "How many CPU profiles (and, separately, traces) may wait for the running one; more are refused with 429."
    )
    static let maxCapturesPerUser = Flag<Int>(
        "max-captures-per-user", kind: .int, default: defaults.maxCapturesPerUser,
        usage: "Concurrent captures (CPU profiles, traces, delta profiles; running, joined or waiting) per user; more are refused with 429."
    )
    static let auditLogPath = Flag<String>(
        "audit-log-path", kind: .string, default: "",
        usage: "Write one JSON line per request here (- for standard error); reopened on SIGHUP. Empty: no audit log."
    )
    static let metricsBindAddress = Flag<String>(
        "metrics-bind-address", kind: .string, default: "",
        usage: "Serve /metrics (Prometheus text) over TLS on this HOST:PORT. Empty: on --proxy-endpoints-port, if set."
    )
    static let metricsInsecure = Flag<Bool>(
        "metrics-insecure", kind: .bool, default: false,
        usage: "Serve /metrics without authentication and authorization (by default it is protected like pprof)."
    )
    static let allowBasicAuthToken = Flag<Bool>(
        "allow-basic-auth-token", kind: .bool, default: false,
        usage: "Accept Authorization: Basic base64(anything:TOKEN) as bearer TOKEN, so that go tool pprof https://x:TOKEN@host/... works. The token then sits in URLs and shell history."
    )
    static let help = Flag<Bool>("help", shorthand: "h", kind: .bool, default: false, usage: "Print this help and exit.")
    static let version = Flag<String>(
        "version", kind: .version, default: "false",
        usage: "Print the version and exit (--version or --version=raw)."
    )

    // MARK: - klog's flags that still work (or are accepted and ignored)

    static let verbosity = Flag<Int>(
        "v", shorthand: "v", kind: .level, default: 0,
        usage: "Log verbosity, as klog's: 0-1 info, 2-4 debug, 5 and above trace."
    )
    static let vmodule = Flag<String>(
        "vmodule", kind: .string, default: "",
        usage: "Accepted and ignored (there is no per-file verbosity); a warning is logged."
    )
    static let logFlushFrequency = Flag<Duration>(
        "log-flush-frequency", kind: .duration, default: .seconds(5),
        usage: "Accepted and ignored (log lines are written unbuffered); a warning is logged."
    )

    /// kube-rbac-proxy's own flags, then this proxy's, in the order `--help` lists them.
    static let proxy: [FlagDefinition] = [
        insecureListenAddress.definition,
        secureListenAddress.definition,
        upstream.definition,
        upstreamForceH2C.definition,
        upstreamCAFile.definition,
        upstreamClientCertFile.definition,
        upstreamClientKeyFile.definition,
        configFile.definition,
        allowPaths.definition,
        ignorePaths.definition,
        proxyEndpointsPort.definition,
        tlsCertFile.definition,
        tlsPrivateKeyFile.definition,
        tlsMinVersion.definition,
        tlsCipherSuites.definition,
        tlsReloadInterval.definition,
        clientCAFile.definition,
        authTokenAudiences.definition,
        authHeaderFieldsEnabled.definition,
        authHeaderUserFieldName.definition,
        authHeaderGroupsFieldName.definition,
        authHeaderGroupsFieldSeparator.definition,
        kubeconfig.definition,
        kubeAPIQPS.definition,
        kubeAPIBurst.definition,
        http2Disable.definition,
        http2MaxConcurrentStreams.definition,
        http2MaxSize.definition,
        tokenAuthFile.definition,
        verbMapping.definition,
        kubeAPITimeout.definition,
        readHeaderTimeout.definition,
        maxConnections.definition,
        shutdownGracePeriod.definition,
        authenticationTokenWebhookCacheTTL.definition,
        authenticationTokenWebhookCacheUnauthenticatedTTL.definition,
        authorizationWebhookCacheAuthorizedTTL.definition,
        authorizationWebhookCacheUnauthorizedTTL.definition,
        maxCaptureSeconds.definition,
        cpuProfileSlices.definition,
        captureJoinWindow.definition,
        captureQueueTimeout.definition,
        captureQueueSize.definition,
        maxCapturesPerUser.definition,
        auditLogPath.definition,
        metricsBindAddress.definition,
        metricsInsecure.definition,
        allowBasicAuthToken.definition,
        help.definition,
        version.definition,
    ]

    /// klog's flags that still work (or are accepted and ignored).
    static let logging: [FlagDefinition] = [
        verbosity.definition,
        vmodule.definition,
        logFlushFrequency.definition,
    ]

    /// kube-rbac-proxy's OIDC flags: refused, since only TokenReview and client certificates authenticate.
    static let oidc: [FlagDefinition] = [
        FlagDefinition("oidc-issuer", kind: .string, default: .string(""), usage: "Refused: OIDC is not supported."),
        FlagDefinition("oidc-clientID", kind: .string, default: .string(""), usage: "Refused: OIDC is not supported."),
        FlagDefinition("oidc-ca-file", kind: .string, default: .string(""), usage: "Refused: OIDC is not supported."),
        FlagDefinition("oidc-username-claim", kind: .string, default: .string("email"), usage: "Refused: OIDC is not supported."),
        FlagDefinition("oidc-groups-claim", kind: .string, default: .string("groups"), usage: "Refused: OIDC is not supported."),
        FlagDefinition("oidc-username-prefix", kind: .string, default: .string(""), usage: "Refused: OIDC is not supported."),
        FlagDefinition("oidc-groups-prefix", kind: .string, default: .string(""), usage: "Refused: OIDC is not supported."),
        FlagDefinition("oidc-sign-alg", kind: .stringArray, default: .strings(["RS256"]), usage: "Refused: OIDC is not supported."),
    ]

    /// klog flags kube-rbac-proxy still accepts but that do nothing; each use logs a warning.
    static let removedLogging: [FlagDefinition] = [
        ("add-dir-header", FlagDefinition.Kind.bool), ("alsologtostderr", .bool), ("log-backtrace-at", .string),
        ("log-dir", .string), ("log-file", .string), ("log-file-max-size", .uint64), ("logtostderr", .bool),
        ("one-output", .bool), ("skip-headers", .bool), ("skip-log-headers", .bool), ("stderrthreshold", .string),
    ].map { name, kind in
        let empty: FlagValue = switch kind {
        case .bool: .bool(false)
        case .uint64: .int(0)
        default: .string("")
        }
        return FlagDefinition(name, kind: kind, default: empty, usage: "Removed; accepted with a warning, no effect.")
    }

    /// Every definition the parser knows.
    static let all: [FlagDefinition] = proxy + logging + oidc + removedLogging
}
