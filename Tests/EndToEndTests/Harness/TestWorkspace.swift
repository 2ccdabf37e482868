import Foundation

/// A private temporary directory for one test's files (kubeconfig, token file, certificates).
struct TestWorkspace: TestResource {
    let directory: URL

    init() throws {
        directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("pprof-rbac-proxy-e2e-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    /// The path of `name` inside the workspace.
    func path(_ name: String) -> String {
        directory.appendingPathComponent(name).path
    }

    /// Writes `contents` to `name` and returns the file's path.
    @discardableResult
    func write(_ contents: String, to name: String) throws -> String {
        let path = path(name)
        try Data(contents.utf8).write(to: URL(fileURLWithPath: path))
        return path
    }

    func tearDown() async {
        try? FileManager.default.removeItem(at: directory)
    }
}
