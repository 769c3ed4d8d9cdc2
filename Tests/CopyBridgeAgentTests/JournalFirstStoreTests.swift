import FIXCore
import FIXSession
import NIOCore
import Synchronization
import Testing

@testable import CopyBridgeAgent

/// What happened, in order, across the journal hooks and the store.
private final class Notes: Sendable {
    private let list = Mutex<[String]>([])
    func add(_ note: String) { list.withLock { $0.append(note) } }
    var all: [String] { list.withLock { $0 } }
}

/// A memory store that notes when it records a target number or syncs.
private final class NotingStore: MessageStore, @unchecked Sendable {
    let inner = MemoryStore()
    let notes: Notes

    init(_ notes: Notes) { self.notes = notes }

    var nextSenderMsgSeqNum: Int { inner.nextSenderMsgSeqNum }
    var nextTargetMsgSeqNum: Int { inner.nextTargetMsgSeqNum }
    var creationTime: UTCTimestamp { inner.creationTime }
    func save(_ message: ByteBuffer, seqNum: Int) throws(MessageStoreError) { try inner.save(message, seqNum: seqNum) }
    func setNextSenderMsgSeqNum(_ value: Int) throws(MessageStoreError) { try inner.setNextSenderMsgSeqNum(value) }
    func setNextTargetMsgSeqNum(_ value: Int) throws(MessageStoreError) {
        notes.add("target \(value)")
        try inner.setNextTargetMsgSeqNum(value)
    }
    func messages(in range: ClosedRange<Int>) throws(MessageStoreError) -> [StoredMessage] {
        try inner.messages(in: range)
    }
    func reset(creationTime: UTCTimestamp) throws(MessageStoreError) { try inner.reset(creationTime: creationTime) }
    func refresh() throws(MessageStoreError) { try inner.refresh() }
    func sync() throws(MessageStoreError) {
        notes.add("store sync")
        try inner.sync()
    }
}

@Suite("JournalFirstStore")
struct JournalFirstStoreTests {
    @Test("the journal is written before the store records which messages arrived")
    func journalBeforeTarget() throws {
        let notes = Notes()
        let store = JournalFirstStore(
            inner: NotingStore(notes), commitJournal: { notes.add("journal") }, syncJournal: nil)
        try store.setNextTargetMsgSeqNum(7)
        try store.sync()
        #expect(notes.all == ["journal", "target 7", "store sync"])
        #expect(store.nextTargetMsgSeqNum == 7)
    }

    @Test("under JournalSync=batch the journal syncs before the store; a failed journal sync fails the store's")
    func batchSync() throws {
        let notes = Notes()
        let healthy = Mutex(true)
        let store = JournalFirstStore(
            inner: NotingStore(notes), commitJournal: {},
            syncJournal: {
                notes.add("journal sync")
                return healthy.withLock { $0 }
            })
        try store.sync()
        #expect(notes.all == ["journal sync", "store sync"])
        healthy.withLock { $0 = false }
        #expect(throws: MessageStoreError.self) { try store.sync() }
        #expect(notes.all.last == "journal sync", "the store is not synced after the journal failed")
    }
}
