import Foundation

/// A code block of the docs that a test runs, so that the docs cannot drift from what works: the
/// fenced block after a line `<!-- test: NAME … -->`.
enum DocumentedBlock {
    /// The contents of block `name` in `document` (relative to the package root).
    static func text(named name: String, in document: String) throws -> String {
        let path = PackagePaths.root.appendingPathComponent(document)
        let lines = try String(contentsOf: path, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false)
        guard let marker = lines.firstIndex(where: { $0.hasPrefix("<!-- test: \(name)") }),
            let opening = lines[(marker + 1)...].firstIndex(where: { $0.hasPrefix("```") }),
            let closing = lines[(opening + 1)...].firstIndex(where: { $0.hasPrefix("```") })
        else { throw EndToEndError("no block <!-- test: \(name) --> followed by a fenced block in \(document)") }
        return lines[(opening + 1)..<closing].joined(separator: "\n") + "\n"
    }
}
