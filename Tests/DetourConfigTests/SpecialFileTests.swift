import DetourConfig
import Foundation
import Testing
import TestKit

/// Files that are not regular files (a FIFO above all: opening one waits for a writer) are refused
/// at once with the path and what it is, so `policy check` and a reload never hang on them.
@Suite struct SpecialFileTests {
    private func loadWithFIFOs(daemon: String, policy: String, fifos: [String]) throws -> (errors: [String], seconds: Double) {
        let dir = try TempDir("detour-fifo")
        try dir.write("detour.yaml", daemon)
        try FileManager.default.createDirectory(atPath: dir.file("policies"), withIntermediateDirectories: true)
        try dir.write("policies/a.yaml", policy)
        for name in fifos { #expect(mkfifo(dir.file(name), 0o600) == 0) }
        // If a loader opens a FIFO it blocks until a writer comes: one comes after 3 s, so the test
        // ends either way and the time shows what happened.
        let paths = fifos.map { dir.file($0) }
        let unblocker = Thread {
            Thread.sleep(forTimeInterval: 3)
            for path in paths {
                let fd = open(path, O_WRONLY | O_NONBLOCK)
                if fd >= 0 { close(fd) }
            }
        }
        unblocker.start()
        let started = Date()
        let (_, diagnostics) = ConfigLoader().load(configPath: dir.file("detour.yaml"))
        return (diagnostics.errors.map(\.description), Date().timeIntervalSince(started))
    }

    private static let daemon = "policies: policies\nsmtp:\n  relay:\n    url: smtp://127.0.0.1:2525\n    starttls: off\n"

    @Test func anAudienceThatIsAFIFOIsRefusedAtOnce() throws {
        let r = try loadWithFIFOs(daemon: Self.daemon, policy: """
            business: a
            name: A
            depends_on: [instagram]
            message: {outage: x}
            channels:
              email: {smtp: relay, from: a@example.com, audience: ../people.csv}
            """, fifos: ["people.csv"])
        #expect(r.seconds < 2)
        #expect(r.errors.contains { $0.contains("people.csv is a FIFO (named pipe)") }, "\(r.errors)")
    }

    @Test func aTemplateThatIsAFIFOIsRefusedAtOnce() throws {
        let r = try loadWithFIFOs(daemon: Self.daemon, policy: """
            business: a
            name: A
            depends_on: [instagram]
            message: {outage: x}
            channels:
              banner:
                publish_dir: site
                templates: {opened: ../banner.mustache}
            """, fifos: ["banner.mustache"])
        #expect(r.seconds < 2)
        #expect(r.errors.contains { $0.contains("banner.mustache is a FIFO") }, "\(r.errors)")
    }

    @Test func aSecretFileThatIsAFIFOIsRefusedAtOnce() throws {
        let r = try loadWithFIFOs(daemon: """
            policies: policies
            smtp:
              relay:
                url: smtp://127.0.0.1:2525
                starttls: off
                username: u
                password_file: pw
            """, policy: "business: a\nname: A\ndepends_on: [instagram]\nmessage: {outage: x}\nchannels: {banner: {publish_dir: site}}\n",
            fifos: ["pw"])
        #expect(r.seconds < 2)
        #expect(r.errors.contains { $0.contains("pw is a FIFO") }, "\(r.errors)")
    }

    @Test func aPolicyFileThatIsAFIFOIsRefusedAtOnce() throws {
        let r = try loadWithFIFOs(daemon: Self.daemon, policy: "business: a\nname: A\ndepends_on: [instagram]\nmessage: {outage: x}\nchannels: {banner: {publish_dir: site}}\n",
                                  fifos: ["policies/b.yaml"])
        #expect(r.seconds < 2)
        #expect(r.errors.contains { $0.contains("b.yaml") && $0.contains("FIFO") }, "\(r.errors)")
    }
}
