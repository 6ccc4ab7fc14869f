import DetourCore
import DetourTransport
import Foundation

/// The production `ProbeHTTPFetcher`: HTTP probes and status feeds through the shared libcurl client.
public struct CurlProbeFetcher: ProbeHTTPFetcher {
    private let client: CurlHTTPClient
    /// Sent on every probe request unless the check sets its own.
    public static let userAgent = "detour-probe/\(BuildInfo.version)"

    public init(client: CurlHTTPClient) { self.client = client }

    public func fetch(_ request: ProbeHTTPRequest) async -> ProbeHTTPOutcome {
        var headers = HTTPHeaders()
        if request.headers.keys.contains(where: { $0.lowercased() == "user-agent" }) == false {
            headers.add("User-Agent", Self.userAgent)
        }
        for (name, value) in request.headers.sorted(by: { $0.key < $1.key }) { headers.add(name, value) }
        let timeout = request.timeout.duration
        let http = HTTPRequest(url: request.url, method: request.method, headers: headers, timeout: timeout,
                               connectTimeout: min(timeout, .seconds(5)), followRedirects: request.followRedirects,
                               verifyTLS: request.verifyTLS, maxResponseBytes: request.maxBytes)
        do {
            let response = try await client.send(http)
            var flat: [String: String] = [:]
            for field in response.headers where flat[field.name.lowercased()] == nil { flat[field.name.lowercased()] = field.value }
            return .response(ProbeHTTPResponse(status: response.status, headers: flat, body: response.body,
                                               truncated: response.truncated, timings: Self.timings(response.timings)))
        } catch {
            let kind: ProbeHTTPFailure.Kind
            switch error.code {
            case .timeout: kind = .timeout
            case .dnsFailure: kind = .dns
            case .connectFailure: kind = .connect
            case .tlsFailure: kind = .tls
            default: kind = .other
            }
            let host = URLComponents(string: request.url)?.host ?? "the host"
            let message: String
            switch kind {
            case .timeout: message = "timed out after \(request.timeout)"
            case .dns: message = "cannot resolve \(host)"
            case .connect: message = error.curlMessage.isEmpty ? error.message : error.curlMessage
            default: message = error.message
            }
            return .failure(ProbeHTTPFailure(kind: kind, message: message))
        }
    }

    static func timings(_ t: TransferTimings) -> PhaseTimings {
        func s(_ d: Duration) -> Double { Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18 }
        return PhaseTimings(dns: s(t.nameLookup), connect: s(t.connect), tls: s(t.appConnect), firstByte: s(t.startTransfer), total: s(t.total))
    }
}
