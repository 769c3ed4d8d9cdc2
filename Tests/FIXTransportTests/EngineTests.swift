import FIXCore
import FIXSession
import Foundation
import NIOCore
import NIOPosix
import Synchronization
import TestSupport
import Testing

@testable import FIXTransport

/// Builds engines for loopback tests: memory stores, recording logs.
final class TestEngines: Sendable {
    let logs = Mutex<[SessionIdentity: RecordingLog]>([:])

    func log(_ id: SessionIdentity) -> RecordingLog {
        logs.withLock { $0[id]! }
    }

    func engine(
        _ sessions: [FIXSessionSettings],
        storeFactory: @escaping @Sendable (SessionConfiguration) throws -> any MessageStore = { _ in MemoryStore() }
    ) throws -> FIXEngine {
        try FIXEngine(
            sessions: sessions, storeFactory: storeFactory,
            logFactory: { [self] config in
                let log = RecordingLog()
                logs.withLock { $0[config.identity] = log }
                return log
            })
    }
}

func acceptorSession(
    _ sender: String, _ target: String, port: Int = 0, tls: TransportTLSOptions? = nil, heartBtInt: Int = 30
) -> FIXSessionSettings {
    FIXSessionSettings(
        session: SessionConfiguration(
            identity: SessionIdentity(senderCompID: sender, targetCompID: target), connectionType: .acceptor,
            heartBtInt: heartBtInt),
        transport: .acceptor(AcceptorOptions(host: "127.0.0.1", port: port, tls: tls)))
}

func initiatorSession(
    _ sender: String, _ target: String, ports: [Int], tls: TransportTLSOptions? = nil,
    reconnect: TimeAmount = .milliseconds(100), heartBtInt: Int = 30
) -> FIXSessionSettings {
    FIXSessionSettings(
        session: SessionConfiguration(
            identity: SessionIdentity(senderCompID: sender, targetCompID: target), connectionType: .initiator,
            heartBtInt: heartBtInt),
        transport: .initiator(
            InitiatorOptions(
                endpoints: ports.map { TransportEndpoint(host: "127.0.0.1", port: $0) }, reconnectInterval: reconnect,
                connectTimeout: .seconds(5), tls: tls)))
}

func port(of engine: FIXEngine, _ sender: String, _ target: String) async throws -> Int {
    let address = await engine.localAddress(of: SessionIdentity(senderCompID: sender, targetCompID: target))
    return try #require(address?.port)
}

/// Runs `body`, then stops the engines whatever happened.
func withEngines(_ engines: [FIXEngine], _ body: () async throws -> Void) async throws {
    do {
        try await body()
    } catch {
        for e in engines { await e.stop() }
        throw error
    }
    for e in engines { await e.stop() }
}

/// An acceptor engine (BROKER) and an initiator engine (CLIENT) logged on to each other; the
/// order goes one way and the execution report the other; the initiator's stop logs out.
/// `relay` puts something (stunnel) between them: it gets the broker's port and returns the port
/// the client connects to.
func backToBack(
    acceptorTLS: TransportTLSOptions? = nil, initiatorTLS: TransportTLSOptions? = nil,
    relay: (Int) async throws -> Int = { $0 }
) async throws {
    let factory = TestEngines()
    let broker = try factory.engine([acceptorSession("BROKER", "CLIENT", tls: acceptorTLS)])
    try await broker.start()
    try await withEngines([broker]) {
        let brokerPort = try await port(of: broker, "BROKER", "CLIENT")
        let clientPort = try await relay(brokerPort)
        let client = try factory.engine([initiatorSession("CLIENT", "BROKER", ports: [clientPort], tls: initiatorTLS)])
        try await withEngines([client]) {
            try await converse(broker: broker, client: client)
        }
    }
}

/// Logon, an order, its report, and the client's Logout, between two started-to-be engines.
func converse(broker: FIXEngine, client: FIXEngine) async throws {
    let b = SessionWatcher(broker.sessions[0])
    let c = SessionWatcher(client.sessions[0])
    try await client.start()
    try await c.waitForLogon()
    try await b.waitForLogon()

    try await client.sessions[0].send(newOrderSingle(clOrdID: "ORD-1"))
    try await b.waitForMessages(1)
    #expect(b.messages.first?[FIXTag.clOrdID] == "ORD-1")
    #expect(b.messages.first?.msgSeqNum == 2)
    try await broker.sessions[0].send(executionReport(clOrdID: "ORD-1", execID: "EX-1"))
    try await c.waitForMessages(1)
    #expect(c.messages.first?[FIXTag.execID] == "EX-1")

    await client.stop()
    try await b.waitForEvent("the client's logout") { if case .logoutReceived = $0 { true } else { false } }
    try await b.waitForDisconnect()
    try await c.waitForDisconnect()
    #expect(c.events.contains { if case .logoutSent = $0 { true } else { false } })
    await #expect(throws: SessionSendError.notLoggedOn) {
        try await broker.sessions[0].send(executionReport(clOrdID: "ORD-1", execID: "EX-2"))
    }
}

