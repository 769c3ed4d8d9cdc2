import FIXCore
import NIOCore
import Synchronization
import Testing

@testable import FIXSession

/// A store that records how much each read returns, to prove resends read in bounded chunks.
final class CountingStore: MessageStore {
    let inner = MemoryStore()
    private let reads = Mutex<[Int]>([])

    var readSizes: [Int] { reads.withLock { $0 } }

    var nextSenderMsgSeqNum: Int { inner.nextSenderMsgSeqNum }
    var nextTargetMsgSeqNum: Int { inner.nextTargetMsgSeqNum }
    var creationTime: UTCTimestamp { inner.creationTime }
    func save(_ message: ByteBuffer, seqNum: Int) throws(MessageStoreError) { try inner.save(message, seqNum: seqNum) }
    func setNextSenderMsgSeqNum(_ value: Int) throws(MessageStoreError) { try inner.setNextSenderMsgSeqNum(value) }
    func setNextTargetMsgSeqNum(_ value: Int) throws(MessageStoreError) { try inner.setNextTargetMsgSeqNum(value) }
    func messages(in range: ClosedRange<Int>) throws(MessageStoreError) -> [StoredMessage] {
        let result = try inner.messages(in: range)
        reads.withLock { $0.append(result.count) }
        return result
    }
    func reset(creationTime: UTCTimestamp) throws(MessageStoreError) { try inner.reset(creationTime: creationTime) }
    func refresh() throws(MessageStoreError) {}
    func sync() throws(MessageStoreError) {}
}

@Suite struct ResendReplayTests {
    /// Sends `count` messages from a logged-on acceptor: every seventh is a Heartbeat (not kept), the
    /// rest orders. Returns the machine, the store and which sequence numbers were orders.
    func session(count: Int, chunk: Int) throws -> (SessionStateMachine, CountingStore, Set<Int>) {
        let store = CountingStore()
        var m = SessionStateMachine(configuration: configuration(.acceptor) { $0.resendRequestChunkSize = chunk })
        _ = m.connected(at: t0)
        for a in m.received(tw.logon(), at: t0) { if case .send(let out) = a { for o in out { try store.record(o) } } }
        var orders: Set<Int> = []
        var clock = 0.0
        while m.nextSenderMsgSeqNum <= count {
            let seq = m.nextSenderMsgSeqNum
            clock += 0.001
            let actions: [SessionAction]
            if seq % 7 == 0 {
                // A TestRequest makes the machine answer with a Heartbeat of its own.
                actions = m.received(tw.message("1", seq: m.nextTargetMsgSeqNum, [(112, "T")]), at: at(clock))
            } else {
                actions = try m.send(newOrder("O\(seq)"), at: at(clock))
                orders.insert(seq)
            }
            for a in actions { if case .send(let out) = a { for o in out { try store.record(o) } } }
        }
        return (m, store, orders)
    }

    /// (ResendRequestChunkSize, messages sent): thousands of messages, kept to a few thousand
    /// because debug builds encode slowly.
    @Test(arguments: [(0, 2_500), (100, 3_000)])
    func thousandsOfMessagesAreReplayedChunkByChunk(chunk: Int, count: Int) throws {
        var (m, store, orders) = try session(count: count, chunk: chunk)
        let request = tw.message("2", seq: m.nextTargetMsgSeqNum, at: at(60), [(7, "1"), (16, "0")])
        let actions = m.received(request, at: at(60))
        let replays = actions.resends
        try #require(replays.count == 1)
        var replay = replays[0]
        #expect(replay.beginSeqNo == 1 && replay.endSeqNo == count)
        let readChunk = chunk > 0 ? chunk : SessionConfiguration.defaultResendReadChunkSize
        #expect(replay.chunkSize == readChunk)

        var batches: [[OutboundMessage]] = []
        try store.run(&replay) { batches.append($0) }
        // Memory: no read and no write batch holds more than a chunk (plus the GapFill before it).
        #expect(store.readSizes.allSatisfy { $0 <= readChunk })
        #expect(store.readSizes.count == (count + readChunk - 1) / readChunk)
        #expect(batches.allSatisfy { $0.count <= readChunk + 1 })

        // Every sequence number is accounted for exactly once, in order.
        var next = 1
        var resent = 0
        for message in batches.joined() {
            let frame = try FIXFrameDecoder().decodeOne(message.bytes)
            #expect(message.seqNum == next)
            #expect(frame[43] == "Y")
            #expect(message.storage == .none)
            if message.msgType == "4" {
                let newSeqNo = try frame.int(36)
                #expect(frame[123] == "Y")
                #expect((next..<newSeqNo).allSatisfy { !orders.contains($0) }, "a GapFill skipped an order")
                next = newSeqNo
            } else {
                #expect(orders.contains(next))
                #expect(frame[11] == "O\(next)")
                #expect(frame[52] == "\(at(60).utc)")
                #expect(frame[122] != frame[52])
                resent += 1
                next += 1
            }
        }
        #expect(next == count + 1)
        #expect(resent == orders.count)
        #expect(replay.resentCount == orders.count)
        // The Logon and the Heartbeats are single, so each is one GapFill.
        #expect(replay.gapFillCount == count / 7 + 1)
    }

