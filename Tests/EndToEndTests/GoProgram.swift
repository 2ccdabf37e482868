/// The Go programs in tools/ that the end-to-end tests run.
enum GoProgram: String, Sendable {
    case pprofServer = "pprof-server"
    case fakeAPIServer = "fake-apiserver"
    case h2ResetClient = "h2-reset-client"
    case hostileClient = "hostile-client"
}
