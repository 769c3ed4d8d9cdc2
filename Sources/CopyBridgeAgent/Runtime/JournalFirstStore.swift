import FIXCore
import FIXSession
import NIOCore

/// A session's message store that also syncs the agent's journal when the transport syncs the
/// store: just before it flushes the messages written in a burst (or at once, outside one).
///
/// That is `JournalSync=batch`: one journal sync per burst, before the orders it covers reach the
/// wire, reusing the transport's own sync point instead of adding another.
final class JournalSyncingStore: MessageStore, @unchecked Sendable {
    private let inner: any MessageStore
    /// Called on the event loop from `sync()`; syncs the journal and returns whether it succeeded.
    private let syncJournal: () -> Bool

    init(inner: any MessageStore, syncJournal: @escaping () -> Bool) {
        self.inner = inner
        self.syncJournal = syncJournal
    }

    var nextSenderMsgSeqNum: Int { inner.nextSenderMsgSeqNum }
    var nextTargetMsgSeqNum: Int { inner.nextTargetMsgSeqNum }
    var creationTime: UTCTimestamp { inner.creationTime }

    func save(_ message: ByteBuffer, seqNum: Int) throws(MessageStoreError) {
        try inner.save(message, seqNum: seqNum)
    }

    func setNextSenderMsgSeqNum(_ value: Int) throws(MessageStoreError) {
        try inner.setNextSenderMsgSeqNum(value)
    }

    func setNextTargetMsgSeqNum(_ value: Int) throws(MessageStoreError) {
        try inner.setNextTargetMsgSeqNum(value)
    }

    func messages(in range: ClosedRange<Int>) throws(MessageStoreError) -> [StoredMessage] {
        try inner.messages(in: range)
    }

    func reset(creationTime: UTCTimestamp) throws(MessageStoreError) {
        try inner.reset(creationTime: creationTime)
    }

    func refresh() throws(MessageStoreError) {
        try inner.refresh()
    }

    func sync() throws(MessageStoreError) {
        // A journal that cannot sync must keep the orders off the wire: failing the store's sync
        // makes the session drop the connection instead of flushing.
        guard syncJournal() else { throw MessageStoreError(.io(errno: 5), "syncing the agent's journal") }
        try inner.sync()
    }
}
