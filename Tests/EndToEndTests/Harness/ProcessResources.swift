import Foundation

/// What a running process holds, read from /proc: open file descriptors, the TCP connections among
/// them, and threads (Linux only).
struct ProcessResources: Equatable, Sendable, CustomStringConvertible {
    /// Entries of /proc/PID/fd.
    let fileDescriptors: Int
    /// Those descriptors that are TCP sockets not listening (connections, in any state), by the
    /// local and remote port.
    let connections: [TCPConnection]
    /// `Threads:` of /proc/PID/status.
    let threads: Int

    /// One TCP socket of the process, from /proc/PID/net/tcp and tcp6.
    struct TCPConnection: Hashable, Sendable, Comparable, CustomStringConvertible {
        let localPort: Int
        let remotePort: Int
        /// The kernel's state name, e.g. `ESTABLISHED`, `CLOSE_WAIT`.
        let state: String

        var description: String { "\(localPort)→\(remotePort) \(state)" }

        static func < (left: TCPConnection, right: TCPConnection) -> Bool {
            (left.localPort, left.remotePort, left.state) < (right.localPort, right.remotePort, right.state)
        }
    }

    /// Reads the resources of process `pid` now.
    static func of(_ pid: Int32) throws -> ProcessResources {
        let descriptorDirectory = "/proc/\(pid)/fd"
        let descriptors = try FileManager.default.contentsOfDirectory(atPath: descriptorDirectory)
        var socketInodes: Set<String> = []
        for descriptor in descriptors {
            // A descriptor may be closed between the listing and this read: it is then not counted as a socket.
            guard let target = try? FileManager.default.destinationOfSymbolicLink(atPath: "\(descriptorDirectory)/\(descriptor)"),
                target.hasPrefix("socket:[")
            else { continue }
            socketInodes.insert(String(target.dropFirst("socket:[".count).dropLast()))
        }
        var connections: [TCPConnection] = []
        for table in ["tcp", "tcp6"] {
            let text = (try? contents(of: "/proc/\(pid)/net/\(table)")) ?? ""
            for line in text.split(separator: "\n").dropFirst() {
                // sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode ...
                let fields = line.split(separator: " ")
                guard fields.count > 9, socketInodes.contains(String(fields[9])) else { continue }
                let state = tcpStates[String(fields[3])] ?? String(fields[3])
                guard state != "LISTEN" else { continue }
                connections.append(TCPConnection(localPort: port(fields[1]), remotePort: port(fields[2]), state: state))
            }
        }
        let status = try contents(of: "/proc/\(pid)/status")
        let threadLine = status.split(separator: "\n").first { $0.hasPrefix("Threads:") }
        guard let threads = threadLine.flatMap({ Int($0.dropFirst("Threads:".count).trimmingCharacters(in: .whitespaces)) }) else {
            throw EndToEndError("no Threads line in /proc/\(pid)/status")
        }
        return ProcessResources(fileDescriptors: descriptors.count, connections: connections.sorted(), threads: threads)
    }

    /// The whole of a /proc file. Foundation's `String(contentsOfFile:)` and `Data(contentsOf:)` stop
    /// after the first page there (procfs reports size 0), which cuts /proc/PID/net/tcp short.
    static func contents(of path: String) throws -> String {
        guard let handle = FileHandle(forReadingAtPath: path) else { throw EndToEndError("cannot open \(path)") }
        defer { try? handle.close() }
        return String(decoding: handle.readDataToEndOfFile(), as: UTF8.self)
    }

    /// The port of a /proc/net/tcp address, `0100007F:1F90`.
    private static func port(_ address: Substring) -> Int {
        Int(address.split(separator: ":").last ?? "", radix: 16) ?? -1
    }

    /// The kernel's TCP state numbers (include/net/tcp_states.h), as /proc/net/tcp writes them.
    private static let tcpStates = [
        "01": "ESTABLISHED", "02": "SYN_SENT", "03": "SYN_RECV", "04": "FIN_WAIT1", "05": "FIN_WAIT2",
        "06": "TIME_WAIT", "07": "CLOSE", "08": "CLOSE_WAIT", "09": "LAST_ACK", "0A": "LISTEN", "0B": "CLOSING",
    ]

    var description: String {
        "\(fileDescriptors) descriptors, \(threads) threads, \(connections.count) TCP connections \(connections)"
    }
}
