import DetourCore
import DetourStore
import Foundation

/// One request from the `detour` CLI to the running daemon: the same type on both ends of the
/// control socket, so what the CLI checked is what the daemon gets.
///
/// On the wire it is one JSON object, `{"request": "hold", "arguments": {…}}`; `arguments` is left
/// out for requests without any. Values travel typed (a hold's length in seconds, ids as numbers),
/// never as text for the daemon to parse again. `decode(_:)` tells a request it does not know
/// (from a newer CLI) or one in the older `{"command": …}` form from a request that is malformed.
public enum ControlRequest: Sendable, Hashable {
    /// `detour status`.
    case status
    /// `detour failover start`.
    case failoverStart(FailoverStart)
    /// `detour failover stop`.
    case failoverStop(business: BusinessID)
    /// `detour hold`.
    case hold(Hold)
    /// `detour release`.
    case release(business: BusinessID)
    /// `detour incidents`.
    case incidents(IncidentFilter)
    /// `detour deliveries`.
    case deliveries(DeliveryFilter)
    /// `detour deliveries retry`.
    case retry(RetrySelection)
    /// `detour reload`.
    case reload
    /// `detour audit`.
    case audit(AuditQuery)

    /// The request's name on the wire.
    public enum Name: String, Sendable, CaseIterable, Codable {
        case status
        case failoverStart = "failover.start"
        case failoverStop = "failover.stop"
        case hold
        case release
        case incidents
        case deliveries
        case retry = "deliveries.retry"
        case reload
        case audit
    }

    /// What the request is called on the wire and in the daemon's log.
    public var name: Name {
        switch self {
        case .status: .status
        case .failoverStart: .failoverStart
        case .failoverStop: .failoverStop
        case .hold: .hold
        case .release: .release
        case .incidents: .incidents
        case .deliveries: .deliveries
        case .retry: .retry
        case .reload: .reload
        case .audit: .audit
        }
    }
}

extension ControlRequest: Codable {
    private enum CodingKeys: String, CodingKey {
        case request, arguments
    }

    /// The arguments of `failover stop` and `release`.
    private struct BusinessArgument: Codable {
        var business: BusinessID
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let name = try container.decode(Name.self, forKey: .request)
        func arguments<T: Decodable>(_ type: T.Type) throws -> T {
            try container.decode(type, forKey: .arguments)
        }
        /// A query without arguments asks for the defaults.
        func query<T: Decodable>(_ type: T.Type, _ defaults: T) throws -> T {
            try container.decodeIfPresent(type, forKey: .arguments) ?? defaults
        }
        switch name {
        case .status: self = .status
        case .failoverStart: self = .failoverStart(try arguments(FailoverStart.self))
        case .failoverStop: self = .failoverStop(business: try arguments(BusinessArgument.self).business)
        case .hold: self = .hold(try arguments(Hold.self))
        case .release: self = .release(business: try arguments(BusinessArgument.self).business)
        case .incidents: self = .incidents(try query(IncidentFilter.self, IncidentFilter()))
        case .deliveries: self = .deliveries(try query(DeliveryFilter.self, DeliveryFilter()))
        case .retry: self = .retry(try arguments(RetrySelection.self))
        case .reload: self = .reload
        case .audit: self = .audit(try query(AuditQuery.self, AuditQuery()))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(name, forKey: .request)
        switch self {
        case .status, .reload: break
        case .failoverStart(let a): try container.encode(a, forKey: .arguments)
        case .failoverStop(let business), .release(let business):
            try container.encode(BusinessArgument(business: business), forKey: .arguments)
        case .hold(let a): try container.encode(a, forKey: .arguments)
        case .incidents(let a): try container.encode(a, forKey: .arguments)
        case .deliveries(let a): try container.encode(a, forKey: .arguments)
        case .retry(let a): try container.encode(a, forKey: .arguments)
        case .audit(let a): try container.encode(a, forKey: .arguments)
        }
    }
}

extension ControlRequest {
    /// Reads one request line as the daemon receives it. A line that is not a request this daemon
    /// understands becomes a failure that says why, and what to check: the CLI and the daemon may
    /// be of different versions.
    public static func decode(_ line: Data) -> Result<ControlRequest, ControlFailure> {
        let version = "this daemon is detour \(BuildInfo.version)"
        let sameVersion = "use the detour CLI of the daemon's version (`detour --version`)"
        guard let object = (try? JSONSerialization.jsonObject(with: line)) as? [String: Any] else {
            return .failure(ControlFailure(
                code: .badRequest, message: "not a control request: expected one JSON object with a \"request\" name",
                hint: sameVersion))
        }
        guard let name = object["request"] as? String else {
            if let command = object["command"] as? String {
                return .failure(ControlFailure(
                    code: .badRequest,
                    message: "the request '\(command)' is in the older control format, which \(version) no longer reads; is the CLI older than the daemon?",
                    hint: sameVersion))
            }
            return .failure(ControlFailure(
                code: .badRequest, message: "not a control request: expected one JSON object with a \"request\" name",
                hint: sameVersion))
        }
        guard Name(rawValue: name) != nil else {
            return .failure(ControlFailure(
                code: .badRequest, message: "unknown request '\(name)'; is the CLI newer than the daemon?",
                hint: "\(version) and understands: \(Name.allCases.map(\.rawValue).joined(separator: ", ")); \(sameVersion)"))
        }
        do {
            return .success(try ControlWire.decode(ControlRequest.self, from: line))
        } catch {
            return .failure(ControlFailure(
                code: .badRequest,
                message: "the arguments of '\(name)' are not what \(version) reads (\(ControlWire.describe(error, under: "arguments"))); is the CLI of another version than the daemon?",
                hint: sameVersion))
        }
    }
}
