import CopyEngine
import FIXCore
import Foundation
import Testing

@testable import CopyBridgeAgent

/// One of every kind of entry, with the awkward values: empty and non-ASCII strings, negative and
/// high-scale decimals, absent optionals, extreme times.
let journalSamples: [JournalEntry] = {
    let intent = OrderIntent(
        clOrdID: "A1b2C3d4E5f6G7h800", session: "folbrk-orders", symbol: "EUR/USD", brokerSymbol: "EURUSD.m",
        side: .sell, quantity: 25000, brokerQuantity: FixedDecimal("0.25")!, ordType: .limit, timeInForce: .gtc,
        price: FixedDecimal("1.08503"), account: "BOB",
        allocations: [
            .init(followerID: "bob", account: "BOB", quantity: 15000, brokerQuantity: FixedDecimal("0.15")!),
            .init(followerID: "zoë", account: "ZOË", quantity: 10000, brokerQuantity: FixedDecimal("0.10")!),
        ],
        signal: "EXEC-42", attempt: 3, block: true, createdAt: 1_767_225_600_123_456_789)
    let unsentIntent = OrderIntent(
        clOrdID: "", session: "s", symbol: "XAU/USD", brokerSymbol: "GOLD", side: .buy, quantity: 1,
        brokerQuantity: 1, ordType: .market, timeInForce: .ioc, price: nil, account: nil, allocations: [],
        signal: "init:XAU/USD", attempt: 0, block: false, createdAt: 0)
    let er = Array("8=FIX.4.4\u{1}9=5\u{1}35=8\u{1}10=000\u{1}".utf8)
    return [
        .engine(.message(session: "provbrk-dropcopy", bytes: JournalBytes(er), receivedAt: 1_767_225_600_000_000_001)),
        .engine(.message(session: "", bytes: JournalBytes([]), receivedAt: 0)),
        .engine(.sessionUp(session: "folbrk-orders", at: Int64.max)),
        .engine(.sessionDown(session: "folbrk-orders", at: Int64.min)),
        .engine(.mark(MarkSnapshot(symbol: "XAU/USD", bid: FixedDecimal("2650.15"), ask: nil, at: -1))),
        .engine(.mark(MarkSnapshot(symbol: "USD/JPY", bid: nil, ask: FixedDecimal("-0.000000000000000001"), at: 7))),
        .engine(.tick(at: 1_767_225_600_050_000_000)),
        .engine(.command(.pauseFollower("bob"), at: 1)),
        .engine(.command(.resumeFollower("bob"), at: 2)),
        .engine(.command(.setEquity(id: "alice", equity: FixedDecimal("123456789012345678.5")!), at: 3)),
        .engine(.sessionDown(session: "folbrk-orders", at: 12, planned: true)),
        .engine(.command(.disableProvider("alice", flatten: true), at: 13, actor: "ctl:ops@127.0.0.1", reason: "bot")),
        .engine(.command(.disableProvider("alice", flatten: false), at: 14, actor: "http@::1", reason: nil)),
        .engine(.command(.enableProvider("alice"), at: 15)),
        .engine(.command(.flattenFollower("bob"), at: 16, actor: "a", reason: "")),
        .engine(.command(.resetBreaker("follower:bob:daily-loss"), at: 17, actor: "a", reason: "b")),
        .engine(.command(.resync, at: 18)),
        .engine(
            .breaker(
                BreakerRecord(
                    name: "follower:bob:daily-loss", tripped: true, reason: .dailyLossLimit,
                    detail: "loss=512.5 bound=500", at: 19))),
        .engine(
            .breaker(BreakerRecord(name: "broker:beta", tripped: false, reason: .breakerReset, detail: "", at: 20))),
        .engine(.recoveryComplete(at: 4)),
        .engine(.order(intent)),
        .engine(.order(unsentIntent)),
        .audit(
            .command(
                CommandAudit(
                    command: "pause bob", actor: "ctl:ops@10.0.0.1", reason: "broker maintenance", outcome: "applied",
                    at: 5))),
        .audit(
            .command(
                CommandAudit(
                    command: "resume bob", actor: "", reason: nil, outcome: "refused: no follower 'bob'", at: 6))),
        .audit(
            .decision(
                CopyDecision(
                    reason: .belowMinQty, followerID: "bob", providerID: "alice", symbol: "EUR/USD", signal: "E1",
                    clOrdID: "X", quantity: FixedDecimal("-0.5"), detail: "0.5 < MinQty 1"), at: 7)),
        .audit(.decision(CopyDecision(reason: .replayDivergence), at: 8)),
        .audit(
            .alert(
                AlertAudit(
                    alert: "tick_to_copy_p99", active: true, message: "p99 over 500 ms", value: 612.5,
                    threshold: 500, at: 9))),
        .audit(
            .alert(AlertAudit(alert: "fill_rate", active: false, message: "", value: .nan, threshold: -0.0, at: 10))),
        .audit(.note("agent started: ünïcödé ✓", at: 11)),
    ]
}()

