import FIXCore
import FIXSession
import Logging
import NIOCore

/// Defers flushes to the end of a read burst, for every session on one event loop.
///
/// While a channel delivers a burst of reads, whatever any session writes (answers on the same
/// connection, copies sent on other connections) waits in the channels' outbound buffers and is
/// flushed once, in `channelReadComplete`. Outside a burst (a timer, an application send from
/// another thread), writes are flushed at once.
final class FlushCoordinator {
    private var burstDepth = 0
    private var pending: [SessionDriver] = []
    private var flushing: [SessionDriver] = []

    var isInBurst: Bool { burstDepth > 0 }

    func beginBurst() { burstDepth += 1 }

    func endBurst() {
        precondition(burstDepth > 0, "read burst ended twice")
        burstDepth -= 1
        if burstDepth == 0 { flushPending() }
    }

    func enqueue(_ driver: SessionDriver) { pending.append(driver) }

    private func flushPending() {
        // A flush can close a channel and make a session write again: swap so that the list being
        // walked is never appended to.
        while !pending.isEmpty {
            swap(&pending, &flushing)
            for driver in flushing where driver.burstWorkQueued { driver.finishBurst() }
            flushing.removeAll(keepingCapacity: true)
        }
    }
}

/// Runs one FIX session on one event loop: feeds its ``SessionStateMachine`` the connection's
/// frames, the timer and the application's requests, and executes the actions it returns (store
/// first, then the wire; resends chunk by chunk; one flush and one record of the inbound sequence
/// number per read burst; one timer).
///
/// A driver outlives connections: initiators reconnect through it and acceptors route each new
/// connection to it. Everything except the immutable properties must be used on ``eventLoop``; the
/// engine's application handler runs there, so it can send on any session of its engine directly.
public final class SessionDriver: @unchecked Sendable {
    /// The session's identity.
    public let identity: SessionIdentity
    /// The session's configuration.
    public let configuration: SessionConfiguration
    /// The loop every call must be made on.
    public let eventLoop: any EventLoop
    /// The session's message store.
    public let store: any MessageStore
    /// The session's message and event log.
    public let log: any SessionLog

    let clock: FIXClock
    let schedule: any SessionScheduleCheck
    let logger: Logger
    let flushes: FlushCoordinator

    /// Called on ``eventLoop`` for every application message the session accepts, in order. A
    /// ``FIXEngine`` sets it (and ``onEvent``) when it starts.
    public var onApplicationMessage: ((FIXMessage, SessionDriver) -> Void)?
    /// Called on ``eventLoop`` for every session event.
    public var onEvent: ((SessionEvent, SessionDriver) -> Void)?

    private var machine: SessionStateMachine
    private var connection: ChannelHandlerContext?
    private var executing = false
    private var deferred: [DeferredBatch] = []
    private var timer: Scheduled<Void>?
    private var timerDeadline = Int64.max
    private var wantedTick: Int64?
    private(set) var flushQueued = false
    /// In the ``FlushCoordinator``'s list for the end of the current burst.
    private(set) var burstWorkQueued = false
    /// The next target sequence number, recorded in the store at the end of the read burst.
    private var pendingTargetSeqNum: Int?
    private var needsSync = false
    /// Messages written since the last flush, in order: the flush hands them to the channel in one
    /// write. (A write each costs the channel a queue entry and the kernel an iovec, per message: a
    /// thousand followers' copies are a thousand messages.) Only what the store has made durable is
    /// handed over, so a failed sync keeps them off the wire.
    private var unwritten: ByteBuffer?
    private var storeFailed = false
    private var closeWaiters: [EventLoopPromise<Void>] = []
    private var disconnectionPending = false

    private struct DeferredBatch {
        var actions: [SessionAction]
        var newConnection: ChannelHandlerContext?
    }

    /// A driver continuing from the store's sequence numbers.
    ///
    /// `schedule` decides, when a connection opens, whether the store belongs to an earlier
    /// session period (both sequence numbers then start again at 1).
    public convenience init(
        configuration: SessionConfiguration, store: any MessageStore, log: any SessionLog = NullSessionLog(),
        eventLoop: any EventLoop, clock: FIXClock = .system, schedule: any SessionScheduleCheck = AlwaysOpenSchedule(),
        logger: Logger = Logger(label: "FIXTransport")
    ) {
        self.init(
            configuration: configuration, store: store, log: log, eventLoop: eventLoop, clock: clock,
            schedule: schedule, logger: logger, flushes: FlushCoordinator())
    }

