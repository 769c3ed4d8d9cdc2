import FIXCore
import Testing

@testable import CopyEngine

@Suite("ExecID retention")
struct ExecIDRetentionTests {
    static let minute: EngineTime = 60_000 * ms

    /// alice on alpha, bob on beta, both sessions remembering fills for an hour.
    func world() throws -> World {
        var alpha = BrokerSessionConfig(name: "alpha")
        alpha.execIDRetentionMs = 3_600_000
        var beta = BrokerSessionConfig(name: "beta")
        beta.execIDRetentionMs = 3_600_000
        let bob = follower("bob", account: "BOB-07", equity: 10_000) { $0.lotSize = 1000 }
        var w = try World(setup(followers: [bob], sessions: [alpha, beta]))
        w.allSessionsUp()
        return w
    }

    func bust(_ w: inout World, _ execID: String, ref: String) {
        let p = w.configuration.providers[0]
        let m = Reports.executionReport(
            execID: execID, account: p.account, symbol: "EUR/USD", side: "1", lastQty: nil, lastPx: dec("1.1"),
            cumQty: nil, ordStatus: "2", execType: "H", clOrdID: "h", transactTime: w.now, execRefID: ref)
        w.send(.executionReport(session: "alpha", message: m, receivedAt: w.advance()))
    }

    @Test("a resend within the window is dropped, and what is remembered stays the window's size")
    func boundedMemory() throws {
        var w = try world()
        w.providerFill(side: "1", qty: "100000", execID: "E-1")
        _ = w.advance(30 * Self.minute)
        w.providerFill(side: "1", qty: "100000", execID: "E-1", possDup: true)
        #expect(w.reasons().filter { $0 == .duplicateExecID }.count == 1)
        #expect(w.engine.providerPosition("alice", symbol: "EUR/USD") == 100_000)
        // Fills every 10 minutes for 10 hours: an hour's worth (6 or 7) is remembered, not 60.
        for k in 0..<60 {
            _ = w.advance(10 * Self.minute)
            w.providerFill(side: k % 2 == 0 ? "2" : "1", qty: "1000", execID: "R-\(k)")
        }
        let alpha = try #require(w.engine.sessionIndex["alpha"])
        #expect(w.engine.sessions[alpha].seenExecIDs.count <= 7)
        #expect(w.engine.sessions[alpha].seenExecIDs.contains("R-59"))
        #expect(!w.engine.sessions[alpha].seenExecIDs.contains("E-1"))
        #expect(w.engine.providers[0].fills.count <= 7)
        #expect(w.engine.providers[0].fills["E-1"] == nil)
        #expect(w.engine.sessions[alpha].execIDTimes.count == w.engine.sessions[alpha].seenExecIDs.count)
    }

    @Test("a bust within the window applies; one of a fill older than the window is an unknown reference")
    func bustsWithinTheWindow() throws {
        var w = try world()
        w.providerFill(side: "1", qty: "100000", execID: "E-1")
        w.providerFill(side: "1", qty: "50000", execID: "E-2")
        _ = w.advance(50 * Self.minute)
        bust(&w, "B-1", ref: "E-2")
        #expect(w.engine.providerPosition("alice", symbol: "EUR/USD") == 100_000)
        #expect(w.position("bob") == 10_000)
        _ = w.advance(20 * Self.minute)
        // E-1 is 70 minutes old: forgotten when the next fill is recorded.
        w.providerFill(side: "1", qty: "10000", execID: "E-3")
        bust(&w, "B-2", ref: "E-1")
        #expect(w.reasons().last == .unknownExecRef)
        #expect(w.engine.providerPosition("alice", symbol: "EUR/USD") == 110_000)
    }

    @Test("a window shorter than an hour is refused, naming the key")
    func shortWindowRefused() {
        var alpha = BrokerSessionConfig(name: "alpha")
        alpha.execIDRetentionMs = 60_000
        #expect {
            try CopyEngine(configuration: setup(followers: [], sessions: [alpha, BrokerSessionConfig(name: "beta")]))
        } throws: { error in
            (error as? CopyConfigurationError)?.key == "ExecIDRetentionMs"
        }
    }
}
