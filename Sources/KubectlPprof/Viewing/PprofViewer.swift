import Foundation

/// `--open`: runs `go tool pprof -http=localhost:PORT` (a free port) on the saved file and prints
/// the flame graph's address once pprof serves it; runs until pprof ends (Ctrl-C).
package enum PprofViewer {
    /// The arguments after `go`.
    package static func arguments(file: String, diffBase: String?, port: Int) -> [String] {
        ["tool", "pprof", "-http=localhost:\(port)"] + (diffBase.map { ["-diff_base=\($0)"] } ?? []) + [file]
    }

    /// A port free on the loopback interface now. (Go 1.19's pprof prints the address it was
    /// given, so `localhost:0` would not tell where it listens.)
    static func freeLoopbackPort() -> Int? {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { return nil }
        defer { close(descriptor) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { generic in
                bind(descriptor, generic, length) == 0 && getsockname(descriptor, generic, &length) == 0
            }
        }
        return bound ? Int(UInt16(bigEndian: address.sin_port)) : nil
    }

    /// The flame graph of pprof's `Serving web UI on http://localhost:41235` line, or nil.
    package static func flameGraphAddress(inLine line: String) -> String? {
        guard let range = line.range(of: "Serving web UI on ") else { return nil }
        let base = line[range.upperBound...].trimmingCharacters(in: .whitespaces)
        guard base.hasPrefix("http://") else { return nil }
        return (base.hasSuffix("/") ? String(base.dropLast()) : base) + "/ui/flamegraph"
    }

    /// How to look at `file` without Go here.
    package static func manualAdvice(file: String, diffBase: String?) -> String {
        "go is not on PATH; where Go is installed, run: go tool pprof -http=: " + (diffBase.map { "-diff_base=\($0) " } ?? "") + file
    }

    /// Runs pprof, calling `announce` with the flame graph's address, and returns when pprof exits.
    package static func open(
        file: String, diffBase: String?, announce: @escaping @Sendable (String) -> Void
    ) async throws(PluginFailure) {
        guard let go = ChildProcesses.executable(named: "go") else {
            throw .viewer(manualAdvice(file: file, diffBase: diffBase))
        }
        guard let port = freeLoopbackPort() else {
            throw .viewer("no free local port for go tool pprof -http")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: go)
        process.arguments = arguments(file: file, diffBase: diffBase, port: port)
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        process.standardInput = FileHandle.nullDevice
        let announced = AnnouncedOnce()
        let lines = ChildOutput { collected in
            let address = collected.lines(of: .standardOutput).lazy.compactMap(flameGraphAddress(inLine:)).first
            if let address, announced.first() { announce(address) }
        }
        lines.collect(output, as: .standardOutput)
        let exited = AsyncStream<Void> { continuation in
            process.terminationHandler = { _ in continuation.finish() }
        }
        do {
            try ChildProcesses.launch(process)
        } catch {
            throw .viewer("cannot run \(go) tool pprof: \(error.localizedDescription)")
        }
        for await _ in exited {}
        ChildProcesses.remove(process)
        if !announced.happened {
            let last = lines.lines(of: .standardOutput).last ?? "it exited with status \(process.terminationStatus)"
            throw .viewer("go tool pprof did not serve \(file): \(last)")
        }
    }
}

/// True the first time only.
private final class AnnouncedOnce: @unchecked Sendable {
    private let lock = NSLock()
    private var done = false

    func first() -> Bool {
        lock.lock()
        defer { lock.unlock() }
        if done { return false }
        done = true
        return true
    }

    var happened: Bool {
        lock.lock()
        defer { lock.unlock() }
        return done
    }
}
