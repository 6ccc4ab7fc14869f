import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The listening control socket and the thread that accepts on it. Accepted connections come
/// out of `connections` (non-blocking, close-on-exec); the consumer closes them.
///
/// Blocking `poll` runs on its own thread, never on the Swift concurrency pool; `stop()` wakes it
/// through a pipe, so shutdown is immediate.
final class ControlListener: @unchecked Sendable {
    let path: String
    let connections: AsyncStream<Int32>
    private let continuation: AsyncStream<Int32>.Continuation
    private let listenFD: Int32
    private let wakeRead: Int32
    private let wakeWrite: Int32
    /// The socket file's inode, so `close()` removes only the file this listener created.
    private let inode: ino_t?
    private let exited = DispatchSemaphore(value: 0)
    private let lock = NSLock()
    private var stopped = false
    private var closed = false

    /// Creates the socket at `path` (replacing a stale one), gives it mode 0660 and `group`,
    /// starts listening and starts the accept thread.
    static func open(path: String, group: String?) throws(ControlServerError) -> ControlListener {
        guard let address = UnixSocketAddress(path) else {
            throw ControlServerError(code: .path, message: "the control socket path \(path) is empty or longer than 107 bytes; choose a shorter control.socket path")
        }
        let abstract = path.hasPrefix("@")
        if !abstract { try removeStaleSocket(at: path, address: address) }

        let fd = Posix.streamSocket()
        guard fd >= 0 else {
            throw ControlServerError(code: .system, message: "cannot create the control socket: \(Posix.describe(errno))")
        }
        var ready = false
        defer { if !ready { Posix.closeDescriptor(fd) } }
        if address.withSockAddr({ bind(fd, $0, $1) }) != 0 {
            let code = errno
            if code == EADDRINUSE {
                throw ControlServerError(code: .alreadyRunning, message: "another detour daemon is already listening on \(path)")
            }
            throw ControlServerError(code: .system, message: "cannot create the control socket \(path): \(Posix.describe(code))")
        }
        // Nobody can connect before listen(), so the mode and group are set before anyone can use it.
        var inode: ino_t?
        if !abstract {
            do throws(ControlServerError) {
                try restrict(path: path, group: group)
            } catch {
                unlink(path)
                throw error
            }
            inode = Posix.status(path)?.st_ino
        }
        guard listen(fd, 64) == 0 else {
            let code = errno
            if !abstract { unlink(path) }
            throw ControlServerError(code: .system, message: "cannot listen on the control socket \(path): \(Posix.describe(code))")
        }
        var wake: [Int32] = [-1, -1]
        guard pipe(&wake) == 0 else {
            let code = errno
            if !abstract { unlink(path) }
            throw ControlServerError(code: .system, message: "cannot create a pipe for the control socket: \(Posix.describe(code))")
        }
        for end in wake { Posix.setNonBlocking(end) }
        ready = true
        let listener = ControlListener(path: path, listenFD: fd, wakeRead: wake[0], wakeWrite: wake[1], inode: inode)
        listener.start()
        return listener
    }

    private init(path: String, listenFD: Int32, wakeRead: Int32, wakeWrite: Int32, inode: ino_t?) {
        self.path = path; self.listenFD = listenFD; self.wakeRead = wakeRead; self.wakeWrite = wakeWrite
        self.inode = inode
        (connections, continuation) = AsyncStream.makeStream(of: Int32.self, bufferingPolicy: .unbounded)
    }

    /// A socket file left by a daemon that died is removed; one a live daemon answers on is not.
    private static func removeStaleSocket(at path: String, address: UnixSocketAddress) throws(ControlServerError) {
        guard let info = Posix.status(path) else { return }
        guard Posix.isSocket(info) else {
            throw ControlServerError(code: .path, message: "\(path) exists and is not a socket; move it away or choose another control.socket path")
        }
        let probe = Posix.streamSocket()
        guard probe >= 0 else {
            throw ControlServerError(code: .system, message: "cannot create a socket: \(Posix.describe(errno))")
        }
        defer { Posix.closeDescriptor(probe) }
        if address.withSockAddr({ connect(probe, $0, $1) }) == 0 || errno == EAGAIN || errno == EINPROGRESS {
            throw ControlServerError(code: .alreadyRunning, message: "another detour daemon is already listening on \(path)")
        }
        let code = errno
        guard code == ECONNREFUSED || code == ENOENT else {
            throw ControlServerError(code: .system, message: "cannot tell whether a daemon is listening on \(path): \(Posix.describe(code))")
        }
        if unlink(path) != 0 && errno != ENOENT {
            throw ControlServerError(code: .system, message: "cannot remove the stale control socket \(path): \(Posix.describe(errno))")
        }
    }

    /// Mode 0660 and, when named, the group: only its members and the daemon's user may connect.
    private static func restrict(path: String, group: String?) throws(ControlServerError) {
        if chmod(path, 0o660) != 0 {
            throw ControlServerError(code: .system, message: "cannot set mode 0660 on the control socket \(path): \(Posix.describe(errno))")
        }
        guard let group, !group.isEmpty else { return }
        guard let gid = Posix.groupID(named: group) else {
            throw ControlServerError(code: .group, message: "the control socket group \"\(group)\" does not exist; create it with `groupadd --system \(group)` or change control.group in detour.yaml")
        }
        if chown(path, uid_t.max, gid) != 0 {
            throw ControlServerError(code: .group, message: "cannot give the control socket \(path) to group \"\(group)\": \(Posix.describe(errno)); the daemon's user must be a member of \(group)")
        }
    }

    private func start() {
        continuation.onTermination = { [weak self] _ in self?.stop() }
        let thread = Thread { [self] in
            acceptLoop()
            continuation.finish()
            exited.signal()
        }
        thread.name = "detour-control-accept"
        thread.start()
    }

    private func acceptLoop() {
        while true {
            var entries = [pollfd(fd: listenFD, events: Int16(POLLIN), revents: 0),
                           pollfd(fd: wakeRead, events: Int16(POLLIN), revents: 0)]
            let ready = poll(&entries, 2, -1)
            if ready < 0 {
                if errno == EINTR { continue }
                return
            }
            if entries[1].revents != 0 || isStopped { return }
            guard entries[0].revents != 0 else { continue }
            let connection = accept(listenFD, nil, nil)
            if connection < 0 {
                switch errno {
                case EAGAIN, EWOULDBLOCK, EINTR, ECONNABORTED: continue
                default: usleep(100_000)  // out of descriptors: let some connections finish
                }
                continue
            }
            Posix.setNonBlocking(connection)
            if case .terminated = continuation.yield(connection) {
                Posix.closeDescriptor(connection)
                return
            }
        }
    }

    private var isStopped: Bool {
        lock.lock(); defer { lock.unlock() }
        return stopped
    }

    /// Stops accepting. Connections already handed out are not affected.
    func stop() {
        lock.lock()
        let first = !stopped
        stopped = true
        lock.unlock()
        if first {
            var byte: UInt8 = 1
            _ = write(wakeWrite, &byte, 1)
        }
    }

    /// Stops accepting, waits for the accept thread, and removes the socket file (if it is still ours).
    /// Blocks briefly: call it off the concurrency pool.
    func close() {
        stop()
        lock.lock()
        let first = !closed
        closed = true
        lock.unlock()
        guard first else { return }
        exited.wait()
        if let inode, let info = Posix.status(path), Posix.isSocket(info), info.st_ino == inode {
            unlink(path)
        }
        Posix.closeDescriptor(listenFD)
        Posix.closeDescriptor(wakeRead)
        Posix.closeDescriptor(wakeWrite)
    }
}
