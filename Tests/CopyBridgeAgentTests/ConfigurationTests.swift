import CopyEngine
import FIXCore
import FIXSession
import Foundation
import Testing

@testable import CopyBridgeAgent

/// The repository's root, from this file's path.
let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().path

private func load(_ text: String, file: String = "test.conf") throws(SettingsError) -> CopyBridgeConfiguration {
    try CopyBridgeConfiguration.parse(
        text, file: file, baseDirectory: "/tmp", schema: CopyBridgeSchema.schema, fileExists: { _ in true })
}

/// The problems of `text`, as `file:line: message`.
private func problems(_ text: String) -> [String] {
    do {
        _ = try load(text)
        return []
    } catch {
        return error.errors.map(\.description)
    }
}

/// A minimal valid file: one simulated provider session and one follower session; `extra` is added
/// at the end (blocks) and `follower` inside the follower block.
private func settings(follower: String = "", session: String = "", extra: String = "") -> String {
    """
    [DEFAULT]
    BeginString=FIX.4.4
    ConnectionType=initiator
    HeartBtInt=30
    SocketConnectHost=127.0.0.1
    SocketConnectPort=0
    Simulator=Y

    [SESSION]
    SessionName=drop
    SenderCompID=A
    TargetCompID=BRK
    DropCopyFor=ALICE

    [SESSION]
    SessionName=orders
    SenderCompID=B
    TargetCompID=BRK
    \(session)

    [PROVIDER]
    ProviderID=alice
    SessionName=drop
    Account=ALICE

    [FOLLOWER]
    FollowerID=bob
    Provider=alice
    SessionName=orders
    Account=BOB
    \(follower)
    \(extra)
    """
}

/// The 1-based line of the first line of `text` containing `needle`.
private func line(of needle: String, in text: String) -> Int {
    text.split(separator: "\n", omittingEmptySubsequences: false).firstIndex { $0.contains(needle) }! + 1
}

@Suite("Configuration")
struct ConfigurationTests {
    @Test("the composed schema registers every module's blocks and the copy engine's whole key table")
    func composition() {
        let schema = CopyBridgeSchema.schema
        for kind: SettingsBlockKind in [.default, .session, .provider, .follower, .simulator, .admin, .agent] {
            #expect(schema.spec(for: kind) != nil, "\(kind)")
        }
        for key in CopyConfigSchema.keys {
            let kind = CopyBridgeSchema.kind(key.block)
            #expect(schema.keys(allowedIn: kind).contains { $0.name == key.name }, "\(key.name) in \(kind)")
        }
        // A session's TickSize is the copy engine's price step; the simulator's grid stays in [SIMULATOR].
        let sessionTick = schema.keys(allowedIn: .session).filter { $0.name == "TickSize" }
        #expect(sessionTick.count == 1)
        if case .decimal = sessionTick.first?.type {} else { Issue.record("TickSize in [SESSION] is not a decimal") }
        #expect(schema.keys(allowedIn: .simulator).contains { $0.name == "TickSize" })
        for key in ["DataFolder", "JournalSync", "TickIntervalMs"] {
            #expect(schema.keys(allowedIn: .agent).contains { $0.name == key })
        }
        #expect(schema.keys(allowedIn: .admin).contains { $0.name == "HttpPort" })
        #expect(schema.keys(allowedIn: .session).contains { $0.name == "MarketData" })
    }

