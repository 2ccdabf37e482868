import NIOConcurrencyHelpers
import X509

/// The certificates of `--client-ca-file`, replaced in place when the file changes.
public final class ClientCertificateAuthority: Sendable {
    private let roots: NIOLockedValueBox<[Certificate]>

    public init(_ roots: [Certificate]) {
        self.roots = NIOLockedValueBox(roots)
    }

    public var certificates: [Certificate] {
        roots.withLockedValue { $0 }
    }

    public func replace(with roots: [Certificate]) {
        self.roots.withLockedValue { $0 = roots }
    }
}
