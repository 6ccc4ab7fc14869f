import DetourCore
import Foundation

// MARK: `channels.sms`

extension PolicyLoader {
    /// `channels.sms`: the provider and its credentials, the audience (rows with a phone number),
    /// the per-customer cap, the STOP file and the templates.
    func smsChannel(_ node: YNode, _ secrets: SecretReader, _ dir: String, timeZone: String?) -> SMSChannel? {
        guard let m = node.mapping() else { return nil }
        let provider = m.required("provider", hint: "provider: twilio, vonage or http")?.oneOf(SMSProviderName.self)
        var settings: SMSProvider?
        switch provider {
        case .twilio: settings = twilio(m, secrets)
        case .vonage: settings = vonage(m, secrets)
        case .http: settings = httpGateway(m, secrets, dir)
        case nil: break
        }
        var rate: SendRate?
        if let v = m.optional("rate"), let s = v.singleLine() {
            if let r = SendRate(s), r.count <= 10_000 { rate = r } else { v.error("rate '\(s.prefix(20))' is not a rate", hint: "texts per second or minute, e.g. 10/s or 100/m") }
        }
        var quiet: QuietHours?
        if let v = m.optional("quiet_hours"), let s = v.singleLine() {
            if let q = QuietHours(s, timeZone: timeZone ?? TimeZone.current.identifier) { quiet = q } else {
                v.error("quiet_hours '\(s.prefix(20))' is not a span of two times", hint: "quiet_hours: 22:00-08:00 (in the policy's time_zone)")
            }
            if timeZone == nil { v.warning("quiet_hours without time_zone use this machine's time zone (\(TimeZone.current.identifier))", hint: "add time_zone: Europe/London at the top of the policy") }
        }
        var audience: Audience?
        if let v = m.required("audience", hint: "audience: customers.csv (columns name,phone[,email,locale,sms_opt_out])"), let s = v.singleLine() {
            audience = AudienceLoader.load(resolve(s, relativeTo: dir), referencedBy: v, diagnostics: diagnostics)
            if let a = audience, !a.recipients.isEmpty, !a.recipients.contains(where: { $0.phone != nil }) {
                v.error("audience \(s) has no phone numbers", hint: "add a phone column with numbers in international form (+44 7700 900123)")
            }
        }
        let maxPer = m.optional("max_per_customer")?.int(in: 1...10) ?? 2
        var stopFile: String?
        if let v = m.optional("stop_file"), let s = v.singleLine() {
            let path = resolve(s, relativeTo: dir)
            if let problem = FileKind.notRegular(path), FileManager.default.fileExists(atPath: path) {
                v.error("stop_file \(path) \(problem)", hint: "one phone number a line; Detour reads it again whenever it changes")
            } else if !FileManager.default.fileExists(atPath: path) {
                v.warning("stop_file \(path) does not exist (yet): no number is skipped until it does",
                          hint: "create it (it may be empty); Detour reads it again whenever it changes")
            } else if let text = try? String(contentsOfFile: path, encoding: .utf8) {
                // A line Detour cannot read as a number would be ignored, and that customer texted.
                var unreadable = 0
                for (i, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
                    let entry = (line.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first ?? "")
                        .trimmingCharacters(in: .whitespaces)
                    guard !entry.isEmpty, PhoneNumber(entry) == nil else { continue }
                    unreadable += 1
                    guard unreadable <= 5 else { continue }
                    v.warning("\((path as NSString).lastPathComponent):\(i + 1): '\(entry.prefix(40))' is not a phone number in international form, so it matches nobody",
                              hint: "write it with its country code, e.g. +44 7700 900123")
                }
                if unreadable > 5 { v.warning("stop_file \(path): \(unreadable - 5) more lines are not phone numbers in international form") }
            }
            stopFile = path
        }
        let refs = templates(m, dir)
        m.finish()
        guard let settings, let audience else { return nil }
        return SMSChannel(provider: settings, audience: audience, templates: refs, maxPerCustomer: maxPer, stopFile: stopFile,
                          rate: rate, quietHours: quiet)
    }

    enum SMSProviderName: String, CaseIterable { case twilio, vonage, http }

    /// A provider's base URL: `default` unless the policy names another, which must pass the webhook address rules.
    func baseURL(_ m: MappingReader, _ key: String = "base_url", default value: String, what: String) -> String {
        guard let v = m.optional(key), let s = v.singleLine() else { return value }
        if let problem = WebhookTarget.check(s, allowPrivate: references.allowPrivateWebhookTargets) {
            v.error(problem.message.replacingOccurrences(of: "webhook", with: what), hint: problem.hint)
            return value
        }
        return s
    }

