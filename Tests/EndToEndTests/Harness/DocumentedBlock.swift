import Foundation
import Testing

/// A code block of the docs that a test runs, so that the docs cannot drift from what works: the
/// fenced block after a line `<!-- test: NAME … -->`.
enum DocumentedBlock {
    /// The contents of block `name` in `document` (relative to the package root).
    static func text(named name: String, in document: String) throws -> String {
        let path = PackagePaths.root.appendingPathComponent(document)
        let lines = try String(contentsOf: path, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false)
        func unindented(_ line: Substring) -> Substring { line.drop { $0 == " " } }
        // Markers and fences may be indented (inside a list); the block's lines lose that indentation.
        guard let marker = lines.firstIndex(where: { unindented($0).hasPrefix("<!-- test: \(name) ") }),
            let opening = lines[(marker + 1)...].firstIndex(where: { unindented($0).hasPrefix("```") }),
            let closing = lines[(opening + 1)...].firstIndex(where: { unindented($0).hasPrefix("```") })
        else { throw EndToEndError("no block <!-- test: \(name) --> followed by a fenced block in \(document)") }
        let indentation = lines[opening].count - unindented(lines[opening]).count
        return lines[(opening + 1)..<closing].map { $0.dropFirst(min(indentation, $0.count - unindented($0).count)) }
            .joined(separator: "\n") + "\n"
    }
}

extension DocumentedBlock {
    /// One command line of a documented shell block (continuation lines joined) and what it printed.
    struct CommandResult: Sendable, CustomStringConvertible {
        let command: String
        let status: Int32
        let output: String
        /// What the docs say it prints, from a trailing comment: `# yes` or `# no` (as for
        /// `kubectl auth can-i`), or an HTTP status such as `# 403` (for `curl -w '%{http_code}'`);
        /// nil when the docs promise nothing but success.
        let documented: String?

        var description: String { "`\(command)` → \(status): \(output)" }
    }

    /// Runs the shell blocks `names` of `document` as the docs show them, one after the other and
    /// each command line in turn, in one bash (so that what one sets the next uses), after
    /// `prelude` (what stands in for the reader's machine, such as a port-forward's address), in
    /// `directory`; a command starting with one of `standIns` (what needs a kubelet) is not run,
    /// `prelude` does its part. Returns every command's result.
    static func run(
        named names: [String], in document: String, prelude: String = "", standIns: [String] = [],
        environment: [String: String] = [:], directory: URL
    ) async throws -> [CommandResult] {
        var commands: [String] = []
        var pending = ""
        let lines = try names.flatMap { try text(named: $0, in: document).split(separator: "\n", omittingEmptySubsequences: false) }
        for line in lines {
            pending += pending.isEmpty ? String(line) : "\n" + line
            if pending.hasSuffix("\\") { continue }
            if !pending.trimmingCharacters(in: .whitespaces).isEmpty { commands.append(pending) }
            pending = ""
        }
        var script = prelude + "\n"
        for (index, command) in commands.enumerated() {
            let run = standIns.contains { command.hasPrefix($0) } ? "true" : command
            script += "echo '::begin \(index)'\n\(run)\necho \"::end \(index) $?\"\n"
        }
        let file = directory.appendingPathComponent("documented-\(names.joined(separator: "-")).sh")
        try Data(script.utf8).write(to: file)
        var variables = ChildProcess.inheritedEnvironment
        variables.merge(environment) { _, given in given }
        let result = try await CompletedProcess.run(
            "bash", arguments: [file.path], environment: variables, workingDirectory: directory, timeout: .seconds(120))
        var results: [CommandResult] = []
        var output: [String] = []
        for line in result.stdout {
            if line.hasPrefix("::begin ") {
                output = []
            } else if line.hasPrefix("::end ") {
                let fields = line.split(separator: " ")
                guard fields.count == 3, let index = Int(fields[1]), let status = Int32(fields[2]), index < commands.count else { continue }
                let command = commands[index]
                let comment = command.range(of: "# ", options: .backwards).map { command[$0.upperBound...].trimmingCharacters(in: .whitespaces) }
                results.append(CommandResult(
                    command: command, status: status, output: output.joined(separator: "\n"),
                    documented: comment.flatMap { ["yes", "no"].contains($0) || Int($0).map { (100..<600).contains($0) } == true ? $0 : nil }))
            } else {
                output.append(line)
            }
        }
        guard results.count == commands.count else {
            throw EndToEndError("blocks \(names) of \(document) stopped after \(results.count) of \(commands.count) commands:\n\(result.output)")
        }
        return results
    }
}

/// Fails the current test for each documented command that did not do what the docs say: print
/// the `# yes` or `# no` it is documented with, or else succeed.
func expectAsDocumented(_ results: [DocumentedBlock.CommandResult], sourceLocation: SourceLocation = #_sourceLocation) {
    for result in results {
        if let documented = result.documented {
            #expect(result.output.trimmingCharacters(in: .whitespacesAndNewlines) == documented, "\(result)", sourceLocation: sourceLocation)
        } else {
            #expect(result.status == 0, "\(result)", sourceLocation: sourceLocation)
        }
    }
}