func tlsOptions(
    _ pki: TestPKI, client: Bool, clientCertificate: Bool = false, ca: String? = nil
)
    -> TransportTLSOptions
{
    if client {
        return TransportTLSOptions(
            certificateFile: clientCertificate ? pki.clientCertificate : nil,
            privateKeyFile: clientCertificate ? pki.clientKey : nil, caFile: ca ?? pki.caFile, verification: .full,
            serverName: "localhost")
    }
    return TransportTLSOptions(
        certificateFile: pki.serverCertificate, privateKeyFile: pki.serverKey, caFile: ca ?? pki.caFile,
        requireClientCertificate: clientCertificate)
}

@Suite("Engines on loopback")
struct EngineTests {
    @Test("two engines back to back over plain TCP")
    func plain() async throws {
        try await backToBack()
    }

    @Test("two engines back to back over TLS, the server's certificate verified")
    func tls() async throws {
        let pki = try TestPKI.get()
        try await backToBack(acceptorTLS: tlsOptions(pki, client: false), initiatorTLS: tlsOptions(pki, client: true))
    }

    @Test("mutual TLS: the acceptor demands and verifies a client certificate")
    func mutualTLS() async throws {
        let pki = try TestPKI.get()
        try await backToBack(
            acceptorTLS: tlsOptions(pki, client: false, clientCertificate: true),
            initiatorTLS: tlsOptions(pki, client: true, clientCertificate: true))
    }

    @Test("a server certificate from an unknown CA is refused")
    func wrongCA() async throws {
        let pki = try TestPKI.get()
        try await refusedHandshake(
            acceptorTLS: tlsOptions(pki, client: false),
            initiatorTLS: tlsOptions(pki, client: true, ca: pki.otherCAFile), failingSide: .initiator)
    }

    @Test("an initiator without a client certificate is refused by a mutual-TLS acceptor")
    func missingClientCertificate() async throws {
        let pki = try TestPKI.get()
        try await refusedHandshake(
            acceptorTLS: tlsOptions(pki, client: false, clientCertificate: true),
            initiatorTLS: tlsOptions(pki, client: true), failingSide: .acceptorClosesInitiator)
    }

    enum FailingSide { case initiator, acceptorClosesInitiator }

    func refusedHandshake(
        acceptorTLS: TransportTLSOptions, initiatorTLS: TransportTLSOptions, failingSide: FailingSide
    ) async throws {
        let factory = TestEngines()
        let broker = try factory.engine([acceptorSession("BROKER", "CLIENT", tls: acceptorTLS)])
        try await broker.start()
        let brokerPort = try await port(of: broker, "BROKER", "CLIENT")
        let client = try factory.engine([
            initiatorSession("CLIENT", "BROKER", ports: [brokerPort], tls: initiatorTLS, reconnect: .seconds(60))
        ])
        try await withEngines([client, broker]) {
            let b = SessionWatcher(broker.sessions[0])
            let c = SessionWatcher(client.sessions[0])
            try await client.start()
            let clientLog = factory.log(SessionIdentity(senderCompID: "CLIENT", targetCompID: "BROKER"))
            switch failingSide {
            case .initiator:
                try await clientLog.waitForLine(containing: "connection error")
                #expect(clientLog.lines.items.contains { $0.uppercased().contains("CERTIFICATE") })
            case .acceptorClosesInitiator:
                try await c.waitForDisconnect()
            }
            #expect(!c.events.contains { if case .loggedOn = $0 { true } else { false } })
            #expect(!b.events.contains { if case .loggedOn = $0 { true } else { false } })
            #expect(b.collector.items.isEmpty)
        }
    }

    @Test("failover: the first host refuses, the second accepts")
    func failover() async throws {
        let factory = TestEngines()
        let broker = try factory.engine([acceptorSession("BROKER", "CLIENT")])
        try await broker.start()
        let good = try await port(of: broker, "BROKER", "CLIENT")
        let dead = try freeTCPPort()
        let client = try factory.engine([initiatorSession("CLIENT", "BROKER", ports: [dead, good])])
        try await withEngines([client, broker]) {
            let c = SessionWatcher(client.sessions[0])
            try await client.start()
            try await c.waitForLogon()
            let lines = factory.log(SessionIdentity(senderCompID: "CLIENT", targetCompID: "BROKER")).lines.items
            let failed = try #require(lines.firstIndex { $0.contains("Connection to 127.0.0.1:\(dead) failed") })
            let second = try #require(lines.firstIndex { $0 == "Connecting to 127.0.0.1:\(good)" })
            #expect(failed < second)
        }
    }