    init(
        configuration: SessionConfiguration, store: any MessageStore, log: any SessionLog,
        eventLoop: any EventLoop, clock: FIXClock, schedule: any SessionScheduleCheck = AlwaysOpenSchedule(),
        logger: Logger, flushes: FlushCoordinator
    ) {
        self.schedule = schedule
        self.identity = configuration.identity
        self.configuration = configuration
        self.store = store
        self.log = log
        self.eventLoop = eventLoop
        self.clock = clock
        var logger = logger
        logger[metadataKey: "fix-session"] = "\(configuration.identity)"
        self.logger = logger
        self.flushes = flushes
        self.machine = SessionStateMachine(configuration: configuration, store: store)
    }

    // MARK: Observing (on the event loop)

    /// Whether the Logon exchange is complete and no Logout has been sent or received.
    public var isLoggedOn: Bool {
        eventLoop.assertInEventLoop()
        return machine.isLoggedOn
    }

    /// Whether a connection is attached.
    public var isConnected: Bool {
        eventLoop.assertInEventLoop()
        return connection != nil
    }

    /// MsgSeqNum of the next message we send.
    public var nextSenderMsgSeqNum: Int {
        eventLoop.assertInEventLoop()
        return machine.nextSenderMsgSeqNum
    }

    /// MsgSeqNum expected on the next message received.
    public var nextTargetMsgSeqNum: Int {
        eventLoop.assertInEventLoop()
        return machine.nextTargetMsgSeqNum
    }

    /// The connection's remote address, when connected.
    public var remoteAddress: SocketAddress? {
        eventLoop.assertInEventLoop()
        return connection?.channel.remoteAddress
    }

    // MARK: Application requests (on the event loop)

    /// Sends an application message: the session fills in the header, stores it and writes it. The
    /// write is flushed at the end of the current read burst, or at once outside one.
    public func send(_ message: FIXMessageBuilder) throws(SessionSendError) {
        eventLoop.preconditionInEventLoop()
        guard !storeFailed, connection != nil else { throw .notLoggedOn }
        run(try machine.send(message, at: clock.now()))
    }

    /// Puts what this session has written during the current read burst on the wire now, instead
    /// of when the burst ends: for an application whose messages are urgent (copies of a fill),
    /// once it has written all it has for now. The store is synced first, as for every flush.
    public func flushWrites() {
        eventLoop.preconditionInEventLoop()
        if flushQueued { flushNow() }
    }

    /// Logs out (when logged on) and closes the connection on the reply or after LogoutTimeout.
    public func logout(text: String? = nil) {
        eventLoop.preconditionInEventLoop()
        run(machine.logout(text: text, at: clock.now()))
    }

    /// A future that completes when no connection is attached.
    public func whenDisconnected() -> EventLoopFuture<Void> {
        eventLoop.assertInEventLoop()
        guard connection != nil else { return eventLoop.makeSucceededVoidFuture() }
        let promise = eventLoop.makePromise(of: Void.self)
        closeWaiters.append(promise)
        return promise.futureResult
    }

    // MARK: Schedule (on the event loop)

    func scheduleOpened() {
        run(machine.scheduleOpened(at: clock.now()))
    }

    func scheduleClosed() {
        run(machine.scheduleClosed(at: clock.now()))
    }

    func newSessionPeriod() {
        run(machine.newSessionPeriod(at: clock.now()))
    }

    var isWithinSchedule: Bool { machine.isWithinSchedule }

    /// Closes the connection at once, without a Logout (engine shutdown after the grace period).
    func forceClose() {
        connection?.close(promise: nil)
    }

    /// Cancels the timer; the driver is no longer used.
    func shutdown() {
        timer?.cancel()
        timer = nil
        wantedTick = nil
        onApplicationMessage = nil
        onEvent = nil
    }

    // MARK: Connection events (from FIXSessionHandler)

