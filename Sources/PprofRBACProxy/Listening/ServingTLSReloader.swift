import Logging
import NIOConcurrencyHelpers
import NIOSSL
import ServiceLifecycle

/// Keeps the serving TLS current: re-reads the certificate, key and client CA files every interval
/// and swaps in new contexts when their bytes change (atomic replaces and Kubernetes Secret symlink
/// swaps included). A new set that does not load is logged and the old one keeps serving.
final class ServingTLSReloader: Service, Sendable {
    /// Where the serving TLS comes from.
    enum Source: Sendable {
        /// `--tls-cert-file`, `--tls-private-key-file` and the optional `--client-ca-file`, watched.
        case files(certificate: String, privateKey: String, clientCA: String?)
        /// A certificate made in memory, with the optional `--client-ca-file` watched.
        case generated(SelfSignedCertificate, clientCA: String?)

        var clientCAFile: String? {
            switch self {
            case .files(_, _, let clientCA), .generated(_, let clientCA): clientCA
            }
        }
    }

    private struct Loaded {
        var tls: ServingTLS
        var fileContents: [[UInt8]]
        var rejectedContents: [[UInt8]]?
    }

    private let source: Source
    private let settings: ServingTLSSettings
    private let interval: Duration
    private let clientCertificateAuthority: ClientCertificateAuthority
    /// Where the serving certificate's expiry is published.
    private let metrics: ProxyMetrics
    private let logger: Logger
    private let loaded: NIOLockedValueBox<Loaded>

    /// Loads the files once; a failure here stops startup.
    init(
        source: Source, settings: ServingTLSSettings, interval: Duration,
        clientCertificateAuthority: ClientCertificateAuthority, metrics: ProxyMetrics, logger: Logger
    ) throws {
        self.source = source
        self.settings = settings
        self.interval = interval
        self.clientCertificateAuthority = clientCertificateAuthority
        self.metrics = metrics
        self.logger = logger
        let contents = try Self.read(source)
        let tls = try Self.load(source, contents: contents, settings: settings)
        clientCertificateAuthority.replace(with: tls.clientCertificateAuthority)
        metrics.servingCertificateLoaded(notAfter: tls.servingCertificate.notValidAfter)
        self.loaded = NIOLockedValueBox(Loaded(tls: tls, fileContents: contents))
    }

    /// The contexts new connections are served with.
    var current: ServingTLS {
        loaded.withLockedValue { $0.tls }
    }

    func run() async throws {
        if case .generated(_, clientCA: nil) = source {
            // Nothing to watch; stay up until shutdown like the other services.
            try? await gracefulShutdown()
            return
        }
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                try? await Task.sleep(for: self.interval)
                self.reloadIfChanged()
            }
        }
    }

    /// Reads the files and swaps in new contexts if their bytes changed and they load.
    func reloadIfChanged() {
        let contents: [[UInt8]]
        do {
            contents = try Self.read(source)
        } catch {
            reportRejected(nil, error: error)
            return
        }
        let state = loaded.withLockedValue { $0 }
        guard contents != state.fileContents, contents != state.rejectedContents else { return }
        do {
            let tls = try Self.load(source, contents: contents, settings: settings)
            loaded.withLockedValue { $0 = Loaded(tls: tls, fileContents: contents) }
            clientCertificateAuthority.replace(with: tls.clientCertificateAuthority)
            metrics.servingCertificateLoaded(notAfter: tls.servingCertificate.notValidAfter)
            logger.info("serving certificate and client CA reloaded")
        } catch {
            reportRejected(contents, error: error)
        }
    }

    private func reportRejected(_ contents: [[UInt8]]?, error: any Error) {
        let isNew = loaded.withLockedValue { state in
            defer { state.rejectedContents = contents }
            return contents == nil || state.rejectedContents != contents
        }
        if isNew {
            logger.error("cannot reload the serving TLS files; still serving the previous ones", metadata: ["error": "\(error)"])
        }
    }

    private static func read(_ source: Source) throws -> [[UInt8]] {
        var paths: [String] = []
        if case .files(let certificate, let privateKey, _) = source {
            paths = [certificate, privateKey]
        }
        if let clientCA = source.clientCAFile {
            paths.append(clientCA)
        }
        return try paths.map { path in try LocalFile.contents(atPath: path) }
    }

    private static func load(_ source: Source, contents: [[UInt8]], settings: ServingTLSSettings) throws -> ServingTLS {
        switch source {
        case .files(_, _, let clientCA):
            return try ServingTLS(
                certificatePEM: contents[0], privateKeyPEM: contents[1],
                clientCAPEM: clientCA == nil ? nil : contents[2], settings: settings
            )
        case .generated(let generated, let clientCA):
            return try ServingTLS(
                certificateChain: [generated.certificate], privateKey: generated.privateKey,
                clientCAPEM: clientCA == nil ? nil : contents[0], settings: settings
            )
        }
    }
}
