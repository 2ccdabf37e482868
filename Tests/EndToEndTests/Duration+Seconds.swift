extension Duration {
    /// The duration as fractional seconds, the unit command-line tools take.
    var inSeconds: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }
}