    @Test func adminRunsAcrossChunkBoundariesBecomeOneGapFill() throws {
        let store = MemoryStore()
        try store.save(sentOrder(1), seqNum: 1)
        try store.save(sentOrder(9), seqNum: 9)
        try store.setNextSenderMsgSeqNum(12)
        var replay = ResendReplay(
            beginSeqNo: 1, endSeqNo: 11, chunkSize: 3, header: OutboundHeader(identity: isld, precision: .milliseconds),
            now: at(60).utc)
        var batches: [[Int]] = []
        var written: [OutboundMessage] = []
        try store.run(&replay) { chunk in
            batches.append(chunk.map(\.seqNum))
            written += chunk
        }
        #expect(written.map(\.msgType) == ["D", "4", "D", "4"])
        #expect(written.map(\.seqNum) == [1, 2, 9, 10])
        let fills = try written.filter { $0.msgType == "4" }.map { try FIXFrameDecoder().decodeOne($0.bytes).int(36) }
        #expect(fills == [9, 12])
        #expect(batches == [[1], [2, 9], [10]])
    }

    @Test func resentMessageKeepsItsBodyVerbatimAndRewritesTheHeader() throws {
        // A stored message with repeated group fields and a user-defined tag: the body must not move.
        let original = raw([
            (35, "D"), (34, "2"), (49, "ISLD"), (52, "20240304-09:00:00.000"), (56, "TW"), (11, "X"), (78, "2"),
            (79, "A"), (80, "1"), (79, "B"), (80, "2"), (5001, "keep"), (21, "3"),
        ])
        let store = MemoryStore()
        try store.save(original.bytes, seqNum: 2)
        var replay = ResendReplay(
            beginSeqNo: 2, endSeqNo: 2, chunkSize: 10, header: OutboundHeader(identity: isld, precision: .milliseconds),
            now: t0.utc)
        var written: [OutboundMessage] = []
        try store.run(&replay) { written += $0 }
        let expected = raw([
            (35, "D"), (34, "2"), (43, "Y"), (49, "ISLD"), (52, "\(t0.utc)"), (56, "TW"),
            (122, "20240304-09:00:00.000"), (11, "X"), (78, "2"), (79, "A"), (80, "1"), (79, "B"), (80, "2"),
            (5001, "keep"), (21, "3"),
        ])
        #expect(written.map(\.bytes) == [expected.bytes])
    }
}

@Suite struct MemoryStoreTests {
    @Test func readsAnyRangeInOrder() throws {
        let store = MemoryStore()
        for seq in [3, 5, 8] { try store.save(sentOrder(seq), seqNum: seq) }
        #expect(try store.messages(in: 4...8).map(\.seqNum) == [5, 8])
        #expect(try store.messages(in: Int.min...Int.max).map(\.seqNum) == [3, 5, 8])
        #expect(try store.messages(in: 5...5).map(\.bytes) == [sentOrder(5)])
        #expect(store.nextSenderMsgSeqNum == 9)
        try store.reset(creationTime: at(1).utc)
        #expect(store.messageCount == 0 && store.nextSenderMsgSeqNum == 1 && store.creationTime == at(1).utc)
    }
}

@Suite("Outbound header")
struct OutboundHeaderTests {
    /// The header a session writes afresh for each message is the one `stamp` sets, with every
    /// optional identity field or none, and in a builder reused from a longer header before.
    @Test(arguments: [false, true])
    func freshHeaderEqualsTheStampedOne(optionals: Bool) {
        let identity = SessionIdentity(
            beginString: "FIXT.1.1", senderCompID: "COPYBRIDGE", senderSubID: optionals ? "DESK" : nil,
            senderLocationID: optionals ? "LDN" : nil, targetCompID: "BROKER-WITH-A-LONG-COMP-ID",
            targetSubID: optionals ? "FX" : nil, targetLocationID: optionals ? "NY4" : nil)
        let header = OutboundHeader(identity: identity, precision: .microseconds)
        let time = UTCTimestamp(nanosecondsSinceEpoch: 1_795_000_000_123_456_789, precision: .nanoseconds)
        var reused = FIXMessageBuilder(msgType: "", byteCapacity: 16, fieldCapacity: 2)
        for seq in [1, 99_999_999] {
            var stamped = FIXMessageBuilder(msgType: "D", beginString: "FIX.4.4")
            header.stamp(&stamped, seqNum: seq, sendingTime: time)
            header.stampFresh(&reused, msgType: "D", seqNum: seq, sendingTime: time)
            #expect(reused.beginString == "FIXT.1.1")
            #expect(reused.encoded() == stamped.encoded())
            #expect(reused[FIXTag.sendingTime] == "20261118-11:06:40.123456")
        }
    }
}
