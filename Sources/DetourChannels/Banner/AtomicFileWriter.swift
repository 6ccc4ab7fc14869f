import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Writes a file so that readers see either the old bytes or the new ones, never a half-written
/// file: a temporary file in the same directory, fsync, rename over the target, fsync the directory.
struct AtomicFileWriter: Sendable {
    /// A failed system call, with the path it was about and the errno it gave.
    struct Failure: Error, Sendable, Equatable {
        /// What was being done, for people: "create the directory", "write", "rename into place".
        var operation: String
        var path: String
        var errno: Int32
        var reason: String { String(cString: strerror(errno)) }
    }

    var fileMode: mode_t = 0o644
    var directoryMode: mode_t = 0o755

    /// Creates `path` and its missing parents. An existing directory is fine; an existing file is not.
    func ensureDirectory(_ path: String) throws(Failure) {
        var info = stat()
        if stat(path, &info) == 0 {
            if (info.st_mode & S_IFMT) == S_IFDIR { return }
            throw Failure(operation: "use as a directory", path: path, errno: ENOTDIR)
        }
        let parent = (path as NSString).deletingLastPathComponent
        if !parent.isEmpty, parent != path { try ensureDirectory(parent) }
        if mkdir(path, directoryMode) != 0 {
            let code = errno
            if code == EEXIST, stat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR { return }
            throw Failure(operation: "create the directory", path: path, errno: code)
        }
    }

    /// Replaces `name` in `directory` with `data`, atomically.
    func write(_ data: Data, named name: String, in directory: String) throws(Failure) {
        let target = directory + "/" + name
        // Unchanged bytes need no rewrite (and no fsync): a restart with many banners stays fast.
        if let existing = FileManager.default.contents(atPath: target), existing == data { return }
        var template = Array("\(directory)/.\(name).XXXXXX".utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { buffer in
            buffer.baseAddress.map { mkstemp($0) } ?? -1
        }
        guard fd >= 0 else { throw Failure(operation: "create a temporary file in", path: directory, errno: errno) }
        let temp = template.withUnsafeBufferPointer { buffer in
            buffer.baseAddress.map { String(cString: $0) } ?? ""
        }
        var closed = false
        var renamed = false
        defer {
            if !closed { close(fd) }
            if !renamed { unlink(temp) }
        }
        if fchmod(fd, fileMode) != 0 { throw Failure(operation: "set permissions on", path: temp, errno: errno) }
        try writeAll(data, to: fd, path: temp)
        if fsync(fd) != 0 { throw Failure(operation: "flush", path: temp, errno: errno) }
        closed = true
        if close(fd) != 0 { throw Failure(operation: "close", path: temp, errno: errno) }
        if rename(temp, target) != 0 { throw Failure(operation: "rename into place", path: target, errno: errno) }
        renamed = true
        syncDirectory(directory)
    }

    private func writeAll(_ data: Data, to fd: Int32, path: String) throws(Failure) {
        var failure: Int32 = 0
        data.withUnsafeBytes { raw in
            guard var p = raw.baseAddress else { return }
            var left = raw.count
            while left > 0 {
                let n = systemWrite(fd, p, left)
                if n < 0 {
                    if errno == EINTR { continue }
                    failure = errno
                    return
                }
                p += n
                left -= n
            }
        }
        if failure != 0 { throw Failure(operation: "write", path: path, errno: failure) }
    }

    /// Makes the rename itself durable. Best effort: some file systems refuse fsync on a directory.
    private func syncDirectory(_ directory: String) {
        let fd = open(directory, O_RDONLY | O_DIRECTORY)
        guard fd >= 0 else { return }
        _ = fsync(fd)
        close(fd)
    }
}

/// `write(2)`, under a name that the writer's own `write` method does not hide.
private func systemWrite(_ fd: Int32, _ buffer: UnsafeRawPointer, _ count: Int) -> Int {
    write(fd, buffer, count)
}
