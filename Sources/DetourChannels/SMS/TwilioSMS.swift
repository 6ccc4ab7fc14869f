import DetourCore
import DetourTransport
import Foundation
import Logging

/// Sends one text through Twilio's Messages API (`POST {base}/2010-04-01/Accounts/{sid}/Messages.json`,
/// a form with `To`, `From` or `MessagingServiceSid`, and `Body`; HTTP Basic with the account SID
/// and its auth token) and says how it went, with Twilio's message `sid` as the reply.
///
/// Twilio's errors decide what happens next: a number that is not a mobile number (21211, 21614),
/// a recipient who replied STOP (21610), a region not enabled (21408), a body over 1,600 characters
/// (21617) or wrong credentials (20003) are permanent; 429 (20429) and 5xx are tried again later,
/// after `Retry-After` when Twilio gives one. The auth token never appears in an error or a log line.
public struct TwilioSMS: Sendable {
    public struct Settings: Sendable, Hashable {
        /// `https://api.twilio.com` unless a policy points elsewhere (a regional edge, a test server).
        public var baseURL: String
        public var accountSID: String
        public var authToken: Secret
        /// The sender number (E.164) or alphanumeric sender ID; nil when `messagingServiceSID` is set.
        public var from: String?
        public var messagingServiceSID: String?
        public var timeout: Duration
        /// Loopback and private addresses allowed (a gateway on the business's own network, a test server).
        public var allowPrivateTargets: Bool

        public init(baseURL: String = "https://api.twilio.com", accountSID: String, authToken: Secret, from: String?,
                    messagingServiceSID: String? = nil, timeout: Duration = .seconds(10), allowPrivateTargets: Bool = false) {
            self.baseURL = baseURL; self.accountSID = accountSID; self.authToken = authToken; self.from = from
            self.messagingServiceSID = messagingServiceSID; self.timeout = timeout; self.allowPrivateTargets = allowPrivateTargets
        }
    }

    /// Twilio's codes for a request that will never succeed as it is.
    static let permanentCodes: [Int: String] = [
        21211: "sms.invalid-number", 21614: "sms.invalid-number", 21610: "sms.opted-out", 21408: "sms.region",
        21617: "sms.too-long", 21602: "sms.request", 21603: "sms.request", 21604: "sms.request", 20003: "sms.auth", 20404: "sms.auth",
    ]

    public let settings: Settings
    private let client: CurlHTTPClient
    private let now: @Sendable () -> Date

    private let requests: SMSRequests

    public init(settings: Settings, client: CurlHTTPClient, now: @escaping @Sendable () -> Date = { Date() }) {
        self.settings = settings; self.client = client; self.now = now
        requests = SMSRequests(client: client, timeout: settings.timeout, allowPrivateTargets: settings.allowPrivateTargets,
                               secrets: [settings.authToken.reveal()])
    }

    /// The Messages resource of the account.
    var endpoint: String {
        let base = settings.baseURL.hasSuffix("/") ? String(settings.baseURL.dropLast()) : settings.baseURL
        return "\(base)/2010-04-01/Accounts/\(settings.accountSID)/Messages.json"
    }

    /// Sends `body` to `to` (E.164). - Returns: Twilio's reply, e.g. `twilio SM… queued`.
    public func send(to: String, body: String, logger: Logger) async throws(DeliveryError) -> DeliveryReceipt {
        var fields = [("To", to), ("Body", body)]
        if let service = settings.messagingServiceSID { fields.append(("MessagingServiceSid", service)) }
        if let from = settings.from { fields.append(("From", from)) }
        let credentials = Data("\(settings.accountSID):\(settings.authToken.reveal())".utf8).base64EncodedString()
        let headers: HTTPHeaders = ["Authorization": "Basic \(credentials)", "Content-Type": "application/x-www-form-urlencoded",
                                    "Accept": "application/json", "User-Agent": "detour-sms/\(BuildInfo.version)"]
        let response = try await requests.send(endpoint, headers: headers, body: Data(Self.form(fields).utf8), to: to, logger: logger)
        return try classify(response, to: to).get()
    }

    /// What Twilio's answer means for this text.
    func classify(_ response: HTTPResponse, to: String) -> Result<DeliveryReceipt, DeliveryError> {
        let json = (try? JSONSerialization.jsonObject(with: response.body)) as? [String: Any]
        if (200...299).contains(response.status) {
            let sid = json?["sid"] as? String ?? "?"
            let status = json?["status"] as? String ?? "accepted"
            return .success(DeliveryReceipt(reply: "twilio \(sid) \(status)"))
        }
        let code = (json?["code"] as? Int) ?? Int(json?["code"] as? String ?? "")
        let said = "twilio answered HTTP \(response.status)" + (code.map { " error \($0)" } ?? "")
            + ((json?["message"] as? String).map { ": \(TextLimit.truncate(scrub($0), to: 200))" } ?? "")
        if let code, let kind = Self.permanentCodes[code] {
            return .failure(DeliveryError(code: kind, message: "sms to \(to): \(said)", retryable: false))
        }
        if response.status == 429 || response.status == 408 || (500...599).contains(response.status) {
            let wait = WebhookOutcome.retryAfter(response.headers["Retry-After"], now: now())
            return .failure(DeliveryError(code: response.status == 429 ? "sms.rate" : "sms.status", message: "sms to \(to): \(said)",
                                          retryable: true, retryAfter: wait))
        }
        return .failure(DeliveryError(code: "sms.status", message: "sms to \(to): \(said)", retryable: false))
    }

    /// `text` without the auth token.
    func scrub(_ text: String) -> String {
        let token = settings.authToken.reveal()
        return token.isEmpty ? text : text.replacingOccurrences(of: token, with: "…")
    }

    /// `application/x-www-form-urlencoded`, every value percent-encoded as UTF-8.
    static func form(_ fields: [(String, String)]) -> String {
        fields.map { "\($0.0)=\(CustomBody.FormEscaping().escapeText($0.1))" }.joined(separator: "&")
    }
}
