import Foundation
import Testing

/// One captured exchange from `Tests/Fixtures/apiserver/` (scripts/capture-apiserver-fixtures): the
/// request a client sent and the real API server's answer.
struct APIServerFixture: Sendable, CustomTestStringConvertible {
    /// The request body: JSON, or raw text when the capture is a deliberately broken request.
    enum RequestBody: Sendable {
        case json(JSONValue)
        case text(String)
    }

    let name: String
    let requestPath: String
    let requestBody: RequestBody
    let responseStatus: Int
    /// The response body re-serialized as JSON bytes, ready for a decoder or a fake server.
    let responseBody: [UInt8]

    var testDescription: String { name }

    /// `Tests/Fixtures/apiserver` (this file is in Tests/PprofRBACProxyTests/Harness).
    static let directory: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/apiserver").standardizedFileURL

    /// The names (without `.json`) of every fixture file, sorted.
    static var allNames: [String] {
        let files = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        return files.filter { $0.hasSuffix(".json") }.map { String($0.dropLast(".json".count)) }.sorted()
    }

    /// Loads `name.json`, failing with a message that says where the fixtures were expected.
    static func named(_ name: String) throws -> APIServerFixture {
        let url = directory.appendingPathComponent("\(name).json")
        guard let data = FileManager.default.contents(atPath: url.path) else {
            throw FixtureError("API server fixture \(url.path) is missing (scripts/capture-apiserver-fixtures writes them)")
        }
        guard let exchange = try JSONSerialization.jsonObject(with: data) as? [String: Any],
            let request = exchange["request"] as? [String: Any],
            let response = exchange["response"] as? [String: Any],
            let requestPath = request["path"] as? String,
            let status = response["status"] as? Int,
            let responseBody = response["body"]
        else {
            throw FixtureError("API server fixture \(url.path) does not have the request/response shape")
        }
        let requestBody: RequestBody =
            if let text = request["body"] as? String {
                .text(text)
            } else {
                .json(try JSONValue(jsonObject: request["body"] as Any))
            }
        return APIServerFixture(
            name: name,
            requestPath: requestPath,
            requestBody: requestBody,
            responseStatus: status,
            responseBody: Array(try JSONSerialization.data(withJSONObject: responseBody))
        )
    }

    /// The request body as parsed JSON; fails for the text-bodied captures.
    func requestJSON() throws -> JSONValue {
        guard case .json(let value) = requestBody else {
            throw FixtureError("fixture \(name) has a text request body")
        }
        return value
    }
}

/// A fixture could not be found or read.
struct FixtureError: Error, CustomStringConvertible {
    let description: String

    init(_ description: String) {
        self.description = description
    }
}

/// Parsed JSON that compares by meaning (key order and formatting do not matter; `false` is not `0`).
enum JSONValue: Sendable, Hashable, Decodable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Double.self) {
            self = .number(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([JSONValue].self) {
            self = .array(value)
        } else {
            self = .object(try container.decode([String: JSONValue].self))
        }
    }

    init(jsonBytes: some Sequence<UInt8>) throws {
        self = try JSONDecoder().decode(JSONValue.self, from: Data(jsonBytes))
    }

    init(jsonObject: Any) throws {
        try self.init(jsonBytes: JSONSerialization.data(withJSONObject: jsonObject, options: [.fragmentsAllowed]))
    }

    /// The value at `key` of an object, nil otherwise.
    subscript(key: String) -> JSONValue? {
        guard case .object(let members) = self else { return nil }
        return members[key]
    }

    var stringValue: String? {
        guard case .string(let value) = self else { return nil }
        return value
    }
}
