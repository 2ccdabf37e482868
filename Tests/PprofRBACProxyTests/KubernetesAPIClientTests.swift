import Foundation
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import RequestPolicy
import Synchronization
import Testing

@testable import PprofRBACProxy
import TestProcesses

/// A tiny HTTP/1.1 API server on 127.0.0.1 (optionally TLS) that records every request and answers each the same way.
final class FakeKubernetesAPIServer: Sendable {
    /// How the server answers a complete request.
    enum Answer: Sendable {
        case respond(status: Int, body: [UInt8], contentType: String = "application/json")
        /// Read the request and never answer.
        case never

        static func fixture(_ fixture: APIServerFixture) -> Answer {
            .respond(status: fixture.responseStatus, body: fixture.responseBody)
        }
    }

    /// One request as the server received it.
    struct ReceivedRequest: Sendable {
        var method: HTTPMethod
        var uri: String
        var headers: HTTPHeaders
        var body: [UInt8]
    }

    /// The requests received and the connections accepted, shared with the channel handlers.
    final class Recorder: Sendable {
        private let requests = Mutex<[ReceivedRequest]>([])
        private let connections = Mutex<[any Channel]>([])

        func record(_ request: ReceivedRequest) {
            requests.withLock { $0.append(request) }
        }

        func track(_ connection: any Channel) {
            connections.withLock { $0.append(connection) }
        }

        var receivedRequests: [ReceivedRequest] {
            requests.withLock { $0 }
        }

        var acceptedConnections: [any Channel] {
            connections.withLock { $0 }
        }
    }

    /// Collects one request's parts and answers once the request is complete.
    private final class RequestHandler: ChannelInboundHandler {
        typealias InboundIn = HTTPServerRequestPart
        typealias OutboundOut = HTTPServerResponsePart

        private let answer: Answer
        private let recorder: Recorder
        private var head: HTTPRequestHead?
        private var body: [UInt8] = []

        init(answer: Answer, recorder: Recorder) {
            self.answer = answer
            self.recorder = recorder
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            switch unwrapInboundIn(data) {
            case .head(let head):
                self.head = head
                body = []
            case .body(let buffer):
                body.append(contentsOf: buffer.readableBytesView)
            case .end:
                guard let head else { return }
                recorder.record(ReceivedRequest(method: head.method, uri: head.uri, headers: head.headers, body: body))
                guard case .respond(let status, let responseBody, let contentType) = answer else { return }
                let headers = HTTPHeaders([("Content-Type", contentType), ("Content-Length", "\(responseBody.count)")])
                let responseHead = HTTPResponseHead(
                    version: head.version, status: HTTPResponseStatus(statusCode: status), headers: headers
                )
                context.write(wrapOutboundOut(.head(responseHead)), promise: nil)
                context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(bytes: responseBody)))), promise: nil)
                context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
            }
        }
    }

    let port: Int
    private let listener: any Channel
    private let recorder: Recorder

    private init(port: Int, listener: any Channel, recorder: Recorder) {
        self.port = port
        self.listener = listener
        self.recorder = recorder
    }

    static func start(answer: Answer, tls: TLSConfiguration? = nil) async throws -> FakeKubernetesAPIServer {
        let sslContext = try tls.map { try NIOSSLContext(configuration: $0) }
        let recorder = Recorder()
        let listener = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                recorder.track(channel)
                return channel.eventLoop.makeCompletedFuture {
                    if let sslContext {
                        try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: sslContext))
                    }
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(RequestHandler(answer: answer, recorder: recorder))
                }
            }
            .bind(host: "127.0.0.1", port: 0)
            .get()
        guard let port = listener.localAddress?.port else {
            try await listener.close()
            throw FixtureError("the fake API server has no port")
        }
        return FakeKubernetesAPIServer(port: port, listener: listener, recorder: recorder)
    }

    var requests: [ReceivedRequest] {
        recorder.receivedRequests
    }

    func url(scheme: String = "http", host: String = "127.0.0.1", path: String = "") throws -> URL {
        try #require(URL(string: "\(scheme)://\(host):\(port)\(path)"))
    }

    /// Closes the listener and every accepted connection.
    func stop() async {
        for connection in recorder.acceptedConnections {
            try? await connection.close()
        }
        try? await listener.close()
    }
}

@Suite("KubernetesAPIClient")
struct KubernetesAPIClientTests {
    private static let callerToken = "caller-token-6f2d"
    private let logger = Logger(label: "pprof-rbac-proxy.tests")

    // MARK: - Successful reviews

