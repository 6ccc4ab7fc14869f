/// Why the control socket could not be opened: another daemon holds it, its group is missing,
/// or the path cannot be used. The message names the path or group and says what to do.
public struct ControlServerError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The kind of failure, for code that reacts to one in particular.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        public let description: String
        init(_ description: String) { self.description = description }

        /// A live daemon answers on the path.
        public static let alreadyRunning = Code("alreadyRunning")
        /// The configured group does not exist, or the socket cannot be given to it.
        public static let group = Code("group")
        /// The path is unusable: too long, or something other than a socket is there.
        public static let path = Code("path")
        /// A system call failed.
        public static let system = Code("system")
    }

    public var code: Code
    public var message: String

    public init(code: Code, message: String) {
        self.code = code; self.message = message
    }

    public var description: String { message }
}

/// Why `ControlClient` got no answer: no daemon, no permission, no reply in time, or a reply
/// it could not read. `message` says what happened and `hint` what to do about it.
public struct ControlClientError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The kind of failure, for code that reacts to one in particular.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        public let description: String
        init(_ description: String) { self.description = description }

        /// Nothing listens on the socket path (no file, or a stale one).
        public static let notRunning = Code("notRunning")
        /// The caller may not connect: not in the socket's group.
        public static let permissionDenied = Code("permissionDenied")
        /// The daemon did not answer within the timeout.
        public static let timedOut = Code("timedOut")
        /// The answer was not a control response.
        public static let badResponse = Code("badResponse")
        /// Any other failure of the socket.
        public static let system = Code("system")
    }

    public var code: Code
    public var message: String
    public var hint: String?

    public init(code: Code, message: String, hint: String? = nil) {
        self.code = code; self.message = message; self.hint = hint
    }

    public var description: String {
        hint.map { "\(message)\n\($0)" } ?? message
    }
}
