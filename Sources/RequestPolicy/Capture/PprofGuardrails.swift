import NIOHTTP1

/// The pprof guardrails on a request that passed authorization: capture endpoints take GET or
/// HEAD without a body, and no capture may run longer than `--max-capture-seconds`.
package struct PprofGuardrails: Sendable {
    /// Why a capture request is refused.
    package enum Refusal: Sendable, Hashable {
        /// Only these methods may start a capture.
        case methodNotAllowed(allowed: [String])
        /// The request declares a body, which a capture endpoint does not take.
        case requestBody(path: String)
        /// The capture would run `seconds` (as the client spelled it), over `maximum`.
        case captureTooLong(seconds: String, maximum: Int)
    }

    package let maximumCaptureSeconds: Int

    package init(maximumCaptureSeconds: Int) {
        self.maximumCaptureSeconds = maximumCaptureSeconds
    }

    /// The refusal for this request, or nil when it may go on; `contentLengths` and
    /// `hasTransferEncoding` are what the request's `Content-Length` and `Transfer-Encoding` headers say.
    package func refusal(
        method: HTTPMethod, target: RequestTarget, contentLengths: [String], hasTransferEncoding: Bool
    ) -> Refusal? {
        guard PprofCapture.isCaptureEndpoint(target.path) else { return nil }
        guard method == .GET || method == .HEAD else {
            return .methodNotAllowed(allowed: ["GET", "HEAD"])
        }
        let declaredLength = contentLengths.first.flatMap { Int($0) } ?? 0
        if declaredLength > 0 || hasTransferEncoding {
            return .requestBody(path: target.path)
        }
        guard let capture = PprofCapture(path: target.path, rawQuery: target.rawQuery) else { return nil }
        guard capture.seconds <= Double(maximumCaptureSeconds) else {
            return .captureTooLong(seconds: capture.secondsDescription, maximum: maximumCaptureSeconds)
        }
        return nil
    }
}
