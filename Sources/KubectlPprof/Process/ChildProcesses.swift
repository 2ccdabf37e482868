import Foundation

/// The child processes running now (kubectl port-forwards, go tool pprof), stopped with this
/// process: on SIGINT or SIGTERM each is terminated before `kubectl pprof` exits, so none is left behind.
package enum ChildProcesses {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var running: [ObjectIdentifier: Process] = [:]
    nonisolated(unsafe) private static var sources: [any DispatchSourceSignal] = []

    static func add(_ process: Process) {
        lock.withLock { running[ObjectIdentifier(process)] = process }
    }

    static func remove(_ process: Process) {
        _ = lock.withLock { running.removeValue(forKey: ObjectIdentifier(process)) }
    }

    /// Terminates the children on SIGINT and SIGTERM, then exits with 128 + the signal (130 for Ctrl-C).
    package static func stopOnSignals() {
        for signalNumber in [SIGINT, SIGTERM] {
            signal(signalNumber, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: .global())
            source.setEventHandler {
                let children = lock.withLock { Array(running.values) }
                for child in children where child.isRunning {
                    child.terminate()
                }
                for child in children { child.waitUntilExit() }
                exit(128 + signalNumber)
            }
            source.resume()
            lock.withLock { sources.append(source) }
        }
    }
}
