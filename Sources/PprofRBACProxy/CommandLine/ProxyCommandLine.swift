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
        if flags[ProxyFlags.help] {
            return .printHelp(help)
        }
        if let argument = flags.positionalArguments.first {
            throw .unexpectedArgument(argument, hint: hint(forPositional: argument, in: arguments))
        }
        if flags[ProxyFlags.version] != "false" {
            return .printVersion("\(programName) \(version)")
        }
        if let oidcFlag = ProxyFlags.oidc.first(where: { flags.isGiven($0) }) {
            throw .unsupportedFlag(
                flag: "--\(oidcFlag.name)",
                reason: "OIDC is not supported by pprof-rbac-proxy; use TokenReview (the default: the Kubernetes API "
                    + "checks bearer tokens, --auth-token-audiences restricts their audience) or client certificates (--client-ca-file)"
            )
        }
        return .run(try configuration(from: flags), warnings: warnings(for: flags))
    }

    // MARK: - The flags

    static let flagSet = FlagSet(ProxyFlags.all)

    // MARK: - Help

    /// Every flag with its default and meaning; the removed logging flags only by name.
    package static let help: String = {
        let removed = FlagSet.wrapped(
            ProxyFlags.removedLogging.map { "--\($0.name)" }.joined(separator: ", ").split(separator: " ").map(String.init),
            indent: "  ", width: 100
        )
        return """
            \(programName) \(version): an authorizing TLS reverse proxy for Go net/http/pprof endpoints.
            It asks the Kubernetes API who the caller is (TokenReview) and whether they may do this
            (SubjectAccessReview) before forwarding to the upstream. It takes kube-rbac-proxy's flags.

            Usage:
              \(programName) --secure-listen-address=HOST:PORT --upstream=URL [flags]

            Flags:
            \(FlagSet.usage(of: ProxyFlags.proxy))
            Logging flags:
            \(FlagSet.usage(of: ProxyFlags.logging))
            OIDC flags (refused at startup; OIDC is not supported):
            \(FlagSet.usage(of: ProxyFlags.oidc))
            Removed logging flags (accepted with a warning, no effect):
            \(removed)
            Durations use Go syntax (30s, 2m, 1h30m). List flags take commas and may be repeated.
            Boolean flags take --flag or --flag=false, never --flag false. Unknown flags or arguments
            exit 2.

            """
    }()

    // MARK: - From flags to configuration

    static func configuration(from flags: ParsedFlags) throws(ConfigurationError) -> ProxyConfiguration {
        let secure = try flags.nonEmpty(ProxyFlags.secureListenAddress).map { text throws(ConfigurationError) in
            try ListenAddress(parsing: text, flag: ProxyFlags.secureListenAddress.longForm)
        }
        let insecure = try flags.nonEmpty(ProxyFlags.insecureListenAddress).map { text throws(ConfigurationError) in
            try ListenAddress(parsing: text, flag: ProxyFlags.insecureListenAddress.longForm)
        }
        guard let upstream = flags.nonEmpty(ProxyFlags.upstream) else {
            throw .missingFlag(flag: ProxyFlags.upstream.longForm, hint: "pass the pprof server to protect, e.g. http://127.0.0.1:8081/")
        }
        var configuration = ProxyConfiguration(listenAddress: secure, upstream: try UpstreamTarget(parsing: upstream))
        configuration.insecureListenAddress = insecure

        configuration.upstreamForceH2C = flags[ProxyFlags.upstreamForceH2C]
        configuration.upstreamCAFile = flags.nonEmpty(ProxyFlags.upstreamCAFile)
        configuration.upstreamClientCertificateFile = flags.nonEmpty(ProxyFlags.upstreamClientCertFile)
        configuration.upstreamClientKeyFile = flags.nonEmpty(ProxyFlags.upstreamClientKeyFile)

        configuration.configFilePath = flags.nonEmpty(ProxyFlags.configFile)
        let allowPaths = trimmedList(flags[ProxyFlags.allowPaths])
        let ignorePaths = trimmedList(flags[ProxyFlags.ignorePaths])
        if flags.isGiven(ProxyFlags.allowPaths) && !allowPaths.isEmpty && !ignorePaths.isEmpty {
            throw .conflictingFlags(ProxyFlags.allowPaths.longForm, ProxyFlags.ignorePaths.longForm)
        }
        if !allowPaths.isEmpty {
            configuration.allowPaths = try pathPatterns(allowPaths, flag: ProxyFlags.allowPaths.longForm)
        }
        configuration.ignorePaths = try pathPatterns(ignorePaths, flag: ProxyFlags.ignorePaths.longForm)

        configuration.proxyEndpointsPort = try proxyEndpointsPort(flags, listeners: [secure, insecure].compactMap { $0 })

        configuration.tlsCertificateFile = flags.nonEmpty(ProxyFlags.tlsCertFile)
        configuration.tlsPrivateKeyFile = flags.nonEmpty(ProxyFlags.tlsPrivateKeyFile)
        configuration.tls.minimumVersion = try GoTLSNames.version(named: flags[ProxyFlags.tlsMinVersion])
        configuration.tls.cipherSuites = try trimmedList(flags[ProxyFlags.tlsCipherSuites]).map { name throws(ConfigurationError) in
            try GoTLSNames.cipherSuite(named: name)
        }
        configuration.certificateReloadInterval = try positive(flags, ProxyFlags.tlsReloadInterval)
        configuration.clientCAFile = flags.nonEmpty(ProxyFlags.clientCAFile)

        configuration.tokenAudiences = trimmedList(flags[ProxyFlags.authTokenAudiences])
        configuration.identityHeaders.enabled = flags[ProxyFlags.authHeaderFieldsEnabled]
        configuration.identityHeaders.userHeader = try headerName(flags, ProxyFlags.authHeaderUserFieldName)
        configuration.identityHeaders.groupsHeader = try headerName(flags, ProxyFlags.authHeaderGroupsFieldName)
        configuration.identityHeaders.groupsSeparator = flags[ProxyFlags.authHeaderGroupsFieldSeparator]

        configuration.kubeconfigPath = flags.nonEmpty(ProxyFlags.kubeconfig)
        if flags[ProxyFlags.kubeAPIQPS] > 0 {
            configuration.kubeAPIQPS = flags[ProxyFlags.kubeAPIQPS]
        }
        if flags[ProxyFlags.kubeAPIBurst] > 0 {
            configuration.kubeAPIBurst = flags[ProxyFlags.kubeAPIBurst]
        }

        configuration.tls.http2Disabled = flags[ProxyFlags.http2Disable]
        configuration.tls.http2MaxConcurrentStreams = flags[ProxyFlags.http2MaxConcurrentStreams] == 0
            ? 250 : flags[ProxyFlags.http2MaxConcurrentStreams]
        configuration.tls.http2MaxSize = try http2MaxSize(flags)

        configuration.tokenAuthFilePath = flags.nonEmpty(ProxyFlags.tokenAuthFile)
        guard let verbMapping = VerbMapping(rawValue: flags[ProxyFlags.verbMapping]) else {
            throw .invalidFlag(
                flag: ProxyFlags.verbMapping.longForm, value: flags[ProxyFlags.verbMapping],
                reason: "use one of \(VerbMapping.allCases.map(\.rawValue).joined(separator: ", "))"
            )
        }
        configuration.verbMapping = verbMapping
        configuration.kubeAPITimeout = try positive(flags, ProxyFlags.kubeAPITimeout)
        configuration.shutdownGracePeriod = try nonNegative(flags, ProxyFlags.shutdownGracePeriod)
        let readHeaderTimeout = try nonNegative(flags, ProxyFlags.readHeaderTimeout)
        configuration.readHeaderTimeout = readHeaderTimeout == .zero ? nil : readHeaderTimeout
        let maxConnections = flags[ProxyFlags.maxConnections]
        guard maxConnections >= 0 else {
            throw .invalidFlag(flag: ProxyFlags.maxConnections.longForm, value: String(maxConnections), reason: "must not be negative")
        }
        configuration.maxConnections = maxConnections == 0 ? nil : maxConnections
        configuration.authenticationCacheTimeToLive = .init(
            authenticated: try nonNegative(flags, ProxyFlags.authenticationTokenWebhookCacheTTL),
            unauthenticated: try nonNegative(flags, ProxyFlags.authenticationTokenWebhookCacheUnauthenticatedTTL)
        )
        configuration.authorizationCacheTimeToLive = .init(
            allowed: try nonNegative(flags, ProxyFlags.authorizationWebhookCacheAuthorizedTTL),
            denied: try nonNegative(flags, ProxyFlags.authorizationWebhookCacheUnauthorizedTTL)
        )
        configuration.maxCaptureSeconds = try atLeastOne(flags, ProxyFlags.maxCaptureSeconds)
        configuration.cpuProfileSlices = flags[ProxyFlags.cpuProfileSlices]
        configuration.captureJoinWindow = try nonNegative(flags, ProxyFlags.captureJoinWindow)
        configuration.captureQueueTimeout = try nonNegative(flags, ProxyFlags.captureQueueTimeout)
        configuration.captureQueueSize = try atLeastZero(flags, ProxyFlags.captureQueueSize)
        configuration.maxCapturesPerUser = try atLeastOne(flags, ProxyFlags.maxCapturesPerUser)
        configuration.auditLogPath = flags.nonEmpty(ProxyFlags.auditLogPath)
        configuration.metricsBindAddress = try flags.nonEmpty(ProxyFlags.metricsBindAddress).map { text throws(ConfigurationError) in
            try ListenAddress(parsing: text, flag: ProxyFlags.metricsBindAddress.longForm)
        }
        configuration.metricsInsecure = flags[ProxyFlags.metricsInsecure]
        configuration.allowBasicAuthToken = flags[ProxyFlags.allowBasicAuthToken]
        configuration.logLevel = ProxyLogHandler.level(forVerbosity: flags[ProxyFlags.verbosity])
        try configuration.validate()
        return configuration
    }

    /// One line for each deprecated, removed or ignored flag that was given.
    static func warnings(for flags: ParsedFlags) -> [String] {
        flags.givenNames.compactMap { name in
            switch name {
            case ProxyFlags.insecureListenAddress.name:
                "--insecure-listen-address is deprecated: it serves plain HTTP (HTTP/1.1 and h2c), so bearer tokens cross the network in clear text; use --secure-listen-address"
            case ProxyFlags.tlsReloadInterval.name:
                "--tls-reload-interval is deprecated (kube-rbac-proxy#196); the files are checked every \(GoDuration.format(flags[ProxyFlags.tlsReloadInterval]))"
            case ProxyFlags.vmodule.name:
                "--vmodule is ignored: there is no per-file verbosity; use -v"
            case ProxyFlags.logFlushFrequency.name:
                "--log-flush-frequency is ignored: log lines are written unbuffered"
            case _ where ProxyFlags.removedLogging.contains(where: { $0.name == name }):
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
        let port = flags[ProxyFlags.proxyEndpointsPort]
        guard port != 0 else { return nil }
        func invalid(_ reason: String) -> ConfigurationError {
            .invalidFlag(flag: ProxyFlags.proxyEndpointsPort.longForm, value: String(port), reason: reason)
        }
        guard (1...65535).contains(port) else { throw invalid("not a port (1-65535, or 0 for off)") }
        guard !listeners.contains(where: { $0.port == port }) else { throw invalid("the proxy already listens on this port") }
        return port
    }

    private static func http2MaxSize(_ flags: ParsedFlags) throws(ConfigurationError) -> Int {
        let size = flags[ProxyFlags.http2MaxSize]
        if size == 0 { return 1 << 20 }
        guard (16_384...16_777_215).contains(size) else {
            throw .invalidFlag(
                flag: ProxyFlags.http2MaxSize.longForm, value: String(size),
                reason: "HTTP/2 frame sizes are 16384 to 16777215 bytes (0: Go's default of 1 MiB)"
            )
        }
        return size
    }

    private static func headerName(_ flags: ParsedFlags, _ flag: Flag<String>) throws(ConfigurationError) -> String {
        let value = flags[flag]
        guard HTTPFieldName.isValid(value) else {
            throw .invalidFlag(flag: flag.longForm, value: value, reason: "not a valid HTTP header name")
        }
        return value
    }

    private static func positive(_ flags: ParsedFlags, _ flag: Flag<Duration>) throws(ConfigurationError) -> Duration {
        let value = flags[flag]
        guard value > .zero else {
            throw .invalidFlag(flag: flag.longForm, value: GoDuration.format(value), reason: "must be longer than 0s")
        }
        return value
    }

    private static func nonNegative(_ flags: ParsedFlags, _ flag: Flag<Duration>) throws(ConfigurationError) -> Duration {
        let value = flags[flag]
        guard value >= .zero else {
            throw .invalidFlag(flag: flag.longForm, value: GoDuration.format(value), reason: "must not be negative")
        }
        return value
    }

    private static func atLeastOne(_ flags: ParsedFlags, _ flag: Flag<Int>) throws(ConfigurationError) -> Int {
        let value = flags[flag]
        guard value >= 1 else {
            throw .invalidFlag(flag: flag.longForm, value: String(value), reason: "must be at least 1")
        }
        return value
    }

    private static func atLeastZero(_ flags: ParsedFlags, _ flag: Flag<Int>) throws(ConfigurationError) -> Int {
        let value = flags[flag]
        guard value >= 0 else {
            throw .invalidFlag(flag: flag.longForm, value: String(value), reason: "must not be negative")
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
