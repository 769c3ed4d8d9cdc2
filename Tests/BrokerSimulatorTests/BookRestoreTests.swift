import FIXCore
import FIXSession
import Foundation
import TestSupport
import Testing

@testable import BrokerSimulator

/// A simulated broker keeps its accounts' positions across a restart through its BookFile, as a
/// real broker does, so a client reconciling after its own restart finds what it left.
@Suite struct BookRestoreTests {
    func settings(bookFile: String) -> String {
        """
        [SIMULATOR]
        Symbols=EUR/USD:1.0850,USD/JPY:151.20
        PriceTickMs=0
        IDPrefix=R
        BookFile=\(bookFile)

        """ + acceptorBlock("SIM", "CLIENT")
    }

    func server(_ text: String) throws -> BrokerSimulatorServer {
        try BrokerSimulatorServer.serving(try parseSettings(text), options: SimServerOptions(storage: .memory))
    }

    @Test func positionsOfThePreviousRunAreRestoredFromTheBookFile() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("book-restore-\(UUID())")
        defer { try? FileManager.default.removeItem(at: folder) }
        let bookFile = folder.appendingPathComponent("sim.json").path
        let text = settings(bookFile: bookFile)

        let first = try server(text)
        try await withLoopback(first, broker: "SIM", senders: ["CLIENT"]) { net in
            let client = net.watcher("CLIENT")
            try await net.send("CLIENT", order("ORD-1", qty: "90000"))
            try await net.send("CLIENT", order("ORD-2", side: "2", qty: "30000", symbol: "USD/JPY"))
            _ = try await client.waitForMessages("both orders filled") {
                $0[FIXTag.clOrdID] == "ORD-2" && $0[FIXTag.ordStatus] == "2"
            }
            _ = try await client.waitForMessages("ORD-1 filled") {
                $0[FIXTag.clOrdID] == "ORD-1" && $0[FIXTag.ordStatus] == "2"
            }
            try await first.writeBooks()
        }
        let written = try JSONDecoder().decode(SimBook.self, from: Data(contentsOf: URL(fileURLWithPath: bookFile)))

        let second = try server(text)
        let restored = await second.inspect("SIM") { broker in
            (
                broker.position(account: "CLIENT", symbol: "EUR/USD"),
                broker.position(account: "CLIENT", symbol: "USD/JPY")
            )
        }
        let (eur, jpy) = try #require(restored)
        #expect(eur.quantity == FixedDecimal(90000))
        #expect(jpy.quantity == FixedDecimal(-30000))
        let before = try #require(written.accounts.first { $0.account == "CLIENT" }?.positions)
        #expect(before.first { $0.symbol == "EUR/USD" }?.averagePrice == eur.averagePrice)
        #expect(before.first { $0.symbol == "USD/JPY" }?.averagePrice == jpy.averagePrice)
    }

    @Test func anUnreadableBookFileIsAnErrorNamingIt() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("book-bad-\(UUID())")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let bookFile = folder.appendingPathComponent("sim.json").path
        try Data("{ not json".utf8).write(to: URL(fileURLWithPath: bookFile))
        #expect {
            _ = try server(settings(bookFile: bookFile))
        } throws: { error in
            "\(error)".contains(bookFile) && "\(error)".contains("previous run")
        }
    }
}
