import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// How a failed banner write becomes a `DeliveryError`.
///
/// Permanent (`retryable: false`, the delivery goes to the dead-letter list, where an operator sees
/// it and can replay it after fixing things): permission denied, read-only file system, a path that
/// is not a directory. Retrying cannot fix those by itself.
/// Retryable: a full disk or quota (space can come back), and anything else (I/O errors,
/// interrupted calls), because a later attempt may succeed.
enum BannerFailure {
    static func deliveryError(_ failure: AtomicFileWriter.Failure, business: String) -> DeliveryError {
        let (code, retryable, hint): (String, Bool, String)
        switch failure.errno {
        case EACCES, EPERM:
            (code, retryable, hint) = ("banner.permission", false, "let the detour user write there, e.g. chown detour or a group with write access")
        case EROFS:
            (code, retryable, hint) = ("banner.permission", false, "the file system is read-only; choose a publish_dir on a writable one")
        case ENOTDIR, EISDIR, ENAMETOOLONG, ELOOP:
            (code, retryable, hint) = ("banner.path", false, "check channels.banner.publish_dir in the policy")
        case ENOSPC, EDQUOT:
            (code, retryable, hint) = ("banner.disk_full", true, "free some space; Detour will try again")
        default:
            (code, retryable, hint) = ("banner.write", true, "Detour will try again")
        }
        let text = "banner channel for \(business): cannot \(failure.operation) \(failure.path): \(failure.reason) (\(hint))"
        return DeliveryError(code: code, message: text, retryable: retryable)
    }
}