    /// A connection for this session opened. Returns `false` when the session refused it (one is
    /// already attached: test case 1b); the caller then ignores the connection's input.
    func connectionOpened(_ context: ChannelHandlerContext) -> Bool {
        eventLoop.assertInEventLoop()
        let now = clock.now()
        if connection != nil {
            run(machine.connected(at: now), newConnection: context)
            if context.channel.isActive {
                // The machine refuses a second connection; should it not, the invariant of one
                // connection per session still holds.
                logger.warning("closing a second connection for a connected session")
                context.close(promise: nil)
            }
            return false
        }
        if configuration.refreshOnLogon {
            do {
                try store.refresh()
                machine.restore(
                    nextSenderMsgSeqNum: store.nextSenderMsgSeqNum, nextTargetMsgSeqNum: store.nextTargetMsgSeqNum)
            } catch {
                storeFailure(error, while: "refreshing the store")
                context.close(promise: nil)
                return false
            }
        }
        // The engine checks the schedule once a second; a connection gets the answer of now.
        let within = schedule.isWithinSchedule(now.utc)
        if within != machine.isWithinSchedule {
            run(within ? machine.scheduleOpened(at: now) : machine.scheduleClosed(at: now))
        }
        if schedule.isNewSessionPeriod(since: store.creationTime, at: now.utc) {
            run(machine.newSessionPeriod(at: now))
        }
        connection = context
        storeFailed = false
        run(machine.connected(at: now), newConnection: context)
        return connection === context
    }

    /// A frame (or garbled bytes) arrived on `context`.
    func received(_ result: FIXDecodeResult, on context: ChannelHandlerContext) {
        guard connection === context else { return }
        let now = clock.now()
        switch result {
        case .message(let message): log.incoming(message.bytes, at: now.utc)
        case .garbled(_, let bytes): log.incoming(bytes, at: now.utc)
        }
        run(machine.received(result, at: now))
    }

    /// The connection `context` closed.
    func connectionClosed(_ context: ChannelHandlerContext) {
        guard connection === context else { return }
        connection = nil
        flushQueued = false
        needsSync = false
        unwritten = nil
        timer?.cancel()
        timer = nil
        wantedTick = nil
        disconnectionPending = true
        run(machine.disconnected(at: clock.now()))
        if !executing { finishDisconnection() }
    }

    /// Once the disconnection's actions (events, a reset) have run: after a store failure, continue
    /// from what the store kept; then complete the ``whenDisconnected()`` futures.
    private func finishDisconnection() {
        guard disconnectionPending, connection == nil else { return }
        disconnectionPending = false
        if storeFailed, !machine.isConnected {
            // The machine counted messages the store never kept.
            machine.restore(
                nextSenderMsgSeqNum: store.nextSenderMsgSeqNum, nextTargetMsgSeqNum: store.nextTargetMsgSeqNum)
        }
        let waiters = closeWaiters
        closeWaiters.removeAll()
        for w in waiters { w.succeed(()) }
    }

    // MARK: Executing actions

    private func run(_ actions: [SessionAction], newConnection: ChannelHandlerContext? = nil) {
        if actions.isEmpty { return }
        if executing {
            // An action of the batch being executed (a delivery, a close) led back here: finish that
            // batch first, so messages reach the wire in sequence-number order.
            deferred.append(DeferredBatch(actions: actions, newConnection: newConnection))
            return
        }
        executing = true
        perform(actions, newConnection: newConnection)
        while !deferred.isEmpty {
            let batch = deferred.removeFirst()
            perform(batch.actions, newConnection: batch.newConnection)
        }
        executing = false
        finishDisconnection()
    }

    private func perform(_ actions: [SessionAction], newConnection: ChannelHandlerContext?) {
        for action in actions {
            switch action {
            case .send(let messages):
                write(messages)
            case .resend(var replay):
                resend(&replay)
            case .deliver(let message):
                onApplicationMessage?(message, self)
            case .event(let event):
                log.event(event, at: clock.now().utc)
                logger.debug("\(event)")
                onEvent?(event, self)
            case .persistNextTargetMsgSeqNum(let next):
                guard !storeFailed else { continue }
                if flushes.isInBurst {
                    // One write per read burst, after it has been handled, instead of one per message
                    // in front of the next message's handling (and the orders that answer it). A crash
                    // in between forgets only that these numbers arrived: the peer resends them, and
                    // they come back as possible duplicates.
                    pendingTargetSeqNum = next
                    queueForBurstEnd()
                } else {
                    persistTargetSeqNum(next)
                }
            case .resetStore(let creationTime):
                guard !storeFailed else { continue }
                pendingTargetSeqNum = nil
                do { try store.reset(creationTime: creationTime) } catch { storeFailure(error, while: "resetting") }
            case .disconnect:
                closeConnection()
            case .refuseConnection:
                newConnection?.close(promise: nil)
            case .scheduleTick(let deadline):
                arm(deadline)
            }
        }
    }

