/// A watched platform with its probes and the settings that judge them, after defaults and overrides.
public struct PlatformSpec: Sendable, Hashable, Codable {
    public var id: PlatformID
    public var displayName: String
    public var probes: [ProbeSpec]
    public var health: HealthSettings
    /// True for the five platforms Detour ships with.
    public var builtIn: Bool

    public init(id: PlatformID, displayName: String, probes: [ProbeSpec], health: HealthSettings, builtIn: Bool) {
        self.id = id; self.displayName = displayName; self.probes = probes; self.health = health; self.builtIn = builtIn
    }
}
