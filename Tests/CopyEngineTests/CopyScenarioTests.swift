import FIXCore
import Testing

@testable import CopyEngine

@Suite("Copying provider fills")
struct CopyScenarioTests {
    /// Bob: equity 10 000 against her 100 000, lot 1 000.
    static func bob(_ adjust: (inout FollowerConfig) -> Void = { _ in }) -> FollowerConfig {
        follower("bob", account: "BOB-07", equity: 10_000) { f in
            f.lotSize = 1000
            adjust(&f)
        }
    }

    @Test func equityRatioCopyIsOneNewOrderSingleWithTheFieldsBrokersNeed() throws {
        var w = try World(setup(followers: [Self.bob()]))
        w.allSessionsUp()
        w.providerFill(side: "1", qty: "100000")
        let orders = w.orders(on: "beta")
        try #require(orders.count == 1)
        let nos = orders[0]
        #expect(nos[11]!.utf8.count == 15)
        #expect(nos[1] == "BOB-07")
        #expect(nos[55] == "EUR/USD")
        #expect(nos[54] == "1")
        #expect(nos[38] == "10000")
        #expect(nos[40] == "1")
        #expect(nos[59] == "3")
        #expect(nos[60] != nil)
        for header in [34, 49, 52, 56] { #expect(nos[header] == nil) }
        #expect(w.position("bob") == 10_000)
        #expect(w.view("bob")?.working == 0)
        #expect(w.fills.map(\.quantity) == [10_000])
    }

    @Test func journalRecordOfAnOrderComesBeforeItsSendAndDescribesIt() throws {
        var w = try World(setup(followers: [Self.bob()]))
        w.allSessionsUp()
        let p = w.configuration.providers[0]
        let m = Reports.executionReport(
            execID: "X1", account: p.account, symbol: "EUR/USD", side: "1", lastQty: 100_000, lastPx: dec("1.1"),
            cumQty: nil,
            ordStatus: "2", execType: "F", clOrdID: "h1", transactTime: w.now)
        let actions = w.engine.handle(.executionReport(session: "alpha", message: m, receivedAt: w.advance()))
        var journaledOrders: [String: OrderIntent] = [:]
        var firstIsEventRecord = false
        if case .journal(.message) = actions.first { firstIsEventRecord = true }
        #expect(firstIsEventRecord)
        for action in actions {
            switch action {
            case .journal(.order(let intent)): journaledOrders[intent.clOrdID] = intent
            case .send(_, let b):
                let intent = try #require(journaledOrders[b[11]!])
                // The journaled intent alone rebuilds the very same message.
                #expect(b.encoded() == CopyEngine.newOrderSingle(intent).encoded())
            default: break
            }
        }
        #expect(journaledOrders.count == 1)
    }

    @Test("every order of one fill, over two sessions and both sides, is the message its journaled intent describes")
    func everyOrderOfAFillIsTheMessageOfItsIntent() throws {
        var gamma = BrokerSessionConfig(name: "gamma")
        gamma.qtyUnit = .lots
        gamma.symbolMap = SymbolMapping(suffix: ".m", removeSlash: true)
        gamma.timeInForce = .day
        let followers = [
            Self.bob(), follower("carl", equity: 20_000) { $0.lotSize = 1000 },
            follower("dave", equity: 30_000) { $0.lotSize = 1000 },
            follower("erin", session: "gamma", equity: 40_000) { $0.lotSize = FixedDecimal(mantissa: 1, scale: 2) },
            follower("fred", session: "gamma", equity: 50_000) {
                $0.lotSize = FixedDecimal(mantissa: 1, scale: 2)
                $0.reverse = true
            },
        ]
        var w = try World(
            setup(
                followers: followers,
                sessions: [BrokerSessionConfig(name: "alpha"), BrokerSessionConfig(name: "beta"), gamma]))
        w.allSessionsUp()
        let p = w.configuration.providers[0]
        let m = Reports.executionReport(
            execID: "X1", account: p.account, symbol: "EUR/USD", side: "1", lastQty: 100_000, lastPx: dec("1.1"),
            cumQty: nil, ordStatus: "2", execType: "F", clOrdID: "h1", transactTime: w.now)
        var intents: [String: OrderIntent] = [:]
        var sent: [(String, FIXMessageBuilder)] = []
        for action in w.engine.handle(.executionReport(session: "alpha", message: m, receivedAt: w.advance())) {
            switch action {
            case .journal(.order(let intent)): intents[intent.clOrdID] = intent
            case .send(let session, let b): sent.append((session, b))
            default: break
            }
        }
        #expect(sent.count == 5)
        for (session, b) in sent {
            let intent = try #require(intents[b[11]!])
            #expect(session == intent.session)
            #expect(b.encoded() == CopyEngine.newOrderSingle(intent).encoded(), "\(intent)")
        }
        let gammaSides = sent.filter { $0.0 == "gamma" }.compactMap { $0.1[54] }
        #expect(gammaSides.sorted() == ["1", "2"], "fred copies in reverse")
        #expect(sent.allSatisfy { $0.0 != "gamma" || $0.1[55] == "EURUSD.m" })
    }

    /// Followers spread over sessions: an event's orders come grouped by session, each session's
    /// in the order of the followers, and journaled in the order they are sent.
    @Test func anEventsOrdersComeGroupedBySession() throws {
        let names = ["f0", "f1", "f2", "f3", "f4", "f5"]
        var w = try World(
            setup(
                followers: names.enumerated().map { k, id in
                    follower(id, session: k % 2 == 0 ? "beta" : "gamma", equity: 100_000)
                },
                sessions: [
                    BrokerSessionConfig(name: "alpha"), BrokerSessionConfig(name: "beta"),
                    BrokerSessionConfig(name: "gamma"),
                ]))
        w.allSessionsUp()
        w.providerFill(side: "1", qty: "100000", pumpAfter: false)
        #expect(w.broker.newOrders.map(\.session) == ["beta", "beta", "beta", "gamma", "gamma", "gamma"])
        #expect(w.broker.newOrders.map { $0.message[1]! } == ["F0", "F2", "F4", "F1", "F3", "F5"])
        let journaled = w.journal.compactMap { record -> String? in
            if case .order(let intent) = record { return intent.clOrdID }
            return nil
        }
        #expect(journaled == w.sentClOrdIDs)
    }

    @Test func providerPartialFillsBecomeProportionalIncrementsAndRemaindersAccumulate() throws {
        var w = try World(setup(followers: [Self.bob { $0.lotSize = 5000 }]))
        w.allSessionsUp()
        w.providerFill(side: "1", qty: "30000")  // 3 000 sized: below a lot
        #expect(w.orders(on: "beta").isEmpty)
        #expect(w.reasons("bob") == [.belowLot])
        w.providerFill(side: "1", qty: "30000")  // 6 000 sized: one lot
        w.providerFill(side: "1", qty: "40000")  // 10 000 sized: two lots
        #expect(w.orders(on: "beta").map(\.decimalQty) == [5000, 5000])
        #expect(w.position("bob") == 10_000)
    }

    @Test func followerPartialFillThenIOCRemainderIsReplanned() throws {
        var w = try World(setup(followers: [Self.bob()]))
        w.broker.policy = { _, n in n == 0 ? [.ack, .fill(4000), .cancelRest] : [.ack, .fill(nil)] }
        w.allSessionsUp()
        w.providerFill(side: "1", qty: "100000")
        #expect(w.orders(on: "beta").map(\.decimalQty) == [10_000, 6_000])
        #expect(w.reasons("bob").contains(.remainderReplanned))
        #expect(w.position("bob") == 10_000)
        #expect(w.fills.map(\.quantity) == [4000, 6000])
        let first = try #require(w.engine.order(session: "beta", clOrdID: w.sentClOrdIDs[0]))
        #expect(first.lifecycle == .canceled && first.cumQty == 4000 && first.avgPx == dec("1.1"))
        #expect(first.allocated.map(\.quantity) == [4000] && first.intent.quantity == 10_000)
    }

    @Test func scaleInAndScaleOutFollowHerPositionProportionally() throws {
        var w = try World(setup(followers: [Self.bob()]))
        w.allSessionsUp()
        w.providerFill(side: "1", qty: "100000")
        w.providerFill(side: "1", qty: "50000")
        #expect(w.position("bob") == 15_000)
        w.providerFill(side: "2", qty: "75000")  // half of hers: 7 500, floored to 7 000
        #expect(w.position("bob") == 7_000)
        w.providerFill(side: "2", qty: "75000")
        #expect(w.position("bob") == 0)
        #expect(
            w.orders(on: "beta").map { "\($0[54]!):\($0.decimalQty)" } == ["1:10000", "1:5000", "2:8000", "2:7000"])
    }

