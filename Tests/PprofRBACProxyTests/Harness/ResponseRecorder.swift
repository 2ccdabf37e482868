import NIOCore
import NIOHTTP1

@testable import PprofRBACProxy

/// A test's `UpstreamResponseDelegate`: collects one exchange's response, can refuse more data
/// (backpressure), and ends the exchange the way `ForwardingHandler` does.
final class ResponseRecorder: UpstreamResponseDelegate {
    /// The test left the exchange before its response ended.
    struct Abandoned: Error {}

    let connection: any UpstreamExchange
    private let completion: EventLoopPromise<CollectedResponse>
    private var head: HTTPResponseHead?
    private var body = ByteBuffer()
    private(set) var bodyBytesReceived = 0
    var acceptsResponseData: Bool

    init(connection: any UpstreamExchange, completion: EventLoopPromise<CollectedResponse>, acceptsResponseData: Bool) {
        self.connection = connection
        self.completion = completion
        self.acceptsResponseData = acceptsResponseData
    }

    var headReceived: Bool { head != nil }

    func upstreamDidReceive(_ part: HTTPClientResponsePart) {
        switch part {
        case .head(let head):
            self.head = head
        case .body(var buffer):
            bodyBytesReceived += buffer.readableBytes
            body.writeBuffer(&buffer)
        case .end:
            guard let head else {
                completion.fail(UpstreamError.closedBeforeResponse(reused: false))
                return
            }
            connection.finish(reusable: head.isKeepAlive)
            completion.succeed(CollectedResponse(head: head, body: body))
        }
    }

    func upstreamReadComplete() {}

    func upstreamWritabilityChanged() {}

    func upstreamFailed(_ error: UpstreamError) {
        completion.fail(error)
    }

    /// Leaves the exchange as a client that goes away does: the connection (or stream) is closed,
    /// and the response ends as abandoned.
    func abandon() {
        connection.finish(reusable: false)
        completion.fail(Abandoned())
    }

    /// Takes response data again after refusing it.
    func resume() {
        acceptsResponseData = true
        connection.resumeReading()
    }
}
