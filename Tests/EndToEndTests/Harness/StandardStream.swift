/// One of a child process's two output streams.
enum StandardStream: String, Sendable {
    case stdout
    case stderr
}
