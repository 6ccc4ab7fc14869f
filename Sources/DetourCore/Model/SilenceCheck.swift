import Foundation

/// Silence as a signal: the business's inbound-message handler tells Detour each time a message
/// arrives (`POST /signal/NAME/TOKEN`); the probe fails when none has come for `expectEvery` of the
/// business's open hours. Silence outside open hours says nothing.
public struct SilenceCheck: Sendable, Hashable, Codable {
    /// The name in the signal URL (`/signal/NAME/TOKEN`): letters, digits, `-`, `_`.
    public var name: String
    /// The secret part of the URL.
    public var token: Secret
    public var expectEvery: TimeSpan
    public var openHours: OpenHours

    public init(name: String, token: Secret, expectEvery: TimeSpan, openHours: OpenHours) {
        self.name = name; self.token = token; self.expectEvery = expectEvery; self.openHours = openHours
    }
}

/// A business's weekly open hours in its time zone: `Mon-Fri 09:00-18:00`, `Sat 10:00-16:00`.
public struct OpenHours: Sendable, Hashable, Codable, CustomStringConvertible {
    public struct Span: Sendable, Hashable, Codable {
        /// 1 = Sunday … 7 = Saturday, as `Calendar` counts.
        public var weekdays: Set<Int>
        /// Minutes after midnight; `end` exclusive, after `start`.
        public var start: Int
        public var end: Int
    }
    public var spans: [Span]
    public var timeZone: String
    /// As written, for messages.
    public var text: [String]

    /// Always open (no `open_hours`).
    public static func always(timeZone: String) -> OpenHours {
        OpenHours(spans: [Span(weekdays: Set(1...7), start: 0, end: 24 * 60)], timeZone: timeZone, text: ["always"])
    }

    public init(spans: [Span], timeZone: String, text: [String]) { self.spans = spans; self.timeZone = timeZone; self.text = text }

    static let dayNames = ["sun": 1, "mon": 2, "tue": 3, "wed": 4, "thu": 5, "fri": 6, "sat": 7]

    /// `Mon-Fri 09:00-18:00`, `Sat,Sun 10:00-14:00`, `Daily 08:00-20:00`; nil when it does not read so.
    public static func span(_ text: String) -> Span? {
        let parts = text.split(separator: " ", omittingEmptySubsequences: true)
        guard parts.count == 2 else { return nil }
        var days = Set<Int>()
        for group in parts[0].lowercased().split(separator: ",") {
            if group == "daily" { days.formUnion(1...7); continue }
            let ends = group.split(separator: "-")
            guard let a = ends.first.flatMap({ dayNames[String($0.prefix(3))] }) else { return nil }
            if ends.count == 1 { days.insert(a); continue }
            guard ends.count == 2, let b = dayNames[String(ends[1].prefix(3))] else { return nil }
            var d = a
            while true { days.insert(d); if d == b { break }; d = d % 7 + 1 }
        }
        guard let hours = QuietHours(String(parts[1]), timeZone: "UTC"), hours.start < hours.end else { return nil }
        return Span(weekdays: days, start: hours.start, end: hours.end)
    }

    public var description: String { text.joined(separator: ", ") + " " + timeZone }

    private var calendar: Calendar {
        var c = Calendar(identifier: .gregorian)
        c.timeZone = TimeZone(identifier: timeZone) ?? .current
        return c
    }

    public func isOpen(at date: Date) -> Bool { isOpen(at: date, calendar) }

    private func isOpen(at date: Date, _ cal: Calendar) -> Bool {
        let c = cal.dateComponents([.weekday, .hour, .minute], from: date)
        let minute = (c.hour ?? 0) * 60 + (c.minute ?? 0)
        return spans.contains { $0.weekdays.contains(c.weekday ?? 0) && minute >= $0.start && minute < $0.end }
    }

    /// How much open time lies between `from` and `to`, counted in whole minutes, stopping once it
    /// reaches `limit` (the answer is then at least `limit`).
    public func openTime(from: Date, to: Date, limit: TimeInterval) -> TimeInterval {
        guard to > from else { return 0 }
        let cal = calendar
        var open: TimeInterval = 0
        var t = to
        let earliest = max(from, to.addingTimeInterval(-8 * 24 * 3600))
        while t > earliest, open < limit {
            let step = min(60, t.timeIntervalSince(earliest))
            if isOpen(at: t.addingTimeInterval(-step / 2), cal) { open += step }
            t = t.addingTimeInterval(-step)
        }
        return open
    }
}
