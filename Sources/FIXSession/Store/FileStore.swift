import FIXCore
import NIOCore
import Synchronization

/// A durable store for one session, in the QuickFIX file layout under FileStorePath:
///
/// - `FIX.4.4-SENDER-TARGET.body`: the sent application messages, frame after frame, append-only;
/// - `FIX.4.4-SENDER-TARGET.header`: an index of the body, `seq,offset,size ` per message, append-only;
/// - `FIX.4.4-SENDER-TARGET.seqnums`: `NNNNNNNNNN : MMMMMMMMMM`, next sender and next target;
/// - `FIX.4.4-SENDER-TARGET.session`: the creation time of the current period.
///
/// Crash safety (`kill -9` or power loss at any moment):
/// - a FIX frame carries its own length and checksum, so the body needs no other framing: on
///   opening, the index is checked against the body, a torn index entry is dropped, frames the
///   index misses are re-indexed from the body, and a torn last frame is cut off;
/// - `.seqnums` is overwritten in place with fixed-width text (23 bytes, within one disk sector,
///   as QuickFIX does): it changes with every inbound message, and a rename per message would cost
///   a directory update and, under ``SyncPolicy/always``, a second fsync on the latency path;
/// - `.session` is replaced whole (write a temporary file, rename it over), so it is always either
///   the old or the new content;
/// - the next sender sequence number is the larger of `.seqnums` and the last frame in the body
///   plus one: a message that reached the body is never sent again under another number.
///
/// With ``SyncPolicy/always`` every change is on disk before the call returns, so a driver that
/// records a message before writing it to the socket never sends what the store could forget.
/// Under ``SyncPolicy/batch`` and ``SyncPolicy/never`` the messages recorded since the last
/// ``sync()`` wait in memory and reach the body when the session syncs the store, just before it
/// flushes them to the socket: a burst of orders costs one write, not two per message. Until then
/// nothing of them is on the wire either. Their index entries follow with the next change of
/// sequence numbers, after the flush (the session records the target number at the end of every
/// read), or when messages are read back: the body proves them, and opening the store re-indexes
/// frames the index misses, so the write before the flush is the body's alone.
public final class FileStore: MessageStore {
    /// When changes are forced to disk (`fsync`).
    public enum SyncPolicy: String, Sendable, CaseIterable {
        /// Before every call returns (the default: a sent message is never forgotten).
        case always
        /// When ``FileStore/sync()`` is called, once per batch of actions.
        case batch
        /// Never; the operating system writes when it likes. Survives a process crash, not a power loss.
        case never
    }

    /// The file names' stem and directory.
    public let directory: String
    public let fileNameStem: String
    public let syncPolicy: SyncPolicy

    private let state: Mutex<State>

    /// Opens (or creates) the store of `identity` under `directory`, recovering from a crash if
    /// needed. `creationTime` is used only when the store is new.
    public init(
        directory: String, identity: SessionIdentity, syncPolicy: SyncPolicy = .always, creationTime: UTCTimestamp
    ) throws(MessageStoreError) {
        try PosixFS.makeDirectories(directory)
        self.directory = directory
        self.fileNameStem = identity.fileNameStem
        self.syncPolicy = syncPolicy
        let paths = Paths(directory: directory, stem: identity.fileNameStem)
        state = Mutex(try State.open(paths, policy: syncPolicy, creationTime: creationTime))
    }

    /// For tests: makes every write of recorded messages fail with `error` (nil: write again), as a
    /// full disk would.
    func simulateWriteFailure(_ error: MessageStoreError?) {
        state.withLock { $0.simulatedWriteFailure = error }
    }

    deinit {
        // Recorded messages a session never synced (a store dropped without a stop) still reach the files.
        state.withLock { s in try? s.writePending() }
    }

    /// Paths of the four files.
    public var bodyPath: String { Paths(directory: directory, stem: fileNameStem).body }
    public var headerPath: String { Paths(directory: directory, stem: fileNameStem).header }
    public var seqNumsPath: String { Paths(directory: directory, stem: fileNameStem).seqnums }
    public var sessionPath: String { Paths(directory: directory, stem: fileNameStem).session }

