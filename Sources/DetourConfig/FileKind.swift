import Foundation

/// What kind of thing a path names, so loaders read only regular files: opening a FIFO blocks until
/// a writer comes, and a device or socket never ends, either of which would hang a check or a reload.
public enum FileKind {
    /// Why `path` cannot be read as a file's contents ("is a FIFO (named pipe)", …), or nil when it
    /// is a regular file or does not exist (the caller reports a missing file in its own words).
    /// Symbolic links are followed.
    public static func notRegular(_ path: String) -> String? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        switch info.st_mode & S_IFMT {
        case S_IFREG: return nil
        case S_IFIFO: return "is a FIFO (named pipe), not a regular file"
        case S_IFDIR: return "is a directory, not a file"
        case S_IFSOCK: return "is a socket, not a regular file"
        case S_IFCHR, S_IFBLK: return "is a device, not a regular file"
        default: return "is not a regular file"
        }
    }
}
