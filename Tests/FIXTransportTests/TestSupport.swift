import FIXCore
import FIXSession
import Foundation
import NIOCore
import Synchronization
import TestSupport
import Testing

@testable import FIXTransport

/// A fixed start for embedded clocks: 2024-03-01 12:00:00 UTC.
let testEpoch = UTCTimestamp(year: 2024, month: 3, day: 1, hour: 12)!

/// Builds the counterparty's messages for a session whose identity is `ours` (so the
/// counterparty's SenderCompID is our TargetCompID).
struct Counterparty {
    var ours: SessionIdentity
    var nextSeqNum = 1

    init(of ours: SessionIdentity) {
        self.ours = ours
    }

    /// The next message of `msgType` with a correct header, as wire bytes.
    mutating func frame(
        _ msgType: String, at time: UTCTimestamp, seqNum: Int? = nil,
        _ fields: (inout FIXMessageBuilder) -> Void = { _ in }
    ) -> ByteBuffer {
        var b = FIXMessageBuilder(msgType: msgType, beginString: ours.beginString)
        b.set(FIXTag.senderCompID, ours.targetCompID)
        b.set(FIXTag.targetCompID, ours.senderCompID)
        let seq = seqNum ?? nextSeqNum
        if seqNum == nil { nextSeqNum += 1 }
        b.set(FIXTag.msgSeqNum, seq)
        b.set(FIXTag.sendingTime, time.with(precision: .milliseconds))
        fields(&b)
        return b.encoded()
    }

    mutating func logon(at time: UTCTimestamp, heartBtInt: Int = 30) -> ByteBuffer {
        frame("A", at: time) { b in
            b.set(FIXTag.encryptMethod, 0)
            b.set(FIXTag.heartBtInt, heartBtInt)
        }
    }
}

/// Splits a buffer of outbound bytes into messages.
func decodeAll(_ buffer: ByteBuffer) throws -> [FIXMessage] {
    var b = buffer
    var out: [FIXMessage] = []
    let decoder = FIXFrameDecoder()
    while let r = decoder.next(from: &b) {
        switch r {
        case .message(let m): out.append(m)
        case .garbled(let e, _): throw e
        }
    }
    return out
}

/// A NewOrderSingle with what the QuickFIX dictionary requires.
func newOrderSingle(clOrdID: String, symbol: String = "EUR/USD", qty: Int = 1000) -> FIXMessageBuilder {
    var b = FIXMessageBuilder(msgType: "D")
    b.set(FIXTag.clOrdID, clOrdID)
    b.set(FIXTag.symbol, symbol)
    b.set(FIXTag.side, "1")
    b.set(FIXTag.transactTime, testEpoch)
    b.set(FIXTag.orderQty, qty)
    b.set(FIXTag.ordType, "1")
    return b
}

/// An ExecutionReport (New) for `clOrdID`.
func executionReport(clOrdID: String, execID: String) -> FIXMessageBuilder {
    var b = FIXMessageBuilder(msgType: "8")
    b.set(FIXTag.orderID, "O-\(clOrdID)")
    b.set(FIXTag.clOrdID, clOrdID)
    b.set(FIXTag.execID, execID)
    b.set(FIXTag.execType, "0")
    b.set(FIXTag.ordStatus, "0")
    b.set(FIXTag.symbol, "EUR/USD")
    b.set(FIXTag.side, "1")
    b.set(FIXTag.orderQty, 1000)
    b.set(FIXTag.leavesQty, 1000)
    b.set(FIXTag.cumQty, 0)
    b.set(FIXTag.avgPx, 0)
    return b
}

/// A session log that keeps event lines, so tests can wait for transport problems (a refused
/// TLS handshake, a failed connection attempt) that are not session events.
final class RecordingLog: SessionLog {
    let lines = Collector<String>()
    let memory = MemorySessionLog()

    func incoming(_ frame: ByteBuffer, at time: UTCTimestamp) { memory.incoming(frame, at: time) }
    func outgoing(_ frame: ByteBuffer, at time: UTCTimestamp) { memory.outgoing(frame, at: time) }
    func event(_ text: String, at time: UTCTimestamp) {
        memory.event(text, at: time)
        lines.append(text)
    }

    func waitForLine(containing text: String, timeout: Duration = .seconds(30)) async throws {
        try await lines.wait(for: "a log line containing '\(text)'", timeout: timeout) { lines in
            lines.contains { $0.contains(text) }
        }
    }
}

/// Follows one engine session's inbound sequence.
final class SessionWatcher: Sendable {
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

    var events: [SessionEvent] {
        collector.items.compactMap { if case .event(let e) = $0 { return e } else { return nil } }
    }

    var messages: [FIXMessage] {
        collector.items.compactMap { if case .message(let m) = $0 { return m } else { return nil } }
    }

    /// Waits for the `count`-th event matching `predicate`.
    func waitForEvent(
        _ what: String, count: Int = 1, timeout: Duration = .seconds(30),
        _ predicate: @escaping @Sendable (SessionEvent) -> Bool
    ) async throws {
        try await collector.wait(for: "\(what) on \(handle.identity)", timeout: timeout) { items in
            items.lazy.filter { if case .event(let e) = $0 { return predicate(e) } else { return false } }.count
                >= count
        }
    }

    func waitForLogon(count: Int = 1, timeout: Duration = .seconds(30)) async throws {
        try await waitForEvent("logon #\(count)", count: count, timeout: timeout) {
            if case .loggedOn = $0 { return true } else { return false }
        }
    }

    func waitForDisconnect(count: Int = 1, timeout: Duration = .seconds(30)) async throws {
        try await waitForEvent("disconnection #\(count)", count: count, timeout: timeout) {
            if case .disconnected = $0 { return true } else { return false }
        }
    }

    /// Waits until `count` application messages arrived.
    func waitForMessages(_ count: Int, timeout: Duration = .seconds(30)) async throws {
        try await collector.wait(for: "\(count) application messages on \(handle.identity)", timeout: timeout) {
            items in
            items.lazy.filter { if case .message = $0 { return true } else { return false } }.count >= count
        }
    }
}

/// The repository root, found from this file's path.
let repositoryRoot: URL = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()

/// Runs a program to completion and returns its exit status and output.
@discardableResult
func runProgram(_ path: String, _ arguments: [String], in directory: URL? = nil) throws -> (Int32, String) {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: path)
    p.arguments = arguments
    if let directory { p.currentDirectoryURL = directory }
    let pipe = Pipe()
    p.standardOutput = pipe
    p.standardError = pipe
    try p.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    return (p.terminationStatus, String(decoding: data, as: UTF8.self))
}

/// The first of `candidates` that exists and is executable.
func findExecutable(_ candidates: [String]) -> String? {
    candidates.first { FileManager.default.isExecutableFile(atPath: $0) }
}
