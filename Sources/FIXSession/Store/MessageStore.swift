import FIXCore
import NIOCore

/// An outbound message kept for resends.
public struct StoredMessage: Sendable, Equatable {
    /// MsgSeqNum (34) it was sent with.
    public var seqNum: Int
    /// The frame as it was sent.
    public var bytes: ByteBuffer

    public init(seqNum: Int, bytes: ByteBuffer) {
        self.seqNum = seqNum
        self.bytes = bytes
    }
}

/// Why a store operation failed. These are environment failures (disk full, permissions, a file
/// edited by hand), never the counterparty's doing.
public struct MessageStoreError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// A system call failed with `errno`.
        case io(errno: Int32)
        /// A file's content cannot be understood.
        case corrupt
        /// The caller broke the contract (a sequence number below 1, a message saved twice...).
        case invalidArgument
    }

    public var kind: Kind
    /// The operation and the file concerned.
    public var context: String

    public init(_ kind: Kind, _ context: String) {
        self.kind = kind
        self.context = context
    }

    public var description: String {
        switch kind {
        case .io(let e): return "\(context): \(String(cString: strerrorPortable(e))) (errno \(e))"
        case .corrupt: return "\(context): unreadable content"
        case .invalidArgument: return "\(context): invalid argument"
        }
    }
}

/// The durable state of one session: both sequence numbers, the outbound messages (for resends)
/// and when the current session period began.
///
/// Stores are reference types shared by the driver and the application; implementations are
/// thread-safe but expect one session driver at a time.
public protocol MessageStore: AnyObject, Sendable {
    /// MsgSeqNum of the next message we send.
    var nextSenderMsgSeqNum: Int { get }
    /// MsgSeqNum we expect on the next message we receive.
    var nextTargetMsgSeqNum: Int { get }
    /// When the current session period (sequence 1 onwards) began.
    var creationTime: UTCTimestamp { get }

    /// Keeps `message`, sent as `seqNum`, and moves the next sender sequence number past it.
    func save(_ message: ByteBuffer, seqNum: Int) throws(MessageStoreError)
    /// Sets the next sender sequence number (a message sent without keeping its bytes).
    func setNextSenderMsgSeqNum(_ value: Int) throws(MessageStoreError)
    /// Sets the next expected inbound sequence number.
    func setNextTargetMsgSeqNum(_ value: Int) throws(MessageStoreError)
    /// The kept messages with sequence numbers in `range`, ascending. Sequence numbers that were
    /// not kept (admin messages under PersistMessages=N, a torn tail after a crash) are absent.
    /// Callers read large ranges in chunks.
    func messages(in range: ClosedRange<Int>) throws(MessageStoreError) -> [StoredMessage]
    /// Drops every message and starts a new period at sequence 1 on both sides.
    func reset(creationTime: UTCTimestamp) throws(MessageStoreError)
    /// Reloads the state from durable storage (another process may have advanced it).
    func refresh() throws(MessageStoreError)
    /// Makes every change so far durable (for ``FileStore/SyncPolicy/batch``; a no-op otherwise).
    func sync() throws(MessageStoreError)
}

extension MessageStore {
    /// Records an outbound message as its ``OutboundMessage/storage`` says. Call before writing it.
    public func record(_ message: OutboundMessage) throws(MessageStoreError) {
        switch message.storage {
        case .message: try save(message.bytes, seqNum: message.seqNum)
        case .sequenceNumberOnly: try setNextSenderMsgSeqNum(message.seqNum + 1)
        case .none: break
        }
    }

    /// Runs a resend: reads the replay's range in chunks of ``ResendReplay/chunkSize`` and passes
    /// what the replay makes of each chunk (and of the end) to `write`, which writes and flushes.
    /// Memory holds one chunk at a time.
    public func run(_ replay: inout ResendReplay, write: ([OutboundMessage]) throws -> Void) throws {
        var next = replay.beginSeqNo
        while next <= replay.endSeqNo {
            let last = min(replay.endSeqNo, next + replay.chunkSize - 1)
            let chunk = replay.next(try messages(in: next...last))
            if !chunk.isEmpty { try write(chunk) }
            next = last + 1
        }
        let tail = replay.finish()
        if !tail.isEmpty { try write(tail) }
    }
}

#if canImport(Glibc)
    import Glibc
    func strerrorPortable(_ e: Int32) -> UnsafeMutablePointer<CChar> { strerror(e) }
#elseif canImport(Musl)
    import Musl
    func strerrorPortable(_ e: Int32) -> UnsafeMutablePointer<CChar> { strerror(e) }
#elseif canImport(Darwin)
    import Darwin
    func strerrorPortable(_ e: Int32) -> UnsafeMutablePointer<CChar> { strerror(e) }
#endif
