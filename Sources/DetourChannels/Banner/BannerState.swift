import Foundation

/// The banners the daemon serves, by business, kept in memory so the HTTP listener answers
/// `/banner/BUSINESS.json` and `.js` without touching the disk. `BannerPublisher` keeps it current.
/// Pages that keep a stream open (`/banner/BUSINESS/events`) `watch` a business and are woken as
/// soon as a new banner is stored.
public actor BannerState {
    /// One business's published banner: the document and the exact bytes of its files.
    public struct Entry: Sendable, Hashable {
        public var document: BannerDocument
        public var json: Data
        public var html: Data
        /// Orders updates that may arrive out of order: a larger revision is newer.
        public var revision: UInt64

        public init(document: BannerDocument, json: Data, html: Data, revision: UInt64) {
            self.document = document; self.json = json; self.html = html; self.revision = revision
        }
    }

    private var entries: [String: Entry] = [:]
    /// The bytes of `banner.js`, the same for every business.
    public nonisolated let script: Data
    /// How the event streams behave, including how many may watch one business.
    public nonisolated let streams: BannerStreamSettings
    private let watchers: BannerWatchers

    public init(script: Data = BannerScript.data, streams: BannerStreamSettings = BannerStreamSettings()) {
        self.script = script
        self.streams = streams
        self.watchers = BannerWatchers(limit: streams.maxStreamsPerBusiness)
    }

    public func entry(for business: String) -> Entry? { entries[business] }

    /// Keeps `entry` unless a newer revision is already stored. Returns whether it was kept.
    @discardableResult
    public func store(_ entry: Entry, for business: String) -> Bool {
        if let current = entries[business], current.revision > entry.revision { return false }
        entries[business] = entry
        watchers.publish(entry, for: business)
        return true
    }

    /// Forgets a business whose policy was removed: its URLs answer 404 from then on, and its open
    /// watches end.
    public func remove(business: String) {
        entries[business] = nil
        watchers.finish(business: business)
    }

    /// What `watch(business:)` found.
    public enum WatchResult: Sendable {
        case watching(BannerWatch)
        /// The business has no banner (no banner channel, or not loaded).
        case noBanner
        /// `streams.maxStreamsPerBusiness` watches of this business are already open.
        case full
    }

    /// Starts watching a business's banner: the current one, then each one stored after it, with
    /// nothing missed in between.
    public func watch(business: String) -> WatchResult {
        guard let current = entries[business] else { return .noBanner }
        guard let watch = watchers.add(business: business, current: current) else { return .full }
        return .watching(watch)
    }

    /// How many watches of `business` are open now.
    public nonisolated func openWatches(for business: String) -> Int { watchers.count(for: business) }

    public var businesses: [String] { entries.keys.sorted() }
}

/// The compiled-in `banner.js` (from `channels/banner/banner.js.mustache`, a template with no tags).
public enum BannerScript {
    public static let name = "banner/banner.js"
    public static var text: String { BuiltinTemplateNames.text(name) ?? "" }
    public static var data: Data { Data(text.utf8) }
}
