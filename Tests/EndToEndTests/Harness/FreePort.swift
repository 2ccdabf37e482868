import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A loopback TCP port nothing listens on right now, for flags that take a port number.
///
/// It is taken below Linux's ephemeral range (32768 and up), where the kernel picks the ports of
/// `bind(0)` and outgoing connections: the many processes of a parallel test run cannot take it
/// between now and the moment the flag's listener binds it.
enum FreePort {
    static let candidates = 20_000..<32_768

    static func find() throws -> Int {
        for _ in 0..<100 {
            let port = Int.random(in: candidates)
            if try isFree(port) { return port }
        }
        throw EndToEndError("cannot find a free port in \(candidates)")
    }

    private static func isFree(_ port: Int) throws -> Bool {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw EndToEndError("socket() failed") }
        defer { close(descriptor) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        return withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { generic in
                bind(descriptor, generic, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
            }
        }
    }
}
