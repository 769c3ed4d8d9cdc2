import BrokerSimulator
import FIXCore
import FIXSession
import Foundation
import Synchronization
import Testing

@testable import CopyBridgeAgent

/// A fresh folder for one test, removed when released.
final class TestFolder: Sendable {
    let path: String

    init() throws {
        path =
            FileManager.default.temporaryDirectory.appendingPathComponent("copybridge-agent-\(UUID().uuidString)")
            .path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    /// Writes `contents` to `name` and returns its path.
    @discardableResult
    func write(_ name: String, _ contents: String) throws -> String {
        let file = path + "/" + name
        try contents.write(toFile: file, atomically: true, encoding: .utf8)
        return file
    }

    deinit {
        try? FileManager.default.removeItem(atPath: path)
    }
}

/// Console lines a runtime printed, kept for assertions and failure messages, and watched as
/// they come for tests that wait on a line.
final class ConsoleCapture: Sendable {
    private let captured = Mutex<[String]>([])
    private let stream: AsyncStream<String>
    private let continuation: AsyncStream<String>.Continuation

    init() {
        (stream, continuation) = AsyncStream.makeStream(of: String.self)
    }

    var sink: @Sendable ([String]) -> Void {
        { lines in
            self.captured.withLock { $0.append(contentsOf: lines) }
            for line in lines { self.continuation.yield(line) }
        }
    }

    var lines: [String] { captured.withLock { $0 } }

    /// The first line (printed so far or later) that contains `text`; throws after `timeout`.
    /// One caller at a time: the lines are watched as a single stream.
    func line(containing text: String, timeout: Duration = .seconds(60)) async throws -> String {
        try await withThrowingTaskGroup(of: String?.self) { group in
            group.addTask {
                for await line in self.stream where line.contains(text) { return line }
                return nil
            }
            group.addTask {
                try await Task.sleep(for: timeout)
                return nil
            }
            defer { group.cancelAll() }
            guard let line = try await group.next() ?? nil else {
                throw AgentRuntimeError.timedOut("a console line with \"\(text)\"")
            }
            return line
        }
    }
}

/// Settings for two simulated brokers on free ports: PROVBRK (the provider's drop copy and followers
/// in units) and LOTBRK (a follower in lots with its own symbols). Prices stand still, so sizes
/// and prices are known.
func twoBrokerSettings(
    journalSync: String = "always", fillLatencyMs: String = "1-5", provbrkFollowerExtra: String = "",
    lotbrkExtra: String = "", admin: Bool = false, bobExtra: String = ""
) -> String {
    """
    [DEFAULT]
    BeginString=FIX.4.4
    ConnectionType=initiator
    HeartBtInt=30
    ReconnectInterval=1
    FileStoreSync=never
    Simulator=Y
    SocketConnectHost=127.0.0.1
    SocketConnectPort=0

    [AGENT]
    JournalSync=\(journalSync)
    TickIntervalMs=20
    SummaryIntervalSeconds=0

    [SIMULATOR]
    Symbols=EUR/USD:1.1000,XAU/USD:2000.0
    PriceTickMs=0
    DayEndTime=none

    [SESSION]
    SessionName=prov-dropcopy
    SenderCompID=AGENT_DC
    TargetCompID=PROVBRK
    DropCopyFor=ALICE

    [SESSION]
    SessionName=prov-orders
    SenderCompID=AGENT
    TargetCompID=PROVBRK
    TimeInForce=DAY
    FillLatencyMs=\(fillLatencyMs)
    \(provbrkFollowerExtra)

    [SESSION]
    SessionName=lot-orders
    SenderCompID=AGENT
    TargetCompID=LOTBRK
    SocketConnectHost=localhost
    Symbols=EURUSD.x:1.1000,GOLD:2000.0
    SymbolMap=EUR/USD:EURUSD.x,XAU/USD:GOLD
    QtyUnit=lots
    ContractSize=100000
    ContractSizes=XAU/USD:100
    FillLatencyMs=\(fillLatencyMs)
    \(lotbrkExtra)

    [PROVIDER]
    ProviderID=alice
    SessionName=prov-dropcopy
    Account=ALICE
    Equity=100000

    [FOLLOWER]
    FollowerID=bob
    Provider=alice
    SessionName=prov-orders
    Account=BOB
    Equity=50000
    Sizing=equity-ratio
    LotSize=1
    \(bobExtra)

    [FOLLOWER]
    FollowerID=carl
    Provider=alice
    SessionName=prov-orders
    Account=CARL
    Sizing=fixed-qty
    FixedQty=30000
    LotSize=1000

    [FOLLOWER]
    FollowerID=lena
    Provider=alice
    SessionName=lot-orders
    Account=LENA
    Sizing=fixed-ratio
    Ratio=0.25
    LotSize=0.01
    \(admin ? "\n[ADMIN]\nHttpPort=0\n" : "")
    """
}

/// The sessions of ``twoBrokerSettings(journalSync:fillLatencyMs:provbrkFollowerExtra:lotbrkExtra:admin:bobExtra:)``.
let twoBrokerSessions = ["prov-dropcopy", "prov-orders", "lot-orders"]

extension BrokerSimulatorServer {
    /// The provider trades at her broker: a market order for her account, filled at once.
    func providerTrades(
        _ clOrdID: String, _ symbol: String, _ side: SimSide, _ quantity: FixedDecimal, broker: String = "PROVBRK",
        account: String = "ALICE"
    ) async throws {
        try await act(on: broker) { broker, now in
            (
                broker.submit(
                    SimOrderRequest(
                        clOrdID: clOrdID, account: account, symbol: symbol, side: side, quantity: quantity,
                        timeInForce: .immediateOrCancel), at: now), ()
            )
        }
    }

