import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// `--audit-log-path`: one JSON line per request, with who, what, the decision and the outcome.
@Suite("Audit log", .timeLimit(.minutes(2)))
struct AuditingTests {
    /// `{"source": …, "cached": …}` as `source cached=BOOL`.
    func origin(_ value: Any?) -> String? {
        guard let object = value as? [String: Any], let source = object["source"] as? String,
            let cached = object["cached"] as? Bool
        else { return nil }
        return "\(source) cached=\(cached)"
    }

    @Test("Allowed, 401, 403 and an aborted capture: one parseable line each, with the fields that tell them apart")
    func decisions() async throws {
        try await ProxyEnvironment.withKubernetesProxy(auditLog: true) { environment, _ in
            #expect(try await environment.request("/debug/pprof/heap?debug=1&gc=1", token: TestUsers.alice.token).status == 200)
            _ = try await environment.waitForAuditLines(count: 1)
            #expect(try await environment.request("/debug/pprof/heap").status == 401)
            _ = try await environment.waitForAuditLines(count: 2)
            #expect(try await environment.request("/debug/pprof/heap", token: TestUsers.bob.token).status == 403)
            _ = try await environment.waitForAuditLines(count: 3)
            let abandoned = try await environment.request(
                "/debug/pprof/profile?seconds=5", token: TestUsers.alice.token, maxTime: .seconds(1))
            #expect(abandoned.exitCode == 28, "curl gives up: \(abandoned.summary)")
            let lines = try await environment.waitForAuditLines(count: 4)
            #expect(lines.count == 4)

            for line in lines {
                let time = try #require(line["time"] as? String)
                #expect(time.wholeMatch(of: /\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z/) != nil, "RFC 3339 UTC with ms: \(time)")
                #expect(line["clientAddress"] as? String == "127.0.0.1")
                #expect(line["method"] as? String == "GET")
                #expect(line["durationSeconds"] is Double || line["durationSeconds"] is Int)
            }

            let allowed = lines[0]
            #expect(allowed["user"] as? String == "alice")
            #expect(allowed["groups"] as? [String] == TestUsers.alice.groups)
            #expect(allowed["path"] as? String == "/debug/pprof/heap")
            #expect(allowed["parameters"] as? [String: String] == ["debug": "1", "gc": "1"])
            #expect(allowed["decision"] as? String == "allowed")
            #expect(allowed["refusalStatus"] == nil)
            #expect(origin(allowed["authentication"]) == "token-review cached=false")
            #expect(origin(allowed["authorization"]) == "subject-access-review cached=false")
            #expect(allowed["status"] as? Int == 200)
            #expect((allowed["bytes"] as? Int ?? 0) > 0)
            #expect(allowed["outcome"] as? String == "completed")

            let unauthenticated = lines[1]
            #expect(unauthenticated["decision"] as? String == "refused")
            #expect(unauthenticated["refusalStatus"] as? Int == 401)
            #expect(unauthenticated["status"] as? Int == 401)
            #expect(unauthenticated["user"] == nil)
            #expect(unauthenticated["authentication"] == nil)

            let forbidden = lines[2]
            #expect(forbidden["decision"] as? String == "refused")
            #expect(forbidden["refusalStatus"] as? Int == 403)
            #expect(forbidden["user"] as? String == "bob")
            #expect(origin(forbidden["authentication"]) == "token-review cached=false")
            // RBAC has no opinion on bob rather than denying him, and an authorization without an
            // opinion names nobody.
            #expect(forbidden["authorization"] == nil)

            let aborted = lines[3]
            #expect(aborted["path"] as? String == "/debug/pprof/profile")
            #expect(aborted["parameters"] as? [String: String] == ["seconds": "5"])
            #expect(aborted["decision"] as? String == "allowed")
            #expect(origin(aborted["authentication"]) == "token-review cached=true")
            #expect(aborted["status"] == nil, "Go sends the CPU profile's head only when the capture is done")
            #expect(aborted["outcome"] as? String == "aborted")
            #expect(aborted["capture"] as? String == "sliced")
            #expect((aborted["captureSlices"] as? [String: Int])?["count"] == 5)
        }
    }

    @Test("SIGHUP after mv: the proxy reopens the path, so later lines start a new file")
    func rotation() async throws {
        try await ProxyEnvironment.withKubernetesProxy(auditLog: true) { environment, _ in
            let path = environment.auditLogPath
            #expect(try await environment.request("/debug/pprof/heap", token: TestUsers.alice.token).status == 200)
            _ = try await environment.waitForAuditLines(count: 1)
            try FileManager.default.moveItem(atPath: path, toPath: path + ".1")
            environment.proxy.process.send(signal: SIGHUP)
            try await environment.proxy.process.waitForLine(containing: "audit log reopened", in: .stderr, timeout: .seconds(10))
            #expect(try await environment.request("/debug/pprof/cmdline", token: TestUsers.alice.token).status == 200)

            let rotatedTo = try await environment.waitForAuditLines(count: 1)
            #expect(rotatedTo.map { $0["path"] as? String } == ["/debug/pprof/cmdline"])
            #expect(try environment.auditLines(path + ".1").map { $0["path"] as? String } == ["/debug/pprof/heap"])
            #expect(environment.proxy.process.exitStatus == nil, "SIGHUP does not stop the proxy")
        }
    }
}
