#if canImport(Glibc)
import Glibc
#endif

/// Raises the soft limit on open files to the hard limit at startup, as every Go program does since
/// Go 1.19 (kube-rbac-proxy included): each client connection and each upstream request holds a
/// file descriptor, and a soft limit of 1024 would be reached long before memory runs short.
enum FileDescriptorLimit {
    /// The soft limit now in force (after raising it), or nil where it cannot be read.
    @discardableResult
    static func raiseToHardLimit() -> UInt64? {
        #if canImport(Glibc)
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return nil }
        if limit.rlim_cur < limit.rlim_max {
            var raised = limit
            raised.rlim_cur = limit.rlim_max
            if setrlimit(Int32(RLIMIT_NOFILE.rawValue), &raised) == 0 {
                limit = raised
            }
        }
        return UInt64(limit.rlim_cur)
        #else
        return nil
        #endif
    }
}
