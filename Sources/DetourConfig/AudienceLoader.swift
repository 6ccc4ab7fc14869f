import DetourCore
import Foundation

/// Reads an audience CSV (RFC 4180: header row, comma separated, double-quoted fields may hold commas,
/// quotes and line breaks). Columns: `name`, and `email` or `phone` or both; `locale` and `sms_opt_out`
/// optional; other columns are ignored. A row needs an email address or a phone number (E.164, written
/// forms with spaces, dashes or a leading 00 are normalised).
public enum AudienceLoader {
    public static let maxBytes = 64 << 20
    static let maxReportedRows = 20

    /// Loads `path`, reporting problems against it; `referencedBy` is where a missing file is reported.
    static func load(_ path: String, referencedBy node: YNode, diagnostics: Diagnostics) -> Audience? {
        if let problem = FileKind.notRegular(path) {
            node.error("audience file \(path) \(problem)", hint: "point it at a CSV file; Detour reads audiences only from regular files")
            return nil
        }
        guard let handle = FileHandle(forReadingAtPath: path) else {
            node.error("cannot read audience file \(path)",
                       hint: FileManager.default.fileExists(atPath: path) ? "make it readable by the user detour runs as" : "check the path; it is relative to the policy file")
            return nil
        }
        defer { try? handle.close() }
        let data = (try? handle.read(upToCount: maxBytes + 1)) ?? Data()
        guard data.count <= maxBytes else {
            diagnostics.error(path, 0, 0, "", "audience file is larger than \(maxBytes >> 20) MiB")
            return nil
        }
        return parse(data, file: path, diagnostics: diagnostics)
    }

    /// Parses CSV bytes. Every problem row is reported (the first 20 in full, then a count).
    public static func parse(_ data: Data, file: String, diagnostics: Diagnostics) -> Audience? {
        var parser = CSVRows(data: data)
        guard let header = parser.next() else {
            diagnostics.error(file, 1, 1, "", "audience file is empty", hint: "the first line must be a header such as: email,name,locale")
            return nil
        }
        let columns = header.fields.map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
        let emailCol = columns.firstIndex(of: "email"), phoneCol = columns.firstIndex(of: "phone")
        guard let nameCol = columns.firstIndex(of: "name"), emailCol != nil || phoneCol != nil else {
            var missing: [String] = []
            if emailCol == nil && phoneCol == nil { missing.append("email (or phone)") }
            if !columns.contains("name") { missing.append("name") }
            let hint = columns.first.flatMap { c in Suggest.closest(to: c, in: ["email", "name", "phone"]).map { "did you mean '\($0)' for column '\(c)'? " } } ?? ""
            diagnostics.error(file, 1, 1, "", "header lacks column \(missing.joined(separator: " and "))",
                              hint: hint + "the first line must be a header such as: email,name,locale (or with phone for texts)")
            return nil
        }
        let localeCol = columns.firstIndex(of: "locale"), optOutCol = columns.firstIndex(of: "sms_opt_out")
        let known = ["email", "name", "locale", "phone", "sms_opt_out"]
        let ignored = columns.filter { !known.contains($0) }
        if !ignored.isEmpty {
            diagnostics.warning(file, 1, 1, "", "columns \(ignored.joined(separator: ", ")) are ignored", hint: "Detour reads \(known.joined(separator: ", "))")
        }

        var recipients: [Recipient] = []
        recipients.reserveCapacity(data.count / 40)
        var seen = Set<String>()
        var bad = 0, duplicates = 0
        func report(_ line: Int, _ column: Int, _ message: String, _ hint: String? = nil) {
            bad += 1
            if bad <= maxReportedRows { diagnostics.error(file, line, column, "", message, hint: hint) }
        }
        while let row = parser.next() {
            if row.fields.count == 1, row.fields[0].isEmpty { continue }
            if let problem = parser.problem { report(row.line, 1, problem); break }
            guard row.fields.count == columns.count else {
                report(row.line, 1, "row has \(row.fields.count) fields, the header has \(columns.count)", "quote fields that contain commas: \"Smith, Jo\"")
                continue
            }
            let email = emailCol.map { row.fields[$0] } ?? ""
            let written = phoneCol.map { row.fields[$0] } ?? ""
            if email.isEmpty && written.isEmpty {
                report(row.line, 1, "row has neither an email address nor a phone number", "fill in \(emailCol == nil ? "phone" : phoneCol == nil ? "email" : "email or phone")")
                continue
            }
            if !email.isEmpty, !EmailAddress.isValid(email) {
                report(row.line, row.columnOf(emailCol ?? 0), "\"\(email.prefix(60))\" is not an email address", "write it as name@example.com")
                continue
            }
            var phone: String?
            if !written.isEmpty {
                guard let number = PhoneNumber(written) else {
                    report(row.line, row.columnOf(phoneCol ?? 0), "\"\(written.prefix(30))\" is not a phone number in international form",
                           "write it with its country code, e.g. +44 7700 900123")
                    continue
                }
                phone = number.e164
            }
            let name = row.fields[nameCol]
            if name.unicodeScalars.contains(where: { $0 == "\r" || $0 == "\n" }) {
                report(row.line, row.columnOf(nameCol), "name contains a line break")
                continue
            }
            var optOut = false
            if let optOutCol {
                switch row.fields[optOutCol].lowercased() {
                case "", "no", "false", "0", "n": optOut = false
                case "yes", "true", "1", "y": optOut = true
                default:
                    report(row.line, row.columnOf(optOutCol), "sms_opt_out \"\(row.fields[optOutCol].prefix(20))\" is not yes or no")
                    continue
                }
            }
            guard seen.insert(email.isEmpty ? phone ?? "" : email.lowercased()).inserted else { duplicates += 1; continue }
            let locale = localeCol.map { row.fields[$0] }.flatMap { $0.isEmpty ? nil : $0 }
            recipients.append(Recipient(email: email, name: name, locale: locale, phone: phone, smsOptOut: optOut))
        }
        if bad > maxReportedRows {
            diagnostics.error(file, 0, 0, "", "\(bad - maxReportedRows) more rows with problems not shown")
        }
        if duplicates > 0 {
            diagnostics.warning(file, 0, 0, "", "\(duplicates) duplicate customers skipped (the same email address, or the same phone number on a row without one: each customer is written to once)")
        }
        return bad == 0 ? Audience(file: file, recipients: recipients) : nil
    }
}

