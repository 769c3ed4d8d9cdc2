import FIXCore
import FIXSession
import FIXTransport
import Foundation
import Synchronization
import TestSupport
import Testing

@testable import BrokerSimulator

/// Follows one client session's inbound sequence (events and application messages).
final class ClientWatcher: Sendable {
    let handle: FIXSessionHandle
    let collector = Collector<SessionInbound>()
    private let task: Task<Void, Never>

    init(_ handle: FIXSessionHandle) {
        self.handle = handle
        let collector = self.collector
        task = Task {
            for await item in handle.inbound { collector.append(item) }
        }
    }

    deinit { task.cancel() }

    var messages: [FIXMessage] {
        collector.items.compactMap { if case .message(let m) = $0 { return m } else { return nil } }
    }

    func waitForLogon(count: Int = 1) async throws {
        try await collector.wait(for: "logon #\(count) on \(handle.identity)") { items in
            items.lazy.filter { if case .event(.loggedOn) = $0 { return true } else { return false } }.count >= count
        }
    }

    /// Waits until `count` application messages satisfy `predicate`; returns them.
    @discardableResult
    func waitForMessages(
        _ what: String, count: Int = 1, where predicate: @escaping @Sendable (FIXMessage) -> Bool = { _ in true }
    ) async throws -> [FIXMessage] {
        try await collector.wait(for: "\(count) \(what) on \(handle.identity)") { items in
            items.lazy.filter { if case .message(let m) = $0 { return predicate(m) } else { return false } }.count
                >= count
        }
        return messages.filter(predicate)
    }
}

/// Everything a test needs from a started server and its client engine, torn down by `close()`.
struct Loopback {
    let server: BrokerSimulatorServer
    let client: FIXEngine
    let watchers: [String: ClientWatcher]

    func watcher(_ sender: String) -> ClientWatcher { watchers[sender]! }

    func send(_ sender: String, _ message: FIXMessageBuilder) async throws {
        try await watchers[sender]!.handle.send(message)
    }

    func close() async {
        await client.stop()
        await server.stop()
    }
}

/// Starts `server`, then a client engine with one initiator per `senders` (each connecting to the
/// port of `broker`), and waits until every client session is logged on.
func connect(
    _ server: BrokerSimulatorServer, broker: String, senders: [String], heartBtInt: Int = 30,
    startingServer: Bool = true
) async throws -> Loopback {
    if startingServer { try await server.start() }
    let port = try #require(server.port(of: broker))
    let sessions = senders.map { sender in
        FIXSessionSettings(
            session: SessionConfiguration(
                identity: SessionIdentity(senderCompID: sender, targetCompID: broker), connectionType: .initiator,
                heartBtInt: heartBtInt),
            transport: .initiator(
                InitiatorOptions(
                    endpoints: [TransportEndpoint(host: "127.0.0.1", port: port)],
                    reconnectInterval: .milliseconds(100),
                    connectTimeout: .seconds(5))))
    }
    let client = try FIXEngine(sessions: sessions, storeFactory: { _ in MemoryStore() })
    var watchers: [String: ClientWatcher] = [:]
    for handle in client.sessions { watchers[handle.identity.senderCompID] = ClientWatcher(handle) }
    try await client.start()
    let loopback = Loopback(server: server, client: client, watchers: watchers)
    do {
        for watcher in watchers.values { try await watcher.waitForLogon() }
    } catch {
        await loopback.close()
        throw error
    }
    return loopback
}

/// Runs `body` against a loopback set-up and tears it down whatever happens.
func withLoopback(
    _ server: BrokerSimulatorServer, broker: String, senders: [String], _ body: (Loopback) async throws -> Void
) async throws {
    let loopback = try await connect(server, broker: broker, senders: senders)
    do {
        try await body(loopback)
    } catch {
        await loopback.close()
        throw error
    }
    await loopback.close()
}

/// The schema the product composes, for the parts these tests exercise.
let testSchema = SessionSettings.schema.merging(SimSettings.schema)

/// Parses settings text as if it were a file in `directory`.
func parseSettings(_ text: String, in directory: URL? = nil) throws -> CopyBridgeConfiguration {
    let base = directory?.path ?? FileManager.default.temporaryDirectory.path
    return try CopyBridgeConfiguration.parse(text, file: "test.conf", baseDirectory: base, schema: testSchema)
}

/// The diagnostics of settings text that does not load.
func settingsErrors(_ text: String, in directory: URL? = nil) -> [SettingsDiagnostic] {
    do {
        _ = try parseSettings(text, in: directory)
        return []
    } catch let error as SettingsError {
        return error.diagnostics
    } catch {
        return [SettingsDiagnostic(at: SourceLocation(file: "test.conf", line: nil), "\(error)")]
    }
}

/// An acceptor `[SESSION]` block of the simulator.
func acceptorBlock(_ sender: String = "SIM", _ target: String, port: Int = 0, _ extra: String = "") -> String {
    """
    [SESSION]
    BeginString=FIX.4.4
    SenderCompID=\(sender)
    TargetCompID=\(target)
    ConnectionType=acceptor
    SocketAcceptHost=127.0.0.1
    SocketAcceptPort=\(port)
    \(extra)

    """
}

/// The repository root, found from this file's path.
let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()

/// A NewOrderSingle as a client sends it.
func order(
    _ clOrdID: String, side: String = "1", qty: String = "100000", symbol: String = "EUR/USD", type: String = "1",
    price: String? = nil, account: String? = nil, tif: String? = nil
) -> FIXMessageBuilder {
    var b = FIXMessageBuilder(msgType: "D")
    b.set(FIXTag.clOrdID, clOrdID)
    if let account { b.set(FIXTag.account, account) }
    b.set(FIXTag.symbol, symbol)
    b.set(FIXTag.side, side)
    b.set(FIXTag.orderQty, qty)
    b.set(FIXTag.ordType, type)
    if let price { b.set(FIXTag.price, price) }
    if let tif { b.set(FIXTag.timeInForce, tif) }
    b.set(FIXTag.transactTime, t0)
    return b
}

/// MsgType and the body of a message: every field but the rest of the standard header and the
/// trailer, as `tag=value|...`.
func body(_ message: FIXMessage) -> String {
    let skip = Set(FIXTag.standardHeader + FIXTag.standardTrailer + [8, 9, 10]).subtracting([FIXTag.msgType])
    return message.fields.indices.filter { !skip.contains(message.fields[$0].tag) }.map {
        "\(message.fields[$0].tag)=\(message.string(at: $0))"
    }.joined(separator: "|")
}

func isExecutionReport(_ m: FIXMessage) -> Bool { m.msgType == "8" }
