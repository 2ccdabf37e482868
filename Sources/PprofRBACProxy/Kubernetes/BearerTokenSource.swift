import Logging
import Synchronization

/// Yields the bearer token for Kubernetes API calls, re-reading a token file as soon as it is
/// replaced (the kubelet rotating a projected token), and in any case once its cached value is stale.
final class BearerTokenSource: Sendable {
    /// How long a token read from a file is used before the file is read again (client-go's period).
    static let defaultRefreshInterval: Duration = .seconds(60)

    /// Where the token comes from and, for a file, how to refresh it.
    private enum Origin: Sendable {
        case literal
        case file(path: String, refreshInterval: Duration, now: @Sendable () -> ContinuousClock.Instant, logger: Logger)
    }

    /// The token in use, when its file was last read, and which version of the file it was.
    private struct CachedToken {
        var token: String
        var readAt: ContinuousClock.Instant
        var version: LocalFile.Version?
    }

    private let origin: Origin
    private let cache: Mutex<CachedToken>

    /// A source that always yields `token`.
    init(token: String) {
        self.origin = .literal
        self.cache = Mutex(CachedToken(token: token, readAt: .now, version: nil))
    }

    /// A source that reads the token file now (failing if it cannot), and again whenever the file has
    /// been replaced or changed, or the value is older than `refreshInterval`. A failed re-read keeps
    /// the last good token and is retried after the interval.
    init(
        filePath: String,
        refreshInterval: Duration = defaultRefreshInterval,
        logger: Logger,
        now: @escaping @Sendable () -> ContinuousClock.Instant = { .now }
    ) throws(LocalFile.ReadError) {
        let version = LocalFile.version(atPath: filePath)
        let token = try LocalFile.readTrimmedText(atPath: filePath)
        self.origin = .file(path: filePath, refreshInterval: refreshInterval, now: now, logger: logger)
        self.cache = Mutex(CachedToken(token: token, readAt: now(), version: version))
    }

    /// The token to send now. Looks at the file's version (a `stat`) each time, and reads the small
    /// file under the lock when it changed or the refresh interval has passed.
    func currentToken() -> String {
        cache.withLock { cached in
            guard case .file(let path, let refreshInterval, let now, let logger) = origin else { return cached.token }
            let instant = now()
            let version = LocalFile.version(atPath: path)
            guard version != cached.version || instant - cached.readAt >= refreshInterval else { return cached.token }
            cached.version = version
            do throws(LocalFile.ReadError) {
                cached.token = try LocalFile.readTrimmedText(atPath: path)
            } catch {
                logger.warning(
                    "Cannot re-read the Kubernetes API token file; keeping the last token read",
                    metadata: ["path": "\(path)", "error": "\(error.reason)"]
                )
            }
            cached.readAt = instant
            return cached.token
        }
    }
}
