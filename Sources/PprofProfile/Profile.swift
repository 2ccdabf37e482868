/// A pprof profile as `profile.proto` (github.com/google/pprof, proto/profile.proto) defines it:
/// samples that refer by id to locations, locations to mappings and functions, and every string an
/// index into `strings`, whose first entry is empty. Strings are kept as bytes, as Go keeps them.
package struct Profile: Sendable, Hashable {
    /// What a value counts, and in which unit (`samples`/`count`, `cpu`/`nanoseconds`).
    package struct ValueType: Sendable, Hashable {
        package var type: Int
        package var unit: Int
    }

    /// A label of a sample: a string value, or a number with an optional unit.
    package struct Label: Sendable, Hashable {
        package var key: Int
        package var string: Int
        package var number: Int64
        package var numberUnit: Int
    }

    /// Values measured at one stack, the leaf first.
    package struct Sample: Sendable, Hashable {
        package var locationIDs: [UInt64]
        package var values: [Int64]
        package var labels: [Label]
    }

    /// A mapped binary or library.
    package struct Mapping: Sendable, Hashable {
        package var id: UInt64
        package var memoryStart: UInt64
        package var memoryLimit: UInt64
        package var fileOffset: UInt64
        package var filename: Int
        package var buildID: Int
        package var hasFunctions: Bool
        package var hasFilenames: Bool
        package var hasLineNumbers: Bool
        package var hasInlineFrames: Bool
    }

    /// One function at one line of a location (several when inlined, the innermost first).
    package struct Line: Sendable, Hashable {
        package var functionID: UInt64
        package var line: Int64
        package var column: Int64
    }

    /// An instruction address, with the lines it belongs to.
    package struct Location: Sendable, Hashable {
        package var id: UInt64
        package var mappingID: UInt64
        package var address: UInt64
        package var lines: [Line]
        package var isFolded: Bool
    }

    /// A function's names and source file.
    package struct Function: Sendable, Hashable {
        package var id: UInt64
        package var name: Int
        package var systemName: Int
        package var filename: Int
        package var startLine: Int64
    }

    package var sampleTypes: [ValueType] = []
    package var samples: [Sample] = []
    package var mappings: [Mapping] = []
    package var locations: [Location] = []
    package var functions: [Function] = []
    package var strings: [[UInt8]] = [[]]
    package var dropFrames = 0
    package var keepFrames = 0
    package var timeNanos: Int64 = 0
    package var durationNanos: Int64 = 0
    package var periodType: ValueType?
    package var period: Int64 = 0
    package var comments: [Int] = []
    package var defaultSampleType = 0
    package var docURL = 0

    package init() {}

    /// The string at `index` as text (invalid UTF-8 repaired), for tests and messages.
    package func text(_ index: Int) -> String {
        String(decoding: strings.indices.contains(index) ? strings[index] : [], as: UTF8.self)
    }
}
