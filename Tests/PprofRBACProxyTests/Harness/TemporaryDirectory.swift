import Foundation

/// A fresh directory under the system temporary directory, removed by `remove()`.
struct TemporaryDirectory {
    let path: String

    init() throws {
        path = NSTemporaryDirectory() + "pprof-rbac-proxy-tests-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    /// Writes `content` to `name` inside the directory (creating subdirectories) and returns the file's path.
    @discardableResult
    func write(_ content: String, to name: String) throws -> String {
        let file = (path as NSString).appendingPathComponent(name)
        try FileManager.default.createDirectory(
            atPath: (file as NSString).deletingLastPathComponent, withIntermediateDirectories: true
        )
        try Data(content.utf8).write(to: URL(fileURLWithPath: file), options: .atomic)
        return file
    }

    func remove() {
        try? FileManager.default.removeItem(atPath: path)
    }
}
