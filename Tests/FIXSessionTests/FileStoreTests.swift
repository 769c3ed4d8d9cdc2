import FIXCore
import NIOCore
import TestSupport
import Testing

@testable import FIXSession

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

func readFile(_ path: String) -> [UInt8] {
    (try? PosixFS.readFile(path)) ?? nil ?? []
}

func writeFile(_ path: String, _ bytes: [UInt8]) {
    let file = try! PosixFile(path: path)
    try! file.truncate(to: 0)
    try! file.write(bytes, at: 0)
}

/// An application message as we would have sent it, with some variety in size.
func sentOrder(_ seq: Int, padding: Int = 0) -> ByteBuffer {
    var b = newOrder("ORDER-\(seq)" + String(repeating: "x", count: padding))
    OutboundHeader(identity: isld, precision: .milliseconds).stamp(&b, seqNum: seq, sendingTime: at(Double(seq)).utc)
    return b.encoded()
}

@Suite struct FileStoreTests {
    @Test func keepsMessagesAndSequenceNumbersInTheQuickFIXLayout() throws {
        let dir = try TemporaryDirectory()
        do {
            let store = try FileStore(directory: dir.path, identity: isld, creationTime: t0.utc)
            for seq in 1...3 { try store.save(sentOrder(seq), seqNum: seq) }
            try store.setNextSenderMsgSeqNum(5)  // 4 was a heartbeat
            try store.setNextTargetMsgSeqNum(7)
        }
        let store = try FileStore(directory: dir.path, identity: isld, creationTime: at(99).utc)
        #expect(store.nextSenderMsgSeqNum == 5)
        #expect(store.nextTargetMsgSeqNum == 7)
        #expect(store.creationTime == t0.utc)
        #expect(try store.messages(in: 1...10) == (1...3).map { StoredMessage(seqNum: $0, bytes: sentOrder($0)) })
        #expect(try store.messages(in: 2...2).map(\.seqNum) == [2])
        #expect(store.recoveryNotes.isEmpty)

        let base = dir.path + "/FIX.4.4-ISLD-TW"
        #expect(String(decoding: readFile(base + ".seqnums"), as: UTF8.self) == "0000000005 : 0000000007")
        #expect(String(decoding: readFile(base + ".session"), as: UTF8.self) == "20240304-10:00:00.000")
        let sizes = (1...3).map { sentOrder($0).readableBytes }
        #expect(
            String(decoding: readFile(base + ".header"), as: UTF8.self)
                == "1,0,\(sizes[0]) 2,\(sizes[0]),\(sizes[1]) 3,\(sizes[0] + sizes[1]),\(sizes[2]) ")
        var body: [UInt8] = []
        for seq in 1...3 { body += sentOrder(seq).readableBytesView }
        #expect(readFile(base + ".body") == body)
    }

    @Test func resetStartsANewPeriod() throws {
        let dir = try TemporaryDirectory()
        do {
            let store = try FileStore(directory: dir.path, identity: isld, creationTime: t0.utc)
            try store.save(sentOrder(1), seqNum: 1)
            try store.setNextTargetMsgSeqNum(3)
            try store.reset(creationTime: at(3600).utc)
            #expect(store.nextSenderMsgSeqNum == 1 && store.nextTargetMsgSeqNum == 1)
        }
        let store = try FileStore(directory: dir.path, identity: isld, creationTime: t0.utc)
        #expect(store.nextSenderMsgSeqNum == 1 && store.nextTargetMsgSeqNum == 1)
        #expect(store.creationTime == at(3600).utc)
        #expect(try store.messages(in: 1...10).isEmpty)
    }

    @Test func refusesToSaveOutOfOrder() throws {
        let dir = try TemporaryDirectory()
        let store = try FileStore(directory: dir.path, identity: isld, creationTime: t0.utc)
        try store.save(sentOrder(2), seqNum: 2)
        #expect(throws: MessageStoreError.self) { try store.save(sentOrder(2), seqNum: 2) }
        #expect(throws: MessageStoreError.self) { try store.save(sentOrder(1), seqNum: 1) }
    }

    @Test func unreadableSeqNumsIsAClearError() throws {
        let dir = try TemporaryDirectory()
        _ = try FileStore(directory: dir.path, identity: isld, creationTime: t0.utc)
        writeFile(dir.path + "/FIX.4.4-ISLD-TW.seqnums", Array("hello".utf8))
        #expect {
            _ = try FileStore(directory: dir.path, identity: isld, creationTime: t0.utc)
        } throws: { error in
            (error as? MessageStoreError)?.kind == .corrupt
                && "\(error)".contains("FIX.4.4-ISLD-TW.seqnums")
        }
    }

    @Test func refreshSeesAnotherInstancesChanges() throws {
        let dir = try TemporaryDirectory()
        let a = try FileStore(directory: dir.path, identity: isld, creationTime: t0.utc)
        let b = try FileStore(directory: dir.path, identity: isld, creationTime: t0.utc)
        try a.save(sentOrder(1), seqNum: 1)
        try a.setNextTargetMsgSeqNum(9)
        #expect(b.nextTargetMsgSeqNum == 1)
        try b.refresh()
        #expect(b.nextSenderMsgSeqNum == 2 && b.nextTargetMsgSeqNum == 9)
        #expect(try b.messages(in: 1...1) == [StoredMessage(seqNum: 1, bytes: sentOrder(1))])
    }

    @Test(arguments: [FileStore.SyncPolicy.never, .batch])
    func aBurstOfMessagesReachesTheBodyAtTheSyncAndTheIndexAfter(policy: FileStore.SyncPolicy) throws {
        let dir = try TemporaryDirectory()
        let store = try FileStore(directory: dir.path, identity: isld, syncPolicy: policy, creationTime: t0.utc)
        for seq in 1...3 { try store.save(sentOrder(seq), seqNum: seq) }
        #expect(
            readFile(store.bodyPath).isEmpty && readFile(store.headerPath).isEmpty, "nothing written before the sync")
        #expect(store.storedSeqNums == [1, 2, 3] && store.nextSenderMsgSeqNum == 4)
        try store.sync()
        var body: [UInt8] = []
        for seq in 1...3 { body += sentOrder(seq).readableBytesView }
        #expect(readFile(store.bodyPath) == body)
        // The sync comes just before the flush: the index, which the body proves, waits for the next
        // sequence number change, after it.
        #expect(readFile(store.headerPath).isEmpty, "the index is not written before the flush")
        try store.setNextTargetMsgSeqNum(2)
        let sizes = (1...3).map { sentOrder($0).readableBytes }
        #expect(
            String(decoding: readFile(store.headerPath), as: UTF8.self)
                == "1,0,\(sizes[0]) 2,\(sizes[0]),\(sizes[1]) 3,\(sizes[0] + sizes[1]),\(sizes[2]) ")
        // Reading back (a resend) writes what is still in memory first.
        try store.save(sentOrder(4), seqNum: 4)
        #expect(try store.messages(in: 4...4) == [StoredMessage(seqNum: 4, bytes: sentOrder(4))])
        #expect(readFile(store.bodyPath) == body + Array(sentOrder(4).readableBytesView))
        // A reset forgets what was recorded and not yet written.
        try store.save(sentOrder(5), seqNum: 5)
        try store.reset(creationTime: at(60).utc)
        try store.sync()
        #expect(readFile(store.bodyPath).isEmpty && store.storedSeqNums.isEmpty)
    }

    @Test func aFailedWriteKeepsTheIndexOfWrittenFramesAndDropsOnlyUnwrittenOnes() throws {
        let dir = try TemporaryDirectory()
        let store = try FileStore(directory: dir.path, identity: isld, syncPolicy: .never, creationTime: t0.utc)
        let full = MessageStoreError(.io(errno: 28), "write test")
        try store.save(sentOrder(1), seqNum: 1)
        try store.sync()
        // Message 1 is in the body (and may be on the wire); its index entry waits.
        try store.save(sentOrder(2), seqNum: 2)
        store.simulateWriteFailure(full)
        #expect(throws: MessageStoreError.self) { try store.sync() }
        // Message 2 never reached the body, so it never left: forgotten, its number free again.
        #expect(store.storedSeqNums == [1] && store.nextSenderMsgSeqNum == 2)
        #expect(throws: MessageStoreError.self) { try store.setNextTargetMsgSeqNum(2) }
        #expect(readFile(store.headerPath).isEmpty)
        store.simulateWriteFailure(nil)
        try store.setNextTargetMsgSeqNum(2)
        let size = sentOrder(1).readableBytes
        #expect(String(decoding: readFile(store.headerPath), as: UTF8.self) == "1,0,\(size) ")
        #expect(readFile(store.bodyPath) == Array(sentOrder(1).readableBytesView))
    }

    @Test func underAlwaysEveryMessageIsWrittenAtOnce() throws {
        let dir = try TemporaryDirectory()
        let store = try FileStore(directory: dir.path, identity: isld, syncPolicy: .always, creationTime: t0.utc)
        try store.save(sentOrder(1), seqNum: 1)
        #expect(readFile(store.bodyPath) == Array(sentOrder(1).readableBytesView))
        #expect(!readFile(store.headerPath).isEmpty)
    }

    @Test(arguments: FileStore.SyncPolicy.allCases)
    func everySyncPolicyKeepsTheData(policy: FileStore.SyncPolicy) throws {
        let dir = try TemporaryDirectory()
        do {
            let store = try FileStore(directory: dir.path, identity: isld, syncPolicy: policy, creationTime: t0.utc)
            for seq in 1...5 { try store.save(sentOrder(seq), seqNum: seq) }
            try store.setNextTargetMsgSeqNum(4)
            try store.sync()
        }
        let store = try FileStore(directory: dir.path, identity: isld, creationTime: t0.utc)
        #expect(store.nextSenderMsgSeqNum == 6 && store.nextTargetMsgSeqNum == 4)
        #expect(try store.messages(in: 1...5).count == 5)
    }
}

