import NIOSSL
import RequestPolicy
import Testing

@testable import PprofRBACProxy

/// One row of the flag table: extra arguments and what they must do to the configuration.
struct FlagCase: Sendable, CustomTestStringConvertible {
    let flag: String
    let arguments: [String]
    let check: @Sendable (ProxyConfiguration) -> Bool

    init(_ flag: String, _ arguments: String, check: @escaping @Sendable (ProxyConfiguration) -> Bool) {
        self.flag = flag
        self.arguments = arguments.split(separator: " ").map(String.init)
        self.check = check
    }

    var testDescription: String { arguments.joined(separator: " ") }
}

@Suite("ProxyCommandLine: kube-rbac-proxy's flags into a ProxyConfiguration")
struct ProxyCommandLineTests {
    static let required = ["--secure-listen-address=127.0.0.1:8443", "--upstream=http://127.0.0.1:8081/"]

    static func run(_ arguments: [String]) throws(ConfigurationError) -> (ProxyConfiguration, [String]) {
        guard case .run(let configuration, let warnings) = try ProxyCommandLine.parse(arguments) else {
            throw .badFlagSyntax("expected a run action")
        }
        return (configuration, warnings)
    }

    static func failure(_ arguments: [String]) -> String? {
        do {
            _ = try ProxyCommandLine.parse(arguments)
            return nil
        } catch {
            return error.description
        }
    }

