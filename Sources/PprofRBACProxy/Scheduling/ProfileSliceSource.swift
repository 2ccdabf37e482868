import NIOCore
import NIOHTTP1
import PprofProfile
import RequestPolicy

/// Where the CPU profile slicer gets its slices: one CPU profile of `seconds` at a time, its body
/// whole (a seam, so the slicer can be tested without an upstream).
protocol ProfileSliceSource {
    /// Captures one slice; `completion` is called once, on the slicer's event loop.
    func fetchSlice(seconds: Int, _ completion: @escaping (Result<[UInt8], ProfileSliceFailure>) -> Void)
}

/// Why a slice brought no profile. The text is what the 502 of every request it belonged to says.
enum ProfileSliceFailure: Error, Hashable, CustomStringConvertible {
    case upstream(UpstreamError)
    /// Go answered something other than 200, as `500` with `Could not enable CPU profiling: …`.
    case status(UInt, text: String)
    case tooLarge(limit: Int)
    case timedOut(Duration)
    /// The body is not a profile that merges with the others.
    case unreadable(ProfileError)

    var description: String {
        switch self {
        case .upstream(let error): "a CPU profile slice failed: \(error)"
        case .status(let code, let text):
            "the upstream answered a CPU profile slice with \(code)\(text.isEmpty ? "" : ": \(text)")"
        case .tooLarge(let limit): "a CPU profile slice from the upstream is larger than \(limit) bytes"
        case .timedOut(let timeout): "the upstream did not answer a CPU profile slice within \(timeout)"
        case .unreadable(let error): "a CPU profile slice from the upstream is \(error)"
        }
    }
}

/// Takes slices from the upstream with `GET /debug/pprof/profile?seconds=N` over the upstream
/// connection pool, on the slicer's event loop. A slice is asked for without the identity headers
/// of any one caller: it belongs to every request it serves.
struct UpstreamSliceSource: ProfileSliceSource {
    /// A slice's answer may take this long beyond its seconds before it counts as failed.
    static let answerAllowance: Duration = .seconds(10)
    /// At most this much of a refusal's text is quoted.
    static let quotedTextLimit = 200

    let upstream: any UpstreamConnector
    let target: UpstreamTarget
    let eventLoop: any EventLoop

    func fetchSlice(seconds: Int, _ completion: @escaping (Result<[UInt8], ProfileSliceFailure>) -> Void) {
        let path = "/debug/pprof/profile?seconds=\(seconds)"
        guard let requestTarget = try? RequestTarget(parsing: path) else {
            completion(.failure(.status(0, text: "cannot form \(path)")))
            return
        }
        var headers = HTTPHeaders()
        headers.add(name: "host", value: target.hostHeader)
        headers.add(name: "user-agent", value: "pprof-rbac-proxy")
        let head = HTTPRequestHead(
            version: .http1_1, method: .GET, uri: target.requestTarget(for: requestTarget), headers: headers
        )
        let fetch = SliceFetch(head: head, upstream: upstream, eventLoop: eventLoop, completion: completion)
        fetch.start(timeout: .seconds(Int64(seconds)) + Self.answerAllowance)
    }
}

/// One slice request on its way: sent on a pooled connection (again on a fresh one if the pooled
/// one had gone stale), its body collected up to the profile size limit.
private final class SliceFetch: UpstreamResponseDelegate {
    private let head: HTTPRequestHead
    private let upstream: any UpstreamConnector
    private let eventLoop: any EventLoop
    private var completion: ((Result<[UInt8], ProfileSliceFailure>) -> Void)?
    private var connection: (any UpstreamExchange)?
    private var status: HTTPResponseStatus?
    private var keepAlive = true
    private var body: ByteBuffer?
    private var timeout: Scheduled<Void>?
    private var retried = false

    init(
        head: HTTPRequestHead, upstream: any UpstreamConnector, eventLoop: any EventLoop,
        completion: @escaping (Result<[UInt8], ProfileSliceFailure>) -> Void
    ) {
        self.head = head
        self.upstream = upstream
        self.eventLoop = eventLoop
        self.completion = completion
    }

    /// Sends the request. The timeout task holds this fetch until it ends (the connection holds
    /// its delegate weakly).
    func start(timeout: Duration) {
        self.timeout = eventLoop.assumeIsolated().scheduleTask(in: TimeAmount(timeout)) { [self] in
            finish(.failure(.timedOut(timeout)))
        }
        lease(fresh: false)
    }

    private func lease(fresh: Bool) {
        upstream.lease(on: eventLoop, fresh: fresh) { [self] result in
            switch result {
            case .success(let leased):
                guard completion != nil else {
                    leased.finish(reusable: true)
                    return
                }
                connection = leased
                leased.begin(delegate: self)
                leased.write(.head(head))
                leased.write(.end(nil))
                leased.flush()
            case .failure(let error):
                finish(.failure(.upstream(error)))
            }
        }
    }

    private func finish(_ result: Result<[UInt8], ProfileSliceFailure>) {
        guard let completion else { return }
        self.completion = nil
        timeout?.cancel()
        let succeeded = if case .success = result { true } else { false }
        connection?.finish(reusable: succeeded && keepAlive)
        connection = nil
        completion(result)
    }

    var acceptsResponseData: Bool { true }

    func upstreamDidReceive(_ part: HTTPClientResponsePart) {
        switch part {
        case .head(let responseHead):
            status = responseHead.status
            keepAlive = responseHead.isKeepAlive
            body = ByteBuffer()
        case .body(var bytes):
            let limit = status == .ok ? ProfileFile.defaultSizeLimit : UpstreamSliceSource.quotedTextLimit
            let room = limit - (body?.readableBytes ?? 0)
            if bytes.readableBytes > room {
                guard status == .ok else {
                    // Enough of a refusal to quote; the rest is not needed.
                    body?.writeImmutableBuffer(bytes.readSlice(length: max(0, room)) ?? ByteBuffer())
                    keepAlive = false
                    return
                }
                finish(.failure(.tooLarge(limit: limit)))
                return
            }
            body?.writeBuffer(&bytes)
        case .end:
            let bytes = body.map { Array($0.readableBytesView) } ?? []
            guard let status, status == .ok else {
                finish(.failure(.status(status?.code ?? 0, text: Self.quotable(bytes))))
                return
            }
            finish(.success(bytes))
        }
    }

    func upstreamReadComplete() {}

    func upstreamWritabilityChanged() {}

    func upstreamFailed(_ error: UpstreamError) {
        if case .closedBeforeResponse(reused: true) = error, !retried, completion != nil {
            // A pooled connection went stale before the upstream saw the request: send it again.
            retried = true
            connection = nil
            lease(fresh: true)
            return
        }
        connection = nil
        finish(.failure(.upstream(error)))
    }

    /// The first line of a refusal's text, printable ASCII only.
    private static func quotable(_ bytes: [UInt8]) -> String {
        let line = bytes.prefix { $0 != UInt8(ascii: "\n") && $0 != UInt8(ascii: "\r") }
        return String(decoding: line.map { (0x20...0x7E).contains($0) ? $0 : UInt8(ascii: "?") }, as: UTF8.self)
    }
}
