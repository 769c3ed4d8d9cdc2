import BrokerSimulator
import CopyEngine
import FIXCore
import Foundation
import Testing

@testable import CopyBridgeAgent

/// ``twoBrokerSettings()`` with bob's equity read from PROVBRK, which knows `accountEquity`.
private func brokerEquitySettings(accountEquity: String?) -> String {
    var settings = twoBrokerSettings()
    settings = settings.replacingOccurrences(of: "Account=BOB\nEquity=50000", with: "Account=BOB\nEquity=broker")
    if let accountEquity {
        settings = settings.replacingOccurrences(
            of: "PriceTickMs=0\n", with: "PriceTickMs=0\nAccountEquity=\(accountEquity)\n")
    }
    return settings
}

private func equityCommands(_ scan: JournalScan) -> [(String, FixedDecimal)] {
    scan.engineRecords.compactMap { record in
        if case .command(.setEquity(let id, let equity), _, _, _) = record { (id, equity) } else { nil }
    }
}

@Suite("Broker equity", .serialized)
struct BrokerEquityTests {
    @Test("an equity-ratio follower on Equity=broker is sized with the equity his broker reports, and replays")
    func sizedWithBrokerEquity() async throws {
        let folder = try TestFolder()
        let watcher = ConsoleCapture()
        let options = AgentRuntimeOptions.quietTests(console: watcher)
        let data = folder.path + "/data"
        let settings = brokerEquitySettings(accountEquity: "BOB:40000")
        #expect(settings.contains("Equity=broker") && settings.contains("AccountEquity=BOB:40000"))
        try await withRuntime(settings, folder: folder, options: options) { runtime in
            try await runtime.waitUntil("every session live and bob's equity known", timeout: .seconds(60)) {
                $0.allLive(twoBrokerSessions) && $0.brokerEquity["bob"] == 40000
            }
            let sim = try #require(runtime.simulator)
            // 40 000 / 100 000 of her 100 000.
            try await sim.providerTrades("P1", "EUR/USD", .buy, 100000)
            // Bob bought at the ask 1.1002; PROVBRK values him at the mid 1.1001: 4 less.
            try await runtime.waitUntil("the copies filled and bob revalued", timeout: .seconds(60)) {
                $0.filledOrders == 3 && $0.liveOrders == 0 && $0.brokerEquity["bob"] == 39996
            }
            #expect(await sim.position(broker: "PROVBRK", account: "BOB", symbol: "EUR/USD") == 40000)
            // The next increase is sized with the new equity: 50 000 × 39 996 / 100 000.
            try await sim.providerTrades("P2", "EUR/USD", .buy, 50000)
            try await runtime.waitUntil("bob's second copy", timeout: .seconds(60)) {
                $0.liveOrders == 0 && $0.followerPositions["bob"]?["EUR/USD"] == 59998
            }
            #expect(await sim.position(broker: "PROVBRK", account: "BOB", symbol: "EUR/USD") == 59998)
            #expect(try await runtime.progress().halted == nil)
        }
        #expect(watcher.lines.contains { $0.hasSuffix("EQUITY bob 40000 USD (account BOB on prov-orders)") })
        #expect(!watcher.lines.contains { $0.contains("WARNING") })

        // The equities went through the engine's journal, and the run replays exactly.
        let scan = try JournalReader.read(path: data + "/journal.cbj")
        let commands = equityCommands(scan)
        #expect(commands.prefix(2).map(\.0) == ["bob", "bob"])
        #expect(commands.prefix(2).map(\.1) == [40000, 39996])
        let configuration = try AgentConfiguration.load(
            path: try folder.write("replay.conf", settings), dataFolder: data)
        let report = try AuditReplay.run(scan, configuration: configuration.engine, journalPath: data + "/journal.cbj")
        #expect(report.differences == [], "\(report.text)")
        #expect(report.ordersCompared >= 5)
    }

