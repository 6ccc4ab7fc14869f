#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Logging

/// Gives back the clean, file-backed pages that starting (or reloading) touched and idling does not use.
///
/// Loading the binary, parsing YAML, migrating SQLite and starting the HTTP listener run code from
/// all over the 40 MB executable and its libraries, and the kernel maps that code in 64 KiB windows.
/// Those pages stay counted in the daemon's RSS although the idle loop never runs them again.
/// `MADV_PAGEOUT` (Linux 5.4+) asks the kernel to reclaim them now; the code the daemon keeps running
/// is faulted back in from the page cache on its next use. Only private file mappings are advised;
/// pages this process wrote (relocated data) are not file-backed any more and stay. The advice never
/// changes what a page contains, so it is safe to call at any time.
enum StartupPages {
    /// Linux's MADV_PAGEOUT, which older C headers do not name.
    private static let adviceReclaim: Int32 = 21

    /// What one call released.
    struct Outcome: Sendable {
        var mappings = 0
        var bytes = 0
        var refused = 0
        var rssBefore: Int?
        var rssAfter: Int?
    }

    /// Advises the kernel to reclaim every private file mapping of this process. Returns
    /// what it advised; on a kernel without MADV_PAGEOUT, or without /proc, it does nothing.
    @discardableResult
    static func release(logger: Logger, reason: String) -> Outcome {
        #if os(Linux)
        var outcome = Outcome(rssBefore: residentBytes())
        guard let maps = readProcFile("/proc/self/maps") else { return outcome }
        for line in maps.split(separator: "\n") {
            guard let mapping = Mapping(line), mapping.isReclaimable else { continue }
            guard let start = UnsafeMutableRawPointer(bitPattern: mapping.start) else { continue }
            if madvise(start, mapping.end - mapping.start, adviceReclaim) == 0 {
                outcome.mappings += 1
                outcome.bytes += mapping.end - mapping.start
            } else if errno == EINVAL && outcome.mappings == 0 && outcome.refused == 0 {
                break  // this kernel has no MADV_PAGEOUT
            } else {
                outcome.refused += 1  // e.g. a locked mapping; the rest still count
            }
        }
        outcome.rssAfter = residentBytes()
        logger.debug("released start-up pages", metadata: [
            "memory.reason": "\(reason)", "memory.mappings": "\(outcome.mappings)", "memory.refused": "\(outcome.refused)",
            "memory.rss_before_kb": "\((outcome.rssBefore ?? 0) / 1024)", "memory.rss_after_kb": "\((outcome.rssAfter ?? 0) / 1024)",
        ])
        return outcome
        #else
        return Outcome()
        #endif
    }

    /// The process's resident set size from /proc/self/statm, in bytes.
    static func residentBytes() -> Int? {
        guard let statm = readProcFile("/proc/self/statm") else { return nil }
        let fields = statm.split(separator: " ")
        guard fields.count > 1, let pages = Int(fields[1]) else { return nil }
        return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
    }

    /// A /proc file read to its end. (They report a size of 0, so reading "the whole file" in one
    /// call of the size it claims would stop after the first page.)
    static func readProcFile(_ path: String) -> String? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 16_384)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { return count == 0 ? String(decoding: bytes, as: UTF8.self) : nil }
            bytes.append(contentsOf: chunk[..<count])
        }
    }

    /// One line of /proc/self/maps: `start-end perms offset dev inode path`.
    struct Mapping {
        var start: Int
        var end: Int
        var permissions: Substring
        var path: Substring

        init?(_ line: Substring) {
            let fields = line.split(separator: " ", maxSplits: 5, omittingEmptySubsequences: true)
            guard fields.count == 6 else { return nil }
            let range = fields[0].split(separator: "-")
            guard range.count == 2, let start = Int(range[0], radix: 16), let end = Int(range[1], radix: 16), end > start else { return nil }
            self.start = start
            self.end = end
            permissions = fields[1]
            path = fields[5].drop(while: { $0 == " " })
        }

        /// A private mapping of a file: code, constants and data. Shared mappings (SQLite's shared
        /// memory) are left alone: reclaiming them would mean writing them back.
        var isReclaimable: Bool {
            path.hasPrefix("/") && !path.hasSuffix(" (deleted)") && permissions.count == 4 && permissions.last == "p"
        }
    }
}
