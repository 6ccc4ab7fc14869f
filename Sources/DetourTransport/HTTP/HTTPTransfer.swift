import CCurl
import CurlShim
import Foundation
import Synchronization

/// One HTTP request in flight: its easy handle, the callbacks that collect the reply, and the
/// continuation waiting for it. Configured on the caller's thread, then touched only by the
/// multi loop's thread until it finishes; only `cancelRequested` is shared.
final class HTTPTransfer: @unchecked Sendable {
    let request: HTTPRequest
    let easy: CurlEasy
    let cancelRequested = Atomic<Bool>(false)
    var continuation: CheckedContinuation<Result<HTTPResponse, TransportError>, Never>?

    private var requestHeaders: CurlStringList
    let errorBuffer: UnsafeMutablePointer<CChar>
    private var body = Data()
    private var headers = HTTPHeaders()
    private(set) var headerBytes = 0
    private var truncated = false
    private(set) var refusedIP: String?
    private var finished = false

    /// The most header bytes accepted per response before the transfer is stopped.
    static let maxHeaderBytes = 256 * 1024

    /// A configured transfer, or an `.invalidRequest`/`.other` error when it cannot be built.
    static func make(_ request: HTTPRequest) -> Result<HTTPTransfer, TransportError> {
        if let problem = request.problem() {
            return .failure(TransportError(code: .invalidRequest,
                                           message: "cannot send to \(redactedURL(request.url)): \(problem)"))
        }
        guard let easy = CurlEasy.make() else {
            return .failure(TransportError(code: .other, message: "libcurl could not create a transfer"))
        }
        return .success(HTTPTransfer(request: request, easy: easy))
    }

    private init(request: HTTPRequest, easy: CurlEasy) {
        self.request = request
        self.easy = easy
        errorBuffer = .allocate(capacity: Int(CURL_ERROR_SIZE) + 1)
        errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
        var lines = request.headers.map { "\($0.name): \($0.value)" }
        if request.headers["Expect"] == nil { lines.append("Expect:") }
        requestHeaders = CurlStringList(lines)
        configure()
    }

    deinit {
        errorBuffer.deallocate()
    }

    private func configure() {
        let me = Unmanaged.passUnretained(self).toOpaque()
        easy.set(CURLOPT_URL, request.url)
        easy.set(CURLOPT_PROTOCOLS_STR, "http,https")
        easy.set(CURLOPT_REDIR_PROTOCOLS_STR, "http,https")
        easy.set(CURLOPT_NOSIGNAL, true)
        easy.set(CURLOPT_TIMEOUT_MS, request.timeout.curlMilliseconds)
        easy.set(CURLOPT_CONNECTTIMEOUT_MS, request.connectTimeout.curlMilliseconds)
        easy.set(CURLOPT_FOLLOWLOCATION, request.followRedirects)
        easy.set(CURLOPT_MAXREDIRS, request.maxRedirects)
        easy.set(CURLOPT_SSL_VERIFYPEER, request.verifyTLS)
        easy.set(CURLOPT_SSL_VERIFYHOST, request.verifyTLS ? 2 : 0)
        if let caFile = request.caFile { easy.set(CURLOPT_CAINFO, caFile) }
        easy.set(CURLOPT_HTTPHEADER, list: requestHeaders.head)
        easy.set(CURLOPT_ERRORBUFFER, pointer: UnsafeMutableRawPointer(errorBuffer))
        configureMethod()

        easy.set(CURLOPT_WRITEDATA, pointer: me)
        detour_curl_setopt_write_function(easy.raw, CURLOPT_WRITEFUNCTION) { data, size, count, context in
            guard let data, let context else { return 0 }
            return Unmanaged<HTTPTransfer>.fromOpaque(context).takeUnretainedValue()
                .receiveBody(UnsafeRawBufferPointer(start: data, count: size * count))
        }
        easy.set(CURLOPT_HEADERDATA, pointer: me)
        detour_curl_setopt_write_function(easy.raw, CURLOPT_HEADERFUNCTION) { data, size, count, context in
            guard let data, let context else { return 0 }
            return Unmanaged<HTTPTransfer>.fromOpaque(context).takeUnretainedValue()
                .receiveHeader(UnsafeRawBufferPointer(start: data, count: size * count))
        }
        if request.allowAddress != nil {
            easy.set(CURLOPT_PREREQDATA, pointer: me)
            detour_curl_setopt_prereq_function(easy.raw) { context, primaryIP, _, _, _ in
                guard let context, let primaryIP else { return DETOUR_CURL_PREREQFUNC_ABORT }
                return Unmanaged<HTTPTransfer>.fromOpaque(context).takeUnretainedValue()
                    .checkAddress(String(cString: primaryIP))
            }
        }
    }

