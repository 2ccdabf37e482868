import Testing

@testable import PprofRBACProxy

@Suite("FlagSet: spf13/pflag's command-line syntax")
struct FlagSetTests {
    let flags = FlagSet([
        FlagDefinition("name", kind: .string, default: .string("default"), usage: "a string"),
        FlagDefinition("log-dir", kind: .string, default: .string(""), usage: "a name with a dash"),
        FlagDefinition("enabled", kind: .bool, default: .bool(false), usage: "a bool"),
        FlagDefinition("help", shorthand: "h", kind: .bool, default: .bool(false), usage: "help"),
        FlagDefinition("v", shorthand: "v", kind: .level, default: .int(0), usage: "verbosity"),
        FlagDefinition("paths", kind: .stringSlice, default: .strings(["/default"]), usage: "a slice"),
        FlagDefinition("algorithm", kind: .stringArray, default: .strings(["RS256"]), usage: "an array"),
        FlagDefinition("port", kind: .int, default: .int(0), usage: "an int"),
        FlagDefinition("streams", kind: .uint32, default: .int(100), usage: "a uint32"),
        FlagDefinition("qps", kind: .float32, default: .double(0), usage: "a float"),
        FlagDefinition("timeout", kind: .duration, default: .duration(.seconds(10)), usage: "a duration"),
        FlagDefinition("version", kind: .version, default: .string("false"), usage: "version"),
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
        #expect(parsed.string("name") == "x")
        #expect(parsed.isGiven("name"))
        #expect(parsed.positionalArguments.isEmpty)
    }

    @Test("_ in a flag name reads as -, as component-base's WordSepNormalizeFunc makes it")
    func wordSeparators() throws {
        #expect(try parse("--log_dir=/tmp").string("log-dir") == "/tmp")
        #expect(error("--log_dir_x=/tmp") == "unknown flag: --log_dir_x")
    }

    @Test("a flag that takes a value takes the next argument whatever it looks like, as pflag does")
    func valueThatLooksLikeAFlag() throws {
        let parsed = try parse("--name --enabled")
        #expect(parsed.string("name") == "--enabled")
        #expect(!parsed.isGiven("enabled"))
        #expect(try parse("--name=").string("name") == "")
    }

    @Test("defaults when not given")
    func defaults() throws {
        let parsed = try parse("")
        #expect(parsed.string("name") == "default")
        #expect(parsed.strings("paths") == ["/default"])
        #expect(parsed.duration("timeout") == .seconds(10))
        #expect(!parsed.isGiven("name"))
    }

    @Test("booleans: --flag, and =value with every spelling Go's strconv.ParseBool accepts", arguments: [
        ("--enabled", true), ("--enabled=true", true), ("--enabled=1", true), ("--enabled=t", true),
        ("--enabled=T", true), ("--enabled=TRUE", true), ("--enabled=True", true),
        ("--enabled=false", false), ("--enabled=0", false), ("--enabled=f", false), ("--enabled=F", false),
        ("--enabled=FALSE", false), ("--enabled=False", false), ("--enabled --enabled=false", false),
    ])
    func booleans(arguments: String, expected: Bool) throws {
        #expect(try parse(arguments).bool("enabled") == expected)
    }

    @Test("a boolean's value after a space is a positional argument, never its value")
    func booleanWithSpace() throws {
        let parsed = try parse("--enabled false")
        #expect(parsed.bool("enabled"))
        #expect(parsed.positionalArguments == ["false"])
        #expect(error("--enabled=yes")?.contains("invalid value \"yes\" for --enabled") == true)
    }

    @Test("shorthands: -v=3, -v 3, -v3, --v=3; -h alone; -hv3 combines", arguments: ["-v=3", "-v 3", "-v3", "--v=3", "--v 3", "-hv3"])
    func shorthands(arguments: String) throws {
        let parsed = try parse(arguments)
        #expect(parsed.int("v") == 3)
        #expect(parsed.bool("help") == arguments.hasPrefix("-h"))
    }

    @Test("-h and --help; -h=false")
    func help() throws {
        #expect(try parse("-h").bool("help"))
        #expect(try parse("--help").bool("help"))
        #expect(try !parse("-h=false").bool("help"))
    }

    @Test("string slices split on commas (CSV quoting) and accumulate; the first use replaces the default")
    func slices() throws {
        #expect(try parse("--paths=/a,/b --paths=/c --paths /d").strings("paths") == ["/a", "/b", "/c", "/d"])
        #expect(try parse("--paths=\"/a,b\",/c").strings("paths") == ["/a,b", "/c"])
        #expect(try parse("--paths=").strings("paths") == [])
        #expect(error("--paths=a\"b")?.contains("--paths") == true)
    }

    @Test("string arrays accumulate without splitting")
    func arrays() throws {
        #expect(try parse("--algorithm=RS256,ES256 --algorithm=PS256").strings("algorithm") == ["RS256,ES256", "PS256"])
    }

    @Test("integers in Go syntax", arguments: [
        ("8443", 8443), ("+7", 7), ("-1", -1), ("0x10", 16), ("0o17", 15), ("017", 15), ("0b101", 5), ("1_000", 1000), ("0", 0),
    ])
    func integers(text: String, expected: Int) throws {
        #expect(try parse("--port=\(text)").int("port") == expected)
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
        #expect(try parse("--qps=7.5").double("qps") == 7.5)
        #expect(try parse("--timeout 1m30s").duration("timeout") == .seconds(90))
        #expect(try parse("--version").string("version") == "true")
        #expect(try parse("--version=raw").string("version") == "raw")
        #expect(try parse("--version=false").string("version") == "false")
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
        #expect(parsed.string("name") == "x")
        #expect(!parsed.isGiven("enabled"))
        #expect(try parse("-").positionalArguments == ["-"])
    }

    @Test("the given flags are remembered in the order of first use")
    func givenOrder() throws {
        #expect(try parse("--port=1 --name=a --port=2").givenNames == ["port", "name"])
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
