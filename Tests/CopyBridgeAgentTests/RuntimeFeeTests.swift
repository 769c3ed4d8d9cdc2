import BrokerSimulator
import FIXCore
import Foundation
import Ledger
import Logging
import Testing

@testable import CopyBridgeAgent

// This file speaks the ledger's types (its FollowerFill and Side), not the copy engine's.

private func money(_ value: FixedDecimal) -> FixedDecimal { value.rounded(scale: 2, .halfEven) }

@Suite("Runtime fees", .serialized)
struct RuntimeFeeTests {
    @Test("a follower's fee terms reach its ledger subscription; volume and management fees follow from its fills")
    func feeTermsInTheLedger() async throws {
        let folder = try TestFolder()
        let data = folder.path + "/data"
        // carl's equity comes from his broker (Equity=broker, the default), asked for because he is
        // sized by it.
        let settings = twoBrokerSettings(
            provbrkFollowerExtra: "AccountEquity=CARL:40000",
            bobExtra: """
                PerformanceFeePct=20
                FeePeriod=quarterly
                ManagementFeePct=2
                VolumeFeePerMillion=25
                PlatformSharePct=30
                """
        ).replacingOccurrences(of: "Sizing=fixed-qty\nFixedQty=30000", with: "Sizing=equity-ratio")
        let snapshot = try await withRuntime(settings, folder: folder) { runtime in
            try await runtime.waitUntil("every session live", timeout: .seconds(60)) {
                $0.allLive(twoBrokerSessions)
            }
            let sim = try #require(runtime.simulator)
            try await sim.providerTrades("P1", "EUR/USD", .buy, 100000)
            try await runtime.waitUntil("the opening copies", timeout: .seconds(60)) {
                $0.filledOrders == 3 && $0.liveOrders == 0
            }
            try await sim.providerTrades("P2", "EUR/USD", .sell, 100000)
            try await runtime.waitUntil("the closing copies", timeout: .seconds(60)) {
                $0.filledOrders == 6 && $0.liveOrders == 0
            }
            runtime.drainLedger()
            return await runtime.snapshot()
        }

        let ledger = try Ledger.open(path: data + "/ledger.sqlite")
        defer { try? ledger.close() }
        let history = try ledger.history()
        let bob = try #require(history.subscriptions.first { $0.id == "bob:alice" })
        #expect(
            bob.terms
                == FeeTerms(
                    performanceRate: FixedDecimal("0.2")!, period: .quarterly, onWithdrawal: .hold,
                    managementRatePerYear: FixedDecimal("0.02")!, volumeFeePerMillion: 25,
                    platformShare: FixedDecimal("0.3")!))
        #expect(history.subscriptions.first { $0.id == "carl:alice" }?.terms == FeeTerms())
        #expect(history.charges.isEmpty, "no period has ended")
        // The broker's first report opens carl's account, as bob's Equity does his.
        let deposits = history.cashFlows.filter { $0.kind == .deposit }
        #expect(deposits.first { $0.flowID == "equity:follower:carl" }?.amount == 40000)
        #expect(deposits.first { $0.flowID == "equity:follower:bob" }?.amount == 50000)

        // By hand: bob bought and sold 50 000 EUR/USD; he is flat, so his equity is his deposit and
        // the P&L of those fills.
        let fills = history.followerFills.filter { $0.followerID == "bob" }
        #expect(fills.reduce(FixedDecimal.zero) { $0 + $1.quantity } == 100000)
        var notional = FixedDecimal.zero
        var realized = FixedDecimal.zero
        for fill in fills {
            notional += fill.quantity * fill.price
            realized += fill.quantity * fill.price * (fill.side == .sell ? 1 : -1)
        }
        let volume = money((notional * 25).divided(by: 1_000_000, scale: 12, .halfEven))
        #expect(volume.isPositive)
        let equity = 50000 + realized
        // Two UTC midnights after the start: two days of 2 % a year, kept to 12 places, charged in cents.
        let asOf = UTCTimestamp(nanosecondsSinceEpoch: bob.start.nanosecondsSinceEpoch + 2 * 86_400_000_000_000)
        let daily = (equity * FixedDecimal("0.02")!).divided(by: 365, scale: 12, .halfEven)
        let management = money(daily * 2)

        let run = try FeeEngine.run(history: history, asOf: asOf, accrued: true)
        let accrued = run.accrued.filter { $0.subscriptionID == "bob:alice" }
        #expect(accrued.first { $0.kind == .volume }?.amount == volume)
        #expect(accrued.first { $0.kind == .volume }?.basis == notional)
        #expect(accrued.first { $0.kind == .management }?.amount == management)
        #expect(accrued.first { $0.kind == .management }?.platformAmount == money(management * FixedDecimal("0.3")!))
        let gain = realized - management - volume
        let performance = gain.isPositive ? money(gain * FixedDecimal("0.2")!) : .zero
        #expect(accrued.first { $0.kind == .performance }?.amount == performance)
        #expect(run.accrued.allSatisfy { $0.subscriptionID == "bob:alice" }, "carl and lena pay nothing")

