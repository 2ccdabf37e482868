import NIOConcurrencyHelpers
import X509

/// The certificates of `--client-ca-file`, replaced in place when the file changes.
package final class ClientCertificateAuthority: Sendable {
    private let roots: NIOLockedValueBox<[Certificate]>

    package init(_ roots: [Certificate]) {
        self.roots = NIOLockedValueBox(roots)
    }

    package var certificates: [Certificate] {
        roots.withLockedValue { $0 }
    }

    package func replace(with roots: [Certificate]) {
        self.roots.withLockedValue { $0 = roots }
    }
}
