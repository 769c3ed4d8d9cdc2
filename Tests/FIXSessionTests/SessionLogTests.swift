import FIXCore
import Logging
import NIOCore
import Synchronization
import Testing

@testable import FIXSession

@Suite struct SessionLogTests {
    let logon = us.message("A", seq: 1, [(98, "0"), (108, "30"), (553, "alice"), (554, "s3cret")])

    @Test func fileLogWritesQuickFIXLinesWithThePasswordMasked() throws {
        let dir = try TemporaryDirectory()
        do {
            let log = try FileSessionLog(directory: dir.path + "/logs", identity: isld)
            log.outgoing(logon.bytes, at: t0.utc)
            log.incoming(tw.message("0", seq: 2).bytes, at: at(1.5).utc)
            log.event(SessionEvent.loggedOn(heartBtInt: 30, resetSeqNumFlag: false), at: t0.utc)
            log.event("Garbled: 8=FIX.4.4|9=12|35=A|554=hunter2|10=000|", at: at(2).utc)
        }
        let messages = String(
            decoding: readFile(dir.path + "/logs/FIX.4.4-ISLD-TW.messages.current.log"), as: UTF8.self)
        let expectedLogon =
            logon.byteArray.split(separator: SOH).map { String(decoding: $0, as: UTF8.self) }
            .map { $0 == "554=s3cret" ? "554=***" : $0 }.joined(separator: "\u{1}") + "\u{1}"
        #expect(
            messages == "20240304-10:00:00.000 : \(expectedLogon)\n"
                + "20240304-10:00:01.500 : \(String(decoding: tw.message("0", seq: 2).byteArray, as: UTF8.self))\n")
        #expect(!messages.contains("s3cret"))
        let events = String(decoding: readFile(dir.path + "/logs/FIX.4.4-ISLD-TW.event.current.log"), as: UTF8.self)
        #expect(
            events == "20240304-10:00:00.000 : Logged on, HeartBtInt=30\n"
                + "20240304-10:00:02.000 : Garbled: 8=FIX.4.4|9=12|35=A|554=***|10=000|\n")
    }

    @Test func fileLogAppendsAcrossRestarts() throws {
        let dir = try TemporaryDirectory()
        for second in 0..<2 {
            let log = try FileSessionLog(directory: dir.path, identity: isld)
            log.event("start \(second)", at: at(Double(second)).utc)
        }
        let events = String(decoding: readFile(dir.path + "/FIX.4.4-ISLD-TW.event.current.log"), as: UTF8.self)
        #expect(events == "20240304-10:00:00.000 : start 0\n20240304-10:00:01.000 : start 1\n")
    }

    @Test func memoryAndCompositeLogsMaskToo() {
        let a = MemorySessionLog()
        let b = MemorySessionLog()
        let log = CompositeSessionLog([a, b])
        log.outgoing(logon.bytes, at: t0.utc)
        log.event("554=s3cret", at: t0.utc)
        for m in [a, b] {
            #expect(m.messages.count == 1)
            #expect(m.messages[0].contains("\u{1}554=***\u{1}"))
            #expect(!m.messages[0].contains("s3cret"))
            #expect(m.events == ["20240304-10:00:00.000 : 554=***"])
        }
    }

    @Test func maskingLeavesOtherTagsEndingIn554Alone() {
        #expect(FIXLogFormat.maskedText("1554=x|554=y|2554=z") == "1554=x|554=***|2554=z")
        #expect(FIXLogFormat.maskedText("925=new|58=ok") == "925=***|58=ok")
    }

    @Test func swiftLogReceivesMaskedLinesWithTheSession() {
        let handler = CapturingLogHandler()
        let logger = Logger(label: "fix") { _ in handler }
        let log = SwiftLogSessionLog(logger: logger, identity: isld, messageLevel: .info)
        log.outgoing(logon.bytes, at: t0.utc)
        log.event(SessionEvent.logoutSent(text: "bye"), at: t0.utc)
        let lines = handler.lines
        #expect(lines.count == 2)
        #expect(lines[0].message.contains("|554=***|"))
        #expect(!lines[0].message.contains("s3cret"))
        #expect(lines[0].metadata["fix.session"] == "FIX.4.4:ISLD->TW")
        #expect(lines[0].metadata["fix.direction"] == "out")
        #expect(lines[1].message == "Sent logout: bye")
    }
}

final class CapturingLogHandler: LogHandler, Sendable {
    struct Line: Sendable {
        var level: Logger.Level
        var message: String
        var metadata: [String: String]
    }

    private let captured = Mutex<[Line]>([])
    private let settings = Mutex<(Logger.Metadata, Logger.Level)>(([:], .trace))

    var lines: [Line] { captured.withLock { $0 } }

    var metadata: Logger.Metadata {
        get { settings.withLock { $0.0 } }
        set { settings.withLock { $0.0 = newValue } }
    }

    var logLevel: Logger.Level {
        get { settings.withLock { $0.1 } }
        set { settings.withLock { $0.1 = newValue } }
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var all = metadata
        if let extra = event.metadata { all.merge(extra) { $1 } }
        let flat = all.mapValues { "\($0)" }
        captured.withLock { $0.append(Line(level: event.level, message: "\(event.message)", metadata: flat)) }
    }
}