    public var nextSenderMsgSeqNum: Int { state.withLock { $0.nextSender } }
    public var nextTargetMsgSeqNum: Int { state.withLock { $0.nextTarget } }
    public var creationTime: UTCTimestamp { state.withLock { $0.creationTime } }
    /// Sequence numbers of the kept messages, ascending.
    public var storedSeqNums: [Int] { state.withLock { $0.index.map(\.seq) } }
    /// What opening the store had to repair (for the event log).
    public var recoveryNotes: [String] { state.withLock { $0.notes } }

    public func save(_ message: ByteBuffer, seqNum: Int) throws(MessageStoreError) {
        try state.withLock { (s) throws(MessageStoreError) in try s.save(message, seqNum: seqNum) }
    }

    public func setNextSenderMsgSeqNum(_ value: Int) throws(MessageStoreError) {
        try state.withLock { (s) throws(MessageStoreError) in
            guard value >= 1 else { throw MessageStoreError(.invalidArgument, "setNextSenderMsgSeqNum(\(value))") }
            s.nextSender = value
            try s.writePending()
            try s.writeSeqNums(sync: s.policy == .always)
            s.dirty = true
        }
    }

    public func setNextTargetMsgSeqNum(_ value: Int) throws(MessageStoreError) {
        try state.withLock { (s) throws(MessageStoreError) in
            guard value >= 1 else { throw MessageStoreError(.invalidArgument, "setNextTargetMsgSeqNum(\(value))") }
            s.nextTarget = value
            try s.writePending()
            try s.writeSeqNums(sync: s.policy == .always)
            s.dirty = true
        }
    }

    public func messages(in range: ClosedRange<Int>) throws(MessageStoreError) -> [StoredMessage] {
        try state.withLock { (s) throws(MessageStoreError) in try s.messages(in: range) }
    }

    public func reset(creationTime: UTCTimestamp) throws(MessageStoreError) {
        try state.withLock { (s) throws(MessageStoreError) in try s.reset(creationTime: creationTime) }
    }

    public func refresh() throws(MessageStoreError) {
        try state.withLock { (s) throws(MessageStoreError) in
            try s.writePending()
            s = try State.open(s.paths, policy: s.policy, creationTime: s.creationTime)
        }
    }

    public func sync() throws(MessageStoreError) {
        try state.withLock { (s) throws(MessageStoreError) in
            // The body only: this runs just before the flush, and the index can wait (see above).
            try s.writePendingBody()
            guard s.policy == .batch, s.dirty else { return }
            try s.body.sync()
            try s.header.sync()
            try s.writeSeqNums(sync: true)
            s.dirty = false
        }
    }
}

extension FileStore {
    struct Paths: Sendable {
        var directory: String
        var body: String
        var header: String
        var seqnums: String
        var session: String

        init(directory: String, stem: String) {
            self.directory = directory
            let base = directory.hasSuffix("/") ? directory + stem : directory + "/" + stem
            body = base + ".body"
            header = base + ".header"
            seqnums = base + ".seqnums"
            session = base + ".session"
        }
    }

    struct Entry: Sendable, Equatable {
        var seq: Int
        var offset: Int
        var size: Int
    }

    /// The open files and what they hold. Mutated only under the store's lock.
    struct State: ~Copyable, Sendable {
        let paths: Paths
        let policy: SyncPolicy
        let body: PosixFile
        let header: PosixFile
        let seqnumsFile: PosixFile
        var bodySize: Int
        var headerSize: Int
        /// Kept messages in body order; sequence numbers ascend.
        var index: [Entry]
        var nextSender: Int
        var nextTarget: Int
        var creationTime: UTCTimestamp
        var dirty = false
        var notes: [String] = []
        /// Recorded frames not yet written to the body (which ends at `bodySize` on disk).
        var pendingBody: [UInt8] = []
        /// Index entries not yet written to the header: of frames already in the body (the first
        /// `pendingHeaderOfWrittenFrames` bytes), then of those in `pendingBody`.
        var pendingHeader: [UInt8] = []
        var pendingHeaderOfWrittenFrames = 0
        /// For tests: the error every write of pending messages fails with, as on a full disk.
        var simulatedWriteFailure: MessageStoreError?

