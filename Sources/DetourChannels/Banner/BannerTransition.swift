import Foundation

/// Whether an incident event may change the banner that is up now.
///
/// Deliveries are at-least-once and a retry can arrive late, so an older event must not undo a
/// newer one: a late `opened` must not put back a banner its incident already took down, and a
/// late all-clear for one incident must not take down the banner of another. A test must not
/// replace a real outage banner.
enum BannerTransition: Equatable {
    case apply
    case skip(String)

    /// - Parameter sequence: the event's number within its incident; a reopen (a higher number than
    ///   the all-clear that is up) puts the banner back, a late retry of the first opening does not.
    static func decide(current: BannerDocument?, event: MessageEvent, incident: String, sequence: Int? = nil,
                       now: Date) -> BannerTransition {
        if event == .alert { return .skip("an operator alert is for the staff, never on the banner") }
        guard let current else { return .apply }
        switch event {
        case .opened:
            if current.incident == incident, current.event == .resolved {
                if let sequence, let resolvedBy = current.sequence, sequence > resolvedBy { return .apply }
                return .skip("incident \(incident) was already resolved")
            }
        case .resolved:
            if current.active, current.event == .opened, let up = current.incident, up != incident {
                return .skip("the banner up is for incident \(up), not \(incident)")
            }
        case .test:
            if current.event == .opened, current.isLive(at: now) {
                return .skip("a real outage banner is up; a test would replace it")
            }
        case .alert:
            break
        }
        return .apply
    }
}
