import DetourCore
import DetourTransport
import Logging

extension SMTPServer {
    /// The transport settings for this server from `detour.yaml`; the password is revealed only into them.
    public var transportSettings: SMTPSettings {
        let tls: SMTPSettings.StartTLS = switch startTLS {
        case .required: .required
        case .optional: .optional
        case .off: .off
        }
        return SMTPSettings(url: url, startTLS: tls, username: username, password: password?.reveal(), caFile: caFile,
                            verifyTLS: verifyTLS, connectTimeout: min(timeout.duration, .seconds(10)), timeout: timeout.duration)
    }

    /// A connection pool for this server, to share between every email channel that uses it.
    public func makePool(logger: Logger) -> SMTPConnectionPool {
        SMTPConnectionPool(settings: transportSettings, maxConnections: maxConnections,
                           rateLimit: rate.map { SMTPRateLimit(messagesPerSecond: $0.perSecond) }, logger: logger)
    }
}
