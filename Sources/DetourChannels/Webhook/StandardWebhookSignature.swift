import Crypto
import Foundation

/// Signs deliveries the way Standard Webhooks (https://www.standardwebhooks.com) specifies:
/// `v1,` + base64(HMAC-SHA256(key, "{webhook-id}.{webhook-timestamp}.{body}")), where the key is
/// the base64-decoded part of a `whsec_…` secret.
public struct StandardWebhookSignature: Sendable {
    private let key: SymmetricKey

    /// Why a signing secret cannot be used. It never contains the secret.
    public struct InvalidSecret: Error, Sendable, CustomStringConvertible {
        public var description: String { "the signing secret is not whsec_ followed by base64" }
    }

    /// - Parameter secret: `whsec_` followed by base64 (the prefix may be left out).
    public init(secret: String) throws(InvalidSecret) {
        let encoded = secret.hasPrefix("whsec_") ? String(secret.dropFirst(6)) : secret
        guard !encoded.isEmpty, let bytes = Data(base64Encoded: encoded), !bytes.isEmpty else { throw InvalidSecret() }
        key = SymmetricKey(data: bytes)
    }

    /// The `webhook-signature` header value for one request.
    public func sign(id: String, timestamp: Int64, body: Data) -> String {
        var content = Data("\(id).\(timestamp).".utf8)
        content.append(body)
        let mac = HMAC<SHA256>.authenticationCode(for: content, using: key)
        return "v1," + Data(mac).base64EncodedString()
    }
}
