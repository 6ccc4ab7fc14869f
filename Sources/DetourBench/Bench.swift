import DetourConfig
import DetourCore
import Foundation

/// `detour-bench`: benchmarks that print figures. Each subcommand prints one table.
@main
enum Bench {
    static func main() async throws {
        let args = CommandLine.arguments.dropFirst()
        switch args.first {
        case "audience": try audience(rows: args.dropFirst().first.flatMap(Int.init) ?? 100_000)
        case "probes": try await ProbeBench.run(platforms: 50, seconds: args.dropFirst().first.flatMap(Int.init) ?? 60)
        case "engine": EngineBench.run(businesses: args.dropFirst().first.flatMap(Int.init) ?? 1000)
        case "queue": try await StoreBench.queue(count: args.dropFirst().first.flatMap(Int.init) ?? 100_000)
        case "store-claimer": try await StoreBench.claimer(Array(args.dropFirst()))
        case "email": exit(await EmailBench.command(args.dropFirst()))
        case "webhook": exit(await WebhookBench.command(args.dropFirst()))
        default:
            print("usage: detour-bench audience [ROWS] | probes [SECONDS] | queue [N] | engine [BUSINESSES] | email … | webhook …")
            print("  audience   load an audience CSV of ROWS customers (default 100000); prints load time and rate")
            print("  probes     50 platforms x 4 probes every 10s against a local server for SECONDS (default 60); CPU share and peak RSS")
            print("  engine     evaluate BUSINESSES policies (default 1000) on each of 3000 ticks; median and p99 per tick")
            print("  queue      open an incident with N email deliveries (default 100000) on a fresh SQLite file, then claim and complete them all")
            print("  \(EmailBench.usage)\n             N personalised emails (default 10000) through the email channel per connection count; messages/s")
            print("  \(WebhookBench.usage)\n             N signed standard-format deliveries (default 10000, 16 in flight); deliveries/s")
            exit(args.first == nil ? 0 : 2)
        }
    }

    static func audience(rows: Int) throws {
        var csv = "email,name,locale\n"
        csv.reserveCapacity(rows * 48)
        let locales = ["en-GB", "fr-FR", "de-DE", ""]
        for i in 0..<rows { csv += "customer\(i)@example\(i % 97).com,\"Customer \(i), Jr\",\(locales[i % 4])\n" }
        let data = Data(csv.utf8)
        var times: [Double] = []
        var count = 0
        for _ in 0..<7 {
            let d = Diagnostics()
            let start = ContinuousClock.now
            let audience = AudienceLoader.parse(data, file: "bench.csv", diagnostics: d)
            let elapsed = ContinuousClock.now - start
            count = audience?.recipients.count ?? -1
            times.append(Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
        }
        times.sort()
        let median = times[times.count / 2]
        let table = [["benchmark", "rows", "bytes", "min", "median", "rows/s (median)"],
                     ["audience-csv", "\(count)", "\(data.count)", String(format: "%.1f ms", times[0] * 1000),
                      String(format: "%.1f ms", median * 1000), String(format: "%.0f", Double(count) / median)]]
        printTable(table)
    }
}

/// Prints rows as left-aligned columns.
func printTable(_ rows: [[String]]) {
    let widths = (0..<(rows.first?.count ?? 0)).map { c in rows.map { $0[c].count }.max() ?? 0 }
    for row in rows {
        print(row.enumerated().map { $1.padding(toLength: widths[$0] + 2, withPad: " ", startingAt: 0) }.joined())
    }
}
