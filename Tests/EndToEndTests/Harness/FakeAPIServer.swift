import Foundation
import TestProcesses
import Testing

/// A running tools/fake-apiserver: TokenReview and SubjectAccessReview over HTTPS, with test controls.
struct FakeAPIServer: TestResource {
    /// How the fake server answers reviews (`/control/mode`; tools/fake-apiserver documents each).
    enum Mode: Sendable, Equatable, CustomTestStringConvertible {
        case normal
        /// A `Status` object with 500.
        case error500
        /// A `Status` object with 429 and `Retry-After: 1`.
        case error429
        /// A 201 whose JSON body breaks off into binary bytes.
        case garbage
        /// A 201 with a `Status` object instead of a review.
        case wrongKind
        /// Never answers.
        case hang
        /// Answers normally after the delay.
        case slow(Duration)
        /// Closes the connection with a TCP RST without answering.
        case reset

        /// The `/control/mode` body.
        var controlBody: String {
            switch self {
            case .normal: "normal"
            case .error500: "error500"
            case .error429: "error429"
            case .garbage: "garbage"
            case .wrongKind: "wrong-kind"
            case .hang: "hang"
            case .slow(let delay): "slow:\(delay.goSyntax)"
            case .reset: "reset"
            }
        }

        var testDescription: String { controlBody }
    }

    let process: ChildProcess
    let port: Int
    /// The CA that signed the server's certificate, for the kubeconfig and for curl.
    let certificateAuthority: String

    var url: String { "https://127.0.0.1:\(port)" }

    /// Starts a server that knows `users`, grants `rules`, and accepts only the proxy's caller token.
    static func start(
        in workspace: TestWorkspace,
        users: [TestUser] = TestUsers.all,
        rules: [FakeAPIServerRule] = [.aliceReadsPprof]
    ) async throws -> FakeAPIServer {
        let executable = try await GoProgramBuilder.shared.executable(for: .fakeAPIServer)
        let certificateDirectory = workspace.path("apiserver")
        try FileManager.default.createDirectory(atPath: certificateDirectory, withIntermediateDirectories: true)
        let usersFile = try workspace.write(try ConfigurationFiles.fakeAPIServerUsers(users), to: "apiserver-users.json")
        let rulesFile = try workspace.write(try ConfigurationFiles.fakeAPIServerRules(rules), to: "apiserver-rules.json")
        let process = try ChildProcess.launch(executable, arguments: [
            "-addr", "127.0.0.1:0",
            "-cert-dir", certificateDirectory,
            "-caller-token", TestUsers.proxyCallerToken,
            "-users", usersFile,
            "-rules", rulesFile,
        ])
        do {
            let line = try await process.waitForLine(containing: ListeningAddress.marker, in: .stdout, timeout: .seconds(10))
            return FakeAPIServer(
                process: process, port: try ListeningAddress.port(in: line),
                certificateAuthority: certificateDirectory + "/ca.crt")
        } catch {
            await process.tearDown()
            throw error
        }
    }

    /// How many reviews arrived so far.
    func calls() async throws -> ReviewCalls {
        try JSONDecoder().decode(ReviewCalls.self, from: try await control("calls").body)
    }

    /// The review bodies received so far, in order.
    func reviewRequests() async throws -> [ReviewRequest] {
        try JSONDecoder().decode([ReviewRequest].self, from: try await control("requests").body)
    }

    func setMode(_ mode: Mode) async throws {
        _ = try await control("mode", method: "POST", body: mode.controlBody)
    }

    private func control(_ name: String, method: String? = nil, body: String? = nil) async throws -> CurlResponse {
        let response = try await Curl.perform(CurlRequest(
            url: "\(url)/control/\(name)", method: method, body: body, caCertificate: certificateAuthority))
        guard (200..<300).contains(response.status) else {
            throw EndToEndError("fake-apiserver /control/\(name): \(response.summary)")
        }
        return response
    }

    func tearDown() async {
        await process.tearDown()
    }
}