private func frames(_ entries: [JournalEntry]) -> [UInt8] {
    var bytes = JournalCodec.magic
    for entry in entries { JournalCodec.appendFrame(entry, to: &bytes) }
    return bytes
}

@Suite("Journal")
struct JournalTests {
    @Test("every kind of entry survives encoding and decoding unchanged")
    func roundTrip() throws {
        let bytes = frames(journalSamples)
        let scan = try JournalReader.scan(bytes, path: "memory")
        #expect(scan.entries == journalSamples)
        #expect(scan.validLength == bytes.count)
        #expect(scan.tornTailBytes == 0)
        #expect(
            scan.engineRecords.count == journalSamples.filter { if case .engine = $0 { true } else { false } }.count)
    }

    @Test("integers, decimals and strings are written as plain LEB128 and length-prefixed bytes")
    func fieldEncodingIsTheDocumentedFormat() {
        // A reference encoder written the plain way, one byte at a time in 128-bit arithmetic.
        func leb128(_ value: UInt128) -> [UInt8] {
            var v = value
            var out: [UInt8] = []
            while v >= 0x80 {
                out.append(UInt8(truncatingIfNeeded: v) | 0x80)
                v >>= 7
            }
            out.append(UInt8(truncatingIfNeeded: v))
            return out
        }
        func zigzag(_ m: Int128) -> UInt128 { UInt128(bitPattern: (m << 1) ^ (m >> 127)) }
        // Each side of every 7-bit boundary, up to the widest mantissa.
        var mantissas: [Int128] = [0, 1, -1, Int128.max, Int128.min + 1]
        for bits in stride(from: 6, through: 126, by: 1) {
            let p = Int128(1) << bits
            mantissas += [p - 1, p, p + 1, -p, -p - 1]
        }
        for m in mantissas {
            var w = JournalWriterBuffer(bytes: [])
            w.decimal(FixedDecimal(mantissa: m, scale: 7))
            #expect(w.bytes == leb128(zigzag(m)) + [7], "mantissa \(m)")
            if m >= 0 && m <= Int128(UInt64.max) {
                var u = JournalWriterBuffer(bytes: [])
                u.uvarint(UInt64(m))
                #expect(u.bytes == leb128(UInt128(m)), "uvarint \(m)")
            }
        }
        for text in ["", "a", "EUR/USD", "ünïcödé ✓", String(repeating: "x", count: 200)] {
            var w = JournalWriterBuffer(bytes: [9])
            w.string(text)
            #expect(w.bytes == [9] + leb128(UInt128(text.utf8.count)) + Array(text.utf8), "string \(text)")
        }
    }

    @Test("a file round trip: append, commit, close, reopen, append more")
    func fileRoundTrip() throws {
        let folder = try TestFolder()
        let path = folder.path + "/nested/journal.cbj"
        let (journal, first) = try Journal.open(path: path, policy: .always)
        #expect(first.entries.isEmpty)
        for entry in journalSamples.prefix(10) {
            switch entry {
            case .engine(let r): journal.append(r)
            case .audit(let r): journal.append(r)
            }
        }
        #expect(journal.hasPending)
        try journal.commit()
        #expect(!journal.hasPending && !journal.needsSync)
        try journal.close()

        let (reopened, second) = try Journal.open(path: path, policy: .batch)
        #expect(second.entries == Array(journalSamples.prefix(10)))
        for entry in journalSamples.dropFirst(10) {
            switch entry {
            case .engine(let r): reopened.append(r)
            case .audit(let r): reopened.append(r)
            }
        }
        try reopened.commit()
        #expect(reopened.needsSync, "batch leaves the sync to the flush hook")
        try reopened.sync()
        #expect(!reopened.needsSync)
        try reopened.close()
        #expect(try JournalReader.read(path: path).entries == journalSamples)
    }

    @Test("a frame torn at any byte is dropped, the file is cut back, and appending goes on")
    func tornTail() throws {
        let whole = frames(Array(journalSamples.prefix(5)))
        var last: [UInt8] = []
        JournalCodec.appendFrame(journalSamples[11], to: &last)  // an order record
        for cut in [1, 4, 7, 8, 9, last.count / 2, last.count - 1] {
            let folder = try TestFolder()
            let path = folder.path + "/journal.cbj"
            try Data(whole + last.prefix(cut)).write(to: URL(fileURLWithPath: path))
            let (journal, scan) = try Journal.open(path: path, policy: .always)
            #expect(scan.entries == Array(journalSamples.prefix(5)), "cut at \(cut)")
            // Zeros at the end of the cut piece count as reserved space (the length's high bytes).
            #expect(scan.tornTailBytes > 0 && scan.tornTailBytes + scan.zeroTailBytes == cut)
            #expect(journal.size == whole.count)
            let file = try Data(contentsOf: URL(fileURLWithPath: path))
            #expect(file.prefix(whole.count) == Data(whole) && file.dropFirst(whole.count).allSatisfy { $0 == 0 })
            journal.append(AuditRecord.note("after the crash", at: 1))
            try journal.close()
            let entries = try JournalReader.read(path: path).entries
            #expect(entries == Array(journalSamples.prefix(5)) + [.audit(.note("after the crash", at: 1))])
        }
    }

    @Test("a last frame whose bytes were not all written (checksum fails) is a torn tail")
    func garbledLastFrame() throws {
        var bytes = frames(Array(journalSamples.prefix(3)))
        let valid = bytes.count
        JournalCodec.appendFrame(journalSamples[3], to: &bytes)
        bytes[bytes.count - 2] ^= 0xFF
        let scan = try JournalReader.scan(bytes, path: "memory")
        #expect(scan.entries == Array(journalSamples.prefix(3)))
        #expect(scan.validLength == valid)
        #expect(scan.tornTailBytes == bytes.count - valid)

        // Zeros where the file grew but the data never landed: reserved space, not a torn frame.
        let zeros = frames(Array(journalSamples.prefix(3))) + [UInt8](repeating: 0, count: 4096)
        let reserved = try JournalReader.scan(zeros, path: "memory")
        #expect(reserved.entries == Array(journalSamples.prefix(3)))
        #expect(reserved.tornTailBytes == 0 && reserved.zeroTailBytes == 4096)

        // A frame torn before the reserved space: the torn bytes, then the zeros.
        let tornThenZeros = Array(bytes.dropLast(5)) + [UInt8](repeating: 0, count: 100)
        let both = try JournalReader.scan(tornThenZeros, path: "memory")
        #expect(both.validLength == valid)
        #expect(both.tornTailBytes == bytes.count - 5 - valid && both.zeroTailBytes == 100)
    }

    @Test("a crash leaves the reserved space as zeros: the next open reads every frame and cuts them off")
    func crashLeavesZeros() throws {
        let folder = try TestFolder()
        let path = folder.path + "/journal.cbj"
        let (journal, _) = try Journal.open(path: path, policy: .never)
        // Past the first reserved step, so the file grows and is mapped again on the way.
        let text = String(repeating: "x", count: 900)
        let count = 3000
        for k in 0..<count {
            journal.append(AuditRecord.note("\(k) \(text)", at: Int64(k)))
            if k % 7 == 0 { try journal.commit() }
            if k % 50 == 0 { journal.prepare() }
        }
        try journal.commit()
        let written = journal.size
        #expect(written > 2 * Journal.minimumGrowth)
        journal.append(AuditRecord.note("never committed", at: 0))
        journal.abandon()

        let file = try Data(contentsOf: URL(fileURLWithPath: path))
        #expect(file.count > written, "the reserved space is still there after a crash")
        let (reopened, scan) = try Journal.open(path: path, policy: .never)
        #expect(scan.entries.count == count)
        #expect(scan.entries.last == .audit(.note("\(count - 1) \(text)", at: Int64(count - 1))))
        #expect(scan.validLength == written && scan.tornTailBytes == 0 && scan.zeroTailBytes == file.count - written)
        reopened.append(AuditRecord.note("after the crash", at: 1))
        try reopened.close()
        let closed = try JournalReader.read(path: path)
        #expect(closed.entries.count == count + 1 && closed.zeroTailBytes == 0)
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)).count == closed.validLength, "close cuts it off")
    }

    @Test("a damaged frame followed by valid ones is corruption, not a torn tail: the journal refuses to open")
    func corruptionInTheMiddle() throws {
        var bytes = frames(Array(journalSamples.prefix(6)))
        bytes[JournalCodec.magic.count + JournalCodec.frameHeaderSize + 2] ^= 0x40
        #expect(throws: JournalError.self) { try JournalReader.scan(bytes, path: "memory") }
        let folder = try TestFolder()
        let path = folder.path + "/journal.cbj"
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        let error = #expect(throws: JournalError.self) { try Journal.open(path: path, policy: .always) }
        #expect(error?.reason.contains("not a torn tail") == true)
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == Data(bytes), "a corrupt journal is left as it is")
    }

    @Test("a file that is not a journal is refused; a header torn at creation starts afresh")
    func headers() throws {
        #expect(throws: JournalError.self) { try JournalReader.scan(Array("8=FIX.4.4\u{1}".utf8), path: "x") }
        let torn = try JournalReader.scan(Array(JournalCodec.magic.prefix(3)), path: "x")
        #expect(torn.entries.isEmpty && torn.validLength == 0 && torn.tornTailBytes == 3)
        let folder = try TestFolder()
        let path = folder.path + "/journal.cbj"
        try Data(JournalCodec.magic.prefix(5)).write(to: URL(fileURLWithPath: path))
        let (journal, _) = try Journal.open(path: path, policy: .never)
        journal.append(.tick(at: 1))
        try journal.close()
        #expect(try JournalReader.read(path: path).entries == [.engine(.tick(at: 1))])
    }

    @Test("a command record of the first format (no actor, no reason) is still read")
    func firstFormatCommand() throws {
        var payload: [UInt8] = [JournalCodec.Kind.command.rawValue, 0, 3]
        payload += Array("bob".utf8)
        payload.append(14)  // zig-zagged 7
        var bytes = JournalCodec.magic
        bytes += withUnsafeBytes(of: UInt32(payload.count).littleEndian, Array.init)
        bytes += withUnsafeBytes(of: CRC32C.checksum(payload).littleEndian, Array.init)
        bytes += payload
        let scan = try JournalReader.scan(bytes, path: "j")
        #expect(scan.engineRecords == [.command(.pauseFollower("bob"), at: 7, actor: "", reason: nil)])
    }

    @Test("a checksum-valid payload this version cannot read names the frame")
    func unknownKind() throws {
        var bytes = JournalCodec.magic
        let payload: [UInt8] = [200, 1, 2, 3]
        bytes += withUnsafeBytes(of: UInt32(payload.count).littleEndian, Array.init)
        bytes += withUnsafeBytes(of: CRC32C.checksum(payload).littleEndian, Array.init)
        bytes += payload
        let error = #expect(throws: JournalError.self) { try JournalReader.scan(bytes, path: "j") }
        #expect(error?.reason.contains("byte 8") == true)
    }

    @Test("CRC-32C matches the standard check value")
    func crc() {
        #expect(CRC32C.checksum(Array("123456789".utf8)) == 0xE306_9283)
        #expect(CRC32C.checksum([UInt8]()) == 0)
        let long = [UInt8](repeating: 0xA5, count: 1000)
        // The eight-byte loop and the byte loop agree.
        var bytewise: UInt32 = 0xFFFF_FFFF
        for b in long {
            bytewise ^= UInt32(b)
            for _ in 0..<8 { bytewise = bytewise & 1 != 0 ? (bytewise >> 1) ^ 0x82F6_3B78 : bytewise >> 1 }
        }
        #expect(CRC32C.checksum(long) == bytewise ^ 0xFFFF_FFFF)
    }

    @Test("the processor's CRC-32C instruction and the tables agree at every length and alignment")
    func crcHardwareMatchesTables() {
        // Bytes that vary in every bit position (a multiplicative hash of the index).
        let data = (0..<4096).map { UInt8(truncatingIfNeeded: (UInt64($0) &* 0x9E37_79B9_7F4A_7C15) >> 29) }
        data.withUnsafeBytes { all in
            for start in 0..<9 {
                for length in [0, 1, 3, 7, 8, 9, 15, 16, 17, 63, 64, 65, 255, 1000, 4000] {
                    let bytes = UnsafeRawBufferPointer(rebasing: all[start..<(start + length)])
                    #expect(
                        CRC32C.checksum(bytes) == CRC32C.softwareChecksum(bytes), "\(length) bytes from \(start)")
                }
            }
        }
        #if arch(x86_64)
            // Every x86-64 processor this runs on in practice has SSE 4.2 (2008 on); the test
            // machine certainly does, so the instruction's path is the one compared above.
            #expect(CRC32C.usesHardware)
        #endif
    }

    @Test("a journal that cannot be written refuses every later commit")
    func writeFailureSticks() throws {
        let folder = try TestFolder()
        let (journal, _) = try Journal.open(path: folder.path + "/journal.cbj", policy: .always)
        journal.abandon()
        journal.append(.tick(at: 1))
        #expect(throws: JournalError.self) { try journal.commit() }
        #expect(throws: JournalError.self) { try journal.sync() }
    }
}
