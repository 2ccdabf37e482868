import RequestPolicy
import Yams

/// The `--config-file` YAML, in kube-rbac-proxy's format (everything under `authorization:`):
/// `resourceAttributes`, `rewrites` and `static` rules. Keys are matched as Go's JSON decoding
/// matches them (exactly, else ignoring case); unlike kube-rbac-proxy, unknown keys are refused.
package struct ConfigFile: Sendable {
    package var staticRules: [StaticAuthorizationRule]
    /// When set, every request is authorized as a question about this resource.
    package var resourceAttributes: ResourceAttributesTemplate?
    /// Where `{{ .Value }}` in `resourceAttributes` comes from; set only with `resourceAttributes`.
    package var rewrites: AttributeRewrites?

    package init(
        staticRules: [StaticAuthorizationRule] = [], resourceAttributes: ResourceAttributesTemplate? = nil,
        rewrites: AttributeRewrites? = nil
    ) {
        self.staticRules = staticRules
        self.resourceAttributes = resourceAttributes
        self.rewrites = rewrites
    }

    /// Reads and validates a config file.
    package static func load(path: String) throws(ConfigurationError) -> ConfigFile {
        let text = try ConfigurationError.readText(flag: "--config-file", path: path)
        return try parse(text, source: path)
    }

    /// Parses and validates config-file YAML; `source` names it in errors. An empty file, or one
    /// without `authorization:`, is valid and configures nothing.
    package static func parse(_ yaml: String, source: String) throws(ConfigurationError) -> ConfigFile {
        let root: Node?
        do {
            root = try Yams.compose(yaml: yaml)
        } catch {
            throw .invalidConfigFile(path: source, reason: "not valid YAML: \(error)")
        }
        let reader = ConfigFileReader(source: source)
        guard let root, let document = try reader.mapping(root, at: "the document", keys: ["authorization"]) else {
            return ConfigFile()
        }
        guard let authorizationNode = document["authorization"],
            let authorization = try reader.mapping(
                authorizationNode, at: "authorization", keys: ["resourceAttributes", "rewrites", "static"]
            )
        else { return ConfigFile() }

        var config = ConfigFile()
        if let node = authorization["resourceAttributes"] {
            config.resourceAttributes = try reader.resourceAttributes(node)
        }
        if let node = authorization["rewrites"] {
            config.rewrites = try reader.rewrites(node)
        }
        if let node = authorization["static"] {
            config.staticRules = try reader.staticRules(node)
        }
        if let rewrites = authorization["rewrites"], config.rewrites != nil, config.resourceAttributes == nil {
            throw reader.failure(
                at: "authorization.rewrites", node: rewrites,
                "rewrites only apply to authorization.resourceAttributes, which is not set"
            )
        }
        if let resourceNode = authorization["resourceAttributes"], config.rewrites == nil,
            config.resourceAttributes?.usesValue == true
        {
            throw reader.failure(
                at: "authorization.resourceAttributes", node: resourceNode,
                "{{ .Value }} needs authorization.rewrites to say where the value comes from"
            )
        }
        return config
    }
}

/// Walks the YAML tree of a config file, checking keys and types; every failure names the key
/// path and the line.
private struct ConfigFileReader {
    let source: String

    func failure(at path: String, node: Node, _ reason: String) -> ConfigurationError {
        let line = node.mark.map { "line \($0.line): " } ?? ""
        return .invalidConfigFile(path: source, reason: "\(line)\(path): \(reason)")
    }

    /// A mapping's values by their canonical key; nil for null. A key that matches none of `keys`
    /// (exactly, or ignoring case as Go's JSON decoding does) is refused, naming it and its line.
    func mapping(_ node: Node, at path: String, keys: [String]) throws(ConfigurationError) -> [String: Node]? {
        if isNull(node) { return nil }
        guard case .mapping(let mapping) = node else {
            throw failure(at: path, node: node, "expected a mapping, found \(kind(of: node))")
        }
        var values: [String: Node] = [:]
        for (keyNode, value) in mapping {
            let key = keyNode.string ?? ""
            guard let canonical = keys.first(where: { $0 == key }) ?? keys.first(where: { $0.lowercased() == key.lowercased() })
            else {
                let expected = keys.joined(separator: ", ")
                throw failure(at: path, node: keyNode, "unknown key \"\(key)\" (expected one of: \(expected))")
            }
            guard values[canonical] == nil else {
                throw failure(at: path, node: keyNode, "\"\(key)\" is given twice")
            }
            values[canonical] = value
        }
        return values
    }

    /// A string field; nil for null. Numbers and booleans are refused, as Go refuses them for a string.
    func string(_ node: Node?, at path: String) throws(ConfigurationError) -> String? {
        guard let node, !isNull(node) else { return nil }
        guard case .scalar(let scalar) = node, ![.bool, .int, .float].contains(tagName(of: node)) else {
            throw failure(at: path, node: node, "expected a string, found \(kind(of: node)) (quote it)")
        }
        return scalar.string
    }

    func bool(_ node: Node?, at path: String) throws(ConfigurationError) -> Bool? {
        guard let node, !isNull(node) else { return nil }
        guard case .scalar = node, tagName(of: node) == .bool, let value = node.bool else {
            throw failure(at: path, node: node, "expected true or false, found \(kind(of: node))")
        }
        return value
    }

    func sequence(_ node: Node?, at path: String) throws(ConfigurationError) -> [Node] {
        guard let node, !isNull(node) else { return [] }
        guard case .sequence(let sequence) = node else {
            throw failure(at: path, node: node, "expected a list, found \(kind(of: node))")
        }
        return Array(sequence)
    }

