import FIXCore
import Foundation
import NIOCore
import NIOEmbedded
import Synchronization
import TestSupport
import Testing

@testable import FIXSession
@testable import FIXTransport

/// Counts what passes outwards, to check how often the session flushes.
final class OutboundCounter: ChannelOutboundHandler {
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer
    var writes = 0
    var flushes = 0

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        writes += 1
        context.write(data, promise: promise)
    }

    func flush(context: ChannelHandlerContext) {
        flushes += 1
        context.flush()
    }
}

/// What a driver reported.
final class Recorder {
    var events: [SessionEvent] = []
    var messages: [FIXMessage] = []

    func attach(to driver: SessionDriver) {
        driver.onEvent = { [unowned self] e, _ in events.append(e) }
        driver.onApplicationMessage = { [unowned self] m, _ in messages.append(m) }
    }

    func count(_ predicate: (SessionEvent) -> Bool) -> Int { events.filter(predicate).count }
}

/// One session on an EmbeddedChannel, with a clock driven by the embedded loop.
final class EmbeddedSession {
    let loop: EmbeddedEventLoop
    let channel: EmbeddedChannel
    let driver: SessionDriver
    let counter = OutboundCounter()
    let recorder = Recorder()
    let store: any MessageStore
    var peer: Counterparty

    init(
        _ configuration: SessionConfiguration, loop: EmbeddedEventLoop = EmbeddedEventLoop(),
        flushes: FlushCoordinator = FlushCoordinator(), store: any MessageStore = MemoryStore(),
        schedule: any SessionScheduleCheck = AlwaysOpenSchedule()
    ) throws {
        self.loop = loop
        self.store = store
        driver = SessionDriver(
            configuration: configuration, store: store, log: NullSessionLog(), eventLoop: loop,
            clock: .embedded(loop, utcAtStart: testEpoch), schedule: schedule, logger: .init(label: "test"),
            flushes: flushes)
        recorder.attach(to: driver)
        peer = Counterparty(of: configuration.identity)
        channel = EmbeddedChannel(loop: loop)
        try channel.pipeline.syncOperations.addHandlers([
            counter, ByteToMessageHandler(FIXFrameChannelDecoder()), FIXSessionHandler(driver: driver),
        ])
    }

    var now: UTCTimestamp { driver.clock.now().utc }

    func connect() throws {
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 9876)).wait()
    }

    /// Everything flushed so far, decoded.
    func sent() throws -> [FIXMessage] {
        var out: [FIXMessage] = []
        while let buffer = try channel.readOutbound(as: ByteBuffer.self) { out += try decodeAll(buffer) }
        return out
    }

    func receive(_ frames: ByteBuffer...) throws {
        var all = channel.allocator.buffer(capacity: 512)
        for var f in frames { all.writeBuffer(&f) }
        try channel.writeInbound(all)
    }

    /// Connects, checks our Logon, answers it and returns once logged on.
    func logOn(heartBtInt: Int = 30) throws {
        try connect()
        let logon = try sent()
        #expect(logon.count == 1)
        #expect(logon.first?.msgType == "A")
        try receive(peer.logon(at: now, heartBtInt: heartBtInt))
        #expect(driver.isLoggedOn)
    }
}

/// A memory store whose saves can be made to fail, like a full disk, and which keeps every next
/// target sequence number it is given.
final class FailingStore: MessageStore {
    let inner = MemoryStore()
    let failing = Mutex(false)
    let targetWrites = Mutex<[Int]>([])
    /// Called just before a next target sequence number is recorded (tests on one embedded loop).
    nonisolated(unsafe) var beforeTargetWrite: () -> Void = {}

    var nextSenderMsgSeqNum: Int { inner.nextSenderMsgSeqNum }
    var nextTargetMsgSeqNum: Int { inner.nextTargetMsgSeqNum }
    var creationTime: UTCTimestamp { inner.creationTime }

