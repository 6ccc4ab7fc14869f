import DetourCore
import Foundation
import GRDB

/// A row of `status_transitions`: one platform status change, with its reason.
struct StatusTransitionRow: StoreRecord {
    static let databaseTableName = "status_transitions"

    var id: Int64?
    var platform: PlatformID
    var fromState: PlatformState
    var toState: PlatformState
    var reason: String
    var at: Date

    enum CodingKeys: String, CodingKey {
        case id, platform, reason, at
        case fromState = "from_state"
        case toState = "to_state"
    }

    enum Columns {
        static let id = Column(CodingKeys.id)
        static let platform = Column(CodingKeys.platform)
    }

    init(_ transition: StatusTransition) {
        id = nil
        platform = transition.platform
        fromState = transition.from
        toState = transition.to
        reason = transition.reason
        at = transition.at
    }

    var transition: StatusTransition {
        StatusTransition(platform: platform, from: fromState, to: toState, reason: reason, at: at)
    }
}
