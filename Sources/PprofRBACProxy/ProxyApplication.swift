import Foundation
import Logging
import NIOCore
import NIOPosix
import NIOSSL
import RequestPolicy
import ServiceLifecycle

/// Builds the proxy from its configuration (files read, Kubernetes client made, authenticators and
/// authorizers chained) and runs it until SIGTERM or SIGINT.
package enum ProxyApplication {
    package static func run(_ configuration: ProxyConfiguration, logger: Logger) async throws {
        try configuration.validate()
        // Where everything is measured, and what `/metrics` exports.
        let metrics = ProxyMetrics()
        if let openFiles = FileDescriptorLimit.raiseToHardLimit() {
            logger.debug("open file limit", metadata: ["nofile": "\(openFiles)"])
        }
        let eventLoopGroup = MultiThreadedEventLoopGroup.singleton
        let kubernetesClient = try makeKubernetesClient(configuration, eventLoopGroup: eventLoopGroup, logger: logger)
        do {
            let clientCertificateAuthority = ClientCertificateAuthority([])
            let tls = try makeServingTLS(
                configuration, clientCertificateAuthority: clientCertificateAuthority, metrics: metrics, logger: logger
            )
            let upstreamPool = try makeUpstreamPool(configuration, eventLoopGroup: eventLoopGroup, logger: logger)
            var observers: [any ExchangeObserver] = [AccessLog(logger: logger), RequestMetrics(metrics: metrics)]
            let auditLog: AuditLog? =
                if let path = configuration.auditLogPath {
                    try await AuditLog(destination: AuditLog.Destination(path: path), metrics: metrics, logger: logger)
                } else {
                    nil
                }
            if let auditLog {
                observers.append(auditLog)
            }
            let gate = try makeGate(
                configuration, kubernetesClient: kubernetesClient.map { MeasuredReviewClient(wrapping: $0, metrics: metrics) },
                clientCertificateAuthority: configuration.clientCAFile == nil ? nil : clientCertificateAuthority,
                logger: logger
            )
            let allowed = gate.pathPolicy.allowed.map(\.description).joined(separator: ", ")
            let ignored = gate.pathPolicy.ignored.map(\.description).joined(separator: ", ")
            logger.info(
                "proxying \(allowed) to authorized callers\(ignored.isEmpty ? "" : "; \(ignored) without authorization"); any other path is 404 (--allow-paths)"
            )
            let requestHandlers = ProxyRequestHandlers(
                gate: gate,
                captureScheduler: CaptureScheduler(configuration: .init(
                    joinWindow: configuration.captureJoinWindow, queueTimeout: configuration.captureQueueTimeout,
                    queueSize: configuration.captureQueueSize, maximumPerUser: configuration.maxCapturesPerUser
                ), metrics: metrics),
                cpuProfileSlicer: configuration.cpuProfileSlices
                    ? makeCPUProfileSlicer(
                        configuration, upstream: upstreamPool, eventLoop: eventLoopGroup.next(), metrics: metrics, logger: logger
                    )
                    : nil,
                upstream: upstreamPool, upstreamTarget: configuration.upstream,
                identityHeaders: configuration.identityHeaders, observers: observers, logger: logger
            )
            let protections = Listener.Protections(
                readHeaderTimeout: configuration.readHeaderTimeout, maxConnections: configuration.maxConnections,
                metrics: metrics
            )
            // Shut down in reverse: the proxy drains first, then the endpoints and the TLS watcher stop,
            // and the audit log writes its last lines.
            var services: [ServiceGroupConfiguration.ServiceConfiguration] = []
            if let auditLog {
                services.append(.init(service: auditLog))
            }
            if let tls {
                services.append(.init(service: tls))
            }
            let readiness = ProxyReadiness()
            var checks: [any DependencyCheck] = [UpstreamReachability(target: configuration.upstream, eventLoopGroup: eventLoopGroup)]
            if let kubernetesClient {
                checks.append(KubernetesAPIReachability(client: kubernetesClient))
            }
            for server in try makeEndpointsServers(
                configuration, tls: tls, protections: protections, proxyGate: gate, readiness: readiness, checks: checks,
                metrics: metrics, eventLoopGroup: eventLoopGroup, logger: logger
            ) {
                services.append(.init(service: server))
            }
            services.append(.init(service: ProxyServer(
                configuration: .init(
                    secureAddress: configuration.listenAddress, insecureAddress: configuration.insecureListenAddress,
                    shutdownGracePeriod: configuration.shutdownGracePeriod, protections: protections
                ),
                tls: tls, http: HTTPConnectionPipeline(settings: configuration.tls, requestHandlers: requestHandlers.handlers),
                upstreamPool: upstreamPool, readiness: readiness, eventLoopGroup: eventLoopGroup, logger: logger
            )))
            let serviceGroup = ServiceGroup(
                configuration: .init(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
            )
            try await serviceGroup.run()
        } catch {
            try? await kubernetesClient?.shutdown()
            throw error
        }
        try await kubernetesClient?.shutdown()
    }

    /// The CPU profile slicer, on one event loop, taking its slices over the upstream pool.
    static func makeCPUProfileSlicer(
        _ configuration: ProxyConfiguration, upstream: any UpstreamConnector, eventLoop: any EventLoop,
        metrics: ProxyMetrics, logger: Logger
    ) -> CPUProfileSlicerHandle {
        let slicer = CPUProfileSlicer(
            configuration: .init(), source: UpstreamSliceSource(upstream: upstream, target: configuration.upstream, eventLoop: eventLoop),
            eventLoop: eventLoop, metrics: metrics, logger: logger
        )
        return CPUProfileSlicerHandle(slicer: NIOLoopBoundBox.makeBoxSendingValue(slicer, eventLoop: eventLoop))
    }

    /// The serving certificate (files or self-signed) and client CA, watched for changes; nil when
    /// only the deprecated plain-text listener is configured.
    static func makeServingTLS(
        _ configuration: ProxyConfiguration, clientCertificateAuthority: ClientCertificateAuthority, metrics: ProxyMetrics,
        logger: Logger
    ) throws -> ServingTLSReloader? {
        guard configuration.listenAddress != nil else { return nil }
        let source: ServingTLSReloader.Source
        // Both or neither (ProxyConfiguration.validate).
        if let certificate = configuration.tlsCertificateFile, let privateKey = configuration.tlsPrivateKeyFile {
            source = .files(certificate: certificate, privateKey: privateKey, clientCA: configuration.clientCAFile)
        } else {
            let generated = try SelfSignedCertificate()
            logger.warning(
                "no --tls-cert-file and --tls-private-key-file given: serving a self-signed certificate made in memory; clients must skip verification",
                metadata: ["hosts": "\(generated.hostNames.joined(separator: ",")),127.0.0.1"]
            )
            source = .generated(generated, clientCA: configuration.clientCAFile)
        }
        return try ServingTLSReloader(
            source: source, settings: configuration.tls, interval: configuration.certificateReloadInterval,
            clientCertificateAuthority: clientCertificateAuthority, metrics: metrics, logger: logger
        )
    }

    /// The listeners of the proxy's own endpoints: `/healthz`, `/readyz` and `/dependencies` on
    /// `--proxy-endpoints-port`; `/metrics` on `--metrics-bind-address`, else next to them, else
    /// nowhere. `/metrics` asks for
    /// credentials and a `get` on the non-resource path `/metrics`, as the proxy asks for pprof (the
    /// same authenticators, authorizers and caches), unless `--metrics-insecure`.
    static func makeEndpointsServers(
        _ configuration: ProxyConfiguration, tls: ServingTLSReloader?, protections: Listener.Protections, proxyGate: Gate,
        readiness: ProxyReadiness, checks: [any DependencyCheck], metrics: ProxyMetrics, eventLoopGroup: any EventLoopGroup,
        logger: Logger
    ) throws -> [ProxyEndpointsServer] {
        let health = [try PathPattern("/healthz"), try PathPattern("/readyz"), try PathPattern("/dependencies")]
        let metricsPath = try PathPattern("/metrics")
        let unauthenticated = health + (configuration.metricsInsecure ? [metricsPath] : [])
        func gate(serving paths: [PathPattern]) -> Gate {
            var gate = Gate(
                pathPolicy: PathPolicy(allowed: paths, ignored: paths.filter { unauthenticated.contains($0) }),
                authenticator: proxyGate.authenticator, authorizer: proxyGate.authorizer,
                attributesBuilder: AuthorizationAttributesBuilder(verbMapping: configuration.verbMapping), logger: logger
            )
            gate.acceptsBasicAuthToken = proxyGate.acceptsBasicAuthToken
            return gate
        }
        let host = (configuration.listenAddress ?? configuration.insecureListenAddress)?.host ?? "0.0.0.0"
        var servers: [ProxyEndpointsServer] = []
        if let port = configuration.proxyEndpointsPort {
            let servesMetrics = configuration.metricsBindAddress == nil
            servers.append(ProxyEndpointsServer(
                name: "endpoints", address: ListenAddress(host: host, port: port), tls: tls, protections: protections,
                gate: gate(serving: health + (servesMetrics ? [metricsPath] : [])), readiness: readiness, checks: checks,
                metrics: servesMetrics ? metrics : nil, eventLoopGroup: eventLoopGroup, logger: logger
            ))
        }
        if let address = configuration.metricsBindAddress {
            servers.append(ProxyEndpointsServer(
                name: "metrics", address: address, tls: tls, protections: protections, gate: gate(serving: [metricsPath]),
                readiness: readiness, checks: [],
                metrics: metrics, eventLoopGroup: eventLoopGroup, logger: logger
            ))
        }
        if configuration.metricsBindAddress == nil && configuration.proxyEndpointsPort == nil {
            logger.info("/metrics is not served: give --metrics-bind-address or --proxy-endpoints-port to serve it")
        } else if configuration.metricsInsecure {
            logger.warning("--metrics-insecure: /metrics is served to anyone, without authentication or authorization")
        }
        return servers
    }

    /// The keep-alive connections to `--upstream`.
    static func makeUpstreamPool(
        _ configuration: ProxyConfiguration, eventLoopGroup: any EventLoopGroup, logger: Logger
    ) throws -> UpstreamConnectionPool {
        let target = configuration.upstream
        // Both or neither (ProxyConfiguration.validate).
        let clientCertificate: (certificateFile: String, keyFile: String)? =
            if let certificate = configuration.upstreamClientCertificateFile, let key = configuration.upstreamClientKeyFile {
                (certificate, key)
            } else {
                nil
            }
        let transport: UpstreamConnectionPool.Transport
        // h2c is never combined with an https:// upstream (ProxyConfiguration.validate).
        switch (configuration.upstreamForceH2C, target.scheme) {
        case (true, _):
            if configuration.upstreamCAFile != nil || clientCertificate != nil {
                logger.warning(
                    "--upstream-force-h2c speaks cleartext: --upstream-ca-file, --upstream-client-cert-file and --upstream-client-key-file are ignored"
                )
            }
            transport = .h2c
        case (false, .https):
            transport = .http1(tls: try UpstreamTLS(
                host: target.host, caFile: configuration.upstreamCAFile, clientCertificate: clientCertificate
            ))
        case (false, .http):
            if configuration.upstreamCAFile != nil || clientCertificate != nil {
                logger.warning(
                    "the upstream is http://: --upstream-ca-file, --upstream-client-cert-file and --upstream-client-key-file are ignored"
                )
            }
            transport = .http1(tls: nil)
        }
        return UpstreamConnectionPool(configuration: .init(target: target, transport: transport), eventLoopGroup: eventLoopGroup)
    }

    /// The API client for TokenReviews and SubjectAccessReviews: from `--kubeconfig`, else in-cluster,
    /// else none (local mode, which needs `--token-auth-file`).
    static func makeKubernetesClient(
        _ configuration: ProxyConfiguration, eventLoopGroup: any EventLoopGroup, logger: Logger
    ) throws -> KubernetesAPIClient? {
        let connection: KubernetesConnection?
        if let kubeconfig = configuration.kubeconfigPath {
            connection = try KubeConfigLoader.load(path: kubeconfig)
        } else {
            connection = try InClusterConfigLoader.load()
        }
        guard let connection else {
            guard configuration.tokenAuthFilePath != nil else { throw ConfigurationError.noKubernetesConnection }
            logger.info("local mode: no Kubernetes API; tokens from --token-auth-file, decisions from static rules only")
            return nil
        }
        logger.info("Kubernetes API", metadata: ["server": "\(connection.server.absoluteString)"])
        return try KubernetesAPIClient(
            connection: connection, eventLoopGroup: eventLoopGroup, timeout: configuration.kubeAPITimeout, logger: logger
        )
    }

    /// Authentication: client certificate, token file, then TokenReview (cached). Authorization: static rules, then
    /// SubjectAccessReview (cached).
    static func makeGate(
        _ configuration: ProxyConfiguration, kubernetesClient: (any KubernetesReviewClient)?,
        clientCertificateAuthority: ClientCertificateAuthority?, logger: Logger
    ) throws -> Gate {
        let configFile = try configuration.configFilePath.map { try ConfigFile.load(path: $0) } ?? ConfigFile()
        var authenticators: [any Authenticator] = []
        var authorizers: [any Authorizer] = []
        if let clientCertificateAuthority {
            authenticators.append(ClientCertificateAuthenticator(authority: clientCertificateAuthority))
        }
        if let tokenFile = configuration.tokenAuthFilePath {
            authenticators.append(TokenFileAuthenticator(try TokenAuthFile.load(path: tokenFile)))
        }
        if !configFile.staticRules.isEmpty {
            authorizers.append(StaticAuthorizer(rules: configFile.staticRules))
        }
        if let kubernetesClient {
            let kubernetesClient = RateLimitedReviewClient(
                wrapping: kubernetesClient, queriesPerSecond: configuration.kubeAPIQPS, burst: configuration.kubeAPIBurst
            )
            let tokenReview = TokenReviewAuthenticator(client: kubernetesClient, audiences: configuration.tokenAudiences)
            authenticators.append(CachingTokenAuthenticator(
                wrapping: tokenReview, audiences: configuration.tokenAudiences,
                timeToLive: configuration.authenticationCacheTimeToLive
            ))
            authorizers.append(CachingAuthorizer(
                wrapping: SubjectAccessReviewAuthorizer(client: kubernetesClient),
                timeToLive: configuration.authorizationCacheTimeToLive
            ))
        }
        var gate = Gate(
            pathPolicy: PathPolicy(allowed: configuration.allowPaths, ignored: configuration.ignorePaths),
            authenticator: UnionAuthenticator(authenticators),
            authorizer: UnionAuthorizer(authorizers),
            attributesBuilder: AuthorizationAttributesBuilder(
                verbMapping: configuration.verbMapping, resourceAttributes: configFile.resourceAttributes,
                rewrites: configFile.rewrites
            ),
            guardrails: PprofGuardrails(maximumCaptureSeconds: configuration.maxCaptureSeconds),
            logger: logger
        )
        gate.acceptsBasicAuthToken = configuration.allowBasicAuthToken
        return gate
    }
}
