import BrokerSimulator
import CopyEngine
import FIXCore
import FIXSession
import Foundation
import Testing

@testable import CopyBridgeAgent

/// What the provider's three trades of these tests should leave with each follower, in units of the
/// canonical symbols (bob: half her size by equity; carl: 30 000 per trade, scaled down on a partial
/// close; lena: a quarter, in lots at LOTBRK).
private let expectedEngine: [String: [String: FixedDecimal]] = [
    "bob": ["EUR/USD": 30000, "XAU/USD": 10],
    "carl": ["EUR/USD": 18000, "XAU/USD": 30000],
    "lena": ["EUR/USD": 15000, "XAU/USD": 5],
]

/// The same positions at the brokers, in their symbols and units.
private func expectBooks(_ sim: BrokerSimulatorServer) async {
    #expect(await sim.position(broker: "PROVBRK", account: "BOB", symbol: "EUR/USD") == 30000)
    #expect(await sim.position(broker: "PROVBRK", account: "BOB", symbol: "XAU/USD") == 10)
    #expect(await sim.position(broker: "PROVBRK", account: "CARL", symbol: "EUR/USD") == 18000)
    #expect(await sim.position(broker: "PROVBRK", account: "CARL", symbol: "XAU/USD") == 30000)
    #expect(await sim.position(broker: "LOTBRK", account: "LENA", symbol: "EURUSD.x") == FixedDecimal("0.15"))
    #expect(await sim.position(broker: "LOTBRK", account: "LENA", symbol: "GOLD") == FixedDecimal("0.05"))
    #expect(await sim.position(broker: "PROVBRK", account: "ALICE", symbol: "EUR/USD") == 60000)
}

/// No ClOrdID reached a broker twice.
private func expectUniqueClOrdIDs(_ sim: BrokerSimulatorServer) async {
    let ids =
        await sim.clOrdIDs(broker: "PROVBRK", accounts: ["BOB", "CARL"])
        + (await sim.clOrdIDs(broker: "LOTBRK", accounts: ["LENA"]))
    #expect(!ids.isEmpty)
    let repeated = Dictionary(grouping: ids, by: { $0 }).filter { $0.value.count > 1 }.keys
    #expect(repeated.isEmpty, "ClOrdIDs sent twice: \(repeated.sorted())")
}

private func positionsReached(_ p: AgentProgress) -> Bool {
    p.liveOrders == 0 && p.followerPositions == expectedEngine
}

