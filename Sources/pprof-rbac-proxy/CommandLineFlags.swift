import ArgumentParser
import Foundation
import PprofRBACProxy

/// The command line, with kube-rbac-proxy's flag names and defaults.
struct CommandLineFlags: ParsableCommand {
    static let version = "0.1.0"
    static let configuration = CommandConfiguration(
        commandName: "pprof-rbac-proxy",
        abstract: "An authorizing TLS reverse proxy for Go net/http/pprof endpoints (TokenReview + SubjectAccessReview)."
    )

    @Option(name: .customLong("secure-listen-address"), help: "The address the TLS listener binds to (HOST:PORT).")
    var secureListenAddress = ""

    @Option(name: .customLong("upstream"), help: "The upstream URL to proxy to once a request is authorized.")
    var upstream = ""

    @Option(name: .customLong("tls-cert-file"), help: "File with the serving certificate (chain). Without it and the key, a self-signed certificate is made.")
    var tlsCertFile = ""

    @Option(name: .customLong("tls-private-key-file"), help: "File with the serving certificate's private key.")
    var tlsPrivateKeyFile = ""

    @Option(name: .customLong("kubeconfig"), help: "Kubeconfig for the TokenReview and SubjectAccessReview client. Without it, the in-cluster configuration is used.")
    var kubeconfig = ""

    @Option(name: .customLong("auth-token-audiences"), parsing: .singleValue, help: "Comma-separated audiences a token must be valid for (TokenReview spec.audiences).")
    var authTokenAudiences: [String] = []

    @Option(name: .customLong("token-auth-file"), help: "Static token file (token,user,uid,\"group1,group2\") for running without a cluster.")
    var tokenAuthFile = ""

    @Option(name: .customLong("config-file"), help: "YAML authorization config in kube-rbac-proxy's format (authorization.static rules).")
    var configFile = ""

    @Option(name: .customLong("allow-paths"), parsing: .singleValue, help: "Comma-separated path globs that are served; everything else is 404. (default: /debug/pprof,/debug/pprof/*)")
    var allowPaths: [String] = []

    @Option(name: .customLong("kube-api-timeout"), help: "Timeout of one TokenReview or SubjectAccessReview call.")
    var kubeAPITimeout = "10s"

    @Option(name: .customLong("shutdown-grace-period"), help: "How long in-flight requests may run after SIGTERM.")
    var shutdownGracePeriod = "90s"

    @Option(name: .customLong("authentication-token-webhook-cache-ttl"), help: "How long an authenticated token is remembered.")
    var authenticatedCacheTTL = "2m"

    @Option(name: .customLong("authentication-token-webhook-cache-unauthenticated-ttl"), help: "How long a rejected token is remembered.")
    var unauthenticatedCacheTTL = "2m"

    @Option(name: .customLong("authorization-webhook-cache-authorized-ttl"), help: "How long an allow decision is remembered.")
    var authorizedCacheTTL = "5m"

    @Option(name: .customLong("authorization-webhook-cache-unauthorized-ttl"), help: "How long a deny decision is remembered.")
    var unauthorizedCacheTTL = "30s"

    @Option(name: .customLong("v"), help: "Log verbosity, as klog's -v: 0-1 info, 2-4 debug, 5+ trace.")
    var verbosity = 0

    @Flag(name: .customLong("version"), help: "Print the version and exit.")
    var printVersion = false

    /// klog spells verbosity `-v=N` or `-v N`; both become `--v=N` / `--v N`.
    static func normalizingKlogVerbosity(_ arguments: [String]) -> [String] {
        arguments.map { argument in
            if argument == "-v" { return "--v" }
            if argument.hasPrefix("-v=") { return "--v=" + argument.dropFirst(3) }
            return argument
        }
    }

    func proxyConfiguration() throws -> ProxyConfiguration {
        guard !secureListenAddress.isEmpty else {
            throw ConfigurationError.missingFlag(flag: "--secure-listen-address", hint: "pass the address to serve on, e.g. 0.0.0.0:8443")
        }
        guard !upstream.isEmpty else {
            throw ConfigurationError.missingFlag(flag: "--upstream", hint: "pass the pprof server to protect, e.g. http://127.0.0.1:8081/")
        }
        var configuration = ProxyConfiguration(
            listenAddress: try ListenAddress(parsing: secureListenAddress, flag: "--secure-listen-address"),
            upstream: try UpstreamTarget(parsing: upstream)
        )
        configuration.tlsCertificateFile = tlsCertFile.isEmpty ? nil : tlsCertFile
        configuration.tlsPrivateKeyFile = tlsPrivateKeyFile.isEmpty ? nil : tlsPrivateKeyFile
        configuration.kubeconfigPath = kubeconfig.isEmpty ? nil : kubeconfig
        configuration.tokenAudiences = Self.commaList(authTokenAudiences)
        configuration.tokenAuthFilePath = tokenAuthFile.isEmpty ? nil : tokenAuthFile
        configuration.configFilePath = configFile.isEmpty ? nil : configFile
        let allowPaths = Self.commaList(allowPaths)
        if !allowPaths.isEmpty {
            configuration.allowPaths = try allowPaths.map { pattern in
                do {
                    return try PathPattern(pattern)
                } catch {
                    throw ConfigurationError.invalidFlag(flag: "--allow-paths", value: pattern, reason: "\(error)")
                }
            }
        }
        configuration.kubeAPITimeout = try Self.duration(kubeAPITimeout, flag: "--kube-api-timeout")
        configuration.shutdownGracePeriod = try Self.duration(shutdownGracePeriod, flag: "--shutdown-grace-period")
        configuration.authenticationCacheTimeToLive = .init(
            authenticated: try Self.duration(authenticatedCacheTTL, flag: "--authentication-token-webhook-cache-ttl"),
            unauthenticated: try Self.duration(unauthenticatedCacheTTL, flag: "--authentication-token-webhook-cache-unauthenticated-ttl")
        )
        configuration.authorizationCacheTimeToLive = .init(
            allowed: try Self.duration(authorizedCacheTTL, flag: "--authorization-webhook-cache-authorized-ttl"),
            denied: try Self.duration(unauthorizedCacheTTL, flag: "--authorization-webhook-cache-unauthorized-ttl")
        )
        configuration.logLevel = ProxyLogHandler.level(forVerbosity: verbosity)
        return configuration
    }

    private static func commaList(_ values: [String]) -> [String] {
        values.flatMap { $0.split(separator: ",") }.map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    private static func duration(_ text: String, flag: String) throws -> Duration {
        do {
            return try GoDuration.parse(text)
        } catch {
            throw ConfigurationError.invalidFlag(flag: flag, value: text, reason: "\(error)")
        }
    }
}
