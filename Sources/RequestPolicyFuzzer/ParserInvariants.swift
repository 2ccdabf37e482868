import Foundation
import RequestPolicy

/// What must hold for the attacker-reachable parsers besides the request target, each fed the same
/// fuzzer input: as an `Authorization` header value, a Go duration, a token file, a static rule's
/// path glob, and (through the request target) the pprof guardrails.
enum ParserInvariants {
    /// The `--max-capture-seconds` the guardrails are checked with.
    static let captureCap = 60

    static func check(_ input: UnsafeRawBufferPointer) {
        let text = String(decoding: input, as: UTF8.self)
        checkBearerToken(text)
        checkBasicRoundTrip(text)
        checkGoDuration(text)
        checkGoDurationFormat(input)
        checkTokenAuthFile(text)
        checkStaticRules(text)
        if let target = try? RequestTarget(parsing: text) { checkGuardrails(target) }
    }

    /// A Bearer token is a non-empty, bounded substring of the header value with no space in it (nor
    /// CR or LF, which NIO never lets into a value); without `acceptingBasic` a Basic header gives nothing.
    static func checkBearerToken(_ value: String) {
        let plain = try? BearerToken.extract(authorizationValues: [value])
        if let token = plain {
            RequestPolicyInvariants.expect(
                !token.isEmpty && token.utf8.count <= BearerToken.maximumLength && !token.utf8.contains(UInt8(ascii: " "))
                    && containsBytes(value, token),
                "the header \(value.debugDescription) gave the token \(token.debugDescription)")
            if !value.contains(where: { $0 == "\r" || $0 == "\n" || $0 == "\r\n" }) {
                RequestPolicyInvariants.expect(
                    !token.contains(where: { $0 == "\r" || $0 == "\n" || $0 == "\r\n" }),
                    "the token \(token.debugDescription) holds a line break")
            }
            RequestPolicyInvariants.expect(
                scheme(value) == "bearer",
                "the header \(value.debugDescription) is not Bearer but gave a token")
        }
        let basic = try? BearerToken.extract(authorizationValues: [value], acceptingBasic: true)
        if scheme(value) == "basic" {
            RequestPolicyInvariants.expect(plain == nil, "Basic credentials read without acceptingBasic")
        } else {
            RequestPolicyInvariants.expect(basic == plain, "acceptingBasic changed how \(value.debugDescription) reads")
        }
        do throws(BearerToken.HeaderError) {
            _ = try BearerToken.extract(authorizationValues: [value, value])
            RequestPolicyInvariants.fail("two Authorization headers were accepted")
        } catch {
            RequestPolicyInvariants.expect(error == .multipleAuthorizationHeaders, "two headers refused as \(error)")
        }
    }

    /// The header value's first word, lower-cased, cut at the first space byte as Go cuts it (a
    /// combining mark after the space must not fuse with it, as it does in a Character split).
    static func scheme(_ value: String) -> String {
        let first = value.utf8.split(separator: UInt8(ascii: " "), maxSplits: 1, omittingEmptySubsequences: false).first
        return first.map { Substring($0).lowercased() } ?? ""
    }

    /// Whether `needle`'s bytes occur in `haystack`'s, compared byte for byte (not as Characters,
    /// where a combining mark at the edge changes what matches).
    static func containsBytes(_ haystack: String, _ needle: String) -> Bool {
        let bytes = Array(haystack.utf8)
        let wanted = Array(needle.utf8)
        guard wanted.count <= bytes.count else { return false }
        return (0...(bytes.count - wanted.count)).contains { start in bytes[start..<(start + wanted.count)].elementsEqual(wanted) }
    }

    /// Basic credentials `user:token` encoded as a client encodes them decode to exactly the token.
    static func checkBasicRoundTrip(_ token: String) {
        guard !token.isEmpty, token.utf8.count <= BearerToken.maximumLength else { return }
        let header = "Basic " + Data("fuzz:\(token)".utf8).base64EncodedString()
        let decoded = try? BearerToken.extract(authorizationValues: [header], acceptingBasic: true)
        RequestPolicyInvariants.expect(
            decoded == token, "Basic credentials for \(token.debugDescription) decoded to \(String(describing: decoded))")
    }

    /// Parsing never traps; what it accepts (within 2⁶² ns) formats to text that parses back to
    /// the same duration (within Double rounding), with the sign it was written with;
    /// anything past `Int64.max` nanoseconds is refused.
    static func checkGoDuration(_ text: String) {
        guard let duration = try? GoDuration.parse(text) else { return }
        if duration.components.seconds.magnitude < UInt64(1) << 62 / 1_000_000_000 {
            checkReparses(duration, written: text)
        }
        if text.hasPrefix("-") {
            RequestPolicyInvariants.expect(duration <= .zero, "\(text.debugDescription) parsed as \(duration)")
        } else {
            RequestPolicyInvariants.expect(duration >= .zero, "\(text.debugDescription) parsed as \(duration)")
        }
        let overflowing = text + "2562048h"
        RequestPolicyInvariants.expect(
            (try? GoDuration.parse(overflowing)) == nil, "\(overflowing.debugDescription) is past Int64.max ns but parsed")
    }

    /// Any duration the input's first 8 bytes name (within 2⁶² ns, where Double still sums the
    /// units closely enough) formats to text that parses back to it.
    static func checkGoDurationFormat(_ input: UnsafeRawBufferPointer) {
        guard input.count >= 8 else { return }
        var bits: UInt64 = 0
        for byte in input.prefix(8) { bits = bits << 8 | UInt64(byte) }
        let nanoseconds = Int64(bitPattern: bits) >> 1
        checkReparses(.nanoseconds(nanoseconds), written: String(nanoseconds) + "ns")
    }

