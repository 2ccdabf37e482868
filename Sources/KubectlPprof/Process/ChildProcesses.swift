import Foundation

/// The child processes (kubectl port-forwards, go tool pprof, exec plugins): where to find them on
/// PATH, and how they are started and stopped. On SIGINT or SIGTERM each is sent SIGTERM before
/// `kubectl pprof` exits, so none is left behind. The handler is a function rather than `SIG_IGN`
/// and a dispatch source, because an ignored signal stays ignored in every child it executes,
/// which then could not be stopped.
package enum ChildProcesses {
    /// Room for this many children at once; `--all` forwards to one pod each.
    private static let capacity = 256
    private static let lock = NSLock()
    /// Process IDs, 0 for a free slot; read by the signal handler without the lock (it only sends signals).
    nonisolated(unsafe) private static let slots: UnsafeMutablePointer<pid_t> = {
        let slots = UnsafeMutablePointer<pid_t>.allocate(capacity: capacity)
        slots.initialize(repeating: 0, count: capacity)
        return slots
    }()

    /// `name` as a path, or found on `PATH` as a shell would.
    static func executable(named name: String) -> String? {
        let manager = FileManager.default
        if name.contains("/") { return manager.isExecutableFile(atPath: name) ? name : nil }
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        for directory in path.split(separator: ":") where !directory.isEmpty {
            let candidate = "\(directory)/\(name)"
            if manager.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }

    /// Starts `process` and registers it. It is started from a thread of its own with no signal
    /// blocked: a child inherits the blocked signals of the thread that starts it, and Swift's
    /// concurrency threads block them all, which would leave a child that SIGTERM cannot stop.
    static func launch(_ process: Process) throws {
        let result = LaunchResult()
        let thread = Thread {
            var none = sigset_t()
            sigemptyset(&none)
            pthread_sigmask(SIG_SETMASK, &none, nil)
            do {
                try process.run()
            } catch {
                result.error = error
            }
            result.done.signal()
        }
        thread.start()
        result.done.wait()
        if let error = result.error { throw error }
        add(process)
    }

    private static func add(_ process: Process) {
        let pid = process.processIdentifier
        lock.withLock {
            if let free = (0..<capacity).first(where: { slots[$0] == 0 }) { slots[free] = pid }
        }
    }

    static func remove(_ process: Process) {
        let pid = process.processIdentifier
        lock.withLock {
            for index in 0..<capacity where slots[index] == pid { slots[index] = 0 }
        }
    }

    /// On SIGINT and SIGTERM: SIGTERM to every child, then exit with 128 + the signal (130 for Ctrl-C).
    package static func stopOnSignals() {
        _ = slots
        for signalNumber in [SIGINT, SIGTERM] {
            signal(signalNumber, stopChildrenAndExit)
        }
    }
}

/// What the launching thread reports.
private final class LaunchResult: @unchecked Sendable {
    let done = DispatchSemaphore(value: 0)
    var error: (any Error)?
}

/// The signal handler: only async-signal-safe calls (`kill`, `_exit`).
private func stopChildrenAndExit(_ signalNumber: Int32) {
    ChildProcesses.signalChildren()
    _exit(128 + signalNumber)
}

extension ChildProcesses {
    fileprivate static func signalChildren() {
        for index in 0..<capacity where slots[index] > 0 {
            kill(slots[index], SIGTERM)
        }
    }
}
