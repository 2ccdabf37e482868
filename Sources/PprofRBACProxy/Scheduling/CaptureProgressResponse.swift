import NIOHTTP1
import RequestPolicy

extension CaptureProgress {
    /// The `102 Processing` answer that tells a client which asked (`Pprof-Capture-Progress: 1`)
    /// where its capture stands.
    func interimHead(version: HTTPVersion) -> HTTPResponseHead {
        var headers = HTTPHeaders()
        headers.add(name: Self.responseField, value: fieldValue)
        return HTTPResponseHead(version: version, status: .processing, headers: headers)
    }
}
