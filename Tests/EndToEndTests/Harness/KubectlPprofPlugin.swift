import Foundation

/// Runs the kubectl-pprof binary as kubectl would (`kubectl pprof …` runs `kubectl-pprof …`), in a
/// workspace of its own, with a stand-in for `kubectl port-forward` first on PATH: there is no
/// kubelet in the test tier, so the stand-in answers as kubectl does and forwards nothing, naming
/// instead the local port of the proxy that serves the pod (`forward(pod:to:)`).
struct KubectlPprofPlugin: Sendable {
    let workspace: TestWorkspace
    /// The folder first on PATH, holding the stand-in `kubectl`.
    private let bin: String
    /// `POD PORT` lines the stand-in reads.
    private let forwards: String
    /// Each stand-in port-forward's arguments, one line each.
    let portForwardLog: String

    init(workspace: TestWorkspace) throws {
        self.workspace = workspace
        bin = workspace.path("bin")
        forwards = workspace.path("port-forwards")
        portForwardLog = workspace.path("port-forward.log")
        try FileManager.default.createDirectory(atPath: bin, withIntermediateDirectories: true)
        try Data().write(to: URL(fileURLWithPath: forwards))
        let realKubectl = ProcessInfo.processInfo.environment["PATH"].flatMap { path in
            path.split(separator: ":").map { "\($0)/kubectl" }.first { FileManager.default.isExecutableFile(atPath: $0) }
        } ?? "/usr/bin/kubectl"
        let script = """
            #!/bin/sh
            # Stands in for `kubectl port-forward` (no kubelet here); anything else goes to the real kubectl.
            case " $* " in *" port-forward "*) ;; *) exec \(realKubectl) "$@" ;; esac
            echo "$*" >> '\(portForwardLog)'
            pod=""; remote=""
            for argument in "$@"; do
                case "$argument" in pod/*) pod="${argument#pod/}" ;; :*) remote="${argument#:}" ;; esac
            done
            port=$(awk -v pod="$pod" '$1 == pod { port = $2 } END { print port }' '\(forwards)')
            if [ -z "$port" ]; then
                echo "error: unable to forward port because pod is not running. Current status=Pending" >&2
                exit 1
            fi
            echo "Forwarding from 127.0.0.1:$port -> $remote"
            echo "Forwarding from [::1]:$port -> $remote"
            exec sleep 600
            """
        let path = bin + "/kubectl"
        try Data(script.utf8).write(to: URL(fileURLWithPath: path))
        guard chmod(path, 0o755) == 0 else { throw EndToEndError("chmod \(path): errno \(errno)") }
    }

    /// Makes the stand-in port-forward to `pod` answer with local port `port` (a proxy's own); the
    /// latest call for a pod wins.
    func forward(pod: String, to port: Int) throws {
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: forwards))
        defer { try? handle.close() }
        handle.seekToEndOfFile()
        handle.write(Data("\(pod) \(port)\n".utf8))
    }

    /// The environment of a run: the stand-in first on PATH, no KUBECONFIG unless `extra` sets one.
    func environment(_ extra: [String: String] = [:]) -> [String: String] {
        var environment = ChildProcess.inheritedEnvironment
        environment["PATH"] = bin + ":" + (environment["PATH"] ?? "/usr/bin:/bin")
        environment["HOME"] = workspace.path("home")
        environment.merge(extra) { $1 }
        return environment
    }

    /// Runs `kubectl-pprof arguments` to its end in the workspace.
    func run(_ arguments: [String], environment extra: [String: String] = [:], timeout: Duration = .seconds(120)) async throws -> CompletedProcess {
        try await CompletedProcess.run(
            try PackagePaths.pluginBinary(), arguments: arguments, environment: environment(extra),
            workingDirectory: workspace.directory, timeout: timeout)
    }

    /// Starts `kubectl-pprof arguments` in the workspace, for a test that watches it while it runs.
    func start(_ arguments: [String], environment extra: [String: String] = [:]) throws -> ChildProcess {
        try ChildProcess.launch(
            try PackagePaths.pluginBinary(), arguments: arguments, environment: environment(extra),
            workingDirectory: workspace.directory)
    }

    /// The stand-in port-forwards started so far, as their argument lines.
    func portForwards() -> [String] {
        ((try? String(contentsOfFile: portForwardLog, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
    }
}
