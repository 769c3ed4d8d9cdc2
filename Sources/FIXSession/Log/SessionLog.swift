import FIXCore
import Logging
import NIOCore
import Synchronization

/// Where a session's messages and events are written: one line per message or event.
///
/// Implementations mask passwords (554, 925) in messages and in event text alike.
public protocol SessionLog: Sendable {
    /// A message received (the whole frame).
    func incoming(_ frame: ByteBuffer, at time: UTCTimestamp)
    /// A message sent (the whole frame).
    func outgoing(_ frame: ByteBuffer, at time: UTCTimestamp)
    /// A line of the event log.
    func event(_ text: String, at time: UTCTimestamp)
}

extension SessionLog {
    /// Logs a session event in its QuickFIX-like wording.
    public func event(_ event: SessionEvent, at time: UTCTimestamp) {
        self.event(event.description, at: time)
    }
}

extension FIXLogFormat {
    /// `YYYYMMDD-HH:MM:SS.sss : <text>`, the line QuickFIX's file log writes.
    public static func line(_ text: String, at time: UTCTimestamp) -> String {
        "\(time.with(precision: .milliseconds)) : \(text)"
    }

    /// `text` with the value of every masked tag (`554=...` up to SOH, `|`, or the end) replaced by `***`.
    public static func maskedText(_ text: String) -> String {
        var bytes = Array(text.utf8)
        var changed = false
        for tag in maskedTags {
            let needle = Array("\(tag)=".utf8)
            var i = 0
            while i + needle.count <= bytes.count {
                let atFieldStart = i == 0 || bytes[i - 1] == SOH || bytes[i - 1] == UInt8(ascii: "|")
                if atFieldStart && bytes[i..<(i + needle.count)].elementsEqual(needle) {
                    let valueStart = i + needle.count
                    var valueEnd = valueStart
                    while valueEnd < bytes.count && bytes[valueEnd] != SOH && bytes[valueEnd] != UInt8(ascii: "|") {
                        valueEnd += 1
                    }
                    if bytes[valueStart..<valueEnd].elementsEqual("***".utf8) {
                        i = valueEnd
                        continue
                    }
                    bytes.replaceSubrange(valueStart..<valueEnd, with: Array("***".utf8))
                    changed = true
                    i = valueStart + 3
                } else {
                    i += 1
                }
            }
        }
        return changed ? String(decoding: bytes, as: UTF8.self) : text
    }
}

/// QuickFIX's file log: `FIX.4.4-SENDER-TARGET.messages.current.log` and
/// `FIX.4.4-SENDER-TARGET.event.current.log` under FileLogPath, appended to, one line each,
/// `YYYYMMDD-HH:MM:SS.sss : <message or event>`. Messages keep their SOH separators.
public final class FileSessionLog: SessionLog {
    public let messagesPath: String
    public let eventPath: String
    private let files: Mutex<Files>

    private struct Files: ~Copyable {
        var messages: PosixFile
        var events: PosixFile
        var messagesEnd: Int
        var eventsEnd: Int
    }

    public init(directory: String, identity: SessionIdentity) throws(MessageStoreError) {
        try PosixFS.makeDirectories(directory)
        let base = (directory.hasSuffix("/") ? directory : directory + "/") + identity.fileNameStem
        messagesPath = base + ".messages.current.log"
        eventPath = base + ".event.current.log"
        let messages = try PosixFile(path: messagesPath)
        let events = try PosixFile(path: eventPath)
        let messagesEnd = try messages.size()
        let eventsEnd = try events.size()
        files = Mutex(Files(messages: messages, events: events, messagesEnd: messagesEnd, eventsEnd: eventsEnd))
    }

    public func incoming(_ frame: ByteBuffer, at time: UTCTimestamp) { writeMessage(frame, at: time) }

    public func outgoing(_ frame: ByteBuffer, at time: UTCTimestamp) { writeMessage(frame, at: time) }

