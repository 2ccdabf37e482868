import NIOCore
import NIOHTTP1

/// A whole upstream response as a test received it through an `UpstreamExchange`.
struct CollectedResponse: Sendable {
    let head: HTTPResponseHead
    let body: ByteBuffer

    var status: HTTPResponseStatus { head.status }
    var bodyText: String { String(buffer: body) }
}
