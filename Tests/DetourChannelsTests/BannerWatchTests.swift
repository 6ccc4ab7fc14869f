import DetourChannels
import DetourCore
import Foundation
import Testing
import TestKit

/// `BannerState.watch`: what the event streams are built on.
@Suite struct BannerWatchTests {
    private func entry(_ message: String, revision: UInt64) throws -> BannerState.Entry {
        let document = BannerDocument(business: .init(id: "rosies-bakery", name: "Rosie's Bakery"), active: true, event: .opened,
                                      incident: "inc-1", message: message, links: [], platforms: ["Instagram"], since: nil,
                                      updatedAt: Date(timeIntervalSince1970: 1_700_000_000), expiresAt: Date(timeIntervalSince1970: 1_800_000_000))
        return BannerState.Entry(document: document, json: try document.encoded(), html: Data(), revision: revision)
    }

    @Test func aWatcherStartsFromTheCurrentBannerAndIsWokenByEachNewerOne() async throws {
        let state = BannerState()
        await state.store(try entry("first", revision: 10), for: "rosies-bakery")
        guard case .watching(let watch) = await state.watch(business: "rosies-bakery") else {
            Issue.record("no watch"); return
        }
        #expect(watch.current.document.message == "first")
        let next = Task { () -> [String] in
            var seen: [String] = []
            for await update in watch.updates {
                seen.append(update.document.message)
                if seen.count == 2 { break }
            }
            return seen
        }
        try await Task.sleep(for: .milliseconds(20))
        await state.store(try entry("second", revision: 11), for: "rosies-bakery")
        try await Task.sleep(for: .milliseconds(20))
        #expect(await state.store(try entry("late retry", revision: 5), for: "rosies-bakery") == false)
        await state.store(try entry("third", revision: 12), for: "rosies-bakery")
        let seen = try await within(.seconds(2)) { await next.value }
        #expect(seen == ["second", "third"], "an update that was not kept wakes nobody")
    }

    @Test func watchesAreLimitedPerBusinessAndStoppingOneFreesItsPlace() async throws {
        let state = BannerState(streams: BannerStreamSettings(maxStreamsPerBusiness: 2))
        #expect(await isNoBanner(state.watch(business: "rosies-bakery")))
        await state.store(try entry("up", revision: 1), for: "rosies-bakery")
        await state.store(try entry("up", revision: 1), for: "glow-salon")
        guard case .watching(let first) = await state.watch(business: "rosies-bakery"),
              case .watching(let second) = await state.watch(business: "rosies-bakery") else {
            Issue.record("the first two watches were refused"); return
        }
        #expect(await isFull(state.watch(business: "rosies-bakery")))
        guard case .watching(let other) = await state.watch(business: "glow-salon") else {
            Issue.record("the limit is per business"); return
        }
        #expect(state.openWatches(for: "rosies-bakery") == 2)
        first.stop()
        #expect(state.openWatches(for: "rosies-bakery") == 1)
        guard case .watching(let third) = await state.watch(business: "rosies-bakery") else {
            Issue.record("the stopped watch did not free its place"); return
        }
        withExtendedLifetime((second, other, third)) {}
    }

    @Test func removingABusinessEndsItsWatches() async throws {
        let state = BannerState()
        await state.store(try entry("up", revision: 1), for: "rosies-bakery")
        guard case .watching(let watch) = await state.watch(business: "rosies-bakery") else {
            Issue.record("no watch"); return
        }
        await state.remove(business: "rosies-bakery")
        let ended = try await within(.seconds(2)) { () -> Bool in
            for await _ in watch.updates {}
            return true
        }
        #expect(ended)
        #expect(state.openWatches(for: "rosies-bakery") == 0)
    }

    private func isNoBanner(_ r: BannerState.WatchResult) -> Bool { if case .noBanner = r { true } else { false } }
    private func isFull(_ r: BannerState.WatchResult) -> Bool { if case .full = r { true } else { false } }
}
