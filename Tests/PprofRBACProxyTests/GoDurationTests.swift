import RequestPolicy
import Testing

@testable import PprofRBACProxy

@Suite("GoDuration.format: Go's time.Duration.String")
struct GoDurationTests {
    @Test("formats as Go prints durations", arguments: [
        (Duration.zero, "0s"), (.seconds(1), "1s"), (.seconds(30), "30s"), (.seconds(90), "1m30s"),
        (.seconds(120), "2m0s"), (.seconds(3600), "1h0m0s"), (.seconds(5400), "1h30m0s"),
        (.milliseconds(500), "500ms"), (.milliseconds(1500), "1.5s"), (.microseconds(3), "3µs"),
        (.nanoseconds(15), "15ns"), (.microseconds(1500), "1.5ms"), (.seconds(-90), "-1m30s"),
    ])
    func formats(duration: Duration, expected: String) {
        #expect(GoDuration.format(duration) == expected)
    }

    @Test("what it prints parses back to the same duration", arguments: [
        Duration.seconds(90), .milliseconds(1500), .seconds(7322), .nanoseconds(1),
    ])
    func roundTrips(duration: Duration) throws {
        #expect(try GoDuration.parse(GoDuration.format(duration)) == duration)
    }
}
