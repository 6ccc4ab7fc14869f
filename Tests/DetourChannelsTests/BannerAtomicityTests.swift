import DetourChannels
import DetourCore
import Foundation
import Testing
import TestKit

@Suite struct BannerAtomicityTests {
    /// Counts what a reader saw while the publisher kept replacing the files.
    final class ReaderLog: @unchecked Sendable {
        private let lock = NSLock()
        private var stop = false
        private(set) var reads = 0
        private(set) var torn: [String] = []
        var stopped: Bool { lock.withLock { stop } }
        func finish() { lock.withLock { stop = true } }
        func saw(_ problem: String?) {
            lock.withLock {
                reads += 1
                if let problem, torn.count < 5 { torn.append(problem) }
            }
        }
    }

    @Test func aConcurrentReaderNeverSeesAHalfWrittenFile() async throws {
        let tmp = try TempDir("banner")
        let publisher = try BannerFixture.publisher(tmp.path, clock: BannerTestClock())
        _ = try await publisher.deliver(BannerFixture.message(.opened))
        let path = tmp.file("banner.json")
        let html = tmp.file("banner.html")
        let log = ReaderLog()

        let reader = Thread {
            while !log.stopped {
                guard let data = FileManager.default.contents(atPath: path) else { log.saw("banner.json missing"); continue }
                guard let document = BannerDocument.decode(data) else { log.saw("banner.json does not decode (\(data.count) bytes)"); continue }
                let fragment = (try? String(contentsOfFile: html, encoding: .utf8)) ?? ""
                log.saw(fragment.hasSuffix("</div>\n") || document.active == false ? nil : "banner.html cut short (\(fragment.count) chars)")
            }
        }
        reader.start()
        // Big, changing bodies widen the window in which a non-atomic write would show a torn file.
        for i in 0..<200 {
            let text = String(repeating: "Instagram is down; call us on 0161 496 0000. ", count: 50 + (i % 7) * 100)
            _ = try await publisher.deliver(BannerFixture.message(.opened, incident: "inc-\(i)", text: text))
        }
        log.finish()
        while !reader.isFinished { try await Task.sleep(for: .milliseconds(5)) }

        #expect(log.torn.isEmpty, "\(log.torn)")
        #expect(log.reads > 20, "the reader must actually have raced the writer (\(log.reads) reads)")
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: tmp.path).filter { $0.hasPrefix(".") }
        #expect(leftovers.isEmpty)
    }
}
