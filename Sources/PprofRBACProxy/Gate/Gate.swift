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

    /// The decision, asking the authenticator and the authorizer as needed (Kubernetes API calls included).
    package func decide(_ request: GateRequest) async -> GateDecision {
        var step = begin(request)
        while true {
            switch step {
            case .decided(let decision):
                return decision
            case .authenticate(let credentials, let progress):
                step = authenticated(progress, await Result { try await authenticator.authenticate(credentials) })
            case .authorize(let question, let progress):
                step = authorized(progress, await Result { try await authorizer.authorize(question) })
            }
        }
    }

    /// The same decision as `decide`, when every answer it needs is at hand (cached, or local rules
    /// and files); nil when one would have to be waited for. Lets a cached request pass the gate
    /// within the read that brought it, with no task or thread hop.
    package func decideImmediately(_ request: GateRequest) -> GateDecision? {
        var step = begin(request)
        while true {
            switch step {
            case .decided(let decision):
                return decision
            case .authenticate(let credentials, let progress):
                guard let result = authenticator.authenticateImmediately(credentials) else { return nil }
                step = authenticated(progress, .success(result))
            case .authorize(let question, let progress):
                guard let decision = authorizer.authorizeImmediately(question) else { return nil }
                step = authorized(progress, .success(decision))
            }
        }
    }

    /// Where a decision stands: made, or waiting for one answer.
    private enum Step {
        case decided(GateDecision)
        case authenticate(Credentials, Progress)
        case authorize(AuthorizationAttributes, Progress)
    }

    /// What is known so far about a request that needs authentication.
    private struct Progress {
        var request: GateRequest
        var target: RequestTarget
        var decision: GateDecision
        /// The authorization questions not yet answered, in order.
        var questions: ArraySlice<AuthorizationAttributes> = []
    }

    /// Head limits, path policy and the credentials: everything before the first question.
    private func begin(_ request: GateRequest) -> Step {
        guard HTTPRequestLimits.admits(request.headers) else {
            return .decided(.refuse(.requestHeaderFieldsTooLarge))
        }
        let target: RequestTarget
        do {
            target = try RequestTarget(parsing: request.target)
        } catch {
            return .decided(.refuse(.badRequest(error.description)))
        }
        switch pathPolicy.decision(for: target.path) {
        case .notFound:
            return .decided(.refuse(.notFound))
        case .ignore:
            if let refusal = guardrails.refusal(method: request.method, target: target, headers: request.headers) {
                return .decided(.refuse(refusal))
            }
            return .decided(GateDecision(.forward(target)))
        case .authorize:
            break
        }
        let token: String?
        do {
            token = try BearerToken.extract(from: request.headers, acceptingBasic: acceptsBasicAuthToken)
        } catch {
            return .decided(.refuse(.badRequest("more than one Authorization header")))
        }
        let credentials = Credentials(bearerToken: token, clientCertificateChain: request.clientCertificates)
        return .authenticate(credentials, Progress(request: request, target: target, decision: GateDecision(.forward(target))))
    }

    /// After the authenticator answered: refused, or the questions to ask about this user.
    private func authenticated(_ progress: Progress, _ result: Result<AuthenticationResult, any Error>) -> Step {
        var progress = progress
        let user: UserInfo
        switch result {
        case .success(.authenticated(let authenticated, let origin)):
            user = authenticated
            progress.decision.user = authenticated
            progress.decision.authentication = origin
        case .success(.unauthenticated):
            return .decided(.refuse(.unauthorized))
        case .failure(let error):
            logger.error("cannot authenticate the request", metadata: ["error": "\(error)"])
            return .decided(.refuse(.kubernetesAPIUnavailable))
        }
        let request = progress.request
        do {
            progress.questions = try attributesBuilder.questions(
                user: user, method: request.method, path: progress.target.path, rawQuery: progress.target.rawQuery,
                headers: request.headers
            )[...]
        } catch {
            logger.debug("no authorization question", metadata: ["user": "\(user.name)", "reason": "\(error)"])
            progress.decision.verdict = .refuse(.refusal(for: error))
            return .decided(progress.decision)
        }
        return nextQuestion(progress)
    }

    /// After the authorizer answered one question: refused, the next question, or the guardrails.
    private func authorized(_ progress: Progress, _ result: Result<AuthorizationDecision, any Error>) -> Step {
        var progress = progress
        guard let question = progress.questions.popFirst() else { return .decided(progress.decision) }
        let userName = progress.decision.user?.name ?? ""
        switch result {
        case .success(.allowed(let origin)):
            progress.decision.authorization = origin
            return nextQuestion(progress)
        case .success(.denied(let reason, let origin)):
            logger.debug("denied", metadata: ["user": "\(userName)", "reason": "\(reason)"])
            progress.decision.authorization = origin
            progress.decision.verdict = .refuse(.refusal(for: question))
        case .success(.noOpinion):
            progress.decision.authorization = nil
            progress.decision.verdict = .refuse(.refusal(for: question))
        case .failure(let error):
            logger.error("cannot authorize the request", metadata: ["user": "\(userName)", "error": "\(error)"])
            progress.decision.authorization = nil
            progress.decision.verdict = .refuse(.kubernetesAPIUnavailable)
        }
        return .decided(progress.decision)
    }

    /// The next question to ask, or, when every one allowed, the guardrails' word.
    private func nextQuestion(_ progress: Progress) -> Step {
        if let question = progress.questions.first {
            return .authorize(question, progress)
        }
        var decision = progress.decision
        let request = progress.request
        if let refusal = guardrails.refusal(method: request.method, target: progress.target, headers: request.headers) {
            decision.verdict = .refuse(refusal)
        }
        return .decided(decision)
    }
}

extension Result where Failure == any Error {
    /// The value `body` returns, or the error it throws.
    init(_ body: () async throws -> Success) async {
        do {
            self = .success(try await body())
        } catch {
            self = .failure(error)
        }
    }
}