    @Test("a valid file builds the engine's provider, follower and session configurations")
    func builds() throws {
        let text = settings(
            follower: "Sizing=fixed-qty\nFixedQty=2\nLotSize=0.01\nAllowSymbols=EUR/USD,XAU*\nTradingHours=07:00-21:00",
            // A real broker: in a Simulator=Y session the simulator would read TickSize as its own.
            session:
                "Simulator=N\nSocketConnectPort=9000\nQtyUnit=lots\nSymbolMap=EUR/USD:EURUSD.m\nOrdType=limit\n"
                + "TickSize=0.0001\nRetryLimit=5",
            extra: "[AGENT]\nDataFolder=run-data\nJournalSync=batch")
        let configuration = try AgentConfiguration(try load(text))
        #expect(
            configuration.engine.providers == [
                ProviderConfig(providerID: "alice", sessionName: "drop", account: "ALICE")
            ])
        let bob = try #require(configuration.engine.followers.first)
        #expect(bob.sizing == .fixedQty && bob.fixedQty == FixedDecimal("2") && bob.lotSize == FixedDecimal("0.01"))
        #expect(bob.allowSymbols == ["EUR/USD", "XAU*"])
        #expect(bob.tradingHours.windows == [TradingHours.Window(start: 420, end: 1260)])
        let orders = try #require(configuration.engine.sessions.first { $0.name == "orders" })
        #expect(orders.qtyUnit == .lots && orders.ordType == .limit && orders.retryLimit == 5)
        #expect(orders.tickSize == FixedDecimal("0.0001"))
        #expect(orders.symbolMap.brokerSymbol(for: "EUR/USD") == "EURUSD.m")
        #expect(configuration.agent.dataFolder == "/tmp/run-data")
        #expect(configuration.agent.journalSync == .batch)
        #expect(configuration.sessions.map(\.settings.fileStorePath) == ["/tmp/run-data/store", "/tmp/run-data/store"])
        #expect(configuration.sessions.map(\.simulated) == [true, false])
        #expect(configuration.admin == nil)
        // Another data folder for the same file moves everything the file does not name.
        let elsewhere = try AgentConfiguration(try load(text), dataFolder: "/var/tmp/other")
        #expect(elsewhere.agent.journalPath == "/var/tmp/other/journal.cbj")
        #expect(elsewhere.sessions[0].settings.fileStorePath == "/var/tmp/other/store")
    }

    @Test("value errors are reported at the line of the key, with the engine's reason")
    func valueErrors() {
        let cases: [(follower: String, session: String, needle: String, message: String)] = [
            ("Sizing=equity-ratios", "", "Sizing=equity-ratios", "bad value 'equity-ratios' for 'Sizing'"),
            ("RiskPercnt=2", "", "RiskPercnt", "unknown key 'RiskPercnt' in [FOLLOWER] (did you mean 'RiskPercent'?)"),
            ("TradingHours=25:00-26:00", "", "TradingHours", "TradingHours: '25:00-26:00' is not HH:MM-HH:MM"),
            // A key that is not written is reported at its block.
            ("Sizing=fixed-qty", "", "FollowerID=bob", "FixedQty: fixed-qty sizing needs FixedQty > 0"),
            ("LotSize=0", "", "LotSize=0", "LotSize: must be > 0"),
            ("", "SymbolMap=EUR/USD", "SymbolMap", "SymbolMap: 'EUR/USD' is not name:value"),
            ("", "QtyUnit=lots\nContractSize=0", "ContractSize=0", "ContractSize: must be > 0"),
            ("", "RetryLimit=-1", "RetryLimit", "bad value '-1' for 'RetryLimit'"),
            // Risk: limits, loss protection, broker breakers.
            ("ExceedPolicy=drop", "", "ExceedPolicy", "bad value 'drop' for 'ExceedPolicy'"),
            ("DailyLossLimit=120%", "", "DailyLossLimit", "expected a positive amount (500) or a percentage"),
            ("DailyLossLimit=-5", "", "DailyLossLimit", "bad value '-5' for 'DailyLossLimit'"),
            ("DailyLossAction=panic", "", "DailyLossAction", "expected disable, close-only or close-all"),
            ("TradingDayReset=24:00", "", "TradingDayReset", "expected a UTC time HH:MM"),
            ("MaxLeverage=-2", "", "MaxLeverage", "MaxLeverage: must be ≥ 0"),
            ("", "RejectStormCount=many", "RejectStormCount", "bad value 'many' for 'RejectStormCount'"),
            ("", "BreakerResume=later", "BreakerResume", "bad value 'later' for 'BreakerResume'"),
        ]
        for c in cases {
            let text = settings(follower: c.follower, session: c.session)
            let found = problems(text)
            let expectedLine = line(of: c.needle, in: text) - (c.needle == "FollowerID=bob" ? 1 : 0)
            #expect(
                found.contains { $0.hasPrefix("test.conf:\(expectedLine): ") && $0.contains(c.message) },
                "\(c.needle): \(found)")
        }
    }

    @Test("references across blocks are checked at the line that makes them")
    func crossReferences() {
        var text = settings(follower: "", extra: "")
        text = text.replacingOccurrences(of: "Provider=alice", with: "Provider=alicia")
        #expect(
            problems(text) == [
                "test.conf:\(line(of: "Provider=alicia", in: text)): [FOLLOWER] 'bob' Provider: no provider named 'alicia'"
            ])

        text = settings().replacingOccurrences(
            of: "SessionName=orders\nAccount=BOB", with: "SessionName=order\nAccount=BOB")
        let found = problems(text)
        #expect(found.count == 1 && found[0].contains("no session named 'order'"), "\(found)")
        let referring = text.split(separator: "\n", omittingEmptySubsequences: false).firstIndex {
            $0 == "SessionName=order"
        }!
        #expect(found.first?.hasPrefix("test.conf:\(referring + 1):") == true, "\(found)")

        let twice = settings(extra: "[FOLLOWER]\nFollowerID=bob\nProvider=alice\nSessionName=orders\nAccount=BOB2")
        #expect(problems(twice).contains { $0.contains("'bob' FollowerID: duplicate follower") })
    }

    @Test("SocketConnectPort=0 needs a simulated broker; MarketData=Y needs symbols where none is simulated")
    func agentRules() {
        let real = settings(session: "Simulator=N")
        let errors = problems(real)
        #expect(
            errors.contains { $0.contains("SocketConnectPort=0 needs Simulator=Y") && $0.contains("session orders") })

        let failover = settings(session: "SocketConnectHost1=10.0.0.1\nSocketConnectPort1=0")
        #expect(
            problems(failover).contains { $0.contains("SocketConnectPort1=0: a failover address needs a real port") })

        let marketData = settings(session: "Simulator=N\nSocketConnectPort=9000\nMarketData=Y")
        let found = problems(marketData)
        #expect(
            found.contains {
                $0.hasPrefix("test.conf:\(line(of: "MarketData=Y", in: marketData)):")
                    && $0.contains("MarketDataSymbols")
            })
        let withSymbols = settings(
            session: "Simulator=N\nSocketConnectPort=9000\nMarketData=Y\nMarketDataSymbols=EURUSD,GOLD")
        #expect(problems(withSymbols).isEmpty)
        #expect(problems(settings(session: "MarketData=Y")).isEmpty, "a simulated broker's symbols are the default")
    }

    @Test("agent and admin blocks are checked like the others")
    func agentBlock() {
        let text = settings(
            extra:
                "[AGENT]\nJournalSync=sometimes\nTickIntervalMs=0\nCPUIdleLatencyUs=-1\nLoopRealtimePriority=100\n"
                + "[AGENT]\nDataFolder=x")
        let found = problems(text)
        #expect(
            found.contains {
                $0.contains("bad value 'sometimes' for 'JournalSync'") && $0.contains("always, batch or never")
            })
        #expect(found.contains { $0.contains("'TickIntervalMs'") })
        #expect(found.contains { $0.contains("'CPUIdleLatencyUs'") })
        #expect(found.contains { $0.contains("'LoopRealtimePriority'") && $0.contains("an integer from 1 to 99") })
        #expect(found.contains { $0.contains("[AGENT] may appear once") })
        let exposed = settings(extra: "[ADMIN]\nHttpBindHost=0.0.0.0")
        #expect(problems(exposed).contains { $0.contains("is not a loopback address") })
    }

    @Test("the repository's sessions.conf passes check-config: simulated brokers, a provider bot, six followers")
    func repositorySessionsConf() throws {
        let path = repositoryRoot + "/sessions.conf"
        let result = ConfigurationCheck.run(path: path, schema: CopyBridgeSchema.schema)
        #expect(result.isValid, "\(result.diagnostics)")
        #expect(result.diagnostics.isEmpty, "no warnings either: \(result.diagnostics)")
        let configuration = try AgentConfiguration.load(path: path)
        #expect(configuration.sessions.allSatisfy { $0.simulated })
        #expect(configuration.engine.followers.count >= 5)
        let sizings = Set(configuration.engine.followers.map(\.sizing))
        #expect(sizings == Set(SizingMode.allCases))
        let brokers = Set(configuration.sessions.map(\.settings.id.targetCompID))
        #expect(brokers.count >= 2)
        #expect(configuration.engine.sessions.contains { $0.qtyUnit == .lots && !$0.symbolMap.explicit.isEmpty })
        #expect(configuration.agent.dataFolder == repositoryRoot + "/data")
        // Followers with different risk settings, a provider watched for suspicious activity, a broker breaker.
        let followers = configuration.engine.followers
        #expect(Set(followers.map(\.exceedPolicy)).count == 2)
        #expect(Set(followers.compactMap { $0.loss.dailyLoss?.description }).count >= 2)
        #expect(Set(followers.map(\.dailyLossAction)).count >= 2)
        #expect(followers.contains { !$0.maxLeverage.isZero } && followers.contains { $0.maxOpenPositions > 0 })
        #expect(configuration.engine.providers.contains { !$0.expectedSymbols.isEmpty })
        #expect(configuration.engine.sessions.contains { $0.rejectStormCount > 0 && $0.sessionDownBreaker })
        let plans = try EmbeddedSimulators.plans(for: configuration)
        #expect(plans.count == 2)
        #expect(plans.contains { !$0.configuration.bots.isEmpty })
    }
}
