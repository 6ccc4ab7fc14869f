import DetourChannels
import Testing

@Suite struct WebhookAddressRuleTests {
    @Test(arguments: ["169.254.169.254", "fd00:ec2::254", "100.100.100.200", "::ffff:169.254.169.254"])
    func cloudMetadataIsAlwaysRefused(ip: String) {
        #expect(WebhookAddressRule.classify(ip) == .metadata)
        #expect(!WebhookAddressRule(allowPrivateTargets: true).allows(ip))
    }

    @Test(arguments: ["169.254.1.1", "fe80::1", "fe80::1%eth0", "febf::1", "::ffff:169.254.0.1"])
    func linkLocalIsAlwaysRefused(ip: String) {
        #expect(WebhookAddressRule.classify(ip) == .linkLocal)
        #expect(!WebhookAddressRule(allowPrivateTargets: true).allows(ip))
        #expect(!WebhookAddressRule(allowPrivateTargets: false).allows(ip))
    }

    @Test(arguments: ["127.0.0.1", "127.8.9.10", "0.0.0.0", "::1", "::", "[::1]", "::ffff:127.0.0.1"])
    func loopbackNeedsPrivateTargetsAllowed(ip: String) {
        #expect(WebhookAddressRule.classify(ip) == .loopback)
        #expect(!WebhookAddressRule(allowPrivateTargets: false).allows(ip))
        #expect(WebhookAddressRule(allowPrivateTargets: true).allows(ip))
    }

    @Test(arguments: ["10.0.0.1", "172.16.0.1", "172.31.255.255", "192.168.1.1", "100.64.0.1", "fc00::1", "fd12:3456::1"])
    func privateRangesNeedPrivateTargetsAllowed(ip: String) {
        #expect(WebhookAddressRule.classify(ip) == .privateRange)
        #expect(!WebhookAddressRule(allowPrivateTargets: false).allows(ip))
        #expect(WebhookAddressRule(allowPrivateTargets: true).allows(ip))
    }

    @Test(arguments: ["93.184.216.34", "172.32.0.1", "172.15.255.255", "100.128.0.1", "2606:4700::1111", "fec0::1"])
    func publicAddressesAreAllowed(ip: String) {
        #expect(WebhookAddressRule.classify(ip) == .public)
        #expect(WebhookAddressRule(allowPrivateTargets: false).allows(ip))
    }

    @Test(arguments: ["", "localhost", "hooks.slack.com", "999.1.1.1", "1.2.3"])
    func anythingThatIsNotAnAddressIsRefused(ip: String) {
        #expect(WebhookAddressRule.classify(ip) == .unparsable)
        #expect(!WebhookAddressRule(allowPrivateTargets: true).allows(ip))
    }
}
