import BrokerSimulator
import CopyEngine
import FIXCore
import Foundation
import Testing

@testable import CopyBridgeAgent

/// The two-broker settings with carl's orders capped at 20 000: his 30 000 goes in two orders.
private func auditSettings() -> String {
    twoBrokerSettings().replacingOccurrences(of: "FixedQty=30000", with: "FixedQty=30000\nMaxOrderQty=20000")
}

/// Runs the agent for two provider trades, EUR/USD 100 000 (copied to bob, lena, and carl in two
/// orders) and XAU/USD 1 (below bob's and lena's lot: skipped; carl's fixed size: two orders), and
/// stops it. Returns the settings file's path; the journal and ledger are in `folder/data`.
private func recordSession(in folder: TestFolder) async throws -> String {
    let file = try folder.write("agent.conf", auditSettings())
    let configuration = try AgentConfiguration.load(path: file)
    #expect(configuration.agent.dataFolder == folder.path + "/data")
    let runtime = AgentRuntime(configuration: configuration, options: .quietTests)
    try await runtime.start()
    do {
        try await runtime.waitUntil("every session live", timeout: .seconds(60)) { $0.allLive(twoBrokerSessions) }
        let sim = try #require(runtime.simulator)
        try await sim.providerTrades("P1", "EUR/USD", .buy, 100000)
        try await runtime.waitUntil("the EUR/USD copies", timeout: .seconds(60)) {
            $0.filledOrders == 4 && $0.liveOrders == 0
        }
        try await sim.providerTrades("P2", "XAU/USD", .buy, 1)
        try await runtime.waitUntil("carl's XAU/USD copies", timeout: .seconds(60)) {
            $0.filledOrders == 6 && $0.liveOrders == 0
        }
    } catch {
        await runtime.stop()
        throw error
    }
    await runtime.stop()
    return file
}

/// The journaled orders of `follower` in `symbol`, in journal order.
private func journaledOrders(_ source: AuditSource, follower: String, symbol: String) -> [OrderIntent] {
    source.scan.engineRecords.compactMap { record -> OrderIntent? in
        guard case .order(let o) = record, o.symbol == symbol,
            o.allocations.contains(where: { $0.followerID == follower })
        else { return nil }
        return o
    }
}