@Suite("Runtime", .serialized)
struct RuntimeTests {
    @Test("embedded simulators on free ports: a scripted provider is copied to every follower at its broker, sized")
    func copiesAreSized() async throws {
        let folder = try TestFolder()
        let console = ConsoleCapture()
        let options = AgentRuntimeOptions.quietTests(console: console)
        let data = folder.path + "/data"
        try await withRuntime(twoBrokerSettings(), folder: folder, options: options) { runtime in
            try await runtime.waitUntil("every session live", timeout: .seconds(60)) {
                $0.allLive(twoBrokerSessions)
            }
            let sim = try #require(runtime.simulator)
            #expect(Set(sim.brokerNames) == ["PROVBRK", "LOTBRK"])
            #expect(sim.ports().values.allSatisfy { $0 > 0 })

            try await sim.providerTrades("P1", "EUR/USD", .buy, 100000)
            try await runtime.waitUntil("the opening copies", timeout: .seconds(60)) {
                $0.filledOrders == 3 && $0.liveOrders == 0
            }
            try await sim.providerTrades("P2", "EUR/USD", .sell, 40000)
            try await sim.providerTrades("P3", "XAU/USD", .buy, 20)
            try await runtime.waitUntil("the sized positions", timeout: .seconds(60), positionsReached)

            await expectBooks(sim)
            await expectUniqueClOrdIDs(sim)
            let progress = try await runtime.progress()
            #expect(progress.signals == 3)
            #expect(progress.copies == 9 && progress.ordersSent == 9 && progress.filledOrders == 9)
            #expect(progress.rejectedOrders == 0 && progress.halted == nil)

            let snapshot = await runtime.snapshot()
            #expect(snapshot.sessions.map(\.state) == [.loggedOn, .loggedOn, .loggedOn])
            #expect(snapshot.sessions.map(\.role) == ["drop-copy", "orders", "orders"])
            let lena = try #require(snapshot.followers.first { $0.id == "lena" })
            #expect(lena.positions.map(\.quantity) == [15000, 5])
            #expect(snapshot.providers.first?.positions.map(\.quantity) == [60000, 20])
            #expect(snapshot.recentCopies.count == 9)
            #expect(snapshot.recentCopies.allSatisfy { $0.status == .filled && $0.provider == "alice" })
            #expect(snapshot.recentCopies.filter { $0.tickToCopyMicros != nil }.count == 9)
            #expect(snapshot.metrics.totals.copies == 9 && snapshot.metrics.totals.signals == 3)
        }
        #expect(console.lines.contains { $0.contains("COPY alice→lena BUY 0.25 EURUSD.x on lot-orders") })
        #expect(console.lines.contains { $0.contains("FILL carl SELL 12000 EUR/USD @") })

        // The journal holds the run: each order record before its fill, and the audit trail.
        let scan = try JournalReader.read(path: data + "/journal.cbj")
        #expect(scan.tornTailBytes == 0)
        let orders = scan.engineRecords.compactMap { if case .order(let o) = $0 { o } else { nil } }
        #expect(orders.count == 9)
        #expect(Set(orders.map(\.clOrdID)).count == 9)
        #expect(
            scan.auditRecords.contains { if case .note(let t, _) = $0 { t.hasPrefix("agent stopped") } else { false } })

