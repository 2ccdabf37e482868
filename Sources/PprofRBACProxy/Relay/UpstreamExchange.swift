import NIOCore
import NIOHTTP1

/// Why an upstream exchange ended without a complete response.
enum UpstreamError: Error, Hashable, CustomStringConvertible {
    /// No connection could be made.
    case connectFailed(String)
    /// The connection closed before a response head arrived; `reused` tells whether the connection
    /// had served an earlier exchange (and so may simply have gone stale in the pool).
    case closedBeforeResponse(reused: Bool)
    /// The connection closed while the response body was streaming.
    case closedMidResponse

    var description: String {
        switch self {
        case .connectFailed(let reason): "cannot connect to the upstream: \(reason)"
        case .closedBeforeResponse: "the upstream closed the connection before responding"
        case .closedMidResponse: "the upstream closed the connection mid-response"
        }
    }
}

/// The forwarder's view of a leased upstream connection; a seam so the forwarder can be tested
/// with `EmbeddedChannel`.
protocol UpstreamExchange: AnyObject {
    /// Whether the upstream socket can take more request bytes now.
    var isWritable: Bool { get }
    /// Whether this connection served an exchange before this one.
    var wasReused: Bool { get }
    /// Starts relaying this connection's response to `delegate`.
    func begin(delegate: any UpstreamResponseDelegate)
    func write(_ part: HTTPClientRequestPart)
    func flush()
    /// Reads again after the delegate had no room for more response data.
    func resumeReading()
    /// Ends the exchange: the connection goes back to the pool if `reusable`, otherwise it is closed.
    func finish(reusable: Bool)
}

/// Receives the response of an upstream exchange, on the event loop of both channels.
protocol UpstreamResponseDelegate: AnyObject {
    /// Whether the downstream can take more response data; the upstream is not read while it cannot.
    var acceptsResponseData: Bool { get }
    func upstreamDidReceive(_ part: HTTPClientResponsePart)
    func upstreamReadComplete()
    func upstreamWritabilityChanged()
    func upstreamFailed(_ error: UpstreamError)
}

/// Hands out connections to the upstream on a given event loop.
protocol UpstreamConnector: Sendable {
    /// Calls `completion` on `eventLoop` with a connection: an idle pooled one unless `fresh`.
    func lease(
        on eventLoop: any EventLoop, fresh: Bool,
        _ completion: @escaping (Result<any UpstreamExchange, UpstreamError>) -> Void
    )
}
