import Logging
import NIOCore
import NIOHTTP1

/// Writes one log line per exchange: method, path, user, status, bytes and duration. Never the
/// query or any header, so no credential can reach the log.
final class AccessLogHandler: ChannelDuplexHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    /// Longer paths are cut in the log line.
    static let maximumLoggedPathLength = 256

    private struct Exchange {
        var method: HTTPMethod
        var path: Substring
        var start: ContinuousClock.Instant
        var user: String?
        var status: UInt?
        var bytes = 0
    }

    private let logger: Logger
    private var exchanges: [Exchange] = []

    init(logger: Logger) {
        self.logger = logger
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case .head(let head) = unwrapInboundIn(data) {
            let path = head.uri.prefix { $0 != "?" }.prefix(Self.maximumLoggedPathLength)
            exchanges.append(Exchange(method: head.method, path: path, start: .now))
        }
        context.fireChannelRead(data)
    }

    func triggerUserOutboundEvent(context: ChannelHandlerContext, event: Any, promise: EventLoopPromise<Void>?) {
        guard let identified = event as? CallerIdentifiedEvent else {
            context.triggerUserOutboundEvent(event, promise: promise)
            return
        }
        if !exchanges.isEmpty {
            exchanges[0].user = identified.user.name
        }
        promise?.succeed()
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if !exchanges.isEmpty {
            switch unwrapOutboundIn(data) {
            case .head(let head) where head.status.code >= 200:
                exchanges[0].status = head.status.code
            case .head:
                break
            case .body(let body):
                exchanges[0].bytes += body.readableBytes
            case .end:
                log(exchanges.removeFirst(), outcome: nil)
            }
        }
        context.write(data, promise: promise)
    }

    func channelInactive(context: ChannelHandlerContext) {
        for exchange in exchanges {
            log(exchange, outcome: "aborted")
        }
        exchanges.removeAll()
        context.fireChannelInactive()
    }

    private func log(_ exchange: Exchange, outcome: String?) {
        let duration = ContinuousClock.now - exchange.start
        var line = "request method=\(LogValue.quoted(exchange.method.rawValue))"
        line += " path=\(LogValue.quoted(String(exchange.path)))"
        line += " user=\(LogValue.quoted(exchange.user ?? "-"))"
        line += " status=\(exchange.status.map(String.init) ?? "-")"
        line += " bytes=\(exchange.bytes) duration=\(duration.formattedSeconds)"
        if let outcome {
            line += " outcome=\(outcome)"
        }
        logger.info("\(line)")
    }
}

extension Duration {
    /// Seconds with millisecond precision, as `0.012s`.
    var formattedSeconds: String {
        let milliseconds = components.seconds * 1000 + components.attoseconds / 1_000_000_000_000_000
        let whole = milliseconds / 1000
        let padded = String(milliseconds % 1000 + 1000).dropFirst()
        return "\(whole).\(padded)s"
    }
}
