import Foundation
import PprofRBACProxy

/// Runs a kubeconfig user's credential plugin as client-go does, and keeps what it hands out in
/// memory until it expires: `--all` and retries run it once. Nothing it prints is written anywhere.
package actor ExecCredentialRunner {
    private let command: ExecCredentialCommand
    /// What the plugin is told of the cluster (`provideClusterInfo`): its server and CA.
    private let cluster: (server: String, caCertificatePEM: [UInt8]?)
    private var cached: ExecCredential?
    /// The run under way, which concurrent callers share.
    private var running: Task<Result<ExecCredential, PluginFailure>, Never>?

    package init(command: ExecCredentialCommand, server: String, caCertificatePEM: [UInt8]?) {
        self.command = command
        self.cluster = (server, caCertificatePEM)
    }

    /// The credential, from memory while it holds, else from a new run of the plugin.
    package func credential() async throws(PluginFailure) -> ExecCredential {
        if let cached, cached.isValid(at: Date()) { return cached }
        let run = running ?? Task { await self.run() }
        running = run
        let result = await run.value
        running = nil
        if case .success(let credential) = result { cached = credential }
        return try result.get()
    }

    private func run() async -> Result<ExecCredential, PluginFailure> {
        do throws(PluginFailure) {
            return .success(try runOnce())
        } catch {
            return .failure(error)
        }
    }

    private func runOnce() throws(PluginFailure) -> ExecCredential {
        guard let executable = ChildProcesses.executable(named: command.command) else {
            throw .credentialPlugin(
                "cannot find \(command.command)" + (command.installHint.map { ": \($0.trimmingCharacters(in: .whitespacesAndNewlines))" } ?? ""))
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = command.arguments
        var environment = ProcessInfo.processInfo.environment
        for variable in command.environment { environment[variable.name] = variable.value }
        environment["KUBERNETES_EXEC_INFO"] = execInfo()
        process.environment = environment
        let output = Pipe()
        process.standardOutput = output
        process.standardInput = FileHandle.nullDevice
        // Its standard error is the person's, as with kubectl: plugins print prompts and hints there.
        process.standardError = FileHandle.standardError
        do {
            try ChildProcesses.launch(process)
        } catch {
            throw .credentialPlugin("cannot run \(executable): \(error.localizedDescription)")
        }
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        ChildProcesses.remove(process)
        guard process.terminationReason == .exit, process.terminationStatus == 0 else {
            throw .credentialPlugin("\(command.command) exited with status \(process.terminationStatus)")
        }
        return try ExecCredential(parsing: data, expectedAPIVersion: command.apiVersion)
    }

    /// `KUBERNETES_EXEC_INFO`: the ExecCredential request a plugin may read (not interactive: the
    /// plugin's standard input is not the terminal).
    private func execInfo() -> String {
        var spec: [String: Any] = ["interactive": false]
        if command.provideClusterInfo {
            var clusterInfo: [String: Any] = ["server": cluster.server]
            if let ca = cluster.caCertificatePEM { clusterInfo["certificate-authority-data"] = Data(ca).base64EncodedString() }
            spec["cluster"] = clusterInfo
        }
        let document: [String: Any] = ["apiVersion": command.apiVersion, "kind": "ExecCredential", "spec": spec]
        let data = (try? JSONSerialization.data(withJSONObject: document, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data()
        return String(decoding: data, as: UTF8.self)
    }
}
