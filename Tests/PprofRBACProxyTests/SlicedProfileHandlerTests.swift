import Logging
import NIOCore
import NIOEmbedded
import NIOHTTP1
import RequestPolicy
import Testing

@testable import PprofProfile
@testable import PprofRBACProxy

/// Sits behind the sliced profile handler and keeps whatever it passes on.
final class PassedOn: ChannelInboundHandler {
    typealias InboundIn = AuthorizedRequestPart

    private(set) var parts: [AuthorizedRequestPart] = []

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        parts.append(unwrapInboundIn(data))
    }
}

@Suite("SlicedProfileHandler: CPU profiles answered from the slicer with Go's headers; everything else goes on")
struct SlicedProfileHandlerTests {
    let loop = EmbeddedEventLoop()
    let source = ScriptedSliceSource()
    let scheduler = CaptureScheduler(
        configuration: .init(joinWindow: .seconds(2), queueTimeout: .seconds(60), queueSize: 2, maximumPerUser: 1), metrics: ProxyMetrics()
    )
    let slicer: CPUProfileSlicerHandle

    init() throws {
        let slicer = CPUProfileSlicer(
            configuration: .init(), source: source, eventLoop: loop, metrics: ProxyMetrics(), logger: Logger(label: "test")
        )
        self.slicer = CPUProfileSlicerHandle(slicer: NIOLoopBoundBox(slicer, eventLoop: loop))
    }

    /// One client connection: its end, the handler, and what the handler passed on.
    struct Client {
        let channel: EmbeddedChannel
        let end: ClientEnd
        let passedOn: PassedOn

        func received() throws -> [HTTPServerResponsePart] {
            var parts: [HTTPServerResponsePart] = []
            while let part = try channel.readOutbound(as: HTTPServerResponsePart.self) { parts.append(part) }
            return parts
        }
    }

    func client() throws -> Client {
        let end = ClientEnd()
        let passedOn = PassedOn()
        let channel = EmbeddedChannel(loop: loop)
        try channel.pipeline.syncOperations.addHandlers([
            end, SlicedProfileHandler(slicer: slicer, scheduler: scheduler, isHTTP2: false), passedOn,
        ])
        return Client(channel: channel, end: end, passedOn: passedOn)
    }

    func request(_ client: Client, _ target: String, method: HTTPMethod = .GET, headers: HTTPHeaders = [:]) throws {
        let head = HTTPRequestHead(version: .http1_1, method: method, uri: target, headers: headers)
        let authorized = AuthorizedRequest(target: try RequestTarget(parsing: target), user: UserInfo(name: "alice"))
        try client.channel.writeInbound(AuthorizedRequestPart.head(head, authorized))
        try client.channel.writeInbound(AuthorizedRequestPart.end(nil))
        loop.run()
    }

    func endSlice(_ n: Int64) {
        source.end(with: .success(CPUProfileSlicerTests.slice(n)))
        loop.run()
    }

    @Test("a CPU profile: 102s with the slices merged when asked, then a 200 with Go's headers and the merge; the audit hears which slices")
    func served() throws {
        let client = try client()
        try request(client, "/debug/pprof/profile?seconds=2", headers: [CaptureProgress.requestField: "1"])
        #expect(client.passedOn.parts.isEmpty, "nothing reaches the forwarder")
        #expect(client.end.participation == .sliced(1...2, largestGap: nil))
        endSlice(1)
        endSlice(2)
        let parts = try client.received()
        let heads = parts.compactMap(\.head)
        #expect(heads.map(\.status) == [.processing, .processing, .processing, .ok])
        #expect(heads.dropLast().map { $0.headers[CaptureProgress.responseField].first } == [
            "sliced; done=0; slices=2", "sliced; done=1; slices=2", "sliced; done=2; slices=2",
        ])
        let ok = try #require(heads.last)
        #expect(ok.headers["content-type"] == ["application/octet-stream"])
        #expect(ok.headers["content-disposition"] == [#"attachment; filename="profile""#])
        #expect(ok.headers["x-content-type-options"] == ["nosniff"])
        let body = parts.compactMap(\.bodyBytes).joined()
        #expect(ok.headers["content-length"] == [String(body.count)])
        #expect(try ProfileFile.decode(Array(body)).samples.reduce(0) { $0 + $1.values[0] } == 8)
        #expect(client.end.participation == .sliced(1...2, largestGap: .milliseconds(2)))
        #expect(scheduler.admitUser("alice") == nil, "alice's capture slot is free again")
    }

    @Test("HEAD: the same head, no body")
    func head() throws {
        let client = try client()
        try request(client, "/debug/pprof/profile?seconds=1", method: .HEAD)
        endSlice(1)
        let parts = try client.received()
        #expect(parts.compactMap(\.head).map(\.status) == [.ok])
        #expect(parts.compactMap(\.bodyBytes).isEmpty)
        #expect(Int(parts.first?.head?.headers["content-length"].first ?? "") ?? 0 > 0)
    }

    @Test("not a CPU profile: passed on untouched (traces, heap, the index)", arguments: ["/debug/pprof/trace?seconds=1", "/debug/pprof/heap", "/debug/pprof/"])
    func passes(target: String) throws {
        let client = try client()
        try request(client, target)
        #expect(client.passedOn.parts.count == 2)
        #expect(source.asked.isEmpty)
    }

    @Test("the per-user limit holds while a sliced profile runs; a client that leaves frees its slot and its window")
    func perUser() throws {
        let first = try client()
        try request(first, "/debug/pprof/profile?seconds=5")
        let second = try client()
        try request(second, "/debug/pprof/profile?seconds=1")
        #expect(try second.received().compactMap(\.head).map(\.status) == [.tooManyRequests])
        try first.channel.close().wait()
        loop.run()
        endSlice(1)
        #expect(source.waiting == 0, "no window needs another slice")
        #expect(scheduler.admitUser("alice") == nil)
    }
}