    func resourceAttributes(_ node: Node) throws(ConfigurationError) -> ResourceAttributesTemplate? {
        let path = "authorization.resourceAttributes"
        let fieldNames = ["namespace", "apiGroup", "apiVersion", "resource", "subresource", "name"]
        guard let fields = try mapping(node, at: path, keys: fieldNames) else { return nil }
        var templates: [String: AttributeTemplate] = [:]
        for field in fieldNames {
            let text = try string(fields[field], at: "\(path).\(field)") ?? ""
            do {
                templates[field] = try AttributeTemplate(parsing: text)
            } catch {
                throw failure(at: "\(path).\(field)", node: fields[field] ?? node, error.description)
            }
        }
        let empty = AttributeTemplate.empty
        return ResourceAttributesTemplate(
            namespace: templates["namespace"] ?? empty, group: templates["apiGroup"] ?? empty,
            version: templates["apiVersion"] ?? empty, resource: templates["resource"] ?? empty,
            subresource: templates["subresource"] ?? empty, name: templates["name"] ?? empty
        )
    }

    func rewrites(_ node: Node) throws(ConfigurationError) -> AttributeRewrites? {
        let path = "authorization.rewrites"
        guard let sources = try mapping(node, at: path, keys: ["byQueryParameter", "byHttpHeader"]) else { return nil }
        var rewrites = AttributeRewrites()
        if let parameterNode = sources["byQueryParameter"],
            let parameter = try mapping(parameterNode, at: "\(path).byQueryParameter", keys: ["name"]),
            let name = try string(parameter["name"], at: "\(path).byQueryParameter.name"), !name.isEmpty
        {
            rewrites.queryParameter = name
        }
        if let headerNode = sources["byHttpHeader"],
            let header = try mapping(headerNode, at: "\(path).byHttpHeader", keys: ["name"]),
            let name = try string(header["name"], at: "\(path).byHttpHeader.name"), !name.isEmpty
        {
            guard HTTPFieldName.isValid(name) else {
                throw failure(at: "\(path).byHttpHeader.name", node: header["name"] ?? node, "\"\(name)\" is not a valid header name")
            }
            rewrites.httpHeader = name
        }
        guard rewrites.queryParameter != nil || rewrites.httpHeader != nil else {
            throw failure(at: path, node: node, "names neither byQueryParameter.name nor byHttpHeader.name")
        }
        return rewrites
    }

    func staticRules(_ node: Node) throws(ConfigurationError) -> [StaticAuthorizationRule] {
        var rules: [StaticAuthorizationRule] = []
        for (index, ruleNode) in try sequence(node, at: "authorization.static").enumerated() {
            rules.append(try staticRule(ruleNode, at: "authorization.static[\(index)]"))
        }
        return rules
    }

    private func staticRule(_ node: Node, at path: String) throws(ConfigurationError) -> StaticAuthorizationRule {
        let keys = ["user", "verb", "namespace", "apiGroup", "resource", "subresource", "name", "resourceRequest", "path"]
        guard let fields = try mapping(node, at: path, keys: keys) else {
            throw failure(at: path, node: node, "expected a rule, found null")
        }
        var userName = ""
        var groups: [String] = []
        if let userNode = fields["user"], let user = try mapping(userNode, at: "\(path).user", keys: ["name", "groups"]) {
            userName = try string(user["name"], at: "\(path).user.name") ?? ""
            for (index, groupNode) in try sequence(user["groups"], at: "\(path).user.groups").enumerated() {
                groups.append(try string(groupNode, at: "\(path).user.groups[\(index)]") ?? "")
            }
        }
        let resourceRequest = try bool(fields["resourceRequest"], at: "\(path).resourceRequest") ?? false
        let pathText = try string(fields["path"], at: "\(path).path") ?? ""
        if resourceRequest && !pathText.isEmpty {
            throw failure(at: path, node: node, "a resourceRequest rule cannot have a path")
        }
        if !resourceRequest && pathText.isEmpty {
            throw failure(at: path, node: node, "a non-resource rule needs a path")
        }
        let pattern: PathPattern?
        do {
            pattern = pathText.isEmpty ? nil : try PathPattern(pathText)
        } catch {
            throw failure(at: "\(path).path", node: fields["path"] ?? node, error.description)
        }
        return StaticAuthorizationRule(
            userName: userName, groups: groups, verb: try string(fields["verb"], at: "\(path).verb") ?? "",
            resourceRequest: resourceRequest, path: pattern,
            namespace: try string(fields["namespace"], at: "\(path).namespace") ?? "",
            apiGroup: try string(fields["apiGroup"], at: "\(path).apiGroup") ?? "",
            resource: try string(fields["resource"], at: "\(path).resource") ?? "",
            subresource: try string(fields["subresource"], at: "\(path).subresource") ?? "",
            name: try string(fields["name"], at: "\(path).name") ?? ""
        )
    }

    /// The node's type as YAML resolves it (quoted scalars are strings).
    private func tagName(of node: Node) -> Tag.Name {
        Resolver.default.resolveTag(of: node)
    }

    private func isNull(_ node: Node) -> Bool {
        if case .scalar = node { return tagName(of: node) == .null }
        return false
    }

    private func kind(of node: Node) -> String {
        switch node {
        case .mapping: "a mapping"
        case .sequence: "a list"
        case .alias: "an alias"
        case .scalar(let scalar):
            switch tagName(of: node) {
            case .bool: "the boolean \(scalar.string)"
            case .int, .float: "the number \(scalar.string)"
            case .null: "null"
            default: "the string \"\(scalar.string)\""
            }
        }
    }
}