@Suite("Audit", .serialized)
struct AuditTests {
    @Test("a real session: explain names the provider fill, sizing and fills; replay agrees; tampering shows")
    func explainAndReplay() async throws {
        let folder = try TestFolder()
        let file = try await recordSession(in: folder)
        let source = try AuditSource.load(configurationPath: file, journalPath: nil)
        #expect(source.ledgerPath == folder.path + "/data/ledger.sqlite")

        // Explain lena's EUR/USD copy: a quarter of alice's 100 000, in lots at LOTBRK.
        let lenaOrders = journaledOrders(source, follower: "lena", symbol: "EUR/USD")
        #expect(lenaOrders.count == 1)
        let lenaOrder = try #require(lenaOrders.first)
        let explanation = try AuditExplain.explain(lenaOrder.clOrdID, source: source)
        let signal = try #require(explanation.signal)
        #expect(signal.providerID == "alice")
        #expect(signal.execID == lenaOrder.signal)
        #expect(signal.account == "ALICE" && signal.session == "prov-dropcopy")
        #expect(signal.symbol == "EUR/USD" && signal.side == "BUY")
        #expect(signal.lastQty == 100000)
        let price = try #require(signal.lastPx)
        #expect((price - 1).isPositive && (price - FixedDecimal(mantissa: 12, scale: 1)).isNegative, "\(price)")
        #expect(signal.message.contains("17=\(lenaOrder.signal)|"))
        #expect(explanation.order.trigger.contains("ExecID \(lenaOrder.signal)"))

        let sizing = try #require(explanation.sizing.first)
        #expect(explanation.sizing.count == 1)
        #expect(sizing.followerID == "lena" && sizing.mode == "fixed-ratio" && sizing.ratio == FixedDecimal("0.25"))
        #expect(sizing.contractSize == 100000 && sizing.lotSize == FixedDecimal("0.01"))
        #expect(sizing.providerPositionBefore == 0 && sizing.providerPositionAfter == 100000)
        #expect(sizing.rawSize == 25000)
        #expect(sizing.targetBefore == 0 && sizing.targetAfter == 25000)
        #expect(sizing.quantity == 25000 && sizing.brokerQuantity == FixedDecimal("0.25"))

        #expect(explanation.order.session == "lot-orders")
        #expect(explanation.order.fields.contains("55=EURUSD.x"))
        #expect(explanation.order.fields.contains("1=LENA"))
        #expect(explanation.order.fields.contains("38=0.25"))
        let last = try #require(explanation.reports.last)
        #expect(last.ordStatus == "2" && last.cumQty == FixedDecimal("0.25"))
        #expect(explanation.reports.allSatisfy { !$0.latencyMs.isNegative })
        #expect(explanation.fees.orderRecorded)
        #expect(explanation.fees.fills.count == 1)
        #expect(explanation.notes.contains { $0.contains("not per order") })
        #expect(explanation.text.contains("1. provider fill"))
        #expect(explanation.text.contains("alice BUY 100000 EUR/USD"))
        let json = try AuditJSON.text(explanation)
        #expect(json.contains("\"clOrdID\" : \"\(lenaOrder.clOrdID)\""))

        // carl's 30 000 EUR/USD, clamped to MaxOrderQty: the first order says so, the second follows its fill.
        let carlOrders = journaledOrders(source, follower: "carl", symbol: "EUR/USD")
        #expect(carlOrders.map(\.quantity) == [20000, 10000])
        let carlFirst = try AuditExplain.explain(try #require(carlOrders.first).clOrdID, source: source)
        let carlSizing = try #require(carlFirst.sizing.first)
        #expect(carlSizing.mode == "fixed-qty" && carlSizing.maxOrderQty == 20000)
        #expect(carlSizing.rawSize == 30000 && carlSizing.targetAfter == 30000 && carlSizing.quantity == 20000)
        let clamp = try #require(carlFirst.decisions.first { $0.reason == "clamped-max-order" })
        #expect(clamp.followerID == "carl" && clamp.quantity == 30000)
        #expect(carlFirst.text.contains("clamped-max-order carl qty 30000"))
        let carlSecond = try AuditExplain.explain(carlOrders[1].clOrdID, source: source)
        #expect(carlSecond.signal?.execID == carlFirst.signal?.execID)
        #expect(carlSecond.order.trigger.contains("35=8 on prov-orders"))
        #expect(carlSecond.sizing.first?.copiedBefore == 0 && carlSecond.sizing.first?.workingBefore == 20000)

        // Bob's and lena's XAU/USD shares (0.5 and 0.25 unit) are below their lots: skips, journaled.
        let carlGold = try #require(journaledOrders(source, follower: "carl", symbol: "XAU/USD").first)
        let skips = source.scan.auditRecords.compactMap { r -> CopyDecision? in
            if case .decision(let d, _) = r, d.reason == .belowLot { d } else { nil }
        }
        #expect(Set(skips.compactMap(\.followerID)) == ["bob", "lena"])

        // The replay agrees with the journal, decisions included.
        let report = try AuditReplay.run(
            source.scan, configuration: try #require(source.configuration).engine, journalPath: source.journalPath)
        #expect(report.differences == [], "\(report.text)")
        #expect(report.ordersCompared == 6)
        #expect(report.decisionsCompared >= 4)
        #expect(report.recordsReplayed == source.scan.engineRecords.count)

        // lena at twice the ratio: her EUR/USD order differs in quantity.
        let doubled = try folder.write(
            "doubled.conf", auditSettings().replacingOccurrences(of: "Ratio=0.25", with: "Ratio=0.5"))
        let doubledSource = try AuditSource.load(configurationPath: doubled, journalPath: nil)
        let doubledReport = try AuditReplay.run(
            doubledSource.scan, configuration: try #require(doubledSource.configuration).engine,
            journalPath: doubledSource.journalPath)
        let changed = doubledReport.differences.filter { $0.kind == .orderChanged }
        #expect(changed.count == 1, "\(doubledReport.text)")
        #expect(changed.first?.journaled?.contains(lenaOrder.clOrdID) == true)
        #expect(changed.first?.journaled?.contains("quantity") == true)
        #expect(changed.first?.replayed?.contains("lena 50000") == true)
        let orderRecord = source.scan.engineRecords.firstIndex {
            if case .order(let o) = $0 { o.clOrdID == lenaOrder.clOrdID } else { false }
        }
        #expect(changed.first?.record == orderRecord)

        // lena at 4: her XAU/USD share (4 units) reaches her lot: an order the journal lacks, no skip.
        let quadrupled = try folder.write(
            "quadrupled.conf", auditSettings().replacingOccurrences(of: "Ratio=0.25", with: "Ratio=4"))
        let quadrupledSource = try AuditSource.load(configurationPath: quadrupled, journalPath: nil)
        let quadrupledReport = try AuditReplay.run(
            quadrupledSource.scan, configuration: try #require(quadrupledSource.configuration).engine,
            journalPath: quadrupledSource.journalPath)
        #expect(
            quadrupledReport.differences.contains {
                $0.kind == .orderExtra && $0.replayed?.contains("XAU/USD") == true
                    && $0.replayed?.contains("lena 4") == true
            }, "\(quadrupledReport.text)")
        let goldFill = source.scan.engineRecords.firstIndex {
            if case .message(_, let bytes, _) = $0 {
                (try? FIXMessage(bytes: bytes.bytes))?[FIXTag.execID] == carlGold.signal
            } else {
                false
            }
        }
        let missingSkip = quadrupledReport.differences.first {
            $0.kind == .decisionMissing && $0.journaled?.hasPrefix("below-lot lena XAU/USD") == true
        }
        #expect(missingSkip != nil, "\(quadrupledReport.text)")
        #expect(goldFill != nil && missingSkip?.record == goldFill)
        #expect(quadrupledReport.text.contains("differences: \(quadrupledReport.differences.count)"))
    }

    @Test("a journal of two runs (orders in flight at the stop, settled at the restart, a pause) replays exactly")
    func twoRunsReplay() async throws {
        let folder = try TestFolder()
        // Fills take far longer than the first run lives, even on a loaded machine, so its orders are still
        // in flight at the stop and the restart has to settle them.
        let file = try folder.write("agent.conf", twoBrokerSettings(journalSync: "batch", fillLatencyMs: "2000-2500"))
        let configuration = try AgentConfiguration.load(path: file)
        let sim = try #require(
            try await BrokerSimulatorServer.startMirrors(
                for: configuration.file, options: SimServerOptions(storage: .memory)))
        defer { Task { await sim.stop() } }
        var options = AgentRuntimeOptions.quietTests
        options.simulator = sim
        options.stopDrainTimeout = .zero

        let first = AgentRuntime(configuration: configuration, options: options)
        try await first.start()
        do {
            try await first.waitUntil("every session live", timeout: .seconds(60)) { $0.allLive(twoBrokerSessions) }
            try await sim.providerTrades("P1", "EUR/USD", .buy, 100000)
            try await first.waitUntil("the opening copies sent", timeout: .seconds(60)) { $0.ordersSent == 3 }
        } catch {
            await first.stop()
            throw error
        }
        await first.stop()

        let second = AgentRuntime(configuration: configuration, options: options)
        try await second.start()
        do {
            try await second.waitUntil("every session settled", timeout: .seconds(60)) {
                $0.allLive(twoBrokerSessions) && $0.liveOrders == 0
            }
            _ = try await second.handle(.pause(follower: "carl"), actor: "ctl:test", reason: "audit")
            try await sim.providerTrades("P2", "XAU/USD", .buy, 20)
            try await second.waitUntil("bob's and lena's XAU/USD copies", timeout: .seconds(60)) {
                $0.filledOrders >= 2 && $0.liveOrders == 0
            }
        } catch {
            await second.stop()
            throw error
        }
        await second.stop()

        let source = try AuditSource.load(configurationPath: file, journalPath: nil)
        let decisions = source.scan.auditRecords.compactMap { r -> ReasonCode? in
            if case .decision(let d, _) = r { d.reason } else { nil }
        }
        #expect(decisions.contains(.orderSettled), "the restart settled the orders in flight: \(decisions)")
        #expect(decisions.contains(.followerPaused))
        let report = try AuditReplay.run(
            source.scan, configuration: try #require(source.configuration).engine, journalPath: source.journalPath)
        #expect(report.differences == [], "\(report.text)")
        #expect(report.decisionsCompared >= 4)
    }

    @Test("an unknown ClOrdID is an error naming it")
    func unknownClOrdID() throws {
        let folder = try TestFolder()
        let path = folder.path + "/journal.cbj"
        let (journal, _) = try Journal.open(path: path, policy: .never)
        journal.append(JournalRecord.sessionUp(session: "prov-orders", at: 1_000))
        try journal.close()
        let source = try AuditSource.load(configurationPath: nil, journalPath: path)
        #expect(throws: AuditError("ClOrdID 'NOPE-1' is not in the journal \(path) (0 orders journaled)")) {
            try AuditExplain.explain("NOPE-1", source: source)
        }
        #expect(throws: AuditError("journal \(folder.path)/missing.cbj does not exist")) {
            try AuditSource.load(configurationPath: nil, journalPath: folder.path + "/missing.cbj")
        }
    }
}