    static let flagTable: [FlagCase] = [
        FlagCase("secure-listen-address", "--secure-listen-address=[::1]:9443") {
            $0.listenAddress == ListenAddress(host: "::1", port: 9443)
        },
        FlagCase("insecure-listen-address", "--insecure-listen-address 127.0.0.1:8080") {
            $0.insecureListenAddress == ListenAddress(host: "127.0.0.1", port: 8080)
        },
        FlagCase("upstream", "--upstream=http://127.0.0.1:9999/base") {
            $0.upstream == UpstreamTarget(host: "127.0.0.1", port: 9999, basePath: "/base")
        },
        FlagCase("upstream-force-h2c", "--upstream-force-h2c") { $0.upstreamForceH2C },
        FlagCase("upstream-ca-file", "--upstream-ca-file=/etc/ca.pem") { $0.upstreamCAFile == "/etc/ca.pem" },
        FlagCase("upstream-client-cert-file", "--upstream-client-cert-file=c.pem --upstream-client-key-file=k.pem") {
            $0.upstreamClientCertificateFile == "c.pem"
        },
        FlagCase("upstream-client-key-file", "--upstream-client-key-file k.pem --upstream-client-cert-file c.pem") {
            $0.upstreamClientKeyFile == "k.pem"
        },
        FlagCase("config-file", "--config-file /etc/config.yaml") { $0.configFilePath == "/etc/config.yaml" },
        FlagCase("allow-paths", "--allow-paths=/metrics,/debug/*") {
            $0.allowPaths.map(\.description) == ["/metrics", "/debug/*"] && $0.ignorePaths.isEmpty
        },
        FlagCase("ignore-paths", "--ignore-paths=/debug/pprof/cmdline") {
            $0.ignorePaths.map(\.description) == ["/debug/pprof/cmdline"]
                && $0.allowPaths.map(\.description) == PathPolicy.defaultAllowPatterns
        },
        FlagCase("proxy-endpoints-port", "--proxy-endpoints-port=8444") { $0.proxyEndpointsPort == 8444 },
        FlagCase("tls-cert-file", "--tls-cert-file=tls.crt --tls-private-key-file=tls.key") { $0.tlsCertificateFile == "tls.crt" },
        FlagCase("tls-private-key-file", "--tls-private-key-file tls.key --tls-cert-file tls.crt") { $0.tlsPrivateKeyFile == "tls.key" },
        FlagCase("tls-min-version", "--tls-min-version=VersionTLS13") { $0.tls.minimumVersion == .tlsv13 },
        FlagCase(
            "tls-cipher-suites",
            "--tls-cipher-suites=TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 --tls-cipher-suites=TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305"
        ) {
            $0.tls.cipherSuites == [.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, .TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256]
        },
        FlagCase("tls-reload-interval", "--tls-reload-interval=30s") { $0.certificateReloadInterval == .seconds(30) },
        FlagCase("client-ca-file", "--client-ca-file=ca.crt") { $0.clientCAFile == "ca.crt" },
        FlagCase("auth-token-audiences", "--auth-token-audiences=pprof,other --auth-token-audiences=third") {
            $0.tokenAudiences == ["pprof", "other", "third"]
        },
        FlagCase("auth-header-fields-enabled", "--auth-header-fields-enabled=true") { $0.identityHeaders.enabled },
        FlagCase("auth-header-user-field-name", "--auth-header-user-field-name=X-User") { $0.identityHeaders.userHeader == "X-User" },
        FlagCase("auth-header-groups-field-name", "--auth-header-groups-field-name=X-Groups") {
            $0.identityHeaders.groupsHeader == "X-Groups"
        },
        FlagCase("auth-header-groups-field-separator", "--auth-header-groups-field-separator=;") {
            $0.identityHeaders.groupsSeparator == ";"
        },
        FlagCase("kubeconfig", "--kubeconfig=/root/.kube/config") { $0.kubeconfigPath == "/root/.kube/config" },
        FlagCase("kube-api-qps", "--kube-api-qps=20.5") { $0.kubeAPIQPS == 20.5 },
        FlagCase("kube-api-qps", "--kube-api-qps=0") { $0.kubeAPIQPS == 5 },
        FlagCase("kube-api-burst", "--kube-api-burst=30") { $0.kubeAPIBurst == 30 },
        FlagCase("kube-api-burst", "--kube-api-burst=-1") { $0.kubeAPIBurst == 10 },
        FlagCase("http2-disable", "--http2-disable") { $0.tls.http2Disabled },
        FlagCase("http2-max-concurrent-streams", "--http2-max-concurrent-streams=50") { $0.tls.http2MaxConcurrentStreams == 50 },
        FlagCase("http2-max-concurrent-streams", "--http2-max-concurrent-streams=0") { $0.tls.http2MaxConcurrentStreams == 250 },
        FlagCase("http2-max-size", "--http2-max-size=16384") { $0.tls.http2MaxSize == 16_384 },
        FlagCase("http2-max-size", "--http2-max-size=0") { $0.tls.http2MaxSize == 1_048_576 },
        FlagCase("token-auth-file", "--token-auth-file=tokens.csv") { $0.tokenAuthFilePath == "tokens.csv" },
        FlagCase("verb-mapping", "--verb-mapping=kube-rbac-proxy") { $0.verbMapping == .kubeRBACProxy },
        FlagCase("max-capture-seconds", "--max-capture-seconds=60") { $0.maxCaptureSeconds == 60 },
        FlagCase("cpu-profile-slices", "--cpu-profile-slices=false") { !$0.cpuProfileSlices },
        FlagCase("capture-join-window", "--capture-join-window=500ms") { $0.captureJoinWindow == .milliseconds(500) },
        FlagCase("capture-queue-timeout", "--capture-queue-timeout 2m") { $0.captureQueueTimeout == .seconds(120) },
        FlagCase("capture-queue-size", "--capture-queue-size=0") { $0.captureQueueSize == 0 },
        FlagCase("max-captures-per-user", "--max-captures-per-user=5") { $0.maxCapturesPerUser == 5 },
        FlagCase("audit-log-path", "--audit-log-path=-") { $0.auditLogPath == "-" },
        FlagCase("metrics-bind-address", "--metrics-bind-address=127.0.0.1:9090") {
            $0.metricsBindAddress == ListenAddress(host: "127.0.0.1", port: 9090)
        },
        FlagCase("metrics-insecure", "--metrics-insecure=true") { $0.metricsInsecure },
        FlagCase("allow-basic-auth-token", "--allow-basic-auth-token") { $0.allowBasicAuthToken },
        FlagCase("kube-api-timeout", "--kube-api-timeout=3s") { $0.kubeAPITimeout == .seconds(3) },
        FlagCase("shutdown-grace-period", "--shutdown-grace-period=0s") { $0.shutdownGracePeriod == .zero },
        FlagCase("read-header-timeout", "--read-header-timeout=3s") { $0.readHeaderTimeout == .seconds(3) },
        FlagCase("read-header-timeout", "--read-header-timeout=0s") { $0.readHeaderTimeout == nil },
        FlagCase("max-connections", "--max-connections=10") { $0.maxConnections == 10 },
        FlagCase("max-connections", "--max-connections=0") { $0.maxConnections == nil },
        FlagCase("authentication-token-webhook-cache-ttl", "--authentication-token-webhook-cache-ttl=10s") {
            $0.authenticationCacheTimeToLive.authenticated == .seconds(10)
        },
        FlagCase("authentication-token-webhook-cache-unauthenticated-ttl", "--authentication-token-webhook-cache-unauthenticated-ttl=5s") {
            $0.authenticationCacheTimeToLive.unauthenticated == .seconds(5)
        },
        FlagCase("authorization-webhook-cache-authorized-ttl", "--authorization-webhook-cache-authorized-ttl=1m") {
            $0.authorizationCacheTimeToLive.allowed == .seconds(60)
        },
        FlagCase("authorization-webhook-cache-unauthorized-ttl", "--authorization-webhook-cache-unauthorized-ttl=0s") {
            $0.authorizationCacheTimeToLive.denied == .zero
        },
        FlagCase("v", "-v=5") { $0.logLevel == .trace },
        FlagCase("v", "-v 2") { $0.logLevel == .debug },
        FlagCase("v", "--v=1") { $0.logLevel == .info },
    ]

