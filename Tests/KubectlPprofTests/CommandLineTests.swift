import Testing

@testable import KubectlPprof

/// `PprofCommand`'s parse into `PluginOptions`, and TARGET's kubectl forms.
@Suite("kubectl pprof command line")
struct CommandLineTests {
    private func options(_ arguments: [String]) throws -> PluginOptions {
        try PprofCommand.parse(arguments).options
    }

    @Test("TARGET in kubectl's forms", arguments: [
        ("pod/a", TargetReference.pod("a")), ("po/a", .pod("a")), ("pods/a", .pod("a")), ("a", .pod("a")),
        ("deploy/m", .deployment("m")), ("deployment/m", .deployment("m")), ("deployments.apps/m", .deployment("m")),
    ])
    func targets(text: String, reference: TargetReference) {
        #expect(TargetReference(text) == reference)
    }

    @Test("not a TARGET", arguments: ["svc/a", "pod/", "pod/A", "pod/a/b", "", "deploy/a_b"])
    func notTargets(text: String) {
        #expect(TargetReference(text) == nil)
    }

    @Test("cpu and trace send pprof's default seconds; --seconds, --gc and --debug go into the query in order")
    func query() throws {
        #expect(try options(["cpu", "pod/a"]).requestTarget == "/debug/pprof/profile?seconds=30")
        #expect(try options(["trace", "pod/a"]).requestTarget == "/debug/pprof/trace?seconds=1")
        #expect(try options(["heap", "pod/a"]).requestTarget == "/debug/pprof/heap")
        #expect(try options(["heap", "pod/a", "--seconds", "10", "--gc", "--debug", "1"]).requestTarget
            == "/debug/pprof/heap?seconds=10&gc=1&debug=1")
        #expect(try options(["heap", "pod/a", "--seconds", "10"]).seconds == 10, "a delta profile takes its seconds too")
        #expect(try options(["goroutine", "pod/a"]).seconds == nil)
    }

    @Test("where: a TARGET, -l, or --url; identity and trust options")
    func destination() throws {
        #expect(try options(["cpu", "deploy/m", "-n", "ns"]).destination == .target(.deployment("m")))
        #expect(try options(["cpu", "-l", "app=m", "--all"]).destination == .selector("app=m"))
        let direct = try options(["cpu", "--url", "https://h:8443", "--token-from-serviceaccount", "ns/sa", "--token-audience", "x"])
        #expect(direct.destination == .url("https://h:8443"))
        #expect(direct.tokenFromServiceAccount == ServiceAccountReference("ns/sa"))
        #expect(direct.tokenFromServiceAccount?.userName == "system:serviceaccount:ns:sa")
        #expect(direct.tokenAudiences == ["x"])
    }

    @Test("usage errors", arguments: [
        ["cpu"], ["cpu", "pod/a", "--url", "https://h:1"], ["cpu", "pod/a", "-l", "x=y"], ["cpu", "pod/a", "--seconds", "-1"],
        ["cpu", "pod/a", "--debug", "-1"], ["cpu", "deploy/a", "--all", "-o", "f"], ["cpu", "--url", "https://h:1", "--all"],
        ["cpu", "deploy/a", "--all", "--open"], ["cpu", "pod/a", "--token-audience", "x"],
        ["cpu", "pod/a", "--cacert", "c", "--insecure-skip-tls-verify"], ["cpu", "--url", "h:1"],
    ])
    func usageErrors(arguments: [String]) {
        #expect(throws: (any Error).self) { try PprofCommand.parse(arguments) }
    }

    @Test("file names: POD-PROFILE-STAMP with .pb.gz, .out for a trace, .txt for text")
    func fileNames() {
        #expect(FetchPlan.defaultName(subject: "p", profile: .cpu, debug: nil, stamp: "20261203T174455") == "p-cpu-20261203T174455.pb.gz")
        #expect(FetchPlan.defaultName(subject: "p", profile: .trace, debug: nil, stamp: "S") == "p-trace-S.out")
        #expect(FetchPlan.defaultName(subject: "p", profile: .goroutine, debug: 2, stamp: "S") == "p-goroutine-S.txt")
        #expect(FetchPlan.defaultName(subject: "p", profile: .heap, debug: 0, stamp: "S") == "p-heap-S.pb.gz")
        #expect(FetchPlan.timestamp(Date(timeIntervalSince1970: 0)).count == 15)
    }
}

import Foundation