    /// An account's net position in a broker symbol, from the broker's book.
    func position(broker: String, account: String, symbol: String) async -> FixedDecimal {
        await inspect(broker) { $0.position(account: account, symbol: symbol).quantity } ?? .zero
    }

    /// Every order of the accounts at a broker, by ClOrdID occurrence.
    func clOrdIDs(broker: String, accounts: Set<String>) async -> [String] {
        await inspect(broker) { b in b.orders.filter { accounts.contains($0.account) }.map(\.clOrdID) } ?? []
    }
}

/// Runs `body` with a started runtime on `settings`, stopping it at the end whatever happens.
func withRuntime<T>(
    _ settings: String, folder: TestFolder, dataFolder: String? = nil, options: AgentRuntimeOptions = .quietTests,
    _ body: (AgentRuntime) async throws -> T
) async throws -> T {
    let file = try folder.write("agent-\(UUID().uuidString.prefix(8)).conf", settings)
    let configuration = try AgentConfiguration.load(path: file, dataFolder: dataFolder ?? folder.path + "/data")
    let runtime = AgentRuntime(configuration: configuration, options: options)
    try await runtime.start()
    do {
        let result = try await body(runtime)
        await runtime.stop()
        return result
    } catch {
        await runtime.stop()
        throw error
    }
}

/// An agent, not yet started, on the loopback benchmark's settings (its simulated broker, one
/// follower) changed by `configure`, with its files in `folder`.
func benchmarkRuntime(
    in folder: TestFolder, _ configure: (inout LoopbackCopyBenchmark.Options) -> Void
) throws -> AgentRuntime {
    var options = LoopbackCopyBenchmark.Options()
    configure(&options)
    let configuration = try LoopbackCopyBenchmark.configuration(options, in: folder.path)
    return AgentRuntime(configuration: configuration, options: .quietTests)
}

extension AgentRuntimeOptions {
    /// No standard output, no HTTP server, a short stop.
    static var quietTests: AgentRuntimeOptions {
        AgentRuntimeOptions(console: { _ in }, printsActivity: true, http: .disabled)
    }

    /// ``quietTests`` with the console lines going to `capture` instead of nowhere.
    static func quietTests(console capture: ConsoleCapture) -> AgentRuntimeOptions {
        var options = quietTests
        options.console = capture.sink
        return options
    }
}
