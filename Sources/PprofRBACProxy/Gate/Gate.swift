import Logging
import NIOHTTP1
import RequestPolicy
import X509

/// What the gate sees of a request: its head, never its body, and the connection's client certificates.
package struct GateRequest: Sendable {
    package var method: HTTPMethod
    package var target: String
    package var headers: HTTPHeaders
    /// The certificates presented in the TLS handshake, leaf first; not yet verified.
    package var clientCertificates: [Certificate]

    package init(method: HTTPMethod, target: String, headers: HTTPHeaders, clientCertificates: [Certificate] = []) {
        self.method = method
        self.target = target
        self.headers = headers
        self.clientCertificates = clientCertificates
    }
}

/// A request the gate let through: the normalized target, and who asked (nil on `--ignore-paths`,
/// which are forwarded without authentication).
package struct AuthorizedRequest: Sendable, Hashable {
    package var target: RequestTarget
    package var user: UserInfo?
}

/// The gate's verdict on a request head, with who asked and where the answers came from.
package struct GateDecision: Sendable, Hashable {
    /// Forward or refuse.
    package enum Verdict: Sendable, Hashable {
        /// Forward, with this normalized target.
        case forward(RequestTarget)
        /// Answer with this error instead.
        case refuse(ProxyError)
    }

    package var verdict: Verdict
    /// The caller once identified; nil before that and on ignored paths.
    package var user: UserInfo?
    /// Who recognised the caller.
    package var authentication: DecisionOrigin?
    /// Who answered the last authorization question asked (every one must allow).
    package var authorization: DecisionOrigin?

    package init(
        _ verdict: Verdict, user: UserInfo? = nil, authentication: DecisionOrigin? = nil, authorization: DecisionOrigin? = nil
    ) {
        self.verdict = verdict
        self.user = user
        self.authentication = authentication
        self.authorization = authorization
    }

    /// A refusal before anybody was asked.
    static func refuse(_ error: ProxyError) -> GateDecision {
        GateDecision(.refuse(error))
    }
}

/// Decides from the request head alone whether a request may reach the upstream: head limits, path
/// policy, then authentication, then authorization. Nothing is forwarded without a positive decision.
package struct Gate: Sendable {
    /// `--allow-basic-auth-token`: the password of `Authorization: Basic` counts as a bearer token.
    package var acceptsBasicAuthToken = false
    package let pathPolicy: PathPolicy
    package let authenticator: any Authenticator
    package let authorizer: any Authorizer
    package let attributesBuilder: AuthorizationAttributesBuilder
    /// The pprof guardrails, applied once a request is authorized.
    package let guardrails: PprofGuardrails
    private let logger: Logger

    package init(
        pathPolicy: PathPolicy, authenticator: any Authenticator, authorizer: any Authorizer,
        attributesBuilder: AuthorizationAttributesBuilder = AuthorizationAttributesBuilder(),
        guardrails: PprofGuardrails = PprofGuardrails(maximumCaptureSeconds: 300), logger: Logger
    ) {
        self.pathPolicy = pathPolicy
        self.authenticator = authenticator
        self.authorizer = authorizer
        self.attributesBuilder = attributesBuilder
        self.guardrails = guardrails
        self.logger = logger
    }

    package func decide(_ request: GateRequest) async -> GateDecision {
        guard HTTPRequestLimits.admits(request.headers) else {
            return .refuse(.requestHeaderFieldsTooLarge)
        }
        let target: RequestTarget
        do {
            target = try RequestTarget(parsing: request.target)
        } catch {
            return .refuse(.badRequest(error.description))
        }
        switch pathPolicy.decision(for: target.path) {
        case .notFound:
            return .refuse(.notFound)
        case .ignore:
            if let refusal = guardrails.refusal(method: request.method, target: target, headers: request.headers) {
                return .refuse(refusal)
            }
            return GateDecision(.forward(target))
        case .authorize:
            break
        }

        let token: String?
        do {
            token = try BearerToken.extract(from: request.headers, acceptingBasic: acceptsBasicAuthToken)
        } catch {
            return .refuse(.badRequest("more than one Authorization header"))
        }

        let user: UserInfo
        let authentication: DecisionOrigin
        do {
            let credentials = Credentials(bearerToken: token, clientCertificateChain: request.clientCertificates)
            guard case .authenticated(let authenticated, let origin) = try await authenticator.authenticate(credentials) else {
                return .refuse(.unauthorized)
            }
            user = authenticated
            authentication = origin
        } catch {
            logger.error("cannot authenticate the request", metadata: ["error": "\(error)"])
            return .refuse(.kubernetesAPIUnavailable)
        }
        var decision = GateDecision(.forward(target), user: user, authentication: authentication)

        let questions: [AuthorizationAttributes]
        do {
            questions = try attributesBuilder.questions(
                user: user, method: request.method, path: target.path, rawQuery: target.rawQuery, headers: request.headers
            )
        } catch {
            logger.debug("no authorization question", metadata: ["user": "\(user.name)", "reason": "\(error)"])
            decision.verdict = .refuse(.refusal(for: error))
            return decision
        }
        for question in questions {
            do {
                switch try await authorizer.authorize(question) {
                case .allowed(let origin):
                    decision.authorization = origin
                case .denied(let reason, let origin):
                    logger.debug("denied", metadata: ["user": "\(user.name)", "reason": "\(reason)"])
                    decision.authorization = origin
                    decision.verdict = .refuse(.refusal(for: question))
                    return decision
                case .noOpinion:
                    decision.authorization = nil
                    decision.verdict = .refuse(.refusal(for: question))
                    return decision
                }
            } catch {
                logger.error("cannot authorize the request", metadata: ["user": "\(user.name)", "error": "\(error)"])
                decision.authorization = nil
                decision.verdict = .refuse(.kubernetesAPIUnavailable)
                return decision
            }
        }
        if let refusal = guardrails.refusal(method: request.method, target: target, headers: request.headers) {
            decision.verdict = .refuse(refusal)
        }
        return decision
    }
}
