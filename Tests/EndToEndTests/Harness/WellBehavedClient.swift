import Foundation

/// A client that keeps requesting a small profile over HTTP/2 while a test attacks the proxy, and
/// reports every response it got and how long each took.
struct WellBehavedClient {
    /// One response the client got while the attack ran.
    struct Outcome: Sendable {
        let status: Int
        let elapsed: Duration
    }

    let environment: ProxyEnvironment

    /// Runs `attack`, requesting `/debug/pprof/cmdline` one after the other (in batches of five on
    /// one connection, timed by curl) until it returns, and returns what the attack returned with the
    /// client's outcomes (at least one batch is made).
    func whileRunning<Result: Sendable>(
        _ attack: @escaping @Sendable () async throws -> Result
    ) async throws -> (result: Result, outcomes: [Outcome]) {
        let finished = StopSignal()
        let attacking = Task {
            defer { finished.raise() }
            return try await attack()
        }
        var outcomes: [Outcome] = []
        let request = CurlRequest(
            url: environment.proxy.baseURL + "/debug/pprof/cmdline", bearerToken: TestUsers.alice.token,
            httpVersion: .http2, maxTime: .seconds(10))
        repeat {
            outcomes += try await Curl.timedStatusCodes(of: request, count: 5).map { Outcome(status: $0.status, elapsed: $0.elapsed) }
        } while !finished.isRaised
        return (try await attacking.value, outcomes)
    }
}
