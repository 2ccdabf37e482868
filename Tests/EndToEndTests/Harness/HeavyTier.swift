import Foundation
import Testing

/// Whether the heavy tier runs: `scripts/test-heavy` sets `PPROF_RBAC_PROXY_HEAVY=1`.
enum HeavyTier {
    static let isEnabled = ProcessInfo.processInfo.environment["PPROF_RBAC_PROXY_HEAVY"] == "1"
}

/// The heavy tier: what takes minutes or the whole machine (the Dockerfile's release build, the
/// bounded fuzzing run, HTTP/2 floods). `scripts/test-heavy` runs it after `swift test`, one test at
/// a time, so a flood never shares the CPU with a build; `swift test` alone skips it, saying so.
@Suite("Heavy", .enabled(if: HeavyTier.isEnabled, "the heavy tier: run scripts/test-heavy"), .serialized)
enum Heavy {}
