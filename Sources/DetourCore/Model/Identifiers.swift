/// The name of a watched platform: one of the built-in five or a custom one from `detour.yaml`.
public struct PlatformID: RawRepresentable, Hashable, Comparable, Sendable, Codable, CustomStringConvertible {
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public init(_ rawValue: String) { self.rawValue = rawValue }
    public var description: String { rawValue }
    public static func < (a: Self, b: Self) -> Bool { a.rawValue < b.rawValue }

    public static let facebook = PlatformID("facebook")
    public static let instagram = PlatformID("instagram")
    public static let threads = PlatformID("threads")
    public static let messenger = PlatformID("messenger")
    public static let whatsapp = PlatformID("whatsapp")
    /// The platforms Detour knows without configuration, in display order.
    public static let builtIn: [PlatformID] = [.facebook, .instagram, .threads, .messenger, .whatsapp]

    public static let whatsappCloudAPI = PlatformID("whatsapp-cloud-api")
    public static let messengerPlatform = PlatformID("messenger-platform")
    public static let instagramAPI = PlatformID("instagram-api")
    public static let graphAPI = PlatformID("graph-api")
    /// Meta's business APIs, built in but watched only when the daemon file names them
    /// (`whatsapp-cloud-api: {}` under `platforms:`): only businesses that use them depend on them.
    public static let catalogue: [PlatformID] = [.whatsappCloudAPI, .messengerPlatform, .instagramAPI, .graphAPI]

    public init(from decoder: any Decoder) throws { rawValue = try decoder.singleValueContainer().decode(String.self) }
    public func encode(to encoder: any Encoder) throws { var c = encoder.singleValueContainer(); try c.encode(rawValue) }
}

/// The id of one business (one tenant, one policy file).
public struct BusinessID: RawRepresentable, Hashable, Comparable, Sendable, Codable, CustomStringConvertible {
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public init(_ rawValue: String) { self.rawValue = rawValue }
    public var description: String { rawValue }
    public static func < (a: Self, b: Self) -> Bool { a.rawValue < b.rawValue }

    public init(from decoder: any Decoder) throws { rawValue = try decoder.singleValueContainer().decode(String.self) }
    public func encode(to encoder: any Encoder) throws { var c = encoder.singleValueContainer(); try c.encode(rawValue) }
}

/// Rules for ids written in files: lowercase letters, digits, `-` and `_`, starting with a letter, at most 64.
public enum Slug {
    public static func isValid(_ s: String) -> Bool {
        guard let first = s.unicodeScalars.first, s.unicodeScalars.count <= 64,
              ("a"..."z").contains(first) else { return false }
        return s.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "-" || $0 == "_" }
    }
}