    func save(_ message: ByteBuffer, seqNum: Int) throws(MessageStoreError) {
        if failing.withLock({ $0 }) { throw MessageStoreError(.io(errno: 28), "write test.body") }
        try inner.save(message, seqNum: seqNum)
    }
    func setNextSenderMsgSeqNum(_ value: Int) throws(MessageStoreError) { try inner.setNextSenderMsgSeqNum(value) }
    func setNextTargetMsgSeqNum(_ value: Int) throws(MessageStoreError) {
        beforeTargetWrite()
        targetWrites.withLock { $0.append(value) }
        try inner.setNextTargetMsgSeqNum(value)
    }
    func messages(in range: ClosedRange<Int>) throws(MessageStoreError) -> [StoredMessage] {
        try inner.messages(in: range)
    }
    func reset(creationTime: UTCTimestamp) throws(MessageStoreError) { try inner.reset(creationTime: creationTime) }
    func refresh() throws(MessageStoreError) { try inner.refresh() }
    func sync() throws(MessageStoreError) { try inner.sync() }
}

func initiatorConfiguration(heartBtInt: Int = 30) -> SessionConfiguration {
    SessionConfiguration(
        identity: SessionIdentity(senderCompID: "CLIENT", targetCompID: "BROKER"), connectionType: .initiator,
        heartBtInt: heartBtInt)
}

@Suite("FIXSessionHandler on EmbeddedChannel")
struct SessionHandlerTests {
    @Test("an initiator sends its Logon on connect and logs on with the reply")
    func logon() throws {
        let s = try EmbeddedSession(initiatorConfiguration())
        try s.connect()
        let out = try s.sent()
        let logon = try #require(out.first)
        #expect(out.count == 1)
        #expect(logon.msgType == "A")
        #expect(logon[FIXTag.senderCompID] == "CLIENT")
        #expect(logon[FIXTag.targetCompID] == "BROKER")
        #expect(logon.msgSeqNum == 1)
        #expect(logon[FIXTag.heartBtInt] == "30")
        #expect(s.store.nextSenderMsgSeqNum == 2)

        try s.receive(s.peer.logon(at: s.now))
        #expect(s.driver.isLoggedOn)
        #expect(s.recorder.count { if case .loggedOn(30, _) = $0 { true } else { false } } == 1)
        #expect(s.store.nextTargetMsgSeqNum == 2)
        #expect(try s.sent().isEmpty)
    }

    @Test("heartbeats and TestRequests follow the clock; silence after a TestRequest disconnects")
    func heartbeatTiming() throws {
        let s = try EmbeddedSession(initiatorConfiguration(heartBtInt: 30))
        try s.logOn()

        s.loop.advanceTime(by: .seconds(29))
        #expect(try s.sent().isEmpty)
        s.loop.advanceTime(by: .seconds(1))
        let hb = try s.sent()
        #expect(hb.map(\.msgType) == ["0"])

        // 1.2 HeartBtInt without a word from the counterparty: a TestRequest.
        s.loop.advanceTime(by: .seconds(5))
        #expect(try s.sent().isEmpty)
        s.loop.advanceTime(by: .seconds(1))
        let tr = try s.sent()
        #expect(tr.map(\.msgType) == ["1"])
        let testReqID = try #require(tr.first?[FIXTag.testReqID])

        // The answer resets the silence.
        try s.receive(s.peer.frame("0", at: s.now) { $0.set(FIXTag.testReqID, testReqID) })
        #expect(s.channel.isActive)

        // Silence again: TestRequest at 36 s, disconnect at 72 s after the last message.
        s.loop.advanceTime(by: .seconds(36))
        #expect(try s.sent().contains { $0.msgType == "1" })
        #expect(s.channel.isActive)
        s.loop.advanceTime(by: .seconds(36))
        #expect(!s.channel.isActive)
        #expect(s.recorder.events.contains(.heartbeatTimeout))
        #expect(s.recorder.events.last == .disconnected)
        #expect(!s.driver.isConnected)
    }

    @Test("answers to a burst of reads leave in one write and one flush")
    func oneFlushPerBurst() throws {
        let s = try EmbeddedSession(initiatorConfiguration())
        try s.logOn()
        let flushesBefore = s.counter.flushes
        let writesBefore = s.counter.writes
        try s.receive(
            s.peer.frame("1", at: s.now) { $0.set(FIXTag.testReqID, "a") },
            s.peer.frame("1", at: s.now) { $0.set(FIXTag.testReqID, "b") },
            s.peer.frame("1", at: s.now) { $0.set(FIXTag.testReqID, "c") })
        let out = try s.sent()
        #expect(out.map(\.msgType) == ["0", "0", "0"])
        #expect(out.map { $0[FIXTag.testReqID] } == ["a", "b", "c"])
        #expect(s.counter.writes - writesBefore == 1)
        #expect(s.counter.flushes - flushesBefore == 1)
    }

