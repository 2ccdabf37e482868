/// Lets one CPU-hungry test (floods, full-speed streams) run at a time. The suite runs its tests in
/// parallel on what may be two cores; two floods at once would starve every other test's timers.
actor CPUHeavy {
    static let shared = CPUHeavy()

    private var running = false
    private var waiting: [CheckedContinuation<Void, Never>] = []

    /// Runs `body` once no other CPU-heavy test runs.
    func run<Result: Sendable>(_ body: @Sendable () async throws -> Result) async throws -> Result {
        if running {
            await withCheckedContinuation { waiting.append($0) }
        }
        running = true
        defer {
            if waiting.isEmpty {
                running = false
            } else {
                waiting.removeFirst().resume()
            }
        }
        return try await body()
    }
}
