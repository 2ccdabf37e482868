import NIOCore
import NIOHTTP1
import X509

/// A request part that passed the gate; the head carries what was authorized.
enum AuthorizedRequestPart: Sendable {
    case head(HTTPRequestHead, AuthorizedRequest)
    case body(ByteBuffer)
    case end(HTTPHeaders?)
}

/// Holds each request at its head while the gate decides; answers refusals itself and passes allowed
/// requests on together with the decision. No body byte is read and nothing is passed on before it.
final class GateHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = AuthorizedRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    private enum State {
        /// Waiting for a request head.
        case idle
        /// The gate is deciding; parts that arrived meanwhile wait here.
        case deciding(buffered: [HTTPServerRequestPart])
        /// Allowed: the rest of the request flows through.
        case passing
        /// Refused: the rest of the request is discarded.
        case discarding
    }

    private let gate: Gate
    private let isHTTP2: Bool
    /// What the client presented in the TLS handshake of this connection, leaf first.
    private let clientCertificates: [Certificate]
    private var state = State.idle
    private var readPending = false
    /// Runs the gate's decisions on this channel's event loop; made when the handler is added.
    private var decisionExecutor: EventLoopTaskExecutor?

    init(gate: Gate, isHTTP2: Bool, clientCertificates: [Certificate] = []) {
        self.gate = gate
        self.isHTTP2 = isHTTP2
        self.clientCertificates = clientCertificates
    }

    func handlerAdded(context: ChannelHandlerContext) {
        decisionExecutor = EventLoopTaskExecutor(eventLoop: context.eventLoop)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let part = unwrapInboundIn(data)
        switch (state, part) {
        case (.idle, .head(let head)):
            state = .deciding(buffered: [])
            decide(head, context: context)
        case (.idle, _):
            break
        case (.deciding(var buffered), _):
            buffered.append(part)
            state = .deciding(buffered: buffered)
        case (.passing, .head):
            assertionFailure("a request head arrived before the previous request ended")
        case (.passing, .body(let body)):
            context.fireChannelRead(wrapInboundOut(.body(body)))
        case (.passing, .end(let trailers)):
            state = .idle
            context.fireChannelRead(wrapInboundOut(.end(trailers)))
        case (.discarding, _):
            if case .end = part { state = .idle }
        }
    }

    /// An error on the connection (HTTP/1.1: its bytes stopped parsing) while the gate decides means
    /// the request cannot be served: the decision, when it comes, is ignored.
    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if case .deciding = state {
            state = .discarding
        }
        context.fireErrorCaught(error)
    }

    func read(context: ChannelHandlerContext) {
        if case .deciding = state {
            readPending = true
        } else {
            context.read()
        }
    }

    private func decide(_ head: HTTPRequestHead, context: ChannelHandlerContext) {
        let request = GateRequest(
            method: head.method, target: head.uri, headers: head.headers, clientCertificates: clientCertificates
        )
        let gate = self.gate
        if let decision = gate.decideImmediately(request), case .forward = decision.verdict {
            // Allowed from the caches: passed on within this read, which ends with its own
            // channelReadComplete. A refusal waits, as a decision that is waited for does, until
            // the parts that came with the head are in: whether the request has ended decides
            // whether its connection stays open.
            apply(decision, to: head, context: context, withinRead: true)
            return
        }
        let promise = context.eventLoop.makePromise(of: GateDecision.self)
        Task(executorPreference: decisionExecutor) {
            promise.succeed(await gate.decide(request))
        }
        promise.futureResult.assumeIsolated().whenSuccess { decision in
            self.apply(decision, to: head, context: context, withinRead: false)
        }
    }

    /// Passes or refuses the held request. Outside a read (`withinRead` false), what was passed on
    /// ends with channelReadComplete, so the forwarder flushes it.
    private func apply(_ decision: GateDecision, to head: HTTPRequestHead, context: ChannelHandlerContext, withinRead: Bool) {
        guard case .deciding(let buffered) = state, context.channel.isActive else { return }
        let requestEnded = buffered.contains { if case .end = $0 { true } else { false } }
        context.triggerUserOutboundEvent(GateDecidedEvent(decision: decision), promise: nil)
        switch decision.verdict {
        case .forward(let target):
            state = .passing
            // A head that declares no body (Content-Length: 0) gets no 100 either, as from Go's server;
            // a decision made at once, within the read of the head, has not seen the end yet.
            let bodyFollows = !requestEnded && head.headers["content-length"] != ["0"]
            if bodyFollows && head.headers[canonicalForm: "expect"].contains(where: { $0.lowercased() == "100-continue" }) {
                // Only now, after authorization, is the client invited to send its body.
                context.writeAndFlush(wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: .continue))), promise: nil)
            }
            context.fireChannelRead(wrapInboundOut(.head(head, AuthorizedRequest(target: target, user: decision.user))))
            for part in buffered {
                channelRead(context: context, data: NIOAny(part))
            }
            if !withinRead {
                context.fireChannelReadComplete()
            }
        case .refuse(let error):
            state = requestEnded ? .idle : .discarding
            error.write(to: context, version: head.version, closeConnection: !requestEnded, isHTTP2: isHTTP2)
        }
        if readPending {
            readPending = false
            context.read()
        }
    }
}
