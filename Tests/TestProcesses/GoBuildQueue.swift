/// Runs the test targets' `go build`s one at a time. On a fresh machine Go's build cache is cold;
/// builds started together would each compile the standard library beside the others, loading
/// the machine while the first tests run. One at a time, each later build finds the packages the
/// earlier ones compiled.
public actor GoBuildQueue {
    public static let shared = GoBuildQueue()

    private var busy = false
    private var waiting: [CheckedContinuation<Void, Never>] = []

    /// Runs `build` once no other build runs.
    public func run<Result: Sendable>(_ build: @Sendable () async throws -> Result) async throws -> Result {
        while busy {
            await withCheckedContinuation { waiting.append($0) }
        }
        busy = true
        defer {
            busy = false
            if !waiting.isEmpty {
                waiting.removeFirst().resume()
            }
        }
        return try await build()
    }
}
