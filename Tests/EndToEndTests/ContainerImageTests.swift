import Foundation
import Testing

/// The Dockerfile, checked without a container engine: its stages are read here; the heavy tier runs
/// its release build (`Heavy.ReleaseBuild`).
@Suite("Container image", .timeLimit(.minutes(2)))
struct ContainerImageTests {
    @Test("stages: the tests' Swift on Debian 12, then distroless/cc-debian12 as a numeric non-root user running the binary")
    func stages() async throws {
        let dockerfile = try Dockerfile.load()
        #expect(dockerfile.stages.count == 2)
        let build = try #require(dockerfile.stages.first)
        let runtime = try #require(dockerfile.stages.last)

        let swiftVersion = try await CompletedProcess.run("swift", arguments: ["--version"], timeout: .seconds(60)).output
        #expect(build.image.hasPrefix("swift:") && build.image.hasSuffix("-bookworm"))
        let imageVersion = build.image.dropFirst("swift:".count).replacingOccurrences(of: "-bookworm", with: "")
        #expect(swiftVersion.contains("Swift version \(imageVersion) "), "the image builds with Swift \(imageVersion); tests ran \(swiftVersion)")

        #expect(runtime.image == "gcr.io/distroless/cc-debian12:nonroot", "Debian 12 is bookworm: the glibc the binary was linked against")
        let user = try #require(runtime.instructions(named: "USER").last)
        let uid = try #require(Int(user.split(separator: ":").first ?? ""))
        #expect(uid > 0, "runAsNonRoot needs a numeric non-root user")
        #expect(runtime.instructions(named: "COPY") == ["--from=build /out/ /"], "only what the build stage put in /out")
        #expect(runtime.instructions(named: "RUN").isEmpty)
        #expect(runtime.instructions(named: "ENTRYPOINT") == ["[\"/usr/local/bin/pprof-rbac-proxy\"]"])
        #expect(build.instructions(named: "RUN").contains { $0.contains("/out/usr/local/bin/pprof-rbac-proxy") })
    }
}

/// The repository's Dockerfile, split into stages of instructions (continuation lines joined).
struct Dockerfile {
    /// One `FROM` and the instructions under it.
    struct Stage {
        let image: String
        let instructions: [(keyword: String, arguments: String)]

        func instructions(named keyword: String) -> [String] {
            instructions.filter { $0.keyword == keyword }.map(\.arguments)
        }
    }

    let stages: [Stage]

    static func load() throws -> Dockerfile {
        let text = try String(contentsOf: PackagePaths.root.appendingPathComponent("Dockerfile"), encoding: .utf8)
        var logicalLines: [String] = []
        var pending = ""
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if pending.isEmpty && (trimmed.isEmpty || trimmed.hasPrefix("#")) { continue }
            if trimmed.hasSuffix("\\") {
                pending += trimmed.dropLast().trimmingCharacters(in: .whitespaces) + " "
            } else {
                logicalLines.append(pending + trimmed)
                pending = ""
            }
        }
        var stages: [Stage] = []
        for line in logicalLines {
            let parts = line.split(separator: " ", maxSplits: 1).map(String.init)
            let keyword = parts[0].uppercased()
            let arguments = parts.count > 1 ? parts[1] : ""
            if keyword == "FROM" {
                stages.append(Stage(image: String(arguments.split(separator: " ").first ?? ""), instructions: []))
            } else if let last = stages.popLast() {
                stages.append(Stage(image: last.image, instructions: last.instructions + [(keyword, arguments)]))
            }
        }
        return Dockerfile(stages: stages)
    }
}
