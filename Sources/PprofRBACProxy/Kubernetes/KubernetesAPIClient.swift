import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import NIOSSL

/// Creates TokenReviews and SubjectAccessReviews on the Kubernetes API server over async-http-client.
package final class KubernetesAPIClient: KubernetesReviewClient {
    /// The default of `--kube-api-timeout`.
    package static let defaultTimeout: Duration = .seconds(10)
    /// The largest response body read; bigger answers are refused.
    static let responseSizeLimit = 1024 * 1024
    /// The longest `Status` message passed on in an error.
    private static let messageLengthLimit = 1024
    /// Shorter strings are not redacted from messages: they carry no secret and would mangle the text.
    private static let redactionMinimumLength = 8

    private let httpClient: HTTPClient
    private let baseURL: String
    private let tokenSource: BearerTokenSource?
    private let timeout: Duration
    /// The `User-Agent` of every call.
    private let userAgent: String

    /// A client for `connection`, running on `eventLoopGroup` (not shut down by this client; call `shutdown()`).
    /// `timeout` bounds each whole call: connecting, sending and reading the answer. Every failed call throws
    /// `KubernetesAPIError`, except that a cancelled caller gets `CancellationError`. Tokens never appear in
    /// an error, and nothing is logged but a failed re-read of a token file (without the token).
    package convenience init(
        connection: KubernetesConnection,
        eventLoopGroup: any EventLoopGroup,
        timeout: Duration = defaultTimeout,
        logger: Logger,
        userAgent: String = "pprof-rbac-proxy"
    ) throws(KubernetesConnectionError) {
        try self.init(
            connection: connection, eventLoopGroup: eventLoopGroup, timeout: timeout, logger: logger,
            tokenRefreshInterval: BearerTokenSource.defaultRefreshInterval, userAgent: userAgent
        )
    }

    init(
        connection: KubernetesConnection,
        eventLoopGroup: any EventLoopGroup,
        timeout: Duration,
        logger: Logger,
        tokenRefreshInterval: Duration,
        userAgent: String = "pprof-rbac-proxy"
    ) throws(KubernetesConnectionError) {
        do throws(ServerURLValidator.Problem) {
            _ = try ServerURLValidator.validate(connection.server.absoluteString)
        } catch {
            throw .invalidServer(server: error.displayedServer, reason: error.reason)
        }
        var configuration = HTTPClient.Configuration(
            tlsConfiguration: try Self.tlsConfiguration(for: connection),
            redirectConfiguration: .disallow,
            timeout: .init(connect: TimeAmount(timeout))
        )
        // Fail fast when the API server refuses connections: the gate answers 503 at once
        // instead of holding every request until the timeout.
        configuration.connectionPool.retryConnectionEstablishment = false

        self.tokenSource = try Self.tokenSource(
            for: connection.bearerToken, refreshInterval: tokenRefreshInterval, logger: logger
        )
        self.httpClient = HTTPClient(eventLoopGroupProvider: .shared(eventLoopGroup), configuration: configuration)
        var base = connection.server.absoluteString
        while base.hasSuffix("/") { base.removeLast() }
        self.baseURL = base
        self.timeout = timeout
        self.userAgent = userAgent
    }

    package func createTokenReview(_ spec: TokenReviewSpec) async throws -> TokenReviewStatus {
        try await create(TokenReview(spec: spec), kind: TokenReview.kind, path: TokenReview.path, secret: spec.token)
    }

    package func createSubjectAccessReview(_ spec: SubjectAccessReviewSpec) async throws -> SubjectAccessReviewStatus {
        try await create(
            SubjectAccessReview(spec: spec), kind: SubjectAccessReview.kind, path: SubjectAccessReview.path
        )
    }

    /// Closes the connections; the event loop group stays up.
    package func shutdown() async throws {
        try await httpClient.shutdown()
    }

    // MARK: - One call

    /// The body of a created review: only `status` matters, everything else is ignored.
    private struct CreatedReview<Status: Decodable>: Decodable {
        var status: Status?
    }

    /// What came back: the status code and the body, or nil when the body exceeded the size limit.
    private struct Answer: Sendable {
        var statusCode: Int
        var body: ByteBuffer?
    }

    /// Why the API server cannot be reached, or nil when it answers at all (`GET /readyz`, any
    /// status below 500): the proxy's own readiness.
    package func reachabilityProblem() async -> String? {
        let (request, _) = request(.GET, "/readyz")
        do {
            let answer = try await withTimeout { [request] in try await self.send(request) }
            return answer.statusCode < 500 ? nil : "Kubernetes API answered \(answer.statusCode)"
        } catch {
            return "\(error)"
        }
    }

    /// The answer of one call that is not a review (`kubectl pprof`'s lookups and TokenRequest):
    /// its status and body, nil when larger than the size limit.
    package struct CallAnswer: Sendable {
        package var statusCode: Int
        package var body: ByteBuffer?
        /// The `Status` object's message, or the reason phrase, without the caller's token.
        package var message: String
    }

    /// `method` on `path` (with a JSON `body`), with the connection's credentials and timeout.
    package func call(_ method: HTTPMethod, _ path: String, json body: Data? = nil) async throws -> CallAnswer {
        let (request, bearerToken) = request(method, path, json: body)
        let answer = try await withTimeout { [request] in try await self.send(request) }
        let message = Self.statusMessage(answer, redacting: [bearerToken].compactMap { $0 })
        return CallAnswer(statusCode: answer.statusCode, body: answer.body, message: message)
    }

    private func create<Review: Encodable, Status: Decodable>(
        _ review: Review, kind: String, path: String, secret: String? = nil
    ) async throws -> Status {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .withoutEscapingSlashes
        let body: Data
        do {
            body = try encoder.encode(review)
        } catch {
            throw KubernetesAPIError.invalidResponse("cannot encode the \(kind) request")
        }

        let (request, bearerToken) = request(.POST, path, json: body)
        let answer = try await withTimeout { [request] in try await self.send(request) }
        switch answer.statusCode {
        case 200, 201:
            guard let body = answer.body else {
                throw KubernetesAPIError.invalidResponse("the \(kind) answer is larger than 1 MiB")
            }
            let decoded = try? JSONDecoder().decode(CreatedReview<Status>.self, from: Data(body.readableBytesView))
            guard let created = decoded else {
                throw KubernetesAPIError.invalidResponse("the \(kind) answer is not a \(kind)")
            }
            guard let status = created.status else {
                throw KubernetesAPIError.invalidResponse("the \(kind) answer has no status")
            }
            return status
        default:
            let message = Self.statusMessage(answer, redacting: [secret, bearerToken].compactMap { $0 })
            throw KubernetesAPIError.unexpectedStatus(code: answer.statusCode, message: message)
        }
    }

    /// A request to `path` with the client's `User-Agent`, the current bearer token (also returned,
    /// to redact it from messages) and, with `body`, JSON.
    private func request(_ method: HTTPMethod, _ path: String, json body: Data? = nil) -> (HTTPClientRequest, bearerToken: String?) {
        var request = HTTPClientRequest(url: baseURL + path)
        request.method = method
        request.headers.add(name: "Accept", value: "application/json")
        request.headers.add(name: "User-Agent", value: userAgent)
        let bearerToken = tokenSource?.currentToken()
        if let bearerToken {
            request.headers.add(name: "Authorization", value: "Bearer \(bearerToken)")
        }
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: body))
        }
        return (request, bearerToken)
    }

    private func send(_ request: HTTPClientRequest) async throws -> Answer {
        let response: HTTPClientResponse
        do {
            response = try await httpClient.execute(request, deadline: .now() + TimeAmount(timeout))
        } catch {
            throw Self.callFailure(error)
        }
        do {
            let body = try await response.body.collect(upTo: Self.responseSizeLimit)
            return Answer(statusCode: Int(response.status.code), body: body)
        } catch is NIOTooManyBytesError {
            return Answer(statusCode: Int(response.status.code), body: nil)
        } catch {
            throw Self.callFailure(error)
        }
    }

    /// Runs `operation`, throwing `KubernetesAPIError.timedOut` if it has not finished within the timeout.
    private func withTimeout<Value: Sendable>(
        _ operation: @escaping @Sendable () async throws -> Value
    ) async throws -> Value {
        try await withThrowingTaskGroup(of: Value?.self) { group in
            group.addTask { try await operation() }
            group.addTask {
                try await Task.sleep(for: self.timeout)
                return nil
            }
            defer { group.cancelAll() }
            guard let finished = try await group.next(), let value = finished else {
                throw KubernetesAPIError.timedOut
            }
            return value
        }
    }

    // MARK: - Mapping

    /// The `Status` object's message (secrets removed, shortened), or the HTTP reason phrase.
    private static func statusMessage(_ answer: Answer, redacting secrets: [String]) -> String {
        let decoded = answer.body.flatMap {
            try? JSONDecoder().decode(KubernetesStatus.self, from: Data($0.readableBytesView))
        }
        guard let text = decoded?.message ?? decoded?.reason, !text.isEmpty else {
            return HTTPResponseStatus(statusCode: answer.statusCode).reasonPhrase
        }
        var message = text
        for secret in secrets where secret.count >= redactionMinimumLength {
            message = message.replacingOccurrences(of: secret, with: "[redacted]")
        }
        return message.count > messageLengthLimit ? String(message.prefix(messageLengthLimit)) + "…" : message
    }

    /// A transport error as `KubernetesAPIError`; cancellation of the caller stays `CancellationError`.
    private static func callFailure(_ error: any Error) -> any Error {
        switch error {
        case is CancellationError, is KubernetesAPIError:
            return error
        case let error as HTTPClientError:
            switch error {
            case .deadlineExceeded, .connectTimeout, .readTimeout, .writeTimeout, .tlsHandshakeTimeout:
                return KubernetesAPIError.timedOut
            case .cancelled:
                return CancellationError()
            default:
                return KubernetesAPIError.unreachable(error.description)
            }
        case let error as NIOSSLError:
            return KubernetesAPIError.unreachable("TLS handshake failed: \(tlsFailureReason(error))")
        case let error as IOError:
            return KubernetesAPIError.unreachable("connection failed: \(String(cString: strerror(error.errnoCode)))")
        default:
            return KubernetesAPIError.unreachable(String(describing: error))
        }
    }

    /// BoringSSL's reason (such as `CERTIFICATE_VERIFY_FAILED`) without its error number and source location.
    private static func tlsFailureReason(_ error: NIOSSLError) -> String {
        let text = String(describing: error)
        guard let start = text.range(of: "OPENSSL_internal:")?.upperBound else { return text }
        let rest = text[start...]
        let end =
            rest.range(of: " at ")?.lowerBound ?? rest.firstIndex(where: { $0 == "]" || $0 == ")" }) ?? rest.endIndex
        return String(rest[..<end])
    }

    // MARK: - Setup

    /// TLS for `connection`: its trust and its client certificate.
    private static func tlsConfiguration(
        for connection: KubernetesConnection
    ) throws(KubernetesConnectionError) -> TLSConfiguration {
        do throws(ClientTLS.Problem) {
            return try ClientTLS.configuration(
                trustedPEM: connection.caCertificatesPEM, insecure: connection.insecureSkipTLSVerify,
                certificatePEM: connection.clientCertificatePEM, keyPEM: connection.clientKeyPEM)
        } catch {
            switch error {
            case .trust(let detail): throw .invalidCertificateAuthority(detail)
            case .certificate(let detail): throw .invalidClientCertificate(detail)
            case .key(let detail): throw .invalidClientKey(detail)
            case .incomplete: throw .incompleteClientCertificate
            }
        }
    }

    private static func tokenSource(
        for token: KubernetesBearerToken, refreshInterval: Duration, logger: Logger
    ) throws(KubernetesConnectionError) -> BearerTokenSource? {
        switch token {
        case .none:
            return nil
        case .literal(let token):
            return BearerTokenSource(token: token)
        case .file(let path):
            do throws(LocalFile.ReadError) {
                return try BearerTokenSource(filePath: path, refreshInterval: refreshInterval, logger: logger)
            } catch {
                throw .tokenFileUnreadable(path: path, reason: error.reason)
            }
        }
    }
}
