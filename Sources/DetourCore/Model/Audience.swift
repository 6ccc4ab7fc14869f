/// The people a business emails in an outage, read from its audience CSV.
public struct Audience: Sendable, Codable {
    public var file: String
    public var recipients: [Recipient]
    public init(file: String, recipients: [Recipient]) { self.file = file; self.recipients = recipients }

    private enum CodingKeys: String, CodingKey { case file, recipients }
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(file, forKey: .file)
        try c.encode(recipients.count, forKey: .recipients)
    }
}

/// One customer: where to write, what to call them, which language to use.
public struct Recipient: Sendable, Hashable, Codable {
    /// Empty when the row has only a phone number.
    public var email: String
    public var name: String
    public var locale: String?
    /// E.164 (`+447700900123`); nil when the row has none.
    public var phone: String?
    /// The customer asked for no texts (the audience's `sms_opt_out` column).
    public var smsOptOut: Bool
    public init(email: String, name: String, locale: String? = nil, phone: String? = nil, smsOptOut: Bool = false) {
        self.email = email; self.name = name; self.locale = locale; self.phone = phone; self.smsOptOut = smsOptOut
    }
}

/// A practical check of an email address (RFC 5322 addr-spec, dot-atom local part, a dotted domain).
public enum EmailAddress {
    private static func isAtext(_ u: UInt8) -> Bool {
        switch u {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            return true
        default:
            return "!#$%&'*+-/=?^_`{|}~".utf8.contains(u)
        }
    }

    public static func isValid(_ s: String) -> Bool {
        let bytes = Array(s.utf8)
        guard bytes.count <= 254, let at = bytes.lastIndex(of: UInt8(ascii: "@")), at > 0, at < bytes.count - 1 else { return false }
        let local = bytes[..<at], domain = bytes[(at + 1)...]
        guard local.count <= 64 else { return false }
        for atom in local.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false) {
            guard !atom.isEmpty, atom.allSatisfy(isAtext) else { return false }
        }
        let labels = domain.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
        guard labels.count >= 2 else { return false }
        for label in labels {
            guard !label.isEmpty, label.count <= 63, label.first != UInt8(ascii: "-"), label.last != UInt8(ascii: "-"),
                  label.allSatisfy({ isAtext($0) && $0 != UInt8(ascii: "_") || $0 >= 0x80 }) else { return false }
        }
        return true
    }
}
