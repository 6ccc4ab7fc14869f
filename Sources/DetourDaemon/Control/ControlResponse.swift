import DetourStore
import Foundation

/// The daemon's answer to one `ControlRequest`, typed: the CLI reads the values the daemon sent,
/// not JSON inside a string.
///
/// On the wire a success is `{"ok": true, "response": "incidents", "result": …}` and a failure
/// `{"ok": false, "code": "refused", "error": "…", "hint": "…"}`: the `ok`/`error`/`hint` keys of
/// the older format, so a CLI of either version shows a daemon's refusal as it is.
public enum ControlResponse: Sendable, Hashable {
    /// The answer to `status`.
    case status(StatusReport)
    /// What a manual action did, in a sentence (failover, hold, release, retry, reload).
    case message(String)
    /// The answer to `incidents`, newest first.
    case incidents([IncidentRecord])
    /// The answer to `deliveries`, newest first.
    case deliveries([DeliveryRecord])
    /// The answer to `audit`, newest first.
    case audit([AuditEntry])
    /// The request was refused or failed.
    case failure(ControlFailure)

    /// The answer's name on the wire.
    public enum Name: String, Sendable, CaseIterable, Codable {
        case status, message, incidents, deliveries, audit
    }

    /// The answer's name; nil for a failure.
    public var name: Name? {
        switch self {
        case .status: .status
        case .message: .message
        case .incidents: .incidents
        case .deliveries: .deliveries
        case .audit: .audit
        case .failure: nil
        }
    }

    /// The sentence of a `.message` answer; nil for any other.
    public var message: String? { if case .message(let text) = self { text } else { nil } }
    /// The report of a `.status` answer; nil for any other.
    public var statusReport: StatusReport? { if case .status(let report) = self { report } else { nil } }
    /// The incidents of an `.incidents` answer; nil for any other.
    public var incidentList: [IncidentRecord]? { if case .incidents(let list) = self { list } else { nil } }
    /// The deliveries of a `.deliveries` answer; nil for any other.
    public var deliveryList: [DeliveryRecord]? { if case .deliveries(let list) = self { list } else { nil } }
    /// The entries of an `.audit` answer; nil for any other.
    public var auditList: [AuditEntry]? { if case .audit(let list) = self { list } else { nil } }

    /// A refusal, with what to try next.
    public static func failure(_ message: String, hint: String? = nil, code: ControlFailure.Code = .refused) -> ControlResponse {
        .failure(ControlFailure(code: code, message: message, hint: hint))
    }
}

extension ControlResponse: Codable {
    private enum CodingKeys: String, CodingKey {
        case ok, response, result, code, error, hint
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        guard try container.decode(Bool.self, forKey: .ok) else {
            let code = try container.decodeIfPresent(String.self, forKey: .code).map(ControlFailure.Code.init) ?? .failed
            self = .failure(ControlFailure(code: code, message: try container.decode(String.self, forKey: .error),
                                           hint: try container.decodeIfPresent(String.self, forKey: .hint)))
            return
        }
        switch try container.decode(Name.self, forKey: .response) {
        case .status: self = .status(try container.decode(StatusReport.self, forKey: .result))
        case .message: self = .message(try container.decode(String.self, forKey: .result))
        case .incidents: self = .incidents(try container.decode([IncidentRecord].self, forKey: .result))
        case .deliveries: self = .deliveries(try container.decode([DeliveryRecord].self, forKey: .result))
        case .audit: self = .audit(try container.decode([AuditEntry].self, forKey: .result))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        if case .failure(let failure) = self {
            try container.encode(false, forKey: .ok)
            try container.encode(failure.code.description, forKey: .code)
            try container.encode(failure.message, forKey: .error)
            try container.encodeIfPresent(failure.hint, forKey: .hint)
            return
        }
        try container.encode(true, forKey: .ok)
        try container.encodeIfPresent(name, forKey: .response)
        switch self {
        case .status(let report): try container.encode(report, forKey: .result)
        case .message(let text): try container.encode(text, forKey: .result)
        case .incidents(let list): try container.encode(list, forKey: .result)
        case .deliveries(let list): try container.encode(list, forKey: .result)
        case .audit(let list): try container.encode(list, forKey: .result)
        case .failure: break
        }
    }
}

/// Why the daemon did not do what was asked: `message` says what went wrong, in a sentence a
/// person can act on, and `hint` what to try next.
public struct ControlFailure: Error, Sendable, Hashable, CustomStringConvertible {
    /// The kind of failure, for code that reacts to one in particular.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        public let description: String
        init(_ description: String) { self.description = description }

        /// The daemon did not understand the request: malformed, too large, or from a CLI of
        /// another version.
        public static let badRequest = Code("badRequest")
        /// The daemon understood and said no: an unknown business, no open incident, a broken
        /// configuration on reload.
        public static let refused = Code("refused")
        /// Something went wrong in the daemon (the state file, say); its log has the details.
        public static let failed = Code("failed")
    }

    public var code: Code
    public var message: String
    public var hint: String?

    public init(code: Code, message: String, hint: String? = nil) {
        self.code = code; self.message = message; self.hint = hint
    }

    public var description: String {
        hint.map { "\(message)\n\($0)" } ?? message
    }
}
