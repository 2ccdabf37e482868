import Foundation
import Testing
import TestProcesses

/// A real kube-apiserver with etcd on loopback (`scripts/kube-apiserver run`), for everything
/// Kubernetes itself decides: RBAC, TokenRequest tokens and their audiences, applied manifests.
/// Most tests of the tier share one (`shared`), each in namespaces and names of its own; a test
/// that stops and restarts its API server starts one of its own.
final class RealAPIServer: TestResource, @unchecked Sendable {
    /// The tier runs when `scripts/test-real-apiserver` sets `PPROF_RBAC_PROXY_REAL_APISERVER=1`;
    /// there a control plane that cannot start is a failure, never a skip.
    static let isEnabled = ProcessInfo.processInfo.environment["PPROF_RBAC_PROXY_REAL_APISERVER"] == "1"
    /// The trait of every suite of the tier.
    static let tier = ConditionTrait.enabled(
        if: isEnabled, "the real kube-apiserver tier: run scripts/test-real-apiserver (it builds the API server once)")

    let directory: URL
    private(set) var process: ChildProcess
    /// `https://127.0.0.1:PORT`.
    let url: String

    var certificateAuthority: String { directory.appendingPathComponent("ca.crt").path }
    /// A kubeconfig for `admin`, in `system:masters`.
    var adminKubeconfig: String { directory.appendingPathComponent("admin.kubeconfig").path }

    /// The static token of user `reader`, in group `pprof-readers` (which deploy/ binds to pprof-reader).
    func readerToken() throws -> String {
        try String(contentsOf: directory.appendingPathComponent("reader.token"), encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)
    }

    private init(directory: URL, process: ChildProcess, url: String) {
        self.directory = directory
        self.process = process
        self.url = url
    }

    /// Starts etcd and kube-apiserver with their state in a new directory and waits until ready.
    static func start() async throws -> RealAPIServer {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("pprof-rbac-proxy-apiserver-\(UUID().uuidString)")
        let (process, url) = try await launch(in: directory)
        return RealAPIServer(directory: directory, process: process, url: url)
    }

    private static func launch(in directory: URL) async throws -> (ChildProcess, String) {
        let script = PackagePaths.root.appendingPathComponent("scripts/kube-apiserver").path
        // Standard input stays open: the script stops when it ends, so also when the test run does.
        let process = try ChildProcess.launch(script, arguments: ["run", directory.path], keepingStandardInput: true)
        do {
            let ready = directory.appendingPathComponent("ready")
            let line = try await eventually("kube-apiserver to be ready", timeout: .seconds(180)) {
                if let status = process.exitStatus {
                    throw EndToEndError("scripts/kube-apiserver run exited with \(status):\n\(process.allOutput)")
                }
                // Whole lines only: a file caught while being written is not ready yet.
                return (try? String(contentsOf: ready, encoding: .utf8)).flatMap { $0.hasSuffix("\n") ? $0 : nil }
            }
            guard let url = line.split(separator: "\n").first.map({ String($0.dropFirst("server=".count)) }), url.hasPrefix("https://")
            else { throw EndToEndError("scripts/kube-apiserver wrote \(line)") }
            return (process, url)
        } catch {
            await process.tearDown()
            throw error
        }
    }

    /// Stops it, keeping its state, as when an API server goes away.
    func stop() async {
        process.closeStandardInput()
        _ = try? await process.waitForExit(timeout: .seconds(30))
        await process.tearDown()
    }

    /// Starts it again on the same state: the same port, keys, tokens and objects.
    func restart() async throws {
        let (process, _) = try await Self.launch(in: directory)
        self.process = process
    }

    func tearDown() async {
        await process.tearDown()
        try? FileManager.default.removeItem(at: directory)
    }

    /// The API server most tests share, started by the first test that asks and stopped when the
    /// test run ends.
    static func shared() async throws -> RealAPIServer {
        try await SharedRealAPIServer.instance.server()
    }

    /// Runs `kubectl` as admin (or with `kubeconfig`) and returns its standard output; a non-zero
    /// exit is an error naming the command and its output.
    @discardableResult
    func kubectl(_ arguments: [String], kubeconfig: String? = nil) async throws -> String {
        let result = try await CompletedProcess.run(
            "kubectl", arguments: ["--kubeconfig", kubeconfig ?? adminKubeconfig] + arguments, timeout: .seconds(60))
        guard result.exitStatus == 0 else {
            throw EndToEndError("kubectl \(arguments.joined(separator: " ")) exited with \(result.exitStatus):\n\(result.output)")
        }
        return result.stdout.joined(separator: "\n")
    }

    /// Applies `manifests` (YAML) as admin. Tests running at once may apply the same object (a
    /// shared role, a namespace): losing such a race (AlreadyExists, a conflict) is tried again.
    func apply(_ manifests: String) async throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("manifests-\(UUID().uuidString).yaml")
        try Data(manifests.utf8).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        try await applyRetryingRaces(["apply", "-f", file.path])
    }

    /// `kubectl apply -k folder` as admin, tried again after a lost race as `apply` is.
    func apply(kustomization folder: String) async throws {
        try await applyRetryingRaces(["apply", "-k", folder])
    }

    /// `kubectl apply -f file` as admin, tried again after a lost race as `apply` is.
    func apply(file: String) async throws {
        try await applyRetryingRaces(["apply", "-f", file])
    }

    private func applyRetryingRaces(_ arguments: [String]) async throws {
        for attempt in 1...5 {
            do {
                try await kubectl(arguments)
                return
            } catch let error as EndToEndError where attempt < 5 && ["AlreadyExists", "the object has been modified"].contains(where: error.description.contains) {
                continue
            }
        }
    }

    /// A token for ServiceAccount `namespace/name` from TokenRequest (`kubectl create token`).
    func token(serviceAccount name: String, namespace: String, audience: String? = nil, duration: String = "1h") async throws -> String {
        var arguments = ["create", "token", name, "-n", namespace, "--duration", duration]
        if let audience {
            arguments += ["--audience", audience]
        }
        return try await kubectl(arguments).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Whether the API server authenticates `token` (a 401 for /api means it does not).
    func accepts(token: String) async throws -> Bool {
        let response = try await Curl.perform(CurlRequest(url: url + "/api", bearerToken: token, caCertificate: certificateAuthority))
        return response.status != 401
    }

    /// A kubeconfig for the proxy: this API server, its CA, and the bearer token in `tokenFile`.
    func kubeconfig(tokenFile: String) -> String {
        """
        apiVersion: v1
        kind: Config
        clusters:
        - name: real
          cluster:
            server: \(url)
            certificate-authority: \(certificateAuthority)
        users:
        - name: proxy
          user:
            tokenFile: \(tokenFile)
        contexts:
        - name: real
          context:
            cluster: real
            user: proxy
        current-context: real
        """
    }
}

/// Holds the shared API server of the tier.
private actor SharedRealAPIServer {
    static let instance = SharedRealAPIServer()
    private var starting: Task<RealAPIServer, any Error>?

    func server() async throws -> RealAPIServer {
        if let starting {
            return try await starting.value
        }
        let task = Task { try await RealAPIServer.start() }
        starting = task
        return try await task.value
    }
}
