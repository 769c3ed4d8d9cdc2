import CopyEngine
import FIXCore
import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// When the journal forces its writes to disk (`JournalSync`).
public enum JournalSyncPolicy: String, Sendable, CaseIterable {
    /// Every group of records is on disk before the action that follows it (an order's send):
    /// nothing acknowledged to a broker is lost, even to a power cut.
    case always
    /// Records are written at once and synced once per event-loop burst, just before the flush that
    /// puts that burst's orders on the wire (with the message stores' sync).
    case batch
    /// Records are written at once and never synced: a process crash loses nothing, a power cut may.
    case never
}

/// The journal could not be opened, read or written. An environment failure (disk, permissions,
/// a file edited by hand): the agent stops sending orders rather than send one it cannot record.
public struct JournalError: Error, Sendable, Equatable, CustomStringConvertible {
    public var path: String
    public var reason: String

    public init(path: String, reason: String) {
        self.path = path
        self.reason = reason
    }

    public var description: String { "journal \(path): \(reason)" }
}

/// What was found in a journal file.
public struct JournalScan: Sendable {
    /// The entries, in file order.
    public var entries: [JournalEntry]
    /// Bytes of the file that hold whole, valid frames (the magic included).
    public var validLength: Int
    /// Bytes after them, up to the zeros that end the file if any: a frame torn by a crash mid-write
    /// (0 for a clean file).
    public var tornTailBytes: Int
    /// Zeros after them, and nothing else: space the journal reserved ahead of its writes and had not
    /// used when the agent stopped without closing it (a crash). Not torn: nothing was cut short.
    public var zeroTailBytes = 0

    /// The engine's records, in order, for replay.
    public var engineRecords: [JournalRecord] {
        entries.compactMap { if case .engine(let r) = $0 { r } else { nil } }
    }

    /// The audit entries, in order.
    public var auditRecords: [AuditRecord] {
        entries.compactMap { if case .audit(let r) = $0 { r } else { nil } }
    }
}

/// Reads journal files, for recovery and audits.
public enum JournalReader {
    /// Reads and checks every frame of the file at `path` (a missing or empty file has no entries).
    ///
    /// A last frame that is incomplete or fails its checksum, with no valid frame after it, is a
    /// torn tail and is reported in ``JournalScan/tornTailBytes``; a bad frame followed by valid
    /// ones is corruption and throws, as does a frame whose checksum holds but whose content this
    /// version cannot read.
    public static func read(path: String) throws(JournalError) -> JournalScan {
        let data: [UInt8]
        if FileManager.default.fileExists(atPath: path) {
            do {
                data = Array(try Data(contentsOf: URL(fileURLWithPath: path)))
            } catch {
                throw JournalError(path: path, reason: "cannot be read: \(error.localizedDescription)")
            }
        } else {
            data = []
        }
        return try scan(data, path: path)
    }

    /// Checks the frames of a journal's bytes.
    public static func scan(_ data: [UInt8], path: String) throws(JournalError) -> JournalScan {
        let magic = JournalCodec.magic
        if data.count < magic.count {
            // Nothing, or a header torn while the file was created.
            guard data.elementsEqual(magic.prefix(data.count)) else {
                throw JournalError(path: path, reason: "not a CopyBridge journal (bad header)")
            }
            return JournalScan(entries: [], validLength: 0, tornTailBytes: data.count)
        }
        guard data.prefix(magic.count).elementsEqual(magic) else {
            throw JournalError(path: path, reason: "not a CopyBridge journal (bad header)")
        }
        let result = data.withUnsafeBytes { raw in scanFrames(raw, from: magic.count, path: path) }
        return try result.get()
    }

