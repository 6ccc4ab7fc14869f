import DetourChannels
import DetourCore
import Foundation
import Testing
import TestKit

@Suite struct BannerPublisherTests {
    @Test func openingPublishesTheThreeFilesWithAnExpiry() async throws {
        let tmp = try TempDir("banner")
        let dir = tmp.file("site/detour/rosies-bakery")   // missing: the publisher creates it
        let clock = BannerTestClock()
        let publisher = try BannerFixture.publisher(dir, clock: clock)

        let receipt = try await publisher.deliver(BannerFixture.message(.opened))

        #expect(receipt.reply.contains(dir))
        let json = try BannerFixture.json(dir + "/banner.json")
        #expect(json["version"] as? Int == 1)
        #expect(json["active"] as? Bool == true)
        #expect(json["test"] as? Bool == false)
        #expect(json["event"] as? String == "opened")
        #expect(json["incident"] as? String == "inc-1")
        #expect((json["business"] as? [String: String]) == ["id": "rosies-bakery", "name": "Rosie's Bakery"])
        #expect(json["message"] as? String == "Instagram DMs are down. Call us!")
        #expect((json["links"] as? [[String: String]]) == [["label": "Call the bakery", "url": "tel:+441614960000"],
                                                            ["label": "Email an order", "url": "mailto:orders@rosiesbakery.example"]])
        #expect(json["platforms"] as? [String] == ["Instagram"])
        #expect(json["since"] as? String == "2024-03-09T15:43:20Z")
        #expect(json["expires_at"] as? String == BannerFixture.iso(clock.now.addingTimeInterval(15 * 60)))

        let html = try BannerFixture.text(dir + "/banner.html")
        #expect(html.contains("role=\"status\""))
        #expect(html.contains("Instagram DMs are down. Call us!"))
        #expect(html.contains("<a href=\"tel:+441614960000\">Call the bakery</a>"))
        #expect(try BannerFixture.text(dir + "/banner.js") == BannerScript.text)
        #expect(!BannerScript.text.isEmpty)

        let left = try FileManager.default.contentsOfDirectory(atPath: dir).sorted()
        #expect(left == ["banner.html", "banner.js", "banner.json"], "no temporary files left behind")
        let mode = try FileManager.default.attributesOfItem(atPath: dir + "/banner.json")[.posixPermissions] as? Int
        #expect(mode == 0o644, "the web server must be able to read it")

        let served = await publisher.state.entry(for: "rosies-bakery")
        #expect(served?.json == FileManager.default.contents(atPath: dir + "/banner.json"))
    }

    @Test func theChannelsOwnMessageAndLinksWinOverThePolicys() async throws {
        let tmp = try TempDir("banner")
        let publisher = try BannerFixture.publisher(tmp.path, clock: BannerTestClock(), message: "DMs are down, ring us",
                                                    links: [ContactLink(label: "Ring", url: "tel:+44100")])
        _ = try await publisher.deliver(BannerFixture.message(.opened))
        let json = try BannerFixture.json(tmp.file("banner.json"))
        #expect(json["message"] as? String == "DMs are down, ring us")
        #expect((json["links"] as? [[String: String]]) == [["label": "Ring", "url": "tel:+44100"]])
    }

    @Test func hostileTextIsEscapedInTheFragmentAndTheJSONStaysValid() async throws {
        let tmp = try TempDir("banner")
        let hostile = "<script>alert(1)</script>\" onmouseover=\"alert(2)"
        let links = [ContactLink(label: "\" onmouseover=alert(3) x=\"<b>", url: "https://rosies.example/?a=1&b=\"><script>"),
                     ContactLink(label: "Click", url: "javascript:alert(4)"),
                     ContactLink(label: "Data", url: " data:text/html,<script>alert(5)</script>")]
        let publisher = try BannerFixture.publisher(tmp.path, clock: BannerTestClock())
        _ = try await publisher.deliver(BannerFixture.message(.opened, text: hostile, contacts: links))

        let html = try BannerFixture.text(tmp.file("banner.html"))
        #expect(!html.contains("<script>"))
        #expect(!html.contains("<b>"))
        #expect(!html.contains("\" onmouseover"))
        #expect(!html.lowercased().contains("javascript:"))
        #expect(!html.contains("data:"))
        #expect(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;&quot; onmouseover=&quot;alert(2)"))
        #expect(html.contains("href=\"https://rosies.example/?a=1&amp;b=&quot;&gt;&lt;script&gt;\""))

        let json = try BannerFixture.json(tmp.file("banner.json"))
        #expect(json["message"] as? String == hostile, "JSON carries the text exactly; banner.js sets it with textContent")
        #expect((json["links"] as? [[String: String]])?.map { $0["label"] } == [links[0].label], "only the https link survives")
    }

    @Test func resolvingPublishesAnInactiveBannerAndAnEmptyFragment() async throws {
        let tmp = try TempDir("banner")
        let clock = BannerTestClock()
        let publisher = try BannerFixture.publisher(tmp.path, clock: clock)
        _ = try await publisher.deliver(BannerFixture.message(.opened))
        clock.advance(600)
        let receipt = try await publisher.deliver(BannerFixture.message(.resolved, resolvedAt: clock.now))

        #expect(receipt.reply.contains("took the banner down"))
        let json = try BannerFixture.json(tmp.file("banner.json"))
        #expect(json["active"] as? Bool == false)
        #expect(json["event"] as? String == "resolved")
        #expect(json["expires_at"] == nil)
        #expect(json["message"] as? String == "")
        #expect(json["resolved_at"] as? String == BannerFixture.iso(clock.now))
        #expect(try BannerFixture.text(tmp.file("banner.html")).isEmpty)
        #expect(FileManager.default.fileExists(atPath: tmp.file("banner.js")), "pages that embed it keep loading it without errors")
        #expect(await publisher.state.entry(for: "rosies-bakery")?.document.active == false)
    }

    @Test func renewPushesTheExpiryForwardOnlyWhileAnOutageBannerIsUp() async throws {
        let tmp = try TempDir("banner")
        let clock = BannerTestClock()
        let publisher = try BannerFixture.publisher(tmp.path, clock: clock)
        #expect(try await publisher.renew() == nil, "nothing to renew before an incident")

        _ = try await publisher.deliver(BannerFixture.message(.opened))
        clock.advance(14 * 60)
        let renewed = try await publisher.renew()
        #expect(renewed == clock.now.addingTimeInterval(15 * 60))
        #expect(try BannerFixture.json(tmp.file("banner.json"))["expires_at"] as? String == renewed.map(BannerFixture.iso))

        _ = try await publisher.deliver(BannerFixture.message(.resolved))
        #expect(try await publisher.renew() == nil, "a resolved banner stays down")
        #expect(try BannerFixture.json(tmp.file("banner.json"))["active"] as? Bool == false)
    }

    @Test func aLateRetryDoesNotUndoANewerEvent() async throws {
        let tmp = try TempDir("banner")
        let publisher = try BannerFixture.publisher(tmp.path, clock: BannerTestClock())
        _ = try await publisher.deliver(BannerFixture.message(.opened, incident: "inc-1"))
        _ = try await publisher.deliver(BannerFixture.message(.resolved, incident: "inc-1"))

        let late = try await publisher.deliver(BannerFixture.message(.opened, incident: "inc-1"))
        #expect(late.reply.contains("unchanged"))
        #expect(try BannerFixture.json(tmp.file("banner.json"))["active"] as? Bool == false)

        _ = try await publisher.deliver(BannerFixture.message(.opened, incident: "inc-2"))
        let otherAllClear = try await publisher.deliver(BannerFixture.message(.resolved, incident: "inc-1"))
        #expect(otherAllClear.reply.contains("unchanged"))
        #expect(try BannerFixture.json(tmp.file("banner.json"))["incident"] as? String == "inc-2")

        let test = try await publisher.deliver(BannerFixture.message(.test, incident: "test-1"))
        #expect(test.reply.contains("unchanged"), "a test must not replace a real outage banner")
        #expect(try BannerFixture.json(tmp.file("banner.json"))["test"] as? Bool == false)
    }

    @Test func aTestBannerSaysSoAndExpiresWithoutRenewal() async throws {
        let tmp = try TempDir("banner")
        let clock = BannerTestClock()
        let publisher = try BannerFixture.publisher(tmp.path, clock: clock)
        _ = try await publisher.deliver(BannerFixture.message(.test, incident: "test-1"))
        #expect(try BannerFixture.json(tmp.file("banner.json"))["test"] as? Bool == true)
        #expect(try BannerFixture.text(tmp.file("banner.html")).contains("<strong>Test:</strong>"))
        #expect(try await publisher.renew() == nil)
        let document = await publisher.state.entry(for: "rosies-bakery")?.document
        #expect(document?.isLive(at: clock.now) == true)
        #expect(document?.isLive(at: clock.now.addingTimeInterval(15 * 60 + 1)) == false)
    }

    @Test func prepareRestoresTheBannerAPreviousRunLeftOrPublishesAnInactiveOne() async throws {
        let tmp = try TempDir("banner")
        let clock = BannerTestClock()
        let fresh = try BannerFixture.publisher(tmp.path, clock: clock)
        try await fresh.prepare()
        #expect(try BannerFixture.json(tmp.file("banner.json"))["active"] as? Bool == false)
        #expect(FileManager.default.fileExists(atPath: tmp.file("banner.js")))
        _ = try await fresh.deliver(BannerFixture.message(.opened))

        // A restart: new state, new publisher, same directory.
        let restarted = try BannerFixture.publisher(tmp.path, clock: clock, state: BannerState())
        try await restarted.prepare()
        let served = await restarted.state.entry(for: "rosies-bakery")
        #expect(served?.document.active == true)
        #expect(served?.document.incident == "inc-1")
        clock.advance(60)
        #expect(try await restarted.renew() == clock.now.addingTimeInterval(15 * 60), "the restarted daemon renews the banner it found")
    }

    /// A new state database numbers its incidents from 1 again: the files an old one left (its
    /// incident 1, resolved) are served until the new incident's banner comes, and do not hold it back.
    @Test func filesLeftByAnotherStateDatabaseDoNotHoldBackItsIncidents() async throws {
        let tmp = try TempDir("banner")
        let clock = BannerTestClock()
        let old = try BannerFixture.publisher(tmp.path, clock: clock)
        try await old.prepare()
        var opened = BannerFixture.message(.opened)
        opened.context.eventSequence = 1
        var resolved = BannerFixture.message(.resolved)
        resolved.context.eventSequence = 2
        _ = try await old.deliver(opened)
        _ = try await old.deliver(resolved)

        let fresh = try BannerFixture.publisher(tmp.path, clock: clock, state: BannerState())
        try await fresh.prepare()
        #expect(await fresh.state.entry(for: "rosies-bakery")?.document.active == false)
        _ = try await fresh.deliver(opened)
        #expect(await fresh.state.entry(for: "rosies-bakery")?.document.active == true, "the new incident 1's banner goes up")
        #expect(try BannerFixture.json(tmp.file("banner.json"))["active"] as? Bool == true)
        // Once it has published, a late retry of an older event is held back as before.
        _ = try await fresh.deliver(resolved)
        let again = try await fresh.deliver(opened)
        #expect(again.reply.contains("unchanged"), "\(again.reply)")
    }

    @Test func aMessageForAnotherBusinessIsRefused() async throws {
        let tmp = try TempDir("banner")
        let publisher = try BannerFixture.publisher(tmp.path, clock: BannerTestClock())
        var message = BannerFixture.message(.opened)
        message.recipient = "glow-salon"
        let error = await #expect(throws: DeliveryError.self) { try await publisher.deliver(message) }
        #expect(error?.code == "banner.business")
        #expect(error?.retryable == false)
        #expect(!FileManager.default.fileExists(atPath: tmp.file("banner.json")))
    }

    @Test func aPublishDirThatCannotBeCreatedGivesAPermanentErrorNamingIt() async throws {
        let tmp = try TempDir("banner")
        try tmp.write("site", "a file where a directory should be")
        let dir = tmp.file("site/detour/rosies-bakery")
        let publisher = try BannerFixture.publisher(dir, clock: BannerTestClock())
        let error = await #expect(throws: DeliveryError.self) { try await publisher.deliver(BannerFixture.message(.opened)) }
        #expect(error?.code == "banner.path")
        #expect(error?.retryable == false)
        #expect(error?.message.contains("banner channel for rosies-bakery") == true)
        #expect(error?.message.contains(tmp.file("site")) == true, "\(error?.message ?? "")")
        #expect(await publisher.state.entry(for: "rosies-bakery")?.document.active == true,
                "the daemon's own URL still shows the banner while the disk is broken")
    }

    @Test(.enabled(if: getuid() != 0, "root ignores directory permissions"))
    func aReadOnlyPublishDirGivesAPermanentPermissionError() async throws {
        let tmp = try TempDir("banner")
        try FileManager.default.setAttributes([.posixPermissions: 0o555], ofItemAtPath: tmp.path)
        defer { try? FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: tmp.path) }
        let publisher = try BannerFixture.publisher(tmp.path, clock: BannerTestClock())
        let error = await #expect(throws: DeliveryError.self) { try await publisher.deliver(BannerFixture.message(.opened)) }
        #expect(error?.code == "banner.permission")
        #expect(error?.retryable == false)
        #expect(error?.message.contains(tmp.path) == true)
    }
}