/// A crash tears the last write. These tests write N messages, tear the files of the last one at
/// every byte, reopen, and check what the store remembers.
@Suite struct FileStoreCrashTests {
    struct Files {
        var body: [UInt8]
        var header: [UInt8]
        var seqnums: [UInt8]

        init(_ store: FileStore) {
            body = readFile(store.bodyPath)
            header = readFile(store.headerPath)
            seqnums = readFile(store.seqNumsPath)
        }

        func write(to store: FileStore) {
            writeFile(store.bodyPath, body)
            writeFile(store.headerPath, header)
            writeFile(store.seqNumsPath, seqnums)
        }
    }

    /// N messages saved, target sequence 4; the files before and after saving message N, syncing
    /// (as a session does before it flushes) and writing its index entry (as it does after). The tears are made by hand, so the tests skip
    /// fsync (`.never`) to stay fast.
    func prepare(_ dir: TemporaryDirectory, count: Int) throws -> (FileStore, before: Files, after: Files) {
        let store = try FileStore(directory: dir.path, identity: isld, syncPolicy: .never, creationTime: t0.utc)
        for seq in 1..<count { try store.save(sentOrder(seq, padding: seq % 7), seqNum: seq) }
        try store.setNextTargetMsgSeqNum(4)
        let before = Files(store)
        try store.save(sentOrder(count, padding: 3), seqNum: count)
        try store.sync()
        // The index entry follows after the flush (with the next target update); reading back
        // writes it too, leaving `.seqnums` as it was before message N.
        _ = try store.messages(in: count...count)
        return (store, before, Files(store))
    }

