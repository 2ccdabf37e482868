import NIOCore
import NIOHTTP1

/// Answers the proxy's own endpoints behind a `GateHandler` (whose path policy decides which of
/// them a listener serves and which need credentials): `/healthz` is always "ok" (the process
/// serves), `/readyz` is "ok" while the proxy listener accepts requests, `/dependencies` is "ok"
/// only while the upstream and the Kubernetes API can be reached (a diagnosis, not a probe),
/// `/metrics` is the Prometheus text. Nothing is proxied here.
final class ProxyEndpointsHandler: ChannelInboundHandler {
    typealias InboundIn = AuthorizedRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let readiness: ProxyReadiness?
    private let checks: [any DependencyCheck]
    private let metrics: ProxyMetrics?
    private var request: (path: String, head: HTTPRequestHead)?

    init(readiness: ProxyReadiness? = nil, checks: [any DependencyCheck] = [], metrics: ProxyMetrics? = nil) {
        self.readiness = readiness
        self.checks = checks
        self.metrics = metrics
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head, let authorized):
            request = (authorized.target.path, head)
        case .body:
            break
        case .end:
            guard let (path, head) = request else { return }
            request = nil
            switch path {
            case "/healthz":
                respond(.ok, text: "ok", to: head, context: context)
            case "/readyz":
                if readiness?.isServing == true {
                    respond(.ok, text: "ok", to: head, context: context)
                } else {
                    respond(.serviceUnavailable, text: "not ready: the proxy listener is not accepting requests", to: head, context: context)
                }
            case "/dependencies":
                let checks = self.checks
                let promise = context.eventLoop.makePromise(of: [String].self)
                promise.completeWithTask {
                    await withTaskGroup(of: String?.self) { group in
                        for check in checks {
                            group.addTask { await check.problem() }
                        }
                        return await group.reduce(into: []) { problems, problem in
                            if let problem { problems.append(problem) }
                        }
                    }
                }
                promise.futureResult.assumeIsolated().whenSuccess { problems in
                    if problems.isEmpty {
                        self.respond(.ok, text: "ok", to: head, context: context)
                    } else {
                        let text = "unreachable: " + problems.sorted().joined(separator: "; ")
                        self.respond(.serviceUnavailable, text: text, to: head, context: context)
                    }
                }
            case "/metrics":
                if let metrics {
                    respond(
                        .ok, body: context.channel.allocator.buffer(bytes: metrics.exposition()),
                        contentType: "text/plain; version=0.0.4; charset=utf-8", to: head, context: context
                    )
                } else {
                    respond(.notFound, text: "404 page not found", to: head, context: context)
                }
            default:
                respond(.notFound, text: "404 page not found", to: head, context: context)
            }
        }
    }

    private func respond(_ status: HTTPResponseStatus, text: String, to request: HTTPRequestHead, context: ChannelHandlerContext) {
        respond(
            status, body: context.channel.allocator.buffer(string: text + "\n"), contentType: "text/plain; charset=utf-8",
            to: request, context: context
        )
    }

    private func respond(
        _ status: HTTPResponseStatus, body: ByteBuffer, contentType: String, to request: HTTPRequestHead,
        context: ChannelHandlerContext
    ) {
        var headers = HTTPHeaders()
        headers.add(name: "content-type", value: contentType)
        headers.add(name: "x-content-type-options", value: "nosniff")
        headers.add(name: "content-length", value: String(body.readableBytes))
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: request.version, status: status, headers: headers))), promise: nil)
        if request.method != .HEAD {
            context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil)
        }
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
    }
}
