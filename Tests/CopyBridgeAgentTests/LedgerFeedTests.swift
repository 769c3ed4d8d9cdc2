import Foundation
import Logging
import Testing

@testable import CopyBridgeAgent

@Suite("Ledger feed")
struct LedgerFeedTests {
    @Test("the recording thread carries its name, as ps -L and profiles show it")
    func threadIsNamed() throws {
        let folder = try TestFolder()
        let feed = try LedgerFeed(
            path: folder.path + "/ledger.sqlite", logger: Logger(label: "test") { _ in SwiftLogNoOpLogHandler() })
        defer { feed.close() }
        // Something to record, so that the drain waits for the thread to have run.
        feed.recordConfiguration(
            followers: [("bob", "BOB", 10000, ["alice"], nil)], providers: [("alice", "ALICE", nil)], currency: "USD",
            at: AgentClock.wallNanos())
        feed.drain()
        let tasks = try FileManager.default.contentsOfDirectory(atPath: "/proc/self/task")
        let names = tasks.compactMap { try? String(contentsOfFile: "/proc/self/task/\($0)/comm", encoding: .utf8) }
        #expect(names.contains { $0.trimmingCharacters(in: .whitespacesAndNewlines) == LedgerFeed.threadName })
    }
}
