import RequestPolicy
import Testing
import X509

@testable import PprofRBACProxy

@Suite("ClientCertificateAuthenticator: CN is the user, O the groups, only from the client CA")
struct ClientCertificateAuthenticatorTests {
    @Test("a certificate from the client CA authenticates its common name with its organizations as groups")
    func verified() async throws {
        let authority = try TestCertificateAuthority()
        let authenticator = ClientCertificateAuthenticator(authority: ClientCertificateAuthority([authority.caCertificate]))
        let leaf = try authority.clientCertificate(commonName: "alice", organizations: ["pprof-users", "ops"])
        #expect(
            try await authenticator.authenticate(Credentials(bearerToken: nil, clientCertificateChain: [leaf]))
                == .authenticated(UserInfo(name: "alice", groups: ["pprof-users", "ops"]), origin: DecisionOrigin(.clientCertificate))
        )
    }

    @Test("another CA's certificate, none at all, or a server-only certificate is not authenticated")
    func refused() async throws {
        let trusted = try TestCertificateAuthority()
        let other = try TestCertificateAuthority(commonName: "other CA")
        let authenticator = ClientCertificateAuthenticator(authority: ClientCertificateAuthority([trusted.caCertificate]))
        let foreign = try other.clientCertificate(commonName: "alice")
        #expect(try await authenticator.authenticate(Credentials(bearerToken: nil, clientCertificateChain: [foreign])) == .unauthenticated)
        #expect(try await authenticator.authenticate(Credentials(bearerToken: "t")) == .unauthenticated)
        let serverOnly = try trusted.clientCertificate(commonName: "alice", forServer: true)
        #expect(try await authenticator.authenticate(Credentials(bearerToken: nil, clientCertificateChain: [serverOnly])) == .unauthenticated)
    }

    @Test("replacing the client CA takes effect for the next request")
    func replacedAuthority() async throws {
        let first = try TestCertificateAuthority()
        let second = try TestCertificateAuthority(commonName: "rotated CA")
        let authority = ClientCertificateAuthority([first.caCertificate])
        let authenticator = ClientCertificateAuthenticator(authority: authority)
        let fromSecond = Credentials(bearerToken: nil, clientCertificateChain: [try second.clientCertificate(commonName: "bob")])
        #expect(try await authenticator.authenticate(fromSecond) == .unauthenticated)
        authority.replace(with: [second.caCertificate])
        #expect(try await authenticator.authenticate(fromSecond) == .authenticated(UserInfo(name: "bob"), origin: DecisionOrigin(.clientCertificate)))
    }

    @Test("an expired certificate is not authenticated")
    func expired() async throws {
        let authority = try TestCertificateAuthority()
        let authenticator = ClientCertificateAuthenticator(authority: ClientCertificateAuthority([authority.caCertificate]))
        let leaf = try authority.clientCertificate(commonName: "alice", expired: true)
        #expect(try await authenticator.authenticate(Credentials(bearerToken: nil, clientCertificateChain: [leaf])) == .unauthenticated)
    }
}

@Suite("PathPolicy: allowed, ignored, not found")
struct PathPolicyTests {
    @Test("ignored paths skip authentication; the rest must be allowed")
    func decisions() throws {
        let policy = PathPolicy(allowed: PathPolicy.pprofOnly().allowed, ignored: [try PathPattern("/healthz"), try PathPattern("/debug/pprof/cmdline")])
        #expect(policy.decision(for: "/debug/pprof/heap") == .authorize)
        #expect(policy.decision(for: "/debug/pprof") == .authorize)
        #expect(policy.decision(for: "/healthz") == .ignore)
        #expect(policy.decision(for: "/debug/pprof/cmdline") == .ignore)
        #expect(policy.decision(for: "/metrics") == .notFound)
    }
}
