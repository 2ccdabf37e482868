import Testing

@testable import PprofRBACProxy

@Suite("FlagSet: spf13/pflag's command-line syntax")
struct FlagSetTests {
    /// The flags the suite parses, one of each kind.
    enum TestFlags {
        static let name = Flag<String>("name", kind: .string, default: "default", usage: "a string")
        static let logDir = Flag<String>("log-dir", kind: .string, default: "", usage: "a name with a dash")
        static let enabled = Flag<Bool>("enabled", kind: .bool, default: false, usage: "a bool")
        static let help = Flag<Bool>("help", shorthand: "h", kind: .bool, default: false, usage: "help")
        static let verbosity = Flag<Int>("v", shorthand: "v", kind: .level, default: 0, usage: "verbosity")
        static let paths = Flag<[String]>("paths", kind: .stringSlice, default: ["/default"], usage: "a slice")
        static let algorithm = Flag<[String]>("algorithm", kind: .stringArray, default: ["RS256"], usage: "an array")
        static let port = Flag<Int>("port", kind: .int, default: 0, usage: "an int")
        static let streams = Flag<Int>("streams", kind: .uint32, default: 100, usage: "a uint32")
        static let qps = Flag<Double>("qps", kind: .float32, default: 0, usage: "a float")
        static let timeout = Flag<Duration>("timeout", kind: .duration, default: .seconds(10), usage: "a duration")
        static let version = Flag<String>("version", kind: .version, default: "false", usage: "version")
    }

    let flags = FlagSet([
        TestFlags.name.definition, TestFlags.logDir.definition, TestFlags.enabled.definition, TestFlags.help.definition,
        TestFlags.verbosity.definition, TestFlags.paths.definition, TestFlags.algorithm.definition, TestFlags.port.definition,
        TestFlags.streams.definition, TestFlags.qps.definition, TestFlags.timeout.definition, TestFlags.version.definition,
    ])

    func parse(_ arguments: String) throws(ConfigurationError) -> ParsedFlags {
        try flags.parse(arguments.split(separator: " ").map(String.init))
    }

    func error(_ arguments: String) -> String? {
        do {
            _ = try parse(arguments)
            return nil
        } catch {
            return error.description
        }
    }

    @Test("--flag=value and --flag value; a later use wins", arguments: ["--name=x", "--name x", "--name=y --name=x"])
    func stringForms(arguments: String) throws {
        let parsed = try parse(arguments)
        #expect(parsed[TestFlags.name] == "x")
        #expect(parsed.isGiven(TestFlags.name))
        #expect(parsed.positionalArguments.isEmpty)
    }

    @Test("_ in a flag name reads as -, as component-base's WordSepNormalizeFunc makes it")
    func wordSeparators() throws {
        #expect(try parse("--log_dir=/tmp")[TestFlags.logDir] == "/tmp")
        #expect(error("--log_dir_x=/tmp") == "unknown flag: --log_dir_x")
    }

    @Test("a flag that takes a value takes the next argument whatever it looks like, as pflag does")
    func valueThatLooksLikeAFlag() throws {
        let parsed = try parse("--name --enabled")
        #expect(parsed[TestFlags.name] == "--enabled")
        #expect(!parsed.isGiven(TestFlags.enabled))
        #expect(try parse("--name=")[TestFlags.name] == "")
    }

    @Test("defaults when not given")
    func defaults() throws {
        let parsed = try parse("")
        #expect(parsed[TestFlags.name] == "default")
        #expect(parsed[TestFlags.paths] == ["/default"])
        #expect(parsed[TestFlags.timeout] == .seconds(10))
        #expect(!parsed.isGiven(TestFlags.name))
    }

    @Test("booleans: --flag, and =value with every spelling Go's strconv.ParseBool accepts", arguments: [
        ("--enabled", true), ("--enabled=true", true), ("--enabled=1", true), ("--enabled=t", true),
        ("--enabled=T", true), ("--enabled=TRUE", true), ("--enabled=True", true),
        ("--enabled=false", false), ("--enabled=0", false), ("--enabled=f", false), ("--enabled=F", false),
        ("--enabled=FALSE", false), ("--enabled=False", false), ("--enabled --enabled=false", false),
    ])
    func booleans(arguments: String, expected: Bool) throws {
        #expect(try parse(arguments)[TestFlags.enabled] == expected)
    }

    @Test("a boolean's value after a space is a positional argument, never its value")
    func booleanWithSpace() throws {
        let parsed = try parse("--enabled false")
        #expect(parsed[TestFlags.enabled])
        #expect(parsed.positionalArguments == ["false"])
        #expect(error("--enabled=yes")?.contains("invalid value \"yes\" for --enabled") == true)
    }

