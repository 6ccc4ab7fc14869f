import DetourStore
import Foundation

/// Passes an operator's change asked on a node that does not lead to the leader, through the
/// store, and waits for its answer: the CLI learns what the leader did, or that no leader took the
/// change (then it is withdrawn, never carried out later by surprise).
struct LeaderRelay: Sendable {
    let store: PostgresStore
    let node: String
    /// How long to wait for a leader to take the change. With `answerLimit`, within the CLI's 30 s.
    var takeLimit: Duration = .seconds(15)
    /// How long to wait, once asked, for the leader's answer.
    var answerLimit: Duration = .seconds(12)
    var poll: Duration = .milliseconds(100)

    func pass(_ request: ControlRequest, by who: String) async throws -> String {
        let json = String(decoding: try JSONEncoder().encode(request), as: UTF8.self)
        let id = try await store.submitRequest(node: node, actor: who, request: json, now: Date())
        let clock = ContinuousClock()
        let asked = clock.now
        var withdrawn = false
        while true {
            try await Task.sleep(for: poll)
            guard let state = try await store.request(id) else {
                throw CommandError(message: "the request passed to the leader vanished from the state database")
            }
            if state.doneAt != nil, let text = state.answer {
                let answer = RelayedAnswer.decode(text, ok: state.ok ?? false)
                if withdrawn || state.takenBy == nil {
                    throw CommandError(message: answer.message, hint: answer.hint)
                }
                let leader = state.takenBy ?? "the leader"
                guard answer.ok else {
                    throw CommandError(message: "\(leader) (the leader) refused it: \(answer.message)", hint: answer.hint)
                }
                return "done by \(leader), the leader: \(answer.message)"
            }
            let waited = clock.now - asked
            if state.takenBy == nil, waited >= takeLimit, !withdrawn {
                let why = RelayedAnswer(ok: false, message: "no node led within \(takeLimit.components.seconds) s to carry it out, "
                                        + "so it was withdrawn and nothing changed",
                                        hint: "`detour status` on each node shows who leads and whether it reaches the database")
                withdrawn = try await store.withdrawRequest(id, reason: why.encoded, now: Date())
            } else if state.takenBy != nil, waited >= takeLimit + answerLimit {
                throw CommandError(message: "\(state.takenBy ?? "the leader") took the change but has not answered within "
                                   + "\((takeLimit + answerLimit).components.seconds) s",
                                   hint: "`detour audit` shows whether it was carried out; `detour status` who leads now")
            }
        }
    }
}
