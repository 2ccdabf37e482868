/// Something a test starts (a process, a directory) and must release when the test ends.
protocol TestResource: Sendable {
    /// Releases the resource; never throws, safe to call more than once.
    func tearDown() async
}

/// Runs `body` with `resource`, then tears the resource down whether `body` returned or threw.
func using<Resource: TestResource, Result>(
    _ resource: Resource,
    _ body: (Resource) async throws -> Result
) async throws -> Result {
    let result: Result
    do {
        result = try await body(resource)
    } catch {
        await resource.tearDown()
        throw error
    }
    await resource.tearDown()
    return result
}
