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
    public let attributesBuilder: AuthorizationAttributesBuilder
    private let logger: Logger

    public init(
        pathPolicy: PathPolicy, authenticator: any Authenticator, authorizer: any Authorizer,
        attributesBuilder: AuthorizationAttributesBuilder = AuthorizationAttributesBuilder(), logger: Logger
    ) {
        self.pathPolicy = pathPolicy
        self.authenticator = authenticator
        self.authorizer = authorizer
        self.attributesBuilder = attributesBuilder
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

        let questions: [AuthorizationAttributes]
        do {
            questions = try attributesBuilder.questions(
                user: user, method: request.method, path: target.path, rawQuery: target.rawQuery, headers: request.headers
            )
        } catch {
            logger.debug("no authorization question", metadata: ["user": "\(user.name)", "reason": "\(error)"])
            return .refuse(.refusal(for: error), user: user)
        }
        for question in questions {
            do {
                switch try await authorizer.authorize(question) {
                case .allowed:
                    continue
                case .denied(let reason):
                    logger.debug("denied", metadata: ["user": "\(user.name)", "reason": "\(reason)"])
                    return .refuse(.refusal(for: question), user: user)
                case .noOpinion:
                    return .refuse(.refusal(for: question), user: user)
                }
            } catch {
                logger.error("cannot authorize the request", metadata: ["user": "\(user.name)", "error": "\(error)"])
                return .refuse(.kubernetesAPIUnavailable, user: user)
            }
        }
        return .forward(AuthorizedRequest(target: target, user: user))
    }
}
