import Testing

@testable import PprofRBACProxy

@Suite("FreeHeapPages: malloc's free pages back to the kernel")
struct FreeHeapPagesTests {
    @Test("after a burst of allocations is freed, trimming returns memory")
    func trimsAfterABurst() {
        #expect(FreeHeapPages.isAvailable, "glibc has malloc_trim")
        var blocks: [UnsafeMutableRawPointer] = []
        for _ in 0..<4096 {
            let block = UnsafeMutableRawPointer.allocate(byteCount: 8 * 1024, alignment: 16)
            block.initializeMemory(as: UInt8.self, repeating: 1, count: 8 * 1024)
            blocks.append(block)
        }
        blocks.forEach { $0.deallocate() }
        #expect(FreeHeapPages.release())
    }
}
