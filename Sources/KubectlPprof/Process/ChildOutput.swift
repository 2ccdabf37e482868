import Foundation

/// What a child process (kubectl port-forward, go tool pprof) has printed so far, collected from
/// its pipes as it arrives and read as lines.
final class ChildOutput: @unchecked Sendable {
    /// Which pipe.
    enum Stream {
        case standardOutput, standardError
    }

    private let lock = NSLock()
    private var text: [Stream: String] = [:]
    private let onChange: @Sendable (ChildOutput) -> Void

    /// `onChange` runs after each arrival (on the pipe's thread).
    init(onChange: @escaping @Sendable (ChildOutput) -> Void = { _ in }) {
        self.onChange = onChange
    }

    /// Collects `pipe` as `stream` until it closes.
    func collect(_ pipe: Pipe, as stream: Stream) {
        pipe.fileHandleForReading.readabilityHandler = { [weak self] handle in
            let data = handle.availableData
            guard let self else { return }
            if data.isEmpty {
                handle.readabilityHandler = nil
                return
            }
            self.append(data, to: stream)
            self.onChange(self)
        }
    }

    private func append(_ data: Data, to stream: Stream) {
        lock.lock()
        defer { lock.unlock() }
        text[stream, default: ""] += String(decoding: data, as: UTF8.self)
    }

    /// The complete and partial lines of `stream`.
    func lines(of stream: Stream) -> [String] {
        lock.lock()
        defer { lock.unlock() }
        return (text[stream] ?? "").split(separator: "\n").map(String.init)
    }
}