        static func open(
            _ paths: Paths, policy: SyncPolicy, creationTime: UTCTimestamp
        ) throws(MessageStoreError)
            -> State
        {
            var notes: [String] = []
            // Sequence numbers and creation time: replaced whole, so either absent or complete.
            var sender = 1
            var target = 1
            if let bytes = try PosixFS.readFile(paths.seqnums) {
                guard let parsed = parseSeqNums(bytes) else {
                    throw MessageStoreError(
                        .corrupt, "read \(paths.seqnums) (expected 'NNNNNNNNNN : MMMMMMMMMM', fix or remove it)")
                }
                (sender, target) = parsed
            }
            var created = creationTime
            var writeSession = true
            if let bytes = try PosixFS.readFile(paths.session),
                let time = UTCTimestamp(String(decoding: bytes.filter { $0 > 0x20 }, as: UTF8.self))
            {
                created = time
                writeSession = false
            }
            let body = try PosixFile(path: paths.body)
            let header = try PosixFile(path: paths.header)
            let bodySize = try body.size()
            let headerBytes = try header.readAll()

            // The index: complete, well-formed entries that lie inside the body, in order.
            var index: [Entry] = []
            var headerEnds: [Int] = []
            var position = 0
            var end = 0
            while let space = headerBytes[position...].firstIndex(of: UInt8(ascii: " ")) {
                guard let entry = parseEntry(headerBytes[position..<space]), entry.offset >= end,
                    entry.offset + entry.size <= bodySize, entry.seq > (index.last?.seq ?? 0)
                else { break }
                index.append(entry)
                end = entry.offset + entry.size
                position = space + 1
                headerEnds.append(position)
            }
            // A torn write can only damage the last frames: check them against the body.
            while let last = index.last, !frameMatches(body, last) {
                index.removeLast()
                headerEnds.removeLast()
                notes.append("dropped index entry for message \(last.seq): its frame is not in the body")
            }
            let validHeaderLength = headerEnds.last ?? 0
            if validHeaderLength < headerBytes.count {
                notes.append("cut \(headerBytes.count - validHeaderLength) bytes of torn index")
                try header.truncate(to: validHeaderLength)
            }
            // Frames written to the body but missing from the index are recovered; a torn frame is cut off.
            var bodyEnd = index.last.map { $0.offset + $0.size } ?? 0
            var headerSize = validHeaderLength
            if bodyEnd < bodySize {
                let tail = try body.read(count: bodySize - bodyEnd, at: bodyEnd)
                var buffer = ByteBuffer(bytes: tail)
                let decoder = FIXFrameDecoder()
                while case .message(let frame)? = decoder.next(from: &buffer) {
                    guard let seq = frame.msgSeqNum, seq > (index.last?.seq ?? 0) else { break }
                    let entry = Entry(seq: seq, offset: bodyEnd, size: frame.bytes.readableBytes)
                    var text: [UInt8] = []
                    appendIndexEntry(entry, to: &text)
                    try header.write(text, at: headerSize)
                    headerSize += text.count
                    index.append(entry)
                    bodyEnd += entry.size
                    notes.append("recovered message \(seq) from the body")
                }
                if bodyEnd < bodySize {
                    notes.append("cut \(bodySize - bodyEnd) bytes of torn message at the end of the body")
                    try body.truncate(to: bodyEnd)
                }
            }
            if let last = index.last, last.seq + 1 > sender {
                sender = last.seq + 1
            }
            let state = State(
                paths: paths, policy: policy, body: body, header: header,
                seqnumsFile: try PosixFile(path: paths.seqnums), bodySize: bodyEnd, headerSize: headerSize,
                index: index, nextSender: sender, nextTarget: target, creationTime: created, notes: notes)
            if !notes.isEmpty {
                let sync = policy != .never
                if sync {
                    try state.body.sync()
                    try state.header.sync()
                }
                try state.writeSeqNums(sync: sync, trim: true)
            } else if try state.seqnumsFile.size() != State.seqNumsWidth {
                try state.writeSeqNums(sync: policy != .never, trim: true)
            }
            if writeSession { try state.writeSession(sync: policy != .never) }
            return state
        }

        static func frameMatches(_ body: borrowing PosixFile, _ entry: Entry) -> Bool {
            guard let bytes = try? body.read(count: entry.size, at: entry.offset), bytes.count == entry.size,
                let frame = try? FIXFrameDecoder().decodeOne(ByteBuffer(bytes: bytes))
            else { return false }
            return frame.bytes.readableBytes == entry.size && frame.msgSeqNum == entry.seq
        }

