import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOEmbedded
import Testing

@testable import PprofRBACProxy

@Suite("AcceptLimit: --max-connections stops accepting at the limit and resumes when a connection closes")
struct AcceptLimitTests {
    @Test("reads (accepts) are held while the limit's worth of connections is open, and released by a close")
    func holdsAndReleasesAccepts() throws {
        let reads = NIOLockedValueBox(0)
        let listener = EmbeddedChannel()
        try listener.pipeline.syncOperations.addHandlers([
            ReadCounter(reads: reads),
            AcceptLimit(maximum: 2, logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })),
        ])
        try listener.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 8443)).wait()
        let connections = [EmbeddedChannel(loop: listener.embeddedEventLoop), EmbeddedChannel(loop: listener.embeddedEventLoop)]
        try connections[0].connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        try connections[1].connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 2)).wait()

        try listener.writeInbound(connections[0] as any Channel)
        listener.read()
        #expect(reads.withLockedValue { $0 } == 1)

        try listener.writeInbound(connections[1] as any Channel)
        listener.read()
        #expect(reads.withLockedValue { $0 } == 1, "the second connection reached the limit: no more accepts")

        try connections[0].close().wait()
        listener.embeddedEventLoop.run()
        #expect(reads.withLockedValue { $0 } == 2, "the held accept goes out once a connection closed")

        listener.read()
        #expect(reads.withLockedValue { $0 } == 3)
        #expect(try listener.readInbound(as: (any Channel).self) != nil)
    }
}
