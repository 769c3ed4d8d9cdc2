import FIXCore
import Foundation
import Ledger
import Logging
import Testing

@testable import CopyBridgeAgent

@Suite("Ledger feed")
struct LedgerFeedTests {
    @Test("the recording thread carries its name, as ps -L and profiles show it")
    func threadIsNamed() throws {
        let folder = try TestFolder()
        let feed = try LedgerFeed(path: folder.path + "/ledger.sqlite", logger: Self.quiet)
        defer { feed.close() }
        // Something to record, so that the drain waits for the thread to have run.
        feed.recordConfiguration(
            followers: [("bob", "BOB", 10000, ["alice"], nil)], providers: [("alice", "ALICE", nil)], currency: "USD",
            at: AgentClock.wallNanos())
        feed.drain()
        #expect(ThreadCPU.read().threads.values.contains { $0.name == LedgerFeed.threadName })
    }

    /// A window far longer than any test: only a drain, a stop or a large batch ends the gathering.
    static let longWindow: Int64 = 600_000_000_000

    static let quiet = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }

    static func mark(_ price: String, at nanos: Int64) -> Mark {
        Mark(
            symbol: "EUR/USD", price: FixedDecimal(price)!,
            time: UTCTimestamp(nanosecondsSinceEpoch: nanos, precision: .nanoseconds))
    }

    @Test("inputs wait out the gathering window; a drain and a stop record them at once")
    func gathersUntilDrainOrStop() throws {
        let folder = try TestFolder()
        let path = folder.path + "/ledger.sqlite"
        let feed = try LedgerFeed(path: path, logger: Self.quiet, batchWindowNanos: Self.longWindow)
        let t = AgentClock.wallNanos()
        feed.recordMark(symbol: "EUR/USD", price: FixedDecimal("1.1")!, at: t)
        Thread.sleep(forTimeInterval: 0.2)
        #expect(feed.backlog == 1, "the first input waits for others to join it")
        feed.recordMark(symbol: "EUR/USD", price: FixedDecimal("1.2")!, at: t + 1)
        let draining = Date()
        feed.drain()
        #expect(feed.backlog == 0)
        #expect(Date().timeIntervalSince(draining) < 30, "the drain ended the gathering")
        feed.recordMark(symbol: "EUR/USD", price: FixedDecimal("1.3")!, at: t + 2)
        let closing = Date()
        feed.close()
        #expect(Date().timeIntervalSince(closing) < 30, "the stop ended the gathering")

        let ledger = try Ledger.open(path: path)
        defer { try? ledger.close() }
        for (k, price) in ["1.1", "1.2", "1.3"].enumerated() {
            #expect(try ledger.record(Self.mark(price, at: t + Int64(k))) == .duplicate, "mark \(price) recorded")
        }
    }

    @Test("a batch large enough is recorded without waiting for the window to end")
    func largeBatchEndsTheGathering() throws {
        let folder = try TestFolder()
        let feed = try LedgerFeed(
            path: folder.path + "/ledger.sqlite", logger: Self.quiet, batchWindowNanos: Self.longWindow)
        defer { feed.close() }
        let t = AgentClock.wallNanos()
        for k in 0..<LedgerFeed.maximumGatheredInputs {
            feed.recordMark(symbol: "EUR/USD", price: FixedDecimal("1.1")!, at: t + Int64(k))
        }
        let deadline = Date(timeIntervalSinceNow: 60)
        while feed.backlog > 0 && Date() < deadline { Thread.sleep(forTimeInterval: 0.01) }
        #expect(feed.backlog == 0)
    }
}
