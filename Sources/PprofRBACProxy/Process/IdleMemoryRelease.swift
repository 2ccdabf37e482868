import Dispatch
import NIOConcurrencyHelpers

/// Gives memory back each time the proxy's last client connection closes, on a queue of its own so
/// that no event loop waits for it: the heap's free pages (`FreeHeapPages`) and the pages of code
/// and read-only data that serving faulted in (`StartupPages`), which the next request faults back
/// in as it needs them. A scraper's visits and a burst of connections do not leave their peak
/// behind. Releases asked for while one is waiting to run are one release.
final class IdleMemoryRelease: Sendable {
    private let queue = DispatchQueue(label: "pprof-rbac-proxy.idle-memory-release", qos: .utility)
    private let waiting = NIOLockedValueBox(false)
    private let release: @Sendable () -> Void

    init(release: @escaping @Sendable () -> Void = IdleMemoryRelease.releaseAll) {
        self.release = release
    }

    /// Schedules a release, unless one is already waiting to run.
    func schedule() {
        let alreadyWaiting = waiting.withLockedValue { waiting in
            defer { waiting = true }
            return waiting
        }
        guard !alreadyWaiting else { return }
        queue.async { [self] in
            waiting.withLockedValue { $0 = false }
            release()
        }
    }

    /// Runs after every scheduled release so far has run.
    func afterPendingReleases(_ body: @escaping @Sendable () -> Void) {
        queue.async(execute: body)
    }

    @Sendable static func releaseAll() {
        FreeHeapPages.release()
        StartupPages.release()
    }
}
