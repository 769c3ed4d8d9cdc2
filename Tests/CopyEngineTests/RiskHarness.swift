import FIXCore
import Testing

@testable import CopyEngine

extension World {
    /// A mark with bid = ask = `price` (so the mid is `price`).
    mutating func mark(_ price: String, symbol: String = "EUR/USD") {
        send(.mark(symbol: symbol, bid: dec(price), ask: dec(price), at: advance()))
    }

    /// An operator command from `actor`.
    mutating func command(_ command: OperatorCommand, actor: String = "ctl:test", reason: String? = nil) {
        send(.command(command, at: advance(), actor: actor, reason: reason))
    }

    func check(_ command: OperatorCommand) -> OperatorCommandCheck {
        engine.check(command)
    }

    /// Decisions with `reason`.
    func decisions(_ reason: ReasonCode) -> [CopyDecision] {
        decisions.filter { $0.reason == reason }
    }

    /// "side:qty" of the NewOrderSingles on `session`.
    func orderLines(on session: String = "beta") -> [String] {
        orders(on: session).map { "\($0[54]!):\($0.decimalQty.normalized)" }
    }

    func breaker(_ name: String) -> BreakerView? {
        engine.breakerView(name)
    }

    /// The breaker records in the journal, as `name tripped|reset`.
    var breakerRecords: [String] {
        journal.compactMap { r in
            if case .breaker(let b) = r { "\(b.name) \(b.tripped ? "tripped" : "reset")" } else { nil }
        }
    }

    /// Restarts from the journal with another configuration (a limit changed between runs).
    mutating func restart(with configuration: CopyEngineConfiguration) throws {
        var next = try World(configuration)
        next.journal = journal
        next.broker = broker
        next.now = now
        next.execSeq = execSeq
        next.sentClOrdIDs = sentClOrdIDs
        next.crashAndRecover()
        self = next
    }
}
