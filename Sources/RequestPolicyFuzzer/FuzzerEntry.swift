import Foundation

#if FUZZING
/// libFuzzer's driver (`-sanitize=fuzzer` links it): runs the fuzzing loop with libFuzzer's flags.
@_silgen_name("LLVMFuzzerRunDriver")
private func runFuzzerDriver(
    _ argc: UnsafeMutablePointer<CInt>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
    _ testOneInput: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
) -> CInt

/// libFuzzer's callback for one input, by the name its own `main` looks for.
@_cdecl("LLVMFuzzerTestOneInput")
func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let input = UnsafeRawBufferPointer(start: data, count: count)
    RequestPolicyInvariants.check(input)
    ParserInvariants.check(input)
    ProfileInvariants.check(input)
    return 0
}
#endif

/// The fuzzer's entry point. Built with `-sanitize=fuzzer -DFUZZING` (scripts/fuzz) it is
/// libFuzzer, taking libFuzzer's arguments; otherwise it replays the input files it is given, which
/// is how a crash found by the fuzzer is reproduced in an ordinary debug build.
@main
enum RequestPolicyFuzzer {
    static func main() {
        #if FUZZING
        var argc = CommandLine.argc
        var argv = CommandLine.unsafeArgv
        exit(runFuzzerDriver(&argc, &argv, fuzzOneInput))
        #else
        for path in CommandLine.arguments.dropFirst() {
            guard let input = FileManager.default.contents(atPath: path) else {
                FileHandle.standardError.write(Data("cannot read \(path)\n".utf8))
                exit(1)
            }
            input.withUnsafeBytes {
                RequestPolicyInvariants.check($0)
                ParserInvariants.check($0)
                ProfileInvariants.check($0)
            }
        }
        #endif
    }
}
