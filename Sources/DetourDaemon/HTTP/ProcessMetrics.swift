import Foundation

/// The process metrics Prometheus users expect from any exporter (`process_resident_memory_bytes`,
/// `process_cpu_seconds_total`, `process_open_fds`, `process_max_fds`, `process_start_time_seconds`,
/// `process_virtual_memory_bytes`), read from `/proc/self` at scrape time, in the text format.
///
/// swift-prometheus has no process collector on Linux, and a counter such as CPU seconds must be
/// read, not counted, so these lines are written here and appended to the registry's output.
public struct ProcessMetrics: Sendable {
    /// The process's start, as seconds since 1970 (taken once, when the daemon starts).
    public let startTime: Double

    public init(startTime: Double) { self.startTime = startTime }

    /// The metrics as exposition-format lines, each family with its HELP and TYPE.
    public func render() -> String {
        var out = ""
        func family(_ name: String, _ type: String, _ help: String, _ value: Double?) {
            guard let value else { return }
            out += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n\(name) \(Self.format(value))\n"
        }
        let stat = Self.selfStat()
        let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
        family("process_cpu_seconds_total", "counter", "Total user and system CPU time spent in seconds.",
               stat.map { ticks > 0 ? Double($0.utime + $0.stime) / ticks : 0 })
        family("process_resident_memory_bytes", "gauge", "Resident memory size in bytes.",
               stat.map { Double($0.rss) * Double(sysconf(Int32(_SC_PAGESIZE))) })
        family("process_virtual_memory_bytes", "gauge", "Virtual memory size in bytes.", stat.map { Double($0.vsize) })
        family("process_open_fds", "gauge", "Number of open file descriptors.", Self.openFDs().map(Double.init))
        family("process_max_fds", "gauge", "Maximum number of open file descriptors.", Self.maxFDs().map(Double.init))
        family("process_start_time_seconds", "gauge", "Start time of the process since unix epoch in seconds.", startTime)
        return out
    }

    /// The fields of `/proc/self/stat` these metrics use.
    struct Stat { var utime: UInt64; var stime: UInt64; var vsize: UInt64; var rss: UInt64 }

    /// Parses `/proc/self/stat`: the fields after the command name, which is in parentheses and may hold spaces.
    static func parseStat(_ text: String) -> Stat? {
        guard let close = text.lastIndex(of: ")") else { return nil }
        // Field 3 (state) is the first after ") ".
        let fields = text[text.index(after: close)...].split(separator: " ", omittingEmptySubsequences: true)
        // utime is field 14, stime 15, vsize 23, rss 24; fields[0] is field 3.
        func field(_ n: Int) -> UInt64? { n - 3 < fields.count ? UInt64(fields[n - 3]) : nil }
        guard let utime = field(14), let stime = field(15), let vsize = field(23), let rss = field(24) else { return nil }
        return Stat(utime: utime, stime: stime, vsize: vsize, rss: rss)
    }

    static func selfStat() -> Stat? {
        guard let text = try? String(contentsOfFile: "/proc/self/stat", encoding: .utf8) else { return nil }
        return parseStat(text)
    }

    static func openFDs() -> Int? {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd") else { return nil }
        return max(0, names.count - 1)  // the directory listing's own descriptor
    }

    static func maxFDs() -> UInt64? {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return nil }
        return UInt64(limit.rlim_cur)
    }

    static func format(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : String(value)
    }
}
