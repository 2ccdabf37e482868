import Foundation
import Yams

/// Turns a kubeconfig file into a `KubernetesConnection`, following `current-context` as kubectl does.
package enum KubeConfigLoader {
    /// Reads the kubeconfig at `path` and every file it refers to. Relative paths inside the file
    /// resolve against the file's directory. When both a `*-data` field and its file field are set,
    /// the data wins; when both `tokenFile` and `token` are set, the file wins (as in client-go).
    package static func load(path: String) throws(KubeConfigError) -> KubernetesConnection {
        try resolver(path: path).connection()
    }

    /// Context `context` (by default the current one) of the kubeconfig at `path`, as kubectl
    /// reads it: with its namespace and the user's exec plugin, which `load` refuses.
    package static func select(path: String, context: String? = nil) throws(KubeConfigError) -> KubeConfigSelection {
        try resolver(path: path).selection(context: context)
    }

    /// `select` over several files read as one (`KUBECONFIG=a:b`, `KubeConfigMerge`); files that
    /// do not exist are skipped, as kubectl skips them. Errors name the first file.
    package static func select(paths: [String], context: String? = nil) throws(KubeConfigError) -> KubeConfigSelection {
        let existing = paths.filter { FileManager.default.fileExists(atPath: $0) }
        guard existing.count > 1 else { return try select(path: existing.first ?? paths.first ?? "", context: context) }
        var documents: [(path: String, document: KubeConfigFile)] = []
        for path in existing {
            documents.append((path, try document(path: path)))
        }
        return try KubeConfigResolver(path: existing[0], document: KubeConfigMerge.merged(documents)).selection(context: context)
    }

    private static func resolver(path: String) throws(KubeConfigError) -> KubeConfigResolver {
        KubeConfigResolver(path: path, document: try document(path: path))
    }

    private static func document(path: String) throws(KubeConfigError) -> KubeConfigFile {
        let bytes: [UInt8]
        do throws(LocalFile.ReadError) {
            bytes = try LocalFile.contents(atPath: path)
        } catch {
            throw .unreadable(path: path, reason: error.reason)
        }
        return try parse(bytes, path: path)
    }

    private static func parse(_ bytes: [UInt8], path: String) throws(KubeConfigError) -> KubeConfigFile {
        let text = String(decoding: bytes, as: UTF8.self)
        guard !text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
            throw .malformed(path: path, detail: "the file is empty")
        }
        do {
            return try YAMLDecoder().decode(KubeConfigFile.self, from: text)
        } catch let error as YamlError {
            throw .notYAML(path: path, detail: summary(of: error))
        } catch let error as DecodingError {
            if case .dataCorrupted(let context) = error, let yamlError = context.underlyingError as? YamlError {
                throw .notYAML(path: path, detail: summary(of: yamlError))
            }
            throw .malformed(path: path, detail: summary(of: error))
        } catch {
            throw .notYAML(path: path, detail: "\(type(of: error))")
        }
    }

    /// The problem and its position, without the offending text (it could be a token).
    private static func summary(of error: YamlError) -> String {
        switch error {
        case .scanner(_, let problem, let mark, _), .parser(_, let problem, let mark, _),
            .composer(_, let problem, let mark, _):
            "\(problem) at line \(mark.line), column \(mark.column)"
        case .reader(let problem, _, _, _):
            problem
        case .duplicatedKeysInMapping(let duplicates, let context):
            "duplicate keys \(duplicates.joined(separator: ", ")) at line \(context.mark.line)"
        default:
            "unreadable YAML"
        }
    }

    /// Where the document has the wrong shape, without the offending value.
    private static func summary(of error: DecodingError) -> String {
        func location(_ path: [any CodingKey]) -> String {
            let rendered = path.map { key in key.intValue.map { "[\($0)]" } ?? ".\(key.stringValue)" }.joined()
            let trimmed = rendered.hasPrefix(".") ? String(rendered.dropFirst()) : rendered
            return trimmed.isEmpty ? "the document" : trimmed
        }
        switch error {
        case .typeMismatch(let type, let context):
            return "\(location(context.codingPath)) must be \(expectedShape(type))"
        case .valueNotFound(let type, let context):
            return "\(location(context.codingPath)) must be \(expectedShape(type))"
        case .keyNotFound(let key, let context):
            return "\(location(context.codingPath)) has no \(key.stringValue)"
        case .dataCorrupted(let context):
            return "\(location(context.codingPath)) is not valid"
        @unknown default:
            return "unexpected structure"
        }
    }

    /// Yams names the YAML node it wanted (`Sequence`, `Mapping`) or the Swift type.
    private static func expectedShape(_ type: Any.Type) -> String {
        switch type {
        case is String.Type:
            return "a string"
        case is Bool.Type:
            return "true or false"
        default:
            let name = String(describing: type)
            return name.hasSuffix("Sequence") || name.hasPrefix("Array") ? "a list" : "a mapping"
        }
    }
}