    /// `duration` formats to text that parses back to it within Double rounding.
    static func checkReparses(_ duration: Duration, written: String) {
        let formatted = GoDuration.format(duration)
        guard let reparsed = try? GoDuration.parse(formatted) else {
            RequestPolicyInvariants.fail("\(written.debugDescription) formats as \(formatted.debugDescription), which does not parse")
        }
        let (seconds, attoseconds) = (reparsed - duration).components
        let error = (seconds * 1_000_000_000 + attoseconds / 1_000_000_000).magnitude
        let (wholeSeconds, _) = duration.components
        RequestPolicyInvariants.expect(
            error <= 4 + wholeSeconds.magnitude / 1_000_000,
            "\(written.debugDescription) formats as \(formatted.debugDescription), which parses as \(reparsed)")
    }

    /// A token file never maps an empty token, parses the same twice, and written back out with
    /// every field quoted parses to the same users.
    static func checkTokenAuthFile(_ text: String) {
        guard let file = try? TokenAuthFile(parsing: text) else { return }
        RequestPolicyInvariants.expect(file.users[""] == nil, "the token file \(text.debugDescription) maps an empty token")
        let again = try? TokenAuthFile(parsing: text)
        RequestPolicyInvariants.expect(again?.users == file.users, "the token file \(text.debugDescription) parsed two ways")
        let rewritten = file.users.map { token, user in
            let fields = [token, user.name, user.uid] + (user.groups.isEmpty ? [] : [user.groups.joined(separator: ",")])
            return fields.map { "\"" + $0.replacingOccurrences(of: "\"", with: "\"\"") + "\"" }.joined(separator: ",")
        }.joined(separator: "\n")
        let reparsed = try? TokenAuthFile(parsing: rewritten)
        RequestPolicyInvariants.expect(
            reparsed?.users == file.users,
            "the token file \(text.debugDescription) written back as \(rewritten.debugDescription) reads differently")
    }

    /// Static-rule matching is deterministic, agrees with the rule's path glob, and a rule that
    /// names another user, or asks for a resource request, never allows a non-resource request.
    static func checkStaticRules(_ text: String) {
        let user = RequestPolicyInvariants.user
        let request = AuthorizationAttributes(user: user, verb: "get", target: .nonResource(path: text))
        let everything = StaticAuthorizationRule()
        RequestPolicyInvariants.expect(everything.matches(request), "the empty rule did not match \(text.debugDescription)")
        let otherUser = StaticAuthorizationRule(userName: user.name + "-other")
        let resourceOnly = StaticAuthorizationRule(resourceRequest: true)
        let otherGroup = StaticAuthorizationRule(groups: ["not-" + (user.groups.first ?? "")])
        for rule in [otherUser, resourceOnly, otherGroup] {
            RequestPolicyInvariants.expect(!rule.matches(request), "\(rule) allowed \(request)")
        }
        guard let pattern = try? PathPattern(text) else { return }
        let rule = StaticAuthorizationRule(userName: user.name, verb: "get", path: pattern)
        for path in [text, "/debug/pprof/heap", "/" + text] {
            let attributes = AuthorizationAttributes(user: user, verb: "get", target: .nonResource(path: path))
            let first = rule.matches(attributes)
            RequestPolicyInvariants.expect(
                first == rule.matches(attributes) && first == pattern.matches(path),
                "the rule for \(text.debugDescription) judged \(path.debugDescription) inconsistently")
            let otherVerb = AuthorizationAttributes(user: user, verb: "delete", target: .nonResource(path: path))
            RequestPolicyInvariants.expect(!rule.matches(otherVerb), "a get rule allowed delete on \(path.debugDescription)")
        }
    }

    /// A capture the guardrails let through never runs longer than the cap, however `seconds` is
    /// spelled; only a body-less GET or HEAD reaches a capture endpoint.
    static func checkGuardrails(_ target: RequestTarget) {
        let guardrails = PprofGuardrails(maximumCaptureSeconds: captureCap)
        let refusal = guardrails.refusal(method: .GET, target: target, contentLengths: [], hasTransferEncoding: false)
        let capture = PprofCapture(path: target.path, rawQuery: target.rawQuery)
        if refusal == nil, let capture {
            RequestPolicyInvariants.expect(
                capture.seconds <= Double(captureCap), "\(target.encodedTarget.debugDescription) captures \(capture.seconds) s")
        }
        let seconds = URLQuery(parsing: target.rawQuery ?? "").values(for: "seconds").first ?? ""
        if PprofCapture.isCaptureEndpoint(target.path), target.path != "/debug/pprof/trace",
            let plain = Int(seconds), plain > captureCap, seconds.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 })
        {
            RequestPolicyInvariants.expect(refusal != nil, "seconds=\(seconds) passed a cap of \(captureCap)")
        }
        guard PprofCapture.isCaptureEndpoint(target.path) else {
            RequestPolicyInvariants.expect(refusal == nil, "\(target.path.debugDescription) is no capture but was refused")
            return
        }
        let post = guardrails.refusal(method: .POST, target: target, contentLengths: [], hasTransferEncoding: false)
        RequestPolicyInvariants.expect(post == .methodNotAllowed(allowed: ["GET", "HEAD"]), "POST \(target.path) was not refused")
        let withBody = guardrails.refusal(method: .GET, target: target, contentLengths: ["1"], hasTransferEncoding: false)
        let chunked = guardrails.refusal(method: .HEAD, target: target, contentLengths: [], hasTransferEncoding: true)
        RequestPolicyInvariants.expect(
            withBody == .requestBody(path: target.path) && chunked == .requestBody(path: target.path),
            "a request body to \(target.path) was not refused")
    }
}
