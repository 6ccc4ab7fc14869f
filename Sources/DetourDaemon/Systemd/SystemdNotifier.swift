#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Tells systemd how the daemon is doing (`sd_notify`): ready, reloading, stopping, a status line
/// for `systemctl status`, and watchdog keep-alives. Writes datagrams to `$NOTIFY_SOCKET` directly,
/// so the binary needs no libsystemd. Outside systemd (no `$NOTIFY_SOCKET`) every call does nothing.
///
/// Each call returns whether the datagram was sent; a failure never throws, since the daemon works
/// the same without systemd hearing about it. The caller may log a `false`. Sending never blocks:
/// a full socket drops the message.
public struct SystemdNotifier: Sendable {
    /// The socket from `$NOTIFY_SOCKET`: a file path, or an abstract name starting with `@`.
    public let socketPath: String?
    /// `$WATCHDOG_USEC` when the watchdog is meant for this process.
    private let watchdogMicroseconds: UInt64?

    /// Reads `NOTIFY_SOCKET`, `WATCHDOG_USEC` and `WATCHDOG_PID` from `environment`.
    public init(environment: [String: String]) {
        let socket = environment["NOTIFY_SOCKET"] ?? ""
        socketPath = socket.isEmpty ? nil : socket
        var watchdog: UInt64? = environment["WATCHDOG_USEC"].flatMap { UInt64($0) }.flatMap { $0 > 0 ? $0 : nil }
        if let pid = environment["WATCHDOG_PID"], !pid.isEmpty, Int32(pid) != getpid() {
            watchdog = nil
        }
        watchdogMicroseconds = watchdog
    }

    /// True when running under systemd with a notify socket.
    public var isEnabled: Bool { socketPath != nil }

    /// How often to send `WATCHDOG=1`: half of `WatchdogSec=`, as systemd recommends. Nil when
    /// no watchdog is set for this process.
    public var watchdogInterval: Duration? {
        watchdogMicroseconds.map { Duration.microseconds(Int64(clamping: $0 / 2)) }
    }

    /// Start-up is complete: `READY=1`, with a status line if given.
    @discardableResult
    public func ready(status: String? = nil) -> Bool {
        send(["READY=1"] + (status.map { ["STATUS=\(Self.oneLine($0))"] } ?? []))
    }

    /// A free-form line that `systemctl status detour` shows.
    @discardableResult
    public func status(_ text: String) -> Bool {
        send(["STATUS=\(Self.oneLine(text))"])
    }

    /// A configuration reload has started; send `ready(status:)` when it is done.
    /// Carries `MONOTONIC_USEC`, which systemd needs to match the reload to the request.
    @discardableResult
    public func reloading() -> Bool {
        send(["RELOADING=1", "MONOTONIC_USEC=\(Self.monotonicMicroseconds())"])
    }

    /// Graceful shutdown has started.
    @discardableResult
    public func stopping() -> Bool {
        send(["STOPPING=1"])
    }

    /// The keep-alive for `WatchdogSec=`.
    @discardableResult
    public func watchdog() -> Bool {
        send(["WATCHDOG=1"])
    }

    /// Sends one datagram made of `fields` (`KEY=value`), one per line.
    @discardableResult
    public func send(_ fields: [String]) -> Bool {
        guard let socketPath else { return false }
        return Self.sendDatagram(fields.joined(separator: "\n"), to: socketPath)
    }

    /// `CLOCK_MONOTONIC` in microseconds, the clock systemd compares `MONOTONIC_USEC` with.
    static func monotonicMicroseconds() -> UInt64 {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return UInt64(now.tv_sec) * 1_000_000 + UInt64(now.tv_nsec) / 1_000
    }

    /// A value must not contain a newline: it would start a new field.
    private static func oneLine(_ text: String) -> String {
        String(text.map { $0.isNewline ? " " : $0 })
    }

    private static func sendDatagram(_ message: String, to path: String) -> Bool {
        guard let address = UnixSocketAddress(path) else { return false }
        #if canImport(Glibc)
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        let flags = Int32(MSG_NOSIGNAL) | Int32(MSG_DONTWAIT)
        #else
        let fd = socket(AF_UNIX, SOCK_DGRAM, 0)
        let flags = MSG_DONTWAIT
        #endif
        guard fd >= 0 else { return false }
        defer { close(fd) }
        let bytes = Array(message.utf8)
        let sent = address.withSockAddr { addr, length in
            bytes.withUnsafeBytes { sendto(fd, $0.baseAddress, $0.count, flags, addr, length) }
        }
        return sent == bytes.count
    }
}
