#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Blocking name resolution with `getaddrinfo`, reported in the words an operator reads.
///
/// Call it off the cooperative pool (see `Deadline.runBlocking`): `getaddrinfo` can block for
/// many seconds and cannot be cancelled.
enum Resolver {
    /// One resolved address, ready for `connect`.
    struct Address: Sendable {
        var family: Int32
        var storage: sockaddr_storage
        var length: socklen_t
        /// `127.0.0.1`, `::1`.
        var text: String
    }

    /// Why a name did not resolve.
    struct Failure: Error, Sendable {
        /// The `EAI_*` code from `getaddrinfo`.
        var code: Int32
        /// `NXDOMAIN`, `SERVFAIL/temporary failure`, or the resolver's own words.
        var detail: String
    }

    static func resolve(_ host: String, socketType: Int32 = 0) -> Result<[Address], Failure> {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = socketType == 0 ? Self.streamType : socketType
        var list: UnsafeMutablePointer<addrinfo>?
        let rc = getaddrinfo(host, nil, &hints, &list)
        guard rc == 0 else { return .failure(Failure(code: rc, detail: describe(rc))) }
        defer { freeaddrinfo(list) }
        var out: [Address] = []
        var node = list
        while let entry = node?.pointee {
            node = entry.ai_next
            guard let sa = entry.ai_addr, entry.ai_family == AF_INET || entry.ai_family == AF_INET6 else { continue }
            var storage = sockaddr_storage()
            withUnsafeMutableBytes(of: &storage) { dst in
                dst.copyMemory(from: UnsafeRawBufferPointer(start: sa, count: Int(entry.ai_addrlen)))
            }
            let text = numericHost(sa, entry.ai_addrlen)
            if out.contains(where: { $0.text == text }) { continue }
            out.append(Address(family: entry.ai_family, storage: storage, length: entry.ai_addrlen, text: text))
        }
        if out.isEmpty { return .failure(Failure(code: EAI_NODATA_CODE, detail: "no addresses (NODATA)")) }
        return .success(out)
    }

    /// glibc's `EAI_NODATA`, which Swift does not import without `_GNU_SOURCE`.
    static let EAI_NODATA_CODE: Int32 = -5

    static func describe(_ code: Int32) -> String {
        switch code {
        case EAI_NONAME: return "NXDOMAIN"
        case EAI_AGAIN: return "SERVFAIL/temporary failure"
        case EAI_NODATA_CODE: return "no addresses (NODATA)"
        case EAI_FAIL: return "SERVFAIL/non-recoverable failure"
        case EAI_SYSTEM: return "resolver error: \(String(cString: strerror(errno)))"
        default: return "resolver error: \(String(cString: gai_strerror(code)))"
        }
    }

    private static func numericHost(_ sa: UnsafeMutablePointer<sockaddr>, _ len: socklen_t) -> String {
        var buffer = [CChar](repeating: 0, count: Int(NI_MAXHOST))
        let rc = getnameinfo(sa, len, &buffer, socklen_t(buffer.count), nil, 0, NI_NUMERICHOST)
        guard rc == 0 else { return "?" }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    #if canImport(Glibc)
    static let streamType = Int32(SOCK_STREAM.rawValue)
    #else
    static let streamType = SOCK_STREAM
    #endif
}
