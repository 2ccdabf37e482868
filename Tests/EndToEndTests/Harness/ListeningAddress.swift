/// Reads the port out of a `listening on 127.0.0.1:PORT` line, the readiness line all three programs print.
enum ListeningAddress {
    static let marker = "listening on 127.0.0.1:"

    static func port(in line: String) throws -> Int {
        guard let range = line.range(of: marker),
            let port = Int(line[range.upperBound...].prefix(while: \.isNumber)), port > 0
        else {
            throw EndToEndError("no port in readiness line \(line.debugDescription)")
        }
        return port
    }
}
