import RequestPolicy

extension TokenAuthFile {
    /// Reads and parses the `--token-auth-file` at `path`.
    package static func load(path: String) throws(ConfigurationError) -> TokenAuthFile {
        let text = try ConfigurationError.readText(flag: "--token-auth-file", path: path)
        return try parse(text, source: path)
    }

    /// Parses a token file's text, naming `source` in the error.
    package static func parse(_ text: String, source: String) throws(ConfigurationError) -> TokenAuthFile {
        do {
            return try TokenAuthFile(parsing: text)
        } catch {
            throw .invalidTokenFile(path: source, reason: error.reason)
        }
    }
}