    @Test("shorthands: -v=3, -v 3, -v3, --v=3; -h alone; -hv3 combines", arguments: ["-v=3", "-v 3", "-v3", "--v=3", "--v 3", "-hv3"])
    func shorthands(arguments: String) throws {
        let parsed = try parse(arguments)
        #expect(parsed[TestFlags.verbosity] == 3)
        #expect(parsed[TestFlags.help] == arguments.hasPrefix("-h"))
    }

    @Test("-h and --help; -h=false")
    func help() throws {
        #expect(try parse("-h")[TestFlags.help])
        #expect(try parse("--help")[TestFlags.help])
        #expect(try !parse("-h=false")[TestFlags.help])
    }

    @Test("string slices split on commas (CSV quoting) and accumulate; the first use replaces the default")
    func slices() throws {
        #expect(try parse("--paths=/a,/b --paths=/c --paths /d")[TestFlags.paths] == ["/a", "/b", "/c", "/d"])
        #expect(try parse("--paths=\"/a,b\",/c")[TestFlags.paths] == ["/a,b", "/c"])
        #expect(try parse("--paths=")[TestFlags.paths] == [])
        #expect(error("--paths=a\"b")?.contains("--paths") == true)
    }

    @Test("string arrays accumulate without splitting")
    func arrays() throws {
        #expect(try parse("--algorithm=RS256,ES256 --algorithm=PS256")[TestFlags.algorithm] == ["RS256,ES256", "PS256"])
    }

    @Test("integers in Go syntax", arguments: [
        ("8443", 8443), ("+7", 7), ("-1", -1), ("0x10", 16), ("0o17", 15), ("017", 15), ("0b101", 5), ("1_000", 1000), ("0", 0),
    ])
    func integers(text: String, expected: Int) throws {
        #expect(try parse("--port=\(text)")[TestFlags.port] == expected)
    }

    @Test("values that do not parse name the flag", arguments: [
        ("--port=abc", "--port"), ("--port=1.5", "--port"), ("--port=_1", "--port"), ("--port=1__0", "--port"),
        ("--streams=-1", "--streams"), ("--streams=4294967296", "--streams"), ("--qps=fast", "--qps"),
        ("--qps=inf", "--qps"), ("--timeout=10", "--timeout"), ("--timeout=ten", "--timeout"), ("-v=x", "--v"),
        ("-v=", "--v"), ("--version=maybe", "--version"),
    ])
    func invalidValues(arguments: String, flag: String) {
        let message = error(arguments)
        #expect(message?.hasPrefix("invalid value") == true, "\(String(describing: message))")
        #expect(message?.contains(" for \(flag):") == true, "\(String(describing: message))")
    }

    @Test("floats, durations and --version forms")
    func otherKinds() throws {
        #expect(try parse("--qps=7.5")[TestFlags.qps] == 7.5)
        #expect(try parse("--timeout 1m30s")[TestFlags.timeout] == .seconds(90))
        #expect(try parse("--version")[TestFlags.version] == "true")
        #expect(try parse("--version=raw")[TestFlags.version] == "raw")
        #expect(try parse("--version=false")[TestFlags.version] == "false")
    }

    @Test("unknown flags, missing values and bad syntax are errors", arguments: [
        ("--bogus", "unknown flag: --bogus"), ("--bogus=1", "unknown flag: --bogus"),
        ("-x", "unknown shorthand flag: 'x' in -x"), ("-hx", "unknown shorthand flag: 'x' in -hx"),
        ("--name", "flag needs an argument: --name"), ("-v", "flag needs an argument: -v"),
        ("---name", "bad flag syntax: ---name"), ("--=x", "bad flag syntax: --=x"),
    ])
    func syntaxErrors(arguments: String, message: String) {
        #expect(error(arguments) == message)
    }

    @Test("positional arguments are collected wherever they are; -- ends the flags; - alone is positional")
    func positionals() throws {
        let parsed = try parse("one --name=x two -- --enabled -")
        #expect(parsed.positionalArguments == ["one", "two", "--enabled", "-"])
        #expect(parsed[TestFlags.name] == "x")
        #expect(!parsed.isGiven(TestFlags.enabled))
        #expect(try parse("-").positionalArguments == ["-"])
    }

    @Test("the given flags are remembered in the order of first use")
    func givenOrder() throws {
        #expect(try parse("--port=1 --name=a --port=2").givenNames == [TestFlags.port.name, TestFlags.name.name])
    }

    @Test("usage shows each flag in pflag's notation with its meaning and default")
    func usage() {
        let usage = FlagSet.usage(of: flags.definitions)
        #expect(usage.contains("      --name string\n          a string (default \"default\")\n"))
        #expect(usage.contains("  -v, --v Level\n          verbosity (default 0)\n"))
        #expect(usage.contains("      --enabled\n          a bool (default false)\n"))
        #expect(usage.contains("      --paths strings\n          a slice (default [/default])\n"))
        #expect(usage.contains("      --timeout duration\n          a duration (default 10s)\n"))
    }
}
