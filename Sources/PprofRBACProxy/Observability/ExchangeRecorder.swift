import Foundation
import NIOCore
import NIOHTTP1
import RequestPolicy

/// Follows each exchange through the pipeline (its head, the gate's decision, the capture
/// scheduler's placement, the response) and hands the finished record to the observers.
final class ExchangeRecorder: ChannelDuplexHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    /// Longer paths are cut in the record.
    static let maximumRecordedPathLength = 256

    private struct Exchange {
        var record: ExchangeRecord
        var started: ContinuousClock.Instant
    }

    private let observers: [any ExchangeObserver]
    private var exchanges: [Exchange] = []
    private var clientAddress = PeerAddressText()

    init(observers: [any ExchangeObserver]) {
        self.observers = observers
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case .head(let head) = unwrapInboundIn(data) {
            let rawPath = head.uri.prefix { $0 != "?" }.prefix(Self.maximumRecordedPathLength)
            var record = ExchangeRecord(
                start: Date(), clientAddress: clientAddress.text(of: context.channel),
                method: head.method.rawValue, path: String(rawPath)
            )
            if let questionMark = head.uri.firstIndex(of: "?") {
                let query = URLQuery(parsing: String(head.uri[head.uri.index(after: questionMark)...]))
                for name in ExchangeRecord.recordedParameters {
                    record.parameters[name] = query.values(for: name).first
                }
            }
            exchanges.append(Exchange(record: record, started: .now))
        }
        context.fireChannelRead(data)
    }

    func triggerUserOutboundEvent(context: ChannelHandlerContext, event: Any, promise: EventLoopPromise<Void>?) {
        switch event {
        case let decided as GateDecidedEvent:
            if !exchanges.isEmpty {
                exchanges[0].record.decision = decided.decision
                exchanges[0].record.user = decided.decision.user
            }
        case let responded as UpstreamRespondedEvent:
            if !exchanges.isEmpty {
                exchanges[0].record.upstreamLatency = responded.latency
            }
        case let scheduled as CaptureScheduledEvent:
            if !exchanges.isEmpty {
                exchanges[0].record.capture = scheduled.participation
            }
        default:
            context.triggerUserOutboundEvent(event, promise: promise)
            return
        }
        promise?.succeed()
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if !exchanges.isEmpty {
            switch unwrapOutboundIn(data) {
            case .head(let head) where head.status.code >= 200:
                exchanges[0].record.status = head.status.code
            case .head:
                break
            case .body(let body):
                exchanges[0].record.bytes += body.readableBytes
            case .end:
                finish(exchanges.removeFirst(), completed: true)
            }
        }
        context.write(data, promise: promise)
    }

    func channelInactive(context: ChannelHandlerContext) {
        for exchange in exchanges {
            finish(exchange, completed: false)
        }
        exchanges.removeAll()
        context.fireChannelInactive()
    }

    private func finish(_ exchange: Exchange, completed: Bool) {
        var record = exchange.record
        record.duration = ContinuousClock.now - exchange.started
        record.completed = completed
        for observer in observers {
            observer.exchangeEnded(record)
        }
    }
}
