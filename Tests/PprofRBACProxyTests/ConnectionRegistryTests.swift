import NIOConcurrencyHelpers
import NIOEmbedded
import Testing

@testable import PprofRBACProxy

@Suite("ConnectionRegistry: open client connections", .timeLimit(.minutes(1)))
struct ConnectionRegistryTests {
    @Test("the last connection to close runs whenEmpty, once; closing one of two does not")
    func whenEmptyRunsWhenTheLastCloses() {
        let emptied = NIOLockedValueBox(0)
        let registry = ConnectionRegistry(whenEmpty: { emptied.withLockedValue { $0 += 1 } })
        let first = EmbeddedChannel(), second = EmbeddedChannel()
        registry.add(first)
        registry.add(second)

        first.close(promise: nil)
        first.embeddedEventLoop.run()
        #expect(registry.count == 1)
        #expect(emptied.withLockedValue { $0 } == 0)

        second.close(promise: nil)
        second.embeddedEventLoop.run()
        #expect(registry.count == 0)
        #expect(emptied.withLockedValue { $0 } == 1)
    }

    @Test("waitUntilEmpty returns at once without connections, and when cancelled while one stays open")
    func waitEndsWhenEmptyOrCancelled() async {
        let registry = ConnectionRegistry()
        await registry.waitUntilEmpty()

        registry.add(EmbeddedChannel())
        let waiting = Task { await registry.waitUntilEmpty() }
        waiting.cancel()
        await waiting.value
        #expect(registry.count == 1, "the grace period ends the wait, not the connection")
    }
}
