/// A condition `eventually` waited for did not come true in time.
public struct ConditionTimedOut: Error, CustomStringConvertible {
    public let description: String
}

/// Calls `probe` until it returns a value, and fails once `timeout` has passed without one.
///
/// This is the one way the tests wait for a condition: they poll with a deadline instead of
/// sleeping a fixed time and hoping. The deadline is for a condition that never comes true; a
/// loaded machine only takes longer to meet it.
@discardableResult
public func eventually<Value>(
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
            throw ConditionTimedOut(description: "timed out after \(timeout) waiting for \(description)")
        }
        try await Task.sleep(for: .milliseconds(50))
    }
}
