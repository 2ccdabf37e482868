import NIOCore
import NIOHTTP1
import RequestPolicy

/// Every answer the proxy gives on its own instead of the upstream's. This file is the one place
/// where they become HTTP statuses and bodies.
package enum ProxyError: Error, Sendable, Hashable {
    /// The request cannot be understood safely (bad path encoding, two `Authorization` headers, …).
    case badRequest(String)
    /// The request's header block is larger than the proxy reads (`HTTPRequestLimits`).
    case requestHeaderFieldsTooLarge
    /// No credentials, or credentials nobody recognised.
    case unauthorized
    /// Authenticated, but not allowed to do this.
    case forbidden(user: String, verb: String, path: String)
    /// Authenticated, but not allowed to do this to the resource the config file names.
    case forbiddenResource(user: String, verb: String, resource: String, subresource: String)
    /// The config file's rewrites found no value in the request (kube-rbac-proxy's 400).
    case rewriteValueMissing
    /// The path is outside what the proxy serves.
    case notFound
    /// A capture endpoint asked with a method whose form body could override the query.
    case methodNotAllowed(allowed: [String])
    /// A profile, trace or delta asked for longer than `--max-capture-seconds`.
    case captureTooLong(seconds: String, maximum: Int)
    /// A guardrail says not now: the capture queue is full or too long, or the caller has too many
    /// captures running; try again after `retryAfterSeconds`.
    case tooManyRequests(String, retryAfterSeconds: Int)
    /// The upstream could not be reached or closed before answering.
    case badGateway(String)
    /// The Kubernetes API could not answer, so nobody can be authenticated or authorized right now.
    case kubernetesAPIUnavailable

    /// Seconds a client should wait before retrying a 503.
    static let retryAfterSeconds = 5

    package var status: HTTPResponseStatus {
        switch self {
        case .badRequest: .badRequest
        case .requestHeaderFieldsTooLarge: .requestHeaderFieldsTooLarge
        case .unauthorized: .unauthorized
        case .forbidden, .forbiddenResource: .forbidden
        case .rewriteValueMissing: .badRequest
        case .notFound: .notFound
        case .methodNotAllowed: .methodNotAllowed
        case .captureTooLong: .badRequest
        case .tooManyRequests: .tooManyRequests
        case .badGateway: .badGateway
        case .kubernetesAPIUnavailable: .serviceUnavailable
        }
    }

    /// The one-line body, without the trailing newline. Never contains a token.
    package var message: String {
        switch self {
        case .badRequest(let reason): "Bad Request: \(reason)"
        case .requestHeaderFieldsTooLarge:
            "Request Header Fields Too Large: at most \(HTTPRequestLimits.maximumHeaderFields) header fields of \(HTTPRequestLimits.maximumHeaderBytes) bytes in all"
        case .unauthorized: "Unauthorized"
        case .forbidden(let user, let verb, let path): "Forbidden (user=\(user), verb=\(verb), path=\(path))"
        case .forbiddenResource(let user, let verb, let resource, let subresource):
            "Forbidden (user=\(user), verb=\(verb), resource=\(resource), subresource=\(subresource))"
        case .rewriteValueMissing: "Bad Request. The request or configuration is malformed."
        case .notFound: "404 page not found"
        case .methodNotAllowed(let allowed): "Method Not Allowed: use \(allowed.joined(separator: " or "))"
        case .captureTooLong(let seconds, let maximum):
            "Bad Request: seconds=\(seconds) is longer than this proxy allows (--max-capture-seconds=\(maximum))"
        case .tooManyRequests(let reason, let retryAfter): "Too Many Requests: \(reason); retry in \(retryAfter)s"
        case .badGateway(let reason): "Bad Gateway: \(reason)"
        case .kubernetesAPIUnavailable: "Service Unavailable: the Kubernetes API cannot be reached to check credentials; retry later"
        }
    }

    /// The response head and body: short text/plain that `go tool pprof` prints (`X-Go-Pprof: 1`).
    package func response(version: HTTPVersion, closeConnection: Bool) -> (head: HTTPResponseHead, body: String) {
        let body = message + "\n"
        var headers = HTTPHeaders()
        headers.add(name: "content-type", value: "text/plain; charset=utf-8")
        headers.add(name: "x-content-type-options", value: "nosniff")
        headers.add(name: "x-go-pprof", value: "1")
        headers.add(name: "content-length", value: String(body.utf8.count))
        switch self {
        case .kubernetesAPIUnavailable:
            headers.add(name: "retry-after", value: String(Self.retryAfterSeconds))
        case .tooManyRequests(_, let retryAfter):
            headers.add(name: "retry-after", value: String(retryAfter))
        case .methodNotAllowed(let allowed):
            headers.add(name: "allow", value: allowed.joined(separator: ", "))
        default:
            break
        }
        if closeConnection {
            headers.add(name: "connection", value: "close")
        }
        return (HTTPResponseHead(version: version, status: status, headers: headers), body)
    }
}

extension ProxyError {
    /// The 403 for a question the authorizers did not allow, naming what was asked.
    static func refusal(for question: AuthorizationAttributes) -> ProxyError {
        switch question.target {
        case .nonResource(let path):
            .forbidden(user: question.user.name, verb: question.verb, path: path)
        case .resource(let resource):
            .forbiddenResource(
                user: question.user.name, verb: question.verb, resource: resource.resource, subresource: resource.subresource
            )
        }
    }

    /// The 400 for a request no authorization question could be built for.
    static func refusal(for error: AuthorizationAttributesError) -> ProxyError {
        switch error {
        case .noRewriteValue:
            .rewriteValueMissing
        case .tooManyRewriteValues(let count, let limit):
            .badRequest("\(count) values for the authorization rewrite; at most \(limit) are accepted")
        }
    }

    /// Writes this error as a complete response on a server pipeline, then closes the connection
    /// (or the HTTP/2 stream) if asked, as when an unread request body makes it unusable.
    func write(to context: ChannelHandlerContext, version: HTTPVersion, closeConnection: Bool, isHTTP2: Bool) {
        let (head, body) = response(version: version, closeConnection: closeConnection && !isHTTP2)
        context.write(NIOAny(HTTPServerResponsePart.head(head)), promise: nil)
        let bodyBuffer = context.channel.allocator.buffer(string: body)
        context.write(NIOAny(HTTPServerResponsePart.body(.byteBuffer(bodyBuffer))), promise: nil)
        let written = context.writeAndFlush(NIOAny(HTTPServerResponsePart.end(nil)))
        if closeConnection {
            written.assumeIsolated().whenComplete { _ in context.close(promise: nil) }
        }
    }
}
