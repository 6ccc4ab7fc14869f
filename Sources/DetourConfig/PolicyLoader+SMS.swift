import DetourCore
import Foundation

// MARK: `channels.sms`

extension PolicyLoader {
    /// `channels.sms`: the provider and its credentials, the audience (rows with a phone number),
    /// the per-customer cap, the STOP file and the templates.
    func smsChannel(_ node: YNode, _ secrets: SecretReader, _ dir: String) -> SMSChannel? {
        guard let m = node.mapping() else { return nil }
        let provider = m.required("provider", hint: "provider: twilio")?.oneOf(SMSProviderName.self)
        var settings: SMSProvider?
        switch provider {
        case .twilio: settings = twilio(m, secrets)
        case nil: break
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
            }
            stopFile = path
        }
        let refs = templates(m, dir)
        m.finish()
        guard let settings, let audience else { return nil }
        return SMSChannel(provider: settings, audience: audience, templates: refs, maxPerCustomer: maxPer, stopFile: stopFile)
    }

    enum SMSProviderName: String, CaseIterable { case twilio }

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
        var from: String?
        if let v = m.optional("from"), let s = v.singleLine() {
            if let number = PhoneNumber(s) { from = number.e164 }
            else if s.count <= 11, s.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == " ") }), s.contains(where: \.isLetter) { from = s }
            else { v.error("from '\(s.prefix(30))' is neither a phone number (+44 7700 900100) nor a sender ID of up to 11 letters and digits") }
        }
        var service: String?
        if let v = m.optional("messaging_service_sid"), let s = v.singleLine() {
            if s.hasPrefix("MG"), s.count == 34 { service = s } else { v.error("'\(s.prefix(40))' is not a messaging service SID", hint: "MG followed by 32 characters") }
        }
        if m.optional("from") == nil, m.optional("messaging_service_sid") == nil {
            m.node.error("twilio needs from (a number or sender ID) or messaging_service_sid", hint: "from: \"+447700900100\"")
        }
        var base = "https://api.twilio.com"
        if let v = m.optional("base_url"), let s = v.singleLine() {
            if let problem = WebhookTarget.check(s, allowPrivate: references.allowPrivateWebhookTargets) {
                v.error(problem.message.replacingOccurrences(of: "webhook", with: "SMS provider"), hint: problem.hint)
            } else { base = s }
        }
        guard let sid, let token else { return nil }
        return .twilio(.init(baseURL: base, accountSID: sid, authToken: token, from: from, messagingServiceSID: service))
    }
}
