import NIOHTTP1
import RequestPolicy

/// What must hold for any request target a client can send, checked on one fuzzer input: the
/// input is the target of an HTTP request line (`/path?query`), invalid UTF-8 repaired as NIO's
/// decoder repairs it. A broken invariant stops the process, which is how libFuzzer finds it.
enum RequestPolicyInvariants {
    static let user = UserInfo(name: "fuzz", groups: [UserInfo.authenticatedGroup])
    /// Resource attributes whose namespace is the rewrite value, as kube-rbac-proxy's docs show.
    static let rewritingBuilder: AuthorizationAttributesBuilder? = {
        guard let template = try? ResourceAttributesTemplate(namespace: "{{ .Value }}", resource: "pods", subresource: "pprof")
        else { return nil }
        return AuthorizationAttributesBuilder(resourceAttributes: template, rewrites: AttributeRewrites(queryParameter: "namespace"))
    }()

    static func check(_ input: UnsafeRawBufferPointer) {
        let target = String(decoding: input, as: UTF8.self)
        guard let parsed = try? RequestTarget(parsing: target) else { return }
        checkNormalized(parsed)
        checkQuery(parsed)
        checkQuestions(parsed)
        checkCapture(parsed)
    }

    /// Pairs are split at every `&` byte, as Go splits them: a decoded key or value holds an `&`
    /// only when the query escaped one.
    static func checkQuery(_ parsed: RequestTarget) {
        guard let rawQuery = parsed.rawQuery, !rawQuery.lowercased().contains("%26") else { return }
        for (key, value) in URLQuery(parsing: rawQuery).pairs {
            expect(
                !key.utf8.contains(UInt8(ascii: "&")) && !value.utf8.contains(UInt8(ascii: "&")),
                "the query \(rawQuery.debugDescription) gave the pair \(key.debugDescription)=\(value.debugDescription)")
        }
    }

    /// The authorized path is clean byte for byte (as Go's `path.Clean` sees it), and forwarding it
    /// re-encoded names exactly that path again.
    static func checkNormalized(_ parsed: RequestTarget) {
        let path = parsed.path
        let bytes = Array(path.utf8)
        expect(bytes.first == UInt8(ascii: "/"), "normalized path \(path.debugDescription) does not start with /")
        let segments = bytes.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false).dropFirst()
        for (index, segment) in segments.enumerated() {
            let isLast = index == segments.count - 1
            expect(!segment.isEmpty || isLast, "normalized path \(path.debugDescription) has an empty segment")
            expect(
                !segment.elementsEqual(".".utf8) && !segment.elementsEqual("..".utf8),
                "normalized path \(path.debugDescription) has a dot segment")
        }
        expect(!bytes.contains { $0 < 0x20 || $0 == 0x7F }, "normalized path \(path.debugDescription) has a control byte")
        guard let forwarded = try? RequestTarget(parsing: parsed.encodedTarget) else {
            fail("the forwarded target \(parsed.encodedTarget.debugDescription) does not parse")
        }
        expect(forwarded == parsed, "forwarding \(parsed.path.debugDescription) would serve \(forwarded.path.debugDescription)")
        expect(
            parsed.encodedPath.utf8.allSatisfy { $0 > 0x20 && $0 < 0x7F && $0 != UInt8(ascii: "?") && $0 != UInt8(ascii: "#") },
            "encoded path \(parsed.encodedPath.debugDescription) is not a safe request-line path")
        if PathPolicy.pprofOnly().decision(for: path) == .authorize {
            expect(
                bytes.elementsEqual("/debug/pprof".utf8) || bytes.starts(with: "/debug/pprof/".utf8),
                "\(path.debugDescription) passed the pprof-only policy")
        }
    }

    /// One non-resource question about exactly the authorized path; with rewrites, one resource
    /// question per `namespace` value, at most the limit.
    static func checkQuestions(_ parsed: RequestTarget) {
        let plain = try? AuthorizationAttributesBuilder().questions(
            user: user, method: .GET, path: parsed.path, rawQuery: parsed.rawQuery, headers: [:])
        expect(
            plain == [AuthorizationAttributes(user: user, verb: "get", target: .nonResource(path: parsed.path))],
            "the question for \(parsed.path.debugDescription) is \(String(describing: plain))")

        guard let rewritingBuilder else { fail("the rewriting template does not parse") }
        let values = URLQuery(parsing: parsed.rawQuery ?? "").values(for: "namespace")
        do throws(AuthorizationAttributesError) {
            let questions = try rewritingBuilder.questions(
                user: user, method: .GET, path: parsed.path, rawQuery: parsed.rawQuery, headers: [:])
            let namespaces = questions.map { question -> String in
                guard case .resource(let resource) = question.target else { fail("a rewrite asked a non-resource question") }
                return resource.namespace
            }
            expect(namespaces == values, "rewrites asked about \(namespaces), the query holds \(values)")
        } catch {
            switch error {
            case .noRewriteValue:
                expect(values.isEmpty, "no rewrite value found in a query holding \(values)")
            case .tooManyRewriteValues(let count, let limit):
                expect(count == values.count && count > limit, "refused \(count) rewrite values with a limit of \(limit)")
            }
        }
    }

    /// The capture a pprof request starts runs for a positive time (or NaN, which Go cannot bound
    /// either), and a plain decimal `seconds` is read as Swift reads it.
    static func checkCapture(_ parsed: RequestTarget) {
        guard let capture = PprofCapture(path: parsed.path, rawQuery: parsed.rawQuery) else { return }
        let seconds = URLQuery(parsing: parsed.rawQuery ?? "").values(for: "seconds").first ?? ""
        switch capture {
        case .cpuProfile(let parsedSeconds):
            expect(parsedSeconds > 0, "a CPU profile of \(parsedSeconds) s")
            if let plain = Int64(seconds), plain > 0, seconds.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) {
                expect(parsedSeconds == plain, "seconds=\(seconds) read as \(parsedSeconds)")
            }
        case .trace(let parsedSeconds):
            expect(parsedSeconds.isNaN || parsedSeconds > 0, "a trace of \(parsedSeconds) s")
        case .delta(_, let parsedSeconds):
            expect(parsedSeconds > 0, "a delta profile of \(parsedSeconds) s")
        }
    }

    static func expect(_ condition: Bool, _ message: @autoclosure () -> String) {
        if !condition { fail(message()) }
    }

    static func fail(_ message: String) -> Never {
        fatalError("request policy invariant broken: \(message)")
    }
}