/// A minimal, fast RFC 4180 row reader over bytes.
struct CSVRows {
    struct Row {
        var fields: [String]
        var line: Int
        var fieldColumns: [Int]
        func columnOf(_ i: Int) -> Int { i < fieldColumns.count ? fieldColumns[i] : 1 }
    }

    private let bytes: [UInt8]
    private var i = 0
    private var line = 1
    private(set) var problem: String?

    init(data: Data) {
        var b = [UInt8](data)
        if b.starts(with: [0xEF, 0xBB, 0xBF]) { b.removeFirst(3) }
        bytes = b
    }

    mutating func next() -> Row? {
        guard i < bytes.count else { return nil }
        var fields: [String] = []
        var columns: [Int] = []
        let rowLine = line
        var lineStart = i
        var field: [UInt8] = []
        while true {
            columns.append(i - lineStart + 1)
            field.removeAll(keepingCapacity: true)
            if i < bytes.count, bytes[i] == UInt8(ascii: "\"") {
                i += 1
                while true {
                    guard i < bytes.count else { problem = "unterminated quoted field starting on line \(rowLine)"; return Row(fields: fields, line: rowLine, fieldColumns: columns) }
                    let c = bytes[i]
                    if c == UInt8(ascii: "\"") {
                        if i + 1 < bytes.count, bytes[i + 1] == UInt8(ascii: "\"") { field.append(c); i += 2; continue }
                        i += 1
                        break
                    }
                    if c == 0x0a { line += 1; lineStart = i + 1 }
                    field.append(c)
                    i += 1
                }
                while i < bytes.count, bytes[i] != UInt8(ascii: ","), bytes[i] != 0x0a, bytes[i] != 0x0d { i += 1 }
            } else {
                while i < bytes.count, bytes[i] != UInt8(ascii: ","), bytes[i] != 0x0a, bytes[i] != 0x0d {
                    field.append(bytes[i]); i += 1
                }
            }
            var lo = 0, hi = field.count
            while lo < hi, field[lo] == UInt8(ascii: " ") { lo += 1 }
            while hi > lo, field[hi - 1] == UInt8(ascii: " ") { hi -= 1 }
            fields.append(String(decoding: field[lo..<hi], as: UTF8.self))
            if i < bytes.count, bytes[i] == UInt8(ascii: ",") { i += 1; continue }
            if i < bytes.count, bytes[i] == 0x0d { i += 1 }
            if i < bytes.count, bytes[i] == 0x0a { i += 1 }
            line += 1
            return Row(fields: fields, line: rowLine, fieldColumns: columns)
        }
    }
}
