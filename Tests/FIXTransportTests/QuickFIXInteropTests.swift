import FIXCore
import FIXSession
import Foundation
import NIOCore
import Synchronization
import TestSupport
import Testing

@testable import FIXTransport

/// The QuickFIX C++ peer of Tests/Interop/qf_peer.cpp, built on first use and cached in the
/// temporary directory under the hash of its source.
enum QuickFIXPeer {
    static let source = repositoryRoot.appendingPathComponent("Tests/Interop/qf_peer.cpp")
    static let dictionary = repositoryRoot.appendingPathComponent("Specs/FIX44.xml")

    static let compiler = findExecutable(["/usr/bin/g++", "/usr/local/bin/g++"])
    static let headers = ["/usr/include/quickfix/Session.h", "/usr/local/include/quickfix/Session.h"]

    /// Whether g++ and libquickfix-dev are installed.
    static var isAvailable: Bool {
        compiler != nil && headers.contains { FileManager.default.fileExists(atPath: $0) }
    }

    static let binary: Result<String, any Error> = Result { try build() }

    struct BuildError: Error, CustomStringConvertible {
        let description: String
    }

    static func build() throws -> String {
        guard let compiler else { throw BuildError(description: "g++ is not installed") }
        let code = try Data(contentsOf: source)
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in code {
            hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3
        }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent(
            "copybridge-qf_peer-\(String(hash, radix: 16))", isDirectory: true)
        let executable = dir.appendingPathComponent("qf_peer").path
        if FileManager.default.isExecutableFile(atPath: executable) { return executable }
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        // Another test process may build at the same time: build aside, then rename atomically.
        let scratch = dir.appendingPathComponent("qf_peer.\(getpid()).\(UUID().uuidString.prefix(6))").path
        let (status, output) = try runProgram(
            compiler,
            [
                "-std=c++14", "-O1", "-Wno-deprecated", "-Wno-deprecated-declarations", "-o", scratch, source.path,
                "-lquickfix", "-lpthread",
            ])
        guard status == 0 else { throw BuildError(description: "building qf_peer failed:\n\(output)") }
        if rename(scratch, executable) != 0 { throw BuildError(description: "cannot move \(scratch) to \(executable)") }
        return executable
    }

    /// A settings file for one session.
    static func settings(
        acceptorPort: Int? = nil, connectPort: Int? = nil, sender: String, target: String, directory: URL
    ) -> String {
        var s = """
            [DEFAULT]
            ConnectionType=\(acceptorPort != nil ? "acceptor" : "initiator")
            FileStorePath=\(directory.appendingPathComponent("store").path)
            FileLogPath=\(directory.appendingPathComponent("log").path)
            StartTime=00:00:00
            EndTime=00:00:00
            UseDataDictionary=Y
            DataDictionary=\(dictionary.path)
            HeartBtInt=30
            ReconnectInterval=1

            [SESSION]
            BeginString=FIX.4.4
            SenderCompID=\(sender)
            TargetCompID=\(target)

            """
        if let acceptorPort { s += "SocketAcceptPort=\(acceptorPort)\n" }
        if let connectPort { s += "SocketConnectHost=127.0.0.1\nSocketConnectPort=\(connectPort)\n" }
        return s
    }

    /// Starts the peer with `settings` and waits for READY.
    static func start(_ settings: String, in directory: URL) async throws -> ExternalProcess {
        let executable = try binary.get()
        let file = directory.appendingPathComponent("qf.cfg")
        try settings.write(to: file, atomically: true, encoding: .utf8)
        let process = try ExternalProcess(
            name: "qf_peer", executable: executable, arguments: [file.path], directory: directory)
        do {
            try await process.waitForLine("READY") { $0 == "READY" }
        } catch {
            await process.stop()
            throw BuildError(description: "qf_peer did not start:\n\(process.transcript)")
        }
        return process
    }
}

/// A session schedule a test opens and closes, to hold an initiator off (or make an acceptor
/// refuse Logons) while the counterparty does something.
final class SwitchableSchedule: SessionScheduleCheck {
    private let open = Mutex(true)
    func set(open value: Bool) { open.withLock { $0 = value } }
    func isWithinSchedule(_ time: UTCTimestamp) -> Bool { open.withLock { $0 } }
}