        // The ledger caught up off the loop and was closed with the agent.
        let ledger = try ledgerCounts(path: data + "/ledger.sqlite")
        #expect(ledger.providerFills == 3 && ledger.followerOrders == 9)
        #expect(ledger.followerQuantities["lena"]?["EUR/USD"] == 15000)
        #expect(ledger.followerQuantities["carl"]?["XAU/USD"] == 30000)
        #expect(ledger.subscriptions == 3)
        #expect(ledger.deposits == 2, "bob's and alice's equity")
    }

    @Test("a DAY copy still resting when she closes is canceled at the simulated broker, not netted")
    func restingCopiesAreCanceled() async throws {
        let folder = try TestFolder()
        // Her orders fill at once; her followers' copies wait two seconds at their brokers.
        let settings = twoBrokerSettings(fillLatencyMs: "2000")
        try await withRuntime(settings, folder: folder) { runtime in
            try await runtime.waitUntil("every session live", timeout: .seconds(60)) {
                $0.allLive(twoBrokerSessions)
            }
            let sim = try #require(runtime.simulator)
            try await sim.providerTrades("P1", "EUR/USD", .buy, 100000)
            try await runtime.waitUntil("three copies working", timeout: .seconds(60)) { $0.liveOrders == 3 }
            try await sim.providerTrades("P2", "EUR/USD", .sell, 100000)
            try await runtime.waitUntil("every copy finished", timeout: .seconds(60)) {
                $0.liveOrders == 0 && $0.filledOrders == 2
            }
            // bob and carl (DAY on PROVBRK): canceled, never filled, nothing sold. lena (IOC on
            // LOTBRK) ends on her own: her buy and the sell that nets it both fill.
            for account in ["BOB", "CARL"] {
                #expect(await sim.position(broker: "PROVBRK", account: account, symbol: "EUR/USD") == 0)
                #expect(await sim.clOrdIDs(broker: "PROVBRK", accounts: [account]).count == 1)
            }
            #expect(await sim.position(broker: "LOTBRK", account: "LENA", symbol: "EURUSD.x") == 0)
            let progress = try await runtime.progress()
            #expect(progress.ordersSent == 4 && progress.rejectedOrders == 0)
            #expect(progress.followerPositions.values.allSatisfy { $0.isEmpty }, "\(progress.followerPositions)")
        }
    }

    enum Interruption: String, CaseIterable, Sendable {
        case stop
        case crash
    }

    @Test(
        "a restart mid-flow settles orders and positions: nothing sent twice, positions exact",
        arguments: Interruption.allCases)
    func restart(_ interruption: Interruption) async throws {
        let folder = try TestFolder()
        // Fills take a while, so orders are in flight when the first run ends.
        let settings = twoBrokerSettings(journalSync: "batch", fillLatencyMs: "150-250")
        let file = try folder.write("agent.conf", settings)
        let data = folder.path + "/data"
        let configuration = try AgentConfiguration.load(path: file, dataFolder: data)
        let sim = try #require(
            try await BrokerSimulatorServer.startMirrors(
                for: configuration.file, options: SimServerOptions(storage: .memory)))
        defer { Task { await sim.stop() } }
        var options = AgentRuntimeOptions.quietTests
        options.simulator = sim
        options.stopDrainTimeout = .zero

        let first = AgentRuntime(configuration: configuration, options: options)
        try await first.start()
        try await first.waitUntil("every session live", timeout: .seconds(60)) { $0.allLive(twoBrokerSessions) }
        try await sim.providerTrades("P1", "EUR/USD", .buy, 100000)
        try await first.waitUntil("the opening copies sent", timeout: .seconds(60)) { $0.ordersSent == 3 }
        try await sim.providerTrades("P2", "EUR/USD", .sell, 40000)
        switch interruption {
        case .stop:
            await first.stop()
        case .crash:
            await first.abandon()
            // A crash while a frame was being written leaves part of it, after the last whole frame.
            let end = try JournalReader.read(path: data + "/journal.cbj").validLength
            let handle = try #require(FileHandle(forWritingAtPath: data + "/journal.cbj"))
            try handle.seek(toOffset: UInt64(end))
            try handle.write(contentsOf: Data([0x40, 0, 0, 0, 0xDE, 0xAD]))
            try handle.close()
        }

        let second = AgentRuntime(configuration: configuration, options: options)
        try await second.start()
        do {
            try await second.waitUntil("every session settled", timeout: .seconds(60)) {
                $0.allLive(twoBrokerSessions) && $0.liveOrders == 0
            }
            try await sim.providerTrades("P3", "XAU/USD", .buy, 20)
            try await second.waitUntil("the sized positions", timeout: .seconds(60), positionsReached)
            try await second.waitUntil("the last copies filled", timeout: .seconds(60)) { $0.filledOrders >= 3 }
            await expectBooks(sim)
            await expectUniqueClOrdIDs(sim)
            #expect(try await second.progress().halted == nil)
        } catch {
            await second.stop()
            throw error
        }
        await second.stop()
        let scan = try JournalReader.read(path: data + "/journal.cbj")
        #expect(scan.tornTailBytes == 0, "the torn tail was cut when the second run opened the journal")
        let notes = scan.auditRecords.compactMap { if case .note(let t, _) = $0 { t } else { nil } }
        #expect(notes.filter { $0.hasPrefix("agent started") }.count == 2)
        if interruption == .crash {
            #expect(notes.contains { $0.contains("dropped a torn tail of 6 bytes") })
        }
    }

    @Test("an operator's pause is journaled with who and why, and the paused follower is not copied")
    func pausedFollower() async throws {
        let folder = try TestFolder()
        let data = folder.path + "/data"
        try await withRuntime(twoBrokerSettings(), folder: folder) { runtime in
            try await runtime.waitUntil("every session live", timeout: .seconds(60)) {
                $0.allLive(twoBrokerSessions)
            }
            let paused = try await runtime.handle(.pause(follower: "carl"), actor: "ctl:ops", reason: "margin call")
            #expect(paused.outcome == .applied)
            let again = try await runtime.handle(.pause(follower: "carl"), actor: "ctl:ops", reason: nil)
            #expect(again.outcome == .unchanged)
            await #expect(throws: AdminCommandError.unknownFollower("nobody")) {
                try await runtime.handle(.pause(follower: "nobody"), actor: "ctl:ops", reason: nil)
            }
            let sim = try #require(runtime.simulator)
            try await sim.providerTrades("P1", "EUR/USD", .buy, 100000)
            try await runtime.waitUntil("the copies of the others", timeout: .seconds(60)) {
                $0.filledOrders == 2 && $0.liveOrders == 0
            }
            #expect(await sim.position(broker: "PROVBRK", account: "CARL", symbol: "EUR/USD") == 0)
            #expect(await sim.position(broker: "PROVBRK", account: "BOB", symbol: "EUR/USD") == 50000)
            let snapshot = await runtime.snapshot()
            #expect(snapshot.followers.first { $0.id == "carl" }?.state == .paused)
        }
        let audits = try JournalReader.read(path: data + "/journal.cbj").auditRecords
        let commands = audits.compactMap { if case .command(let c) = $0 { c } else { nil } }
        #expect(commands.map(\.command) == ["pause carl", "pause carl", "pause nobody"])
        #expect(commands.first?.actor == "ctl:ops" && commands.first?.reason == "margin call")
        #expect(
            commands.map(\.outcome) == [
                "applied", "unchanged: carl is already paused", "refused: no follower 'nobody'",
            ])
        #expect(
            audits.contains {
                if case .decision(let d, _) = $0 {
                    d.reason == .followerPaused && d.followerID == "carl"
                } else {
                    false
                }
            })
    }

    @Test("the repository's sessions.conf runs in-process and copies the provider bot's trades")
    func repositoryDemo() async throws {
        let folder = try TestFolder()
        let configuration = try AgentConfiguration.load(
            path: repositoryRoot + "/sessions.conf", dataFolder: folder.path + "/data")
        let console = ConsoleCapture()
        var options = AgentRuntimeOptions.quietTests(console: console)
        options.http = .port(0)
        let runtime = AgentRuntime(configuration: configuration, options: options)
        let summaries = SummaryBox()
        let (started, signalStart) = AsyncStream.makeStream(of: Void.self)
        let service = AgentService(
            runtime: runtime, duration: .seconds(120), onStarted: { signalStart.finish() },
            onSummary: { summaries.set($0) })
        let running = Task { try await service.run() }
        do {
            for await _ in started {}
            try await runtime.waitUntil("a copy filled", timeout: .seconds(90)) { $0.filledOrders >= 1 }
            #expect(runtime.httpListeningAddress?.port != nil)
        } catch {
            running.cancel()
            _ = try? await running.value
            throw error
        }
        running.cancel()  // the --duration wait ends early, as a signal would end it
        try await running.value
        let summary = try #require(summaries.value)
        #expect(summary.copies >= 1 && summary.filledOrders >= 1 && summary.signals >= 1)
        #expect(summary.followers.count == 6)
        // The periodic line carries the live view's figures.
        #expect(summary.line.contains(", fill rate ") && summary.line.contains(", tick-to-copy p50 "))
        #expect(summary.line.contains(", slippage "))
        #expect(console.lines.contains { $0.contains("SIGNAL alice") })
        #expect(console.lines.contains { $0.contains(" COPY alice→") })
        // bob and erin size with the equity their brokers report (Equity=broker).
        #expect(console.lines.contains { $0.contains("EQUITY bob 25000 USD (account BOB on primefx-orders)") })
        #expect(console.lines.contains { $0.contains("EQUITY erin 50000 USD (account ERIN on mt5-orders)") })
        #expect(!console.lines.contains { $0.contains("WARNING") })
        let books = try FileManager.default.contentsOfDirectory(atPath: folder.path + "/data/books").sorted()
        #expect(books == ["MT5BRIDGE.json", "PRIMEFX.json"])
    }
}

private final class SummaryBox: @unchecked Sendable {
    private let lock = NSLock()
    private var summary: AgentSummary?
    var value: AgentSummary? { lock.withLock { summary } }
    func set(_ s: AgentSummary) { lock.withLock { summary = s } }
}