    /// Two logged-on sessions on one loop and one flush coordinator: a provider's, whose handler
    /// copies, and a follower's.
    private func providerAndFollower() throws -> (provider: EmbeddedSession, follower: EmbeddedSession) {
        let loop = EmbeddedEventLoop()
        let flushes = FlushCoordinator()
        let provider = try EmbeddedSession(initiatorConfiguration(), loop: loop, flushes: flushes)
        let follower = try EmbeddedSession(
            SessionConfiguration(
                identity: SessionIdentity(senderCompID: "CLIENT", targetCompID: "BROKER2"),
                connectionType: .initiator, heartBtInt: 30),
            loop: loop, flushes: flushes)
        try provider.logOn()
        try follower.logOn()
        return (provider, follower)
    }

    @Test("copies sent on another session from the handler leave at the end of the read burst, in one flush")
    func crossSessionFlush() throws {
        let (provider, follower) = try providerAndFollower()
        var flushedDuringBurst: [Int] = []
        let followerDriver = follower.driver
        let followerCounter = follower.counter
        provider.driver.onApplicationMessage = { message, _ in
            try! followerDriver.send(newOrderSingle(clOrdID: "copy-" + message[FIXTag.execID]!))
            flushedDuringBurst.append(followerCounter.flushes)
        }
        let flushesBefore = follower.counter.flushes
        try provider.receive(
            provider.peer.frame("8", at: provider.now) { b in b = executionReportFields(b, "E1") },
            provider.peer.frame("8", at: provider.now) { b in b = executionReportFields(b, "E2") })
        #expect(flushedDuringBurst == [flushesBefore, flushesBefore])
        #expect(follower.counter.flushes == flushesBefore + 1)
        let orders = try follower.sent()
        #expect(orders.map { $0[FIXTag.clOrdID] } == ["copy-E1", "copy-E2"])
        #expect(orders.map(\.msgSeqNum) == [2, 3])
    }

    @Test("flushWrites puts a copy on the wire in the middle of a read burst; the burst's end flushes nothing more")
    func flushWritesMidBurst() throws {
        let (provider, follower) = try providerAndFollower()
        let followerDriver = follower.driver
        let followerCounter = follower.counter
        var flushedAfterSend: [Int] = []
        provider.driver.onApplicationMessage = { message, _ in
            try! followerDriver.send(newOrderSingle(clOrdID: "copy-" + message[FIXTag.execID]!))
            followerDriver.flushWrites()
            flushedAfterSend.append(followerCounter.flushes)
            // Nothing written since: no flush.
            followerDriver.flushWrites()
        }
        let before = follower.counter.flushes
        try provider.receive(
            provider.peer.frame("8", at: provider.now) { b in b = executionReportFields(b, "E1") },
            provider.peer.frame("8", at: provider.now) { b in b = executionReportFields(b, "E2") })
        #expect(flushedAfterSend == [before + 1, before + 2])
        #expect(follower.counter.flushes == before + 2)
        let orders = try follower.sent()
        #expect(orders.map { $0[FIXTag.clOrdID] } == ["copy-E1", "copy-E2"])
    }

