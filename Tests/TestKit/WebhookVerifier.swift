import Foundation

/// Checks a received `standard` webhook with `channels/webhook/verify.py`, the receiver-side example
/// the webhook README gives: the tests check what a real receiver would.
public enum WebhookVerifier {
    public static func verify(headers: [String: String], body: String, secret: String) throws -> Bool {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", Repo.path("channels/webhook/verify.py"), headers["webhook-id"] ?? "",
                             headers["webhook-timestamp"] ?? "0", headers["webhook-signature"] ?? ""]
        process.environment = ["WEBHOOK_SECRET": secret, "PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"]
        let input = Pipe()
        process.standardInput = input
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        input.fileHandleForWriting.write(Data(body.utf8))
        try input.fileHandleForWriting.close()
        process.waitUntilExit()
        return process.terminationStatus == 0
    }
}
