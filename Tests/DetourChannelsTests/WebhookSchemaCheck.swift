import Foundation

/// Checks a decoded JSON value against the parts of JSON Schema that `channels/webhook/payload.schema.json`
/// uses: type, required, properties, additionalProperties: false, items, enum, const. Returns the problems.
enum SchemaCheck {
    static func problems(_ value: Any, against schema: [String: Any], at path: String = "$") -> [String] {
        var out: [String] = []
        if let type = schema["type"] {
            let allowed = (type as? [String]) ?? [(type as? String) ?? ""]
            if !allowed.contains(where: { matches(value, type: $0) }) { return ["\(path): expected \(allowed), got \(value)"] }
        }
        if let options = schema["enum"] as? [String], !options.contains((value as? String) ?? "\u{0}") {
            out.append("\(path): \(value) is not one of \(options)")
        }
        if let constant = schema["const"], "\(constant)" != "\(value)" { out.append("\(path): expected \(constant), got \(value)") }
        if let object = value as? [String: Any] {
            let properties = schema["properties"] as? [String: Any] ?? [:]
            for key in schema["required"] as? [String] ?? [] where object[key] == nil { out.append("\(path): missing \(key)") }
            if (schema["additionalProperties"] as? Bool) == false {
                for key in object.keys where properties[key] == nil { out.append("\(path): unexpected \(key)") }
            }
            for (key, sub) in properties {
                if let child = object[key], let subSchema = sub as? [String: Any] {
                    out += problems(child, against: subSchema, at: "\(path).\(key)")
                }
            }
        }
        if let array = value as? [Any], let items = schema["items"] as? [String: Any] {
            for (i, item) in array.enumerated() { out += problems(item, against: items, at: "\(path)[\(i)]") }
        }
        return out
    }

    private static func matches(_ value: Any, type: String) -> Bool {
        switch type {
        case "object": return value is [String: Any]
        case "array": return value is [Any]
        case "string": return value is String
        case "null": return value is NSNull
        case "boolean": return value is Bool
        case "integer", "number": return value is NSNumber
        default: return false
        }
    }
}