    @Test(
        "a read burst's inbound sequence numbers are recorded once, after all its messages are handled and its answers flushed"
    )
    func targetSeqNumOncePerBurst() throws {
        let store = FailingStore()
        let s = try EmbeddedSession(initiatorConfiguration(), store: store)
        try s.logOn()
        #expect(store.targetWrites.withLock { $0 } == [2])
        var recordedWhileHandling: [Int] = []
        let driver = s.driver
        s.driver.onApplicationMessage = { message, _ in
            recordedWhileHandling.append(store.nextTargetMsgSeqNum)
            try! driver.send(newOrderSingle(clOrdID: "copy-" + message[FIXTag.execID]!))
        }
        let counter = s.counter
        let flushesBefore = counter.flushes
        var flushesAtTargetWrite: [Int] = []
        store.beforeTargetWrite = { flushesAtTargetWrite.append(counter.flushes) }
        try s.receive(
            s.peer.frame("8", at: s.now) { b in b = executionReportFields(b, "E1") },
            s.peer.frame("8", at: s.now) { b in b = executionReportFields(b, "E2") },
            s.peer.frame("8", at: s.now) { b in b = executionReportFields(b, "E3") })
        #expect(recordedWhileHandling == [2, 2, 2])
        #expect(flushesAtTargetWrite == [flushesBefore + 1], "the burst's orders were flushed before the record")
        #expect(try s.sent().map { $0[FIXTag.clOrdID] } == ["copy-E1", "copy-E2", "copy-E3"])
        #expect(store.targetWrites.withLock { $0 } == [2, 5])
        #expect(store.nextTargetMsgSeqNum == 5)
    }

    @Test("a burst that ends the connection still records its inbound sequence numbers")
    func targetSeqNumRecordedWhenBurstCloses() throws {
        let store = FailingStore()
        let s = try EmbeddedSession(initiatorConfiguration(), store: store)
        try s.logOn()
        try s.receive(
            s.peer.frame("8", at: s.now) { b in b = executionReportFields(b, "E1") }, s.peer.frame("5", at: s.now))
        #expect(!s.channel.isActive)
        #expect(store.nextTargetMsgSeqNum == 4)
    }

    @Test("garbled bytes are reported and skipped; the next message is processed")
    func garbled() throws {
        let s = try EmbeddedSession(initiatorConfiguration())
        try s.logOn()
        var junk = s.channel.allocator.buffer(capacity: 64)
        junk.writeString("8=FIX.4.4\u{01}9=5\u{01}35=0\u{01}10=000\u{01}")
        try s.receive(junk, s.peer.frame("1", at: s.now) { $0.set(FIXTag.testReqID, "after") })
        #expect(s.recorder.events.contains { if case .garbledIgnored = $0 { true } else { false } })
        let out = try s.sent()
        #expect(out.map { $0[FIXTag.testReqID] } == ["after"])
        #expect(s.channel.isActive)
    }

    @Test("the counterparty's Logout is answered and the connection closes")
    func logoutFromCounterparty() throws {
        let s = try EmbeddedSession(initiatorConfiguration())
        try s.logOn()
        try s.receive(s.peer.frame("5", at: s.now))
        let out = try s.sent()
        #expect(out.map(\.msgType) == ["5"])
        #expect(!s.channel.isActive)
        #expect(s.recorder.events.contains(.logoutReceived(text: nil)))
        #expect(s.recorder.events.last == .disconnected)
    }

