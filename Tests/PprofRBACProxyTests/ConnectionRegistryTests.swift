import NIOConcurrencyHelpers
import NIOEmbedded
import Testing

@testable import PprofRBACProxy

@Suite("ConnectionRegistry: open client connections")
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
}

@Suite("FreeHeapPages: malloc's free pages back to the kernel")
struct FreeHeapPagesTests {
    @Test("after a burst of allocations is freed, trimming returns memory")
    func trimsAfterABurst() {
        #expect(FreeHeapPages.isAvailable, "glibc has malloc_trim")
        var blocks: [UnsafeMutableRawPointer] = []
        for _ in 0..<4096 {
            let block = UnsafeMutableRawPointer.allocate(byteCount: 8 * 1024, alignment: 16)
            block.initializeMemory(as: UInt8.self, repeating: 1, count: 8 * 1024)
            blocks.append(block)
        }
        blocks.forEach { $0.deallocate() }
        #expect(FreeHeapPages.release())
    }
}

@Suite("ConnectionRegistry: waiting for the last connection", .timeLimit(.minutes(1)))
struct ConnectionRegistryWaitTests {
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
