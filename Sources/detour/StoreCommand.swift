import ArgumentParser
import DetourStore
import Foundation

/// `detour store`: what is done to the state itself, with the daemon stopped.
struct StoreCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "store",
        abstract: "Work on the state itself (the daemon stopped).",
        subcommands: [StoreCopyCommand.self]
    )
}

/// `detour store copy`: an SQLite state file into a new PostgreSQL database.
struct StoreCopyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "copy",
        abstract: "Copy an SQLite state file into a new, empty PostgreSQL database.",
        usage: """
        detour store copy --from <path> --to <url>
          [--password-file <path>] [--json]
        """,
        discussion: """
        Moves a one-machine install to PostgreSQL, to run it on several machines.
        Everything is copied in one transaction, with its ids: incidents,
        deliveries (queued ones stay queued), overrides and holds, unsubscribes,
        the audit log, policy versions and status transitions; and the install
        id and the unsubscribe key, so Message-IDs stay unique and the links in
        emails already sent keep working. A database that already holds Detour
        data is refused. Stop the daemon first, then point `state:` at the URL.

        The password, if the server wants one, comes from --password-file or
        the environment variable DETOUR_STORE_PASSWORD; never from the URL.

        Examples:
          detour store copy --from /var/lib/detour/detour.sqlite \\
            --to 'postgres://detour@db.example.com/detour?sslmode=verify-full' \\
            --password-file /etc/detour/secrets/postgres-password
        """
    )
    @Option(help: ArgumentHelp("The SQLite state file.", valueName: "path")) var from: String
    @Option(help: ArgumentHelp("The PostgreSQL database (postgres://USER@HOST/DB).", valueName: "url")) var to: String
    @Option(help: ArgumentHelp("A file holding the database password.", valueName: "path")) var passwordFile: String?
    @Flag(help: "Print what was copied as JSON.") var json = false

    func validate() throws {
        guard PostgresLocation.isURL(to) else { throw ValidationError("--to must be a postgres:// URL") }
        guard FileManager.default.fileExists(atPath: from) else { throw ValidationError("--from: no file at \(from)") }
    }

    func run() async throws {
        var password = ProcessInfo.processInfo.environment["DETOUR_STORE_PASSWORD"].flatMap { $0.isEmpty ? nil : $0 }
        if let passwordFile {
            guard let text = try? String(contentsOfFile: passwordFile, encoding: .utf8) else {
                Output.error("cannot read the password file \(passwordFile)")
                throw ExitCode(1)
            }
            password = text.trimmingCharacters(in: .newlines)
        }
        do {
            let source = try SQLiteStore(path: from)
            let target = try await PostgresStore.open(try PostgresLocation(url: to, password: password))
            defer { target.close() }
            let keyPath = ((from as NSString).deletingLastPathComponent as NSString).appendingPathComponent("unsubscribe.key")
            let key = FileManager.default.contents(atPath: keyPath).map { [UInt8]($0) }
            if !json { Output.progress("copying \(from) into \(target.location)") }
            let quiet = json
            let report = try await StoreCopy.copy(from: source, to: target, unsubscribeKey: key) { table, rows in
                if !quiet { Output.progress("  \(table): \(rows) rows") }
            }
            if json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
                Output.line(String(decoding: try encoder.encode(report), as: UTF8.self))
            } else {
                let total = report.rows.values.reduce(0, +)
                Output.line("copied \(total) rows and the install id \(report.installID.prefix(8))…"
                            + (key == nil ? "" : " and the unsubscribe key") + "; now set state: to the URL and start the daemon")
            }
        } catch let error as StoreError {
            Output.error(error.message)
            throw ExitCode(1)
        }
    }
}
