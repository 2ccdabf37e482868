import Foundation

/// A client that keeps requesting a small profile over HTTP/2 while a test attacks the proxy, and
/// reports the status of every response it got.
struct WellBehavedClient {
    let environment: ProxyEnvironment

    /// Runs `attack`, requesting `/debug/pprof/cmdline` one after the other (in batches of five on
    /// one connection) until it returns, and returns what the attack returned with the
    /// statuses the client got (at least one batch is made).
    func whileRunning<Result: Sendable>(
        _ attack: @escaping @Sendable () async throws -> Result
    ) async throws -> (result: Result, statuses: [Int]) {
        let finished = StopSignal()
        let attacking = Task {
            defer { finished.raise() }
            return try await attack()
        }
        var statuses: [Int] = []
        let request = CurlRequest(
            url: environment.proxy.baseURL + "/debug/pprof/cmdline", bearerToken: TestUsers.alice.token,
            httpVersion: .http2, maxTime: .seconds(10))
        repeat {
            statuses += try await Curl.statusCodes(of: request, count: 5)
        } while !finished.isRaised
        return (try await attacking.value, statuses)
    }
}
