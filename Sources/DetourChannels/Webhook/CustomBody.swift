import DetourCore
import Foundation
import Mustache

/// The body of a `format: custom` webhook: the business's Mustache template, rendered with the
/// same values as every other template plus `delivery_id`, each value escaped for the body's
/// content type, so a message with quotes, line breaks or `&` cannot break the body:
///
/// - JSON (`…/json`, `…+json`): as the inside of a JSON string (write `"{{message}}"`);
/// - a form (`application/x-www-form-urlencoded`): percent-encoded (write `Body={{message}}`);
/// - XML or HTML: as XML text;
/// - anything else: as it is.
///
/// Without a template the body is the `json` format's.
public struct CustomBody: Sendable {
    public let contentType: String
    private let template: TemplateRenderer?

    /// Loads and parses the template. - Throws: when it cannot be read or parsed.
    public init(_ request: WebhookChannel.CustomRequest) throws(TemplateRenderer.Problem) {
        contentType = request.contentType
        guard let path = request.body else { template = nil; return }
        guard let data = FileManager.default.contents(atPath: path), data.count <= 64 * 1024,
              let text = String(data: data, encoding: .utf8) else {
            throw TemplateRenderer.Problem(source: path, message: "cannot read the body template (missing, unreadable, over 64 KiB or not UTF-8)")
        }
        Self.registerEscapers
        template = try TemplateRenderer(text: "{{% CONTENT_TYPE: \(Self.escaping(for: request.contentType))}}" + text, source: path)
    }

    /// The body for one delivery.
    public func render(_ message: OutgoingMessage, text: WebhookText, channel: String) throws(DeliveryError) -> Data {
        guard let template else {
            return try WebhookJSON.encode(WebhookPayload(deliveryID: message.deliveryID, context: message.context, text: text), channel: channel)
        }
        var values = TemplateValues.from(message.context)
        values["delivery_id"] = message.deliveryID
        values["headline"] = text.headline
        values["text"] = text.body
        return Data(template.render(values).utf8)
    }

    /// The body rendered from `values`, escaped for the content type; nil without a template.
    public func render(values: [String: Any]) -> Data? {
        template.map { Data($0.render(values).utf8) }
    }

    /// The escaping a content type needs, by the name it is registered under.
    static func escaping(for contentType: String) -> String {
        let type = contentType.split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() } ?? ""
        if type.hasSuffix("/json") || type.hasSuffix("+json") { return "DETOUR_JSON" }
        if type == "application/x-www-form-urlencoded" { return "DETOUR_FORM" }
        if type.hasSuffix("/xml") || type.hasSuffix("+xml") || type == "text/html" { return "HTML" }
        return "TEXT"
    }

    private static let registerEscapers: Void = {
        MustacheContentTypes.register(JSONEscaping(), named: "DETOUR_JSON")
        MustacheContentTypes.register(FormEscaping(), named: "DETOUR_FORM")
    }()

    /// As the inside of a JSON string.
    struct JSONEscaping: MustacheContentType {
        func escapeText(_ text: String) -> String {
            var out = ""
            out.reserveCapacity(text.utf8.count)
            for scalar in text.unicodeScalars {
                switch scalar {
                case "\"": out += "\\\""
                case "\\": out += "\\\\"
                case "\n": out += "\\n"
                case "\r": out += "\\r"
                case "\t": out += "\\t"
                case "\u{2028}": out += "\\u2028"
                case "\u{2029}": out += "\\u2029"
                default:
                    if scalar.value < 0x20 {
                        out += String(format: "\\u%04x", scalar.value)
                    } else {
                        out.unicodeScalars.append(scalar)
                    }
                }
            }
            return out
        }
    }

    /// As a value in `application/x-www-form-urlencoded`: everything but letters, digits and `-._~`
    /// percent-encoded as UTF-8, a space as `+`.
    struct FormEscaping: MustacheContentType {
        func escapeText(_ text: String) -> String {
            var out = ""
            for byte in text.utf8 {
                switch byte {
                case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                     UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
                    out.unicodeScalars.append(Unicode.Scalar(byte))
                case UInt8(ascii: " "):
                    out += "+"
                default:
                    out += "%" + String(byte, radix: 16, uppercase: true).leftPadded
                }
            }
            return out
        }
    }
}

private extension String {
    var leftPadded: String { count == 1 ? "0" + self : self }
}
