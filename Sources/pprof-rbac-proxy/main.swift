import Foundation
import Logging
import PprofRBACProxy

let action: ProxyCommandLine.Action
do {
    action = try ProxyCommandLine.parse(Array(CommandLine.arguments.dropFirst()))
} catch {
    // A usage error, as pflag reports it: the message, a pointer to --help, exit 2.
    let message = "\(ProxyCommandLine.programName): \(error)\nRun '\(ProxyCommandLine.programName) --help' for the flags.\n"
    FileHandle.standardError.write(Data(message.utf8))
    exit(2)
}

switch action {
case .printHelp(let text):
    print(text, terminator: "")
    exit(0)
case .printVersion(let line):
    print(line)
    exit(0)
case .run(let configuration, let warnings):
    LoggingSystem.bootstrap { label in ProxyLogHandler(label: label, logLevel: configuration.logLevel) }
    let logger = Logger(label: ProxyCommandLine.programName)
    for warning in warnings {
        logger.warning("\(warning)")
    }
    do {
        try await ProxyApplication.run(configuration, logger: logger)
    } catch let error as ConfigurationError {
        logger.critical("\(error)")
        exit(1)
    } catch {
        logger.critical("cannot run: \(error)")
        exit(1)
    }
}
