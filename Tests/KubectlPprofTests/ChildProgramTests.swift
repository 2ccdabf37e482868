import Testing

@testable import KubectlPprof

/// What `kubectl pprof` runs (kubectl port-forward, go tool pprof) and what it reads back from them;
/// the certificate names it checks.
@Suite("kubectl pprof child programs")
struct ChildProgramTests {
    @Test("kubectl port-forward: the caller's kubeconfig and context, a local port kubectl chooses, no credential")
    func portForwardArguments() {
        #expect(PortForward.arguments(kubeconfig: "/k", context: "c", namespace: "ns", pod: "p", port: 8443)
            == ["--kubeconfig", "/k", "--context", "c", "--namespace", "ns", "port-forward", "pod/p", ":8443"])
        #expect(PortForward.arguments(kubeconfig: nil, context: nil, namespace: "ns", pod: "p", port: 9443)
            == ["--namespace", "ns", "port-forward", "pod/p", ":9443"])
    }

    @Test("the local port from kubectl's lines", arguments: [
        ("Forwarding from 127.0.0.1:41235 -> 8443", 41235), ("Forwarding from [::1]:41235 -> 8443", nil),
        ("Handling connection for 41235", nil), ("error: unable to forward port", nil),
    ])
    func forwardedPort(line: String, port: Int?) {
        #expect(PortForward.localPort(inLine: line) == port)
    }

    @Test("go tool pprof: its arguments, the flame graph from its line, and advice without Go")
    func viewer() {
        #expect(PprofViewer.arguments(file: "a.pb.gz", diffBase: nil, port: 41000) == ["tool", "pprof", "-http=localhost:41000", "a.pb.gz"])
        #expect(PprofViewer.arguments(file: "a.pb.gz", diffBase: "b.pb.gz", port: 1) == ["tool", "pprof", "-http=localhost:1", "-diff_base=b.pb.gz", "a.pb.gz"])
        #expect(PprofViewer.flameGraphAddress(inLine: "Serving web UI on http://localhost:41000") == "http://localhost:41000/ui/flamegraph")
        #expect(PprofViewer.flameGraphAddress(inLine: "Serving web UI on http://localhost:41000/") == "http://localhost:41000/ui/flamegraph")
        #expect(PprofViewer.flameGraphAddress(inLine: "Couldn't find a suitable web browser!") == nil)
        #expect(PprofViewer.manualAdvice(file: "a", diffBase: "b") == "go is not on PATH; where Go is installed, run: go tool pprof -http=: -diff_base=b a")
        #expect(PprofViewer.freeLoopbackPort().map { $0 > 0 } == true)
    }

    @Test("certificate names: exact, wildcard for one label, IP addresses", arguments: [
        ("m-pprof.ns.svc", "m-pprof.ns.svc", true), ("M-PPROF.ns.svc", "m-pprof.ns.svc", true), ("*.ns.svc", "m-pprof.ns.svc", true),
        ("*.ns.svc", "a.b.ns.svc", false), ("*.ns.svc", "ns.svc", false), ("localhost", "m-pprof.ns.svc", false),
        ("127.0.0.1", "127.0.0.1", true),
    ])
    func names(pattern: String, name: String, matches: Bool) {
        #expect(ConnectionDiagnosis.matches(pattern, name) == matches)
    }

    @Test("which server names are addresses (no SNI)", arguments: [
        ("127.0.0.1", true), ("::1", true), ("localhost", false), ("m-pprof.ns.svc", false), ("1.2.3", false),
    ])
    func addresses(name: String, isAddress: Bool) {
        #expect(ProxyEndpoint(host: "h", port: 1, serverName: name, caCertificatePath: nil, insecureSkipTLSVerify: false).serverNameIsAddress == isAddress)
    }
}
