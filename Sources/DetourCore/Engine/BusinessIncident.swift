import struct Foundation.Date

/// The engine's view of a business's newest incident (open, or the last resolved one, for the cooldown).
public struct BusinessIncident: Sendable, Hashable {
    public var id: Int64
    public var origin: IncidentOrigin
    public var platforms: [PlatformID]
    public var openedAt: Date
    /// nil while open.
    public var resolvedAt: Date?

    public init(id: Int64, origin: IncidentOrigin, platforms: [PlatformID], openedAt: Date, resolvedAt: Date? = nil) {
        self.id = id; self.origin = origin; self.platforms = platforms; self.openedAt = openedAt; self.resolvedAt = resolvedAt
    }

    public var isOpen: Bool { resolvedAt == nil }
}
