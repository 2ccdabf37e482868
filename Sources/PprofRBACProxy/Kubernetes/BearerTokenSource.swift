import Logging
import Synchronization

/// Yields the bearer token for Kubernetes API calls, re-reading a token file once its cached value is stale.
final class BearerTokenSource: Sendable {
    /// How long a token read from a file is used before the file is read again (client-go's period).
    static let defaultRefreshInterval: Duration = .seconds(60)

    private struct CachedToken {
        var token: String
        var readAt: ContinuousClock.Instant
    }

    private let tokenFilePath: String?
    private let refreshInterval: Duration
    private let now: @Sendable () -> ContinuousClock.Instant
    private let logger: Logger
    private let cache: Mutex<CachedToken>

    /// A source that always yields `token`.
    init(token: String) {
        self.tokenFilePath = nil
        self.refreshInterval = .zero
        self.now = { .now }
        self.logger = Logger(label: "pprof-rbac-proxy.kubernetes-token")
        self.cache = Mutex(CachedToken(token: token, readAt: .now))
    }

    /// A source that reads the token file now (failing if it cannot) and again whenever the value is older
    /// than `refreshInterval`. A failed re-read keeps the last good token and is retried after the interval.
    init(
        filePath: String,
        refreshInterval: Duration = defaultRefreshInterval,
        logger: Logger,
        now: @escaping @Sendable () -> ContinuousClock.Instant = { .now }
    ) throws(LocalFile.ReadError) {
        let token = try LocalFile.readTrimmedText(atPath: filePath)
        self.tokenFilePath = filePath
        self.refreshInterval = refreshInterval
        self.now = now
        self.logger = logger
        self.cache = Mutex(CachedToken(token: token, readAt: now()))
    }

    /// The token to send now.
    func currentToken() -> String {
        cache.withLock { cached in
            guard let tokenFilePath else { return cached.token }
            let instant = now()
            guard instant - cached.readAt >= refreshInterval else { return cached.token }
            do throws(LocalFile.ReadError) {
                cached.token = try LocalFile.readTrimmedText(atPath: tokenFilePath)
            } catch {
                logger.warning(
                    "Cannot re-read the Kubernetes API token file; keeping the last token read",
                    metadata: ["path": "\(tokenFilePath)", "error": "\(error.reason)"]
                )
            }
            cached.readAt = instant
            return cached.token
        }
    }
}