    @Test func tokenReviewIsPostedAndDecoded() async throws {
        let fixture = try APIServerFixture.named("tokenreview-user-valid")
        try await withServer(.fixture(fixture)) { server, client in
            let status = try await client.createTokenReview(
                TokenReviewSpec(token: "alice-ca1a8797a6642156924db5306eb46ab1", audiences: [])
            )
            #expect(status.authenticated == true)
            #expect(status.user?.username == "alice")
            #expect(status.user?.groups == ["pprof-users", "system:authenticated"])

            let request = try #require(server.requests.first)
            #expect(server.requests.count == 1)
            #expect(request.method == .POST)
            #expect(request.uri == TokenReview.path)
            #expect(request.headers["Authorization"] == ["Bearer \(Self.callerToken)"])
            #expect(request.headers["Content-Type"] == ["application/json"])
            #expect(request.headers["Accept"] == ["application/json"])
            #expect(try JSONValue(jsonBytes: request.body) == fixture.requestJSON())
        }
    }

    @Test func rejectedTokenIsAReviewNotAnError() async throws {
        let fixture = try APIServerFixture.named("tokenreview-invalid-token")
        try await withServer(.fixture(fixture)) { _, client in
            let status = try await client.createTokenReview(TokenReviewSpec(token: "not-a-real-token", audiences: []))
            #expect(status.authenticated == nil)
            #expect(status.error == "invalid bearer token")
        }
    }

    @Test func subjectAccessReviewIsPostedAndDecoded() async throws {
        let fixture = try APIServerFixture.named("sar-nonresource-allowed")
        let attributes = AuthorizationAttributes(
            user: UserInfo(name: "alice", uid: "uid-alice", groups: ["pprof-users", "system:authenticated"]),
            verb: "get", target: .nonResource(path: "/debug/pprof/profile")
        )
        try await withServer(.fixture(fixture)) { server, client in
            let status = try await client.createSubjectAccessReview(SubjectAccessReviewSpec(attributes))
            #expect(status.allowed)
            #expect(status.reason?.hasPrefix("RBAC: allowed by ClusterRoleBinding") == true)

            let request = try #require(server.requests.first)
            #expect(request.uri == SubjectAccessReview.path)
            #expect(request.headers["Authorization"] == ["Bearer \(Self.callerToken)"])
            #expect(try JSONValue(jsonBytes: request.body) == fixture.requestJSON())
        }
    }

    @Test func deniedSubjectAccessReview() async throws {
        let fixture = try APIServerFixture.named("sar-nonresource-denied")
        try await withServer(.fixture(fixture)) { _, client in
            let status = try await client.createSubjectAccessReview(
                SubjectAccessReviewSpec(nonResourceAttributes: NonResourceAttributes(path: "/debug/pprof/profile", verb: "get"))
            )
            #expect(!status.allowed)
            #expect(status.reason == nil)
        }
    }

    @Test func plainOKIsAcceptedToo() async throws {
        let body = Array(#"{"kind":"SubjectAccessReview","status":{"allowed":true}}"#.utf8)
        try await withServer(.respond(status: 200, body: body)) { _, client in
            let status = try await client.createSubjectAccessReview(SubjectAccessReviewSpec(user: "alice"))
            #expect(status.allowed)
        }
    }

    @Test func serverPathPrefixIsKept() async throws {
        let fixture = try APIServerFixture.named("tokenreview-user-valid")
        try await withServer(.fixture(fixture), serverPath: "/k8s/clusters/c-1/") { server, client in
            _ = try await client.createTokenReview(TokenReviewSpec(token: "t", audiences: []))
            #expect(server.requests.first?.uri == "/k8s/clusters/c-1" + TokenReview.path)
        }
    }

    // MARK: - Bearer token

    @Test func noTokenMeansNoAuthorizationHeader() async throws {
        let fixture = try APIServerFixture.named("tokenreview-caller-unauthenticated")
        try await withServer(.fixture(fixture), bearerToken: KubernetesBearerToken.none) { server, client in
            await #expect(throws: KubernetesAPIError.self) {
                try await client.createTokenReview(TokenReviewSpec(token: "t", audiences: []))
            }
            #expect(server.requests.first?.headers["Authorization"] == [])
        }
    }

