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
}
