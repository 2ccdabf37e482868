import Foundation
import Testing

@testable import KubectlPprof
@testable import PprofRBACProxy

/// Reading the caller's kubeconfig as kubectl does, and what exec credential plugins print.
@Suite("kubectl pprof identity")
struct IdentityTests {
    private static let v1 = "client.authentication.k8s.io/v1"

    private func write(_ text: String) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("kubeconfig-\(UUID().uuidString)").path
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        return path
    }

    private let kubeconfig = """
        apiVersion: v1
        kind: Config
        clusters: [{name: c, cluster: {server: "https://127.0.0.1:6443"}}]
        users:
          - {name: t, user: {token: abcdefgh-token}}
          - name: e
            user:
              exec:
                apiVersion: client.authentication.k8s.io/v1beta1
                command: ./bin/helper
                args: [get-token]
                env: [{name: A, value: b}]
                installHint: install the helper
        contexts:
          - {name: one, context: {cluster: c, user: t, namespace: team-a}}
          - {name: two, context: {cluster: c, user: e}}
        current-context: one
        """

    @Test("the current context, or --context: its namespace and its user's exec plugin (relative to the file)")
    func contexts() throws {
        let path = try write(kubeconfig)
        let current = try KubeConfigLoader.select(path: path)
        #expect(current.contextName == "one" && current.namespace == "team-a" && current.exec == nil)
        #expect(current.connection.bearerToken == .literal("abcdefgh-token"))
        let other = try KubeConfigLoader.select(path: path, context: "two")
        #expect(other.namespace == nil && other.userName == "e")
        let exec = try #require(other.exec)
        #expect(exec.apiVersion == "client.authentication.k8s.io/v1beta1" && exec.arguments == ["get-token"])
        #expect(exec.command == URL(fileURLWithPath: path).deletingLastPathComponent().appendingPathComponent("bin/helper").path)
        #expect(exec.environment.map(\.name) == ["A"] && exec.installHint == "install the helper")
        #expect(throws: KubeConfigError.contextNotFound(path: path, context: "three")) { try KubeConfigLoader.select(path: path, context: "three") }
    }

    @Test("the proxy's own --kubeconfig still refuses exec users (it runs no plugins)")
    func proxyRefusesExec() throws {
        let path = try write(kubeconfig.replacingOccurrences(of: "current-context: one", with: "current-context: two"))
        #expect(throws: KubeConfigError.unsupportedUserAuthentication(path: path, user: "e", method: "exec (a credential plugin)")) {
            try KubeConfigLoader.load(path: path)
        }
    }

    @Test("an exec apiVersion client-go no longer reads is refused")
    func oldExecVersion() throws {
        let path = try write(kubeconfig.replacingOccurrences(of: "v1beta1", with: "v1alpha1"))
        #expect(throws: KubeConfigError.self) { try KubeConfigLoader.select(path: path, context: "two") }
    }

    @Test("--kubeconfig, else the files of KUBECONFIG, else ~/.kube/config")
    func kubeconfigPaths() {
        #expect(KubeconfigIdentity.kubeconfigPaths(option: "/k", environment: ["KUBECONFIG": "/a"]) == ["/k"])
        #expect(KubeconfigIdentity.kubeconfigPaths(option: nil, environment: ["KUBECONFIG": "/a::/b"]) == ["/a", "/b"])
        #expect(KubeconfigIdentity.kubeconfigPaths(option: nil, environment: ["HOME": "/home/me"]) == ["/home/me/.kube/config"])
    }

    @Test("KUBECONFIG=a:b read as one: the first current-context and the first entry of a name win, relative paths stay relative to their own file, missing files are skipped")
    func merged() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("merge-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory.appendingPathComponent("b"), withIntermediateDirectories: true)
        let first = directory.appendingPathComponent("a.yaml").path
        try Data("""
            contexts: [{name: work, context: {cluster: c, user: u, namespace: from-a}}]
            users: [{name: u, user: {tokenFile: token}}]
            """.utf8).write(to: URL(fileURLWithPath: first))
        let second = directory.appendingPathComponent("b/b.yaml").path
        try Data("""
            current-context: work
            clusters: [{name: c, cluster: {server: "https://127.0.0.1:6443"}}]
            contexts: [{name: work, context: {cluster: c, user: other, namespace: from-b}}]
            users: [{name: u, user: {token: not-this-one}}]
            """.utf8).write(to: URL(fileURLWithPath: second))
        try Data("abcdefgh-from-a".utf8).write(to: directory.appendingPathComponent("token"))
        let selection = try KubeConfigLoader.select(paths: [first, directory.path + "/missing", second])
        #expect(selection.namespace == "from-a" && selection.userName == "u")
        #expect(selection.connection.bearerToken == .file(path: directory.appendingPathComponent("token").standardizedFileURL.path))
    }

    @Test("an ExecCredential: token, client certificate, expiry; the wrong version or kind is refused without quoting the output")
    func execCredentials() throws {
        let token = try ExecCredential(
            parsing: Data(#"{"apiVersion":"\#(Self.v1)","kind":"ExecCredential","status":{"token":"secret-1","expirationTimestamp":"2030-01-02T03:04:05Z"}}"#.utf8),
            expectedAPIVersion: Self.v1)
        #expect(token.token == "secret-1")
        #expect(token.isValid(at: Date(timeIntervalSince1970: 1_800_000_000)))
        #expect(!token.isValid(at: Date(timeIntervalSince1970: 1_900_000_000)))
        let certificate = try ExecCredential(
            parsing: Data(#"{"apiVersion":"\#(Self.v1)","kind":"ExecCredential","status":{"clientCertificateData":"C","clientKeyData":"K"}}"#.utf8),
            expectedAPIVersion: Self.v1)
        #expect(certificate.clientCertificatePEM == Array("C".utf8) && certificate.expiration == nil)
        let refusals = [
            #"{"apiVersion":"client.authentication.k8s.io/v1beta1","kind":"ExecCredential","status":{"token":"secret-2"}}"#,
            #"{"apiVersion":"\#(Self.v1)","kind":"Other","status":{"token":"secret-2"}}"#,
            #"{"apiVersion":"\#(Self.v1)","kind":"ExecCredential","status":{}}"#,
            #"{"apiVersion":"\#(Self.v1)","kind":"ExecCredential","status":{"clientCertificateData":"C"}}"#,
            #"{"apiVersion":"\#(Self.v1)","kind":"ExecCredential","status":{"token":"secret-2","expirationTimestamp":"soon"}}"#,
            "secret-2 is not JSON",
        ]
        for output in refusals {
            do {
                _ = try ExecCredential(parsing: Data(output.utf8), expectedAPIVersion: Self.v1)
                Issue.record("accepted \(output)")
            } catch {
                #expect(!error.lines.joined().contains("secret-2"), "\(error.lines)")
            }
        }
    }

    @Test("the runner: a missing program names the install hint; a plugin's run is kept until it expires")
    func runner() async throws {
        let missing = ExecCredentialCommand(
            apiVersion: Self.v1, command: "/nonexistent/helper", arguments: [], environment: [], installHint: "brew install helper",
            provideClusterInfo: false)
        await #expect(throws: PluginFailure.credentialPlugin("cannot find /nonexistent/helper: brew install helper")) {
            try await ExecCredentialRunner(command: missing, server: "https://x", caCertificatePEM: nil).credential()
        }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("exec-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let script = directory.appendingPathComponent("helper").path
        try Data("""
            #!/bin/sh
            echo run >> "\(directory.path)/runs"
            printf '%s' "$KUBERNETES_EXEC_INFO" > "\(directory.path)/info"
            echo '{"apiVersion":"\(Self.v1)","kind":"ExecCredential","status":{"token":"t-'"$1$GREETING"'"}}'
            """.utf8).write(to: URL(fileURLWithPath: script))
        chmod(script, 0o755)
        let command = ExecCredentialCommand(
            apiVersion: Self.v1, command: script, arguments: ["x"], environment: [(name: "GREETING", value: "hi")], installHint: nil,
            provideClusterInfo: true)
        let runner = ExecCredentialRunner(command: command, server: "https://api:6443", caCertificatePEM: Array("CA".utf8))
        async let first = runner.credential()
        async let second = runner.credential()
        let (a, b) = try await (first, second)
        #expect(a.token == "t-xhi" && b.token == "t-xhi")
        #expect(try String(contentsOfFile: directory.path + "/runs", encoding: .utf8) == "run\n", "one run for both")
        let info = try String(contentsOfFile: directory.path + "/info", encoding: .utf8)
        #expect(info == #"{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","spec":{"cluster":{"certificate-authority-data":"Q0E=","server":"https://api:6443"},"interactive":false}}"#)
    }
}
