import Logging
import NIOHTTP1
import X509

/// What the gate sees of a request: its head, never its body, and the connection's client certificates.
public struct GateRequest: Sendable {
    public var method: HTTPMethod
    public var target: String
    public var headers: HTTPHeaders
    /// The certificates presented in the TLS handshake, leaf first; not yet verified.
    public var clientCertificates: [Certificate]

    public init(method: HTTPMethod, target: String, headers: HTTPHeaders, clientCertificates: [Certificate] = []) {
        self.method = method
        self.target = target
        self.headers = headers
        self.clientCertificates = clientCertificates
    }
}

/// A request the gate let through: the normalized target, and who asked (nil on `--ignore-paths`,
/// which are forwarded without authentication).
public struct AuthorizedRequest: Sendable, Hashable {
    public var target: RequestTarget
    public var user: UserInfo?
}

/// The gate's verdict on a request head.
public enum GateDecision: Sendable, Hashable {
    case forward(AuthorizedRequest)
    /// Answer with this error; `user` is set when the caller was identified before being refused.
    case refuse(ProxyError, user: UserInfo?)
}

/// Decides from the request head alone whether a request may reach the upstream: path policy, then
/// authentication, then authorization. Nothing is forwarded without a positive decision.
public struct Gate: Sendable {
    public let pathPolicy: PathPolicy
    public let authenticator: any Authenticator
    public let authorizer: any Authorizer
    private let logger: Logger

    public init(pathPolicy: PathPolicy, authenticator: any Authenticator, authorizer: any Authorizer, logger: Logger) {
        self.pathPolicy = pathPolicy
        self.authenticator = authenticator
        self.authorizer = authorizer
        self.logger = logger
    }

    public func decide(_ request: GateRequest) async -> GateDecision {
        let target: RequestTarget
        do {
            target = try RequestTarget(parsing: request.target)
        } catch {
            return .refuse(.badRequest(error.description), user: nil)
        }
        switch pathPolicy.decision(for: target.path) {
        case .notFound:
            return .refuse(.notFound, user: nil)
        case .ignore:
            return .forward(AuthorizedRequest(target: target, user: nil))
        case .authorize:
            break
        }

        let token: String?
        do {
            token = try BearerToken.extract(from: request.headers)
        } catch {
            return .refuse(.badRequest("more than one Authorization header"), user: nil)
        }

        let user: UserInfo
        do {
            let credentials = Credentials(bearerToken: token, clientCertificateChain: request.clientCertificates)
            guard case .authenticated(let authenticated) = try await authenticator.authenticate(credentials) else {
                return .refuse(.unauthorized, user: nil)
            }
            user = authenticated
        } catch {
            logger.error("cannot authenticate the request", metadata: ["error": "\(error)"])
            return .refuse(.kubernetesAPIUnavailable, user: nil)
        }

        let verb = request.method.rawValue.lowercased()
        let attributes = AuthorizationAttributes(user: user, verb: verb, target: .nonResource(path: target.path))
        do {
            switch try await authorizer.authorize(attributes) {
            case .allowed:
                return .forward(AuthorizedRequest(target: target, user: user))
            case .denied(let reason):
                logger.debug("denied", metadata: ["user": "\(user.name)", "reason": "\(reason)"])
                return .refuse(.forbidden(user: user.name, verb: verb, path: target.path), user: user)
            case .noOpinion:
                return .refuse(.forbidden(user: user.name, verb: verb, path: target.path), user: user)
            }
        } catch {
            logger.error("cannot authorize the request", metadata: ["user": "\(user.name)", "error": "\(error)"])
            return .refuse(.kubernetesAPIUnavailable, user: user)
        }
    }
}
