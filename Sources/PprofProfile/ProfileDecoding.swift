extension Profile {
    /// The most memory, in bytes as `MemoryBudget` estimates it, one decoded profile may take: an
    /// entry of a few bytes on the wire takes about a hundred in memory, so the limit on the bytes
    /// read is not enough. A CPU profile of one second of a busy 64-core program takes about 5 MiB.
    package static let defaultMemoryLimit = 64 << 20

    /// Decodes an uncompressed `profile.proto` message and checks that it is whole: every id
    /// referred to exists and is unique, every string index is in the table, and each sample has
    /// one value per sample type.
    package init(decoding bytes: [UInt8], memoryLimit: Int = Profile.defaultMemoryLimit) throws(ProfileError) {
        self.init()
        strings = []
        var budget = MemoryBudget(remaining: memoryLimit)
        var reader = ProtobufReader(bytes)
        while let (number, wireType) = try reader.nextField() {
            switch number {
            case 1: sampleTypes.append(try Self.valueType(try reader.message(wireType)))
            case 2: try budget.spend(MemoryBudget.sample); samples.append(try Self.sample(try reader.message(wireType), budget: &budget))
            case 3: try budget.spend(MemoryBudget.mapping); mappings.append(try Self.mapping(try reader.message(wireType)))
            case 4: try budget.spend(MemoryBudget.location); locations.append(try Self.location(try reader.message(wireType), budget: &budget))
            case 5: try budget.spend(MemoryBudget.function); functions.append(try Self.function(try reader.message(wireType)))
            case 6:
                var string = try reader.message(wireType)
                let bytes = string.remainingBytes()
                try budget.spend(MemoryBudget.string + bytes.count)
                strings.append(bytes)
            case 7: dropFrames = try reader.index(wireType)
            case 8: keepFrames = try reader.index(wireType)
            case 9: timeNanos = try reader.int64(wireType)
            case 10: durationNanos = try reader.int64(wireType)
            case 11: periodType = try Self.valueType(try reader.message(wireType))
            case 12: period = try reader.int64(wireType)
            case 13:
                var values: [UInt64] = []
                try reader.repeatedVarints(wireType, into: &values, budget: &budget)
                for value in values { comments.append(try Self.index(value)) }
            case 14: defaultSampleType = try reader.index(wireType)
            case 15: docURL = try reader.index(wireType)
            default: try reader.skip(wireType)
            }
        }
        try validate()
    }

    private static func valueType(_ message: ProtobufReader) throws(ProfileError) -> ValueType {
        var reader = message
        var valueType = ValueType(type: 0, unit: 0)
        while let (number, wireType) = try reader.nextField() {
            switch number {
            case 1: valueType.type = try reader.index(wireType)
            case 2: valueType.unit = try reader.index(wireType)
            default: try reader.skip(wireType)
            }
        }
        return valueType
    }

    private static func sample(_ message: ProtobufReader, budget: inout MemoryBudget) throws(ProfileError) -> Sample {
        var reader = message
        var sample = Sample(locationIDs: [], values: [], labels: [])
        var values: [UInt64] = []
        while let (number, wireType) = try reader.nextField() {
            switch number {
            case 1: try reader.repeatedVarints(wireType, into: &sample.locationIDs, budget: &budget)
            case 2: try reader.repeatedVarints(wireType, into: &values, budget: &budget)
            case 3:
                try budget.spend(MemoryBudget.label)
                sample.labels.append(try label(try reader.message(wireType)))
            default: try reader.skip(wireType)
            }
        }
        sample.values = values.map { Int64(bitPattern: $0) }
        return sample
    }

    private static func label(_ message: ProtobufReader) throws(ProfileError) -> Label {
        var reader = message
        var label = Label(key: 0, string: 0, number: 0, numberUnit: 0)
        while let (number, wireType) = try reader.nextField() {
            switch number {
            case 1: label.key = try reader.index(wireType)
            case 2: label.string = try reader.index(wireType)
            case 3: label.number = try reader.int64(wireType)
            case 4: label.numberUnit = try reader.index(wireType)
            default: try reader.skip(wireType)
            }
        }
        return label
    }

    private static func mapping(_ message: ProtobufReader) throws(ProfileError) -> Mapping {
        var reader = message
        var mapping = Mapping(
            id: 0, memoryStart: 0, memoryLimit: 0, fileOffset: 0, filename: 0, buildID: 0,
            hasFunctions: false, hasFilenames: false, hasLineNumbers: false, hasInlineFrames: false)
        while let (number, wireType) = try reader.nextField() {
            switch number {
            case 1: mapping.id = try reader.varint(as: wireType)
            case 2: mapping.memoryStart = try reader.varint(as: wireType)
            case 3: mapping.memoryLimit = try reader.varint(as: wireType)
            case 4: mapping.fileOffset = try reader.varint(as: wireType)
            case 5: mapping.filename = try reader.index(wireType)
            case 6: mapping.buildID = try reader.index(wireType)
            case 7: mapping.hasFunctions = try reader.varint(as: wireType) != 0
            case 8: mapping.hasFilenames = try reader.varint(as: wireType) != 0
            case 9: mapping.hasLineNumbers = try reader.varint(as: wireType) != 0
            case 10: mapping.hasInlineFrames = try reader.varint(as: wireType) != 0
            default: try reader.skip(wireType)
            }
        }
        return mapping
    }

    private static func location(_ message: ProtobufReader, budget: inout MemoryBudget) throws(ProfileError) -> Location {
        var reader = message
        var location = Location(id: 0, mappingID: 0, address: 0, lines: [], isFolded: false)
        while let (number, wireType) = try reader.nextField() {
            switch number {
            case 1: location.id = try reader.varint(as: wireType)
            case 2: location.mappingID = try reader.varint(as: wireType)
            case 3: location.address = try reader.varint(as: wireType)
            case 4:
                try budget.spend(MemoryBudget.line)
                location.lines.append(try line(try reader.message(wireType)))
            case 5: location.isFolded = try reader.varint(as: wireType) != 0
            default: try reader.skip(wireType)
            }
        }
        return location
    }

    private static func line(_ message: ProtobufReader) throws(ProfileError) -> Line {
        var reader = message
        var line = Line(functionID: 0, line: 0, column: 0)
        while let (number, wireType) = try reader.nextField() {
            switch number {
            case 1: line.functionID = try reader.varint(as: wireType)
            case 2: line.line = try reader.int64(wireType)
            case 3: line.column = try reader.int64(wireType)
            default: try reader.skip(wireType)
            }
        }
        return line
    }

    private static func function(_ message: ProtobufReader) throws(ProfileError) -> Function {
        var reader = message
        var function = Function(id: 0, name: 0, systemName: 0, filename: 0, startLine: 0)
        while let (number, wireType) = try reader.nextField() {
            switch number {
            case 1: function.id = try reader.varint(as: wireType)
            case 2: function.name = try reader.index(wireType)
            case 3: function.systemName = try reader.index(wireType)
            case 4: function.filename = try reader.index(wireType)
            case 5: function.startLine = try reader.int64(wireType)
            default: try reader.skip(wireType)
            }
        }
        return function
    }

    /// A string index as read; `validate` checks it against the table.
    fileprivate static func index(_ value: UInt64) throws(ProfileError) -> Int {
        guard value <= UInt64(Int32.max) else { throw .malformed("string index \(Int64(bitPattern: value)) is out of range") }
        return Int(value)
    }

    /// What `profile.proto` requires beyond the wire format.
    private func validate() throws(ProfileError) {
        guard strings.first == [] else { throw .malformed("the string table does not start with the empty string") }
        func check(_ index: Int, _ what: @autoclosure () -> String) throws(ProfileError) {
            guard index < strings.count else { throw .malformed("\(what()) refers to string \(index) of \(strings.count)") }
        }
        var mappingIDs = Set<UInt64>(), functionIDs = Set<UInt64>(), locationIDs = Set<UInt64>()
        for valueType in sampleTypes + (periodType.map { [$0] } ?? []) {
            try check(valueType.type, "a value type"); try check(valueType.unit, "a value type")
        }
        for index in [dropFrames, keepFrames, defaultSampleType, docURL] + comments { try check(index, "the profile") }
        for function in functions {
            guard function.id != 0, functionIDs.insert(function.id).inserted else { throw .malformed("function id \(function.id) is zero or repeated") }
            for index in [function.name, function.systemName, function.filename] { try check(index, "function \(function.id)") }
        }
        for mapping in mappings {
            guard mapping.id != 0, mappingIDs.insert(mapping.id).inserted else { throw .malformed("mapping id \(mapping.id) is zero or repeated") }
            try check(mapping.filename, "mapping \(mapping.id)"); try check(mapping.buildID, "mapping \(mapping.id)")
        }
        for location in locations {
            guard location.id != 0, locationIDs.insert(location.id).inserted else { throw .malformed("location id \(location.id) is zero or repeated") }
            guard location.mappingID == 0 || mappingIDs.contains(location.mappingID) else {
                throw .malformed("location \(location.id) refers to mapping \(location.mappingID), which is not in the profile")
            }
            for line in location.lines where line.functionID != 0 && !functionIDs.contains(line.functionID) {
                throw .malformed("location \(location.id) refers to function \(line.functionID), which is not in the profile")
            }
        }
        for sample in samples {
            guard sample.values.count == sampleTypes.count else {
                throw .malformed("a sample has \(sample.values.count) values for \(sampleTypes.count) sample types")
            }
            for id in sample.locationIDs where !locationIDs.contains(id) {
                throw .malformed("a sample refers to location \(id), which is not in the profile")
            }
            for label in sample.labels {
                for index in [label.key, label.string, label.numberUnit] { try check(index, "a sample label") }
            }
        }
    }
}

