import Foundation
import Logging
import PprofRBACProxy

let arguments = CommandLineFlags.normalizingKlogVerbosity(Array(CommandLine.arguments.dropFirst()))
let command: CommandLineFlags
do {
    command = try CommandLineFlags.parse(arguments)
} catch {
    // Help is a success; every other parse failure is a usage error, exit 2 as pflag does.
    guard CommandLineFlags.exitCode(for: error) == .success else {
        FileHandle.standardError.write(Data((CommandLineFlags.fullMessage(for: error) + "\n").utf8))
        exit(2)
    }
    CommandLineFlags.exit(withError: error)
}

if command.printVersion {
    print("pprof-rbac-proxy \(CommandLineFlags.version)")
    exit(0)
}

let configuration: ProxyConfiguration
do {
    configuration = try command.proxyConfiguration()
} catch {
    FileHandle.standardError.write(Data("pprof-rbac-proxy: \(error)\n".utf8))
    exit(2)
}

LoggingSystem.bootstrap { label in ProxyLogHandler(label: label, logLevel: configuration.logLevel) }
let logger = Logger(label: "pprof-rbac-proxy")
do {
    try await ProxyApplication.run(configuration, logger: logger)
} catch let error as ConfigurationError {
    logger.critical("\(error)")
    exit(1)
} catch {
    logger.critical("cannot run: \(error)")
    exit(1)
}