    @Test("the initiator reconnects after the acceptor drops the connection, sequence numbers continuing")
    func reconnectAfterDrop() async throws {
        let factory = TestEngines()
        let broker = try factory.engine([acceptorSession("BROKER", "CLIENT")])
        try await broker.start()
        let brokerPort = try await port(of: broker, "BROKER", "CLIENT")
        let client = try factory.engine([initiatorSession("CLIENT", "BROKER", ports: [brokerPort])])
        try await withEngines([client, broker]) {
            let b = SessionWatcher(broker.sessions[0])
            let c = SessionWatcher(client.sessions[0])
            try await client.start()
            try await b.waitForLogon()
            try await c.waitForLogon()
            try await client.sessions[0].send(newOrderSingle(clOrdID: "before"))
            try await b.waitForMessages(1)

            let driver = broker.sessions[0].driver
            try await broker.eventLoop.submit { driver.forceClose() }.get()
            try await c.waitForDisconnect()
            try await b.waitForLogon(count: 2)
            try await c.waitForLogon(count: 2)
            try await client.sessions[0].send(newOrderSingle(clOrdID: "after"))
            try await b.waitForMessages(2)
            // Logon 1, order 2, Logon 3, order 4: nothing was lost or reused.
            #expect(b.messages.map(\.msgSeqNum) == [2, 4])
            let seq = await broker.sessions[0].sequenceNumbers
            #expect(seq.nextTarget == 5)
        }
    }

    @Test("one port serves two sessions and refuses an unknown one")
    func twoSessionsOnePort() async throws {
        let factory = TestEngines()
        let broker = try factory.engine([acceptorSession("BROKER", "ALICE"), acceptorSession("BROKER", "BOB")])
        try await broker.start()
        let p = try await port(of: broker, "BROKER", "ALICE")
        #expect(try await port(of: broker, "BROKER", "BOB") == p)
        let clients = try factory.engine([
            initiatorSession("ALICE", "BROKER", ports: [p]), initiatorSession("BOB", "BROKER", ports: [p]),
        ])
        let stranger = try factory.engine([initiatorSession("MALLORY", "BROKER", ports: [p], reconnect: .seconds(60))])
        try await withEngines([clients, stranger, broker]) {
            let alice = SessionWatcher(clients.sessions[0])
            let bob = SessionWatcher(clients.sessions[1])
            let mallory = SessionWatcher(stranger.sessions[0])
            let brokerAlice = SessionWatcher(broker.sessions[0])
            let brokerBob = SessionWatcher(broker.sessions[1])
            try await clients.start()
            try await stranger.start()
            try await alice.waitForLogon()
            try await bob.waitForLogon()
            try await mallory.waitForDisconnect()
            #expect(!mallory.events.contains { if case .loggedOn = $0 { true } else { false } })

            try await clients.sessions[0].send(newOrderSingle(clOrdID: "A1"))
            try await clients.sessions[1].send(newOrderSingle(clOrdID: "B1"))
            try await brokerAlice.waitForMessages(1)
            try await brokerBob.waitForMessages(1)
            #expect(brokerAlice.messages.map { $0[FIXTag.clOrdID] } == ["A1"])
            #expect(brokerBob.messages.map { $0[FIXTag.clOrdID] } == ["B1"])
        }
    }

    @Test("stop logs every session out and finishes the inbound sequences")
    func gracefulStop() async throws {
        let factory = TestEngines()
        let broker = try factory.engine([acceptorSession("BROKER", "ALICE"), acceptorSession("BROKER", "BOB")])
        try await broker.start()
        let p = try await port(of: broker, "BROKER", "ALICE")
        let clients = try factory.engine([
            initiatorSession("ALICE", "BROKER", ports: [p]), initiatorSession("BOB", "BROKER", ports: [p]),
        ])
        try await withEngines([clients]) {
            let alice = SessionWatcher(clients.sessions[0])
            let bob = SessionWatcher(clients.sessions[1])
            try await clients.start()
            try await alice.waitForLogon()
            try await bob.waitForLogon()
            // The acceptor stops: both sessions get its Logout, answer it, and are disconnected.
            await broker.stop()
            for w in [alice, bob] {
                try await w.waitForEvent("the broker's logout") { if case .logoutReceived = $0 { true } else { false } }
                try await w.waitForDisconnect()
            }
            var finished = 0
            for session in broker.sessions {
                for await _ in session.inbound {}
                finished += 1
            }
            #expect(finished == 2)
        }
    }
}
