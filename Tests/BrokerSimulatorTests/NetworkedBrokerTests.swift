import FIXCore
import FIXSession
import FIXTransport
import Foundation
import TestSupport
import Testing

@testable import BrokerSimulator

/// The simulator on the wire: client sessions (FIXEngine initiators) against a
/// BrokerSimulatorServer over loopback, port 0.
@Suite struct NetworkedBrokerTests {
    /// A server for settings text, with memory stores.
    func server(
        _ text: String, in directory: URL? = nil, time: SimServerOptions.Time = .wallClock, bookPath: String? = nil
    ) throws -> BrokerSimulatorServer {
        try BrokerSimulatorServer.serving(
            try parseSettings(text, in: directory),
            options: SimServerOptions(storage: .memory, time: time, bookPath: bookPath))
    }

    @Test func ordersAreAcknowledgedFilledInSlicesAndRejected() async throws {
        let text =
            """
            [SIMULATOR]
            Symbols=EUR/USD:1.0850
            PriceTickMs=0
            IDPrefix=T
            FillLatencyMs=1-5
            PartialFills=3
            MaxOrderQty=500000

            """ + acceptorBlock("SIM", "CLIENT")
        try await withLoopback(try server(text), broker: "SIM", senders: ["CLIENT"]) { net in
            let client = net.watcher("CLIENT")
            try await net.send("CLIENT", order("ORD-1", qty: "90000"))
            let reports = try await client.waitForMessages("reports of ORD-1 until filled") {
                $0[FIXTag.clOrdID] == "ORD-1" && $0[FIXTag.ordStatus] == "2"
            }
            #expect(reports.count == 1)
            let all = client.messages.filter { $0[FIXTag.clOrdID] == "ORD-1" }
            #expect(all.map { $0[FIXTag.execType] ?? "?" } == ["0", "F", "F", "F"])
            #expect(all.map { $0[FIXTag.ordStatus] ?? "?" } == ["0", "1", "1", "2"])
            #expect(all.dropFirst().map { $0[FIXTag.lastQty] } == ["30000", "30000", "30000"])
            #expect(all.last?[FIXTag.cumQty] == "90000")
            #expect(all.allSatisfy { $0[FIXTag.senderCompID] == "SIM" && $0[FIXTag.targetCompID] == "CLIENT" })
            #expect(all.first?[FIXTag.orderID] == "T-1")

            try await net.send("CLIENT", order("ORD-2", qty: "600000"))
            let rejected = try await client.waitForMessages("the reject of ORD-2") {
                $0[FIXTag.clOrdID] == "ORD-2" && $0[FIXTag.execType] == "8"
            }
            #expect(rejected.first?[FIXTag.ordRejReason] == "3")
            #expect(rejected.first?[FIXTag.ordStatus] == "8")

            try await net.send("CLIENT", order("ORD-3", symbol: "NOPE/USD"))
            let unknown = try await client.waitForMessages("the reject of ORD-3") { $0[FIXTag.clOrdID] == "ORD-3" }
            #expect(unknown.first?[FIXTag.ordRejReason] == "1")

            let position = await net.server.inspect("SIM") {
                $0.position(account: "CLIENT", symbol: "EUR/USD").quantity
            }
            #expect(position == FixedDecimal(90000))
        }
    }

    @Test func dropCopyReachesTheSecondSessionOnTheSamePort() async throws {
        let text =
            """
            [SIMULATOR]
            Symbols=EUR/USD:1.0850
            PriceTickMs=0

            """ + acceptorBlock("SIM", "CLIENT") + acceptorBlock("SIM", "DROP", "DropCopyFor=CLIENT")
        let server = try server(text)
        #expect(server.plans.count == 1)
        try await withLoopback(server, broker: "SIM", senders: ["CLIENT", "DROP"]) { net in
            try await net.send("CLIENT", order("ORD-1", side: "2", qty: "25000"))
            let own = try await net.watcher("CLIENT").waitForMessages("the fill") { $0[FIXTag.execType] == "F" }
            let copies = try await net.watcher("DROP").waitForMessages("the drop copy of the fill") {
                $0[FIXTag.execType] == "F"
            }
            #expect(copies.first?[FIXTag.execID] == own.first?[FIXTag.execID])
            #expect(copies.first?[797] == "Y")
            #expect(copies.first?[FIXTag.account] == "CLIENT")
            #expect(copies.first?[FIXTag.targetCompID] == "DROP")
            #expect(own.first?[797] == nil)
        }
    }

