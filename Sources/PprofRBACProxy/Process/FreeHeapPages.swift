#if canImport(Glibc)
import Glibc
#endif

/// Hands the pages malloc holds free back to the kernel (glibc's `malloc_trim`). A burst of
/// connections leaves megabytes free inside malloc's arenas, resident until reused; the proxy trims
/// when its last client connection closes, so a scraper's visits do not leave their peak behind.
enum FreeHeapPages {
    /// glibc's `malloc_trim`, looked up at run time: `malloc.h` is not part of the Glibc module,
    /// and other C libraries do not have it.
    private static let trim: (@convention(c) (Int) -> Int32)? = {
        #if canImport(Glibc)
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "malloc_trim") else { return nil }
        return unsafeBitCast(symbol, to: (@convention(c) (Int) -> Int32).self)
        #else
        return nil
        #endif
    }()

    /// Whether this C library can trim its heap.
    static var isAvailable: Bool { trim != nil }

    /// Returns whether any memory went back to the kernel.
    @discardableResult
    static func release() -> Bool {
        (trim?(0) ?? 0) == 1
    }
}
