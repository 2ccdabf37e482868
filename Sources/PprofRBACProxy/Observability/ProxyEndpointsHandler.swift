import NIOCore
import NIOHTTP1

/// Answers the `--proxy-endpoints-port`: `/healthz` is always "ok" (the process serves), `/readyz`
/// is "ok" only while every readiness check passes; everything else is 404. Nothing is proxied here.
final class ProxyEndpointsHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let checks: [any ReadinessCheck]
    private var path: Substring?
    private var version = HTTPVersion.http1_1

    init(checks: [any ReadinessCheck]) {
        self.checks = checks
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            path = head.uri.prefix { $0 != "?" }
            version = head.version
        case .body:
            break
        case .end:
            switch path {
            case "/healthz":
                respond(.ok, "ok", context: context)
            case "/readyz":
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
                        self.respond(.ok, "ok", context: context)
                    } else {
                        self.respond(.serviceUnavailable, "not ready: " + problems.sorted().joined(separator: "; "), context: context)
                    }
                }
            default:
                respond(.notFound, "404 page not found", context: context)
            }
            path = nil
        }
    }

    private func respond(_ status: HTTPResponseStatus, _ text: String, context: ChannelHandlerContext) {
        let body = text + "\n"
        var headers = HTTPHeaders()
        headers.add(name: "content-type", value: "text/plain; charset=utf-8")
        headers.add(name: "x-content-type-options", value: "nosniff")
        headers.add(name: "content-length", value: String(body.utf8.count))
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: version, status: status, headers: headers))), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(string: body)))), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
    }
}
