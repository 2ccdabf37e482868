import NIOHTTP1
import RequestPolicy

extension PprofGuardrails {
    /// The refusal for this request as the proxy answers it, or nil when it may go on.
    package func refusal(method: HTTPMethod, target: RequestTarget, headers: HTTPHeaders) -> ProxyError? {
        let refusal = refusal(
            method: method, target: target, contentLengths: headers["content-length"],
            hasTransferEncoding: headers.contains(name: "transfer-encoding"))
        switch refusal {
        case nil: return nil
        case .methodNotAllowed(let allowed): return .methodNotAllowed(allowed: allowed)
        case .requestBody(let path): return .badRequest("\(path) takes no request body")
        case .captureTooLong(let seconds, let maximum): return .captureTooLong(seconds: seconds, maximum: maximum)
        }
    }
}
