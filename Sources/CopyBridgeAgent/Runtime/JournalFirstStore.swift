import FIXCore
import FIXSession
import NIOCore

/// A session's message store that keeps the agent's journal ahead of it.
///
/// - Before the store records that messages arrived (the next target sequence number), the
///   journal's pending entries are written. The agent journals every inbound application message
///   but writes the journal only when an order needs it or the session records its numbers at the
///   end of the read burst, so a message that leads to no order costs no write in front of the
///   next one. A crash can then never leave a message counted as received and missing from the
///   journal: the peer resends what the store did not count. (A journal that fails halts the
///   agent, as it always does.)
/// - Under `JournalSync=batch`, syncing the store (just before it flushes the messages written in a
///   burst, or at once outside one) syncs the journal first: one journal sync per burst, before the
///   orders it covers reach the wire, reusing the transport's own sync point.
final class JournalFirstStore: MessageStore, @unchecked Sendable {
    private let inner: any MessageStore
    /// Called on the event loop before the target number is recorded; writes the journal (a
    /// failure halts the agent, which then sends nothing more).
    private let commitJournal: () -> Void
    /// Called on the event loop from `sync()` under `JournalSync=batch`; syncs the journal and
    /// returns whether it succeeded.
    private let syncJournal: (() -> Bool)?

    init(inner: any MessageStore, commitJournal: @escaping () -> Void, syncJournal: (() -> Bool)?) {
        self.inner = inner
        self.commitJournal = commitJournal
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
        commitJournal()
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
        if let syncJournal, !syncJournal() {
            throw MessageStoreError(.io(errno: 5), "syncing the agent's journal")
        }
        try inner.sync()
    }
}
