/// Where status transitions are kept with their reasons, so people can see what happened and why.
///
/// The store keeps them in SQLite; `InMemoryStatusTransitionLog` keeps them until the process ends.
public protocol StatusTransitionLog: Sendable {
    /// Keeps one transition.
    func record(_ transition: StatusTransition) async throws
    /// The newest transitions first, at most `limit`, of one platform or of all when `platform` is nil.
    func recent(platform: PlatformID?, limit: Int) async throws -> [StatusTransition]
}
