import DetourConfig
import DetourCore
import Foundation
import Testing
import TestKit

/// Secret references resolve at load and never print.
@Suite struct SecretTests {
    private static let daemon = """
    policies: policies
    smtp:
      relay:
        url: smtps://mail.example.com:465
        username: alerts@example.com
        password: %PASSWORD%
    """

    private func load(password: String, files: [String: String] = [:], env: [String: String] = [:]) throws -> Fixture {
        try Fixture(daemon: Self.daemon.replacingOccurrences(of: "password: %PASSWORD%", with: password), files: files, environment: env)
    }

    @Test func anEnvironmentReferenceResolves() throws {
        let f = try load(password: "password: env:SMTP_PW", env: ["SMTP_PW": "correct horse"])
        let secret = try #require(f.loaded?.daemon.smtp["relay"]?.password)
        #expect(secret.reveal() == "correct horse")
        #expect(secret.description == "<secret from env:SMTP_PW>")
        #expect(!"\(secret)".contains("correct horse") && !String(reflecting: secret).contains("correct horse"))
    }

    @Test func aMissingEnvironmentVariableIsAnError() throws {
        let f = try load(password: "password: env:SMTP_PW")
        let e = try #require(f.error("detour.yaml", "smtp.relay.password"))
        #expect(e.message == "environment variable SMTP_PW is not set (or empty)")
    }

    @Test func aSecretFileResolvesWithoutItsNewline() throws {
        let f = try load(password: "password_file: smtp.pass", files: ["smtp.pass": "from-a-file\n"])
        #expect(f.loaded?.daemon.smtp["relay"]?.password?.reveal() == "from-a-file")
        #expect(f.diagnostics.warnings.isEmpty)
    }

    @Test func aSecretFileReadableByOthersGetsAWarning() throws {
        let f = try load(password: "password_file: smtp.pass", files: ["smtp.pass": "pw\n"])
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: f.dir.file("smtp.pass"))
        let again = try ConfigLoader(environment: [:]).load(configPath: f.dir.file("detour.yaml"))
        let w = try #require(again.1.warnings.first)
        #expect(w.message.contains("readable by group or others (mode 644)"))
        #expect(w.hint?.hasPrefix("chmod 600") == true)
        #expect(again.0 != nil, "a warning does not stop the load")
    }

    @Test func aSystemdCredentialResolves() throws {
        let dir = try TempDir()
        try dir.write("smtp", "cred-pw", mode: 0o600)
        let f = try load(password: "password: credential:smtp", env: ["CREDENTIALS_DIRECTORY": dir.path])
        #expect(f.loaded?.daemon.smtp["relay"]?.password?.reveal() == "cred-pw")
    }

    @Test func bothInlineAndFileIsAnError() throws {
        let f = try load(password: "password: env:X\n    password_file: x", env: ["X": "y"])
        #expect(f.error("detour.yaml", "smtp.relay.password")?.message == "write either 'password' or 'password_file', not both")
    }

    @Test func policyShowJSONNeverContainsASecret() throws {
        let f = try Fixture(policies: ["a.yaml": policy(with: "  webhooks:\n    - name: hook\n      format: standard\n      url: env:HOOK_URL\n      secret: env:HOOK_SECRET")],
                            environment: ["HOOK_URL": "https://hooks.example.com/T000/B000/tok3n", "HOOK_SECRET": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"])
        let p = try #require(f.loaded?.policies.first, "\(f.everything)")
        let json = String(decoding: try JSONEncoder().encode(p), as: UTF8.self)
        #expect(!json.contains("tok3n") && !json.contains("MfKQ9r8"))
        #expect(json.contains("<secret from env:HOOK_URL>"))
    }
}
