/// Calls `probe` until it returns a value, and fails once `timeout` has passed without one.
///
/// This is the one way the rig waits for a condition: it polls with a deadline instead of
/// sleeping a fixed time and hoping.
@discardableResult
func eventually<Value>(
    _ description: String,
    timeout: Duration,
    _ probe: () async throws -> Value?
) async throws -> Value {
    let deadline = ContinuousClock.now + timeout
    while true {
        if let value = try await probe() {
            return value
        }
        if ContinuousClock.now >= deadline {
            throw EndToEndError("timed out after \(timeout) waiting for \(description)")
        }
        try await Task.sleep(for: .milliseconds(50))
    }
}
