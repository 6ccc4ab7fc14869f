import DetourCore
import Foundation

// MARK: `format: custom` webhooks

extension PolicyLoader {
    /// The keys only a `custom` webhook takes.
    static let customKeys = ["method", "headers", "body", "content_type"]

    /// Headers Detour sets itself, or that would break the request.
    static let reservedHeaders: Set<String> = ["content-type", "content-length", "host", "transfer-encoding", "connection",
                                               "webhook-id", "webhook-timestamp", "webhook-signature"]

    /// Reads `method`, `headers`, `body` and `content_type` of a `custom` webhook; for any other
    /// format, each of them is an error at its line.
    func customRequest(_ m: MappingReader, format: WebhookChannel.Format?, secrets: SecretReader, dir: String) -> WebhookChannel.CustomRequest? {
        guard format == .custom else {
            for key in Self.customKeys {
                m.optional(key)?.error("'\(key)' is for format: custom only", hint: "set format: custom to shape the request yourself, or remove '\(key)'")
            }
            return nil
        }
        var request = WebhookChannel.CustomRequest()
        if let v = m.optional("method"), let s = v.singleLine() {
            let method = s.uppercased()
            if ["POST", "PUT", "PATCH"].contains(method) { request.method = method } else {
                v.error("method '\(s.prefix(20))' is not POST, PUT or PATCH", hint: "most receivers take POST (the default)")
            }
        }
        if let hm = m.optional("headers")?.mapping() {
            // `Name: value` or `Name_file: PATH`, once per header (the reader refuses both at once).
            var seen = Set<String>()
            for (key, keyNode, _) in hm.named() {
                let name = key.hasSuffix("_file") ? String(key.dropLast(5)) : key
                guard seen.insert(name).inserted else { continue }
                guard Self.isHeaderName(name) else {
                    keyNode.error("'\(key.prefix(60))' is not an HTTP header name", hint: "letters, digits, - and _ only, e.g. Authorization or X-Api-Key")
                    continue
                }
                if Self.reservedHeaders.contains(name.lowercased()) {
                    keyNode.error("Detour sets the \(name) header itself", hint: name.lowercased() == "content-type" ? "use content_type:" : "remove it")
                    continue
                }
                guard let value = secrets.read(hm, name) else { continue }
                if value.reveal().contains(where: { $0 == "\r" || $0 == "\n" }) {
                    keyNode.error("the value of header \(name) has a line break", hint: "a header value is one line")
                } else {
                    request.headers.append(.init(name: name, value: value))
                }
            }
            hm.finish()
        }
        let bodyNode = m.optional("body")
        if let v = bodyNode, let s = v.singleLine() {
            let path = resolve(s, relativeTo: dir)
            if let problem = FileKind.notRegular(path) {
                v.error("body template \(path) \(problem)", hint: "point it at a Mustache template file")
            } else if !FileManager.default.isReadableFile(atPath: path) {
                v.error("cannot read body template \(path)", hint: "check the path; it is relative to the policy file")
            }
            request.body = path
        }
        if let v = m.optional("content_type"), let s = v.singleLine() {
            if s.contains(where: { $0 == "\r" || $0 == "\n" }) || !s.contains("/") {
                v.error("'\(s.prefix(60))' is not a content type", hint: "e.g. application/json or application/x-www-form-urlencoded")
            } else {
                request.contentType = s
            }
        } else if let body = request.body {
            guard let type = Self.contentType(forExtension: (body as NSString).pathExtension.lowercased()) else {
                bodyNode?.error("cannot tell the body's content type from its name", hint: "add content_type: (application/json, application/x-www-form-urlencoded, text/plain…)")
                return nil
            }
            request.contentType = type
        }
        return request
    }

    /// `crm.json` → application/json, `gateway.form` → form-urlencoded, `.xml`, `.txt`.
    static func contentType(forExtension ext: String) -> String? {
        switch ext {
        case "json": "application/json"
        case "form": "application/x-www-form-urlencoded"
        case "xml": "application/xml"
        case "txt", "text": "text/plain; charset=utf-8"
        default: nil
        }
    }

    static func isHeaderName(_ name: String) -> Bool {
        !name.isEmpty && name.utf8.count <= 64 && name.unicodeScalars.allSatisfy {
            $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || $0 == "-" || $0 == "_")
        }
    }
}
