import Testing

extension Heavy {
    /// HTTP/2 attacks on one connection (tools/hostile-client h2) while a well-behaved client keeps
    /// being served on another: NIOHTTP2's limits end each attack, and every request of the other
    /// client is answered 200 within curl's 10 s limit. (How fast it is served under attack is a
    /// speed figure, not a test's: no wall-clock bound here.)
    @Suite("Heavy: HTTP/2 floods", .timeLimit(.minutes(5)))
    struct HTTP2Floods {
        /// An attack and how the proxy must end it.
        struct Attack: Sendable, CustomStringConvertible {
            let name: String
            /// The GOAWAY codes the attacker may get (which one depends on how far it got); empty when the
            /// attack is harmless enough to run its course.
            let goAway: Set<String>
            var path = "/debug/pprof/cmdline"
            var count: Int? = nil

            var description: String { name }
        }

        static let attacks: [Attack] = [
            Attack(name: "rapid-reset", goAway: ["ENHANCE_YOUR_CALM"]),
            Attack(name: "settings-flood", goAway: ["ENHANCE_YOUR_CALM"]),
            Attack(name: "ping-flood", goAway: ["ENHANCE_YOUR_CALM"]),
            Attack(name: "continuation-flood", goAway: ["PROTOCOL_ERROR", "ENHANCE_YOUR_CALM"]),
            Attack(name: "oversized-frame", goAway: ["FRAME_SIZE_ERROR"]),
            Attack(name: "stream-limit", goAway: ["PROTOCOL_ERROR", "ENHANCE_YOUR_CALM"], path: "/debug/pprof/stream?bytes=100000000", count: 300),
            Attack(name: "window-update-flood", goAway: []),
            Attack(name: "zero-window", goAway: [], path: "/debug/pprof/stream?bytes=100000000", count: 10),
        ]

        @Test("Each attack is stopped or contained, and a well-behaved client keeps being served")
        func attacksAreContained() async throws {
            try await ProxyEnvironment.withKubernetesProxy { environment, _ in
                let port = environment.proxy.port
                for attack in Self.attacks {
                    let (report, statuses) = try await WellBehavedClient(environment: environment).whileRunning {
                        try await HostileClient.h2(
                            attack.name, port: port, token: TestUsers.alice.token, path: attack.path,
                            duration: .seconds(2), count: attack.count)
                    }
                    if attack.goAway.isEmpty {
                        #expect(report.goAway == nil, "\(attack): \(report)")
                    } else {
                        #expect(report.goAway.map { attack.goAway.contains($0.code) } == true, "\(attack): \(report)")
                    }
                    #expect(!statuses.isEmpty && statuses.allSatisfy { $0 == 200 }, "\(attack): \(statuses)")
                    if attack.name == "stream-limit" {
                        #expect(report.serverMaxConcurrentStreams == 100)
                        #expect((report.statuses["200"] ?? 0) <= 100, "more streams served than allowed: \(report.statuses)")
                    }
                }
            }
        }
    }
}
