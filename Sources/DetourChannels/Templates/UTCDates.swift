import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Dates in UTC, formatted by hand: creating Foundation date formatters for every message cost
/// about a third of the email channel's CPU.
enum UTCDates {
    private static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
    private static let days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]

    private static func parts(_ date: Date) -> tm {
        var t = time_t(date.timeIntervalSince1970.rounded(.down))
        var out = tm()
        gmtime_r(&t, &out)
        return out
    }

    private static func two(_ n: Int32) -> String { n < 10 ? "0\(n)" : "\(n)" }

    /// `2026-11-25T04:38:42Z`, as ISO8601DateFormatter writes it.
    static func iso(_ date: Date) -> String {
        let t = parts(date)
        return "\(t.tm_year + 1900)-\(two(t.tm_mon + 1))-\(two(t.tm_mday))T\(two(t.tm_hour)):\(two(t.tm_min)):\(two(t.tm_sec))Z"
    }

    /// `25 Nov 2026, 04:38 GMT`, for people.
    static func human(_ date: Date) -> String {
        let t = parts(date)
        return "\(t.tm_mday) \(months[Int(t.tm_mon)]) \(t.tm_year + 1900), \(two(t.tm_hour)):\(two(t.tm_min)) GMT"
    }

    /// RFC 5322 date-time: `Tue, 05 Mar 2024 14:03:09 +0000`.
    static func rfc5322(_ date: Date) -> String {
        let t = parts(date)
        return "\(days[Int(t.tm_wday)]), \(two(t.tm_mday)) \(months[Int(t.tm_mon)]) \(t.tm_year + 1900) \(two(t.tm_hour)):\(two(t.tm_min)):\(two(t.tm_sec)) +0000"
    }
}
