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

    /// Runs `attack`, requesting `/debug/pprof/cmdline` one after the other until it returns, and
    /// returns what the attack returned with the client's outcomes (at least one request is made).
    func whileRunning<Result: Sendable>(
        _ attack: @escaping @Sendable () async throws -> Result
    ) async throws -> (result: Result, outcomes: [Outcome]) {
        let finished = StopSignal()
        let attacking = Task {
            defer { finished.raise() }
            return try await attack()
        }
        var outcomes: [Outcome] = []
        repeat {
            let response = try await environment.request(
                "/debug/pprof/cmdline", token: TestUsers.alice.token, httpVersion: .http2, maxTime: .seconds(10))
            outcomes.append(Outcome(status: response.status, elapsed: response.elapsed))
        } while !finished.isRaised
        return (try await attacking.value, outcomes)
    }
}
