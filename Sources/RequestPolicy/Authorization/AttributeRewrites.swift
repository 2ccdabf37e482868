/// `authorization.rewrites` of the config file: where the values substituted for `{{ .Value }}`
/// come from. Every value of the query parameter, then every value of the header, makes one question.
package struct AttributeRewrites: Sendable, Hashable {
    /// `byQueryParameter.name`: matched exactly, as Go's `url.Values` does.
    package var queryParameter: String?
    /// `byHttpHeader.name`: matched without regard to case.
    package var httpHeader: String?

    package init(queryParameter: String? = nil, httpHeader: String? = nil) {
        self.queryParameter = queryParameter
        self.httpHeader = httpHeader
    }
}