    private static func scanFrames(
        _ raw: UnsafeRawBufferPointer, from start: Int, path: String
    ) -> Result<JournalScan, JournalError> {
        do throws(JournalError) {
            var entries: [JournalEntry] = []
            var offset = start
            while offset < raw.count {
                guard let length = validFrame(raw, at: offset) else {
                    // The zeros at the end are reserved space; what comes before them was torn.
                    let end = (raw.lastIndex { $0 != 0 }).map { Swift.max($0 + 1, offset) } ?? offset
                    if end > offset, let later = firstValidFrame(raw, after: offset) {
                        throw JournalError(
                            path: path,
                            reason: "corrupt frame at byte \(offset) followed by a valid one at byte \(later); "
                                + "this is not a torn tail: restore the file or move it aside")
                    }
                    var scan = JournalScan(entries: entries, validLength: offset, tornTailBytes: end - offset)
                    scan.zeroTailBytes = raw.count - end
                    return .success(scan)
                }
                let payload = UnsafeRawBufferPointer(
                    rebasing: raw[
                        (offset + JournalCodec.frameHeaderSize)..<(offset + JournalCodec.frameHeaderSize + length)])
                do {
                    entries.append(try JournalCodec.decodePayload(payload))
                } catch {
                    throw JournalError(path: path, reason: "frame at byte \(offset) does not decode: \(error)")
                }
                offset += JournalCodec.frameHeaderSize + length
            }
            return .success(JournalScan(entries: entries, validLength: offset, tornTailBytes: 0))
        } catch {
            return .failure(error)
        }
    }

    /// The payload length of the frame at `offset` when it is whole and its checksum holds.
    static func validFrame(_ raw: UnsafeRawBufferPointer, at offset: Int) -> Int? {
        guard raw.count - offset >= JournalCodec.frameHeaderSize else { return nil }
        let length = Int(UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: offset, as: UInt32.self)))
        let crc = UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: offset + 4, as: UInt32.self))
        let start = offset + JournalCodec.frameHeaderSize
        guard length > 0, length <= JournalCodec.maximumPayloadSize, length <= raw.count - start else { return nil }
        guard CRC32C.checksum(UnsafeRawBufferPointer(rebasing: raw[start..<(start + length)])) == crc else {
            return nil
        }
        return length
    }

    static func firstValidFrame(_ raw: UnsafeRawBufferPointer, after offset: Int) -> Int? {
        var candidate = offset + 1
        while candidate + JournalCodec.frameHeaderSize < raw.count {
            if validFrame(raw, at: candidate) != nil { return candidate }
            candidate += 1
        }
        return nil
    }
}

/// The agent's durable, append-only journal: the copy engine's records (replayed after a restart)
/// and audit entries, in one file.
///
/// Appending encodes into a memory buffer; ``commit()`` copies the buffer into the file through a
/// shared memory mapping (and, under ``JournalSyncPolicy/always``, syncs it); ``sync()`` makes
/// everything written durable. The agent commits after every event, before any send the event
/// caused, so that a record always reaches the file before its order reaches the wire, and before
/// the session records the message as received.
///
/// Through the mapping, a commit is a copy into the kernel's page cache with no system call: what
/// it wrote survives a crash of the process exactly as a `write(2)` would, and it no longer costs
/// a system call (nor, now and then, a wait on the file system's own journal) in front of every
/// order. The file grows ahead of the writes in reserved (`fallocate`) steps, so that a full disk
/// shows as an error when the journal grows, never as a fault on a write through the mapping; and
/// ``prepare()``, called after the orders went out, grows it and touches the next pages so that the
/// next commit finds them ready. Between a crash and the next start the file ends in zeros (the
/// reserved space; ``JournalScan/zeroTailBytes``), which opening cuts off, as ``close()`` does.
///
/// Not thread-safe: the agent uses it on its event loop only.
public final class Journal: @unchecked Sendable {
    public let path: String
    public let policy: JournalSyncPolicy

    private var fd: Int32
    private var mapping: UnsafeMutableRawPointer?
    /// Bytes of the file reserved and mapped.
    private var capacity = 0
    /// Bytes up to which the file is known to be on disk.
    private var syncedTo: Int
    private var pending: [UInt8] = []
    private var unsynced = false
    private var failure: JournalError?
    /// Entries appended since the journal was opened.
    public private(set) var appended = 0
    /// The bytes of the journal's content (the file is larger while open: reserved space).
    public private(set) var size: Int

    /// The first step by which the file grows; each step doubles, up to ``maximumGrowth``.
    static let minimumGrowth = 1 << 20
    static let maximumGrowth = 64 << 20
    /// ``prepare()`` grows the file when less than this is left.
    static let headroom = 256 << 10
    private static let pageSize = Int(sysconf(Int32(_SC_PAGESIZE)))