    public func event(_ text: String, at time: UTCTimestamp) {
        let line = Array((FIXLogFormat.line(FIXLogFormat.maskedText(text), at: time) + "\n").utf8)
        files.withLock { f in
            // A log that cannot be written must not stop trading: the line is lost, the session goes on.
            if (try? f.events.write(line, at: f.eventsEnd)) != nil { f.eventsEnd += line.count }
        }
    }

    private func writeMessage(_ frame: ByteBuffer, at time: UTCTimestamp) {
        let line = Array((FIXLogFormat.line(FIXLogFormat.masked(frame), at: time) + "\n").utf8)
        files.withLock { f in
            if (try? f.messages.write(line, at: f.messagesEnd)) != nil { f.messagesEnd += line.count }
        }
    }
}

/// Keeps the lines in memory, for tests and the dashboard's recent activity.
public final class MemorySessionLog: SessionLog {
    private let state = Mutex<([String], [String])>(([], []))

    public init() {}

    /// Message lines, as the file log would write them (SOH kept, passwords masked).
    public var messages: [String] { state.withLock { $0.0 } }
    /// Event lines.
    public var events: [String] { state.withLock { $0.1 } }

    public func incoming(_ frame: ByteBuffer, at time: UTCTimestamp) {
        let line = FIXLogFormat.line(FIXLogFormat.masked(frame), at: time)
        state.withLock { $0.0.append(line) }
    }

    public func outgoing(_ frame: ByteBuffer, at time: UTCTimestamp) {
        let line = FIXLogFormat.line(FIXLogFormat.masked(frame), at: time)
        state.withLock { $0.0.append(line) }
    }

    public func event(_ text: String, at time: UTCTimestamp) {
        let line = FIXLogFormat.line(FIXLogFormat.maskedText(text), at: time)
        state.withLock { $0.1.append(line) }
    }
}

/// Sends the session's lines to swift-log: messages at `messageLevel` with `|` separators,
/// events at `eventLevel`, with the session in the metadata.
public struct SwiftLogSessionLog: SessionLog {
    public var logger: Logger
    public var messageLevel: Logger.Level
    public var eventLevel: Logger.Level

    public init(
        logger: Logger, identity: SessionIdentity, messageLevel: Logger.Level = .debug, eventLevel: Logger.Level = .info
    ) {
        var logger = logger
        logger[metadataKey: "fix.session"] = "\(identity)"
        self.logger = logger
        self.messageLevel = messageLevel
        self.eventLevel = eventLevel
    }

    public func incoming(_ frame: ByteBuffer, at time: UTCTimestamp) {
        logger.log(
            level: messageLevel, "\(FIXLogFormat.masked(frame, separator: UInt8(ascii: "|")))",
            metadata: ["fix.direction": "in", "fix.time": "\(time)"])
    }

    public func outgoing(_ frame: ByteBuffer, at time: UTCTimestamp) {
        logger.log(
            level: messageLevel, "\(FIXLogFormat.masked(frame, separator: UInt8(ascii: "|")))",
            metadata: ["fix.direction": "out", "fix.time": "\(time)"])
    }

    public func event(_ text: String, at time: UTCTimestamp) {
        logger.log(level: eventLevel, "\(FIXLogFormat.maskedText(text))", metadata: ["fix.time": "\(time)"])
    }
}

/// Writes every line to several logs (a file and swift-log, say).
public struct CompositeSessionLog: SessionLog {
    public var logs: [any SessionLog]

    public init(_ logs: [any SessionLog]) { self.logs = logs }

    public func incoming(_ frame: ByteBuffer, at time: UTCTimestamp) { for l in logs { l.incoming(frame, at: time) } }
    public func outgoing(_ frame: ByteBuffer, at time: UTCTimestamp) { for l in logs { l.outgoing(frame, at: time) } }
    public func event(_ text: String, at time: UTCTimestamp) { for l in logs { l.event(text, at: time) } }
}
