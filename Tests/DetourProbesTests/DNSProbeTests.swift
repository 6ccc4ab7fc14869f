#if canImport(Glibc)
import Glibc
#endif
import DetourCore
@testable import DetourProbes
import Testing

@Suite(.timeLimit(.minutes(1)))
struct DNSProbeTests {
    @Test func localhostResolvesWithItsAddresses() async {
        let result = await DNSProbe(host: "localhost", timeout: .seconds(5)).run()
        #expect(result.verdict == .ok)
        #expect(result.detail.contains("127.0.0.1") || result.detail.contains("::1"))
        #expect(result.probe == "dns localhost")
        #expect(result.corroborating == false)
        #expect(result.timings != nil)
    }

    @Test func aNameInTheInvalidDomainIsNXDOMAIN() async {
        let result = await DNSProbe(host: "nothing.invalid", timeout: .seconds(5)).run()
        #expect(result.verdict == .failing)
        #expect(result.detail == "NXDOMAIN")
    }

    @Test func resolverCodesReadAsOperatorsSayThem() {
        #expect(Resolver.describe(EAI_NONAME) == "NXDOMAIN")
        #expect(Resolver.describe(EAI_AGAIN) == "SERVFAIL/temporary failure")
    }

    @Test func aLookupThatOutlivesTheTimeoutIsAbandoned() async {
        // Blocking work that ignores the limit, like a stuck getaddrinfo: the caller still gets an answer at the limit.
        let started = ContinuousClock.now
        let value = await Deadline.runBlocking(within: .milliseconds(200)) { () -> Int in
            usleep(10_000_000)
            return 1
        }
        #expect(value == nil)
        #expect(ContinuousClock.now - started < .seconds(5), "answered at the limit, not after the 10s block")
    }
}