extension Array where Element == FIXMessage {
    /// How many times each ClOrdID occurs.
    func clOrdIDCounts() -> [String: Int] {
        var counts: [String: Int] = [:]
        for m in self { counts[m[FIXTag.clOrdID] ?? "?", default: 0] += 1 }
        return counts
    }
}

/// `count` ClOrdIDs `prefix1` ... `prefixN`, each expected once.
func expectedOnce(_ prefix: String, _ count: Int) -> [String: Int] {
    Dictionary(uniqueKeysWithValues: (1...count).map { ("\(prefix)\($0)", 1) })
}

@Suite("Interoperability with QuickFIX C++", .serialized)
struct QuickFIXInteropTests {
    @Test(
        "QuickFIX acceptor, CopyBridge initiator: orders, fills, a drop mid-stream with gap recovery, and our resends",
        .enabled(if: QuickFIXPeer.isAvailable, "needs g++ and libquickfix-dev (apt-get install libquickfix-dev)"))
    func quickFIXAcceptor() async throws {
        let dir = try makeTemporaryDirectory("qf-acceptor")
        defer { try? FileManager.default.removeItem(at: dir) }
        let port = try freeTCPPort()
        let qf = try await QuickFIXPeer.start(
            QuickFIXPeer.settings(acceptorPort: port, sender: "QFBROKER", target: "CLIENT", directory: dir), in: dir)
        let schedule = SwitchableSchedule()
        var settings = initiatorSession("CLIENT", "QFBROKER", ports: [port], reconnect: .milliseconds(200))
        settings.schedule = schedule
        let factory = TestEngines()
        let engine = try factory.engine([settings])
        let us = SessionWatcher(engine.sessions[0])
        let session = engine.sessions[0]
        do {
            try await engine.start()
            try await us.waitForLogon()
            try await qf.waitForLine("LOGON") { $0.hasPrefix("LOGON ") }

            // An order out, its two execution reports back.
            try await session.send(newOrderSingle(clOrdID: "ORD-1"))
            try await qf.waitForLine("the order") { $0.hasPrefix("APP ") && $0.contains("|11=ORD-1|") }
            try await us.waitForMessages(2)
            #expect(us.messages.map { $0[FIXTag.execType] } == ["0", "F"])
            #expect(us.messages.last?[FIXTag.lastPx] == "1.2345")

            // A stream, dropped without a Logout; more reports are sent while we are away (the
            // closed schedule keeps us from reconnecting until they are), then recovered.
            schedule.set(open: false)
            qf.send("SEND 100 S")
            qf.send("DISCONNECT")
            qf.send("SEND 20 T")
            try await qf.waitForLine("both streams") { $0 == "DONE SEND" }
            try await qf.waitForLine("both streams", count: 2) { $0 == "DONE SEND" }
            try await us.waitForDisconnect()
            schedule.set(open: true)
            try await us.waitForLogon(count: 2)
            try await us.waitForMessages(2 + 120)
            let reports = Array(us.messages.dropFirst(2))
            #expect(reports.clOrdIDCounts() == expectedOnce("S", 100).merging(expectedOnce("T", 20)) { a, _ in a })
            #expect(us.events.contains { if case .sequenceGap = $0 { true } else { false } })
            #expect(us.events.contains { if case .resendRequestSent = $0 { true } else { false } })
            #expect(reports.suffix(20).allSatisfy { $0[FIXTag.possDupFlag] == "Y" })

            // QuickFIX forgets what it received since our first Logon and asks us to resend it:
            // the order again with PossDupFlag, session messages as GapFills.
            try await qf.command("SETTARGET 2")
            try await session.send(newOrderSingle(clOrdID: "ORD-2"))
            let resent = try await qf.waitForLine("the resent order") {
                $0.hasPrefix("APP ") && $0.contains("|11=ORD-1|") && $0.contains("|43=Y|")
            }
            #expect(resent.contains("|122="))
            try await qf.waitForLine("the new order") { $0.hasPrefix("APP ") && $0.contains("|11=ORD-2|") }
            #expect(
                qf.lines.items.contains { $0.hasPrefix("ADMIN ") && $0.contains("|35=4|") && $0.contains("|123=Y|") })

            // Two reports for each of ORD-1 (again) and ORD-2; then both sides agree on the
            // sequence numbers.
            try await us.waitForMessages(2 + 120 + 4)
            try await qf.command("SEQNUMS")
            let seq = await session.sequenceNumbers
            let line = try #require(qf.lines.items.last { $0.hasPrefix("SEQNUMS ") })
            let numbers = line.split(separator: " ").dropFirst().compactMap { Int($0) }
            #expect(numbers == [seq.nextTarget, seq.nextSender])

            await engine.stop()
            try await qf.waitForLine("QuickFIX's logout") { $0.hasPrefix("LOGOUT ") }
            #expect(us.events.contains { if case .logoutSent = $0 { true } else { false } })
        } catch {
            await engine.stop()
            await qf.stop()
            Issue.record("qf_peer transcript:\n\(qf.transcript)")
            throw error
        }
        await qf.stop()
    }

    @Test(
        "QuickFIX initiator, CopyBridge acceptor: reports both ways, a drop mid-stream with gap recovery",
        .enabled(if: QuickFIXPeer.isAvailable, "needs g++ and libquickfix-dev (apt-get install libquickfix-dev)"))
    func quickFIXInitiator() async throws {
        let dir = try makeTemporaryDirectory("qf-initiator")
        defer { try? FileManager.default.removeItem(at: dir) }
        let schedule = SwitchableSchedule()
        var settings = acceptorSession("BROKER", "QFCLIENT")
        settings.schedule = schedule
        let factory = TestEngines()
        let engine = try factory.engine([settings])
        let us = SessionWatcher(engine.sessions[0])
        let session = engine.sessions[0]
        try await engine.start()
        let port = try await port(of: engine, "BROKER", "QFCLIENT")
        let qf: ExternalProcess
        do {
            qf = try await QuickFIXPeer.start(
                QuickFIXPeer.settings(connectPort: port, sender: "QFCLIENT", target: "BROKER", directory: dir), in: dir)
        } catch {
            await engine.stop()
            throw error
        }
        do {
            try await us.waitForLogon()
            try await qf.waitForLine("LOGON") { $0.hasPrefix("LOGON ") }

            try await session.send(executionReport(clOrdID: "OUT-1", execID: "EX-1"))
            try await qf.waitForLine("our report") { $0.hasPrefix("APP ") && $0.contains("|17=EX-1|") }
            try await qf.command("SEND 50 A")
            try await us.waitForMessages(50)

            // QuickFIX drops the connection mid-stream and keeps sending; we refuse its Logons
            // (closed schedule) until it is done, then recover the gap.
            schedule.set(open: false)
            qf.send("SEND 100 M")
            qf.send("DISCONNECT")
            qf.send("SEND 20 T")
            try await qf.waitForLine("both streams", count: 3) { $0 == "DONE SEND" }
            try await us.waitForDisconnect()
            schedule.set(open: true)
            try await us.waitForLogon(count: 2, timeout: .seconds(60))
            try await us.waitForMessages(50 + 100 + 20)
            let all = us.messages
            #expect(
                all.clOrdIDCounts()
                    == expectedOnce("A", 50).merging(expectedOnce("M", 100)) { a, _ in a }.merging(
                        expectedOnce("T", 20)
                    ) { a, _ in a })
            #expect(us.events.contains { if case .resendRequestSent = $0 { true } else { false } })

            // After recovery, traffic flows both ways again.
            try await session.send(executionReport(clOrdID: "OUT-2", execID: "EX-2"))
            try await qf.waitForLine("our second report") { $0.hasPrefix("APP ") && $0.contains("|17=EX-2|") }

            await engine.stop()
            try await qf.waitForLine("QuickFIX's logout") { $0.hasPrefix("LOGOUT ") }
        } catch {
            await engine.stop()
            await qf.stop()
            Issue.record("qf_peer transcript:\n\(qf.transcript)")
            throw error
        }
        await qf.stop()
    }
}