    private func write(_ messages: [OutboundMessage]) {
        guard connection != nil, !storeFailed else { return }
        let now = clock.now().utc
        for message in messages {
            do {
                try store.record(message)
            } catch {
                storeFailure(error, while: "saving message \(message.seqNum)")
                return
            }
            if case .none = message.storage {} else { needsSync = true }
            log.outgoing(message.bytes, at: now)
            queue(message.bytes)
        }
        if flushes.isInBurst {
            flushQueued = true
            queueForBurstEnd()
        } else {
            flushNow()
        }
    }

    private func queueForBurstEnd() {
        guard !burstWorkQueued else { return }
        burstWorkQueued = true
        flushes.enqueue(self)
    }

    /// The end of the read burst: flush what was written, then record the last target sequence
    /// number (as a session that writes its answers while handling a message and counts the
    /// message afterwards), so that the record never delays the answers.
    func finishBurst() {
        burstWorkQueued = false
        if flushQueued { flushNow() }
        persistPendingTargetSeqNum()
    }

    private func persistPendingTargetSeqNum() {
        guard let next = pendingTargetSeqNum else { return }
        pendingTargetSeqNum = nil
        guard !storeFailed else { return }
        persistTargetSeqNum(next)
    }

    private func persistTargetSeqNum(_ next: Int) {
        do { try store.setNextTargetMsgSeqNum(next) } catch { storeFailure(error, while: "recording \(next)") }
    }

    private func resend(_ replay: inout ResendReplay) {
        guard connection != nil, !storeFailed else { return }
        let now = clock.now().utc
        do {
            try store.run(&replay) { chunk in
                for message in chunk {
                    log.outgoing(message.bytes, at: now)
                    queue(message.bytes)
                }
                // Flush each chunk so that at most one chunk waits in memory.
                flushNow()
            }
        } catch {
            storeFailure(error, while: "reading messages to resend")
        }
    }

    /// Adds a message to `unwritten`. A lone message goes as it is; the second copies the first
    /// into a buffer of their own, which the rest are appended to.
    private func queue(_ bytes: ByteBuffer) {
        if unwritten == nil {
            unwritten = bytes
        } else {
            unwritten!.writeImmutableBuffer(bytes)
        }
    }

    /// Makes what was recorded durable, then puts the written messages on the wire.
    func flushNow() {
        flushQueued = false
        guard let context = connection else { return }
        if needsSync {
            needsSync = false
            do {
                try store.sync()
            } catch {
                storeFailure(error, while: "syncing")
                return
            }
        }
        if let bytes = unwritten {
            unwritten = nil
            context.write(NIOAny(bytes), promise: nil)
        }
        context.flush()
    }

    private func closeConnection() {
        guard let context = connection else { return }
        persistPendingTargetSeqNum()
        flushNow()
        let channel = context.channel
        // Shut the output down once the queued messages (a Logout) are written, then close. A peer
        // that stops reading cannot hold the connection open: the grace period ends it.
        let outputClosed = eventLoop.makePromise(of: Void.self)
        outputClosed.futureResult.whenComplete { _ in channel.close(promise: nil) }
        channel.close(mode: .output, promise: outputClosed)
        eventLoop.scheduleTask(in: .seconds(2)) { channel.close(promise: nil) }
    }

    private func storeFailure(_ error: any Error, while doing: String) {
        storeFailed = true
        unwritten = nil
        let text = "message store failed while \(doing): \(error); disconnecting"
        logger.error("\(text)")
        logEvent(text)
        connection?.close(promise: nil)
    }

    /// Writes a transport event (connecting, a failed attempt, a TLS error) to the session's event log.
    func logEvent(_ text: String) {
        log.event(text, at: clock.now().utc)
    }

    // MARK: Timer

    private func arm(_ deadline: Int64) {
        wantedTick = deadline
        // A timer that fires before the wanted time is kept and re-armed when it fires: the machine
        // pushes its deadline on every message, and rescheduling each time would cost a heap
        // operation per message.
        if timer != nil, timerDeadline <= deadline { return }
        timer?.cancel()
        startTimer(deadline)
    }

    private func startTimer(_ deadline: Int64) {
        timerDeadline = deadline
        timer = eventLoop.scheduleTask(deadline: .uptimeNanoseconds(UInt64(max(0, deadline)))) { [self] in
            timerFired()
        }
    }

    private func timerFired() {
        timer = nil
        timerDeadline = .max
        guard let wanted = wantedTick else { return }
        let now = clock.now()
        if now.monotonicNanoseconds < wanted {
            startTimer(wanted)
            return
        }
        wantedTick = nil
        run(machine.tick(at: now))
    }
}
