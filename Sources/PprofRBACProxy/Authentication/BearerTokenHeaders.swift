import NIOHTTP1
import RequestPolicy

extension BearerToken {
    /// The token in a request's `Authorization` headers (see `extract(authorizationValues:acceptingBasic:)`).
    package static func extract(from headers: HTTPHeaders, acceptingBasic: Bool = false) throws(HeaderError) -> String? {
        try extract(authorizationValues: headers["authorization"], acceptingBasic: acceptingBasic)
    }
}
