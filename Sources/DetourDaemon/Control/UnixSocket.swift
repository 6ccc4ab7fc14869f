import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A `sockaddr_un` for a file path, or for an abstract name when the path starts with `@` (Linux).
struct UnixSocketAddress {
    private var storage = sockaddr_un()
    let length: socklen_t

    /// Nil when the path is empty, holds a NUL byte, or does not fit in `sun_path` (108 bytes on Linux).
    init?(_ path: String) {
        var bytes = Array(path.utf8)
        let abstract = bytes.first == UInt8(ascii: "@")
        if abstract { bytes[0] = 0 }
        let capacity = MemoryLayout.size(ofValue: storage.sun_path)
        guard !bytes.isEmpty, abstract ? bytes.count <= capacity : bytes.count < capacity,
              !bytes.dropFirst(abstract ? 1 : 0).contains(0) else { return nil }
        storage.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &storage.sun_path) { buffer in
            for (index, byte) in bytes.enumerated() { buffer[index] = byte }
        }
        let offset = MemoryLayout<sockaddr_un>.offset(of: \sockaddr_un.sun_path) ?? 2
        length = socklen_t(offset + bytes.count + (abstract ? 0 : 1))
    }

    func withSockAddr<R>(_ body: (UnsafePointer<sockaddr>, socklen_t) -> R) -> R {
        var copy = storage
        return withUnsafePointer(to: &copy) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, length) }
        }
    }
}

/// The few POSIX calls the control socket needs, with errors turned into readable text.
enum Posix {
    /// `strerror` for `code`.
    static func describe(_ code: Int32) -> String {
        String(cString: strerror(code))
    }

    /// A new close-on-exec, non-blocking unix stream socket, or -1.
    static func streamSocket() -> Int32 {
        #if canImport(Glibc)
        socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
        #else
        socket(AF_UNIX, SOCK_STREAM, 0)
        #endif
    }

    static func closeDescriptor(_ fd: Int32) {
        _ = close(fd)
    }

    /// Makes `fd` non-blocking (for accepted connections) and close-on-exec.
    static func setNonBlocking(_ fd: Int32) {
        let flags = fcntl(fd, F_GETFL)
        if flags >= 0 { _ = fcntl(fd, F_SETFL, flags | O_NONBLOCK) }
        _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
    }

    /// Milliseconds left until `deadline`, for `poll`; 0 when it has passed.
    static func millisecondsLeft(until deadline: ContinuousClock.Instant) -> Int32 {
        let left = ContinuousClock.now.duration(to: deadline)
        if left <= .zero { return 0 }
        let (seconds, attoseconds) = left.components
        let ms = seconds * 1_000 + attoseconds / 1_000_000_000_000_000 + 1
        return Int32(clamping: ms)
    }

    /// Waits until `fd` is ready for `events` or the deadline passes. False on timeout or error.
    static func wait(_ fd: Int32, for events: Int16, until deadline: ContinuousClock.Instant) -> Bool {
        while true {
            var entry = pollfd(fd: fd, events: events, revents: 0)
            let timeout = millisecondsLeft(until: deadline)
            let ready = poll(&entry, 1, timeout)
            if ready > 0 { return true }
            if ready == 0 { return false }
            if errno != EINTR { return false }
        }
    }

    /// How reading one line ended.
    enum LineRead {
        /// The bytes before the first newline, or everything when the peer closed without one.
        case line(Data)
        /// More than the limit arrived without a newline.
        case tooLarge
        case timedOut
        /// The peer closed before sending anything.
        case empty
        case failed(Int32)
    }

    /// Reads one newline-terminated line from the non-blocking `fd`, at most `limit` bytes.
    static func readLine(_ fd: Int32, limit: Int, until deadline: ContinuousClock.Instant) -> LineRead {
        var received = Data()
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let count = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count > 0 {
                let start = received.count
                received.append(contentsOf: chunk[0..<count])
                if let newline = received[start...].firstIndex(of: 0x0A) {
                    return newline - received.startIndex > limit ? .tooLarge : .line(received[..<newline])
                }
                if received.count > limit { return .tooLarge }
            } else if count == 0 {
                return received.isEmpty ? .empty : .line(received)
            } else if errno == EAGAIN || errno == EWOULDBLOCK {
                if !wait(fd, for: Int16(POLLIN), until: deadline) { return .timedOut }
            } else if errno != EINTR {
                return .failed(errno)
            }
        }
    }

    /// Writes all of `data` to the non-blocking `fd`. False when the deadline passes or the peer is gone.
    static func writeAll(_ fd: Int32, _ data: Data, until deadline: ContinuousClock.Instant) -> Bool {
        #if canImport(Glibc)
        let flags = Int32(MSG_NOSIGNAL)
        #else
        let flags: Int32 = 0
        #endif
        var offset = 0
        return data.withUnsafeBytes { bytes in
            while offset < bytes.count {
                let sent = send(fd, bytes.baseAddress.map { $0 + offset }, bytes.count - offset, flags)
                if sent > 0 {
                    offset += sent
                } else if sent < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) {
                    if !wait(fd, for: Int16(POLLOUT), until: deadline) { return false }
                } else if sent < 0 && errno == EINTR {
                    continue
                } else {
                    return false
                }
            }
            return true
        }
    }

    /// The group id for a group name, or nil when there is no such group.
    static func groupID(named name: String) -> gid_t? {
        var entry = group()
        var result: UnsafeMutablePointer<group>?
        var buffer = [CChar](repeating: 0, count: 16 * 1024)
        let status = getgrnam_r(name, &entry, &buffer, buffer.count, &result)
        guard status == 0, result != nil else { return nil }
        return entry.gr_gid
    }

    /// The name of group `gid`, or nil when it has none.
    static func groupName(_ gid: gid_t) -> String? {
        var entry = group()
        var result: UnsafeMutablePointer<group>?
        var buffer = [CChar](repeating: 0, count: 16 * 1024)
        guard getgrgid_r(gid, &entry, &buffer, buffer.count, &result) == 0, result != nil,
              let name = entry.gr_name else { return nil }
        return String(cString: name)
    }

    /// The login name of user `uid`, or nil when it has none.
    static func userName(_ uid: uid_t) -> String? {
        var user = passwd()
        var result: UnsafeMutablePointer<passwd>?
        var buffer = [CChar](repeating: 0, count: 16 * 1024)
        guard getpwuid_r(uid, &user, &buffer, buffer.count, &result) == 0, result != nil,
              let name = user.pw_name else { return nil }
        return String(cString: name)
    }

    /// `stat` of `path`, or nil when it does not exist (or cannot be read).
    static func status(_ path: String) -> stat? {
        var info = stat()
        return lstat(path, &info) == 0 ? info : nil
    }

    static func isSocket(_ info: stat) -> Bool {
        (info.st_mode & S_IFMT) == S_IFSOCK
    }
}

/// Runs blocking work on a thread of its own, so it never holds a thread of the Swift concurrency
/// pool. (On Linux that pool is Dispatch's global queues, so `DispatchQueue.global()` would not do:
/// a few blocked reads there stall every task in the process.) Meant for rare, short operations:
/// one control connection, opening or closing a socket.
func offloadBlocking<T: Sendable>(_ work: @escaping @Sendable () -> T) async -> T {
    await withCheckedContinuation { continuation in
        let thread = Thread { continuation.resume(returning: work()) }
        thread.name = "detour-blocking-io"
        thread.start()
    }
}