    @Test("every flag sets its configuration field", arguments: flagTable)
    func flag(_ flagCase: FlagCase) throws {
        let (configuration, _) = try Self.run(Self.required + flagCase.arguments)
        #expect(flagCase.check(configuration))
    }

    @Test("the table covers every flag that configures something")
    func tableCoversEveryFlag() {
        let covered = Set(Self.flagTable.map(\.flag))
        let separatelyTested = Set(
            [ProxyFlags.help.name, ProxyFlags.version.name, ProxyFlags.vmodule.name, ProxyFlags.logFlushFrequency.name]
                + ProxyFlags.oidc.map(\.name)
                + ProxyFlags.removedLogging.map(\.name)
        )
        let all = Set(ProxyCommandLine.flagSet.definitions.map(\.name))
        #expect(all.subtracting(separatelyTested).subtracting(covered).isEmpty)
    }

    @Test("with only the required flags, everything has kube-rbac-proxy's default (or, for flags it lacks, ours)")
    func defaults() throws {
        let (configuration, warnings) = try Self.run(Self.required)
        #expect(warnings.isEmpty)
        #expect(configuration.listenAddress == ListenAddress(host: "127.0.0.1", port: 8443))
        #expect(configuration.insecureListenAddress == nil)
        #expect(configuration.allowPaths.map(\.description) == ["/debug/pprof", "/debug/pprof/*"])
        #expect(configuration.ignorePaths.isEmpty)
        #expect(configuration.proxyEndpointsPort == nil)
        #expect(configuration.tls.minimumVersion == .tlsv12)
        #expect(configuration.tls.cipherSuites.isEmpty)
        #expect(configuration.tls.http2MaxConcurrentStreams == 100)
        #expect(configuration.tls.http2MaxSize == 262_144)
        #expect(!configuration.tls.http2Disabled)
        #expect(configuration.identityHeaders == IdentityHeaders())
        #expect(configuration.kubeAPIQPS == 5 && configuration.kubeAPIBurst == 10)
        #expect(configuration.kubeAPITimeout == .seconds(10))
        #expect(configuration.shutdownGracePeriod == .seconds(90))
        #expect(configuration.readHeaderTimeout == .seconds(10))
        #expect(configuration.maxConnections == 1024)
        #expect(configuration.authenticationCacheTimeToLive.authenticated == .seconds(120))
        #expect(configuration.authenticationCacheTimeToLive.unauthenticated == .seconds(120))
        #expect(configuration.authorizationCacheTimeToLive.allowed == .seconds(300))
        #expect(configuration.authorizationCacheTimeToLive.denied == .seconds(30))
        #expect(configuration.verbMapping == .apiserver)
        #expect(configuration.logLevel == .info)
        #expect(configuration.upstreamClientCertificateFile == nil && configuration.tlsCertificateFile == nil)
    }