    /// Opens (creating it and its folder if needed) the journal at `path` for appending, after
    /// reading it. A torn tail is cut off (and reported in the scan), as are the zeros a crash left
    /// after the last frame; corruption throws.
    public static func open(path: String, policy: JournalSyncPolicy) throws(JournalError) -> (Journal, JournalScan) {
        let folder = URL(fileURLWithPath: path).deletingLastPathComponent().path
        do {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        } catch {
            throw JournalError(path: path, reason: "cannot create folder \(folder): \(error.localizedDescription)")
        }
        let existed = FileManager.default.fileExists(atPath: path)
        let scan = try JournalReader.read(path: path)
        // Read and write: a shared mapping that is written needs both.
        let fd = Glibc_open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw JournalError(path: path, reason: "cannot open: \(errnoText())") }
        let journal = Journal(path: path, policy: policy, fd: fd, size: scan.validLength)
        guard ftruncate(fd, off_t(scan.validLength)) == 0 else {
            throw journal.closing("cannot cut the file back to its last frame: \(errnoText())")
        }
        do throws(JournalError) {
            try journal.grow(toHold: scan.validLength + minimumGrowth)
        } catch {
            throw journal.closing(error.reason)
        }
        if scan.validLength == 0 {
            journal.pending = JournalCodec.magic
            try journal.writePending()
            try journal.syncFile()
            if !existed { try syncDirectory(folder, path: path) }
        } else if scan.tornTailBytes > 0 {
            try journal.syncFile()
        }
        journal.prepare()
        return (journal, scan)
    }

    private init(path: String, policy: JournalSyncPolicy, fd: Int32, size: Int) {
        self.path = path
        self.policy = policy
        self.fd = fd
        self.size = size
        syncedTo = size
        pending.reserveCapacity(64 * 1024)
    }

    deinit {
        unmap()
        if fd >= 0 { _ = Glibc_close(fd) }
    }

    /// Whether appended entries wait for ``commit()``.
    public var hasPending: Bool { !pending.isEmpty }

    /// Whether written entries wait for ``sync()``.
    public var needsSync: Bool { unsynced || !pending.isEmpty }

    /// Encodes an engine record into the pending buffer.
    public func append(_ record: JournalRecord) {
        JournalCodec.appendFrame(record, to: &pending)
        appended += 1
    }

    /// Encodes an audit record into the pending buffer.
    public func append(_ record: AuditRecord) {
        JournalCodec.appendFrame(record, to: &pending)
        appended += 1
    }

    /// Writes the pending entries; under ``JournalSyncPolicy/always`` also syncs them.
    public func commit() throws(JournalError) {
        if let failure { throw failure }
        if !pending.isEmpty { try writePending() }
        if policy == .always && unsynced { try syncFile() }
    }

    /// Writes the pending entries and makes everything written durable (any policy but `never`):
    /// the batch hook before a flush, and the last step of a stop.
    public func sync() throws(JournalError) {
        if let failure { throw failure }
        if !pending.isEmpty { try writePending() }
        if policy != .never && unsynced { try syncFile() }
    }

    /// Readies the file for the next commits, off the copy path: grows it when little reserved space
    /// is left, and touches the page the next frame starts in and the one after it, so that the
    /// commit does not take the page faults. A failure to grow is left to the commit that needs the
    /// space, which reports it.
    public func prepare() {
        guard failure == nil, fd >= 0 else { return }
        if capacity - size < Self.headroom { try? grow(toHold: size + Self.headroom) }
        guard let mapping else { return }
        // Writing a zero where the file already holds one changes nothing but makes the page
        // present and writable (the file system's page_mkwrite runs here, not in a commit).
        var offset = size
        let end = Swift.min(capacity, size + 2 * Self.pageSize)
        while offset < end {
            mapping.storeBytes(of: 0, toByteOffset: offset, as: UInt8.self)
            offset = (offset / Self.pageSize + 1) * Self.pageSize
        }
    }

    /// Syncs (whatever the policy), cuts the reserved space off and closes. Further use throws.
    public func close() throws(JournalError) {
        guard fd >= 0 else { return }
        defer {
            unmap()
            _ = Glibc_close(fd)
            fd = -1
            failure = failure ?? JournalError(path: path, reason: "closed")
        }
        if let failure { throw failure }
        if !pending.isEmpty { try writePending() }
        if unsynced { try syncFile() }
        unmap()
        guard ftruncate(fd, off_t(size)) == 0, Self.syncData(fd) == 0 else {
            throw JournalError(path: path, reason: "cannot cut the reserved space off: \(errnoText())")
        }
    }

    /// Closes the file without writing what is pending nor cutting the reserved space off: what a
    /// crash leaves (tests).
    public func abandon() {
        guard fd >= 0 else { return }
        unmap()
        _ = Glibc_close(fd)
        fd = -1
        pending.removeAll()
        failure = JournalError(path: path, reason: "abandoned")
    }

    private func writePending() throws(JournalError) {
        let end = size + pending.count
        if end > capacity {
            do throws(JournalError) {
                try grow(toHold: end)
            } catch {
                failure = error
                throw error
            }
        }
        guard let mapping else { preconditionFailure("a journal with reserved space has a mapping") }
        pending.withUnsafeBytes { raw in
            (mapping + size).copyMemory(from: raw.baseAddress!, byteCount: raw.count)
        }
        size = end
        pending.removeAll(keepingCapacity: true)
        unsynced = true
    }

    /// Reserves the file up to at least `needed` bytes, by the next growth step, and maps it.
    private func grow(toHold needed: Int) throws(JournalError) {
        let step = Swift.min(Swift.max(Self.minimumGrowth, capacity), Self.maximumGrowth)
        var target = Swift.max(capacity, size) + step
        while target < needed { target += step }
        #if os(Linux)
            // Blocks allocated now: writing through the mapping never needs one, so a full disk
            // is this error, not a SIGBUS on a write.
            let rc = posix_fallocate(fd, off_t(capacity), off_t(target - capacity))
            guard rc == 0 else {
                throw JournalError(
                    path: path, reason: "cannot reserve \(target) bytes: \(String(cString: strerror(rc)))")
            }
        #else
            guard ftruncate(fd, off_t(target)) == 0 else {
                throw JournalError(path: path, reason: "cannot grow to \(target) bytes: \(errnoText())")
            }
        #endif
        unmap()
        let address = mmap(nil, target, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0)
        guard let address, address != MAP_FAILED else {
            throw JournalError(path: path, reason: "cannot map \(target) bytes: \(errnoText())")
        }
        mapping = address
        capacity = target
    }

    private func unmap() {
        guard let mapping else { return }
        _ = munmap(mapping, capacity)
        self.mapping = nil
        capacity = 0
    }

    private func syncFile() throws(JournalError) {
        // The written range of the mapping, from the page holding the first unsynced byte.
        let start = syncedTo / Self.pageSize * Self.pageSize
        let rc: Int32
        if let mapping, size > start {
            rc = msync(mapping + start, size - start, MS_SYNC)
        } else {
            rc = Self.syncData(fd)
        }
        guard rc == 0 else {
            let error = JournalError(path: path, reason: "sync failed: \(errnoText())")
            failure = error
            throw error
        }
        syncedTo = size
        unsynced = false
    }

    private static func syncData(_ fd: Int32) -> Int32 {
        #if os(Linux)
            fdatasync(fd)
        #else
            fsync(fd)
        #endif
    }

    private func closing(_ reason: String) -> JournalError {
        unmap()
        _ = Glibc_close(fd)
        fd = -1
        return JournalError(path: path, reason: reason)
    }

    private static func syncDirectory(_ folder: String, path: String) throws(JournalError) {
        let dfd = Glibc_open(folder, O_RDONLY | O_CLOEXEC, 0)
        guard dfd >= 0 else { throw JournalError(path: path, reason: "cannot open folder: \(errnoText())") }
        defer { _ = Glibc_close(dfd) }
        guard fsync(dfd) == 0 else { throw JournalError(path: path, reason: "cannot sync folder: \(errnoText())") }
    }
}

/// The C library's last error, as text with its number.
func errnoText() -> String {
    "\(String(cString: strerror(errno))) (errno \(errno))"
}

// The C library's names, behind our own so that Foundation's overlays never shadow them.
private func Glibc_open(_ path: String, _ flags: Int32, _ mode: mode_t) -> Int32 {
    open(path, flags, mode)
}

private func Glibc_close(_ fd: Int32) -> Int32 {
    close(fd)
}