    @Test func reversalIsOneOrderForTheWholeDifference() throws {
        var w = try World(setup(followers: [Self.bob()]))
        w.allSessionsUp()
        w.providerFill(side: "1", qty: "100000")
        w.providerFill(side: "2", qty: "150000")
        #expect(w.orders(on: "beta").map { "\($0[54]!):\($0.decimalQty)" } == ["1:10000", "2:15000"])
        #expect(w.position("bob") == -5_000)
    }

    @Test func reversalClosesThenOpensWhenTheSessionSaysSo() throws {
        var beta = BrokerSessionConfig(name: "beta")
        beta.closeThenOpen = true
        var w = try World(setup(followers: [Self.bob()], sessions: [BrokerSessionConfig(name: "alpha"), beta]))
        w.allSessionsUp()
        w.providerFill(side: "1", qty: "100000")
        w.providerFill(side: "2", qty: "150000")
        #expect(w.orders(on: "beta").map { "\($0[54]!):\($0.decimalQty)" } == ["1:10000", "2:10000", "2:5000"])
        #expect(w.reasons("bob").contains(.closeThenOpen))
        #expect(w.position("bob") == -5_000)
    }

    @Test func severalProvidersAddUpPerSymbol() throws {
        let config = setup(
            followers: [
                follower(
                    "bob", account: "BOB-07",
                    providers: [
                        ProviderLink(providerID: "alice"), ProviderLink(providerID: "carol", weight: dec("0.5")),
                    ]
                ) {
                    $0.sizing = .fixedRatio
                    $0.ratio = dec("0.1")
                    $0.lotSize = 1000
                }
            ],
            providers: [
                ProviderConfig(providerID: "alice", sessionName: "alpha", account: "ALICE-01"),
                ProviderConfig(providerID: "carol", sessionName: "alpha", account: "CAROL-02"),
            ])
        var w = try World(config)
        w.allSessionsUp()
        w.providerFill(provider: "alice", side: "1", qty: "100000")  // +10 000
        w.providerFill(provider: "carol", side: "1", qty: "40000")  // +2 000
        #expect(w.position("bob") == 12_000)
        w.providerFill(provider: "carol", side: "2", qty: "80000")  // carol −40 000: −2 000
        #expect(w.position("bob") == 8_000)
        w.providerFill(provider: "alice", side: "2", qty: "100000")
        #expect(w.position("bob") == -2_000)
        #expect(
            w.orders(on: "beta").map { "\($0[54]!):\($0.decimalQty)" } == ["1:10000", "1:2000", "2:4000", "2:10000"])
    }

    @Test func symbolsAndQuantitiesAreMappedPerBroker() throws {
        var alpha = BrokerSessionConfig(name: "alpha")
        alpha.qtyUnit = .lots  // her MT5 bridge reports lots
        alpha.contractSizes = ["XAU/USD": 100]
        alpha.symbolMap = SymbolMapping(suffix: ".r", removeSlash: true)
        var gamma = BrokerSessionConfig(name: "gamma")
        gamma.qtyUnit = .lots
        gamma.contractSizes = ["XAU/USD": 100]
        gamma.symbolMap = SymbolMapping(explicit: ["XAU/USD": "GOLD"], suffix: ".m", removeSlash: true)
        let bob = follower("bob", account: "BOB-07", session: "gamma", equity: 10_000) { $0.lotSize = dec("0.01") }
        var w = try World(setup(followers: [bob], sessions: [alpha, gamma, BrokerSessionConfig(name: "beta")]))
        w.allSessionsUp()
        w.providerFill(side: "1", qty: "1.5", symbol: "EURUSD.r")  // 150 000 units → his 15 000 = 0.15 lots
        w.providerFill(side: "2", qty: "2", symbol: "XAUUSD.r")  // 200 oz short → his 20 oz = 0.2 lots
        let orders = w.orders(on: "gamma")
        #expect(orders.map { "\($0[55]!) \($0[54]!) \($0[38]!)" } == ["EURUSD.m 1 0.15", "GOLD 2 0.20"])
        #expect(w.engine.providerPosition("alice", symbol: "EUR/USD") == 150_000)
        #expect(w.position("bob", "EUR/USD") == 15_000)
        #expect(w.position("bob", "XAU/USD") == -20)
        #expect(w.broker.position("gamma", "BOB-07", "GOLD") == dec("-0.2"))
    }

    @Test func reverseCopyTakesTheOtherSide() throws {
        var w = try World(setup(followers: [Self.bob { $0.reverse = true }]))
        w.allSessionsUp()
        w.providerFill(side: "1", qty: "100000")
        #expect(w.orders(on: "beta").map { $0[54]! } == ["2"])
        #expect(w.position("bob") == -10_000)
        w.providerFill(side: "2", qty: "100000")
        #expect(w.position("bob") == 0)
    }

    @Test func staleSignalsAreNotCopiedButLaterIncreasesAndClosesAre() throws {
        var w = try World(setup(followers: [Self.bob { $0.maxSignalAgeMs = 2000 }]))
        w.allSessionsUp()
        w.providerFill(side: "1", qty: "100000", age: 5000 * ms)
        #expect(w.orders(on: "beta").isEmpty)
        #expect(w.reasons("bob") == [.staleSignal])
        w.providerFill(side: "1", qty: "50000", age: 1000 * ms)
        #expect(w.position("bob") == 5_000)  // only the fresh increase
        w.providerFill(side: "2", qty: "75000", age: 9000 * ms)  // her position halves: reductions always pass
        #expect(w.position("bob") == 2_000)  // 5 000 × 75 000 / 150 000 = 2 500, floored
        w.providerFill(side: "2", qty: "75000", age: 9000 * ms)
        #expect(w.position("bob") == 0)
    }

    @Test func priceDeviationFilterNeedsAMarkAndAnAcceptablePrice() throws {
        var w = try World(setup(followers: [Self.bob { $0.maxPriceDeviationBps = 20 }]))
        w.allSessionsUp()
        w.providerFill(side: "1", qty: "10000", px: "1.1000")
        #expect(w.reasons("bob") == [.noMark])
        w.send(.mark(symbol: "EUR/USD", bid: dec("1.0999"), ask: dec("1.1001"), at: w.advance()))
        w.providerFill(side: "1", qty: "10000", px: "1.1010")  // 9.1 bps from the mid
        #expect(w.position("bob") == 1_000)
        w.providerFill(side: "1", qty: "10000", px: "1.1050")  // 45 bps
        #expect(w.reasons("bob").last == .priceDeviation)
        #expect(w.position("bob") == 1_000)
        // The mark was journaled before the decisions that read it.
        #expect(
            w.journal.contains { if case .mark(let m) = $0 { return m.bid == dec("1.0999") } else { return false } })
    }

    @Test func symbolListsAndTradingHoursGateIncreasesOnly() throws {
        let denied = Self.bob { $0.denySymbols = ["EUR/USD"] }
        var carol = follower("carol", account: "C-1", equity: 10_000) {
            $0.lotSize = 1000
            $0.allowSymbols = ["GBP*"]
        }
        var dave = follower("dave", account: "D-1", equity: 10_000) {
            $0.lotSize = 1000
            $0.tradingHours = TradingHours(windows: [.init(start: 8 * 60, end: 16 * 60)])  // t0 is 22:13 UTC
        }
        carol.catchUp = .none
        dave.catchUp = .none
        var w = try World(setup(followers: [denied, carol, dave]))
        w.allSessionsUp()
        w.providerFill(side: "1", qty: "100000")
        w.providerFill(side: "1", qty: "100000", symbol: "GBP/USD")
        #expect(w.reasons("bob") == [.symbolDenied])
        #expect(w.reasons("carol") == [.symbolNotAllowed])
        #expect(w.reasons("dave") == [.outsideTradingHours, .outsideTradingHours])
        #expect(w.position("bob", "GBP/USD") == 10_000)
        #expect(w.position("carol", "GBP/USD") == 10_000)
        #expect(w.position("dave", "GBP/USD") == 0)
        #expect(w.position("bob", "EUR/USD") == 0 && w.position("carol", "EUR/USD") == 0)
    }

    @Test func followerClosingByHandDetachesTheSymbolUntilSheIsFlat() throws {
        var w = try World(setup(followers: [Self.bob()]))
        w.allSessionsUp()
        w.providerFill(side: "1", qty: "100000")
        #expect(w.position("bob") == 10_000)
        // He closes on his own terminal; his drop copy reports it on his session.
        let manual = Reports.executionReport(
            execID: "M1", account: "BOB-07", symbol: "EUR/USD", side: "2", lastQty: 10_000, lastPx: dec("1.1"),
            cumQty: 10_000,
            ordStatus: "2", execType: "F", clOrdID: "his-own-1", transactTime: w.now)
        w.send(.executionReport(session: "beta", message: manual, receivedAt: w.advance()))
        #expect(w.position("bob") == 0)
        #expect(w.view("bob")?.detached == true)
        #expect(w.reasons("bob").last == .followerIntervened)
        w.providerFill(side: "1", qty: "50000")
        #expect(w.orders(on: "beta").count == 1)  // not forced back in
        #expect(w.fills.last?.isCopy == false)
        w.providerFill(side: "2", qty: "150000")  // she is flat
        #expect(w.reasons("bob").contains(.reattached))
        w.providerFill(side: "1", qty: "100000")
        #expect(w.position("bob") == 10_000)
        #expect(w.orders(on: "beta").count == 2)
    }

    @Test func followerTradingAnotherSymbolByHandIsLeftAlone() throws {
        var w = try World(setup(followers: [Self.bob()]))
        w.allSessionsUp()
        let manual = Reports.executionReport(
            execID: "M1", account: "BOB-07", symbol: "EUR/USD", side: "1", lastQty: 3_000, lastPx: dec("1.1"),
            cumQty: 3_000,
            ordStatus: "2", execType: "F", clOrdID: "his-own-1", transactTime: w.now)
        w.send(.executionReport(session: "beta", message: manual, receivedAt: w.advance()))
        #expect(w.view("bob")?.detached == false)
        w.providerFill(side: "1", qty: "100000")
        w.providerFill(side: "2", qty: "100000")
        // His own 3 000 survive her round trip.
        #expect(w.position("bob") == 3_000)
        #expect(w.view("bob")?.copied == 0)
    }

    @Test func duplicateAndResentExecIDsAreCopiedOnce() throws {
        var w = try World(setup(followers: [Self.bob { $0.catchUp = .market }]))
        w.allSessionsUp()
        w.providerFill(side: "1", qty: "100000", execID: "E-1")
        w.providerFill(side: "1", qty: "100000", execID: "E-1")
        w.providerFill(side: "1", qty: "100000", execID: "E-1", possDup: true)
        #expect(w.reasons("bob").isEmpty)
        #expect(w.reasons().filter { $0 == .duplicateExecID }.count == 2)
        #expect(w.engine.providerPosition("alice", symbol: "EUR/USD") == 100_000)
        // A resend we had not seen is a late signal: his CatchUp (market) takes it.
        w.providerFill(side: "1", qty: "50000", execID: "E-2", possDup: true, age: 60_000 * ms)
        #expect(w.position("bob") == 15_000)
        #expect(w.orders(on: "beta").count == 2)
    }

    @Test func perSymbolLotSizesAndMinimums() throws {
        // Currencies by the thousand, gold by the ounce, at a broker quoting units.
        let bob = follower("bob", account: "BOB-07", equity: 25_000) {
            $0.lotSize = 1000
            $0.minQty = 1000
            $0.lotSizes = ["XAU/USD": 1]
            $0.minQtys = ["XAU/USD": 1]
        }
        var w = try World(setup(followers: [bob]))
        w.allSessionsUp()
        w.providerFill(side: "1", qty: "61", px: "2650", symbol: "XAU/USD")
        // 61 × 25 000 / 100 000 = 15.25 oz, floored to the ounce.
        #expect(w.position("bob", "XAU/USD") == 15)
        #expect(w.orders(on: "beta").last?.decimalQty == 15)
        w.providerFill(side: "1", qty: "61000")
        // 15 250 units, floored to the thousand.
        #expect(w.position("bob") == 15_000)
        #expect(w.reasons("bob").isEmpty)
    }

    @Test func aResendOrCancelRightAfterHerFillFindsItRecorded() throws {
        // Her ExecID and the fill's effect are recorded after the copies are out (finishEvent);
        // a message handled next, before any report of the copies, must still find them.
        var w = try World(setup(followers: [Self.bob()]))
        w.allSessionsUp()
        w.providerFill(side: "1", qty: "100000", execID: "E-1", pumpAfter: false)
        w.providerFill(side: "1", qty: "100000", execID: "E-1", possDup: true, pumpAfter: false)
        #expect(w.reasons() == [.duplicateExecID])
        let p = w.configuration.providers[0]
        let bust = Reports.executionReport(
            execID: "E-2", account: p.account, symbol: "EUR/USD", side: "1", lastQty: nil, lastPx: dec("1.1"),
            cumQty: nil, ordStatus: "2", execType: "H", clOrdID: "h", transactTime: w.now, execRefID: "E-1")
        w.send(.executionReport(session: "alpha", message: bust, receivedAt: w.advance()))
        #expect(w.engine.providerPosition("alice", symbol: "EUR/USD") == 0)
        #expect(!w.reasons().contains(.unknownExecRef))
        w.pump()
        #expect(w.position("bob") == 0)
    }

    @Test func tradeCancelAndCorrectAdjustHerPosition() throws {
        var w = try World(setup(followers: [Self.bob()]))
        w.allSessionsUp()
        w.providerFill(side: "1", qty: "100000", execID: "E-1")
        w.providerFill(side: "1", qty: "50000", execID: "E-2")
        #expect(w.position("bob") == 15_000)
        let p = w.configuration.providers[0]
        func adjust(_ type: Character, _ id: String, ref: String, qty: FixedDecimal?) {
            let m = Reports.executionReport(
                execID: id, account: p.account, symbol: "EUR/USD", side: "1", lastQty: qty, lastPx: dec("1.1"),
                cumQty: nil,
                ordStatus: "2", execType: type, clOrdID: "h", transactTime: w.now, execRefID: ref)
            w.send(.executionReport(session: "alpha", message: m, receivedAt: w.advance()))
        }
        adjust("H", "E-3", ref: "E-2", qty: nil)  // E-2 busted
        #expect(w.engine.providerPosition("alice", symbol: "EUR/USD") == 100_000)
        #expect(w.position("bob") == 10_000)
        adjust("G", "E-4", ref: "E-1", qty: 60_000)  // E-1 was 60 000, not 100 000
        #expect(w.engine.providerPosition("alice", symbol: "EUR/USD") == 60_000)
        #expect(w.position("bob") == 6_000)
        adjust("H", "E-5", ref: "E-4", qty: nil)  // a cancel of the correction cancels the trade
        #expect(w.engine.providerPosition("alice", symbol: "EUR/USD") == 0)
        #expect(w.position("bob") == 0)
        adjust("H", "E-6", ref: "NOPE", qty: nil)
        #expect(w.reasons().last == .unknownExecRef)
    }

    /// A cancel or correct of a fill he never copied gives her position back without touching his:
    /// what he copied of her was all of her before that fill.
    @Test func aCancelOrCorrectOfAFillHeDidNotCopyLeavesHisCopyAlone() throws {
        // ann copies everything; bob skips stale signals.
        let ann = follower("ann", account: "ANN", equity: 10_000) { $0.lotSize = 1000 }
        var w = try World(setup(followers: [Self.bob { $0.maxSignalAgeMs = 2000 }, ann]))
        w.allSessionsUp()
        w.providerFill(side: "1", qty: "100000", execID: "E-1")
        w.providerFill(side: "1", qty: "100000", execID: "E-2", age: 5000 * ms)  // stale for bob
        #expect(w.position("bob") == 10_000 && w.position("ann") == 20_000)
        let p = w.configuration.providers[0]
        func adjust(_ type: Character, _ id: String, ref: String, qty: FixedDecimal?) {
            let m = Reports.executionReport(
                execID: id, account: p.account, symbol: "EUR/USD", side: "1", lastQty: qty, lastPx: dec("1.1"),
                cumQty: nil, ordStatus: "2", execType: type, clOrdID: "h", transactTime: w.now, execRefID: ref)
            w.send(.executionReport(session: "alpha", message: m, receivedAt: w.advance()))
        }
        adjust("G", "E-3", ref: "E-2", qty: 60_000)  // E-2 was 60 000: she holds 160 000
        #expect(w.position("bob") == 10_000, "not 10 000 × 160/200")
        #expect(w.position("ann") == 16_000)
        adjust("H", "E-4", ref: "E-3", qty: nil)  // then E-2 is busted: she holds 100 000
        #expect(w.engine.providerPosition("alice", symbol: "EUR/USD") == 100_000)
        #expect(w.position("bob") == 10_000, "not halved for a fill he never got")
        #expect(w.position("ann") == 10_000)
        // A cancel of a fill he did copy still takes his share away.
        adjust("H", "E-5", ref: "E-1", qty: nil)
        #expect(w.position("bob") == 0 && w.position("ann") == 0)
    }

    @Test func fixedQuantityAndRiskPercentSizing() throws {
        let fixed = follower("fix", account: "F-1") {
            $0.sizing = .fixedQty
            $0.fixedQty = 20_000
            $0.lotSize = 1000
        }
        // 1 % of 50 000 at risk over a 100 bps stop at 1.25: 500 / 0.0125 = 40 000 units.
        let risk = follower("risk", account: "R-1", equity: 50_000) {
            $0.sizing = .riskPercent
            $0.riskPercent = 1
            $0.riskStopBps = 100
            $0.lotSize = 1000
        }
        var w = try World(setup(followers: [fixed, risk]))
        w.allSessionsUp()
        w.providerFill(side: "1", qty: "10000", px: "1.25")  // a first partial fill of hers
        #expect(w.position("fix") == 20_000)
        #expect(w.position("risk") == 40_000)
        w.providerFill(side: "1", qty: "30000", px: "1.30")  // scale-in: copies stay at full size
        #expect(w.position("fix") == 20_000 && w.position("risk") == 40_000)
        w.providerFill(side: "2", qty: "20000")  // she halves from her peak
        #expect(w.position("fix") == 10_000 && w.position("risk") == 20_000)
        w.providerFill(side: "2", qty: "40000")  // reversal to −20 000: new position at full size
        #expect(w.position("fix") == -20_000)
        #expect(w.position("risk") == -45_000)  // 500 / (1.1 × 0.01) = 45 454, floored to the lot
    }

    @Test func limitsAndRoundingApplyToTargetsAndOrders() throws {
        let capped = follower("cap", account: "C-1", equity: 10_000) {
            $0.lotSize = 1000
            $0.maxPositionQty = 12_000
            $0.maxOrderQty = 5_000
        }
        let minimum = follower("min", account: "M-1", equity: 1_000) {
            $0.lotSize = 100
            $0.minQty = 2_000
            $0.belowMin = .roundUp
        }
        let nearest = follower("near", account: "N-1", equity: 10_000) {
            $0.lotSize = 1000
            $0.rounding = .nearest
        }
        var w = try World(setup(followers: [capped, minimum, nearest]))
        w.allSessionsUp()
        w.providerFill(side: "1", qty: "85000")  // 8 500 for cap and near, 850 for min
        // Orders are sliced: the next slice goes once the previous one is done.
        #expect(w.orders(on: "beta").filter { $0[1] == "C-1" }.map(\.decimalQty) == [5_000, 3_000])
        #expect(w.position("cap") == 8_000)
        #expect(w.position("min") == 2_000)
        #expect(w.position("near") == 9_000)
        #expect(w.reasons("cap").contains(.clampedMaxOrder))
        #expect(w.reasons("min").contains(.roundedUpToMin))
        w.providerFill(side: "1", qty: "115000")  // 20 000 sized: capped at 12 000
        #expect(w.position("cap") == 12_000)
        #expect(w.orders(on: "beta").filter { $0[1] == "C-1" }.map(\.decimalQty) == [5_000, 3_000, 4_000])
        #expect(w.reasons("cap").contains(.clampedMaxPosition))
        #expect(w.position("min") == 2_000)
    }
}
