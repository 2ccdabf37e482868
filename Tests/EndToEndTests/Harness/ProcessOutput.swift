import Foundation
import Synchronization

/// What a child process has written so far, split into lines per stream, and how it exited.
final class ProcessOutput: Sendable {
    /// The lines of one stream, the unterminated tail, and whether the stream reached its end.
    private struct StreamLines {
        var lines: [String] = []
        var unterminated = Data()
        var ended = false

        mutating func append(_ data: Data) {
            unterminated.append(data)
            while let newline = unterminated.firstIndex(of: UInt8(ascii: "\n")) {
                lines.append(Self.decode(unterminated[..<newline]))
                unterminated.removeSubrange(...newline)
            }
        }

        mutating func end() {
            if !unterminated.isEmpty {
                lines.append(Self.decode(unterminated[...]))
                unterminated.removeAll()
            }
            ended = true
        }

        private static func decode(_ bytes: Data.SubSequence) -> String {
            var line = String(decoding: bytes, as: UTF8.self)
            if line.hasSuffix("\r") {
                line.removeLast()
            }
            return line
        }
    }

    private struct State {
        var stdout = StreamLines()
        var stderr = StreamLines()
        var exitStatus: Int32?
    }

    private let state = Mutex(State())

    func append(_ data: Data, to stream: StandardStream) {
        state.withLock { state in
            switch stream {
            case .stdout: state.stdout.append(data)
            case .stderr: state.stderr.append(data)
            }
        }
    }

    func end(_ stream: StandardStream) {
        state.withLock { state in
            switch stream {
            case .stdout: state.stdout.end()
            case .stderr: state.stderr.end()
            }
        }
    }

    func recordExit(status: Int32) {
        state.withLock { $0.exitStatus = status }
    }

    func lines(in stream: StandardStream) -> [String] {
        state.withLock { state in
            switch stream {
            case .stdout: state.stdout.lines
            case .stderr: state.stderr.lines
            }
        }
    }

    /// The exit status (or signal number), once the process has exited.
    var exitStatus: Int32? {
        state.withLock { $0.exitStatus }
    }

    /// True once both streams have reached their end.
    var isComplete: Bool {
        state.withLock { $0.stdout.ended && $0.stderr.ended }
    }
}
