import Foundation
import Testing

/// The Dockerfile, checked without a container engine: its stages are read, and the release build
/// command it runs is run here, into .build-release, and the binary it makes is started.
@Suite("Container image", .timeLimit(.minutes(45)))
struct ContainerImageTests {
    /// Libraries of gcr.io/distroless/cc-debian12 (glibc, libgcc, libstdc++), by soname.
    static let distrolessLibraries: Set<String> = [
        "linux-vdso.so.1", "ld-linux-x86-64.so.2", "ld-linux-aarch64.so.1", "libc.so.6", "libm.so.6", "libdl.so.2",
        "libpthread.so.0", "librt.so.1", "libutil.so.1", "libgcc_s.so.1", "libstdc++.so.6",
    ]
    /// What the Dockerfile copies in beside the binary.
    static let copiedLibraries: Set<String> = ["libz.so.1"]

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

    @Test("its `swift build -c release --static-swift-stdlib` succeeds; the binary runs --version and needs only distroless/cc's libraries and libz")
    func staticReleaseBuild() async throws {
        let dockerfile = try Dockerfile.load()
        let build = try #require(dockerfile.stages.first)
        let command = try #require(build.instructions(named: "RUN").first { $0.hasPrefix("swift build ") })
        let arguments = command.split(separator: " ").map(String.init)
        #expect(arguments.contains("--static-swift-stdlib"))
        #expect(command.contains("-c release"))
        #expect(arguments.allSatisfy { $0.allSatisfy { !"$`\"'\\;&|<>".contains($0) } }, "a plain command: \(command)")

        let scratch = PackagePaths.root.appendingPathComponent(".build-release").path
        // Only on idle CPU (SCHED_IDLE): the rest of the suite runs beside this build and its timing
        // checks keep the CPU they ask for.
        let built = try await CompletedProcess.run(
            "chrt", arguments: ["--idle", "0"] + arguments + ["--scratch-path", scratch],
            workingDirectory: PackagePaths.root, timeout: .seconds(40 * 60))
        #expect(built.exitStatus == 0, "\(command) failed:\n\(built.output.suffix(4000))")
        try #require(built.exitStatus == 0)

        let binPath = try await CompletedProcess.run(
            "swift", arguments: Array(arguments.dropFirst()) + ["--scratch-path", scratch, "--show-bin-path"],
            workingDirectory: PackagePaths.root, timeout: .seconds(120))
        let binary = try #require(binPath.stdout.last) + "/pprof-rbac-proxy"

        let version = try await CompletedProcess.run(binary, arguments: ["--version"], timeout: .seconds(30))
        #expect(version.exitStatus == 0)
        #expect(version.stdout == ["pprof-rbac-proxy \(try await debugVersion())"])

        let linked = try await CompletedProcess.run("ldd", arguments: [binary], timeout: .seconds(30))
        let libraries = Set(linked.stdout.compactMap { $0.trimmingCharacters(in: .whitespaces).split(separator: " ").first.map { String($0.split(separator: "/").last ?? $0) } })
        #expect(!libraries.isEmpty)
        #expect(libraries.filter { $0.contains("swift") || $0.contains("Foundation") || $0.contains("dispatch") }.isEmpty,
            "the Swift runtime must be linked in: \(libraries.sorted())")
        #expect(libraries.subtracting(Self.distrolessLibraries).subtracting(Self.copiedLibraries).isEmpty,
            "not in the runtime image: \(libraries.subtracting(Self.distrolessLibraries).subtracting(Self.copiedLibraries).sorted())")

        // The functions serving uses are linked first, as hot-functions.order lists them, and the list still names them.
        let order = try String(contentsOf: PackagePaths.root.appendingPathComponent("Sources/pprof-rbac-proxy/hot-functions.order"), encoding: .utf8)
        let listed = Set(order.split(separator: "\n").map(String.init))
        let symbols = try await CompletedProcess.run("nm", arguments: ["--defined-only", "-n", binary], timeout: .seconds(120))
        let functions: [(address: UInt64, name: String)] = symbols.stdout.compactMap { line in
            let fields = line.split(separator: " ")
            guard fields.count == 3, ["t", "T", "w", "W"].contains(fields[1]), let address = UInt64(fields[0], radix: 16) else { return nil }
            return (address, String(fields[2]))
        }
        let listedAddresses = functions.filter { listed.contains($0.name) }.map(\.address)
        try #require(!listedAddresses.isEmpty, "no function of hot-functions.order is in the binary")
        let stillThere = Set(functions.map(\.name)).intersection(listed).count
        #expect(stillThere * 10 >= listed.count * 9,
            "hot-functions.order is stale (\(listed.count - stillThere) of its \(listed.count) functions are gone): run scripts/hot-functions")
        // Unordered, they are spread over the whole code; ordered, nine in ten lie in its first half.
        let codeStart = try #require(functions.first?.address), codeEnd = try #require(functions.last?.address)
        let ninetiethPercentile = listedAddresses[listedAddresses.count * 9 / 10]
        #expect(ninetiethPercentile - codeStart < (codeEnd - codeStart) / 2, "the release build did not link hot-functions.order's functions first")
    }

    /// The version the debug build under test reports.
    func debugVersion() async throws -> String {
        let result = try await CompletedProcess.run(try PackagePaths.proxyBinary().path, arguments: ["--version"], timeout: .seconds(30))
        return try #require(result.stdout.first?.split(separator: " ").last.map(String.init))
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
