import Foundation
import Logging
import NIOCore
import NIOPosix
import NIOSSL
import ServiceLifecycle

/// Builds the proxy from its configuration (files read, Kubernetes client made, authenticators and
/// authorizers chained) and runs it until SIGTERM or SIGINT.
public enum ProxyApplication {
    public static func run(_ configuration: ProxyConfiguration, logger: Logger) async throws {
        let eventLoopGroup = MultiThreadedEventLoopGroup.singleton
        let kubernetesClient = try makeKubernetesClient(configuration, eventLoopGroup: eventLoopGroup, logger: logger)
        do {
            guard let listenAddress = configuration.listenAddress else {
                throw ConfigurationError.missingFlag(flag: "--secure-listen-address", hint: "pass the address to serve on, e.g. 0.0.0.0:8443")
            }
            let sslContext = try makeSSLContext(configuration, logger: logger)
            let gate = try makeGate(configuration, kubernetesClient: kubernetesClient, logger: logger)
            let server = ProxyServer(
                configuration: .init(
                    listenAddress: listenAddress, upstream: configuration.upstream,
                    shutdownGracePeriod: configuration.shutdownGracePeriod
                ),
                sslContext: sslContext, gate: gate,
                upstreamPool: try makeUpstreamPool(configuration, eventLoopGroup: eventLoopGroup, logger: logger),
                eventLoopGroup: eventLoopGroup, logger: logger
            )
            let services = ServiceGroup(
                configuration: .init(
                    services: [.init(service: server)],
                    gracefulShutdownSignals: [.sigterm, .sigint],
                    logger: logger
                )
            )
            try await services.run()
        } catch {
            try? await kubernetesClient?.shutdown()
            throw error
        }
        try await kubernetesClient?.shutdown()
    }

    /// The connections to `--upstream`: keep-alive HTTP/1.1 in cleartext or over verified TLS, or
    /// HTTP/2 streams on one cleartext connection per event loop with `--upstream-force-h2c`.
    static func makeUpstreamPool(
        _ configuration: ProxyConfiguration, eventLoopGroup: any EventLoopGroup, logger: Logger
    ) throws -> UpstreamConnectionPool {
        let target = configuration.upstream
        let clientCertificate = try UpstreamTLS.clientCertificatePair(
            certificateFile: configuration.upstreamClientCertificateFile, keyFile: configuration.upstreamClientKeyFile
        )
        let transport: UpstreamConnectionPool.Transport
        switch (configuration.upstreamForceH2C, target.scheme) {
        case (true, .https):
            throw ConfigurationError.invalidFlag(
                flag: "--upstream-force-h2c", value: "true",
                reason: "h2c is cleartext HTTP/2 and cannot be used with an https:// upstream; use an http:// URL"
            )
        case (true, .http):
            if configuration.upstreamCAFile != nil || clientCertificate != nil {
                logger.warning(
                    "--upstream-force-h2c speaks cleartext: --upstream-ca-file, --upstream-client-cert-file and --upstream-client-key-file are ignored"
                )
            }
            transport = .h2c
        case (false, .https):
            transport = .http1(tls: try UpstreamTLS(
                host: target.host, caFile: configuration.upstreamCAFile,
                clientCertificateFile: clientCertificate?.certificateFile, clientKeyFile: clientCertificate?.keyFile
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

    static func makeSSLContext(_ configuration: ProxyConfiguration, logger: Logger) throws -> NIOSSLContext {
        var tls: TLSConfiguration
        switch (configuration.tlsCertificateFile, configuration.tlsPrivateKeyFile) {
        case (let certificateFile?, let keyFile?):
            let chain = try NIOSSLCertificate.fromPEMFile(certificateFile).map { NIOSSLCertificateSource.certificate($0) }
            let key = try NIOSSLPrivateKey(file: keyFile, format: .pem)
            tls = .makeServerConfiguration(certificateChain: chain, privateKey: .privateKey(key))
        case (nil, nil):
            let generated = try SelfSignedCertificate()
            logger.warning(
                "no --tls-cert-file and --tls-private-key-file given: serving a self-signed certificate made in memory; clients must skip verification",
                metadata: ["hosts": "\(generated.hostNames.joined(separator: ",")),127.0.0.1"]
            )
            tls = .makeServerConfiguration(
                certificateChain: [.certificate(generated.certificate)], privateKey: .privateKey(generated.privateKey)
            )
        default:
            throw ConfigurationError.missingFlag(
                flag: configuration.tlsCertificateFile == nil ? "--tls-cert-file" : "--tls-private-key-file",
                hint: "--tls-cert-file and --tls-private-key-file must be given together"
            )
        }
        tls.applicationProtocols = ["h2", "http/1.1"]
        tls.minimumTLSVersion = .tlsv12
        return try NIOSSLContext(configuration: tls)
    }

    /// Authentication: token file, then TokenReview (cached). Authorization: static rules, then
    /// SubjectAccessReview (cached).
    static func makeGate(
        _ configuration: ProxyConfiguration, kubernetesClient: (any KubernetesReviewClient)?, logger: Logger
    ) throws -> Gate {
        let configFile = try configuration.configFilePath.map { try ConfigFile.load(path: $0) } ?? ConfigFile()
        var authenticators: [any Authenticator] = []
        var authorizers: [any Authorizer] = []
        if let tokenFile = configuration.tokenAuthFilePath {
            authenticators.append(TokenFileAuthenticator(try TokenAuthFile.load(path: tokenFile)))
        }
        if !configFile.staticRules.isEmpty {
            authorizers.append(StaticAuthorizer(rules: configFile.staticRules))
        }
        if let kubernetesClient {
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
        return Gate(
            pathPolicy: PathPolicy(allowed: configuration.allowPaths),
            authenticator: UnionAuthenticator(authenticators),
            authorizer: UnionAuthorizer(authorizers),
            logger: logger
        )
    }
}
