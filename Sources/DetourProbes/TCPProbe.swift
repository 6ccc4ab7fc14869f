import DetourCore
import struct Foundation.Date
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Checks that a platform's edge accepts TCP connections, and how long the handshake takes.
///
/// The detail says `connection refused`, `timed out after 5s`, `network unreachable` or
/// `host unreachable`; a name that does not resolve is reported with the DNS probe's words.
public struct TCPProbe: Probe {
    public let host: String
    public let port: Int
    public let timeout: TimeSpan
    public let label: String

    public init(host: String, port: Int, timeout: TimeSpan) {
        self.host = host
        self.port = port
        self.timeout = timeout
        self.label = ProbeSpec(.tcp(host: host, port: port)).label
    }

    public func run() async -> ProbeResult {
        let started = ContinuousClock.now
        let deadline = started + timeout.duration
        let host = self.host
        guard (1...65_535).contains(port) else {
            return result(.failing, "port \(port) is out of range", nil)
        }
        guard let resolved = await Deadline.runBlocking(within: timeout.duration, { Resolver.resolve(host) }) else {
            return result(.failing, timeout.timedOutText, nil)
        }
        let dnsSeconds = started.secondsSince
        let addresses: [Resolver.Address]
        switch resolved {
        case .failure(let failure):
            return result(.failing, "dns: \(failure.detail)", PhaseTimings(dns: dnsSeconds, connect: 0, tls: 0, firstByte: 0, total: dnsSeconds))
        case .success(let found):
            addresses = found
        }
        let port = self.port
        let remaining = deadline - .now
        // The connect loop bounds itself by `deadline`; the outer limit is a backstop for a stuck thread.
        let outcome = await Deadline.runBlocking(within: remaining + .milliseconds(50)) {
            Connector.connect(to: addresses, port: port, deadline: deadline)
        }
        let total = started.secondsSince
        let timings = PhaseTimings(dns: dnsSeconds, connect: total, tls: 0, firstByte: 0, total: total)
        switch outcome {
        case nil, .timedOut?:
            return result(.failing, timeout.timedOutText, timings)
        case .connected(let address)?:
            let shown = address.contains(":") ? "[\(address)]" : address
            return result(.ok, "connected to \(shown):\(port) in \(describeSeconds(total - dnsSeconds))", timings)
        case .failed(let why)?:
            return result(.failing, why, timings)
        }
    }

    private func result(_ verdict: ProbeResult.Verdict, _ detail: String, _ timings: PhaseTimings?) -> ProbeResult {
        ProbeResult(probe: label, verdict: verdict, detail: detail, observedAt: Date(), timings: timings)
    }
}

/// Non-blocking `connect` plus `poll`, bounded by a deadline. Blocking: run it off the cooperative pool.
enum Connector {
    enum Outcome: Sendable {
        case connected(address: String)
        case timedOut
        /// `connection refused`, `host unreachable`...
        case failed(String)
    }

    /// Tries each address in turn until one connects or the deadline passes; reports the first failure.
    static func connect(to addresses: [Resolver.Address], port: Int, deadline: ContinuousClock.Instant) -> Outcome {
        var firstFailure: Outcome?
        for address in addresses {
            let outcome = connect(address, port: port, deadline: deadline)
            switch outcome {
            case .connected, .timedOut: return outcome
            case .failed: if firstFailure == nil { firstFailure = outcome }
            }
            if ContinuousClock.now >= deadline { return .timedOut }
        }
        return firstFailure ?? .failed("no address to connect to")
    }

    private static func connect(_ address: Resolver.Address, port: Int, deadline: ContinuousClock.Instant) -> Outcome {
        var address = address
        withUnsafeMutableBytes(of: &address.storage) { raw in
            let netPort = UInt16(port).bigEndian
            if address.family == AF_INET {
                raw.baseAddress?.assumingMemoryBound(to: sockaddr_in.self).pointee.sin_port = netPort
            } else {
                raw.baseAddress?.assumingMemoryBound(to: sockaddr_in6.self).pointee.sin6_port = netPort
            }
        }
        let fd = socket(address.family, Resolver.streamType, 0)
        guard fd >= 0 else { return .failed("socket: \(errorText(errno))") }
        defer { close(fd) }
        _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)

        let rc = withUnsafePointer(to: &address.storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { systemConnect(fd, $0, address.length) }
        }
        if rc == 0 { return .connected(address: address.text) }
        guard errno == EINPROGRESS else { return .failed(errorText(errno)) }

        while true {
            let left = deadline - .now
            guard left > .zero else { return .timedOut }
            let ms = Int32(clamping: max(1, left.components.seconds * 1000 + left.components.attoseconds / 1_000_000_000_000_000))
            var pfd = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
            let ready = poll(&pfd, 1, ms)
            if ready < 0 {
                if errno == EINTR { continue }
                return .failed("poll: \(errorText(errno))")
            }
            if ready == 0 { continue }  // Loop re-checks the deadline.
            var soError: Int32 = 0
            var len = socklen_t(MemoryLayout<Int32>.size)
            guard getsockopt(fd, SOL_SOCKET, SO_ERROR, &soError, &len) == 0 else { return .failed(errorText(errno)) }
            return soError == 0 ? .connected(address: address.text) : .failed(errorText(soError))
        }
    }

    static func errorText(_ code: Int32) -> String {
        switch code {
        case ECONNREFUSED: return "connection refused"
        case ENETUNREACH: return "network unreachable"
        case EHOSTUNREACH: return "host unreachable"
        case ETIMEDOUT: return "connection timed out"
        case ECONNRESET: return "connection reset"
        default: return String(cString: strerror(code))
        }
    }
}

#if canImport(Glibc)
private let systemConnect = Glibc.connect
#elseif canImport(Darwin)
private let systemConnect = Darwin.connect
#endif
