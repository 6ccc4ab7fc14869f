import DetourCore
import DetourStore
import Foundation

/// The outbox on a fresh SQLite file: queueing N deliveries in one incident, then draining them
/// (claim a batch, complete each) as a worker would. Also the hidden `store-claimer` subcommand that
/// the store's cross-process test runs several of at once.
enum StoreBench {
    static func queue(count: Int, batch: Int = 100) async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("detour-bench-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let store = try SQLiteStore(path: dir.appendingPathComponent("state.sqlite").path)
        let now = Date()
        let business = BusinessID("bench")
        let version = try await store.recordPolicyVersion(
            PolicyVersion(business: business, file: "bench.yaml", contentHash: "bench", loadedAt: now))
        let deliveries = (0..<count).map { i in
            NewDelivery(event: .opened, channel: .email, target: "customer\(i)@example\(i % 97).com",
                        recipientName: "Customer \(i)", locale: "en-GB", idempotencyKey: "1/1/email/customer\(i)@example\(i % 97).com")
        }
        FileHandle.standardError.write(Data("queueing \(count) deliveries, then claiming them \(batch) at a time…\n".utf8))

        let openStart = ContinuousClock.now
        let incident = try await store.openIncident(
            NewIncident(business: business, origin: .probes, openedBy: "probes", reason: "bench", platforms: [.facebook],
                        policyVersion: version, openedAt: now),
            deliveries: deliveries, audit: nil)
        let open = seconds(ContinuousClock.now - openStart)

        var claimed = 0, claims = 0
        var claiming = Duration.zero, completing = Duration.zero
        while true {
            let t0 = ContinuousClock.now
            let leased = try await store.claim(channel: .email, limit: batch, owner: "bench", lease: .seconds(300), now: now)
            let t1 = ContinuousClock.now
            claiming += t1 - t0
            if leased.isEmpty { break }
            claims += 1
            claimed += leased.count
            for delivery in leased {
                _ = try await store.complete(delivery.id, owner: "bench", outcome: .sent(reply: "250 2.0.0 OK"), now: now)
            }
            completing += ContinuousClock.now - t1
        }
        let depth = try await store.queueDepth()
        let claimSeconds = seconds(claiming), completeSeconds = seconds(completing)
        printTable([
            ["benchmark", "rows", "time", "rate"],
            ["open incident + queue (1 txn)", "\(count)", String(format: "%.2f s", open), String(format: "%.0f rows/s", Double(count) / open)],
            ["claim (batches of \(batch))", "\(claimed)", String(format: "%.2f s", claimSeconds),
             String(format: "%.0f rows/s, %.0f claims/s", Double(claimed) / claimSeconds, Double(claims) / claimSeconds)],
            ["complete (1 txn each)", "\(claimed)", String(format: "%.2f s", completeSeconds),
             String(format: "%.0f rows/s", Double(claimed) / completeSeconds)],
            ["claim + complete", "\(claimed)", String(format: "%.2f s", claimSeconds + completeSeconds),
             String(format: "%.0f rows/s", Double(claimed) / (claimSeconds + completeSeconds))],
        ])
        print("incident #\(incident.id); sent \(depth[.sent] ?? 0) of \(count); target: queueing under 2 s")
    }

    /// `store-claimer PATH OWNER [START]`: waits until START (seconds since 1970) if given, then claims
    /// email deliveries 5 at a time and completes them as sent until none is due; prints each claimed id.
    static func claimer(_ args: [String]) async throws {
        guard args.count >= 2 else {
            FileHandle.standardError.write(Data("usage: detour-bench store-claimer PATH OWNER [START]\n".utf8))
            exit(2)
        }
        do {
            try await claimAll(store: SQLiteStore(path: args[0]), owner: args[1], start: args.dropFirst(2).first.flatMap(Double.init))
        } catch {
            FileHandle.standardError.write(Data("store-claimer: \(error)\n".utf8))
            exit(1)
        }
    }

    private static func claimAll(store: SQLiteStore, owner: String, start: Double?) async throws {
        if let start {
            let wait = start - Date().timeIntervalSince1970
            if wait > 0 { try await Task.sleep(for: .milliseconds(Int(wait * 1000))) }
        }
        while true {
            let leased = try await store.claim(channel: .email, limit: 5, owner: owner, lease: .seconds(300), now: Date())
            if leased.isEmpty { break }
            for delivery in leased {
                print(delivery.id)
                _ = try await store.complete(delivery.id, owner: owner, outcome: .sent(reply: "250 OK"), now: Date())
            }
        }
    }

    private static func seconds(_ d: Duration) -> Double {
        Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
    }
}
