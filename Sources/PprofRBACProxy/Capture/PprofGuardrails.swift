import NIOHTTP1
import RequestPolicy

/// The pprof guardrails on a request that passed authorization: capture endpoints take GET or
/// HEAD without a body, and no capture may run longer than `--max-capture-seconds`.
package struct PprofGuardrails: Sendable {
    package let maximumCaptureSeconds: Int

    package init(maximumCaptureSeconds: Int) {
        self.maximumCaptureSeconds = maximumCaptureSeconds
    }

    /// The refusal for this request, or nil when it may go on.
    package func refusal(method: HTTPMethod, target: RequestTarget, headers: HTTPHeaders) -> ProxyError? {
        guard PprofCapture.isCaptureEndpoint(target.path) else { return nil }
        guard method == .GET || method == .HEAD else {
            return .methodNotAllowed(allowed: ["GET", "HEAD"])
        }
        let declaredLength = headers["content-length"].first.flatMap { Int($0) } ?? 0
        if declaredLength > 0 || headers.contains(name: "transfer-encoding") {
            return .badRequest("\(target.path) takes no request body")
        }
        guard let capture = PprofCapture(path: target.path, rawQuery: target.rawQuery) else { return nil }
        guard capture.seconds <= Double(maximumCaptureSeconds) else {
            return .captureTooLong(seconds: capture.secondsDescription, maximum: maximumCaptureSeconds)
        }
        return nil
    }
}
