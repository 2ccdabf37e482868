import Foundation

/// A `kubectl port-forward` to one pod's port on a free local port, chosen by kubectl (`:PORT`),
/// running until `stop()`. The only part of `kubectl pprof` that needs a kubelet.
package final class PortForward: @unchecked Sendable {
    /// The local port kubectl listens on.
    package let localPort: Int
    private let process: Process

    private init(localPort: Int, process: Process) {
        self.localPort = localPort
        self.process = process
    }

    /// kubectl's arguments: the caller's `--kubeconfig` (else kubectl reads KUBECONFIG as this
    /// process did) and context, never a credential.
    package static func arguments(kubeconfig: String?, context: String?, namespace: String, pod: String, port: Int) -> [String] {
        var arguments: [String] = []
        if let kubeconfig { arguments += ["--kubeconfig", kubeconfig] }
        if let context { arguments += ["--context", context] }
        return arguments + ["--namespace", namespace, "port-forward", "pod/\(pod)", ":\(port)"]
    }

    /// The local port of kubectl's `Forwarding from 127.0.0.1:41235 -> 8443` line, or nil for any other line.
    package static func localPort(inLine line: String) -> Int? {
        let prefix = "Forwarding from 127.0.0.1:"
        guard line.hasPrefix(prefix) else { return nil }
        let rest = line.dropFirst(prefix.count)
        return Int(rest.prefix { $0.isNumber })
    }

    /// Starts kubectl and waits (up to `timeout`) for the line that names its local port.
    package static func start(
        kubeconfig: String?, context: String?, namespace: String, pod: String, port: Int, timeout: Duration = .seconds(30)
    ) async throws(PluginFailure) -> PortForward {
        guard let kubectl = ChildProcesses.executable(named: "kubectl") else {
            throw .portForward("kubectl is not on PATH; install it, or reach the proxy with --url")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: kubectl)
        process.arguments = arguments(kubeconfig: kubeconfig, context: context, namespace: namespace, pod: pod, port: port)
        let output = Pipe()
        let errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        process.standardInput = FileHandle.nullDevice
        let lines = ChildOutput()
        lines.collect(output, as: .standardOutput)
        lines.collect(errors, as: .standardError)
        do {
            try ChildProcesses.launch(process)
        } catch {
            throw .portForward("cannot run \(kubectl): \(error.localizedDescription)")
        }
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if let port = lines.lines(of: .standardOutput).lazy.compactMap(localPort(inLine:)).first {
                return PortForward(localPort: port, process: process)
            }
            if !process.isRunning {
                process.waitUntilExit()
                ChildProcesses.remove(process)
                let reason = lines.lines(of: .standardError).last { !$0.isEmpty } ?? "exited with status \(process.terminationStatus)"
                throw .portForward("to pod/\(pod) port \(port): \(reason)")
            }
            try? await Task.sleep(for: .milliseconds(20))
        }
        process.terminate()
        ChildProcesses.remove(process)
        throw .portForward("to pod/\(pod) port \(port): no forwarding after \(timeout)")
    }

    /// Stops kubectl.
    package func stop() {
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
        ChildProcesses.remove(process)
    }
}
