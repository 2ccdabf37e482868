import NIOSSL

/// TLS for a client from PEM material: whom to trust and which certificate to present. Used for
/// the Kubernetes API (`KubernetesAPIClient`) and by `kubectl pprof` for the proxy.
package enum ClientTLS {
    /// Which part of the material is not usable; the detail never contains key material.
    package enum Problem: Error, Sendable, Hashable {
        case trust(String)
        case certificate(String)
        case key(String)
        /// A certificate without a key, or a key without a certificate.
        case incomplete
    }

    /// A client configuration trusting `trustedPEM` (nil: the system's roots; ignored when
    /// `insecure`) and presenting `certificatePEM` with `keyPEM`, if given.
    package static func configuration(
        trustedPEM: [UInt8]?, insecure: Bool, certificatePEM: [UInt8]?, keyPEM: [UInt8]?
    ) throws(Problem) -> TLSConfiguration {
        var tls = TLSConfiguration.makeClientConfiguration()
        if insecure {
            tls.certificateVerification = .none
        } else if let trustedPEM {
            do throws(PEMMaterial.InvalidPEM) {
                tls.trustRoots = .certificates(try PEMMaterial.certificates(trustedPEM))
            } catch {
                throw .trust(error.detail)
            }
        }
        switch (certificatePEM, keyPEM) {
        case (let certificatePEM?, let keyPEM?):
            do throws(PEMMaterial.InvalidPEM) {
                tls.certificateChain = try PEMMaterial.certificates(certificatePEM).map { .certificate($0) }
            } catch {
                throw .certificate(error.detail)
            }
            do throws(PEMMaterial.InvalidPEM) {
                tls.privateKey = .privateKey(try PEMMaterial.privateKey(keyPEM))
            } catch {
                throw .key(error.detail)
            }
        case (nil, nil):
            break
        default:
            throw .incomplete
        }
        return tls
    }
}