    @Test("a session not logged on is owed its messages, the newest OutboxLimit of them, in order")
    func offlineSessionIsOwedTheNewestMessages() async throws {
        let text =
            """
            [SIMULATOR]
            Symbols=EUR/USD:1.0850
            PriceTickMs=0

            """ + acceptorBlock("SIM", "CLIENT") + acceptorBlock("SIM", "DROP", "DropCopyFor=CLIENT")
        var options = SimServerOptions(storage: .memory)
        options.outboxLimit = 3
        let server = try BrokerSimulatorServer.serving(try parseSettings(text), options: options)
        try await withLoopback(server, broker: "SIM", senders: ["CLIENT"]) { net in
            for k in 1...4 { try await net.send("CLIENT", order("ORD-\(k)", qty: "10000")) }
            let own = try await net.watcher("CLIENT").waitForMessages("the four fills", count: 4) {
                $0[FIXTag.execType] == "F"
            }
            #expect(own.count == 4)
            // Each order's acknowledgement and fill are copied to DROP, which is not logged on: eight
            // messages, of which it is owed the last three.
            let late = try await connect(net.server, broker: "SIM", senders: ["DROP"], startingServer: false)
            do {
                let owed = try await late.watcher("DROP").waitForMessages("the owed drop copies", count: 3) {
                    isExecutionReport($0)
                }
                #expect(owed.map { $0[FIXTag.clOrdID] ?? "?" } == ["ORD-3", "ORD-4", "ORD-4"])
                #expect(owed.map { $0[FIXTag.execType] ?? "?" } == ["F", "0", "F"])
                try await Task.sleep(for: .milliseconds(100))
                #expect(late.watcher("DROP").messages.filter(isExecutionReport).count == 3, "nothing older follows")
            } catch {
                await late.client.stop()
                throw error
            }
            await late.client.stop()
        }
    }

    @Test func botTradesReachTheDropCopySession() async throws {
        let directory = try makeTemporaryDirectory("simbot")
        defer { try? FileManager.default.removeItem(at: directory) }
        try """
        offset_ms,symbol,side,quantity,type
        0,EUR/USD,BUY,100000,MARKET
        20,EUR/USD,SELL,40000,MARKET
        """.write(to: directory.appendingPathComponent("alice.csv"), atomically: true, encoding: .utf8)
        let text =
            """
            [SIMULATOR]
            Symbols=EUR/USD:1.0850
            PriceTickMs=0
            ProviderBot=ALICE
            BotScript=alice.csv

            """ + acceptorBlock("PROV", "BRIDGE", "DropCopyFor=ALICE")
        try await withLoopback(try server(text, in: directory), broker: "PROV", senders: ["BRIDGE"]) { net in
            let fills = try await net.watcher("BRIDGE").waitForMessages("the bot's two fills", count: 2) {
                $0[FIXTag.execType] == "F"
            }
            #expect(fills.map { $0[FIXTag.account] } == ["ALICE", "ALICE"])
            #expect(fills.map { $0[FIXTag.side] } == ["1", "2"])
            #expect(fills.map { $0[FIXTag.lastQty] } == ["100000", "40000"])
            #expect(fills.allSatisfy { $0[797] == "Y" })
            let position = await net.server.inspect("PROV") {
                $0.position(account: "ALICE", symbol: "EUR/USD").quantity
            }
            #expect(position == FixedDecimal(60000))
        }
    }

    @Test func marketDataSnapshotThenIncrementsOnQuoteChanges() async throws {
        let text =
            """
            [SIMULATOR]
            Symbols=EUR/USD:1.0850,USD/JPY:151.20
            PriceTickMs=0

            """ + acceptorBlock("SIM", "CLIENT")
        let server = try server(text, time: .manual(start: t0))
        try await withLoopback(server, broker: "SIM", senders: ["CLIENT"]) { net in
            var request = FIXMessageBuilder(msgType: "V")
            request.set(262, "MD-1")
            request.set(263, "1")
            request.set(264, 1)
            request.set(265, 1)
            request.group(267, count: 2) { g in
                g.set(269, "0")
                g.set(269, "1")
            }
            request.group(146, count: 1) { g in g.set(FIXTag.symbol, "EUR/USD") }
            try await net.send("CLIENT", request)
            let snapshot = try await net.watcher("CLIENT").waitForMessages("the snapshot") { $0.msgType == "W" }
            #expect(snapshot.first?[262] == "MD-1")
            #expect(snapshot.first?.values(of: 270) == ["1.0850", "1.0852"])

            try await net.server.act(on: "SIM") { broker, now in
                (try broker.setQuote("EUR/USD", bid: dec("1.0861"), ask: dec("1.0863"), at: now), ())
            }
            let increments = try await net.watcher("CLIENT").waitForMessages("an increment") { $0.msgType == "X" }
            #expect(increments.first?.values(of: 270) == ["1.0861", "1.0863"])
            #expect(increments.first?.values(of: FIXTag.symbol) == ["EUR/USD", "EUR/USD"])
        }
    }

