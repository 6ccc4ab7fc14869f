/// How long each phase of one transfer took, measured by libcurl from the start of the transfer.
/// Each value is cumulative (connect includes name lookup, and so on); a phase that did not
/// happen (no TLS, a reused connection) is zero.
public struct TransferTimings: Sendable, Equatable {
    /// Until the host name was resolved.
    public var nameLookup: Duration
    /// Until the TCP connection was established.
    public var connect: Duration
    /// Until the TLS handshake finished (zero for plain connections).
    public var appConnect: Duration
    /// Until the first byte of the reply arrived.
    public var startTransfer: Duration
    /// The whole transfer, redirects included.
    public var total: Duration

    public init(nameLookup: Duration = .zero, connect: Duration = .zero, appConnect: Duration = .zero,
                startTransfer: Duration = .zero, total: Duration = .zero) {
        self.nameLookup = nameLookup
        self.connect = connect
        self.appConnect = appConnect
        self.startTransfer = startTransfer
        self.total = total
    }
}
