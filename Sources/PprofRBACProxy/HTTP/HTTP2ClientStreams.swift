import DequeModule
import NIOCore
import NIOHTTP2

/// What NIOHTTP2 did with one connection's client streams, as its stream delegate reports it: the
/// highest stream it opened (the last stream a GOAWAY names as processed), the streams open now,
/// and the ids below that it never opened (skipped by the client, or refused). Used on the
/// connection's event loop only.
final class HTTP2ClientStreams {
    /// How many runs of never-opened ids are remembered; older ones count as opened.
    static let rememberedGaps = 64

    private(set) var highestOpened: UInt32 = 0
    private(set) var open: Set<UInt32> = []
    /// Runs of client stream ids below `highestOpened` that were never opened, oldest first.
    private var neverOpened: Deque<ClosedRange<UInt32>> = []

    /// Whether NIOHTTP2 opened client stream `id` at some point (it may be closed since).
    func wasOpened(_ id: UInt32) -> Bool {
        id <= highestOpened && !neverOpened.contains { $0.contains(id) }
    }

    func opened(_ id: UInt32) {
        open.insert(id)
        guard id > highestOpened else { return }
        let firstSkipped = highestOpened == 0 ? 1 : highestOpened + 2
        if id > firstSkipped {
            if neverOpened.count == Self.rememberedGaps { neverOpened.removeFirst() }
            neverOpened.append(firstSkipped...(id - 2))
        }
        highestOpened = id
    }

    func closed(_ id: UInt32) {
        open.remove(id)
    }
}

/// NIOHTTP2's stream delegate for one connection: records each stream in `HTTP2ClientStreams`, then
/// tells the next delegate (the connection manager's, which times idle connections).
struct HTTP2StreamRecorder: NIOHTTP2StreamDelegate {
    let streams: NIOLoopBound<HTTP2ClientStreams>
    let next: any NIOHTTP2StreamDelegate

    func streamCreated(_ id: HTTP2StreamID, channel: any Channel) {
        streams.value.opened(UInt32(Int32(id)))
        next.streamCreated(id, channel: channel)
    }

    func streamClosed(_ id: HTTP2StreamID, channel: any Channel) {
        streams.value.closed(UInt32(Int32(id)))
        next.streamClosed(id, channel: channel)
    }
}