/// Counts the memory a decoded profile takes, estimated per entry, against its limit.
private struct MemoryBudget {
    static let sample = 96, label = 32, mapping = 80, location = 80, line = 24, function = 48, string = 32, number = 8
    var remaining: Int

    mutating func spend(_ bytes: Int) throws(ProfileError) {
        remaining -= bytes
        guard remaining >= 0 else { throw .tooLarge("the profile would take more memory than its limit") }
    }
}

extension ProtobufReader {
    /// A message field's content, which must be length-delimited.
    fileprivate mutating func message(_ wireType: WireType) throws(ProfileError) -> ProtobufReader {
        guard wireType == .lengthDelimited else { throw .malformed("a message field has wire type \(wireType.rawValue)") }
        return try lengthDelimited()
    }

    /// An `int64` field.
    fileprivate mutating func int64(_ wireType: WireType) throws(ProfileError) -> Int64 {
        Int64(bitPattern: try varint(as: wireType))
    }

    /// One or more values of a repeated varint field, each counted against `budget` before it is kept.
    fileprivate mutating func repeatedVarints(
        _ wireType: WireType, into values: inout [UInt64], budget: inout MemoryBudget
    ) throws(ProfileError) {
        try repeatedVarints(wireType) { (value: UInt64) throws(ProfileError) in
            try budget.spend(MemoryBudget.number)
            values.append(value)
        }
    }

    /// An `int64` field holding a string index.
    fileprivate mutating func index(_ wireType: WireType) throws(ProfileError) -> Int {
        try Profile.index(try varint(as: wireType))
    }
}
