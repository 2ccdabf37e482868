import Foundation

/// What curl got back: status, negotiated HTTP version, headers, body bytes and how long it took.
struct CurlResponse: Sendable {
    /// curl's exit code: 0, or e.g. 7 (could not connect), 28 (timed out).
    let exitCode: Int32
    /// The HTTP status, 0 when no response arrived.
    let status: Int
    /// "1.1", "2", or "0" when no response arrived.
    let httpVersion: String
    /// Header fields of the final response, names lower-cased.
    let headers: [(name: String, value: String)]
    /// Header fields of each interim (1xx) response before it, in order.
    let interimHeaders: [[(name: String, value: String)]]
    let body: Data
    let elapsed: Duration
    /// curl's own error message, if any.
    let curlError: String

    /// The first value of header `name` (case-insensitive).
    func header(_ name: String) -> String? {
        let wanted = name.lowercased()
        return headers.first { $0.name == wanted }?.value
    }

    var bodyText: String {
        String(decoding: body, as: UTF8.self)
    }

    /// True when the body starts with the gzip magic bytes 1f 8b (pprof's protobuf profiles).
    var isGzip: Bool {
        body.count >= 2 && body[body.startIndex] == 0x1f && body[body.startIndex + 1] == 0x8b
    }

    /// Parses a `curl -D` dump into one block of fields per response head: interim (1xx) heads
    /// first, the final one last.
    static func parseHeaderDump(_ dump: String) -> [[(name: String, value: String)]] {
        var blocks: [[(name: String, value: String)]] = []
        // "\r\n" is a single Character, a newline.
        for line in dump.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline) {
            if line.hasPrefix("HTTP/") {
                blocks.append([])
            } else if let colon = line.firstIndex(of: ":"), !blocks.isEmpty {
                let name = line[..<colon].lowercased()
                let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
                blocks[blocks.count - 1].append((name: name, value: value))
            }
        }
        return blocks
    }

    /// The values of `name` in the interim (1xx) responses, in order.
    func interimValues(_ name: String) -> [String] {
        let wanted = name.lowercased()
        return interimHeaders.flatMap { block in block.filter { $0.name == wanted }.map(\.value) }
    }

    /// A one-line summary for failure messages.
    var summary: String {
        "curl exit \(exitCode), HTTP/\(httpVersion) \(status), \(body.count) bytes in \(elapsed)"
            + (curlError.isEmpty ? "" : ", curl said: \(curlError)")
            + (body.count < 300 ? ", body: \(bodyText.debugDescription)" : "")
    }
}