    @Test("only the insecure listener is enough")
    func insecureOnly() throws {
        let (configuration, warnings) = try Self.run(["--insecure-listen-address=:8080", "--upstream=http://127.0.0.1:1/"])
        #expect(configuration.listenAddress == nil)
        #expect(configuration.insecureListenAddress == ListenAddress(host: "0.0.0.0", port: 8080))
        #expect(warnings == [
            "--insecure-listen-address is deprecated: it serves plain HTTP (HTTP/1.1 and h2c), so bearer tokens cross the network in clear text; use --secure-listen-address"
        ])
    }

    @Test("no listen address, or no upstream, is refused with kube-rbac-proxy's words")
    func required() {
        #expect(Self.failure(["--upstream=http://127.0.0.1:1/"])?.hasPrefix("no listen address provided") == true)
        #expect(Self.failure(["--secure-listen-address=:8443"])?.contains("--upstream is required") == true)
    }

    @Test("deprecated, removed and ignored flags are accepted with one warning line each")
    func warnings() throws {
        let (configuration, warnings) = try Self.run(
            Self.required + [
                "--logtostderr", "--alsologtostderr=false", "--add-dir-header", "--log-backtrace-at=x.go:1", "--log-dir", "/tmp",
                "--log-file=/tmp/x", "--log-file-max-size=1800", "--one-output", "--skip-headers", "--skip-log-headers",
                "--stderrthreshold=2", "--vmodule=gate=4", "--log-flush-frequency=1s", "--tls-reload-interval=1m",
                "--log_dir=/var/log",
            ]
        )
        #expect(configuration.certificateReloadInterval == .seconds(60))
        #expect(warnings == [
            "--logtostderr is removed in the k8s upstream and has no effect any more",
            "--alsologtostderr is removed in the k8s upstream and has no effect any more",
            "--add-dir-header is removed in the k8s upstream and has no effect any more",
            "--log-backtrace-at is removed in the k8s upstream and has no effect any more",
            "--log-dir is removed in the k8s upstream and has no effect any more",
            "--log-file is removed in the k8s upstream and has no effect any more",
            "--log-file-max-size is removed in the k8s upstream and has no effect any more",
            "--one-output is removed in the k8s upstream and has no effect any more",
            "--skip-headers is removed in the k8s upstream and has no effect any more",
            "--skip-log-headers is removed in the k8s upstream and has no effect any more",
            "--stderrthreshold is removed in the k8s upstream and has no effect any more",
            "--vmodule is ignored: there is no per-file verbosity; use -v",
            "--log-flush-frequency is ignored: log lines are written unbuffered",
            "--tls-reload-interval is deprecated (kube-rbac-proxy#196); the files are checked every 1m0s",
        ])
        #expect(warnings.allSatisfy { !$0.contains("\n") })
    }

    @Test("every OIDC flag is refused, never ignored", arguments: ProxyFlags.oidc.map(\.name))
    func oidc(flag: String) {
        let message = Self.failure(Self.required + ["--\(flag)=x"])
        #expect(message?.hasPrefix("--\(flag): OIDC is not supported by pprof-rbac-proxy; use TokenReview") == true, "\(String(describing: message))")
    }

    @Test("--allow-paths with --ignore-paths is refused; either alone is fine")
    func allowAndIgnore() throws {
        #expect(
            Self.failure(Self.required + ["--allow-paths=/a", "--ignore-paths=/b"]) == "cannot use --allow-paths and --ignore-paths together"
        )
        #expect(try Self.run(Self.required + ["--allow-paths=", "--ignore-paths=/b"]).0.ignorePaths.count == 1)
    }

    @Test("bad values are refused naming the flag", arguments: [
        ("--tls-cipher-suites=TLS_RSA_WITH_RC4_128_SHA", "--tls-cipher-suites"),
        ("--tls-cipher-suites=NOT_A_SUITE", "--tls-cipher-suites"),
        ("--tls-min-version=TLS1.2", "--tls-min-version"),
        ("--allow-paths=/debug/[", "--allow-paths"),
        ("--ignore-paths=/x/[", "--ignore-paths"),
        ("--kube-api-timeout=10", "--kube-api-timeout"),
        ("--kube-api-timeout=0s", "--kube-api-timeout"),
        ("--tls-reload-interval=0s", "--tls-reload-interval"),
        ("--authorization-webhook-cache-authorized-ttl=-1s", "--authorization-webhook-cache-authorized-ttl"),
        ("--proxy-endpoints-port=abc", "--proxy-endpoints-port"),
        ("--proxy-endpoints-port=70000", "--proxy-endpoints-port"),
        ("--proxy-endpoints-port=8443", "--proxy-endpoints-port"),
        ("--proxy-endpoints-port=8080 --insecure-listen-address=:8080", "--proxy-endpoints-port"),
        ("--http2-max-size=100", "--http2-max-size"),
        ("--http2-max-concurrent-streams=-1", "--http2-max-concurrent-streams"),
        ("--kube-api-burst=x", "--kube-api-burst"),
        ("--kube-api-qps=x", "--kube-api-qps"),
        ("--verb-mapping=lowercase", "--verb-mapping"),
        ("--auth-header-user-field-name=bad:name", "--auth-header-user-field-name"),
        ("--auth-header-groups-field-name=", "--auth-header-groups-field-name"),
        ("--upstream-client-cert-file=c.pem", "--upstream-client-key-file"),
        ("--upstream-client-key-file=k.pem", "--upstream-client-cert-file"),
        ("--tls-cert-file=c.pem", "--tls-private-key-file"),
        ("--tls-private-key-file=k.pem", "--tls-cert-file"),
        ("--upstream=https://127.0.0.1:1/ --upstream-force-h2c", "--upstream-force-h2c"),
        ("--upstream=ftp://127.0.0.1/", "--upstream"),
        ("--secure-listen-address=nohost", "--secure-listen-address"),
        ("--upstream-force-h2c=maybe", "--upstream-force-h2c"),
        ("--read-header-timeout=-1s", "--read-header-timeout"),
        ("--max-connections=-1", "--max-connections"),
    ])
    func badValues(arguments: String, flag: String) {
        let message = Self.failure(Self.required + arguments.split(separator: " ").map(String.init))
        #expect(message?.contains(flag) == true, "\(String(describing: message))")
    }

    @Test("usage errors: unknown flags, positional arguments, a boolean's value after a space")
    func usageErrors() {
        #expect(Self.failure(Self.required + ["--bogus"]) == "unknown flag: --bogus")
        #expect(Self.failure(Self.required + ["-insecure-listen-address=:1"]) == "unknown shorthand flag: 'i' in -insecure-listen-address=:1")
        #expect(Self.failure(Self.required + ["extra"])?.hasPrefix("unexpected argument \"extra\"") == true)
        #expect(
            Self.failure(Self.required + ["--http2-disable", "false"])
                == "unexpected argument \"false\": boolean flags take their value after '=': --http2-disable=false"
        )
        #expect(Self.failure(Self.required + ["--", "--http2-disable"])?.hasPrefix("unexpected argument") == true)
    }

    @Test("--version and --version=raw print the version; --version=false runs")
    func version() throws {
        guard case .printVersion(let line) = try ProxyCommandLine.parse(["--version"]) else {
            Issue.record("expected the version")
            return
        }
        #expect(line == "pprof-rbac-proxy \(ProxyCommandLine.version)")
        guard case .printVersion = try ProxyCommandLine.parse(["--version=raw"]) else {
            Issue.record("expected the version")
            return
        }
        guard case .run = try ProxyCommandLine.parse(Self.required + ["--version=false"]) else {
            Issue.record("expected a run")
            return
        }
    }

    @Test("-h and --help win over missing or invalid settings, not over unknown flags")
    func helpPrecedence() throws {
        for arguments in [["-h"], ["--help"], ["--help", "--upstream=ftp://x"], ["--help", "positional"], ["--oidc-issuer=x", "-h"]] {
            guard case .printHelp = try ProxyCommandLine.parse(arguments) else {
                Issue.record("expected help for \(arguments)")
                continue
            }
        }
        #expect(Self.failure(["--help", "--bogus"]) == "unknown flag: --bogus")
    }

    @Test("each flag is defined once: names and shorthands are unique, and --help describes each exactly once")
    func eachFlagOnce() {
        let names = ProxyFlags.all.map(\.name)
        #expect(Set(names).count == names.count, "\(names.filter { name in names.filter { $0 == name }.count > 1 })")
        let shorthands = ProxyFlags.all.compactMap(\.shorthand)
        #expect(Set(shorthands).count == shorthands.count)
        let described = ProxyCommandLine.help.split(separator: "\n").compactMap { line in
            line.wholeMatch(of: #/(?:      |  -., )--([^ ,]+)(?: [A-Za-z0-9]+)?/#).map { String($0.1) }
        }
        #expect(described == (ProxyFlags.proxy + ProxyFlags.logging + ProxyFlags.oidc).map(\.name))
    }

    @Test("each flag's typed default is the kind of value its parser yields, so a lookup never falls back to the default")
    func kindsMatchValues() throws {
        func sameCase(_ a: FlagValue, _ b: FlagValue) -> Bool {
            switch (a, b) {
            case (.bool, .bool), (.string, .string), (.strings, .strings), (.int, .int), (.double, .double), (.duration, .duration):
                true
            default:
                false
            }
        }
        for definition in ProxyFlags.all {
            let sample =
                switch definition.kind {
                case .bool, .version: "true"
                case .string, .stringArray, .stringSlice: "x"
                case .int, .level, .uint32, .uint64, .float32: "1"
                case .duration: "1s"
                }
            let parsed = try FlagSet.parseValue(sample, kind: definition.kind, flag: definition.name)
            #expect(sameCase(parsed, definition.defaultValue), "--\(definition.name): \(definition.kind) gives \(parsed), its default is \(definition.defaultValue)")
        }
    }

    @Test("help lists every flag with its meaning and default; the removed logging flags by name")
    func help() {
        let help = ProxyCommandLine.help
        for definition in ProxyFlags.proxy + ProxyFlags.logging + ProxyFlags.oidc {
            let entry = FlagSet.usage(of: [definition])
            #expect(help.contains(entry), "--\(definition.name) is not in the help as \(entry)")
            #expect(entry.contains("(default \(FlagSet.defaultText(definition)))"))
            #expect(!definition.usage.isEmpty)
        }
        for definition in ProxyFlags.removedLogging {
            #expect(help.contains("--\(definition.name)"))
        }
        #expect(help.contains("--allow-paths strings\n"))
        #expect(help.contains("(default [/debug/pprof,/debug/pprof/*])"))
        #expect(help.contains("(default 2m0s)"))
        #expect(help.contains("  -v, --v Level\n"))
        #expect(help.contains("  -h, --help\n"))
    }
}