    @Test("a dropped connection is reported; the next connection continues the sequence numbers")
    func dropAndReconnect() throws {
        let s = try EmbeddedSession(initiatorConfiguration())
        try s.logOn()
        try s.driver.send(newOrderSingle(clOrdID: "1"))
        #expect(try s.sent().map(\.msgSeqNum) == [2])
        try s.channel.close().wait()
        #expect(!s.driver.isConnected)
        #expect(s.recorder.events.last == .disconnected)
        #expect(throws: SessionSendError.notLoggedOn) { try s.driver.send(newOrderSingle(clOrdID: "2")) }

        let second = EmbeddedChannel(loop: s.loop)
        try second.pipeline.syncOperations.addHandlers([
            ByteToMessageHandler(FIXFrameChannelDecoder()), FIXSessionHandler(driver: s.driver),
        ])
        try second.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 9876)).wait()
        let logon = try decodeAll(try #require(try second.readOutbound(as: ByteBuffer.self)))
        #expect(logon.map(\.msgType) == ["A"])
        #expect(logon.first?.msgSeqNum == 3)
        _ = try? second.finish()
    }

    @Test("an application send is flushed at once outside a read burst")
    func sendOutsideBurst() throws {
        let s = try EmbeddedSession(initiatorConfiguration())
        try s.logOn()
        let before = s.counter.flushes
        try s.driver.send(newOrderSingle(clOrdID: "X"))
        #expect(s.counter.flushes == before + 1)
        let out = try s.sent()
        #expect(out.map { $0[FIXTag.clOrdID] } == ["X"])
        #expect(s.store.nextSenderMsgSeqNum == 3)
        #expect(try s.store.messages(in: 2...2).count == 1)
    }

    @Test("an operator logout sends Logout and closes on the reply")
    func operatorLogout() throws {
        let s = try EmbeddedSession(initiatorConfiguration())
        try s.logOn()
        s.driver.logout(text: "bye")
        let out = try s.sent()
        #expect(out.map(\.msgType) == ["5"])
        #expect(out.first?[FIXTag.text] == "bye")
        #expect(s.channel.isActive)
        try s.receive(s.peer.frame("5", at: s.now))
        #expect(!s.channel.isActive)
        #expect(s.recorder.events.last == .disconnected)
    }

    @Test("without a Logon reply the connection closes after LogonTimeout")
    func logonTimeout() throws {
        var config = initiatorConfiguration()
        config.logonTimeout = 10
        let s = try EmbeddedSession(config)
        try s.connect()
        #expect(try s.sent().map(\.msgType) == ["A"])
        s.loop.advanceTime(by: .seconds(9))
        #expect(s.channel.isActive)
        s.loop.advanceTime(by: .seconds(1))
        #expect(!s.channel.isActive)
        #expect(s.recorder.events.contains(.logonTimeout))
        #expect(s.recorder.events.last == .disconnected)
    }

    @Test("a store from an earlier session period is reset before the Logon")
    func newSessionPeriodOnConnect() throws {
        let store = MemoryStore(creationTime: UTCTimestamp(nanosecondsSinceEpoch: 0))
        try store.setNextSenderMsgSeqNum(41)
        try store.setNextTargetMsgSeqNum(17)
        let schedule = ClosureSchedule(
            isWithinSchedule: { _ in true }, isNewSessionPeriod: { created, now in created < testEpoch })
        let s = try EmbeddedSession(initiatorConfiguration(), store: store, schedule: schedule)
        try s.connect()
        let logon = try s.sent()
        #expect(logon.map(\.msgSeqNum) == [1])
        #expect(store.nextSenderMsgSeqNum == 2)
        #expect(store.nextTargetMsgSeqNum == 1)
        #expect(store.creationTime >= testEpoch)
    }

    @Test("an acceptor outside its schedule refuses a Logon at once, and accepts it once the schedule opens")
    func acceptorOutsideSchedule() throws {
        let schedule = SwitchableSchedule()
        schedule.set(open: false)
        let config = SessionConfiguration(
            identity: SessionIdentity(senderCompID: "BROKER", targetCompID: "CLIENT"), connectionType: .acceptor,
            heartBtInt: 30)
        let s = try EmbeddedSession(config, schedule: schedule)
        try s.connect()
        try s.receive(s.peer.logon(at: s.now))
        #expect(!s.channel.isActive)
        #expect(!s.recorder.events.contains { if case .loggedOn = $0 { true } else { false } })
        #expect(s.recorder.events.contains { if case .logonRefused = $0 { true } else { false } })

        schedule.set(open: true)
        let second = EmbeddedChannel(loop: s.loop)
        try second.pipeline.syncOperations.addHandlers([
            ByteToMessageHandler(FIXFrameChannelDecoder()), FIXSessionHandler(driver: s.driver),
        ])
        try second.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 9876)).wait()
        var peer = Counterparty(of: config.identity)
        try second.writeInbound(peer.logon(at: s.now))
        let reply = try decodeAll(try #require(try second.readOutbound(as: ByteBuffer.self)))
        #expect(reply.map(\.msgType) == ["A"])
        #expect(s.driver.isLoggedOn)
        _ = try? second.finish()
    }

    @Test(
        "a store that cannot save stops the message from leaving and drops the connection; the sequence continues from the store"
    )
    func storeFailure() throws {
        let store = FailingStore()
        let s = try EmbeddedSession(initiatorConfiguration(), store: store)
        try s.logOn()
        store.failing.withLock { $0 = true }
        try s.driver.send(newOrderSingle(clOrdID: "lost"))
        #expect(try s.sent().isEmpty)
        #expect(!s.channel.isActive)
        #expect(s.driver.nextSenderMsgSeqNum == 2)
        #expect(s.recorder.events.last == .disconnected)

        store.failing.withLock { $0 = false }
        let second = EmbeddedChannel(loop: s.loop)
        try second.pipeline.syncOperations.addHandlers([
            ByteToMessageHandler(FIXFrameChannelDecoder()), FIXSessionHandler(driver: s.driver),
        ])
        try second.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 9876)).wait()
        let logon = try decodeAll(try #require(try second.readOutbound(as: ByteBuffer.self)))
        #expect(logon.map(\.msgSeqNum) == [2])
        _ = try? second.finish()
    }

    @Test(
        "a file store that cannot write a burst's orders at the flush keeps them off the wire and forgets them: the next logon continues from the files"
    )
    func fileStoreFailsAtTheFlush() throws {
        let dir = try makeTemporaryDirectory("store-failure")
        defer { try? FileManager.default.removeItem(at: dir) }
        let configuration = initiatorConfiguration()
        let store = try FileStore(
            directory: dir.path, identity: configuration.identity, syncPolicy: .never, creationTime: testEpoch)
        let s = try EmbeddedSession(configuration, store: store)
        try s.logOn()
        try s.driver.send(newOrderSingle(clOrdID: "kept"))
        #expect(try s.sent().map { $0[FIXTag.clOrdID] } == ["kept"])
        store.simulateWriteFailure(MessageStoreError(.io(errno: 28), "write test.body"))
        try s.driver.send(newOrderSingle(clOrdID: "lost"))
        #expect(try s.sent().isEmpty, "nothing the store could not write leaves")
        #expect(!s.channel.isActive)
        #expect(store.nextSenderMsgSeqNum == 3 && store.storedSeqNums == [2])

        store.simulateWriteFailure(nil)
        let second = EmbeddedChannel(loop: s.loop)
        try second.pipeline.syncOperations.addHandlers([
            ByteToMessageHandler(FIXFrameChannelDecoder()), FIXSessionHandler(driver: s.driver),
        ])
        try second.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 9876)).wait()
        let logon = try decodeAll(try #require(try second.readOutbound(as: ByteBuffer.self)))
        #expect(logon.map(\.msgSeqNum) == [3], "the lost order's number is used again, as it never left")
        #expect(try store.messages(in: 1...10).map(\.seqNum) == [2])
        _ = try? second.finish()
    }

    @Test("without a Logout reply the connection closes after LogoutTimeout")
    func logoutTimeout() throws {
        var config = initiatorConfiguration()
        config.logoutTimeout = 2
        let s = try EmbeddedSession(config)
        try s.logOn()
        s.driver.logout()
        #expect(try s.sent().map(\.msgType) == ["5"])
        s.loop.advanceTime(by: .milliseconds(1999))
        #expect(s.channel.isActive)
        s.loop.advanceTime(by: .milliseconds(1))
        #expect(!s.channel.isActive)
        #expect(s.recorder.events.contains(.logoutTimeout))
    }
}

