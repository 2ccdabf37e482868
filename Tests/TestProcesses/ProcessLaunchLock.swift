import Foundation
import Synchronization

/// Serializes every child process the test targets launch with Foundation's `Process`.
///
/// On Linux, `Process.run()` lists the descriptors the child must not inherit before it spawns,
/// and its pipes and its exit-watching socket are not close-on-exec. A launch running alongside
/// could hand them to its own child; then the first child's exit and end of output go unnoticed
/// (and `waitUntilExit()` blocks) until that other child ends too. Both test targets launch
/// processes in the same test run, so they share this one lock.
public enum ProcessLaunchLock {
    private static let mutex = Mutex(())

    /// Runs `body` (which creates the child's pipes and calls `run()`) while no other launch runs.
    public static func withLock<Result>(_ body: () throws -> Result) rethrows -> Result {
        try mutex.withLock { _ in try body() }
    }

    /// Starts `process` with `output` and `errors` (made under the lock) as its standard output and
    /// error, and waits for it to exit. Its output is read afterwards, so it must be small.
    public static func runToExit(_ process: Process, output: Pipe, errors: Pipe) async throws {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            process.terminationHandler = { _ in continuation.resume() }
            do {
                try withLock {
                    process.standardOutput = output
                    process.standardError = errors
                    try process.run()
                }
            } catch {
                process.terminationHandler = nil
                continuation.resume(throwing: error)
            }
        }
    }
}