    @Test func positionReportsAfterAReconnection() async throws {
        let text =
            """
            [SIMULATOR]
            Symbols=EUR/USD:1.0850
            PriceTickMs=0

            """ + acceptorBlock("SIM", "CLIENT")
        try await withLoopback(try server(text), broker: "SIM", senders: ["CLIENT"]) { net in
            let client = net.watcher("CLIENT")
            try await net.send("CLIENT", order("B-1", qty: "100000"))
            try await net.send("CLIENT", order("S-1", side: "2", qty: "30000"))
            try await client.waitForMessages("both fills", count: 2) { $0[FIXTag.execType] == "F" }

            await client.handle.logout()
            try await client.waitForLogon(count: 2)

            var request = FIXMessageBuilder(msgType: "AN")
            request.set(710, "POS-1")
            request.set(724, 0)
            request.set(FIXTag.account, "CLIENT")
            request.set(581, 1)
            request.set(715, FIXDate(daysSinceEpoch: 20_514))
            request.set(FIXTag.transactTime, t0)
            try await net.send("CLIENT", request)
            let ack = try await client.waitForMessages("the positions ack") { $0.msgType == "AO" }
            #expect(ack.first?[728] == "0")
            #expect(ack.first?[727] == "1")
            let report = try await client.waitForMessages("the position report") { $0.msgType == "AP" }
            #expect(report.first?[FIXTag.symbol] == "EUR/USD")
            #expect(report.first?[704] == "70000")
            #expect(report.first?[705] == "0")
        }
    }

    @Test func echoModeThroughRealSessions() async throws {
        let text = acceptorBlock("ISLD", "TW", "Application=echo")
        try await withLoopback(try server(text), broker: "ISLD", senders: ["TW"]) { net in
            let client = net.watcher("TW")
            let sent = order("E-1", qty: "100", symbol: "TESTSYM", account: "ACC")
            try await net.send("TW", sent)
            let echoed = try await client.waitForMessages("the echo") { $0.msgType == "D" }
            #expect(echoed.first.map(body) == body(sent.build()))
            #expect(echoed.first?[FIXTag.senderCompID] == "ISLD")

            var status = FIXMessageBuilder(msgType: "H")
            status.set(FIXTag.clOrdID, "E-1")
            status.set(FIXTag.symbol, "TESTSYM")
            status.set(FIXTag.side, "1")
            try await net.send("TW", status)
            let reject = try await client.waitForMessages("the business reject") { $0.msgType == "j" }
            #expect(reject.first?[380] == "3")
            #expect(reject.first?[372] == "H")
        }
    }

    @Test func booksAreWrittenAtStop() async throws {
        let directory = try makeTemporaryDirectory("simbook")
        defer { try? FileManager.default.removeItem(at: directory) }
        let text =
            """
            [SIMULATOR]
            Symbols=EUR/USD:1.0850
            PriceTickMs=0
            BookFile=books/sim.json

            """ + acceptorBlock("SIM", "CLIENT")
        let all = directory.appendingPathComponent("all.json").path
        let server = try server(text, in: directory, bookPath: all)
        let net = try await connect(server, broker: "SIM", senders: ["CLIENT"])
        do {
            try await net.send("CLIENT", order("ORD-1", qty: "50000"))
            try await net.watcher("CLIENT").waitForMessages("the fill") { $0[FIXTag.execType] == "F" }
        } catch {
            await net.close()
            throw error
        }
        await net.client.stop()
        await net.server.stop()

        let bookData = try Data(contentsOf: directory.appendingPathComponent("books/sim.json"))
        let book = try JSONDecoder().decode(SimBook.self, from: bookData)
        let account = try #require(book.accounts.first { $0.account == "CLIENT" })
        #expect(account.orders.map(\.clOrdID) == ["ORD-1"])
        #expect(account.orders.first?.ordStatus == "2")
        #expect(account.fills.map(\.quantity) == [FixedDecimal(50000)])
        #expect(account.positions.first?.quantity == FixedDecimal(50000))

        let everything = try JSONDecoder().decode(SimServerBook.self, from: Data(contentsOf: URL(fileURLWithPath: all)))
        #expect(everything.brokers.map(\.name) == ["SIM"])
        #expect(everything.brokers.first?.sessions == ["SIM->CLIENT"])
        #expect(everything.brokers.first?.port != nil)
        #expect(everything.brokers.first?.book == book)
    }

