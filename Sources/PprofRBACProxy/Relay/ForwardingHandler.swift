import NIOCore
import NIOHTTP1

/// Relays each authorized request to the upstream and its response back, streaming both bodies.
///
/// Backpressure both ways: the downstream is read only while the upstream can take more, and the
/// upstream only while the downstream can. When the downstream goes away (connection closed, HTTP/2
/// stream reset) the upstream connection is closed at once, which releases a running profiler.
final class ForwardingHandler: ChannelDuplexHandler, UpstreamResponseDelegate {
    typealias InboundIn = AuthorizedRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    /// One request on its way through.
    private struct Exchange {
        /// The head to send, held until the next request part shows whether a body follows.
        var heldHead: HTTPRequestHead?
        /// Request parts waiting for a connection.
        var queued: [HTTPClientRequestPart] = []
        /// The whole request, kept while it has no body so it can be sent again on a fresh connection
        /// if a pooled one turns out to be stale.
        var replayable: [HTTPClientRequestPart]? = []
        var connection: (any UpstreamExchange)?
        /// The HTTP version of the downstream request, which the response head must carry.
        var version: HTTPVersion
        var requestEnded = false
        var responseStarted = false
        /// Whether the upstream will keep its connection open after this response.
        var upstreamKeepAlive = true
        /// When the request head was handed to an upstream connection.
        var sentAt: ContinuousClock.Instant?
        var retried = false
        /// Whether a tee of this response (a shared capture) asked for upstream reads to pause.
        var readsHeld = false
    }

    private let upstream: any UpstreamConnector
    private let target: UpstreamTarget
    private let identityHeaders: IdentityHeaders
    private let isHTTP2: Bool
    private var context: ChannelHandlerContext?
    private var exchange: Exchange?
    private var readPending = false
    /// For `X-Forwarded-For`.
    private var clientAddress = PeerAddressText()

    init(upstream: any UpstreamConnector, target: UpstreamTarget, identityHeaders: IdentityHeaders, isHTTP2: Bool) {
        self.upstream = upstream
        self.target = target
        self.identityHeaders = identityHeaders
        self.isHTTP2 = isHTTP2
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
    }

