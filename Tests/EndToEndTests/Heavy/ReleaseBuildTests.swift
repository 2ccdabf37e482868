import Foundation
import Testing

extension Heavy {
    /// The Dockerfile's release build command, run here into .build-release (a few minutes the first
    /// time, seconds once warm), and the binary it makes, started.
    @Suite("Heavy: the container image's release build", .timeLimit(.minutes(45)))
    struct ReleaseBuild {
        /// Libraries of gcr.io/distroless/cc-debian12 (glibc, libgcc, libstdc++), by soname.
        static let distrolessLibraries: Set<String> = [
            "linux-vdso.so.1", "ld-linux-x86-64.so.2", "ld-linux-aarch64.so.1", "libc.so.6", "libm.so.6", "libdl.so.2",
            "libpthread.so.0", "librt.so.1", "libutil.so.1", "libgcc_s.so.1", "libstdc++.so.6",
        ]
        /// What the Dockerfile copies in beside the binary.
        static let copiedLibraries: Set<String> = ["libz.so.1"]

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
            let built = try await CompletedProcess.run(
                arguments[0], arguments: Array(arguments.dropFirst()) + ["--scratch-path", scratch],
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
        }

        @Test("scripts/install-kubectl-pprof DIR, as the docs say: a release kubectl-pprof without the Swift runtime's libraries, which kubectl runs as `kubectl pprof`")
        func installPlugin() async throws {
            try await using(try TestWorkspace()) { workspace in
                let directory = workspace.path("bin")
                let installed = try await CompletedProcess.run(
                    PackagePaths.root.appendingPathComponent("scripts/install-kubectl-pprof").path, arguments: [directory],
                    workingDirectory: PackagePaths.root, timeout: .seconds(40 * 60))
                #expect(installed.exitStatus == 0, "\(installed.output.suffix(4000))")
                #expect(installed.stderr.last?.hasPrefix("add \(directory) to PATH") == true, "\(installed.output.suffix(400))")
                let binary = directory + "/kubectl-pprof"
                let linked = try await CompletedProcess.run("ldd", arguments: [binary], timeout: .seconds(30))
                #expect(linked.exitStatus == 0 && !linked.output.contains("libswiftCore") && !linked.output.contains("libFoundation"), "\(linked.output)")
                var environment = ChildProcess.inheritedEnvironment
                environment["PATH"] = directory + ":" + (environment["PATH"] ?? "")
                let help = try await CompletedProcess.run("kubectl", arguments: ["pprof", "--help"], environment: environment, timeout: .seconds(60))
                #expect(help.exitStatus == 0 && help.stdout.contains("USAGE: kubectl pprof PROFILE [TARGET | -l SELECTOR | --url URL] [flags]"), "\(help.output)")
            }
        }

        /// The version the debug build under test reports.
        func debugVersion() async throws -> String {
            let result = try await CompletedProcess.run(try PackagePaths.proxyBinary().path, arguments: ["--version"], timeout: .seconds(30))
            return try #require(result.stdout.first?.split(separator: " ").last.map(String.init))
        }
    }
}
