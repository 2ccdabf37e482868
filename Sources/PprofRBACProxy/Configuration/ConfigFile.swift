import Yams

/// The `--config-file` YAML, in kube-rbac-proxy's format (everything under `authorization:`).
public struct ConfigFile: Sendable {
    public var staticRules: [StaticAuthorizationRule]

    public init(staticRules: [StaticAuthorizationRule] = []) {
        self.staticRules = staticRules
    }

    /// Reads and validates a config file.
    public static func load(path: String) throws(ConfigurationError) -> ConfigFile {
        let text = try ConfigurationError.readText(flag: "--config-file", path: path)
        return try parse(text, source: path)
    }

    /// Parses and validates config-file YAML; `source` names it in errors.
    public static func parse(_ yaml: String, source: String) throws(ConfigurationError) -> ConfigFile {
        let document: Document
        do {
            document = try YAMLDecoder().decode(Document.self, from: yaml.isEmpty ? "{}" : yaml)
        } catch {
            throw .invalidConfigFile(path: source, reason: String(describing: error))
        }
        guard let authorization = document.authorization else { return ConfigFile() }
        if authorization.resourceAttributes != nil || authorization.rewrites != nil {
            throw .invalidConfigFile(
                path: source,
                reason: "authorization.resourceAttributes and authorization.rewrites are not supported yet"
            )
        }
        var rules: [StaticAuthorizationRule] = []
        for (index, rule) in (authorization.static ?? []).enumerated() {
            rules.append(try rule.validated(index: index, source: source))
        }
        return ConfigFile(staticRules: rules)
    }

    private struct Document: Decodable {
        var authorization: Authorization?
    }

    private struct Authorization: Decodable {
        var `static`: [StaticRule]?
        var resourceAttributes: [String: String]?
        var rewrites: [String: [String: String]]?
    }

    private struct StaticRule: Decodable {
        struct User: Decodable {
            var name: String?
            var groups: [String]?
        }

        var user: User?
        var verb: String?
        var namespace: String?
        var apiGroup: String?
        var resource: String?
        var subresource: String?
        var name: String?
        var resourceRequest: Bool?
        var path: String?

        func validated(index: Int, source: String) throws(ConfigurationError) -> StaticAuthorizationRule {
            let resourceRequest = resourceRequest ?? false
            let path = path ?? ""
            if resourceRequest && !path.isEmpty {
                throw .invalidConfigFile(
                    path: source, reason: "authorization.static[\(index)]: a resourceRequest rule cannot have a path")
            }
            if !resourceRequest && path.isEmpty {
                throw .invalidConfigFile(
                    path: source, reason: "authorization.static[\(index)]: a non-resource rule needs a path")
            }
            let pattern: PathPattern?
            do {
                pattern = path.isEmpty ? nil : try PathPattern(path)
            } catch {
                throw .invalidConfigFile(path: source, reason: "authorization.static[\(index)]: \(error)")
            }
            return StaticAuthorizationRule(
                userName: user?.name ?? "", groups: user?.groups ?? [], verb: verb ?? "",
                resourceRequest: resourceRequest, path: pattern, namespace: namespace ?? "",
                apiGroup: apiGroup ?? "", resource: resource ?? "", subresource: subresource ?? "",
                name: name ?? ""
            )
        }
    }
}
