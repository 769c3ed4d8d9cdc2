import FIXCore
import NIOCore
import Synchronization

/// A store in memory: for tests, simulations and sessions that may restart from scratch.
public final class MemoryStore: MessageStore {
    private struct Contents: Sendable {
        var nextSender = 1
        var nextTarget = 1
        var creationTime: UTCTimestamp
        var messages: [Int: ByteBuffer] = [:]
    }

    private let contents: Mutex<Contents>

    public init(creationTime: UTCTimestamp = UTCTimestamp(nanosecondsSinceEpoch: 0)) {
        contents = Mutex(Contents(creationTime: creationTime))
    }

    public var nextSenderMsgSeqNum: Int { contents.withLock { $0.nextSender } }
    public var nextTargetMsgSeqNum: Int { contents.withLock { $0.nextTarget } }
    public var creationTime: UTCTimestamp { contents.withLock { $0.creationTime } }
    /// How many messages are kept.
    public var messageCount: Int { contents.withLock { $0.messages.count } }

    public func save(_ message: ByteBuffer, seqNum: Int) throws(MessageStoreError) {
        guard seqNum >= 1 else { throw MessageStoreError(.invalidArgument, "save(seqNum: \(seqNum))") }
        contents.withLock {
            $0.messages[seqNum] = message
            $0.nextSender = max($0.nextSender, seqNum + 1)
        }
    }

    public func setNextSenderMsgSeqNum(_ value: Int) throws(MessageStoreError) {
        guard value >= 1 else { throw MessageStoreError(.invalidArgument, "setNextSenderMsgSeqNum(\(value))") }
        contents.withLock { $0.nextSender = value }
    }

    public func setNextTargetMsgSeqNum(_ value: Int) throws(MessageStoreError) {
        guard value >= 1 else { throw MessageStoreError(.invalidArgument, "setNextTargetMsgSeqNum(\(value))") }
        contents.withLock { $0.nextTarget = value }
    }

    public func messages(in range: ClosedRange<Int>) throws(MessageStoreError) -> [StoredMessage] {
        contents.withLock { c in
            let (span, overflow) = range.upperBound.subtractingReportingOverflow(range.lowerBound)
            if !overflow && span < c.messages.count {
                return range.compactMap { seq in c.messages[seq].map { StoredMessage(seqNum: seq, bytes: $0) } }
            }
            return c.messages.filter { range.contains($0.key) }.sorted { $0.key < $1.key }
                .map { StoredMessage(seqNum: $0.key, bytes: $0.value) }
        }
    }

    public func reset(creationTime: UTCTimestamp) throws(MessageStoreError) {
        contents.withLock { $0 = Contents(creationTime: creationTime) }
    }

    public func refresh() throws(MessageStoreError) {}

    public func sync() throws(MessageStoreError) {}
}
