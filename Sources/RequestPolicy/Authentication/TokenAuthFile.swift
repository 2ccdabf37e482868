/// A kube-apiserver static token file (`--token-auth-file`): CSV lines `token,user,uid,"group1,group2"`.
package struct TokenAuthFile: Sendable {
    /// The users by token. Later lines win over earlier ones with the same token, as in kube-apiserver.
    package let users: [String: UserInfo]

    /// Why a token file's text cannot be read; `reason` names the record or line.
    package struct ParseError: Error, Sendable, Hashable, CustomStringConvertible {
        package let reason: String

        package var description: String { reason }
    }

    package init(users: [String: UserInfo]) {
        self.users = users
    }

    /// Parses the file the way kube-apiserver does (Go's `encoding/csv`, at least three columns, records
    /// with an empty token skipped, the fourth column split on commas into groups).
    package init(parsing text: String) throws(ParseError) {
        let records: [[String]]
        do {
            records = try CSVRecords.parse(text)
        } catch {
            throw ParseError(reason: error.description)
        }
        var users: [String: UserInfo] = [:]
        for (index, record) in records.enumerated() {
            guard record.count >= 3 else {
                throw ParseError(
                    reason: "record \(index + 1) must have at least 3 columns (token, user name, user uid), found \(record.count)"
                )
            }
            guard !record[0].isEmpty else { continue }
            let groups = record.count >= 4 ? record[3].split(separator: ",", omittingEmptySubsequences: false).map(String.init) : []
            users[record[0]] = UserInfo(name: record[1], uid: record[2], groups: groups)
        }
        self.users = users
    }
}

/// A reader for comma-separated values with the rules of Go's `encoding/csv` (RFC 4180 quoting,
/// empty lines skipped, no bare quotes inside unquoted fields).
package enum CSVRecords {
    /// Where and why the text is not CSV.
    package struct ParseError: Error, CustomStringConvertible {
        package let line: Int
        package let reason: String

        package var description: String { "line \(line): \(reason)" }
    }

    package static func parse(_ text: String) throws(ParseError) -> [[String]] {
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
