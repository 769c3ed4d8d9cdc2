import FIXCore
import FIXSession
import Foundation
import NIOCore
import TestSupport
import Testing

@testable import FIXTransport

@Suite("Restarts and logs")
struct RestartTests {
    @Test(
        "a restarted engine resumes from its FileStore and answers a ResendRequest for messages sent before the restart"
    )
    func restartWithFileStore() async throws {
        let dir = try makeTemporaryDirectory("restart")
        defer { try? FileManager.default.removeItem(at: dir) }
        let storeDir = dir.appendingPathComponent("store").path
        let logDir = dir.appendingPathComponent("log").path
        let clientID = SessionIdentity(senderCompID: "CLIENT", targetCompID: "BROKER")

        // The broker keeps running; RefreshOnLogon makes it reread its store on each connection,
        // which lets the test make it forget what it received.
        let brokerStore = MemoryStore()
        var brokerSettings = acceptorSession("BROKER", "CLIENT")
        brokerSettings.session.refreshOnLogon = true
        brokerSettings.session.username = "copier"
        brokerSettings.session.password = "s3cret-pw"
        let factory = TestEngines()
        let broker = try factory.engine([brokerSettings], storeFactory: { _ in brokerStore })
        try await broker.start()
        let p = try await port(of: broker, "BROKER", "CLIENT")
        let b = SessionWatcher(broker.sessions[0])

        func clientEngine() throws -> FIXEngine {
            var settings = initiatorSession("CLIENT", "BROKER", ports: [p])
            settings.session.username = "copier"
            settings.session.password = "s3cret-pw"
            return try FIXEngine(
                sessions: [settings],
                storeFactory: { config in
                    try FileStore(directory: storeDir, identity: config.identity, creationTime: FIXClock.wallClockNow())
                },
                logFactory: { config in try FileSessionLog(directory: logDir, identity: config.identity) })
        }

        try await withEngines([broker]) {
            // First life: Logon (1), three orders (2, 3, 4), Logout (5).
            let first = try clientEngine()
            try await withEngines([first]) {
                let c = SessionWatcher(first.sessions[0])
                try await first.start()
                try await c.waitForLogon()
                for i in 1...3 { try await first.sessions[0].send(newOrderSingle(clOrdID: "ORD-\(i)")) }
                try await b.waitForMessages(3)
                await first.stop()
            }
            try await b.waitForDisconnect()
            #expect(await broker.sessions[0].sequenceNumbers.nextTarget == 6)
            #expect(brokerStore.nextTargetMsgSeqNum == 6)

            // The broker forgets everything after the first Logon.
            try brokerStore.setNextTargetMsgSeqNum(2)

            // Second life, same store directory: the Logon is number 6, the broker asks for 2...,
            // and the orders come back from the file store as PossDup resends.
            let second = try clientEngine()
            try await withEngines([second]) {
                let c = SessionWatcher(second.sessions[0])
                try await second.start()
                try await c.waitForLogon()
                try await b.waitForLogon(count: 2)
                try await b.waitForMessages(6)
                let resent = Array(b.messages.suffix(3))
                #expect(resent.map { $0[FIXTag.clOrdID] } == ["ORD-1", "ORD-2", "ORD-3"])
                #expect(resent.map(\.msgSeqNum) == [2, 3, 4])
                #expect(resent.allSatisfy { $0[FIXTag.possDupFlag] == "Y" && $0.contains(FIXTag.origSendingTime) })
                try await c.waitForEvent("the broker's ResendRequest") {
                    if case .resendRequestReceived(2, _) = $0 { true } else { false }
                }
                #expect(await second.sessions[0].sequenceNumbers.nextSender == 7)
                #expect(await broker.sessions[0].sequenceNumbers.nextTarget == 7)
                try await second.sessions[0].send(newOrderSingle(clOrdID: "ORD-4"))
                try await b.waitForMessages(7)
                #expect(b.messages.last?.msgSeqNum == 7)
            }
        }

        // Both lives are in the message log, and the password is nowhere.
        let messagesLog = try String(
            contentsOfFile: "\(logDir)/\(clientID.fileNameStem).messages.current.log", encoding: .utf8)
        let eventLog = try String(
            contentsOfFile: "\(logDir)/\(clientID.fileNameStem).event.current.log", encoding: .utf8)
        #expect(messagesLog.components(separatedBy: "\u{01}35=A\u{01}").count - 1 == 4)  // two Logons each way
        #expect(messagesLog.contains("\u{01}554=***\u{01}"))
        #expect(eventLog.contains("Connecting to 127.0.0.1:\(p)"))
        let brokerLog = factory.log(SessionIdentity(senderCompID: "BROKER", targetCompID: "CLIENT")).memory
        for text in [messagesLog, eventLog] + brokerLog.messages + brokerLog.events {
            #expect(!text.contains("s3cret-pw"))
        }
    }
}