        static func parseEntry(_ text: ArraySlice<UInt8>) -> Entry? {
            let parts = text.split(separator: UInt8(ascii: ","), omittingEmptySubsequences: false)
            guard parts.count == 3, let seq = decimal(parts[0]), let offset = decimal(parts[1]),
                let size = decimal(parts[2]), seq >= 1, size > 0
            else { return nil }
            return Entry(seq: seq, offset: offset, size: size)
        }

        static func parseSeqNums(_ bytes: [UInt8]) -> (Int, Int)? {
            let parts = bytes.split(separator: UInt8(ascii: ":"))
            guard parts.count == 2 else { return nil }
            let trim: (ArraySlice<UInt8>) -> ArraySlice<UInt8> = { $0.filter { $0 > 0x20 }[...] }
            guard let sender = decimal(trim(parts[0])), let target = decimal(trim(parts[1])), sender >= 1, target >= 1
            else { return nil }
            return (sender, target)
        }

        static func decimal(_ digits: ArraySlice<UInt8>) -> Int? {
            guard !digits.isEmpty, digits.count <= 18 else { return nil }
            var value = 0
            for d in digits {
                let v = d &- UInt8(ascii: "0")
                guard v < 10 else { return nil }
                value = value * 10 + Int(v)
            }
            return value
        }

        static func zeroPadded(_ value: Int) -> String {
            let digits = String(value)
            return digits.count >= 10 ? digits : String(repeating: "0", count: 10 - digits.count) + digits
        }

        func writeSeqNums(sync: Bool, trim: Bool = false) throws(MessageStoreError) {
            let text = Array("\(State.zeroPadded(nextSender)) : \(State.zeroPadded(nextTarget))".utf8)
            try seqnumsFile.write(text, at: 0)
            // Only sequence numbers beyond 10 digits change the width; opening the store trims a file
            // of any other length, so the common case costs one pwrite.
            if trim || text.count != State.seqNumsWidth { try seqnumsFile.truncate(to: text.count) }
            if sync { try seqnumsFile.sync() }
        }

        /// Length of `NNNNNNNNNN : MMMMMMMMMM`.
        static let seqNumsWidth = 23

        func writeSession(sync: Bool) throws(MessageStoreError) {
            try PosixFS.replace(
                paths.session, with: Array(creationTime.description.utf8), directory: paths.directory, sync: sync)
        }

        mutating func save(_ message: ByteBuffer, seqNum: Int) throws(MessageStoreError) {
            guard seqNum >= 1, seqNum > (index.last?.seq ?? 0), message.readableBytes > 0 else {
                throw MessageStoreError(
                    .invalidArgument, "save message \(seqNum) after \(index.last?.seq ?? 0) in \(paths.body)")
            }
            let entry = Entry(seq: seqNum, offset: bodySize + pendingBody.count, size: message.readableBytes)
            if policy == .always {
                var text: [UInt8] = []
                Self.appendIndexEntry(entry, to: &text)
                let written = message.withUnsafeReadableBytes { p in
                    Result { () throws(MessageStoreError) in try body.write(p, at: bodySize) }
                }
                try written.get()
                // The body is the record of what was sent; the index can be rebuilt from it.
                try body.sync()
                try header.write(text, at: headerSize)
                bodySize += entry.size
                headerSize += text.count
            } else {
                message.withUnsafeReadableBytes { pendingBody.append(contentsOf: $0) }
                Self.appendIndexEntry(entry, to: &pendingHeader)
            }
            index.append(entry)
            // `.seqnums` is not rewritten: the body proves the next sender number, and writing it
            // here would cost a second fsync. It catches up with the next target update.
            nextSender = max(nextSender, seqNum + 1)
            dirty = true
        }

        /// Appends `seq,offset,size ` (an entry of the index) without making a string of it: a burst of
        /// a thousand orders records a thousand of them. The text is put together on the stack and
        /// appended once: through `FixedDecimal` and an append per number it was two thirds of
        /// recording a sent message.
        static func appendIndexEntry(_ entry: Entry, to out: inout [UInt8]) {
            // Three Ints of at most 19 digits each, two commas and a space.
            withUnsafeTemporaryAllocation(byteCount: 64, alignment: 1) { text in
                var o = FIXMessageBuilder.writeDecimal(entry.seq, to: text, at: 0)
                text[o] = UInt8(ascii: ",")
                o = FIXMessageBuilder.writeDecimal(entry.offset, to: text, at: o + 1)
                text[o] = UInt8(ascii: ",")
                o = FIXMessageBuilder.writeDecimal(entry.size, to: text, at: o + 1)
                text[o] = UInt8(ascii: " ")
                out.append(contentsOf: UnsafeRawBufferPointer(rebasing: text[0...o]))
            }
        }

