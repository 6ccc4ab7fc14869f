@testable import DetourDaemon
import Foundation
import ServiceLifecycle
import Testing
import TestKit
#if canImport(Glibc)
import Glibc
#endif

@Suite struct SystemdNotifierTests {
    @Test func withoutNotifySocketTheNotifierIsDisabledAndSendsNothing() {
        let notifier = SystemdNotifier(environment: [:])
        #expect(!notifier.isEnabled)
        #expect(!notifier.ready(status: "ready"))
        #expect(notifier.watchdogInterval == nil)
    }

    @Test func readySendsReadyAndStatusToTheNotifySocket() throws {
        let tmp = try TempDir()
        let receiver = try DatagramReceiver(path: tmp.file("notify.sock"))
        let notifier = SystemdNotifier(environment: ["NOTIFY_SOCKET": receiver.path])
        #expect(notifier.isEnabled)

        #expect(notifier.ready(status: "watching 5 platforms"))
        #expect(receiver.receive() == "READY=1\nSTATUS=watching 5 platforms")
        #expect(notifier.status("2 incidents open\nsecond line"))
        #expect(receiver.receive() == "STATUS=2 incidents open second line")
        #expect(notifier.stopping())
        #expect(receiver.receive() == "STOPPING=1")
        #expect(notifier.watchdog())
        #expect(receiver.receive() == "WATCHDOG=1")
    }

    @Test func reloadingCarriesTheMonotonicClockInMicroseconds() throws {
        let tmp = try TempDir()
        let receiver = try DatagramReceiver(path: tmp.file("notify.sock"))
        let notifier = SystemdNotifier(environment: ["NOTIFY_SOCKET": receiver.path])
        let before = SystemdNotifier.monotonicMicroseconds()
        #expect(notifier.reloading())
        let after = SystemdNotifier.monotonicMicroseconds()

        let lines = try #require(receiver.receive()).split(separator: "\n").map(String.init)
        #expect(lines.first == "RELOADING=1")
        let stamp = try #require(lines.last.flatMap { $0.hasPrefix("MONOTONIC_USEC=") ? UInt64($0.dropFirst(15)) : nil })
        #expect(stamp >= before && stamp <= after)
    }

    @Test func anAbstractNotifySocketIsReachedThroughItsAtName() throws {
        let name = "@detour-test-\(UUID().uuidString)"
        let receiver = try DatagramReceiver(path: name)
        let notifier = SystemdNotifier(environment: ["NOTIFY_SOCKET": name])
        #expect(notifier.ready())
        #expect(receiver.receive() == "READY=1")
    }

    @Test func aSocketNobodyListensOnIsReportedAsNotSent() throws {
        let tmp = try TempDir()
        let notifier = SystemdNotifier(environment: ["NOTIFY_SOCKET": tmp.file("gone.sock")])
        #expect(notifier.isEnabled)
        #expect(!notifier.ready())
    }

    @Test func theWatchdogIntervalIsHalfOfWatchdogUsecAndOnlyForThisProcess() {
        let mine = SystemdNotifier(environment: ["NOTIFY_SOCKET": "/run/x", "WATCHDOG_USEC": "30000000"])
        #expect(mine.watchdogInterval == .seconds(15))
        let named = SystemdNotifier(environment: ["NOTIFY_SOCKET": "/run/x", "WATCHDOG_USEC": "30000000", "WATCHDOG_PID": "\(getpid())"])
        #expect(named.watchdogInterval == .seconds(15))
        let other = SystemdNotifier(environment: ["NOTIFY_SOCKET": "/run/x", "WATCHDOG_USEC": "30000000", "WATCHDOG_PID": "\(getpid() + 1)"])
        #expect(other.watchdogInterval == nil)
        let zero = SystemdNotifier(environment: ["NOTIFY_SOCKET": "/run/x", "WATCHDOG_USEC": "0"])
        #expect(zero.watchdogInterval == nil)
    }

    @Test func theWatchdogServiceSendsKeepAlivesUntilGracefulShutdown() async throws {
        let tmp = try TempDir()
        let receiver = try DatagramReceiver(path: tmp.file("notify.sock"))
        let notifier = SystemdNotifier(environment: ["NOTIFY_SOCKET": receiver.path])
        let watchdog = WatchdogService(notifier: notifier, interval: .milliseconds(20))

        try await InfraSupport.running([watchdog]) {
            for _ in 0..<3 {
                let message = try await InfraSupport.blocking { receiver.receive() }
                #expect(message == "WATCHDOG=1")
            }
        }
        // The service has returned: drain what it sent before, then nothing more arrives.
        let late = try await InfraSupport.blocking { () -> String? in
            while receiver.receive(timeout: .milliseconds(30)) != nil {}
            return receiver.receive(timeout: .milliseconds(100))
        }
        #expect(late == nil)
    }
}
