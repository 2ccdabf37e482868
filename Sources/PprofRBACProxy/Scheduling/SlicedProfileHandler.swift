import NIOCore
import NIOHTTP1
import RequestPolicy

/// Answers CPU profile requests (`/debug/pprof/profile`, GET or HEAD) from the CPU profile slicer
/// instead of forwarding them (`--cpu-profile-slices`, on by default): every one is served at once,
/// with a profile merged from the slices of its own window. Every other request goes on. A CPU
/// profile counts against its user's capture limit until it is answered; a client that asks
/// (`Pprof-Capture-Progress: 1`) is told in `102 Processing` answers how many slices are in.
final class SlicedProfileHandler: ChannelInboundHandler, SlicedProfileSubscriber {
    typealias InboundIn = AuthorizedRequestPart
    typealias InboundOut = AuthorizedRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    /// A CPU profile request being served.
    private struct Request {
        var id: UInt64
        var head: HTTPRequestHead
        var user: String
        var reportsProgress: Bool
        var slices: ClosedRange<UInt64>?
    }

    private enum State {
        case idle
        /// Not a CPU profile: its parts go on.
        case passing
        /// Waiting for its window to pass.
        case serving(Request)
        /// Answered (or refused) before its `.end` arrived: the rest is dropped.
        case answered
    }

    private let slicer: CPUProfileSlicerHandle
    private let scheduler: CaptureScheduler
    private let isHTTP2: Bool
    private var context: ChannelHandlerContext?
    private var state = State.idle
    private var requestEnded = false

    init(slicer: CPUProfileSlicerHandle, scheduler: CaptureScheduler, isHTTP2: Bool) {
        self.slicer = slicer
        self.scheduler = scheduler
        self.isHTTP2 = isHTTP2
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let part = unwrapInboundIn(data)
        if case .end = part { requestEnded = true }
        switch state {
        case .idle:
            guard case .head(let head, let authorized) = part else { return }
            requestEnded = false
            guard case .cpuProfile(let seconds) = PprofCapture(path: authorized.target.path, rawQuery: authorized.target.rawQuery)
            else {
                state = .passing
                context.fireChannelRead(data)
                return
            }
            serve(head, user: authorized.user?.name ?? "-", seconds: seconds, context: context)
        case .passing:
            if case .end = part { state = .idle }
            context.fireChannelRead(data)
        case .serving:
            // CPU profile requests are GET or HEAD without a body (the guardrails saw to it).
            break
        case .answered:
            if case .end = part { state = .idle }
        }
    }

    private func serve(_ head: HTTPRequestHead, user: String, seconds: Int64, context: ChannelHandlerContext) {
        if let refusal = scheduler.admitUser(user) {
            answer(with: refusal, version: head.version, context: context)
            return
        }
        let request = Request(
            id: scheduler.newID(), head: head, user: user,
            reportsProgress: CaptureProgress.isRequested(by: head.headers[CaptureProgress.requestField])
        )
        state = .serving(request)
        let subscriber = SlicedProfileSubscriberHandle(
            id: request.id, subscriber: NIOLoopBound(self as any SlicedProfileSubscriber, eventLoop: context.eventLoop)
        )
        // `--max-capture-seconds` bounds it well below Int.max.
        slicer.subscribe(subscriber, seconds: Int(clamping: seconds))
    }

    func slicesAssigned(_ slices: ClosedRange<UInt64>) {
        guard case .serving(var request) = state, let context else { return }
        request.slices = slices
        state = .serving(request)
        context.triggerUserOutboundEvent(CaptureScheduledEvent(participation: .sliced(slices, largestGap: nil)), promise: nil)
        report(.sliced(done: 0, of: slices.count), of: request, context: context)
    }

    func slicesMerged(_ done: Int, of: Int) {
        guard case .serving(let request) = state, let context else { return }
        report(.sliced(done: done, of: of), of: request, context: context)
    }

    func slicedProfileReady(_ result: Result<SlicedProfile, ProxyError>) {
        guard case .serving(let request) = state, let context else { return }
        scheduler.userFinished(request.user)
        switch result {
        case .success(let profile):
            context.triggerUserOutboundEvent(
                CaptureScheduledEvent(participation: .sliced(profile.slices, largestGap: profile.largestGap)), promise: nil
            )
            state = requestEnded ? .idle : .answered
            write(profile, version: request.head.version, method: request.head.method, context: context)
        case .failure(let error):
            answer(with: error, version: request.head.version, context: context)
        }
    }

    /// A profile response with the headers Go's `pprof.Profile` sets.
    private func write(_ profile: SlicedProfile, version: HTTPVersion, method: HTTPMethod, context: ChannelHandlerContext) {
        var headers = HTTPHeaders()
        headers.add(name: "x-content-type-options", value: "nosniff")
        headers.add(name: "content-type", value: "application/octet-stream")
        headers.add(name: "content-disposition", value: #"attachment; filename="profile""#)
        headers.add(name: "content-length", value: String(profile.bytes.count))
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: version, status: .ok, headers: headers))), promise: nil)
        if method != .HEAD {
            let body = context.channel.allocator.buffer(bytes: profile.bytes)
            context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil)
        }
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
    }

    private func answer(with error: ProxyError, version: HTTPVersion, context: ChannelHandlerContext) {
        state = requestEnded ? .idle : .answered
        error.write(to: context, version: version, closeConnection: false, isHTTP2: isHTTP2)
    }

    /// Tells a client that asked where its request stands, in a `102 Processing` answer.
    private func report(_ progress: CaptureProgress, of request: Request, context: ChannelHandlerContext) {
        guard request.reportsProgress else { return }
        context.writeAndFlush(wrapOutboundOut(.head(progress.interimHead(version: request.head.version))), promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        if case .serving(let request) = state {
            slicer.unsubscribe(request.id)
            scheduler.userFinished(request.user)
        }
        state = .idle
        context.fireChannelInactive()
    }
}
