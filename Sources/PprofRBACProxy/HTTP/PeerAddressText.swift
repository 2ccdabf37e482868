import NIOCore

/// A connection's peer address as text (`SocketAddress.ipAddress`), formatted at its first use:
/// the peer does not change, and formatting it is an `inet_ntop` per request otherwise.
struct PeerAddressText {
    private var made: String??

    /// The address of `channel`'s peer, or nil when it has none (a Unix socket, a closed channel).
    mutating func text(of channel: any Channel) -> String? {
        if let made { return made }
        let text = channel.remoteAddress?.ipAddress
        made = .some(text)
        return text
    }
}
