import Foundation

/// One open `/banner/BUSINESS/events` response: server-sent events carrying `banner.json` each time
/// the business's banner changes, with a comment heartbeat in between.
///
/// What goes on the wire (`text/event-stream`):
///
/// ```
/// : detour banner events
/// retry: 5000
///
/// id: "5f1c…"            (the ETag banner.json has at /banner/BUSINESS.json)
/// event: banner
/// data: {                (banner.json, one data: line per line)
/// data:   "active" : true,
/// …
///
/// : heartbeat
/// ```
///
/// The first event is the banner as it is now, unless the browser reconnects with a `Last-Event-ID`
/// equal to its ETag (it already has it). The stream ends when `stop()` is called (the listener does
/// on graceful shutdown), when the business's banner is removed, after `maxDuration`, or when a write
/// fails because the page went away.
public final class BannerEventStream: Sendable {
    private let watch: BannerWatch
    private let settings: BannerStreamSettings
    private let lastEventID: String?

    init(watch: BannerWatch, settings: BannerStreamSettings, lastEventID: String?) {
        self.watch = watch
        self.settings = settings
        self.lastEventID = lastEventID
    }

    deinit { watch.stop() }

    /// Ends the stream soon: `run` writes what it is writing and returns.
    public func stop() { watch.stop() }

    /// Writes the stream through `write` until it ends; rethrows a failed write (the page left).
    public func run(write: (Data) async throws -> Void) async throws {
        defer { watch.stop() }
        var opening = Data(": detour banner events\nretry: \(Self.milliseconds(settings.retry))\n\n".utf8)
        var sent = BannerEndpoint.etag(watch.current.json)
        if lastEventID != sent { opening += Self.event(watch.current.json, id: sent) }
        try await write(opening)

        enum Item: Sendable { case banner(BannerState.Entry), heartbeat }
        let (items, itemSink) = AsyncStream.makeStream(of: Item.self, bufferingPolicy: .bufferingNewest(4))
        let (watch, settings) = (self.watch, self.settings)
        let lifetime = settings.maxDuration * Double.random(in: 0.9...1.0)
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask {
                for await entry in watch.updates { itemSink.yield(.banner(entry)) }
                itemSink.finish()
            }
            tasks.addTask {
                while true {
                    try await settings.clock.sleep(for: settings.heartbeat)
                    itemSink.yield(.heartbeat)
                }
            }
            tasks.addTask {
                try await settings.clock.sleep(for: lifetime)
                itemSink.finish()
            }
            for await item in items {
                switch item {
                case .heartbeat:
                    try await write(Data(": heartbeat\n\n".utf8))
                case .banner(let entry):
                    let etag = BannerEndpoint.etag(entry.json)
                    if etag == sent { continue }
                    sent = etag
                    try await write(Self.event(entry.json, id: etag))
                }
            }
            tasks.cancelAll()
        }
    }

    /// One `banner` event carrying `json` (without its final newline), one `data:` line per line,
    /// empty ones included, so the browser puts the exact text back together.
    static func event(_ json: Data, id: String) -> Data {
        var lines = String(decoding: json, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
        if lines.last?.isEmpty == true { lines.removeLast() }
        var text = "id: \(id)\nevent: banner\n"
        for line in lines { text += "data: \(line)\n" }
        return Data((text + "\n").utf8)
    }

    private static func milliseconds(_ d: Duration) -> Int64 {
        d.components.seconds * 1_000 + d.components.attoseconds / 1_000_000_000_000_000
    }
}