    private func configureMethod() {
        let method = request.method.uppercased()
        switch (method, request.body) {
        case ("GET", nil):
            easy.set(CURLOPT_HTTPGET, true)
        case ("HEAD", _):
            easy.set(CURLOPT_NOBODY, true)
        default:
            if method != "POST" { easy.set(CURLOPT_CUSTOMREQUEST, method) }
            if method == "POST" || request.body != nil {
                let body = request.body ?? Data()
                easy.set(CURLOPT_POSTFIELDSIZE_LARGE, offset: Int64(body.count))
                body.withUnsafeBytes { bytes in
                    // COPYPOSTFIELDS copies the bytes, so they need not outlive this call.
                    _ = detour_curl_setopt_pointer(easy.raw, CURLOPT_COPYPOSTFIELDS,
                                                   UnsafeMutableRawPointer(mutating: bytes.baseAddress ?? UnsafeRawPointer(errorBuffer)))
                }
            }
        }
    }

    private func receiveBody(_ bytes: UnsafeRawBufferPointer) -> Int {
        let room = request.maxResponseBytes - body.count
        if bytes.count <= room {
            body.append(contentsOf: bytes)
            return bytes.count
        }
        body.append(contentsOf: bytes.prefix(max(0, room)))
        truncated = true
        return 0  // stops the transfer; `finish` treats this as a complete, truncated reply
    }

    private func receiveHeader(_ bytes: UnsafeRawBufferPointer) -> Int {
        headerBytes += bytes.count
        if headerBytes > HTTPTransfer.maxHeaderBytes { return 0 }
        let line = String(decoding: bytes, as: UTF8.self)
        if line.hasPrefix("HTTP/") {
            headers = HTTPHeaders()  // a new response begins (after a redirect or 100 Continue)
            headerBytes = bytes.count
        } else if let field = HTTPHeaders.parseLine(line) {
            headers.add(field.name, field.value)
        }
        return bytes.count
    }

    private func checkAddress(_ ip: String) -> Int32 {
        if request.allowAddress?(ip) ?? true { return DETOUR_CURL_PREREQFUNC_OK }
        refusedIP = ip
        return DETOUR_CURL_PREREQFUNC_ABORT
    }

    /// Resumes the waiting caller once with the outcome of `result`, then frees the handle.
    /// Call only on the loop thread, after the handle left the multi handle (or never joined it).
    func finish(_ result: CURLcode?) {
        guard !finished else { return }
        finished = true
        let outcome: Result<HTTPResponse, TransportError>
        if let result {
            outcome = self.outcome(of: result)
        } else {
            outcome = .failure(TransportError(code: .cancelled,
                                              message: "cancelled request to \(redactedURL(request.url))"))
        }
        curl_easy_cleanup(easy.raw)
        requestHeaders.free()
        continuation?.resume(returning: outcome)
        continuation = nil
    }

    /// Ends a transfer that never reached libcurl with `error`.
    func fail(_ error: TransportError) {
        guard !finished else { return }
        finished = true
        curl_easy_cleanup(easy.raw)
        requestHeaders.free()
        continuation?.resume(returning: .failure(error))
        continuation = nil
    }

    private func outcome(of result: CURLcode) -> Result<HTTPResponse, TransportError> {
        if result == CURLE_OK || (result == CURLE_WRITE_ERROR && truncated) {
            return .success(HTTPResponse(
                status: easy.long(CURLINFO_RESPONSE_CODE), headers: headers, body: body,
                truncated: truncated, primaryIP: easy.string(CURLINFO_PRIMARY_IP),
                timings: easy.timings(), redirectCount: easy.long(CURLINFO_REDIRECT_COUNT)))
        }
        return .failure(describeFailure(result))
    }
}
