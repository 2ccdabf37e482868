import Foundation
import Testing

extension Heavy {
    /// The bounded fuzzing run: scripts/fuzz builds RequestPolicyFuzzer with libFuzzer and fuzzes
    /// path normalization, authorization questions, the `seconds` parser and profile.proto decoding
    /// and merging (fuzz/README.md).
    @Suite("Heavy: fuzzing", .timeLimit(.minutes(20)))
    struct Fuzzing {
        @Test("30 s of libFuzzer over RequestPolicy and PprofProfile finds no input that breaks an invariant")
        func boundedRun() async throws {
            let run = try await CompletedProcess.run(
                "scripts/fuzz", arguments: ["30"], workingDirectory: PackagePaths.root, timeout: .seconds(15 * 60))
            #expect(run.exitStatus == 0, "scripts/fuzz failed:\n\(run.output.suffix(4000))")
            let done = run.output.split(separator: "\n").last { $0.hasPrefix("Done ") } ?? ""
            let runs = done.split(separator: " ").dropFirst().first.flatMap { Int($0) } ?? 0
            #expect(runs >= 10_000, "libFuzzer ran \(runs) inputs (\(done)); the fuzzer did not really run")
        }
    }
}
