import Foundation
import Testing
import TestProcesses

#if canImport(Glibc)
import Glibc
#endif

/// Start-up configuration, serving certificates, and graceful shutdown.
@Suite("Lifecycle", .timeLimit(.minutes(2)))
struct LifecycleTests {
    @Test("SIGTERM: stops accepting, lets the in-flight 20 s profile finish with 200, exits 0")
    func gracefulShutdown() async throws {
        try await ProxyEnvironment.withKubernetesProxy { environment, _ in
            let profileStarted = ContinuousClock.now
            async let inFlight = environment.request("/debug/pprof/profile?seconds=20", token: TestUsers.alice.token)
            _ = try await environment.upstream.waitForRequest("the profile to start", timeout: .seconds(10)) {
                $0.path == "/debug/pprof/profile"
            }

            environment.proxy.process.send(signal: SIGTERM)
            try await eventually("the draining proxy to refuse new requests", timeout: .seconds(5)) {
                let probe = try await environment.request(
                    "/debug/pprof/heap", token: TestUsers.alice.token, maxTime: .seconds(1))
                return probe.status == 0 ? probe : nil
            }
            let refusedAt = ContinuousClock.now

            let profile = try await inFlight
            #expect(profile.status == 200, "\(profile.summary)")
            #expect(profile.isGzip)
            #expect(refusedAt < profileStarted + profile.elapsed, "new requests were still served while draining")
            let forwarded = try await environment.upstream.requests()
            let upstreamProfile = try #require(forwarded.first { $0.path == "/debug/pprof/profile" })
            #expect(upstreamProfile.ended == "done")
            #expect(upstreamProfile.status == 200)

            let status = try await environment.proxy.process.waitForExit(timeout: .seconds(15))
            #expect(status == 0)
        }
    }

    @Test("SIGTERM with a capture longer than --shutdown-grace-period: the grace period ends it, and the proxy exits 0")
    func gracePeriodEndsTheDrain() async throws {
        try await ProxyEnvironment.withKubernetesProxy(proxyArguments: ["--shutdown-grace-period=2s"]) { environment, _ in
            async let inFlight = environment.request("/debug/pprof/profile?seconds=30", token: TestUsers.alice.token)
            _ = try await environment.upstream.waitForRequest("the profile to start", timeout: .seconds(10)) {
                $0.path == "/debug/pprof/profile"
            }
            let signalled = ContinuousClock.now
            environment.proxy.process.send(signal: SIGTERM)
            let status = try await environment.proxy.process.waitForExit(timeout: .seconds(15))
            let drained = ContinuousClock.now - signalled
            #expect(status == 0)
            #expect(drained >= .seconds(2) && drained < .seconds(10), "exited \(drained) after SIGTERM")
            let profile = try await inFlight
            #expect(profile.status != 200 || !profile.isGzip, "the capture was cut, never completed: \(profile.summary)")
        }
    }

    @Test("Neither a kubeconfig, in-cluster settings nor a token file: exit 1, naming --kubeconfig")
    func noClusterConfiguration() async throws {
        let process = try ProxyProcess.launch(["--secure-listen-address", "127.0.0.1:0", "--upstream", "http://127.0.0.1:1/"])
        try await using(process) { process in
            let status = try await process.waitForExit(timeout: .seconds(15))
            #expect(status == 1)
            #expect(process.allOutput.contains("--kubeconfig"), "output: \(process.allOutput)")
        }
    }

    @Test(
        "Only one of --tls-cert-file and --tls-private-key-file: refused at startup, naming both",
        arguments: ["--tls-cert-file", "--tls-private-key-file"]
    )
    func halfACertificate(flag: String) async throws {
        let (status, output) = try await ProxyProcess.startupRefusal(upstream: "http://127.0.0.1:1/", arguments: [flag, "/dev/null"])
        #expect(status == 2, "a usage error, found from the arguments alone")
        #expect(output.contains("--tls-cert-file and --tls-private-key-file must be given together"), "output: \(output)")
        #expect(!output.contains("listening on"))
    }

    @Test("--tls-cert-file and --tls-private-key-file: the given certificate is served", arguments: HTTPVersion.allCases)
    func configuredCertificate(version: HTTPVersion) async throws {
        try await using(try TestWorkspace()) { certificates in
            let serving = try await ServingCertificate.generate(in: certificates)
            try await ProxyEnvironment.withLocalProxy(
                proxyArguments: ["--tls-cert-file", serving.certificate, "--tls-private-key-file", serving.privateKey]
            ) { environment in
                let response = try await Curl.perform(CurlRequest(
                    url: environment.proxy.baseURL + "/debug/pprof/heap", bearerToken: TestUsers.alice.token,
                    httpVersion: version, caCertificate: serving.certificateAuthority))
                #expect(response.status == 200, "verified against the test CA: \(response.summary)")
                #expect(response.httpVersion == version.rawValue)
            }
        }
    }
}
