import DetourCore
import DetourProbes
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A tiny real HTTP/1.1 client for tests: GET over a plain socket to 127.0.0.1, so HTTP probes and
/// status feeds are judged against bytes a real server sent. It keeps the request's timeout and
/// `maxBytes`, and reports timings like the production client. Not for production: no TLS, no redirects.
struct SocketHTTPFetcher: ProbeHTTPFetcher {
    func fetch(_ request: ProbeHTTPRequest) async -> ProbeHTTPOutcome {
        await withCheckedContinuation { continuation in
            Thread { continuation.resume(returning: Self.fetchBlocking(request)) }.start()
        }
    }

    private static func fetchBlocking(_ request: ProbeHTTPRequest) -> ProbeHTTPOutcome {
        let start = Date()
        let deadline = start.addingTimeInterval(request.timeout.seconds)
        func elapsed() -> Double { Date().timeIntervalSince(start) }
        guard let url = URL(string: request.url), url.scheme == "http", let host = url.host, let port = url.port,
              host == "127.0.0.1" || host == "localhost" else {
            return .failure(.init(kind: .other, message: "test fetcher only speaks http://127.0.0.1:PORT"))
        }
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return .failure(.init(kind: .other, message: "socket failed")) }
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = UInt16(port).bigEndian
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard rc == 0 else {
            return .failure(.init(kind: .connect, message: String(cString: strerror(errno)),
                                  timings: PhaseTimings(dns: 0, connect: elapsed(), tls: 0, firstByte: 0, total: elapsed())))
        }
        let connectTime = elapsed()
        var path = url.path.isEmpty ? "/" : url.path
        if let query = url.query { path += "?" + query }
        var head = "\(request.method) \(path) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nConnection: close\r\n"
        for (name, value) in request.headers { head += "\(name): \(value)\r\n" }
        head += "\r\n"
        let bytes = Array(head.utf8)
        guard bytes.withUnsafeBytes({ send(fd, $0.baseAddress, $0.count, 0) }) == bytes.count else {
            return .failure(.init(kind: .other, message: "send failed"))
        }

        var received = Data()
        var firstByte: Double = 0
        var buffer = [UInt8](repeating: 0, count: 16_384)
        var headerEnd: Int?
        var contentLength: Int?
        while true {
            if let end = headerEnd, let length = contentLength, received.count - end >= length { break }
            if let end = headerEnd, received.count - end >= request.maxBytes { break }
            let left = deadline.timeIntervalSinceNow
            guard left > 0 else { return timeout(request, connectTime, firstByte, elapsed()) }
            var pfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let ready = poll(&pfd, 1, Int32(max(1, left * 1000)))
            if ready == 0 { return timeout(request, connectTime, firstByte, elapsed()) }
            let n = recv(fd, &buffer, buffer.count, 0)
            if n < 0 { return .failure(.init(kind: .other, message: String(cString: strerror(errno)))) }
            if n == 0 { break }
            if firstByte == 0 { firstByte = elapsed() }
            received.append(contentsOf: buffer[0..<n])
            if headerEnd == nil, let range = received.range(of: Data("\r\n\r\n".utf8)) {
                headerEnd = range.upperBound
                let headText = String(decoding: received[..<range.lowerBound], as: UTF8.self)
                for line in headText.split(separator: "\r\n").dropFirst() {
                    let parts = line.split(separator: ":", maxSplits: 1)
                    if parts.count == 2, parts[0].lowercased() == "content-length" {
                        contentLength = Int(parts[1].trimmingCharacters(in: .whitespaces))
                    }
                }
            }
        }
        guard let end = headerEnd else { return .failure(.init(kind: .other, message: "no complete reply")) }
        let headText = String(decoding: received[..<end], as: UTF8.self)
        let statusLine = headText.split(separator: "\r\n").first ?? ""
        let fields = statusLine.split(separator: " ")
        guard fields.count >= 2, let status = Int(fields[1]) else {
            return .failure(.init(kind: .other, message: "bad status line"))
        }
        var headers: [String: String] = [:]
        for line in headText.split(separator: "\r\n").dropFirst() {
            let parts = line.split(separator: ":", maxSplits: 1)
            if parts.count == 2 { headers[parts[0].lowercased()] = parts[1].trimmingCharacters(in: .whitespaces) }
        }
        var body = Data(received[end...])
        let truncated = body.count > request.maxBytes || (contentLength.map { $0 > request.maxBytes } ?? false)
        if body.count > request.maxBytes { body = body.prefix(request.maxBytes) }
        let total = elapsed()
        return .response(.init(status: status, headers: headers, body: body, truncated: truncated,
                               timings: PhaseTimings(dns: 0, connect: connectTime, tls: 0, firstByte: firstByte, total: total)))
    }

    private static func timeout(_ r: ProbeHTTPRequest, _ connect: Double, _ firstByte: Double, _ total: Double) -> ProbeHTTPOutcome {
        .failure(.init(kind: .timeout, message: "no reply within \(r.timeout)",
                       timings: PhaseTimings(dns: 0, connect: connect, tls: 0, firstByte: firstByte, total: total)))
    }
}
