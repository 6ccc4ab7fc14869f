import DetourCore
import Foundation
import Testing

/// When a failed delivery is tried again, and when it is given up.
@Suite struct RetryPolicyTests {
    private let created = Date(timeIntervalSince1970: 1_700_000_000)

    private func policy(random: Double, maxAttempts: Int = 10, maxAge: TimeSpan = .hours(24)) -> RetryPolicy {
        RetryPolicy(settings: DeliverySettings(maxAttempts: maxAttempts, maxAge: maxAge, initialBackoff: .seconds(10),
                                               maxBackoff: .seconds(60)),
                    random: { random })
    }

    private func wait(_ p: RetryPolicy, attempts: Int, retryAfter: Duration? = nil) -> Double? {
        p.nextAttempt(attempts: attempts, createdAt: created, now: created, retryAfter: retryAfter)?.timeIntervalSince(created)
    }

    @Test func theFirstRetryWaitsBetweenHalfAndAllOfTheInitialBackoff() {
        #expect(wait(policy(random: 0), attempts: 1) == 5)
        #expect(wait(policy(random: 0.5), attempts: 1) == 7.5)
        #expect(wait(policy(random: 0.999), attempts: 1)! < 10)
    }

    @Test func eachRetryWaitsTwiceAsLongAsTheOneBefore() {
        let p = policy(random: 0)
        #expect([1, 2, 3].map { wait(p, attempts: $0) } == [5, 10, 20])
    }

    @Test func noRetryWaitsLongerThanTheMaxBackoff() {
        #expect(wait(policy(random: 0.999), attempts: 8)! < 60)
        #expect(wait(policy(random: 0), attempts: 8) == 30)
    }

    @Test func aLongerRetryAfterFromTheReceiverIsHonoured() {
        #expect(wait(policy(random: 0), attempts: 1, retryAfter: .seconds(120)) == 120)
        #expect(wait(policy(random: 0), attempts: 1, retryAfter: .seconds(1)) == 5)
    }

    @Test func afterMaxAttemptsTheDeliveryIsGivenUpAndSaysHowManyAttempts() {
        let p = policy(random: 0, maxAttempts: 3)
        #expect(p.verdict(retryable: true, attempts: 2, createdAt: created, now: created, retryAfter: nil) == .retry(at: created.addingTimeInterval(10)))
        #expect(p.verdict(retryable: true, attempts: 3, createdAt: created, now: created, retryAfter: nil) == .giveUp(reason: "gave up after 3 attempts"))
    }

    @Test func aDeliveryTooOldForItsNextAttemptIsGivenUp() {
        let p = policy(random: 0, maxAge: .minutes(1))
        let now = created.addingTimeInterval(56)  // the next attempt would come 61 s after creation
        #expect(p.nextAttempt(attempts: 1, createdAt: created, now: now, retryAfter: nil) == nil)
    }

    @Test func aPermanentFailureIsGivenUpAtOnceWithoutAnAttemptCount() {
        #expect(policy(random: 0).verdict(retryable: false, attempts: 1, createdAt: created, now: created, retryAfter: nil) == .giveUp(reason: nil))
    }
}
