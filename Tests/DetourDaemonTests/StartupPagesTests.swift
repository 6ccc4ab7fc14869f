@testable import DetourDaemon
import Foundation
import Logging
import Testing

@Suite struct StartupPagesTests {
    @Test func mapsLinesAreReadAndOnlyPrivateFileMappingsAreReclaimable() throws {
        let code = try #require(StartupPages.Mapping("55d0c0a00000-55d0c3000000 r-xp 00000000 fe:00 5392220                    /usr/local/bin/detour"))
        #expect(code.start == 0x55d0c0a00000 && code.end == 0x55d0c3000000)
        #expect(code.path == "/usr/local/bin/detour")
        #expect(code.isReclaimable)
        #expect(StartupPages.Mapping("7f5bb5874000-7f5bb587c000 rw-p 00000000 fe:00 42  /usr/lib/x86_64-linux-gnu/libc.so.6")?.isReclaimable == true)
        // SQLite's shared memory, anonymous memory, the stack, a deleted file: left alone.
        #expect(StartupPages.Mapping("7f5bb5874000-7f5bb587c000 rw-s 00000000 fe:00 16277739   /var/lib/detour/detour.sqlite-shm")?.isReclaimable == false)
        #expect(StartupPages.Mapping("7f5bb5874000-7f5bb587c000 rw-p 00000000 00:00 0") == nil)
        #expect(StartupPages.Mapping("7ffc4e2c1000-7ffc4e2e2000 rw-p 00000000 00:00 0                          [stack]")?.isReclaimable == false)
        #expect(StartupPages.Mapping("7f5bb5874000-7f5bb587c000 r-xp 00000000 fe:00 7   /tmp/old (deleted)")?.isReclaimable == false)
        #expect(StartupPages.Mapping("not a mapping") == nil)
    }

    /// On this very process: the advice is taken and resident memory goes down, and the code and
    /// data the test then uses are still there (the advice never changes contents).
    @Test func releasingShrinksThisProcessAndKeepsItWorking() throws {
        #if os(Linux)
        let before = try #require(StartupPages.residentBytes())
        let outcome = StartupPages.release(logger: Logger(label: "test"), reason: "test")
        #expect(outcome.mappings > 0, "this kernel refused MADV_PAGEOUT on every mapping")
        let after = try #require(outcome.rssAfter)
        #expect(after < before, "RSS \(before) → \(after) bytes")
        // Everything still works after the pages went: formatting, collections, Foundation.
        let text = (1...1000).map { String($0) }.joined(separator: ",")
        #expect(text.split(separator: ",").count == 1000)
        #expect(try JSONSerialization.jsonObject(with: Data("[1,2,3]".utf8)) as? [Int] == [1, 2, 3])
        #endif
    }
}
