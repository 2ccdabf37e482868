import Prometheus
import Testing
import X509

@testable import PprofRBACProxy

@Suite("ServingCertificateExpiry: the serving certificate's notAfter as a gauge")
struct ServingCertificateExpiryTests {
    @Test("the gauge holds the Unix time of the leaf's notAfter")
    func expiry() throws {
        let issued = try TestCertificateAuthority().issueServerCertificate()
        let tls = try ServingTLS(
            certificatePEM: Array(issued.certificatePEM.utf8), privateKeyPEM: Array(issued.privateKeyPEM.utf8),
            clientCAPEM: nil, settings: ServingTLSSettings()
        )
        let registry = PrometheusCollectorRegistry()
        ServingCertificateExpiry.record(tls, factory: PrometheusMetricsFactory(registry: registry))
        let notAfter = try Certificate(pemEncoded: issued.certificatePEM).notValidAfter.timeIntervalSince1970.rounded(.down)
        let exposition = MetricsExposition(registry.emitToBuffer())
        #expect(exposition.value("pprof_rbac_proxy_serving_certificate_expiry_timestamp_seconds") == notAfter)
    }
}
