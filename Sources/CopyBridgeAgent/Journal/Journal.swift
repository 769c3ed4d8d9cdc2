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
    /// Bytes after them: a frame torn by a crash mid-write (0 for a clean file).
    public var tornTailBytes: Int

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
                    if let later = firstValidFrame(raw, after: offset) {
                        throw JournalError(
                            path: path,
                            reason: "corrupt frame at byte \(offset) followed by a valid one at byte \(later); "
                                + "this is not a torn tail: restore the file or move it aside")
                    }
                    return .success(
                        JournalScan(entries: entries, validLength: offset, tornTailBytes: raw.count - offset))
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
/// Appending encodes into a memory buffer; ``commit()`` writes the buffer with one `write(2)` (and,
/// under ``JournalSyncPolicy/always``, syncs it); ``sync()`` makes everything written durable. The
/// agent commits after every event, before any send the event caused, so that a record always
/// reaches the file before its order reaches the wire, and before the session records the
/// message as received.
///
/// Not thread-safe: the agent uses it on its event loop only.
public final class Journal: @unchecked Sendable {
    public let path: String
    public let policy: JournalSyncPolicy

    private var fd: Int32
    private var pending: [UInt8] = []
    private var unsynced = false
    private var failure: JournalError?
    /// Entries appended since the journal was opened.
    public private(set) var appended = 0
    /// The file's size.
    public private(set) var size: Int

    /// Opens (creating it and its folder if needed) the journal at `path` for appending, after
    /// reading it. A torn tail is cut off (and reported in the scan); corruption throws.
    public static func open(path: String, policy: JournalSyncPolicy) throws(JournalError) -> (Journal, JournalScan) {
        let folder = URL(fileURLWithPath: path).deletingLastPathComponent().path
        do {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        } catch {
            throw JournalError(path: path, reason: "cannot create folder \(folder): \(error.localizedDescription)")
        }
        let existed = FileManager.default.fileExists(atPath: path)
        let scan = try JournalReader.read(path: path)
        let fd = Glibc_open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw JournalError(path: path, reason: "cannot open: \(errnoText())") }
        let journal = Journal(path: path, policy: policy, fd: fd, size: scan.validLength)
        if scan.validLength == 0 {
            guard ftruncate(fd, 0) == 0 else { throw journal.closing("cannot truncate: \(errnoText())") }
            journal.pending = JournalCodec.magic
            try journal.writePending()
            try journal.syncFile()
            if !existed { try syncDirectory(folder, path: path) }
        } else if scan.tornTailBytes > 0 {
            guard ftruncate(fd, off_t(scan.validLength)) == 0 else {
                throw journal.closing("cannot cut the torn tail: \(errnoText())")
            }
            try journal.syncFile()
        }
        guard lseek(fd, off_t(journal.size), SEEK_SET) >= 0 else {
            throw journal.closing("cannot seek: \(errnoText())")
        }
        return (journal, scan)
    }

    private init(path: String, policy: JournalSyncPolicy, fd: Int32, size: Int) {
        self.path = path
        self.policy = policy
        self.fd = fd
        self.size = size
        pending.reserveCapacity(64 * 1024)
    }

    deinit {
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

    /// Syncs (whatever the policy) and closes. Further use throws.
    public func close() throws(JournalError) {
        guard fd >= 0 else { return }
        defer {
            _ = Glibc_close(fd)
            fd = -1
            failure = failure ?? JournalError(path: path, reason: "closed")
        }
        if let failure { throw failure }
        if !pending.isEmpty { try writePending() }
        if unsynced { try syncFile() }
    }

    /// Closes the file without writing what is pending: what a crash leaves (tests).
    public func abandon() {
        guard fd >= 0 else { return }
        _ = Glibc_close(fd)
        fd = -1
        pending.removeAll()
        failure = JournalError(path: path, reason: "abandoned")
    }

    private func writePending() throws(JournalError) {
        var written = 0
        let total = pending.count
        let result: Int32 = pending.withUnsafeBytes { raw in
            while written < total {
                let n = Glibc_write(fd, raw.baseAddress! + written, total - written)
                if n < 0 {
                    if errno == EINTR { continue }
                    return errno
                }
                written += n
            }
            return 0
        }
        if result != 0 {
            let error = JournalError(path: path, reason: "write failed: \(String(cString: strerror(result)))")
            failure = error
            throw error
        }
        size += total
        pending.removeAll(keepingCapacity: true)
        unsynced = true
    }

    private func syncFile() throws(JournalError) {
        #if os(Linux)
            let rc = fdatasync(fd)
        #else
            let rc = fsync(fd)
        #endif
        guard rc == 0 else {
            let error = JournalError(path: path, reason: "sync failed: \(errnoText())")
            failure = error
            throw error
        }
        unsynced = false
    }

    private func closing(_ reason: String) -> JournalError {
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

private func Glibc_write(_ fd: Int32, _ buffer: UnsafeRawPointer, _ count: Int) -> Int {
    write(fd, buffer, count)
}