    // MARK: Downstream

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head, let authorized):
            let upstreamHead = ForwardedHeaders.upstreamHead(
                for: head, authorized: authorized, target: target, identity: identityHeaders,
                clientAddress: clientAddress.text(of: context.channel)
            )
            exchange = Exchange(heldHead: upstreamHead, version: head.version)
            lease(fresh: false)
        case .body(let body):
            releaseHeldHead(bodyFollows: true)
            exchange?.replayable = nil
            send(.body(.byteBuffer(body)))
        case .end(let trailers):
            releaseHeldHead(bodyFollows: false)
            exchange?.requestEnded = true
            send(.end(trailers))
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        exchange?.connection?.flush()
        context.fireChannelReadComplete()
    }

    func read(context: ChannelHandlerContext) {
        if let exchange, !(exchange.connection?.isWritable ?? false), !exchange.requestEnded {
            readPending = true
        } else {
            context.read()
        }
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable, !(exchange?.readsHeld ?? false) {
            exchange?.connection?.resumeReading()
        }
        context.fireChannelWritabilityChanged()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        guard let hold = event as? UpstreamReadHold else {
            context.fireUserInboundEventTriggered(event)
            return
        }
        exchange?.readsHeld = hold.held
        if !hold.held, context.channel.isWritable {
            exchange?.connection?.resumeReading()
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        abandonUpstream()
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        abandonUpstream()
        context.close(promise: nil)
    }

    /// The downstream is gone: close the upstream connection so the upstream handler stops.
    private func abandonUpstream() {
        exchange?.connection?.finish(reusable: false)
        exchange = nil
    }

    /// Sets the body framing of the held head once it is known, and queues it.
    private func releaseHeldHead(bodyFollows: Bool) {
        guard var head = exchange?.heldHead else { return }
        exchange?.heldHead = nil
        if bodyFollows && !head.headers.contains(name: "content-length") {
            head.headers.add(name: "transfer-encoding", value: "chunked")
        }
        send(.head(head))
    }

    private func send(_ part: HTTPClientRequestPart) {
        guard exchange != nil else { return }
        exchange?.replayable?.append(part)
        if let connection = exchange?.connection {
            connection.write(part)
        } else {
            exchange?.queued.append(part)
        }
    }

    private func lease(fresh: Bool) {
        guard let context else { return }
        upstream.lease(on: context.eventLoop, fresh: fresh) { [self] result in
            switch result {
            case .success(let connection):
                guard exchange != nil, exchange?.connection == nil else {
                    connection.finish(reusable: true)
                    return
                }
                connection.begin(delegate: self)
                exchange?.connection = connection
                exchange?.sentAt = .now
                for part in exchange?.queued ?? [] {
                    connection.write(part)
                }
                exchange?.queued = []
                connection.flush()
                resumeDownstreamReadingIfPossible()
            case .failure(let error):
                fail(with: error)
            }
        }
    }

    private func resumeDownstreamReadingIfPossible() {
        guard readPending, let context, exchange?.connection?.isWritable ?? true else { return }
        readPending = false
        context.read()
    }

    // MARK: Upstream

    var acceptsResponseData: Bool {
        !(exchange?.readsHeld ?? false) && (context?.channel.isWritable ?? false)
    }

    func upstreamDidReceive(_ part: HTTPClientResponsePart) {
        guard let context, exchange != nil else { return }
        switch part {
        case .head(let head):
            if let sentAt = exchange?.sentAt {
                context.triggerUserOutboundEvent(UpstreamRespondedEvent(latency: .now - sentAt), promise: nil)
            }
            exchange?.responseStarted = true
            exchange?.upstreamKeepAlive = head.isKeepAlive
            let relayed = HTTPResponseHead(
                version: exchange?.version ?? .http1_1, status: head.status,
                headers: ForwardedHeaders.response(head.headers)
            )
            context.write(wrapOutboundOut(.head(relayed)), promise: nil)
        case .body(let body):
            context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil)
        case .end(let trailers):
            let requestEnded = exchange?.requestEnded ?? false
            exchange?.connection?.finish(reusable: requestEnded && (exchange?.upstreamKeepAlive ?? false))
            exchange = nil
            if requestEnded {
                context.writeAndFlush(wrapOutboundOut(.end(trailers)), promise: nil)
            } else {
                // The upstream answered before the request body was complete; the rest cannot be
                // delivered anywhere, so this downstream connection (or stream) ends here.
                context.writeAndFlush(wrapOutboundOut(.end(trailers))).assumeIsolated().whenComplete { _ in
                    context.close(promise: nil)
                }
            }
            resumeDownstreamReadingIfPossible()
        }
    }

    func upstreamReadComplete() {
        context?.flush()
    }

    func upstreamWritabilityChanged() {
        resumeDownstreamReadingIfPossible()
    }

    func upstreamFailed(_ error: UpstreamError) {
        guard let current = exchange else { return }
        if case .closedBeforeResponse(reused: true) = error, !current.retried,
            let replay = current.replayable, current.requestEnded
        {
            // A pooled connection went stale before the upstream saw the request: send it again.
            exchange = Exchange(
                queued: replay, replayable: replay, version: current.version, requestEnded: true, retried: true,
                readsHeld: current.readsHeld
            )
            lease(fresh: true)
            return
        }
        fail(with: error)
    }

    /// Ends the exchange after an upstream failure: 502 if nothing was sent yet, otherwise an
    /// aborted response (closed connection or reset stream), never a clean end.
    private func fail(with error: UpstreamError) {
        guard let context, let current = exchange else { return }
        exchange = nil
        current.connection?.finish(reusable: false)
        guard !current.responseStarted else {
            // Deliver what arrived, then abort: the client sees a truncated response, never a clean end.
            context.flush()
            context.close(promise: nil)
            return
        }
        ProxyError.badGateway(error.description).write(
            to: context, version: current.version, closeConnection: !current.requestEnded, isHTTP2: isHTTP2
        )
        resumeDownstreamReadingIfPossible()
    }
}

/// Sent inbound to the forwarder by a tee of its response: pause (`held`) or resume upstream reads,
/// so the upstream is read only as fast as the slowest client of a shared capture.
struct UpstreamReadHold: Sendable {
    let held: Bool
}
