extension Duration {
    /// The duration as fractional seconds, the unit command-line tools take.
    var inSeconds: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }

    /// The duration in Go's syntax, in whole milliseconds (`1500ms`), for Go tools' flags.
    var goSyntax: String {
        "\(Int((inSeconds * 1000).rounded()))ms"
    }
}