/// The body of an ExecutionReport, written into a builder that already has the header.
func executionReportFields(_ header: FIXMessageBuilder, _ execID: String) -> FIXMessageBuilder {
    var b = header
    let body = executionReport(clOrdID: "C-\(execID)", execID: execID)
    for tag in [
        FIXTag.orderID, FIXTag.clOrdID, FIXTag.execID, FIXTag.execType, FIXTag.ordStatus, FIXTag.symbol, FIXTag.side,
        FIXTag.orderQty, FIXTag.leavesQty, FIXTag.cumQty, FIXTag.avgPx,
    ] {
        b.set(tag, body[tag]!)
    }
    return b
}

@Suite("Acceptor routing on EmbeddedChannel")
struct AcceptorRoutingTests {
    final class Setup {
        let loop = EmbeddedEventLoop()
        let flushes = FlushCoordinator()
        let router: SessionRouter
        let drivers: [SessionDriver]
        let recorders: [Recorder]

        init() {
            let ids = [
                SessionIdentity(senderCompID: "BROKER", targetCompID: "CLIENT1"),
                SessionIdentity(senderCompID: "BROKER", targetCompID: "CLIENT2"),
            ]
            var drivers: [SessionDriver] = []
            var recorders: [Recorder] = []
            for id in ids {
                let d = SessionDriver(
                    configuration: SessionConfiguration(identity: id, connectionType: .acceptor, heartBtInt: 30),
                    store: MemoryStore(), log: NullSessionLog(), eventLoop: loop,
                    clock: .embedded(loop, utcAtStart: testEpoch), logger: .init(label: "test"), flushes: flushes)
                let r = Recorder()
                r.attach(to: d)
                drivers.append(d)
                recorders.append(r)
            }
            self.drivers = drivers
            self.recorders = recorders
            router = SessionRouter(
                sessions: drivers, flushes: flushes, logger: .init(label: "test"), firstMessageTimeout: .seconds(10))
        }