        // The dashboard's figures, from the ledger thread: what the fees report accrues for bob now.
        // No UTC midnight passed since the start (unless the test ran across one), so no management.
        let now = UTCTimestamp(nanosecondsSinceEpoch: AgentClock.wallNanos())
        let reported = try FeeEngine.run(history: history, asOf: now, accrued: true).accrued
            .filter { $0.subscriptionID == "bob:alice" }.reduce(FixedDecimal.zero) { $0 + $1.amount }
        let byHand = volume + (realized - volume > .zero ? money((realized - volume) * FixedDecimal("0.2")!) : .zero)
        let followers = Dictionary(uniqueKeysWithValues: snapshot.followers.map { ($0.id, $0) })
        let bobRow = try #require(followers["bob"])
        #expect(bobRow.feesAccrued.isPositive)
        #expect(bobRow.feesAccrued == reported)
        #expect(bobRow.feesAccrued == byHand)
        #expect(bobRow.feesCharged == .zero, "no period has ended")
        for other in ["carl", "lena"] {
            let row = try #require(followers[other])
            #expect(row.feesAccrued == .zero && row.feesCharged == .zero, "\(other) has no fee terms")
        }
    }

    @Test("new fee terms stop the subscription (its fees crystallise) and start another; a dropped link stops")
    func termsChangeBetweenRuns() throws {
        let folder = try TestFolder()
        let path = folder.path + "/ledger.sqlite"
        let minute: Int64 = 60_000_000_000
        let t0 = AgentClock.wallNanos() - 60 * minute
        let before = FeeTerms(volumeFeePerMillion: 25, platformShare: FixedDecimal("0.3")!)
        let after = FeeTerms(volumeFeePerMillion: 50)
        let providers: [(id: String, account: String, equity: FixedDecimal?)] = [("alice", "ALICE", nil)]

        let feed = try LedgerFeed(path: path, logger: Logger(label: "test") { _ in SwiftLogNoOpLogHandler() })
        feed.recordConfiguration(
            followers: [("bob", "BOB", 10000, ["alice"], before), ("carl", "CARL", nil, ["alice"], nil)],
            providers: providers, currency: "USD", at: t0)
        for (n, (isBuy, price)) in [(true, "1.1"), (false, "1.2")].enumerated() {
            feed.record(
                LedgerFollowerFillInput(
                    followerID: "bob", account: "BOB", execID: "E\(n)", orderID: nil, symbol: "EUR/USD", isBuy: isBuy,
                    quantity: 100000, price: FixedDecimal(price)!, providerID: "alice", signalExecID: "S\(n)",
                    providerFillPrice: nil, time: t0 + Int64(n + 1) * minute, receivedAt: t0 + Int64(n + 1) * minute))
        }
        feed.drain()
        #expect(feed.backlog == 0, "everything handed over is recorded")
        // The dashboard's figures: (110 000 + 120 000) × 25 / 1 000 000 = 5.75 accrued, nothing charged.
        #expect(feed.followerFees()["bob"] == LedgerFollowerFees(accrued: FixedDecimal("5.75")!, charged: .zero))
        #expect(feed.followerFees()["carl"].map { $0 == LedgerFollowerFees() } ?? true, "carl has no fee terms")
        // The next run: bob's terms changed, carl is gone.
        let t1 = t0 + 10 * minute
        feed.recordConfiguration(
            followers: [("bob", "BOB", 10000, ["alice"], after)], providers: providers, currency: "USD", at: t1)
        feed.drain()
        // The stop crystallised the 5.75; the new subscription has copied nothing yet.
        #expect(feed.followerFees()["bob"] == LedgerFollowerFees(accrued: .zero, charged: FixedDecimal("5.75")!))
        feed.close()

        let ledger = try Ledger.open(path: path)
        defer { try? ledger.close() }
        let history = try ledger.history()
        let stop = UTCTimestamp(nanosecondsSinceEpoch: t1)
        let byID = Dictionary(uniqueKeysWithValues: history.subscriptions.map { ($0.id, $0) })
        #expect(byID.keys.sorted() == ["bob:alice", "bob:alice/2", "carl:alice"])
        #expect(byID["bob:alice"]?.stop == stop && byID["bob:alice"]?.terms == before)
        #expect(byID["bob:alice/2"]?.start == stop && byID["bob:alice/2"]?.stop == nil)
        #expect(byID["bob:alice/2"]?.terms == after)
        #expect(byID["carl:alice"]?.stop == stop)

        // Crystallised at the stop: (110 000 + 120 000) × 25 / 1 000 000 = 5.75; the platform's 30 %
        // is 1.725, half-even 1.72.
        #expect(history.charges.count == 1)
        let charge = try #require(history.charges.first)
        #expect(charge.subscriptionID == "bob:alice" && charge.kind == .volume && charge.reason == .stop)
        #expect(charge.crystallisedAt == stop)
        #expect(charge.amount == FixedDecimal("5.75")! && charge.platformAmount == FixedDecimal("1.72")!)
        #expect(charge.providerAmount == FixedDecimal("4.03")!)
        #expect(history.feeStates["carl:alice"]?.lastCrystallisedAt == stop)
        #expect(try ledger.crystallise(asOf: UTCTimestamp(nanosecondsSinceEpoch: AgentClock.wallNanos())).isEmpty)
        // Next: bob:alice/2's first period end.
        #expect(try ledger.nextCrystallisation().map { $0 > stop } == true)
    }

    @Test("the fee figures wait their interval, or ten times what computing them took when that is longer")
    func feesRefreshBackOff() {
        let second: Int64 = 1_000_000_000
        #expect(LedgerFeed.nextFeesRefresh(after: 5 * second, cost: second / 10, interval: 2 * second) == 7 * second)
        #expect(LedgerFeed.nextFeesRefresh(after: 5 * second, cost: second, interval: 2 * second) == 15 * second)
        #expect(LedgerFeed.nextFeesRefresh(after: 0, cost: 0, interval: 2 * second) == 2 * second)
    }
}
