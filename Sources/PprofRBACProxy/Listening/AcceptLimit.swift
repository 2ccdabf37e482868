import Logging
import NIOCore

/// `--max-connections` on one listener: once that many accepted connections are open, stops
/// accepting until one closes. Clients that come meanwhile wait in the kernel's listen backlog, as
/// behind Go's `netutil.LimitListener`, instead of being turned away. Sits on the server channel,
/// where each inbound message is an accepted connection and `read()` asks for more.
final class AcceptLimit: ChannelDuplexHandler {
    typealias InboundIn = any Channel
    typealias InboundOut = any Channel
    typealias OutboundIn = Never
    typealias OutboundOut = Never

    private let maximum: Int
    private let logger: Logger
    private var open = 0
    /// A `read()` held back because the limit was reached.
    private var readPending = false

    init(maximum: Int, logger: Logger) {
        self.maximum = maximum
        self.logger = logger
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let connection = unwrapInboundIn(data)
        open += 1
        if open == maximum {
            logger.warning(
                "--max-connections reached: new connections wait in the listen backlog until one closes",
                metadata: ["max-connections": "\(maximum)"])
        }
        let loopBound = NIOLoopBound((handler: self, context: context), eventLoop: context.eventLoop)
        connection.closeFuture.hop(to: context.eventLoop).whenComplete { _ in
            loopBound.value.handler.connectionClosed(context: loopBound.value.context)
        }
        context.fireChannelRead(data)
    }

    func read(context: ChannelHandlerContext) {
        if open >= maximum {
            readPending = true
        } else {
            context.read()
        }
    }

    private func connectionClosed(context: ChannelHandlerContext) {
        open -= 1
        if readPending && open < maximum && context.channel.isActive {
            readPending = false
            context.read()
        }
    }
}