        func accept() throws -> EmbeddedChannel {
            let channel = EmbeddedChannel(loop: loop)
            try channel.pipeline.syncOperations.addHandlers([
                ByteToMessageHandler(FIXFrameChannelDecoder()), FIXSessionHandler(router: router),
            ])
            try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 5000)).wait()
            return channel
        }

        var now: UTCTimestamp { testEpoch }
    }

    @Test("connections are routed by the CompIDs of their Logon")
    func routing() throws {
        let s = Setup()
        let c1 = try s.accept()
        let c2 = try s.accept()
        var p1 = Counterparty(of: s.drivers[0].identity)
        var p2 = Counterparty(of: s.drivers[1].identity)
        try c2.writeInbound(p2.logon(at: s.now))
        try c1.writeInbound(p1.logon(at: s.now))
        let r1 = try decodeAll(try #require(try c1.readOutbound(as: ByteBuffer.self)))
        let r2 = try decodeAll(try #require(try c2.readOutbound(as: ByteBuffer.self)))
        #expect(r1.first?.msgType == "A")
        #expect(r1.first?[FIXTag.targetCompID] == "CLIENT1")
        #expect(r2.first?[FIXTag.targetCompID] == "CLIENT2")
        #expect(s.drivers.allSatisfy { $0.isLoggedOn })
    }

    @Test("a connection for an unknown session is closed without an answer")
    func unknownSession() throws {
        let s = Setup()
        let c = try s.accept()
        var stranger = Counterparty(of: SessionIdentity(senderCompID: "BROKER", targetCompID: "NOBODY"))
        try c.writeInbound(stranger.logon(at: s.now))
        #expect(!c.isActive)
        #expect(try c.readOutbound(as: ByteBuffer.self) == nil)
        #expect(s.drivers.allSatisfy { !$0.isConnected })
    }

    @Test("a second connection for a logged-on session is refused; the first stays (test case 1b)")
    func duplicateConnection() throws {
        let s = Setup()
        let first = try s.accept()
        var p = Counterparty(of: s.drivers[0].identity)
        try first.writeInbound(p.logon(at: s.now))
        _ = try first.readOutbound(as: ByteBuffer.self)
        #expect(s.drivers[0].isLoggedOn)

        let second = try s.accept()
        var intruder = Counterparty(of: s.drivers[0].identity)
        try second.writeInbound(intruder.logon(at: s.now))
        #expect(!second.isActive)
        #expect(try second.readOutbound(as: ByteBuffer.self) == nil)
        #expect(first.isActive)
        #expect(s.drivers[0].isLoggedOn)
        #expect(s.recorders[0].events.contains(.duplicateConnectionRefused))

        // The established connection still works.
        try first.writeInbound(p.frame("1", at: s.now) { $0.set(FIXTag.testReqID, "still") })
        let hb = try decodeAll(try #require(try first.readOutbound(as: ByteBuffer.self)))
        #expect(hb.first?[FIXTag.testReqID] == "still")
    }

    @Test("a connection that says nothing is closed after the first-message timeout")
    func silentConnection() throws {
        let s = Setup()
        let c = try s.accept()
        s.loop.advanceTime(by: .seconds(9))
        #expect(c.isActive)
        s.loop.advanceTime(by: .seconds(1))
        #expect(!c.isActive)
    }
}
