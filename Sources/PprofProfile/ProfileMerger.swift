/// Merges profiles of one program into one, the way `go tool pprof -proto a b` does (google/pprof's
/// `profile.Merge`): strings, mappings, functions and locations that are the same are kept once,
/// values of samples with the same stack and labels are summed, and samples whose values are all
/// zero are dropped. `timeNanos` is the earliest, `durationNanos` the sum, `period` the largest.
///
/// Profiles are added one at a time and not kept, so memory grows with the distinct entries seen,
/// not with the number of profiles; past `memoryLimit` adding fails.
package struct ProfileMerger: Sendable {
    private struct MappingKey: Hashable {
        var size: UInt64
        var offset: UInt64
        var buildIDOrFile: Int
    }

    private struct FunctionKey: Hashable {
        var startLine: Int64
        var name: Int
        var systemName: Int
        var filename: Int
    }

    private struct LocationKey: Hashable {
        var address: UInt64
        var mappingID: UInt64
        var lines: [Profile.Line]
        var isFolded: Bool
    }

    private struct SampleKey: Hashable {
        var locationIDs: [UInt64]
        var labels: [Profile.Label]
    }

    /// How the ids of one added profile map onto the merged one.
    private struct SourceTables {
        let profile: Profile
        var strings: [Int?]
        var mappings: [UInt64: Profile.Mapping] = [:]
        var functions: [UInt64: Profile.Function] = [:]
        var locations: [UInt64: Profile.Location] = [:]
        /// A source mapping's merged index, and what to add to its addresses.
        var mappedMappings: [UInt64: (index: Int, offset: UInt64)] = [:]
        var mappedFunctions: [UInt64: UInt64] = [:]
        var mappedLocations: [UInt64: UInt64] = [:]

        init(_ profile: Profile) {
            self.profile = profile
            strings = Array(repeating: nil, count: profile.strings.count)
            for mapping in profile.mappings { mappings[mapping.id] = mapping }
            for function in profile.functions { functions[function.id] = function }
            for location in profile.locations { locations[location.id] = location }
        }
    }

    /// The default `memoryLimit`: a merge of five minutes of a busy program takes some tens of MiB.
    package static let defaultMemoryLimit = 256 << 20

    private var merged = Profile()
    private var stringIndices: [[UInt8]: Int] = [[]: 0]
    private var mappingIndices: [MappingKey: Int] = [:]
    private var functionIDs: [FunctionKey: UInt64] = [:]
    private var locationIDs: [LocationKey: UInt64] = [:]
    private var sampleIndices: [SampleKey: Int] = [:]
    private var remainingMemory: Int
    /// How many profiles were added.
    package private(set) var count = 0

    package init(memoryLimit: Int = ProfileMerger.defaultMemoryLimit) {
        remainingMemory = memoryLimit
    }

    /// The merge of the profiles added so far.
    package var profile: Profile {
        var result = merged
        result.samples.removeAll { sample in sample.values.allSatisfy { $0 == 0 } }
        return result
    }

    /// Adds `source`, which must have the sample and period types of the profiles added before.
    package mutating func add(_ source: Profile) throws(ProfileError) {
        var tables = SourceTables(source)
        try combineHeader(source, &tables)
        if merged.mappings.isEmpty, let main = source.mappings.first {
            // The first mapping is the main binary: keep it first.
            _ = try mapMapping(main.id, &tables)
        }
        for sample in source.samples where !sample.values.allSatisfy({ $0 == 0 }) {
            try mapSample(sample, &tables)
        }
        count += 1
    }

    private mutating func combineHeader(_ source: Profile, _ tables: inout SourceTables) throws(ProfileError) {
        let sampleTypes = try source.sampleTypes.map { valueType throws(ProfileError) in try mapValueType(valueType, &tables) }
        let periodType = try source.periodType.map { valueType throws(ProfileError) in try mapValueType(valueType, &tables) }
        guard count > 0 else {
            merged.sampleTypes = sampleTypes
            merged.periodType = periodType
            merged.dropFrames = try mapString(source.dropFrames, &tables)
            merged.keepFrames = try mapString(source.keepFrames, &tables)
            merged.timeNanos = source.timeNanos
            merged.durationNanos = source.durationNanos
            merged.period = source.period
            merged.defaultSampleType = try mapString(source.defaultSampleType, &tables)
            merged.docURL = try mapString(source.docURL, &tables)
            for comment in source.comments { try addComment(comment, &tables) }
            return
        }
        guard sampleTypes == merged.sampleTypes else {
            throw .incompatible("sample types \(describe(sampleTypes)) and \(describe(merged.sampleTypes))")
        }
        guard periodType == merged.periodType else {
            throw .incompatible("period types \(describe(periodType.map { [$0] } ?? [])) and \(describe(merged.periodType.map { [$0] } ?? []))")
        }
        if source.timeNanos != 0, merged.timeNanos == 0 || source.timeNanos < merged.timeNanos {
            merged.timeNanos = source.timeNanos
        }
        merged.durationNanos &+= source.durationNanos
        merged.period = max(merged.period, source.period)
        if merged.defaultSampleType == 0 { merged.defaultSampleType = try mapString(source.defaultSampleType, &tables) }
        if merged.docURL == 0 { merged.docURL = try mapString(source.docURL, &tables) }
        for comment in source.comments { try addComment(comment, &tables) }
    }

    private mutating func addComment(_ comment: Int, _ tables: inout SourceTables) throws(ProfileError) {
        let index = try mapString(comment, &tables)
        if !merged.comments.contains(index) { merged.comments.append(index) }
    }

    private func describe(_ valueTypes: [Profile.ValueType]) -> String {
        "[" + valueTypes.map { "\(merged.text($0.type))/\(merged.text($0.unit))" }.joined(separator: " ") + "]"
    }

    private mutating func mapValueType(_ valueType: Profile.ValueType, _ tables: inout SourceTables) throws(ProfileError) -> Profile.ValueType {
        Profile.ValueType(type: try mapString(valueType.type, &tables), unit: try mapString(valueType.unit, &tables))
    }

    private mutating func mapString(_ index: Int, _ tables: inout SourceTables) throws(ProfileError) -> Int {
        if let mapped = tables.strings[index] { return mapped }
        let bytes = tables.profile.strings[index]
        let mapped: Int
        if let existing = stringIndices[bytes] {
            mapped = existing
        } else {
            try spend(32 + 2 * bytes.count)
            mapped = merged.strings.count
            merged.strings.append(bytes)
            stringIndices[bytes] = mapped
        }
        tables.strings[index] = mapped
        return mapped
    }

    private mutating func mapMapping(_ id: UInt64, _ tables: inout SourceTables) throws(ProfileError) -> (index: Int, offset: UInt64)? {
        if let mapped = tables.mappedMappings[id] { return mapped }
        guard let source = tables.mappings[id] else { return nil }
        // As pprof does: sizes rounded up to 4 KiB, so that address space randomization and small
        // differences do not make two mappings of one file.
        let rounding: UInt64 = 0x1000
        var size = source.memoryLimit &- source.memoryStart
        size = size &+ rounding &- 1
        size -= size % rounding
        let identity = source.buildID != 0 ? source.buildID : source.filename
        let key = MappingKey(size: size, offset: source.fileOffset, buildIDOrFile: try mapString(identity, &tables))
        let mapped: (index: Int, offset: UInt64)
        if let index = mappingIndices[key] {
            mapped = (index, merged.mappings[index].memoryStart &- source.memoryStart)
        } else {
            try spend(96)
            var mapping = source
            mapping.id = UInt64(merged.mappings.count + 1)
            mapping.filename = try mapString(source.filename, &tables)
            mapping.buildID = try mapString(source.buildID, &tables)
            mapped = (merged.mappings.count, 0)
            merged.mappings.append(mapping)
            mappingIndices[key] = mapped.index
        }
        tables.mappedMappings[id] = mapped
        return mapped
    }

    private mutating func mapFunction(_ id: UInt64, _ tables: inout SourceTables) throws(ProfileError) -> UInt64 {
        if let mapped = tables.mappedFunctions[id] { return mapped }
        guard let source = tables.functions[id] else { return 0 }
        var function = source
        function.name = try mapString(source.name, &tables)
        function.systemName = try mapString(source.systemName, &tables)
        function.filename = try mapString(source.filename, &tables)
        let key = FunctionKey(startLine: function.startLine, name: function.name, systemName: function.systemName, filename: function.filename)
        let mapped: UInt64
        if let existing = functionIDs[key] {
            mapped = existing
        } else {
            try spend(64)
            mapped = UInt64(merged.functions.count + 1)
            function.id = mapped
            merged.functions.append(function)
            functionIDs[key] = mapped
        }
        tables.mappedFunctions[id] = mapped
        return mapped
    }

    private mutating func mapLocation(_ id: UInt64, _ tables: inout SourceTables) throws(ProfileError) -> UInt64 {
        if let mapped = tables.mappedLocations[id] { return mapped }
        guard let source = tables.locations[id] else { return 0 }
        var location = source
        let mapping = try mapMapping(source.mappingID, &tables)
        location.mappingID = mapping.map { UInt64($0.index + 1) } ?? 0
        location.address = source.address &+ (mapping?.offset ?? 0)
        for index in location.lines.indices {
            location.lines[index].functionID = try mapFunction(source.lines[index].functionID, &tables)
        }
        let start = mapping.map { merged.mappings[$0.index].memoryStart } ?? 0
        let key = LocationKey(address: location.address &- start, mappingID: location.mappingID, lines: location.lines, isFolded: location.isFolded)
        let mapped: UInt64
        if let existing = locationIDs[key] {
            mapped = existing
        } else {
            try spend(96 + 48 * location.lines.count)
            mapped = UInt64(merged.locations.count + 1)
            location.id = mapped
            merged.locations.append(location)
            locationIDs[key] = mapped
        }
        tables.mappedLocations[id] = mapped
        return mapped
    }

    private mutating func mapSample(_ source: Profile.Sample, _ tables: inout SourceTables) throws(ProfileError) {
        var locationIDs: [UInt64] = []
        locationIDs.reserveCapacity(source.locationIDs.count)
        for id in source.locationIDs {
            locationIDs.append(try mapLocation(id, &tables))
        }
        var stringLabels: [Profile.Label] = [], numberLabels: [Profile.Label] = []
        for label in source.labels {
            let mapped = Profile.Label(
                key: try mapString(label.key, &tables), string: try mapString(label.string, &tables),
                number: label.number, numberUnit: try mapString(label.numberUnit, &tables))
            // As pprof reads labels: a string label, else a number label; one with neither is no label.
            if label.string != 0 {
                stringLabels.append(Profile.Label(key: mapped.key, string: mapped.string, number: 0, numberUnit: 0))
            } else if label.number != 0 || label.numberUnit != 0 {
                numberLabels.append(Profile.Label(key: mapped.key, string: 0, number: mapped.number, numberUnit: mapped.numberUnit))
            }
        }
        // Labels of one key keep their order; keys are put in one order, so that the same labels
        // in another order are the same sample.
        let labels = Self.stableSortedByKey(stringLabels) + Self.stableSortedByKey(numberLabels)
        let key = SampleKey(locationIDs: locationIDs, labels: labels)
        if let index = sampleIndices[key] {
            for valueIndex in source.values.indices {
                merged.samples[index].values[valueIndex] &+= source.values[valueIndex]
            }
            return
        }
        try spend(128 + 8 * (locationIDs.count + source.values.count) + 48 * labels.count)
        sampleIndices[key] = merged.samples.count
        merged.samples.append(Profile.Sample(locationIDs: locationIDs, values: source.values, labels: labels))
    }

    private static func stableSortedByKey(_ labels: [Profile.Label]) -> [Profile.Label] {
        labels.enumerated().sorted { ($0.element.key, $0.offset) < ($1.element.key, $1.offset) }.map(\.element)
    }

    private mutating func spend(_ bytes: Int) throws(ProfileError) {
        remainingMemory -= bytes
        guard remainingMemory >= 0 else { throw .tooLarge("the merged profile would take more memory than its limit") }
    }
}
