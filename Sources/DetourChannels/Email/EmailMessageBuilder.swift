import Crypto
import DetourCore
import Foundation

/// One email ready to be turned into bytes: who it is from and to, and its rendered texts.
/// Every text here is untrusted; `EmailMessageBuilder` sanitises and encodes it.
public struct EmailMessage: Sendable, Hashable {
    public var from: Mailbox
    public var to: Mailbox
    public var replyTo: Mailbox?
    public var subject: String
    /// The text/plain part.
    public var text: String
    /// The text/html part.
    public var html: String
    /// The delivery id: it becomes the Message-ID's left part, so a retry sends the same Message-ID.
    public var deliveryID: String
    public var date: Date
    /// One-click unsubscribe link (RFC 8058); nil sends no List-Unsubscribe headers.
    public var unsubscribeURL: String?

    public init(from: Mailbox, to: Mailbox, replyTo: Mailbox? = nil, subject: String, text: String, html: String,
                deliveryID: String, date: Date, unsubscribeURL: String? = nil) {
        self.from = from; self.to = to; self.replyTo = replyTo; self.subject = subject; self.text = text
        self.html = html; self.deliveryID = deliveryID; self.date = date; self.unsubscribeURL = unsubscribeURL
    }
}

/// Why an `EmailMessage` cannot become bytes: an address that cannot be written in a header.
public struct EmailMessageError: Error, Sendable, Hashable, CustomStringConvertible {
    /// Which field: `from`, `to` or `reply-to`.
    public var field: String
    public var description: String { "the \(field) address cannot go in a header: it is not a valid plain-ASCII email address" }
}

/// Builds RFC 5322 message bytes: a `multipart/alternative` with text and HTML parts, UTF-8 and
/// quoted-printable, CRLF line ends, RFC 2047 encoded names and subject, and headers that no CR or LF
/// from a policy or an audience file can break out of.
public enum EmailMessageBuilder {
    /// The message's Message-ID (with angle brackets): `<deliveryID@from-domain>`.
    public static func messageID(deliveryID: String, from: Mailbox) -> String {
        messageID(deliveryID: deliveryID, from: from, fromIsSafe: false)
    }

    /// `fromIsSafe`: `from` is already known to be a header-safe address, so its domain is one too.
    private static func messageID(deliveryID: String, from: Mailbox, fromIsSafe: Bool) -> String {
        let address = from.address
        let domain = address.lastIndex(of: "@").map { String(address[address.index(after: $0)...]) } ?? ""
        let right = fromIsSafe || isHeaderSafeAddress("x@\(domain)") ? domain : "detour.invalid"
        return "<\(HeaderEncoding.messageIDLeft(deliveryID))@\(right)>"
    }

    /// The message bytes, or an error when an address cannot be written safely.
    public static func build(_ m: EmailMessage) throws(EmailMessageError) -> Data {
        guard isHeaderSafeAddress(m.from.address) else { throw EmailMessageError(field: "from") }
        guard isHeaderSafeAddress(m.to.address) else { throw EmailMessageError(field: "to") }
        if let r = m.replyTo, !isHeaderSafeAddress(r.address) { throw EmailMessageError(field: "reply-to") }

        let id = messageID(deliveryID: m.deliveryID, from: m.from, fromIsSafe: true)
        let boundary = "=_detour_" + boundaryHex(SHA256.hash(data: Data(id.utf8)))
        var headers: [(String, String)] = [
            ("From", HeaderEncoding.mailbox(name: m.from.name, address: m.from.address)),
            ("To", HeaderEncoding.mailbox(name: m.to.name, address: m.to.address)),
        ]
        if let r = m.replyTo { headers.append(("Reply-To", HeaderEncoding.mailbox(name: r.name, address: r.address))) }
        headers += [
            ("Subject", HeaderEncoding.unstructured(m.subject, nameLength: "Subject: ".count)),
            ("Date", HeaderEncoding.date(m.date)),
            ("Message-ID", id),
            ("MIME-Version", "1.0"),
            // RFC 3834: tells auto-responders (out-of-office replies) not to answer.
            ("Auto-Submitted", "auto-generated"),
        ]
        if let url = m.unsubscribeURL.flatMap(HeaderEncoding.headerURL) {
            headers.append(("List-Unsubscribe", "<\(url)>"))
            headers.append(("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"))
        }
        headers.append(("Content-Type", "multipart/alternative;\r\n boundary=\"\(boundary)\""))

        var out: [UInt8] = []
        out.reserveCapacity(1024 + (m.text.utf8.count + m.html.utf8.count) * 9 / 8)
        for (name, value) in headers {
            out.append(contentsOf: name.utf8)
            out.append(contentsOf: ": ".utf8)
            out.append(contentsOf: value.utf8)
            out.append(contentsOf: "\r\n".utf8)
        }
        out.append(contentsOf: "\r\n".utf8)
        for (type, body) in [("text/plain", m.text), ("text/html", m.html)] {
            out.append(contentsOf: "--\(boundary)\r\nContent-Type: \(type); charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n".utf8)
            QuotedPrintable.encode(body, into: &out)
            out.append(contentsOf: "\r\n".utf8)
        }
        out.append(contentsOf: "--\(boundary)--\r\n".utf8)
        return Data(out)
    }

    /// The first 12 bytes of `digest` as 24 lower-case hex digits (a loop of its own: the generic
    /// `lowercaseHex` costs more than the hash here, once per email).
    private static func boundaryHex(_ digest: SHA256.Digest) -> String {
        digest.withUnsafeBytes { bytes in
            String(unsafeUninitializedCapacity: 24) { out in
                for i in 0..<12 {
                    let high = bytes[i] >> 4, low = bytes[i] & 0x0F
                    out[2 * i] = high < 10 ? 0x30 + high : 0x57 + high  // 0-9, a-f
                    out[2 * i + 1] = low < 10 ? 0x30 + low : 0x57 + low
                }
                return 24
            }
        }
    }

    /// An address we can put in a header as is: a valid addr-spec made only of printable ASCII.
    /// (Internationalised addresses would need SMTPUTF8, which Detour does not use.)
    static func isHeaderSafeAddress(_ address: String) -> Bool {
        HeaderEncoding.isPrintableASCII(address) && EmailAddress.isValid(address)
    }
}
