import Foundation
import Testing
import TestKit
#if canImport(Glibc)
import Glibc
#endif

/// `detour audit` against the real daemon, and `detour hold --for` checked before anything is sent.
@Suite(.serialized) struct AuditCommandTests {
    static func entries(_ r: DetourBinary.Result) throws -> [[String: Any]] {
        try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [[String: Any]], "\(r.stdout)\(r.stderr)")
    }

    @Test func auditListsTheManualActionsNewestFirstWithTheCallersUid() throws {
        let h = try DaemonHarness()
        try h.start()
        defer { h.stop() }
        let start = try h.cli(["failover", "start", "--business", "shop", "--platform", "acme", "--reason", "DMs not arriving"])
        #expect(start.status == 0, "\(start.stderr)")
        let hold = try h.cli(["hold", "--business", "shop", "--for", "2h", "--reason", "number migration tonight"])
        #expect(hold.status == 0, "\(hold.stderr)")

        let audit = try h.cli(["audit", "--json"])
        #expect(audit.status == 0, "\(audit.stderr)")
        let entries = try Self.entries(audit)
        let manual = entries.filter { ($0["actor"] as? String)?.hasPrefix("uid ") == true }
        // Newest first: the hold, then the failover (and whatever the failover recorded with it).
        #expect(manual.first?["action"] as? String == "hold.set", "\(entries)")
        #expect(manual.last?["action"] as? String == "failover.start", "\(entries)")
        let me = "uid \(getuid())"
        for entry in manual {
            let actor = try #require(entry["actor"] as? String)
            #expect(actor == me || actor.hasPrefix(me + " ("), "\(actor)")
            #expect(entry["business"] as? String == "shop")
            #expect(entry["at"] as? String != nil)
        }
        #expect((manual.first?["detail"] as? String)?.hasPrefix("number migration tonight (until ") == true, "\(manual)")
        #expect((manual.last?["detail"] as? String) == "DMs not arriving")

        // --limit and --business filter in the daemon.
        let newest = try Self.entries(try h.cli(["audit", "--json", "--limit", "1"]))
        #expect(newest.count == 1 && newest.first?["action"] as? String == "hold.set", "\(newest)")
        #expect(try Self.entries(try h.cli(["audit", "--json", "--business", "elsewhere"])).isEmpty)

        // The text table fits 80 columns and names who did what.
        let text = try h.cli(["audit"])
        #expect(text.status == 0, "\(text.stderr)")
        let lines = text.stdout.split(separator: "\n")
        #expect(lines.first?.hasPrefix("when") == true, "\(text.stdout)")
        #expect(lines.contains { $0.contains("hold.set") && $0.contains(me) && $0.contains("shop") }, "\(text.stdout)")
        #expect(lines.contains { $0.hasPrefix("    number migration tonight (until ") }, "\(text.stdout)")
        for line in lines where line.count > 80 {
            Issue.record("\(line.count) columns: \(line)")
        }
    }

    @Test func aHoldForTwoHoursEndsTwoHoursFromNowByTheDaemonsClock() throws {
        let h = try DaemonHarness()
        try h.start()
        defer { h.stop() }
        let before = Date()
        let hold = try h.cli(["hold", "--business", "shop", "--for", "2h", "--reason", "maintenance"])
        #expect(hold.status == 0, "\(hold.stderr)")
        let status = try h.cli(["status", "--json"])
        let report = try #require(try JSONSerialization.jsonObject(with: Data(status.stdout.utf8)) as? [String: Any], "\(status.stderr)")
        let business = try #require((report["businesses"] as? [[String: Any]])?.first { $0["business"] as? String == "shop" })
        let expires = try #require((business["hold"] as? [String: Any])?["expiresAt"] as? String)
        let until = try #require(ISO8601DateFormatter().date(from: expires))
        #expect(abs(until.timeIntervalSince(before) - 7200) < 60, "\(expires)")
    }

    @Test func aHoldForADurationThatIsNotOneFailsInValidationWithoutContactingTheDaemon() throws {
        let tmp = try TempDir()
        let listener = try ListeningSocket(path: tmp.file("control.sock"))
        let r = try DetourBinary.run(["hold", "--business", "shop", "--for", "5x", "--reason", "maintenance",
                                      "--socket", listener.path])
        #expect(r.status == 64, "\(r.stderr)")
        #expect(r.stderr.contains("--for '5x' is not a duration; write it like 30m, 2h or 1h30m"), "\(r.stderr)")
        #expect(!listener.hadConnection(), "the CLI connected to the daemon")
        #expect(r.stdout.isEmpty)
    }

    @Test func auditRefusesALimitBelowOneBeforeAsking() throws {
        let tmp = try TempDir()
        let listener = try ListeningSocket(path: tmp.file("control.sock"))
        let r = try DetourBinary.run(["audit", "--limit", "0", "--socket", listener.path])
        #expect(r.status == 64, "\(r.stderr)")
        #expect(r.stderr.contains("--limit must be at least 1"), "\(r.stderr)")
        #expect(!listener.hadConnection())
    }
}

/// A unix socket that listens and never accepts: a connection attempt stays in its backlog.
private final class ListeningSocket {
    let path: String
    private let fd: Int32

    init(path: String) throws {
        self.path = path
        fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard fd >= 0, bytes.count < MemoryLayout.size(ofValue: address.sun_path) else { throw SocketError("cannot create a socket at \(path)") }
        withUnsafeMutableBytes(of: &address.sun_path) { buffer in
            for (index, byte) in bytes.enumerated() { buffer[index] = byte }
        }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard bound == 0, listen(fd, 4) == 0 else { throw SocketError("cannot listen on \(path): errno \(errno)") }
    }

    /// Whether anyone connected (a connection waits in the backlog).
    func hadConnection() -> Bool {
        var entry = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        return poll(&entry, 1, 0) > 0
    }

    deinit { close(fd) }
}

private struct SocketError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
