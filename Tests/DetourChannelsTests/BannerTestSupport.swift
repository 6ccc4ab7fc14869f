import DetourChannels
import DetourCore
import Foundation
import TestKit

/// A clock the test moves by hand.
final class BannerTestClock: @unchecked Sendable {
    private let lock = NSLock()
    private var current: Date
    init(_ start: Date = Date(timeIntervalSince1970: 1_710_000_000)) { current = start }
    var now: Date { lock.withLock { current } }
    func advance(_ seconds: TimeInterval) { lock.withLock { current = current.addingTimeInterval(seconds) } }
    var function: @Sendable () -> Date { { self.now } }
}

enum BannerFixture {
    static let business = BusinessID("rosies-bakery")
    static let contacts = [ContactLink(label: "Call the bakery", url: "tel:+441614960000"),
                           ContactLink(label: "Email an order", url: "mailto:orders@rosiesbakery.example")]

    static func settings(_ dir: String, message: String? = nil, links: [ContactLink]? = nil,
                         templates: TemplateRefs = TemplateRefs()) -> BannerChannel {
        BannerChannel(publishDir: dir, message: message, links: links, templates: templates)
    }

    static func publisher(_ dir: String, clock: BannerTestClock, state: BannerState = BannerState(),
                          message: String? = nil, links: [ContactLink]? = nil) throws -> BannerPublisher {
        try BannerPublisher(business: business, businessName: "Rosie's Bakery", settings: settings(dir, message: message, links: links),
                            state: state, now: clock.function)
    }

    static func message(_ event: MessageEvent, incident: String = "inc-1", text: String = "Instagram DMs are down. Call us!",
                        contacts: [ContactLink] = contacts, since: Date = Date(timeIntervalSince1970: 1_709_999_000),
                        resolvedAt: Date? = nil) -> OutgoingMessage {
        let context = MessageContext(event: event, businessID: business.rawValue, businessName: "Rosie's Bakery", incidentID: incident,
                                     platforms: ["Instagram"], since: since, resolvedAt: resolvedAt, message: text, contacts: contacts)
        return OutgoingMessage(deliveryID: "d-\(event.rawValue)-\(incident)", recipient: business.rawValue, context: context)
    }

    /// banner.json as plain JSON, to check the keys a page sees (not just what our decoder accepts).
    static func json(_ path: String) throws -> [String: Any] {
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        guard let object = try JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw CocoaError(.fileReadCorruptFile)
        }
        return object
    }

    static func text(_ path: String) throws -> String { try String(contentsOfFile: path, encoding: .utf8) }

    static func iso(_ date: Date) -> String {
        let f = ISO8601DateFormatter()
        f.timeZone = TimeZone(identifier: "UTC")
        return f.string(from: date)
    }
}
