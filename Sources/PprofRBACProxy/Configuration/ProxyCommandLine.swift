import RequestPolicy

/// The proxy's command line: kube-rbac-proxy's flags (and klog's), its names and defaults, parsed
/// with pflag's rules into a `ProxyConfiguration`.
package enum ProxyCommandLine {
    package static let programName = "pprof-rbac-proxy"
    package static let version = "0.1.0"

    /// What the command line asks the program to do.
    package enum Action: Sendable {
        /// Run with this configuration, after logging each warning (one line each).
        case run(ProxyConfiguration, warnings: [String])
        /// Print this text to standard output and exit 0.
        case printHelp(String)
        /// Print this line to standard output and exit 0.
        case printVersion(String)
    }

    /// Parses the arguments (without the program name). Every error is a usage error: the caller
    /// prints it and exits 2.
    package static func parse(_ arguments: [String]) throws(ConfigurationError) -> Action {
        let flags = try flagSet.parse(arguments)
        if flags.bool("help") {
            return .printHelp(help)
        }
        if let argument = flags.positionalArguments.first {
            throw .unexpectedArgument(argument, hint: hint(forPositional: argument, in: arguments))
        }
        if flags.string("version") != "false" {
            return .printVersion("\(programName) \(version)")
        }
        if let oidcFlag = oidcFlags.first(where: { flags.isGiven($0.name) }) {
            throw .unsupportedFlag(
                flag: "--\(oidcFlag.name)",
                reason: "OIDC is not supported by pprof-rbac-proxy; use TokenReview (the default: the Kubernetes API "
                    + "checks bearer tokens, --auth-token-audiences restricts their audience) or client certificates (--client-ca-file)"
            )
        }
        return .run(try configuration(from: flags), warnings: warnings(for: flags))
    }

    // MARK: - The flags

    private static let defaults = ProxyConfiguration(listenAddress: nil, upstream: UpstreamTarget(host: "", port: 0))

    /// kube-rbac-proxy's own flags, then this proxy's.
    static let proxyFlags: [FlagDefinition] = [
        FlagDefinition(
            "insecure-listen-address", kind: .string, default: .string(""),
            usage: "[DEPRECATED] The address of a plain-HTTP listener (HTTP/1.1 and h2c). Tokens cross the network in clear text; use --secure-listen-address."
        ),
        FlagDefinition(
            "secure-listen-address", kind: .string, default: .string(""),
            usage: "The address the TLS listener binds to (HOST:PORT; port 0 picks a free port). This or --insecure-listen-address is required."
        ),
        FlagDefinition(
            "upstream", kind: .string, default: .string(""),
            usage: "The URL of the pprof server to proxy to once a request is authenticated and authorized, e.g. http://127.0.0.1:8081/. Required."
        ),
        FlagDefinition(
            "upstream-force-h2c", kind: .bool, default: .bool(false),
            usage: "Speak HTTP/2 over cleartext (prior knowledge) to the upstream."
        ),
        FlagDefinition(
            "upstream-ca-file", kind: .string, default: .string(""),
            usage: "PEM CA bundle that verifies an https:// upstream. Empty: the system roots."
        ),
        FlagDefinition(
            "upstream-client-cert-file", kind: .string, default: .string(""),
            usage: "PEM client certificate the proxy presents to an https:// upstream. Needs --upstream-client-key-file."
        ),
        FlagDefinition(
            "upstream-client-key-file", kind: .string, default: .string(""),
            usage: "The private key of --upstream-client-cert-file."
        ),
        FlagDefinition(
            "config-file", kind: .string, default: .string(""),
            usage: "kube-rbac-proxy's YAML authorization config: authorization.resourceAttributes, .rewrites and .static rules."
        ),
        FlagDefinition(
            "allow-paths", kind: .stringSlice, default: .strings(PathPolicy.defaultAllowPatterns),
            usage: "Comma-separated Go path.Match globs of the paths served; any other path is 404 before authentication. Cannot be used with --ignore-paths."
        ),
        FlagDefinition(
            "ignore-paths", kind: .stringSlice, default: .strings([]),
            usage: "Comma-separated globs of paths proxied without authentication or authorization; other paths must match the default --allow-paths. Cannot be used with --allow-paths."
        ),
        FlagDefinition(
            "proxy-endpoints-port", kind: .int, default: .int(0),
            usage: "Port that serves /healthz and /readyz over TLS on the listen address's host. 0: off."
        ),
        FlagDefinition(
            "tls-cert-file", kind: .string, default: .string(""),
            usage: "PEM serving certificate, intermediates after it. Without it and --tls-private-key-file, a self-signed certificate is made in memory."
        ),
        FlagDefinition(
            "tls-private-key-file", kind: .string, default: .string(""),
            usage: "PEM private key of --tls-cert-file."
        ),
        FlagDefinition(
            "tls-min-version", kind: .string, default: .string("VersionTLS12"),
            usage: "Minimum TLS version: VersionTLS10, VersionTLS11, VersionTLS12 or VersionTLS13."
        ),
        FlagDefinition(
            "tls-cipher-suites", kind: .stringSlice, default: .strings([]),
            usage: "Comma-separated TLS 1.2 cipher suites by Go crypto/tls name. Empty: the TLS library's defaults. No effect on TLS 1.3."
        ),
        FlagDefinition(
            "tls-reload-interval", kind: .duration, default: .duration(defaults.certificateReloadInterval),
            usage: "[DEPRECATED] How often the serving certificate, key and client CA files are checked for changes."
        ),
        FlagDefinition(
            "client-ca-file", kind: .string, default: .string(""),
            usage: "PEM CA bundle; a client certificate it verifies authenticates the request (CN = user, O = groups). Reloaded when the file changes."
        ),
        FlagDefinition(
            "auth-token-audiences", kind: .stringSlice, default: .strings([]),
            usage: "Comma-separated audiences sent in TokenReview spec.audiences; the token must be valid for one of them."
        ),
        FlagDefinition(
            "auth-header-fields-enabled", kind: .bool, default: .bool(false),
            usage: "Send the authenticated user and groups to the upstream in the two headers below."
        ),
        FlagDefinition(
            "auth-header-user-field-name", kind: .string, default: .string(defaults.identityHeaders.userHeader),
            usage: "The header that carries the user name. Inbound copies are always removed."
        ),
        FlagDefinition(
            "auth-header-groups-field-name", kind: .string, default: .string(defaults.identityHeaders.groupsHeader),
            usage: "The header that carries the groups. Inbound copies are always removed."
        ),
        FlagDefinition(
            "auth-header-groups-field-separator", kind: .string, default: .string(defaults.identityHeaders.groupsSeparator),
            usage: "The separator the groups are joined with."
        ),
        FlagDefinition(
            "kubeconfig", kind: .string, default: .string(""),
            usage: "Kubeconfig for the TokenReview and SubjectAccessReview client. Empty: the in-cluster service account."
        ),
        FlagDefinition(
            "kube-api-qps", kind: .float32, default: .double(defaults.kubeAPIQPS),
            usage: "Queries per second to the Kubernetes API (client-side throttling, as client-go). Values <= 0 keep the default."
        ),
        FlagDefinition(
            "kube-api-burst", kind: .int, default: .int(defaults.kubeAPIBurst),
            usage: "Burst of queries to the Kubernetes API above --kube-api-qps. Values <= 0 keep the default."
        ),
        FlagDefinition(
            "http2-disable", kind: .bool, default: .bool(false),
            usage: "Offer only HTTP/1.1 (no h2 in ALPN, no h2c on the insecure listener)."
        ),
        FlagDefinition(
            "http2-max-concurrent-streams", kind: .uint32, default: .int(defaults.tls.http2MaxConcurrentStreams),
            usage: "Maximum concurrent HTTP/2 streams per connection. 0: Go's default of 250."
        ),
        FlagDefinition(
            "http2-max-size", kind: .uint32, default: .int(defaults.tls.http2MaxSize),
            usage: "HTTP/2 maximum frame size read and per-stream receive window, in bytes (16384-16777215). 0: Go's default of 1 MiB."
        ),
        FlagDefinition(
            "token-auth-file", kind: .string, default: .string(""),
            usage: "kube-apiserver static token CSV (token,user,uid,\"group1,group2\"), checked before TokenReview. With no cluster: local mode."
        ),
        FlagDefinition(
            "verb-mapping", kind: .string, default: .string(defaults.verbMapping.rawValue),
            usage: "How HTTP methods become authorization verbs: apiserver (lower-cased method, as the kube-apiserver for non-resource URLs) or kube-rbac-proxy (POST→create, HEAD→*, …)."
        ),
        FlagDefinition(
            "kube-api-timeout", kind: .duration, default: .duration(defaults.kubeAPITimeout),
            usage: "Timeout of one TokenReview or SubjectAccessReview call."
        ),
        FlagDefinition(
            "read-header-timeout", kind: .duration, default: .duration(defaults.readHeaderTimeout ?? .zero),
            usage: "How long a client may take to send a request head, counted from accept (TLS handshake included) for a connection's first request and from its first byte for later ones; slower connections are closed. 0: no limit."
        ),
        FlagDefinition(
            "max-connections", kind: .int, default: .int(defaults.maxConnections ?? 0),
            usage: "Open client connections per listener; further clients wait in the listen backlog until one closes. 0: no limit."
        ),
        FlagDefinition(
            "shutdown-grace-period", kind: .duration, default: .duration(defaults.shutdownGracePeriod),
            usage: "How long in-flight requests may run after SIGTERM or SIGINT."
        ),
        FlagDefinition(
            "authentication-token-webhook-cache-ttl", kind: .duration,
            default: .duration(defaults.authenticationCacheTimeToLive.authenticated),
            usage: "How long an authenticated token is remembered."
        ),
        FlagDefinition(
            "authentication-token-webhook-cache-unauthenticated-ttl", kind: .duration,
            default: .duration(defaults.authenticationCacheTimeToLive.unauthenticated),
            usage: "How long a rejected token is remembered."
        ),
        FlagDefinition(
            "authorization-webhook-cache-authorized-ttl", kind: .duration,
            default: .duration(defaults.authorizationCacheTimeToLive.allowed),
            usage: "How long an allow decision is remembered."
        ),
        FlagDefinition(
            "authorization-webhook-cache-unauthorized-ttl", kind: .duration,
            default: .duration(defaults.authorizationCacheTimeToLive.denied),
            usage: "How long a deny decision is remembered."
        ),
        FlagDefinition(
            "max-capture-seconds", kind: .int, default: .int(defaults.maxCaptureSeconds),
            usage: "The longest CPU profile, trace or delta profile (seconds=) a request may ask for; longer ones are refused with 400."
        ),
        FlagDefinition(
            "capture-join-window", kind: .duration, default: .duration(defaults.captureJoinWindow),
            usage: "A CPU profile or trace asked with the same parameters this soon after one started joins it and receives the same bytes."
        ),
        FlagDefinition(
            "capture-queue-timeout", kind: .duration, default: .duration(defaults.captureQueueTimeout),
            usage: "The longest a CPU profile or trace waits for the one running before it is refused with 429."
        ),
        FlagDefinition(
            "capture-queue-size", kind: .int, default: .int(defaults.captureQueueSize),
            usage: "How many CPU profiles (and, separately, traces) may wait for the running one; more are refused with 429."
        ),
        FlagDefinition(
            "max-captures-per-user", kind: .int, default: .int(defaults.maxCapturesPerUser),
            usage: "Concurrent captures (CPU profiles, traces, delta profiles; running, joined or waiting) per user; more are refused with 429."
        ),
        FlagDefinition(
            "audit-log-path", kind: .string, default: .string(""),
            usage: "Write one JSON line per request here (- for standard error); reopened on SIGHUP. Empty: no audit log."
        ),
        FlagDefinition(
            "metrics-bind-address", kind: .string, default: .string(""),
            usage: "Serve /metrics (Prometheus text) over TLS on this HOST:PORT. Empty: on --proxy-endpoints-port, if set."
        ),
        FlagDefinition(
            "metrics-insecure", kind: .bool, default: .bool(false),
            usage: "Serve /metrics without authentication and authorization (by default it is protected like pprof)."
        ),
        FlagDefinition(
            "allow-basic-auth-token", kind: .bool, default: .bool(false),
            usage: "Accept Authorization: Basic base64(anything:TOKEN) as bearer TOKEN, so that go tool pprof https://x:TOKEN@host/... works. The token then sits in URLs and shell history."
        ),
        FlagDefinition("help", shorthand: "h", kind: .bool, default: .bool(false), usage: "Print this help and exit."),
        FlagDefinition(
            "version", kind: .version, default: .string("false"),
            usage: "Print the version and exit (--version or --version=raw)."
        ),
    ]

    /// klog's flags that still work (or are accepted and ignored).
    static let loggingFlags: [FlagDefinition] = [
        FlagDefinition(
            "v", shorthand: "v", kind: .level, default: .int(0),
            usage: "Log verbosity, as klog's: 0-1 info, 2-4 debug, 5 and above trace."
        ),
        FlagDefinition(
            "vmodule", kind: .string, default: .string(""),
            usage: "Accepted and ignored (there is no per-file verbosity); a warning is logged."
        ),
        FlagDefinition(
            "log-flush-frequency", kind: .duration, default: .duration(.seconds(5)),
            usage: "Accepted and ignored (log lines are written unbuffered); a warning is logged."
        ),
    ]

    /// kube-rbac-proxy's OIDC flags: refused, since only TokenReview and client certificates authenticate.
    static let oidcFlags: [FlagDefinition] = [
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
    static let removedLoggingFlags: [FlagDefinition] = [
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

    static let flagSet = FlagSet(proxyFlags + loggingFlags + oidcFlags + removedLoggingFlags)

    // MARK: - Help

    /// Every flag with its default and meaning; the removed logging flags only by name.
    package static let help: String = {
        let removed = FlagSet.wrapped(
            removedLoggingFlags.map { "--\($0.name)" }.joined(separator: ", ").split(separator: " ").map(String.init),
            indent: "  ", width: 100
        )
        return """
            \(programName) \(version): an authorizing TLS reverse proxy for Go net/http/pprof endpoints.
            It asks the Kubernetes API who the caller is (TokenReview) and whether they may do this
            (SubjectAccessReview) before forwarding to the upstream. It takes kube-rbac-proxy's flags.

            Usage:
              \(programName) --secure-listen-address=HOST:PORT --upstream=URL [flags]

            Flags:
            \(FlagSet.usage(of: proxyFlags))
            Logging flags:
            \(FlagSet.usage(of: loggingFlags))
            OIDC flags (refused at startup; OIDC is not supported):
            \(FlagSet.usage(of: oidcFlags))
            Removed logging flags (accepted with a warning, no effect):
            \(removed)
            Durations use Go syntax (30s, 2m, 1h30m). List flags take commas and may be repeated.
            Boolean flags take --flag or --flag=false, never --flag false. Unknown flags or arguments
            exit 2.

            """
    }()

    // MARK: - From flags to configuration

    static func configuration(from flags: ParsedFlags) throws(ConfigurationError) -> ProxyConfiguration {
        let secure = try flags.nonEmptyString("secure-listen-address").map { text throws(ConfigurationError) in
            try ListenAddress(parsing: text, flag: "--secure-listen-address")
        }
        let insecure = try flags.nonEmptyString("insecure-listen-address").map { text throws(ConfigurationError) in
            try ListenAddress(parsing: text, flag: "--insecure-listen-address")
        }
        guard let upstream = flags.nonEmptyString("upstream") else {
            throw .missingFlag(flag: "--upstream", hint: "pass the pprof server to protect, e.g. http://127.0.0.1:8081/")
        }
        var configuration = ProxyConfiguration(listenAddress: secure, upstream: try UpstreamTarget(parsing: upstream))
        configuration.insecureListenAddress = insecure

        configuration.upstreamForceH2C = flags.bool("upstream-force-h2c")
        configuration.upstreamCAFile = flags.nonEmptyString("upstream-ca-file")
        configuration.upstreamClientCertificateFile = flags.nonEmptyString("upstream-client-cert-file")
        configuration.upstreamClientKeyFile = flags.nonEmptyString("upstream-client-key-file")

        configuration.configFilePath = flags.nonEmptyString("config-file")
        let allowPaths = trimmedList(flags.strings("allow-paths"))
        let ignorePaths = trimmedList(flags.strings("ignore-paths"))
        if flags.isGiven("allow-paths") && !allowPaths.isEmpty && !ignorePaths.isEmpty {
            throw .conflictingFlags("--allow-paths", "--ignore-paths")
        }
        if !allowPaths.isEmpty {
            configuration.allowPaths = try pathPatterns(allowPaths, flag: "--allow-paths")
        }
        configuration.ignorePaths = try pathPatterns(ignorePaths, flag: "--ignore-paths")

        configuration.proxyEndpointsPort = try proxyEndpointsPort(flags, listeners: [secure, insecure].compactMap { $0 })

        configuration.tlsCertificateFile = flags.nonEmptyString("tls-cert-file")
        configuration.tlsPrivateKeyFile = flags.nonEmptyString("tls-private-key-file")
        configuration.tls.minimumVersion = try GoTLSNames.version(named: flags.string("tls-min-version"))
        configuration.tls.cipherSuites = try trimmedList(flags.strings("tls-cipher-suites")).map { name throws(ConfigurationError) in
            try GoTLSNames.cipherSuite(named: name)
        }
        configuration.certificateReloadInterval = try positive(flags, "tls-reload-interval")
        configuration.clientCAFile = flags.nonEmptyString("client-ca-file")

        configuration.tokenAudiences = trimmedList(flags.strings("auth-token-audiences"))
        configuration.identityHeaders.enabled = flags.bool("auth-header-fields-enabled")
        configuration.identityHeaders.userHeader = try headerName(flags, "auth-header-user-field-name")
        configuration.identityHeaders.groupsHeader = try headerName(flags, "auth-header-groups-field-name")
        configuration.identityHeaders.groupsSeparator = flags.string("auth-header-groups-field-separator")

        configuration.kubeconfigPath = flags.nonEmptyString("kubeconfig")
        if flags.double("kube-api-qps") > 0 {
            configuration.kubeAPIQPS = flags.double("kube-api-qps")
        }
        if flags.int("kube-api-burst") > 0 {
            configuration.kubeAPIBurst = flags.int("kube-api-burst")
        }

        configuration.tls.http2Disabled = flags.bool("http2-disable")
        configuration.tls.http2MaxConcurrentStreams = flags.int("http2-max-concurrent-streams") == 0
            ? 250 : flags.int("http2-max-concurrent-streams")
        configuration.tls.http2MaxSize = try http2MaxSize(flags)

        configuration.tokenAuthFilePath = flags.nonEmptyString("token-auth-file")
        guard let verbMapping = VerbMapping(rawValue: flags.string("verb-mapping")) else {
            throw .invalidFlag(
                flag: "--verb-mapping", value: flags.string("verb-mapping"),
                reason: "use one of \(VerbMapping.allCases.map(\.rawValue).joined(separator: ", "))"
            )
        }
        configuration.verbMapping = verbMapping
        configuration.kubeAPITimeout = try positive(flags, "kube-api-timeout")
        configuration.shutdownGracePeriod = try nonNegative(flags, "shutdown-grace-period")
        let readHeaderTimeout = try nonNegative(flags, "read-header-timeout")
        configuration.readHeaderTimeout = readHeaderTimeout == .zero ? nil : readHeaderTimeout
        let maxConnections = flags.int("max-connections")
        guard maxConnections >= 0 else {
            throw .invalidFlag(flag: "--max-connections", value: String(maxConnections), reason: "must not be negative")
        }
        configuration.maxConnections = maxConnections == 0 ? nil : maxConnections
        configuration.authenticationCacheTimeToLive = .init(
            authenticated: try nonNegative(flags, "authentication-token-webhook-cache-ttl"),
            unauthenticated: try nonNegative(flags, "authentication-token-webhook-cache-unauthenticated-ttl")
        )
        configuration.authorizationCacheTimeToLive = .init(
            allowed: try nonNegative(flags, "authorization-webhook-cache-authorized-ttl"),
            denied: try nonNegative(flags, "authorization-webhook-cache-unauthorized-ttl")
        )
        configuration.maxCaptureSeconds = try atLeastOne(flags, "max-capture-seconds")
        configuration.captureJoinWindow = try nonNegative(flags, "capture-join-window")
        configuration.captureQueueTimeout = try nonNegative(flags, "capture-queue-timeout")
        configuration.captureQueueSize = try atLeastZero(flags, "capture-queue-size")
        configuration.maxCapturesPerUser = try atLeastOne(flags, "max-captures-per-user")
        configuration.auditLogPath = flags.nonEmptyString("audit-log-path")
        configuration.metricsBindAddress = try flags.nonEmptyString("metrics-bind-address").map { text throws(ConfigurationError) in
            try ListenAddress(parsing: text, flag: "--metrics-bind-address")
        }
        configuration.metricsInsecure = flags.bool("metrics-insecure")
        configuration.allowBasicAuthToken = flags.bool("allow-basic-auth-token")
        configuration.logLevel = ProxyLogHandler.level(forVerbosity: flags.int("v"))
        try configuration.validate()
        return configuration
    }

    /// One line for each deprecated, removed or ignored flag that was given.
    static func warnings(for flags: ParsedFlags) -> [String] {
        flags.givenNames.compactMap { name in
            switch name {
            case "insecure-listen-address":
                "--insecure-listen-address is deprecated: it serves plain HTTP (HTTP/1.1 and h2c), so bearer tokens cross the network in clear text; use --secure-listen-address"
            case "tls-reload-interval":
                "--tls-reload-interval is deprecated (kube-rbac-proxy#196); the files are checked every \(GoDuration.format(flags.duration(name)))"
            case "vmodule":
                "--vmodule is ignored: there is no per-file verbosity; use -v"
            case "log-flush-frequency":
                "--log-flush-frequency is ignored: log lines are written unbuffered"
            case _ where removedLoggingFlags.contains(where: { $0.name == name }):
                "--\(name) is removed in the k8s upstream and has no effect any more"
            default:
                nil
            }
        }
    }

    /// What a positional argument probably meant: the value of a boolean flag written with a space.
    private static func hint(forPositional argument: String, in arguments: [String]) -> String {
        if let index = arguments.firstIndex(of: argument), index > 0, GoSyntax.parseBool(argument) != nil {
            let previous = arguments[index - 1]
            let name = String(previous.drop(while: { $0 == "-" }).map { $0 == "_" ? "-" : $0 })
            if previous.hasPrefix("--"), flagSet.definition(named: name)?.kind == .bool {
                return "boolean flags take their value after '=': \(previous)=\(argument)"
            }
        }
        return "\(programName) takes no positional arguments, only flags"
    }

    private static func trimmedList(_ values: [String]) -> [String] {
        values.map { $0.trimmingSpaces() }.filter { !$0.isEmpty }
    }

    private static func pathPatterns(_ patterns: [String], flag: String) throws(ConfigurationError) -> [PathPattern] {
        var compiled: [PathPattern] = []
        for pattern in patterns {
            do {
                compiled.append(try PathPattern(pattern))
            } catch {
                throw .invalidFlag(flag: flag, value: pattern, reason: error.description)
            }
        }
        return compiled
    }

    private static func proxyEndpointsPort(
        _ flags: ParsedFlags, listeners: [ListenAddress]
    ) throws(ConfigurationError) -> Int? {
        let port = flags.int("proxy-endpoints-port")
        guard port != 0 else { return nil }
        func invalid(_ reason: String) -> ConfigurationError {
            .invalidFlag(flag: "--proxy-endpoints-port", value: String(port), reason: reason)
        }
        guard (1...65535).contains(port) else { throw invalid("not a port (1-65535, or 0 for off)") }
        guard !listeners.contains(where: { $0.port == port }) else { throw invalid("the proxy already listens on this port") }
        return port
    }

    private static func http2MaxSize(_ flags: ParsedFlags) throws(ConfigurationError) -> Int {
        let size = flags.int("http2-max-size")
        if size == 0 { return 1 << 20 }
        guard (16_384...16_777_215).contains(size) else {
            throw .invalidFlag(
                flag: "--http2-max-size", value: String(size),
                reason: "HTTP/2 frame sizes are 16384 to 16777215 bytes (0: Go's default of 1 MiB)"
            )
        }
        return size
    }

    private static func headerName(_ flags: ParsedFlags, _ name: String) throws(ConfigurationError) -> String {
        let value = flags.string(name)
        guard HTTPFieldName.isValid(value) else {
            throw .invalidFlag(flag: "--\(name)", value: value, reason: "not a valid HTTP header name")
        }
        return value
    }

    private static func positive(_ flags: ParsedFlags, _ name: String) throws(ConfigurationError) -> Duration {
        let value = flags.duration(name)
        guard value > .zero else {
            throw .invalidFlag(flag: "--\(name)", value: GoDuration.format(value), reason: "must be longer than 0s")
        }
        return value
    }

    private static func nonNegative(_ flags: ParsedFlags, _ name: String) throws(ConfigurationError) -> Duration {
        let value = flags.duration(name)
        guard value >= .zero else {
            throw .invalidFlag(flag: "--\(name)", value: GoDuration.format(value), reason: "must not be negative")
        }
        return value
    }

    private static func atLeastOne(_ flags: ParsedFlags, _ name: String) throws(ConfigurationError) -> Int {
        let value = flags.int(name)
        guard value >= 1 else {
            throw .invalidFlag(flag: "--\(name)", value: String(value), reason: "must be at least 1")
        }
        return value
    }

    private static func atLeastZero(_ flags: ParsedFlags, _ name: String) throws(ConfigurationError) -> Int {
        let value = flags.int(name)
        guard value >= 0 else {
            throw .invalidFlag(flag: "--\(name)", value: String(value), reason: "must not be negative")
        }
        return value
    }
}

extension String {
    /// Without leading and trailing spaces and tabs.
    fileprivate func trimmingSpaces() -> String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" }
        return String(drop(while: isSpace).reversed().drop(while: isSpace).reversed())
    }
}
