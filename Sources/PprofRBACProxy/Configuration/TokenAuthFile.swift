import RequestPolicy

/// A kube-apiserver static token file (`--token-auth-file`): CSV lines `token,user,uid,"group1,group2"`.
package struct TokenAuthFile: Sendable {
    /// The users by token. Later lines win over earlier ones with the same token, as in kube-apiserver.
    package let users: [String: UserInfo]

    package init(users: [String: UserInfo]) {
        self.users = users
    }

    package static func load(path: String) throws(ConfigurationError) -> TokenAuthFile {
        let text = try ConfigurationError.readText(flag: "--token-auth-file", path: path)
        return try parse(text, source: path)
    }

    /// Parses the file the way kube-apiserver does (Go's `encoding/csv`, at least three columns, records
    /// with an empty token skipped, the fourth column split on commas into groups).
    package static func parse(_ text: String, source: String) throws(ConfigurationError) -> TokenAuthFile {
        let records: [[String]]
        do {
            records = try CSVRecords.parse(text)
        } catch {
            throw .invalidTokenFile(path: source, reason: error.description)
        }
        var users: [String: UserInfo] = [:]
        for (index, record) in records.enumerated() {
            guard record.count >= 3 else {
                throw .invalidTokenFile(
                    path: source,
                    reason: "record \(index + 1) must have at least 3 columns (token, user name, user uid), found \(record.count)"
                )
            }
            guard !record[0].isEmpty else { continue }
            let groups = record.count >= 4 ? record[3].split(separator: ",", omittingEmptySubsequences: false).map(String.init) : []
            users[record[0]] = UserInfo(name: record[1], uid: record[2], groups: groups)
        }
        return TokenAuthFile(users: users)
    }
}

/// A reader for comma-separated values with the rules of Go's `encoding/csv` (RFC 4180 quoting,
/// empty lines skipped, no bare quotes inside unquoted fields).
enum CSVRecords {
    struct ParseError: Error, CustomStringConvertible {
        let line: Int
        let reason: String

        var description: String { "line \(line): \(reason)" }
    }

    static func parse(_ text: String) throws(ParseError) -> [[String]] {
        var records: [[String]] = []
        var scalars = Array(text.unicodeScalars)[...]
        var line = 1
        while !scalars.isEmpty {
            if scalars.first == "\n" {
                scalars = scalars.dropFirst()
                line += 1
                continue
            }
            if scalars.starts(with: ["\r", "\n"]) {
                scalars = scalars.dropFirst(2)
                line += 1
                continue
            }
            records.append(try parseRecord(&scalars, line: &line))
        }
        return records
    }

    private static func parseRecord(
        _ scalars: inout ArraySlice<Unicode.Scalar>, line: inout Int
    ) throws(ParseError) -> [String] {
        var fields: [String] = []
        var field = String.UnicodeScalarView()
        while true {
            if scalars.first == "\"" {
                let startLine = line
                scalars = scalars.dropFirst()
                while true {
                    guard let scalar = scalars.popFirst() else {
                        throw ParseError(line: startLine, reason: "extraneous or missing \" in quoted-field")
                    }
                    if scalar == "\"" {
                        if scalars.first == "\"" {
                            scalars = scalars.dropFirst()
                            field.append("\"")
                            continue
                        }
                        break
                    }
                    if scalar == "\n" { line += 1 }
                    field.append(scalar)
                }
                guard scalars.isEmpty || scalars.first == "," || scalars.first == "\n" || scalars.first == "\r" else {
                    throw ParseError(line: line, reason: "extraneous or missing \" in quoted-field")
                }
            } else {
                while let scalar = scalars.first, scalar != ",", scalar != "\n", scalar != "\r" {
                    guard scalar != "\"" else { throw ParseError(line: line, reason: "bare \" in non-quoted-field") }
                    field.append(scalar)
                    scalars = scalars.dropFirst()
                }
            }
            fields.append(String(field))
            field = String.UnicodeScalarView()
            switch scalars.popFirst() {
            case ",":
                continue
            case "\r":
                if scalars.first == "\n" { scalars = scalars.dropFirst() }
                line += 1
                return fields
            case "\n":
                line += 1
                return fields
            default:
                return fields
            }
        }
    }
}
