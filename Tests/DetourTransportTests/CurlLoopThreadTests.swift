import CCurl
import Foundation
import Testing
@testable import DetourTransport

/// The skeleton both libcurl loops run on: a real multi handle and a real thread that waits in
/// `curl_multi_poll` for far longer than the tests allow, so that only a wakeup can end its wait.
@Suite(.timeLimit(.minutes(1)))
struct CurlLoopThreadTests {
    @Test func aCommandHandedToAWaitingLoopEndsItsWaitAtOnce() async throws {
        let loop = RecordingLoop()
        let started = ContinuousClock.now
        for number in 1...20 {
            #expect(loop.hand(number))
            #expect(await loop.waitUntil { $0.taken.count == number }, "command \(number) was not taken")
        }
        // Twenty waits of ten seconds each, if the wakeup did not come.
        #expect(ContinuousClock.now - started < .seconds(5))
        await loop.thread.stopAndWait()
        #expect(loop.snapshot.taken == Array(1...20))
    }

    @Test func aCommandNeedingRoomWaitsForRoomButOneThatDoesNotWakesTheLoop() async throws {
        let loop = RecordingLoop(hasRoom: false)
        #expect(loop.hand(1))  // starts the thread, which takes it at once
        #expect(await loop.waitUntil { $0.taken == [1] && $0.waits > 0 })
        #expect(loop.hand(2, needsRoom: true))
        try await Task.sleep(for: .milliseconds(300))
        #expect(loop.snapshot.taken == [1], "a loop without room was woken for a command that needs room")
        #expect(loop.hand(3, needsRoom: false))
        #expect(await loop.waitUntil { $0.taken == [1, 2, 3] })
        await loop.thread.stopAndWait()
    }

    @Test func stopAndWaitReturnsOnceTheLoopHasFinishedAndLaterCommandsAreRefused() async throws {
        let loop = RecordingLoop()
        #expect(loop.hand(1))
        #expect(await loop.waitUntil { $0.waits > 0 })
        await loop.thread.stopAndWait()
        #expect(loop.snapshot.finished)
        #expect(!loop.hand(2))
        #expect(loop.snapshot.taken == [1])
        await loop.thread.stopAndWait()  // a second stop returns at once
    }

    @Test func aLoopStoppedBeforeItRanRefusesCommandsAndNeverStarts() async throws {
        let loop = RecordingLoop()
        loop.thread.stop()
        #expect(!loop.hand(1))
        await loop.thread.stopAndWait()
        #expect(loop.snapshot.taken.isEmpty && loop.snapshot.waits == 0 && !loop.snapshot.finished)
    }
}

/// A loop body that records the commands it takes and how often it waited, and waits ten seconds
/// at a time unless woken.
private final class RecordingLoop: CurlLoopBody, @unchecked Sendable {
    struct Record {
        var taken: [Int] = []
        var waits = 0
        var finished = false
    }

    let thread = CurlLoopThread<Int>(name: "detour-test-loop")
    private let hasRoom: Bool
    private let lock = NSLock()
    private var record = Record()

    init(hasRoom: Bool = true) {
        self.hasRoom = hasRoom
    }

    var snapshot: Record { lock.withLock { record } }

    func hand(_ number: Int, needsRoom: Bool = false) -> Bool {
        thread.enqueue(number, needsRoom: needsRoom, body: self)
    }

    /// Whether `condition` held within five seconds.
    func waitUntil(_ condition: (Record) -> Bool) async -> Bool {
        let giveUp = ContinuousClock.now + .seconds(5)
        while ContinuousClock.now < giveUp {
            if condition(snapshot) { return true }
            try? await Task.sleep(for: .milliseconds(5))
        }
        return condition(snapshot)
    }

    func run(on multi: UnsafeMutableRawPointer) {
        while true {
            let (batch, stop) = thread.takeCommands()
            lock.withLock { record.taken += batch }
            if stop { break }
            let wait = thread.readyToWait(hasRoom: hasRoom)
            lock.withLock { record.waits += 1 }
            curl_multi_poll(multi, nil, 0, wait ? 10_000 : 0, nil)
        }
        thread.finish { leftovers in
            lock.withLock {
                record.taken += leftovers
                record.finished = true
            }
        }
    }
}
