import Foundation

/// What to tell a person whose request the proxy did not answer with 200: what was refused, why,
/// and what to do (the RBAC to grant for a 403, the identity that was sent for a 401).
package enum RefusalAdvice {
    /// deploy/'s `pprof-reader` ClusterRole (deploy/base/pprof-reader-role.yaml), printed for a 403.
    package static let readerRole = """
        apiVersion: rbac.authorization.k8s.io/v1
        kind: ClusterRole
        metadata:
          name: pprof-reader
        rules:
          - nonResourceURLs: ["/debug/pprof", "/debug/pprof/*"]
            verbs: ["get"]
          - nonResourceURLs: ["/debug/pprof/symbol"]
            verbs: ["post"]
        """

    /// The failure for `answer`, fetched by `identity` from `where_` (a pod or a URL) in `namespace`.
    package static func failure(
        for answer: ProfileFetcher.Answer, identity: CallerIdentity, from where_: String, namespace: String
    ) -> PluginFailure {
        let body = answer.text.split(separator: "\n").first.map(String.init)?.trimmingCharacters(in: .whitespaces) ?? ""
        let said = body.isEmpty ? "" : ": \(body)"
        switch answer.status {
        case 401:
            return .refused(
                status: 401, summary: "the proxy at \(where_) refused your identity (401 Unauthorized)",
                advice: unauthorized(identity))
        case 403:
            return .refused(
                status: 403, summary: "the proxy at \(where_) says you may not (403\(said))", advice: forbidden(body, namespace: namespace))
        case 429:
            let retry = answer.headers["retry-after"].first.map { " Retry in \($0) s," } ?? ""
            return .refused(
                status: 429, summary: "the proxy at \(where_) is busy (429\(said))",
                advice: ["The pod's profiler is taken by other captures.\(retry) or run again with --wait to wait for it."])
        case 404:
            return .refused(
                status: 404, summary: "the proxy at \(where_) does not serve this path (404\(said))",
                advice: ["Is this pprof-rbac-proxy in front of net/http/pprof, and does its --allow-paths include /debug/pprof?"])
        case 503:
            return .refused(
                status: 503, summary: "the proxy at \(where_) cannot check credentials now (503\(said))",
                advice: ["It cannot reach the Kubernetes API; try again shortly."])
        case 502:
            return .refused(
                status: 502, summary: "the proxy at \(where_) could not get the profile from the program (502\(said))",
                advice: ["Is pprof listening where the proxy's --upstream points (127.0.0.1:8081 in deploy/)?"])
        default:
            return .refused(status: answer.status, summary: "the proxy at \(where_) answered \(answer.status)\(said)", advice: [])
        }
    }

    /// Which identity was sent and the likely reasons it was not accepted.
    static func unauthorized(_ identity: CallerIdentity) -> [String] {
        var lines = ["Sent: \(identity.description)."]
        if let token = identity.bearerToken {
            if let claims = TokenClaims(token) {
                lines.append("The token is a JWT for \(claims.subject ?? "an unnamed subject")"
                    + (claims.audiences.isEmpty ? "" : ", audiences \(claims.audiences.joined(separator: ", "))")
                    + (claims.expiry.map { ", \($0 < Date() ? "expired" : "expiring") \(ISO8601DateFormatter().string(from: $0))" } ?? "") + ".")
                if let expiry = claims.expiry, expiry < Date() {
                    lines.append("It has expired: get a new one (log in again, or use --token-from-serviceaccount NS/NAME).")
                }
            }
            lines.append("The proxy's TokenReview did not accept it. If the proxy runs with --auth-token-audiences, the token "
                + "must carry one of them: --token-from-serviceaccount NS/NAME --token-audience AUDIENCE asks for such a token.")
        }
        if identity.clientCertificatePEM != nil {
            lines.append("A client certificate is accepted only by a proxy started with --client-ca-file set to the CA that signed it "
                + "(for kubeconfig users, the cluster's client CA).")
        }
        if identity.bearerToken == nil && identity.clientCertificatePEM == nil {
            lines.append("Your kubeconfig user has no token, exec plugin or client certificate the proxy could check: "
                + "use --token-from-serviceaccount NS/NAME for a ServiceAccount bound to pprof-reader.")
        }
        return lines
    }

    /// The permission the proxy's 403 names, and how to grant it.
    static func forbidden(_ body: String, namespace: String) -> [String] {
        let fields = Self.fields(of: body)
        guard let user = fields["user"] else {
            return ["Ask for the pprof-reader ClusterRole of deploy/ to be bound to you:", readerRole]
        }
        let verb = fields["verb"] ?? "get"
        let subject = bindingSubject(for: user)
        if let resource = fields["resource"] {
            let subresource = fields["subresource"].flatMap { $0.isEmpty ? nil : $0 }
            let full = subresource.map { "\(resource)/\($0)" } ?? resource
            return [
                "Missing: \(verb) on \(full) in namespace \(namespace) for \(user) (the proxy asks about a resource: its --config-file sets resourceAttributes).",
                "Grant it with a Role in that namespace:",
                "  kubectl -n \(namespace) create role pprof-reader --verb=\(verb) --resource=\(full)",
                "  kubectl -n \(namespace) create rolebinding \(bindingName(for: user)) --role=pprof-reader \(subject)",
            ]
        }
        let path = fields["path"] ?? "/debug/pprof/..."
        return [
            "Missing: \(verb) on the non-resource URL \(path) for \(user).",
            "deploy/ creates the ClusterRole that grants it (kubectl apply -k deploy/base, or this):",
            readerRole.split(separator: "\n").map { "  " + $0 }.joined(separator: "\n"),
            "Bind it to you, or to a group of yours (--group=GROUP):",
            "  kubectl create clusterrolebinding \(bindingName(for: user)) --clusterrole=pprof-reader \(subject)",
        ]
    }

    /// `user=…, verb=…` pairs of the proxy's `Forbidden (user=alice, verb=get, path=/debug/pprof/heap)`.
    static func fields(of body: String) -> [String: String] {
        guard let open = body.firstIndex(of: "("), let close = body.lastIndex(of: ")"), open < close else { return [:] }
        var fields: [String: String] = [:]
        for pair in body[body.index(after: open)..<close].split(separator: ",") {
            let parts = pair.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            if parts.count == 2 { fields[parts[0]] = parts[1] }
        }
        return fields
    }

    /// `--user=NAME`, or `--serviceaccount=NS:NAME` for a ServiceAccount's user name.
    static func bindingSubject(for user: String) -> String {
        let prefix = "system:serviceaccount:"
        if user.hasPrefix(prefix) {
            return "--serviceaccount=\(user.dropFirst(prefix.count))"
        }
        return "--user=\(user)"
    }

    /// `pprof-reader-` and the user's name as an object name allows.
    static func bindingName(for user: String) -> String {
        let name = user.lowercased().map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "." ? $0 : "-" }
        return "pprof-reader-" + String(name).trimmingCharacters(in: CharacterSet(charactersIn: "-."))
    }
}

/// The unverified claims of a JWT (ServiceAccount and OIDC tokens are JWTs), for telling a person
/// why a token was refused. Nothing here is trusted; the token itself is never shown.
struct TokenClaims {
    var subject: String?
    var audiences: [String]
    var expiry: Date?

    init?(_ token: String) {
        let parts = token.split(separator: ".")
        guard parts.count == 3 else { return nil }
        var base64 = parts[1].replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while base64.count % 4 != 0 { base64 += "=" }
        guard let data = Data(base64Encoded: base64),
            let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any]
        else { return nil }
        subject = object["sub"] as? String
        if let audience = object["aud"] as? String {
            audiences = [audience]
        } else {
            audiences = object["aud"] as? [String] ?? []
        }
        expiry = (object["exp"] as? Double).map { Date(timeIntervalSince1970: $0) }
    }
}