        /// Writes the recorded frames still in memory, the body first, then the index entries still
        /// in memory (a crash in between leaves frames the index misses, which opening recovers).
        mutating func writePending() throws(MessageStoreError) {
            try writePendingBody()
            try writePendingIndex()
        }

        /// Writes the recorded frames still in memory to the body; their index entries wait.
        ///
        /// When the write fails (a full disk), the frames are forgotten: the session syncs before it
        /// flushes, so none of them, nor anything recorded after them, reached the wire, and the
        /// session, which drops the connection, continues from the last message the body holds.
        /// Keeping them would have a resend after the next logon send those orders, late.
        mutating func writePendingBody() throws(MessageStoreError) {
            guard !pendingBody.isEmpty else { return }
            do throws(MessageStoreError) {
                if let failure = simulatedWriteFailure { throw failure }
                try body.write(pendingBody, at: bodySize)
            } catch {
                let firstPending = index.firstIndex { $0.offset >= bodySize } ?? index.count
                if firstPending < index.count { nextSender = index[firstPending].seq }
                index.removeSubrange(firstPending...)
                pendingBody.removeAll(keepingCapacity: true)
                pendingHeader.removeSubrange(pendingHeaderOfWrittenFrames...)
                throw error
            }
            bodySize += pendingBody.count
            pendingBody.removeAll(keepingCapacity: true)
            pendingHeaderOfWrittenFrames = pendingHeader.count
        }

        /// Writes the index entries of frames already in the body. When the write fails they stay in
        /// memory for the next try: their frames may be on the wire, and the body keeps them anyway.
        mutating func writePendingIndex() throws(MessageStoreError) {
            guard pendingHeaderOfWrittenFrames > 0 else { return }
            if let failure = simulatedWriteFailure { throw failure }
            if pendingHeaderOfWrittenFrames == pendingHeader.count {
                try header.write(pendingHeader, at: headerSize)
            } else {
                try header.write(Array(pendingHeader[..<pendingHeaderOfWrittenFrames]), at: headerSize)
            }
            headerSize += pendingHeaderOfWrittenFrames
            pendingHeader.removeSubrange(..<pendingHeaderOfWrittenFrames)
            pendingHeaderOfWrittenFrames = 0
        }

        mutating func messages(in range: ClosedRange<Int>) throws(MessageStoreError) -> [StoredMessage] {
            try writePending()
            var low = 0
            var high = index.count
            while low < high {
                let mid = (low + high) / 2
                if index[mid].seq < range.lowerBound { low = mid + 1 } else { high = mid }
            }
            var out: [StoredMessage] = []
            var i = low
            while i < index.count, index[i].seq <= range.upperBound {
                let e = index[i]
                let bytes = try body.read(count: e.size, at: e.offset)
                guard bytes.count == e.size else {
                    throw MessageStoreError(.corrupt, "message \(e.seq) is cut short in \(paths.body)")
                }
                out.append(StoredMessage(seqNum: e.seq, bytes: ByteBuffer(bytes: bytes)))
                i += 1
            }
            return out
        }

        mutating func reset(creationTime: UTCTimestamp) throws(MessageStoreError) {
            // Messages first, sequence numbers second: a crash in between leaves the old numbers
            // with no messages to resend (answered with GapFills), never new numbers with old messages.
            pendingBody.removeAll()
            pendingHeader.removeAll()
            pendingHeaderOfWrittenFrames = 0
            try header.truncate(to: 0)
            try body.truncate(to: 0)
            if policy != .never {
                try header.sync()
                try body.sync()
            }
            index = []
            bodySize = 0
            headerSize = 0
            nextSender = 1
            nextTarget = 1
            try writeSeqNums(sync: policy != .never)
            self.creationTime = creationTime
            try writeSession(sync: policy != .never)
        }
    }
}
