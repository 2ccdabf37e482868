/// The HTTP version curl is told to use, named the way curl's `%{http_version}` reports it.
enum HTTPVersion: String, Sendable, CaseIterable, CustomStringConvertible {
    case http1_1 = "1.1"
    case http2 = "2"

    var curlFlag: String {
        switch self {
        case .http1_1: "--http1.1"
        case .http2: "--http2"
        }
    }

    var description: String { "HTTP/\(rawValue)" }
}