    /// Runs the same orders against a fresh server with manual time; returns every
    /// ExecutionReport body the client received, in order.
    func executionReportBodies(seed: Int) async throws -> [String] {
        let text =
            """
            [SIMULATOR]
            Symbols=EUR/USD:1.0850,USD/JPY:151.20
            RandomSeed=\(seed)
            PriceTickMs=100
            FillLatencyMs=10-80
            PartialFills=3
            PartialFillProbability=0.6
            RejectProbability=0.25

            """ + acceptorBlock("SIM", "CLIENT")
        let server = try server(text, time: .manual(start: t0))
        var bodies: [String] = []
        try await withLoopback(server, broker: "SIM", senders: ["CLIENT"]) { net in
            let client = net.watcher("CLIENT")
            for i in 1...8 {
                let symbol = i % 2 == 0 ? "USD/JPY" : "EUR/USD"
                try await net.send(
                    "CLIENT", order("D-\(i)", side: i % 3 == 0 ? "2" : "1", qty: "\(i * 10000)", symbol: symbol))
                // Each order is answered (acknowledged or rejected) before the next is sent, so the
                // broker sees them in the same order at the same simulated instant.
                try await client.waitForMessages("the answer to D-\(i)") { $0[FIXTag.clOrdID] == "D-\(i)" }
            }
            try await net.server.advance(to: at(5_000))
            try await client.waitForMessages("every order done", count: 8) {
                ["2", "8"].contains($0[FIXTag.ordStatus] ?? "")
            }
            bodies = client.messages.filter(isExecutionReport).map(body)
        }
        return bodies
    }

    @Test func sameSeedSameExecutionReportsOverTheWire() async throws {
        let first = try await executionReportBodies(seed: 21)
        let second = try await executionReportBodies(seed: 21)
        #expect(first == second)
        // The run exercises what randomness decides: slices, rejects and prices that moved.
        #expect(first.contains { $0.contains("|39=1|") })
        #expect(first.contains { $0.contains("|150=8|") })
        let other = try await executionReportBodies(seed: 22)
        #expect(other != first)
    }

    @Test func mirroredBrokerStandsInForAnInitiatorSession() async throws {
        let directory = try makeTemporaryDirectory("simmirror")
        defer { try? FileManager.default.removeItem(at: directory) }
        let port = try freeTCPPort()
        let text = """
            [SESSION]
            BeginString=FIX.4.4
            SenderCompID=BRIDGE
            TargetCompID=FOLBRK
            ConnectionType=initiator
            SocketConnectHost=127.0.0.1
            SocketConnectPort=\(port)
            HeartBtInt=30
            ReconnectInterval=1
            FileStorePath=store
            FileStoreSync=never
            Simulator=Y
            Symbols=EUR/USD:1.0850
            PriceTickMs=0
            Account=BOB
            BookFile=folbrk.json

            """
        let configuration = try parseSettings(text, in: directory)
        let server = try #require(try await BrokerSimulatorServer.startMirrors(for: configuration))
        #expect(server.port(of: "FOLBRK") == port)
        // The agent's own session, as `copybridge run` builds it from the same block.
        let agent = try FIXEngine(
            sessions: [FIXSessionSettings(settings: configuration.sessions[0])],
            storeFactory: { _ in MemoryStore() })
        let watcher = ClientWatcher(agent.sessions[0])
        try await agent.start()
        do {
            try await watcher.waitForLogon()
            try await agent.sessions[0].send(order("C-1", qty: "20000"))
            let fill = try await watcher.waitForMessages("the fill") { $0[FIXTag.execType] == "F" }
            #expect(fill.first?[FIXTag.account] == "BOB")
            #expect(fill.first?[FIXTag.senderCompID] == "FOLBRK")
        } catch {
            await agent.stop()
            await server.stop()
            throw error
        }
        await agent.stop()
        await server.stop()
        // The mirror kept its session state where the settings put the agent's store.
        #expect(FileManager.default.fileExists(atPath: directory.appendingPathComponent("store").path))
        let book = try JSONDecoder().decode(
            SimBook.self, from: Data(contentsOf: directory.appendingPathComponent("folbrk.json")))
        #expect(book.accounts.map(\.account) == ["BOB"])
    }
}
