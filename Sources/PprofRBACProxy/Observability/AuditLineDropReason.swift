/// Why audit lines were dropped, as a metric label.
enum AuditLineDropReason: String, CaseIterable, Sendable {
    /// The writer had `AuditLogWriter.queueCapacity` lines waiting already.
    case queueFull = "queue_full"
    /// Writing to the file failed.
    case writeFailed = "write_failed"
}
