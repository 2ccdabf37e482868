/// Calls `probe` until it returns a value; fails once `timeout` has passed without one.
@discardableResult
func pollUntil<Value>(
    _ description: String, timeout: Duration, _ probe: () async throws -> Value?
) async throws -> Value {
    let deadline = ContinuousClock.now + timeout
    while true {
        if let value = try await probe() {
            return value
        }
        guard ContinuousClock.now < deadline else {
            throw UpstreamTestFailure("timed out after \(timeout) waiting for \(description)")
        }
        try await Task.sleep(for: .milliseconds(50))
    }
}
