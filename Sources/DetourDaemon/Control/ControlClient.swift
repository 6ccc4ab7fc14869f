import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The CLI's side of the control socket: sends one request to the running daemon and waits for
/// its answer. Blocking, which is what a command-line tool wants.
public struct ControlClient: Sendable {
    public let path: String

    public init(path: String) {
        self.path = path
    }

    /// Sends `request` and returns the daemon's response, or throws when there is no daemon,
    /// no permission, or no answer within `timeout`.
    public func send(_ request: ControlRequest, timeout: Duration = .seconds(30)) throws(ControlClientError) -> ControlResponse {
        let deadline = ContinuousClock.now + timeout
        guard let address = UnixSocketAddress(path) else {
            throw ControlClientError(code: .system, message: "the control socket path \(path) is empty or longer than 107 bytes")
        }
        let fd = Posix.streamSocket()
        guard fd >= 0 else {
            throw ControlClientError(code: .system, message: "cannot create a socket: \(Posix.describe(errno))")
        }
        defer { Posix.closeDescriptor(fd) }
        if address.withSockAddr({ connect(fd, $0, $1) }) != 0 {
            throw connectError(errno)
        }
        let line: Data
        do {
            line = try ControlWire.encode(request)
        } catch {
            throw ControlClientError(code: .system, message: "cannot encode the request: \(error)")
        }
        guard Posix.writeAll(fd, line, until: deadline) else {
            throw ControlClientError(code: .system, message: "the daemon on \(path) closed the connection before reading the request")
        }
        _ = shutdown(fd, Int32(SHUT_WR))
        switch Posix.readLine(fd, limit: ControlWire.maxResponseBytes, until: deadline) {
        case .line(let answer):
            do {
                return try ControlWire.decode(ControlResponse.self, from: answer)
            } catch {
                throw unreadable(answer, error)
            }
        case .timedOut:
            throw ControlClientError(code: .timedOut, message: "the daemon on \(path) did not answer within \(timeout)",
                                     hint: "look at its log: `journalctl -u detour -n 50`")
        case .tooLarge:
            throw ControlClientError(code: .badResponse, message: "the daemon's answer is larger than \(ControlWire.maxResponseBytes >> 20) MiB")
        case .empty:
            throw ControlClientError(code: .badResponse, message: "the daemon on \(path) closed the connection without answering",
                                     hint: "look at its log: `journalctl -u detour -n 50`")
        case .failed(let code):
            throw ControlClientError(code: .system, message: "reading the answer from \(path) failed: \(Posix.describe(code))")
        }
    }

    /// Why an answer could not be read: a daemon older or newer than this CLI, or not a daemon at all.
    private func unreadable(_ answer: Data, _ error: any Error) -> ControlClientError {
        let sameVersion = "restart the daemon after an upgrade (`sudo systemctl restart detour`), or run the CLI of the daemon's version: "
            + "`detour --version` against `detour_build_info` on the daemon's /metrics"
        guard let object = (try? JSONSerialization.jsonObject(with: answer)) as? [String: Any] else {
            return ControlClientError(code: .badResponse, message: "the daemon on \(path) sent an answer that is not a control response",
                                      hint: sameVersion)
        }
        if object["ok"] as? Bool == true, object["response"] == nil, object["body"] != nil {
            return ControlClientError(code: .badResponse, message: "the daemon on \(path) answered in the older control format; is the daemon older than the CLI?",
                                      hint: sameVersion)
        }
        if let name = object["response"] as? String, ControlResponse.Name(rawValue: name) == nil {
            return ControlClientError(code: .badResponse, message: "the daemon on \(path) sent a '\(name)' answer this CLI does not know; is the daemon newer than the CLI?",
                                      hint: sameVersion)
        }
        return ControlClientError(code: .badResponse, message: "the daemon on \(path) sent an answer this CLI cannot read (\(ControlWire.describe(error, under: "result"))); is it of another version than the CLI?",
                                  hint: sameVersion)
    }

    private func connectError(_ code: Int32) -> ControlClientError {
        switch code {
        case ENOENT, ECONNREFUSED:
            return ControlClientError(
                code: .notRunning, message: "no detour daemon is listening on \(path)",
                hint: "start it with `sudo systemctl start detour` or `detour run --config /etc/detour/detour.yaml`")
        case EACCES, EPERM:
            let group = Posix.status(path).flatMap { Posix.groupName($0.st_gid) }
            let hint = group.map {
                "add your user to the group with `sudo usermod -aG \($0) $USER`, then log in again (or run the command with sudo)"
            } ?? "run the command as a user in the socket's group, or with sudo"
            return ControlClientError(
                code: .permissionDenied,
                message: "permission denied on \(path): you must be in the socket's group\(group.map { " \"\($0)\"" } ?? "") to talk to the daemon",
                hint: hint)
        case EAGAIN:
            return ControlClientError(code: .timedOut, message: "the daemon on \(path) is too busy to accept a connection",
                                      hint: "try again in a moment")
        default:
            return ControlClientError(code: .system, message: "cannot connect to \(path): \(Posix.describe(code))")
        }
    }
}
