import RequestPolicy
import Testing

@testable import PprofRBACProxy

@Suite("StartupPages: read-only file pages given back once listening")
struct StartupPagesTests {
    /// Abridged from a real `/proc/PID/smaps` of the proxy: its code, read-only data, relocated
    /// read-only data (written once by the loader), data, a library, the heap and the vDSO.
    static let smaps = """
        55d0c2a00000-55d0c3167000 r--p 00000000 00:2a 1234                       /usr/local/bin/pprof-rbac-proxy
        Size:               7580 kB
        Rss:                1564 kB
        Anonymous:             0 kB
        55d0c3167000-55d0c4cdf000 r-xp 00766000 00:2a 1234                       /usr/local/bin/pprof-rbac-proxy
        Size:              28128 kB
        Rss:               17432 kB
        Anonymous:             0 kB
        55d0c4cdf000-55d0c4e04000 r--p 022dd000 00:2a 1234                       /usr/local/bin/pprof-rbac-proxy
        Size:               1172 kB
        Rss:                1172 kB
        Anonymous:          1172 kB
        55d0c4e05000-55d0c7360000 rw-p 02401000 00:2a 1234                       /usr/local/bin/pprof-rbac-proxy
        Size:              38252 kB
        Rss:                3436 kB
        Anonymous:           412 kB
        7f4c52a28000-7f4c52b7d000 r-xp 00028000 00:2a 99                         /usr/lib/x86_64-linux-gnu/libc.so.6
        Size:               1364 kB
        Rss:                1004 kB
        Anonymous:             0 kB
        7f4c52b7d000-7f4c52bd5000 r--p 0017d000 00:2a 99                         /usr/lib/x86_64-linux-gnu/libc.so.6
        Size:                352 kB
        Rss:                   0 kB
        Anonymous:             0 kB
        7f4c52c00000-7f4c52c01000 ---p 00000000 00:00 0
        Size:                  4 kB
        Rss:                   0 kB
        Anonymous:             0 kB
        55d0c8a00000-55d0c8a21000 rw-p 00000000 00:00 0                          [heap]
        Size:                132 kB
        Rss:                  64 kB
        Anonymous:            64 kB
        7ffd1b5f4000-7ffd1b5f6000 r-xp 00000000 00:00 0                          [vdso]
        Size:                  8 kB
        Rss:                   4 kB
        Anonymous:             0 kB
        """

    @Test("code and read-only data of files are picked; written, writable, empty and anonymous mappings are not")
    func picksReadOnlyFilePages() {
        var scanner = StartupPages.SmapsScanner()
        for line in Self.smaps.split(separator: "\n", omittingEmptySubsequences: false) {
            scanner.consume(line: line)
        }
        scanner.finish()
        #expect(scanner.releasable == [
            .init(start: 0x55d0_c2a0_0000, end: 0x55d0_c316_7000, residentBytes: 1564 * 1024),
            .init(start: 0x55d0_c316_7000, end: 0x55d0_c4cd_f000, residentBytes: 17432 * 1024),
            .init(start: 0x7f4c_52a2_8000, end: 0x7f4c_52b7_d000, residentBytes: 1004 * 1024),
        ])
    }

    @Test(
        "this process gives back resident pages of its own code, and keeps running the code it needs",
        .enabled(if: Self.isLinux, "madvise on /proc/self/smaps is Linux's"))
    func releasesThisProcessesPages() throws {
        let before = try residentFileKilobytes()
        #expect(StartupPages.release() > 0)
        #expect(try residentFileKilobytes() < before)
        // The released code faults back in as it runs again, and works: what ran since (reading
        // /proc, parsing a query) is resident again, so there is something to give back again.
        #expect(URLQuery(parsing: "ns=a").values(for: "ns") == ["a"])
        #expect(StartupPages.release() > 0)
    }

    static var isLinux: Bool {
        #if os(Linux)
        true
        #else
        false
        #endif
    }

    private func residentFileKilobytes() throws -> Int {
        let status = String(decoding: try LocalFile.contents(atPath: "/proc/self/status"), as: UTF8.self)
        let line = try #require(status.split(separator: "\n").first { $0.hasPrefix("RssFile:") })
        return try #require(Int(line.split(separator: " ", omittingEmptySubsequences: true)[1]))
    }
}
