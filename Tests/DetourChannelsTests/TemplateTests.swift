import DetourChannels
import DetourCore
import Foundation
import Testing
import TestKit

@Suite struct TemplateTests {
    @Test func theCompiledInTemplatesMatchTheFilesInChannels() throws {
        let root = Repo.path("channels")
        var onDisk: [String: String] = [:]
        for channel in try FileManager.default.contentsOfDirectory(atPath: root) {
            let dir = root + "/" + channel
            var isDir: ObjCBool = false
            guard FileManager.default.fileExists(atPath: dir, isDirectory: &isDir), isDir.boolValue else { continue }
            for name in try FileManager.default.contentsOfDirectory(atPath: dir) where name.hasSuffix(".mustache") {
                onDisk["\(channel)/\(name.dropLast(9))"] = try String(contentsOfFile: dir + "/" + name, encoding: .utf8)
            }
        }
        for (name, text) in onDisk {
            let builtin = try TemplateRenderer.builtin(name)
            #expect(builtin.source == "builtin:\(name)")
            _ = text
        }
        #expect(BuiltinTemplateNames.all.sorted() == onDisk.keys.sorted(), "run scripts/embed-templates.py after editing channels/")
        for (name, text) in onDisk { #expect(BuiltinTemplateNames.text(name) == text, "\(name) is stale: run scripts/embed-templates.py") }
    }

    @Test func valuesJoinPlatformsForPeople() {
        let c = MessageContext(event: .opened, businessID: "b", businessName: "B", incidentID: "1", platforms: ["Facebook", "Instagram", "WhatsApp"],
                               since: Date(timeIntervalSince1970: 0), message: "m", contacts: [])
        let v = TemplateValues.from(c)
        #expect(v["platform_list"] as? String == "Facebook, Instagram and WhatsApp")
        #expect(v["since_iso"] as? String == "1970-01-01T00:00:00Z")
    }

    @Test func aTemplateThatDoesNotParseSaysWhere() {
        #expect(throws: TemplateRenderer.Problem.self) { try TemplateRenderer(text: "{{#open}} never closed", source: "mine.mustache") }
    }
}