    @Test("an equity reported in another currency is converted at the mark before it sizes anything")
    func foreignCurrencyEquity() async throws {
        let folder = try TestFolder()
        let watcher = ConsoleCapture()
        let options = AgentRuntimeOptions.quietTests(console: watcher)
        // Both simulated brokers keep their books in EUR; the drop copy also carries EUR/USD quotes.
        let settings = brokerEquitySettings(accountEquity: "BOB:40000")
            .replacingOccurrences(of: "PriceTickMs=0\n", with: "PriceTickMs=0\nCurrency=EUR\n")
            .replacingOccurrences(of: "DropCopyFor=ALICE\n", with: "DropCopyFor=ALICE\nMarketData=Y\n")
        #expect(settings.contains("Currency=EUR") && settings.contains("MarketData=Y"))
        try await withRuntime(settings, folder: folder, options: options) { runtime in
            // 40 000 EUR at the EUR/USD mid of 1.1001.
            try await runtime.waitUntil("bob's equity in USD", timeout: .seconds(60)) {
                $0.allLive(twoBrokerSessions) && $0.brokerEquity["bob"] == 44004
            }
            let sim = try #require(runtime.simulator)
            try await sim.providerTrades("P1", "EUR/USD", .buy, 100000)
            try await runtime.waitUntil("bob's copy", timeout: .seconds(60)) {
                $0.liveOrders == 0 && $0.followerPositions["bob"]?["EUR/USD"] != nil
            }
            // Sized with the converted equity: 100 000 × 44 004 / 100 000.
            #expect(try await runtime.progress().followerPositions["bob"]?["EUR/USD"] == 44004)
        }
        #expect(
            watcher.lines.contains {
                $0.hasSuffix("EQUITY bob 44004 USD (40000 EUR reported) (account BOB on prov-orders)")
            },
            "\(watcher.lines.filter { $0.contains("EQUITY") })")
        #expect(!watcher.lines.contains { $0.contains("EQUITY bob 40000") })
    }

    @Test("a broker that never answers: one warning after EquityInquiryTimeoutMs, and the follower skips")
    func noAnswer() async throws {
        var settings = brokerEquitySettings(accountEquity: "BOB:40000")
        settings = settings.replacingOccurrences(
            of: "PriceTickMs=0\n", with: "PriceTickMs=0\nAnswerCollateralInquiries=N\n")
        settings = settings.replacingOccurrences(
            of: "[SESSION]\nSessionName=prov-orders\n",
            with: "[SESSION]\nSessionName=prov-orders\nEquityInquiryTimeoutMs=300\n")
        #expect(settings.contains("AnswerCollateralInquiries=N") && settings.contains("EquityInquiryTimeoutMs=300"))
        let (warning, lines) = try await copyWithoutBobsEquity(settings, folder: try TestFolder())
        #expect(warning.contains("the broker did not answer the CollateralInquiry"))
        #expect(warning.contains("within 300 ms (EquityInquiryTimeoutMs)"))
        #expect(!lines.contains { $0.contains("EQUITY bob") })
    }

    @Test("a broker that does not know the account: one warning, and the follower skips with equity-unknown")
    func unknownAccount() async throws {
        let folder = try TestFolder()
        let (warning, _) = try await copyWithoutBobsEquity(brokerEquitySettings(accountEquity: nil), folder: folder)
        #expect(warning.contains("the broker refused the CollateralInquiry: Unknown account BOB"))
        let scan = try JournalReader.read(path: folder.path + "/data/journal.cbj")
        #expect(equityCommands(scan).isEmpty)
        let skips = scan.auditRecords.compactMap { r -> CopyDecision? in
            if case .decision(let d, _) = r, d.reason == .equityUnknown { d } else { nil }
        }
        #expect(skips.map(\.followerID) == ["bob"])
        #expect(
            scan.auditRecords.contains {
                if case .note(let t, _) = $0 { t.hasPrefix("no equity for account BOB") } else { false }
            })
    }

    /// Runs the agent on `settings`, in which bob's broker gives no equity for BOB: waits for the
    /// warning, has the provider buy, and checks that carl and lena are copied, bob skips with
    /// equity-unknown and that warning is the only one. Returns the warning and the console lines.
    private func copyWithoutBobsEquity(_ settings: String, folder: TestFolder) async throws -> (String, [String]) {
        let watcher = ConsoleCapture()
        let options = AgentRuntimeOptions.quietTests(console: watcher)
        var warning = ""
        try await withRuntime(settings, folder: folder, options: options) { runtime in
            warning = try await watcher.line(containing: "WARNING no equity for account BOB")
            #expect(warning.contains("on session prov-orders"))
            #expect(warning.contains("bob (Equity=broker) skip every increase with equity-unknown"))
            try await runtime.waitUntil("every session live", timeout: .seconds(60)) {
                $0.allLive(twoBrokerSessions)
            }
            let sim = try #require(runtime.simulator)
            try await sim.providerTrades("P1", "EUR/USD", .buy, 100000)
            try await runtime.waitUntil("carl's and lena's copies", timeout: .seconds(60)) {
                $0.filledOrders == 2 && $0.liveOrders == 0
            }
            let progress = try await runtime.progress()
            #expect(progress.brokerEquity.isEmpty)
            #expect(progress.followerPositions["bob"] == nil)
            #expect(progress.followerPositions["carl"]?["EUR/USD"] == 30000)
            #expect(await sim.position(broker: "PROVBRK", account: "BOB", symbol: "EUR/USD") == 0)
        }
        let lines = watcher.lines
        #expect(
            lines.filter { $0.contains("WARNING") }.count == 1, "\(lines.filter { $0.contains("WARNING") })")
        #expect(lines.contains { $0.contains("SKIP bob EUR/USD equity-unknown") })
        return (warning, lines)
    }
}
