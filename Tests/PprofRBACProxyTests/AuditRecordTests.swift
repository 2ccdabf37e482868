import Foundation
import RequestPolicy
import Testing

@testable import PprofRBACProxy

@Suite("AuditRecord: one JSON line per exchange")
struct AuditRecordTests {
    let alice = UserInfo(name: "alice", uid: "uid-alice", groups: ["pprof-users", "system:authenticated"])

    /// The record's line, parsed back.
    func fields(_ record: ExchangeRecord) throws -> [String: Any] {
        let line = try AuditRecord(record).jsonLine()
        #expect(line.last == UInt8(ascii: "\n"))
        #expect(line.dropLast().contains(UInt8(ascii: "\n")) == false, "one line")
        return try #require(try JSONSerialization.jsonObject(with: line) as? [String: Any])
    }

    /// An `authentication` or `authorization` object as `source cached=BOOL`.
    func origin(_ value: Any?) -> String? {
        guard let object = value as? [String: Any], let source = object["source"] as? String,
            let cached = object["cached"] as? Bool
        else { return nil }
        return "\(source) cached=\(cached)"
    }

    func record(_ path: String = "/debug/pprof/profile") -> ExchangeRecord {
        ExchangeRecord(
            start: Date(timeIntervalSince1970: 1_700_000_000.125), clientAddress: "10.0.0.7", method: "GET", path: path
        )
    }

    @Test("an allowed, queued capture: who, what, where the answers came from, how it ended")
    func allowed() throws {
        var record = record()
        record.parameters = ["seconds": "30"]
        record.user = alice
        record.decision = GateDecision(
            .forward(try RequestTarget(parsing: "/debug/pprof/profile?seconds=30")), user: alice,
            authentication: DecisionOrigin(.tokenReview), authorization: DecisionOrigin(.subjectAccessReview, cached: true)
        )
        record.capture = .queued(wait: .milliseconds(2250))
        record.status = 200
        record.bytes = 1534
        record.duration = .microseconds(32_250_125)
        record.completed = true
        let fields = try fields(record)
        #expect(fields["time"] as? String == "2023-11-14T22:13:20.125Z")
        #expect(fields["user"] as? String == "alice")
        #expect(fields["groups"] as? [String] == ["pprof-users", "system:authenticated"])
        #expect(fields["clientAddress"] as? String == "10.0.0.7")
        #expect(fields["method"] as? String == "GET")
        #expect(fields["path"] as? String == "/debug/pprof/profile")
        #expect(fields["parameters"] as? [String: String] == ["seconds": "30"])
        #expect(fields["decision"] as? String == "allowed")
        #expect(fields["refusalStatus"] == nil)
        #expect(origin(fields["authentication"]) == "token-review cached=false")
        #expect(origin(fields["authorization"]) == "subject-access-review cached=true")
        #expect(fields["status"] as? Int == 200)
        #expect(fields["bytes"] as? Int == 1534)
        #expect(fields["durationSeconds"] as? Double == 32.250125)
        #expect(fields["outcome"] as? String == "completed")
        #expect(fields["capture"] as? String == "queued")
        #expect(fields["captureWaitSeconds"] as? Double == 2.25)
    }

    @Test("refused without credentials: 401, nobody, no answers")
    func unauthorized() throws {
        var record = record("/debug/pprof/heap")
        record.decision = .refuse(.unauthorized)
        record.status = 401
        record.completed = true
        let fields = try fields(record)
        #expect(fields["decision"] as? String == "refused")
        #expect(fields["refusalStatus"] as? Int == 401)
        #expect(fields["status"] as? Int == 401)
        for absent in ["user", "groups", "authentication", "authorization", "parameters", "capture", "captureWaitSeconds"] {
            #expect(fields[absent] == nil, "\(absent) is absent")
        }
    }

    @Test("refused by authorization: 403, the user and who denied")
    func forbidden() throws {
        var record = record("/debug/pprof/heap")
        record.user = alice
        record.decision = GateDecision(
            .refuse(.forbidden(user: "alice", verb: "get", path: "/debug/pprof/heap")), user: alice,
            authentication: DecisionOrigin(.tokenReview, cached: true), authorization: DecisionOrigin(.subjectAccessReview)
        )
        record.status = 403
        record.completed = true
        let fields = try fields(record)
        #expect(fields["decision"] as? String == "refused")
        #expect(fields["refusalStatus"] as? Int == 403)
        #expect(fields["user"] as? String == "alice")
        #expect(origin(fields["authentication"]) == "token-review cached=true")
        #expect(origin(fields["authorization"]) == "subject-access-review cached=false")
    }

    @Test("aborted before the gate decided: decision none, no status, outcome aborted")
    func aborted() throws {
        var record = record()
        record.parameters = ["seconds": "5", "gc": "1"]
        record.duration = .milliseconds(1500)
        let fields = try fields(record)
        #expect(fields["decision"] as? String == "none")
        #expect(fields["status"] == nil)
        #expect(fields["outcome"] as? String == "aborted")
        #expect(fields["durationSeconds"] as? Double == 1.5)
        #expect(fields["parameters"] as? [String: String] == ["seconds": "5", "gc": "1"])
    }

    @Test("started and joined captures carry no wait")
    func captures() throws {
        for (participation, name) in [(ExchangeRecord.CaptureParticipation.started, "started"), (.joined, "joined")] {
            var record = record()
            record.capture = participation
            let fields = try fields(record)
            #expect(fields["capture"] as? String == name)
            #expect(fields["captureWaitSeconds"] == nil)
        }
    }

    @Test("a sliced CPU profile names the slices it was merged from and the largest gap between them")
    func sliced() throws {
        var record = record()
        record.capture = .sliced(7...16, largestGap: .microseconds(2250))
        let fields = try fields(record)
        #expect(fields["capture"] as? String == "sliced")
        #expect(fields["captureSlices"] as? [String: Int] == ["first": 7, "last": 16, "count": 10])
        #expect(fields["captureLargestGapSeconds"] as? Double == 0.00225)
        #expect(fields["captureWaitSeconds"] == nil)
        record.capture = .started
        #expect(try self.fields(record)["captureSlices"] == nil)
    }
}