    @Test func tornLastMessageIsForgottenAndItsNumberReusedOnlyIfNeverRecorded() throws {
        let n = 12
        let dir = try TemporaryDirectory()
        let (store, before, after) = try prepare(dir, count: n)
        let last = sentOrder(n, padding: 3).readableBytesView
        #expect(after.body.count == before.body.count + last.count)
        for cut in 0..<last.count {
            // The crash came while the body was being written: nothing else of message N exists.
            var files = before
            files.body = before.body + last.prefix(cut)
            files.write(to: store)
            let reopened = try FileStore(directory: dir.path, identity: isld, syncPolicy: .never, creationTime: t0.utc)
            #expect(reopened.nextSenderMsgSeqNum == n, "cut at \(cut)")
            #expect(reopened.nextTargetMsgSeqNum == 4)
            #expect(reopened.storedSeqNums == Array(1..<n))
            #expect(
                try reopened.messages(in: 1...n)
                    == (1..<n).map { StoredMessage(seqNum: $0, bytes: sentOrder($0, padding: $0 % 7)) })
            #expect(readFile(store.bodyPath) == before.body, "the torn frame is cut off at \(cut)")
            // The session goes on: message N is saved again and survives the next restart.
            try reopened.save(sentOrder(n, padding: 3), seqNum: n)
            try reopened.sync()
            let again = try FileStore(directory: dir.path, identity: isld, syncPolicy: .never, creationTime: t0.utc)
            #expect(again.nextSenderMsgSeqNum == n + 1)
            #expect(try again.messages(in: n...n) == [StoredMessage(seqNum: n, bytes: sentOrder(n, padding: 3))])
        }
    }

    @Test func messageInTheBodyButNotInTheIndexIsRecovered() throws {
        let n = 9
        let dir = try TemporaryDirectory()
        let (store, before, after) = try prepare(dir, count: n)
        #expect(after.header.count > before.header.count)
        for cut in before.header.count..<after.header.count {
            var files = after
            files.header = Array(after.header.prefix(cut))
            files.seqnums = before.seqnums
            files.write(to: store)
            let reopened = try FileStore(directory: dir.path, identity: isld, syncPolicy: .never, creationTime: t0.utc)
            #expect(reopened.nextSenderMsgSeqNum == n + 1, "index cut at \(cut)")
            #expect(try reopened.messages(in: n...n) == [StoredMessage(seqNum: n, bytes: sentOrder(n, padding: 3))])
            #expect(readFile(store.headerPath) == after.header, "the index is repaired at \(cut)")
        }
    }

    @Test func aRecordedSequenceNumberIsNeverReusedEvenIfItsMessageIsLost() throws {
        // The message reached .seqnums (a later target update) but its body write was torn.
        let n = 7
        let dir = try TemporaryDirectory()
        let (store, before, _) = try prepare(dir, count: n)
        try store.setNextTargetMsgSeqNum(5)
        var files = Files(store)
        files.body = before.body + sentOrder(n, padding: 3).readableBytesView.prefix(10)
        files.header = before.header
        files.write(to: store)
        let reopened = try FileStore(directory: dir.path, identity: isld, creationTime: t0.utc)
        #expect(reopened.nextSenderMsgSeqNum == n + 1)
        #expect(reopened.nextTargetMsgSeqNum == 5)
        // A resend of the lost message is a GapFill, never a different message under its number.
        var replay = ResendReplay(
            beginSeqNo: n - 1, endSeqNo: n, chunkSize: 10,
            header: OutboundHeader(identity: isld, precision: .milliseconds),
            now: at(60).utc)
        var written: [OutboundMessage] = []
        try reopened.run(&replay) { written += $0 }
        #expect(written.map(\.msgType) == ["D", "4"])
        #expect(written.map(\.seqNum) == [n - 1, n])
    }

    @Test func zeroFilledTailAfterPowerLossIsCutOff() throws {
        let dir = try TemporaryDirectory()
        let (store, _, after) = try prepare(dir, count: 5)
        var files = after
        files.body += [UInt8](repeating: 0, count: 4096)
        files.write(to: store)
        let reopened = try FileStore(directory: dir.path, identity: isld, creationTime: t0.utc)
        #expect(reopened.nextSenderMsgSeqNum == 6)
        #expect(reopened.storedSeqNums == [1, 2, 3, 4, 5])
        #expect(readFile(store.bodyPath) == after.body)
    }

    @Test func randomTearsNeverLoseAMessageThatWasCompletelyWritten() throws {
        var rng = SplitMix64(seed: 20_240_304)
        for round in 0..<40 {
            let dir = try TemporaryDirectory()
            let n = Int.random(in: 2...40, using: &rng)
            let (store, _, after) = try prepare(dir, count: n)
            // Tear body and index independently at random points.
            var files = after
            files.body = Array(after.body.prefix(Int.random(in: 0...after.body.count, using: &rng)))
            files.header = Array(after.header.prefix(Int.random(in: 0...after.header.count, using: &rng)))
            files.write(to: store)
            let reopened = try FileStore(directory: dir.path, identity: isld, syncPolicy: .never, creationTime: t0.utc)
            // Every message whose frame is entirely in the body is back, byte for byte.
            var offset = 0
            var complete: [Int] = []
            for seq in 1...n {
                let size = sentOrder(seq, padding: seq == n ? 3 : seq % 7).readableBytes
                if offset + size <= files.body.count { complete.append(seq) }
                offset += size
            }
            #expect(reopened.storedSeqNums == complete, "round \(round)")
            for m in try reopened.messages(in: 1...n) {
                #expect(m.bytes == sentOrder(m.seqNum, padding: m.seqNum == n ? 3 : m.seqNum % 7))
            }
            // .seqnums already said n before message n was saved: a number once recorded stays used.
            #expect(reopened.nextSenderMsgSeqNum == max(n, (complete.last ?? 0) + 1))
            #expect(reopened.nextTargetMsgSeqNum == 4)
        }
    }
}