    @Test func tokenFileIsReadAgainOnceStale() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let tokenPath = try directory.write("first-token\n", to: "token")
        let fixture = try APIServerFixture.named("tokenreview-user-valid")
        try await withServer(.fixture(fixture), bearerToken: .file(path: tokenPath), tokenRefreshInterval: .zero) {
            server, client in
            _ = try await client.createTokenReview(TokenReviewSpec(token: "t", audiences: []))
            try directory.write("second-token\n", to: "token")
            _ = try await client.createTokenReview(TokenReviewSpec(token: "t", audiences: []))
            #expect(server.requests.map { $0.headers["Authorization"] } == [["Bearer first-token"], ["Bearer second-token"]])
        }
    }

    // MARK: - Failures answered by the server

    @Test("A Status answer becomes unexpectedStatus with its message", arguments: [
        "tokenreview-caller-bad-token", "tokenreview-caller-forbidden", "tokenreview-caller-unauthenticated",
        "tokenreview-malformed-body", "sar-caller-forbidden", "sar-invalid-spec",
    ])
    func statusAnswers(name: String) async throws {
        let fixture = try APIServerFixture.named(name)
        let expected = try #require(
            try JSONDecoder().decode(KubernetesStatus.self, from: Data(fixture.responseBody)).message
        )
        try await withServer(.fixture(fixture)) { _, client in
            let error = await #expect(throws: KubernetesAPIError.self) {
                if fixture.requestPath == TokenReview.path {
                    _ = try await client.createTokenReview(TokenReviewSpec(token: "t", audiences: []))
                } else {
                    _ = try await client.createSubjectAccessReview(SubjectAccessReviewSpec(user: "alice"))
                }
            }
            #expect(error == .unexpectedStatus(code: fixture.responseStatus, message: expected))
        }
    }

    @Test("Other failures keep their code", arguments: [
        (500, "text/plain", "boom", "Internal Server Error"),
        (429, "application/json", #"{"kind":"Status","message":"too many requests, try again later","code":429}"#,
         "too many requests, try again later"),
        (429, "text/plain", "", "Too Many Requests"),
        (503, "application/json", #"{"kind":"Status","reason":"ServiceUnavailable","code":503}"#, "ServiceUnavailable"),
        (404, "application/json", "[1, 2, 3]", "Not Found"),
    ])
    func otherFailures(status: Int, contentType: String, body: String, message: String) async throws {
        try await withServer(.respond(status: status, body: Array(body.utf8), contentType: contentType)) { _, client in
            let error = await #expect(throws: KubernetesAPIError.self) {
                try await client.createTokenReview(TokenReviewSpec(token: "t", audiences: []))
            }
            #expect(error == .unexpectedStatus(code: status, message: message))
        }
    }

    @Test func tokensAreRedactedFromStatusMessages() async throws {
        let reviewed = "reviewed-token-91ac"
        let body = #"{"kind":"Status","message":"spec.token \#(reviewed) and \#(Self.callerToken) rejected","code":422}"#
        try await withServer(.respond(status: 422, body: Array(body.utf8))) { _, client in
            let error = await #expect(throws: KubernetesAPIError.self) {
                try await client.createTokenReview(TokenReviewSpec(token: reviewed, audiences: []))
            }
            #expect(error == .unexpectedStatus(code: 422, message: "spec.token [redacted] and [redacted] rejected"))
        }
    }

    @Test("Undecodable success answers", arguments: [
        (201, "this is not JSON", "the TokenReview answer is not a TokenReview"),
        (201, #"{"kind":"TokenReview","status":{"authenticated":"yes"}}"#, "the TokenReview answer is not a TokenReview"),
        (201, #"{"kind":"TokenReview","apiVersion":"authentication.k8s.io/v1"}"#, "the TokenReview answer has no status"),
        (200, "", "the TokenReview answer is not a TokenReview"),
    ])
    func invalidResponses(status: Int, body: String, detail: String) async throws {
        try await withServer(.respond(status: status, body: Array(body.utf8))) { _, client in
            let error = await #expect(throws: KubernetesAPIError.self) {
                try await client.createTokenReview(TokenReviewSpec(token: "t", audiences: []))
            }
            #expect(error == .invalidResponse(detail))
        }
    }

    @Test func oversizedAnswerIsRefused() async throws {
        let padding = String(repeating: "x", count: KubernetesAPIClient.responseSizeLimit)
        let body = #"{"kind":"TokenReview","padding":"\#(padding)","status":{"authenticated":true}}"#
        try await withServer(.respond(status: 201, body: Array(body.utf8))) { _, client in
            let error = await #expect(throws: KubernetesAPIError.self) {
                try await client.createTokenReview(TokenReviewSpec(token: "t", audiences: []))
            }
            #expect(error == .invalidResponse("the TokenReview answer is larger than 1 MiB"))
        }
    }

    // MARK: - Failures to get an answer

    @Test func connectionRefusedIsUnreachable() async throws {
        let server = try await FakeKubernetesAPIServer.start(answer: .never)
        let url = try server.url()
        await server.stop()
        let client = try makeClient(KubernetesConnection(server: url, bearerToken: .literal(Self.callerToken)))
        let error = await #expect(throws: KubernetesAPIError.self) {
            try await client.createTokenReview(TokenReviewSpec(token: "t", audiences: []))
        }
        try await client.shutdown()
        #expect(error == .unreachable("connection failed: Connection refused"))
    }

    @Test("a server that reads the request and never answers: timedOut once --kube-api-timeout has passed")
    func silentServerTimesOut() async throws {
        let timeout = Duration.seconds(3)
        try await withServer(.never, timeout: timeout) { server, client in
            let started = ContinuousClock.now
            let call = Task { try await client.createTokenReview(TokenReviewSpec(token: "t", audiences: [])) }
            // The request reaches the server (the time is spent waiting for an answer, not connecting) ...
            try await eventually("the request to reach the server", timeout: .seconds(30)) { server.requests.count == 1 ? true : nil }
            // ... and only the timeout ends the wait: nothing but it makes timedOut of a silent server.
            let error = await #expect(throws: KubernetesAPIError.self) { try await call.value }
            #expect(error == .timedOut)
            #expect(ContinuousClock.now - started >= timeout)
        }
    }

    @Test func cancelledCallerGetsCancellationError() async throws {
        try await withServer(.never, timeout: .seconds(30)) { server, client in
            let call = Task {
                try await client.createTokenReview(TokenReviewSpec(token: "t", audiences: []))
            }
            try await eventually("the request to reach the server", timeout: .seconds(30)) { server.requests.count == 1 ? true : nil }
            call.cancel()
            await #expect(throws: CancellationError.self) { try await call.value }
        }
    }

    // MARK: - TLS

    @Test func httpsWithTrustedCertificateAuthority() async throws {
        let authority = try TestCertificateAuthority()
        let fixture = try APIServerFixture.named("tokenreview-user-valid")
        try await withServer(
            .fixture(fixture), tls: try serverTLS(authority), scheme: "https",
            caCertificatesPEM: Array(try authority.certificatePEM.utf8)
        ) { server, client in
            let status = try await client.createTokenReview(TokenReviewSpec(token: "t", audiences: []))
            #expect(status.user?.username == "alice")
            #expect(server.requests.first?.headers["Authorization"] == ["Bearer \(Self.callerToken)"])
        }
    }

    @Test func httpsWithAnotherCertificateAuthorityIsUnreachable() async throws {
        let authority = try TestCertificateAuthority()
        let stranger = try TestCertificateAuthority(commonName: "some other CA")
        let fixture = try APIServerFixture.named("tokenreview-user-valid")
        try await withServer(
            .fixture(fixture), tls: try serverTLS(authority), scheme: "https",
            caCertificatesPEM: Array(try stranger.certificatePEM.utf8)
        ) { server, client in
            let error = await #expect(throws: KubernetesAPIError.self) {
                try await client.createTokenReview(TokenReviewSpec(token: "t", audiences: []))
            }
            #expect(error == .unreachable("TLS handshake failed: CERTIFICATE_VERIFY_FAILED"))
            #expect(server.requests.isEmpty)
        }
    }

    @Test func httpsInsecureSkipsVerification() async throws {
        let fixture = try APIServerFixture.named("tokenreview-user-valid")
        try await withServer(
            .fixture(fixture), tls: try serverTLS(TestCertificateAuthority()), scheme: "https", insecure: true
        ) { _, client in
            let status = try await client.createTokenReview(TokenReviewSpec(token: "t", audiences: []))
            #expect(status.authenticated == true)
        }
    }

    @Test func clientCertificateIsPresented() async throws {
        let authority = try TestCertificateAuthority()
        var tls = try serverTLS(authority)
        tls.certificateVerification = .noHostnameVerification
        tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMBytes(Array(authority.certificatePEM.utf8)))
        let clientIdentity = try authority.issueClientCertificate(commonName: "pprof-rbac-proxy")
        let fixture = try APIServerFixture.named("tokenreview-user-valid")
        try await withServer(
            .fixture(fixture), tls: tls, scheme: "https", caCertificatesPEM: Array(try authority.certificatePEM.utf8),
            clientIdentity: clientIdentity, bearerToken: KubernetesBearerToken.none
        ) { server, client in
            let status = try await client.createTokenReview(TokenReviewSpec(token: "t", audiences: []))
            #expect(status.authenticated == true)
            #expect(server.requests.first?.headers["Authorization"] == [])
        }
    }

    // MARK: - Unusable connections

    @Test func unusableConnectionsAreRefusedAtCreation() async throws {
        let server = try #require(URL(string: "https://10.0.0.1:6443"))
        let identity = try TestCertificateAuthority().issueClientCertificate(commonName: "x")
        let cases: [(KubernetesConnection, KubernetesConnectionError)] = [
            (
                KubernetesConnection(server: try #require(URL(string: "http://10.0.0.1:8080"))),
                .invalidServer(
                    server: "http://10.0.0.1:8080", reason: "plain http is only allowed to a loopback host; use https"
                )
            ),
            (
                KubernetesConnection(server: server, caCertificatesPEM: Array("junk".utf8)),
                .invalidCertificateAuthority("no PEM certificate found")
            ),
            (
                KubernetesConnection(server: server, clientCertificatePEM: Array(identity.certificatePEM.utf8)),
                .incompleteClientCertificate
            ),
            (
                KubernetesConnection(
                    server: server, clientCertificatePEM: Array("junk".utf8), clientKeyPEM: Array(identity.privateKeyPEM.utf8)
                ),
                .invalidClientCertificate("no PEM certificate found")
            ),
            (
                KubernetesConnection(
                    server: server, clientCertificatePEM: Array(identity.certificatePEM.utf8), clientKeyPEM: Array("junk".utf8)
                ),
                .invalidClientKey("no unencrypted PEM private key found")
            ),
            (
                KubernetesConnection(server: server, bearerToken: .file(path: "/nonexistent/token")),
                .tokenFileUnreadable(path: "/nonexistent/token", reason: "No such file or directory")
            ),
        ]
        for (connection, expected) in cases {
            do {
                let client = try makeClient(connection)
                Issue.record("\(connection) should have been refused with \(expected)")
                try await client.shutdown()
            } catch let error as KubernetesConnectionError {
                #expect(error == expected)
            }
        }
    }

    // MARK: - Helpers

    private func makeClient(
        _ connection: KubernetesConnection, timeout: Duration = .seconds(5), tokenRefreshInterval: Duration = .seconds(60)
    ) throws(KubernetesConnectionError) -> KubernetesAPIClient {
        try KubernetesAPIClient(
            connection: connection, eventLoopGroup: MultiThreadedEventLoopGroup.singleton, timeout: timeout,
            logger: logger, tokenRefreshInterval: tokenRefreshInterval
        )
    }

    private func serverTLS(_ authority: TestCertificateAuthority) throws -> TLSConfiguration {
        let identity = try authority.issueServerCertificate()
        return TLSConfiguration.makeServerConfiguration(
            certificateChain: try NIOSSLCertificate.fromPEMBytes(Array(identity.certificatePEM.utf8)).map { .certificate($0) },
            privateKey: .privateKey(try NIOSSLPrivateKey(bytes: Array(identity.privateKeyPEM.utf8), format: .pem))
        )
    }

    /// Starts a fake server, makes a client for it, runs `body`, then shuts both down (also when `body` throws).
    private func withServer(
        _ answer: FakeKubernetesAPIServer.Answer,
        tls: TLSConfiguration? = nil,
        scheme: String = "http",
        serverPath: String = "",
        caCertificatesPEM: [UInt8]? = nil,
        insecure: Bool = false,
        clientIdentity: TestCertificateAuthority.Issued? = nil,
        bearerToken: KubernetesBearerToken = .literal(callerToken),
        timeout: Duration = .seconds(5),
        tokenRefreshInterval: Duration = .seconds(60),
        _ body: (FakeKubernetesAPIServer, KubernetesAPIClient) async throws -> Void
    ) async throws {
        let server = try await FakeKubernetesAPIServer.start(answer: answer, tls: tls)
        let client: KubernetesAPIClient
        do {
            let connection = KubernetesConnection(
                server: try server.url(scheme: scheme, host: "127.0.0.1", path: serverPath),
                caCertificatesPEM: caCertificatesPEM,
                insecureSkipTLSVerify: insecure,
                clientCertificatePEM: clientIdentity.map { Array($0.certificatePEM.utf8) },
                clientKeyPEM: clientIdentity.map { Array($0.privateKeyPEM.utf8) },
                bearerToken: bearerToken
            )
            client = try makeClient(connection, timeout: timeout, tokenRefreshInterval: tokenRefreshInterval)
        } catch {
            await server.stop()
            throw error
        }
        do {
            try await body(server, client)
        } catch {
            try? await client.shutdown()
            await server.stop()
            throw error
        }
        try await client.shutdown()
        await server.stop()
    }
}