    /// A sender: an E.164 number or an alphanumeric sender ID of up to 11 characters.
    func sender(_ v: YNode) -> String? {
        guard let s = v.singleLine() else { return nil }
        if let number = PhoneNumber(s) { return number.e164 }
        if s.count <= 11, s.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == " ") }), s.contains(where: \.isLetter) { return s }
        v.error("from '\(s.prefix(30))' is neither a phone number (+44 7700 900100) nor a sender ID of up to 11 letters and digits")
        return nil
    }

    /// `api_key`, `api_secret` (a secret), `from`, `base_url`.
    private func vonage(_ m: MappingReader, _ secrets: SecretReader) -> SMSProvider? {
        var key: String?
        if let v = m.required("api_key", hint: "api_key: the key on the Vonage dashboard"), let s = v.singleLine() {
            if !s.isEmpty, s.count <= 32, s.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber) }) { key = s } else {
                v.error("'\(s.prefix(40))' is not a Vonage API key", hint: "letters and digits, as the dashboard shows it")
            }
        }
        let secret = secrets.read(m, "api_secret", inlineWarning: "the Vonage API secret is written inline")
        if secret == nil, m.optional("api_secret") == nil, m.optional("api_secret_file") == nil {
            m.node.error("vonage needs api_secret or api_secret_file", hint: "api_secret: env:VONAGE_API_SECRET")
        }
        let from = m.required("from", hint: "from: \"+447700900100\" or a sender ID such as RosiesSalon").flatMap(sender)
        let base = baseURL(m, default: "https://rest.nexmo.com", what: "SMS provider")
        guard let key, let secret, let from else { return nil }
        return .vonage(.init(baseURL: base, apiKey: key, apiSecret: secret, from: from))
    }

    /// `url` (a secret), `method`, `headers`, `body`, `content_type`: any gateway.
    private func httpGateway(_ m: MappingReader, _ secrets: SecretReader, _ dir: String) -> SMSProvider? {
        let urlNode = m.optional("url") ?? m.optional("url_file")
        var url = secrets.read(m, "url")
        if urlNode == nil { m.node.error("provider http needs url or url_file", hint: "url: https://gateway.example/send") }
        if let u = url, let problem = WebhookTarget.check(u.reveal(), allowPrivate: references.allowPrivateWebhookTargets) {
            urlNode?.error(problem.message.replacingOccurrences(of: "webhook", with: "SMS gateway"), hint: problem.hint); url = nil
        }
        let request = customRequest(m, format: .custom, secrets: secrets, dir: dir)
        guard let url, let request else { return nil }
        return .http(.init(url: url, request: request))
    }

    /// `account_sid`, `auth_token` (a secret), `from` or `messaging_service_sid`, `base_url`.
    private func twilio(_ m: MappingReader, _ secrets: SecretReader) -> SMSProvider? {
        var sid: String?
        if let v = m.required("account_sid", hint: "account_sid: AC… (Twilio console, Account Info)"), let s = v.singleLine() {
            if s.hasPrefix("AC"), s.count == 34, s.dropFirst(2).allSatisfy(\.isHexDigit) { sid = s } else {
                v.error("'\(s.prefix(40))' is not a Twilio account SID", hint: "AC followed by 32 hexadecimal digits")
            }
        }
        let token = secrets.read(m, "auth_token", inlineWarning: "the Twilio auth token is written inline")
        if token == nil, m.optional("auth_token") == nil, m.optional("auth_token_file") == nil {
            m.node.error("twilio needs auth_token or auth_token_file", hint: "auth_token: env:TWILIO_AUTH_TOKEN")
        }
        let from = m.optional("from").flatMap(sender)
        var service: String?
        if let v = m.optional("messaging_service_sid"), let s = v.singleLine() {
            if s.hasPrefix("MG"), s.count == 34 { service = s } else { v.error("'\(s.prefix(40))' is not a messaging service SID", hint: "MG followed by 32 characters") }
        }
        if m.optional("from") == nil, m.optional("messaging_service_sid") == nil {
            m.node.error("twilio needs from (a number or sender ID) or messaging_service_sid", hint: "from: \"+447700900100\"")
        }
        let base = baseURL(m, default: "https://api.twilio.com", what: "SMS provider")
        guard let sid, let token else { return nil }
        return .twilio(.init(baseURL: base, accountSID: sid, authToken: token, from: from, messagingServiceSID: service))
    }
}
