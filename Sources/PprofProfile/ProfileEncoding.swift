extension Profile {
    /// The profile as an uncompressed `profile.proto` message; repeated numbers are packed.
    package func encoded() -> [UInt8] {
        var writer = ProtobufWriter()
        for valueType in sampleTypes {
            writer.messageField(1) { $0.write(valueType) }
        }
        for sample in samples {
            writer.messageField(2) { message in
                message.packedField(1, sample.locationIDs)
                message.packedField(2, sample.values.map { UInt64(bitPattern: $0) })
                for label in sample.labels {
                    message.messageField(3) { labelMessage in
                        labelMessage.int64Field(1, Int64(label.key))
                        labelMessage.int64Field(2, Int64(label.string))
                        labelMessage.int64Field(3, label.number)
                        labelMessage.int64Field(4, Int64(label.numberUnit))
                    }
                }
            }
        }
        for mapping in mappings {
            writer.messageField(3) { message in
                message.varintField(1, mapping.id)
                message.varintField(2, mapping.memoryStart)
                message.varintField(3, mapping.memoryLimit)
                message.varintField(4, mapping.fileOffset)
                message.int64Field(5, Int64(mapping.filename))
                message.int64Field(6, Int64(mapping.buildID))
                message.boolField(7, mapping.hasFunctions)
                message.boolField(8, mapping.hasFilenames)
                message.boolField(9, mapping.hasLineNumbers)
                message.boolField(10, mapping.hasInlineFrames)
            }
        }
        for location in locations {
            writer.messageField(4) { message in
                message.varintField(1, location.id)
                message.varintField(2, location.mappingID)
                message.varintField(3, location.address)
                for line in location.lines {
                    message.messageField(4) { lineMessage in
                        lineMessage.varintField(1, line.functionID)
                        lineMessage.int64Field(2, line.line)
                        lineMessage.int64Field(3, line.column)
                    }
                }
                message.boolField(5, location.isFolded)
            }
        }
        for function in functions {
            writer.messageField(5) { message in
                message.varintField(1, function.id)
                message.int64Field(2, Int64(function.name))
                message.int64Field(3, Int64(function.systemName))
                message.int64Field(4, Int64(function.filename))
                message.int64Field(5, function.startLine)
            }
        }
        for string in strings {
            writer.bytesField(6, string)
        }
        writer.int64Field(7, Int64(dropFrames))
        writer.int64Field(8, Int64(keepFrames))
        writer.int64Field(9, timeNanos)
        writer.int64Field(10, durationNanos)
        if let periodType {
            writer.messageField(11) { $0.write(periodType) }
        }
        writer.int64Field(12, period)
        writer.packedField(13, comments.map { UInt64($0) })
        writer.int64Field(14, Int64(defaultSampleType))
        writer.int64Field(15, Int64(docURL))
        return writer.bytes
    }
}

extension ProtobufWriter {
    fileprivate mutating func write(_ valueType: Profile.ValueType) {
        int64Field(1, Int64(valueType.type))
        int64Field(2, Int64(valueType.unit))
    }
}
