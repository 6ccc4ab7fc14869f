import Foundation
import Logging

/// An async HTTP(S) client for probes and webhooks. All requests share one libcurl multi handle
/// driven by one background thread, so hundreds can run at once without a thread each, and
/// connections to the same host are reused. Create one per process and share it;
/// call `shutdown()` when done (dropping the last reference does the same).
public final class CurlHTTPClient: Sendable {
    private let loop = CurlMultiLoop()
    private let logger: Logger

    /// - Parameter logger: where per-request debug lines go (URLs redacted).
    public init(logger: Logger) {
        self.logger = logger
    }

    deinit {
        loop.shutdown()
    }

    /// Sends `request` and waits for the complete response (any status) or a transport failure.
    /// Cancelling the calling task stops the transfer promptly and throws `.cancelled`.
    public func send(_ request: HTTPRequest, logger: Logger? = nil) async throws(TransportError) -> HTTPResponse {
        let logger = logger ?? self.logger
        if Task.isCancelled {
            throw TransportError(code: .cancelled, message: "cancelled request to \(redactedURL(request.url))")
        }
        let transfer: HTTPTransfer
        switch HTTPTransfer.make(request) {
        case .success(let made): transfer = made
        case .failure(let error): throw error
        }
        let loop = self.loop
        let result = await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                transfer.continuation = continuation
                loop.submit(transfer)
            }
        } onCancel: {
            transfer.cancelRequested.store(true, ordering: .releasing)
            loop.cancel(transfer)
        }
        switch result {
        case .success(let response):
            logger.debug("HTTP request finished", metadata: [
                "http.url": "\(redactedURL(request.url))", "http.method": "\(request.method)",
                "http.status": "\(response.status)", "http.duration": "\(response.timings.total)",
            ])
            return response
        case .failure(let error):
            logger.debug("HTTP request failed", metadata: [
                "http.url": "\(redactedURL(request.url))", "http.method": "\(request.method)",
                "http.error.code": "\(error.code)", "http.error": "\(error.message)",
            ])
            throw error
        }
    }

    /// Stops the background thread; requests still running fail with `.cancelled`, later ones at once.
    public func shutdown() {
        loop.shutdown()
    }
}
