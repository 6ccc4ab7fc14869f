import Crypto
import DetourCore
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Makes and checks the signed unsubscribe links that go into every email (`List-Unsubscribe`
/// and the footer): `PUBLIC_URL/unsubscribe?b=BUSINESS&e=EMAIL&t=TOKEN`, where the email is
/// base64url and the token is an HMAC-SHA256 of business and email under a key only the daemon
/// knows. So a link unsubscribes exactly one address from one business, and nobody can make one
/// for an address they were not sent.
public struct UnsubscribeLinks: Sendable {
    /// The listener's public address, without a trailing slash.
    public let publicURL: String
    private let key: SymmetricKey
    /// An HMAC already keyed: a copy of it signs one link without hashing the key again.
    private let keyed: HMAC<SHA256>

    /// - Parameters:
    ///   - publicURL: how customers' browsers reach the HTTP listener (`http.public_url`).
    ///   - key: the signing key, usually from `loadOrCreateKey(at:)`.
    public init(publicURL: String, key: [UInt8]) {
        var url = publicURL
        while url.hasSuffix("/") { url.removeLast() }
        self.publicURL = url
        self.key = SymmetricKey(data: key)
        keyed = HMAC<SHA256>(key: self.key)
    }

    /// The link that unsubscribes `email` from `business`.
    public func url(business: BusinessID, email: String) -> String {
        var email = email
        let emailToken = email.withUTF8 { Self.base64URL(UnsafeRawBufferPointer($0)) }
        let query = Self.query(business: business, emailToken: emailToken,
                               token: token(business: business, email: email))
        return "\(publicURL)/unsubscribe?\(query)"
    }

    /// The email address a link was made for, or nil when the token does not match (forged,
    /// altered, or made with another key).
    public func verify(business: BusinessID, emailToken: String, token: String) -> String? {
        guard let emailData = Self.fromBase64URL(emailToken), let email = String(data: emailData, encoding: .utf8),
              let mac = Self.fromBase64URL(token) else { return nil }
        let valid = HMAC<SHA256>.isValidAuthenticationCode(mac, authenticating: Self.message(business: business, email: email), using: key)
        return valid ? email : nil
    }

    /// The query string of a link (the email and token are base64url, so only the business needs escaping).
    static func query(business: BusinessID, emailToken: String, token: String) -> String {
        // Business ids are slugs (checked at load): nothing to escape, and this runs for every email.
        let isSlug = business.rawValue.utf8.allSatisfy { b in
            (0x30...0x39).contains(b) || (0x41...0x5A).contains(b) || (0x61...0x7A).contains(b) || b == 0x2D || b == 0x5F
        }
        if isSlug { return "b=\(business.rawValue)&e=\(emailToken)&t=\(token)" }
        var safe = CharacterSet.alphanumerics
        safe.insert(charactersIn: "-_")
        let b = business.rawValue.addingPercentEncoding(withAllowedCharacters: safe) ?? business.rawValue
        return "b=\(b)&e=\(emailToken)&t=\(token)"
    }

    private func token(business: BusinessID, email: String) -> String {
        var mac = keyed
        var message = Self.messageText(business: business, email: email)
        message.withUTF8 { mac.update(data: UnsafeRawBufferPointer($0)) }
        return mac.finalize().withUnsafeBytes { Self.base64URL($0) }
    }

    /// What is signed: a purpose label, so the key can never be reused to sign something else, then
    /// the business and the address, separated by a byte neither can contain.
    private static func message(business: BusinessID, email: String) -> Data {
        Data(messageText(business: business, email: email).utf8)
    }

    private static func messageText(business: BusinessID, email: String) -> String {
        "detour-unsubscribe-v1\u{0}\(business.rawValue)\u{0}\(email)"
    }

    /// Base64url without padding (RFC 4648 §5), byte by byte: it runs for every email of a fan-out,
    /// where three Foundation string replacements cost more than the HMAC.
    static func base64URL(_ data: Data) -> String {
        data.withUnsafeBytes { base64URL($0) }
    }

    static func base64URL(_ bytes: UnsafeRawBufferPointer) -> String {
        let alphabet = base64URLAlphabet  // once: each use of a static checks its lazy initialisation
        let n = bytes.count
        return String(unsafeUninitializedCapacity: (n * 4 + 2) / 3) { out in
            var o = 0
            var i = 0
            while i < n {
                let b0 = bytes[i], b1: UInt8 = i + 1 < n ? bytes[i + 1] : 0, b2: UInt8 = i + 2 < n ? bytes[i + 2] : 0
                out[o] = alphabet[Int(b0 >> 2)]
                out[o + 1] = alphabet[Int((b0 & 0x03) << 4 | b1 >> 4)]
                o += 2
                if i + 1 < n { out[o] = alphabet[Int((b1 & 0x0F) << 2 | b2 >> 6)]; o += 1 }
                if i + 2 < n { out[o] = alphabet[Int(b2 & 0x3F)]; o += 1 }
                i += 3
            }
            return o
        }
    }

    private static let base64URLAlphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)

    static func fromBase64URL(_ text: String) -> Data? {
        guard !text.isEmpty, text.count <= 4096,
              text.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }) else { return nil }
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while base64.count % 4 != 0 { base64.append("=") }
        return Data(base64Encoded: base64)
    }

    // MARK: - The key file

    /// The length of the signing key, in bytes.
    public static let keyLength = 32

    /// Reads the signing key from `path`, or creates one there (32 random bytes, mode 0600) when the
    /// file does not exist. The key must survive restarts: links already sent stay valid only as
    /// long as it does.
    public static func loadOrCreateKey(at path: String) throws(UnsubscribeKeyError) -> [UInt8] {
        if let key = try readKey(path) { return key }
        var random = SystemRandomNumberGenerator()
        let key = (0..<keyLength).map { _ in UInt8.random(in: .min ... .max, using: &random) }
        // Write a private temporary file, then link it into place: link fails if the file appeared
        // meanwhile (another daemon starting), and then that file wins.
        let temporary = "\(path).\(getpid()).tmp"
        unlink(temporary)
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw UnsubscribeKeyError(path: path, reason: "cannot create it: \(Posix.describe(errno))") }
        defer { unlink(temporary) }
        let written = key.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        let synced = fsync(fd) == 0
        close(fd)
        guard written == keyLength, synced else {
            throw UnsubscribeKeyError(path: path, reason: "cannot write it: \(Posix.describe(errno))")
        }
        if link(temporary, path) != 0 {
            let code = errno
            if code == EEXIST, let existing = try readKey(path) { return existing }
            throw UnsubscribeKeyError(path: path, reason: "cannot create it: \(Posix.describe(code))")
        }
        return key
    }

    /// The key in `path`, nil when there is no such file.
    private static func readKey(_ path: String) throws(UnsubscribeKeyError) -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 {
            if errno == ENOENT { return nil }
            throw UnsubscribeKeyError(path: path, reason: "cannot read it: \(Posix.describe(errno))")
        }
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: keyLength + 1)
        var count = 0
        while count < buffer.count {
            let got = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress.map { $0 + count }, $0.count - count) }
            if got < 0 && errno == EINTR { continue }
            if got < 0 { throw UnsubscribeKeyError(path: path, reason: "cannot read it: \(Posix.describe(errno))") }
            if got == 0 { break }
            count += got
        }
        guard count == keyLength else {
            throw UnsubscribeKeyError(path: path, reason: "it holds \(count == buffer.count ? "more than \(keyLength)" : "\(count)") bytes instead of a \(keyLength)-byte key; remove it to make a new key (unsubscribe links already sent will stop working)")
        }
        return Array(buffer.prefix(keyLength))
    }
}

/// The unsubscribe signing key file could not be read or created. Names the file, never the key.
public struct UnsubscribeKeyError: Error, Sendable, Hashable, CustomStringConvertible {
    public var path: String
    public var reason: String

    public init(path: String, reason: String) {
        self.path = path; self.reason = reason
    }

    public var description: String { "unsubscribe key \(path): \(reason)" }
}
