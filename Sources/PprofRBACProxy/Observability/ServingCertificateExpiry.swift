import CoreMetrics

/// Publishes when the serving certificate expires (Unix seconds of its `notAfter`), so that an
/// alert can fire before it does.
enum ServingCertificateExpiry {
    /// Sets the gauge to the expiry of the leaf certificate `tls` serves.
    static func record(_ tls: ServingTLS, factory: any MetricsFactory = MetricsSystem.factory) {
        Gauge(label: ProxyMetrics.servingCertificateExpiry, factory: factory).record(Double(tls.servingCertificate.notValidAfter))
    }
}
