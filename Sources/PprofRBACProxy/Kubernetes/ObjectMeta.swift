/// The `metadata` of a review object, encoded as client-go does (`{"creationTimestamp":null}`).
package struct ObjectMeta: Codable, Sendable, Hashable {
    package var creationTimestamp: String?

    package init(creationTimestamp: String? = nil) {
        self.creationTimestamp = creationTimestamp
    }

    private enum CodingKeys: String, CodingKey {
        case creationTimestamp
    }

    package func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        if let creationTimestamp {
            try container.encode(creationTimestamp, forKey: .creationTimestamp)
        } else {
            try container.encodeNil(forKey: .creationTimestamp)
        }
    }
}
