import Dispatch
import NIOConcurrencyHelpers
import Testing

@testable import PprofRBACProxy

@Suite("IdleMemoryRelease: memory given back off the event loop when the last connection closes")
struct IdleMemoryReleaseTests {
    @Test("a release runs later on a queue of its own, not in the caller; releases asked for while one waits are one")
    func runsElsewhereAndCoalesces() async {
        let releases = NIOLockedValueBox(0)
        let idle = IdleMemoryRelease { releases.withLockedValue { $0 += 1 } }
        let held = DispatchSemaphore(value: 0)
        idle.afterPendingReleases { held.wait() }

        idle.schedule()
        idle.schedule()
        idle.schedule()
        #expect(releases.withLockedValue { $0 } == 0, "the caller does not wait for a release")
        held.signal()
        await pendingReleases(of: idle)
        #expect(releases.withLockedValue { $0 } == 1)

        idle.schedule()
        await pendingReleases(of: idle)
        #expect(releases.withLockedValue { $0 } == 2, "once one has run, the next is a release of its own")
    }

    private func pendingReleases(of idle: IdleMemoryRelease) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            idle.afterPendingReleases { continuation.resume() }
        }
    }
}
