import ArgumentParser
import Foundation
import KubectlPprof

// `kubectl pprof`: usage errors exit 2 (kubectl's convention), failures 1, --help 0.
let arguments = Array(CommandLine.arguments.dropFirst())
let command: PprofCommand
do {
    guard let parsed = try PprofCommand.parseAsRoot(arguments) as? PprofCommand else {
        print(PprofCommand.helpMessage())
        exit(0)
    }
    command = parsed
} catch {
    let code = PprofCommand.exitCode(for: error)
    let message = PprofCommand.fullMessage(for: error)
    if code == .success {
        print(message)
        exit(0)
    }
    FileHandle.standardError.write(Data((message + "\n").utf8))
    exit(2)
}
ChildProcesses.stopOnSignals()
let plugin = PprofPlugin(options: command.options, progress: .standardError()) { file in print(file) }
exit(await plugin.run())
