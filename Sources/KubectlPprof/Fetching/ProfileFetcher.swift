import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import RequestPolicy

/// One GET through the proxy over HTTP/1.1 and TLS, asking to be told how the capture stands
/// (`Pprof-Capture-Progress: 1`): a 200's body streams to a file as it arrives, any other
/// answer's start is kept for the message.
package enum ProfileFetcher {
    /// Something the progress line shows.
    package enum Event: Sendable {
        /// The proxy's `102 Processing`: queued, started or joined.
        case capture(CaptureProgress)
        /// The final answer's head arrived.
        case answered(status: Int)
        /// Bytes of the body so far.
        case received(bytes: Int)
    }

    /// The final answer.
    package struct Answer: Sendable {
        package var status: Int
        package var headers: HTTPHeaders
        /// The body's length (written to the file for a 200).
        package var bytes: Int
        /// The start of a non-200 body, as text.
        package var text: String
    }

    /// The most of a refusal's body kept.
    static let refusalTextLimit = 16 * 1024

    /// GETs `target` from `endpoint` as `identity`, writing a 200's body to `file` (created or
    /// truncated; nothing is written for another status).
    package static func fetch(
        _ target: String, from endpoint: ProxyEndpoint, as identity: CallerIdentity, into file: String,
        events: @escaping @Sendable (Event) -> Void
    ) async throws(PluginFailure) -> Answer {
        let tls = try endpoint.tlsConfiguration(presenting: identity)
        let context: NIOSSLContext
        do {
            context = try NIOSSLContext(configuration: tls)
        } catch {
            throw .connection("cannot set up TLS: \(error)")
        }
        do {
            return try await exchange(target, endpoint: endpoint, context: context, identity: identity, file: file, events: events)
        } catch let failure as PluginFailure {
            throw failure
        } catch {
            throw await ConnectionDiagnosis.failure(error, endpoint: endpoint)
        }
    }

    private static func exchange(
        _ target: String, endpoint: ProxyEndpoint, context: NIOSSLContext, identity: CallerIdentity, file: String,
        events: @escaping @Sendable (Event) -> Void
    ) async throws -> Answer {
        let serverHostname = endpoint.serverNameIsAddress ? nil : endpoint.serverName
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connectTimeout(.seconds(10))
            .connect(host: endpoint.host, port: endpoint.port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    let pipeline = channel.pipeline.syncOperations
                    try pipeline.addHandler(NIOSSLClientHandler(context: context, serverHostname: serverHostname))
                    try pipeline.addHandler(HandshakeSignal(promise: channel.eventLoop.makePromise()))
                    try pipeline.addHandlers([
                        HTTPRequestEncoder(),
                        ByteToMessageHandler(HTTPResponseDecoder(leftOverBytesStrategy: .dropBytes, informationalResponseStrategy: .forward)),
                        NIOHTTPRequestHeadersValidator(),
                    ])
                    return try NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart>(wrappingChannelSynchronously: channel)
                }
            }
        var headers = HTTPHeaders()
        headers.add(name: "Host", value: endpoint.serverNameIsAddress ? "\(endpoint.host):\(endpoint.port)" : "\(endpoint.serverName):\(endpoint.port)")
        headers.add(name: "User-Agent", value: "kubectl-pprof")
        headers.add(name: "Accept-Encoding", value: "identity")
        headers.add(name: CaptureProgress.requestField, value: "1")
        if let token = identity.bearerToken {
            headers.add(name: "Authorization", value: "Bearer \(token)")
        }
        let head = HTTPRequestHead(version: .http1_1, method: .GET, uri: target, headers: headers)
        return try await channel.executeThenClose { inbound, outbound in
            if !endpoint.insecureSkipTLSVerify {
                let certificate = try await HandshakeSignal.peerCertificate(of: channel.channel)
                if let certificate, let mismatch = ConnectionDiagnosis.nameMismatch(certificate, endpoint: endpoint) {
                    throw mismatch
                }
            }
            try await outbound.write(.head(head))
            try await outbound.write(.end(nil))
            var answer: Answer?
            var output: FileHandle?
            defer { try? output?.close() }
            for try await part in inbound {
                switch part {
                case .head(let response) where response.status.code < 200:
                    if let value = response.headers[CaptureProgress.responseField].first, let progress = CaptureProgress(fieldValue: value) {
                        events(.capture(progress))
                    }
                case .head(let response):
                    answer = Answer(status: Int(response.status.code), headers: response.headers, bytes: 0, text: "")
                    events(.answered(status: Int(response.status.code)))
                    if response.status == .ok {
                        output = try Self.create(file)
                    }
                case .body(let buffer):
                    guard var current = answer else { continue }
                    current.bytes += buffer.readableBytes
                    if let output {
                        try output.write(contentsOf: Data(buffer.readableBytesView))
                    } else if current.text.utf8.count < refusalTextLimit {
                        current.text += String(decoding: buffer.readableBytesView, as: UTF8.self)
                    }
                    answer = current
                    events(.received(bytes: current.bytes))
                case .end:
                    guard let answer else { throw PluginFailure.connection("the proxy ended its answer before it began") }
                    return answer
                }
            }
            throw PluginFailure.connection(
                answer == nil ? "the proxy closed the connection without answering" : "the proxy closed the connection before the profile was complete")
        }
    }

    /// Opens `path` for writing, created or truncated, readable only by its owner (a profile holds memory contents).
    private static func create(_ path: String) throws -> FileHandle {
        guard FileManager.default.createFile(atPath: path, contents: nil, attributes: [.posixPermissions: 0o600]),
            let handle = FileHandle(forWritingAtPath: path)
        else {
            throw PluginFailure.output("cannot write \(path)")
        }
        return handle
    }
}
