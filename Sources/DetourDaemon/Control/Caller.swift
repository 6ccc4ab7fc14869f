#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Who is on the other end of a control connection, as the kernel reports it (`SO_PEERCRED`),
/// so that every manual action is audited with a uid no client can forge.
public struct Caller: Sendable, Hashable, CustomStringConvertible {
    public var uid: UInt32
    public var gid: UInt32
    public var pid: Int32
    /// The login name of `uid`, when the user database has one.
    public var userName: String?

    public init(uid: UInt32, gid: UInt32, pid: Int32, userName: String? = nil) {
        self.uid = uid; self.gid = gid; self.pid = pid; self.userName = userName
    }

    /// `uid 1000 (alice)`, or `uid 1000` for a user without a name.
    public var description: String {
        userName.map { "uid \(uid) (\($0))" } ?? "uid \(uid)"
    }

    /// The credentials of the process connected to the unix socket `fd`, or nil when the
    /// kernel cannot say.
    static func peer(of fd: Int32) -> Caller? {
        #if os(Linux)
        // struct ucred { pid_t pid; uid_t uid; gid_t gid; } (not exported by the Glibc module).
        var credentials: (pid: Int32, uid: UInt32, gid: UInt32) = (0, 0, 0)
        var length = socklen_t(MemoryLayout.size(ofValue: credentials))
        guard getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &credentials, &length) == 0,
              Int(length) == MemoryLayout.size(ofValue: credentials) else { return nil }
        return Caller(uid: credentials.uid, gid: credentials.gid, pid: credentials.pid,
                      userName: Posix.userName(credentials.uid))
        #else
        var uid = uid_t(0), gid = gid_t(0)
        guard getpeereid(fd, &uid, &gid) == 0 else { return nil }
        return Caller(uid: uid, gid: gid, pid: 0, userName: Posix.userName(uid))
        #endif
    }
}
