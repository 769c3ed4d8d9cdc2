import FIXCore
import FIXSession
import Logging
import NIOCore
import NIOPosix
import NIOSSL
import Synchronization

/// What a session hands the application through its ``FIXSessionHandle/inbound`` sequence.
public enum SessionInbound: Sendable {
    /// An application message, in sequence.
    case message(FIXMessage)
    /// A session event (logon, logout, gaps, rejects...).
    case event(SessionEvent)
}

/// A configuration problem found when the engine is built, naming the session at fault.
public struct FIXEngineConfigurationError: Error, CustomStringConvertible, Sendable {
    public let description: String
}

/// Runs many FIX sessions, initiators and acceptors, on one event loop.
///
/// Every session of an engine lives on ``eventLoop``: an inbound fill handled by the application
/// handler (see ``start(onApplicationMessage:onEvent:)``) can be answered with orders on other sessions
/// without a thread hop, and the orders leave in the flush that ends the read burst. Run several
/// engines to use several cores.
///
/// ```swift
/// let engine = try FIXEngine(
///     sessions: settings,
///     storeFactory: { try FileStore(directory: storePath, identity: $0.identity, creationTime: FIXClock.wallClockNow()) },
///     logFactory: { try FileSessionLog(directory: logPath, identity: $0.identity) })
/// try await engine.start()
/// let broker = engine.session(id)!
/// for await item in broker.inbound { ... }
/// try await broker.send(order)
/// await engine.stop()          // Logout everywhere, wait for the replies, close
/// ```
public final class FIXEngine: Sendable {
    /// The loop all sessions run on.
    public let eventLoop: any EventLoop

    private let ownedGroup: MultiThreadedEventLoopGroup?
    private let entries: [SessionIdentity: SessionEntry]
    private let orderedEntries: [SessionEntry]
    private let connectors: [InitiatorConnector]
    private let listeners: [AcceptorListener]
    private let clock: FIXClock
    private let logger: Logger
    private let loopState: NIOLoopBoundBox<LoopState>
    private let lifecycle: EngineLifecycle
    private let stopTask = Mutex<Task<Void, Never>?>(nil)

    private struct LoopState {
        var started = false
        var stopping = false
        var scheduleTask: RepeatedTask?
        var stopFuture: EventLoopFuture<Void>?
    }

    /// Creates the sessions (opening their stores and logs) without connecting anything.
    ///
    /// - Parameters:
    ///   - sessions: the sessions, each with a unique identity.
    ///   - storeFactory: opens a session's message store (a `FileStore` in production).
    ///   - logFactory: opens a session's message and event log.
    ///   - group: where to run; the engine takes one loop of it. By default the engine creates (and
    ///     at ``stop()`` shuts down) a one-thread group of its own.
    ///   - clock: the time source (tests substitute one).
    ///   - decoder: framing limits.
    ///   - logger: the engine's own diagnostics (listening, refused connections, errors).
    public init(
        sessions: [FIXSessionSettings],
        storeFactory: @Sendable (SessionConfiguration) throws -> any MessageStore,
        logFactory: @Sendable (SessionConfiguration) throws -> any SessionLog = { _ in NullSessionLog() },
        group: (any EventLoopGroup)? = nil,
        clock: FIXClock = .system,
        decoder: FIXDecoderConfiguration = .standard,
        logger: Logger = Logger(label: "FIXTransport")
    ) throws {
        let owned = group == nil ? MultiThreadedEventLoopGroup(numberOfThreads: 1) : nil
        let loop = (group ?? owned!).next()
        let lifecycle = EngineLifecycle(eventLoop: loop)
        do {
            let flushes = FlushCoordinator()
            var entries: [SessionIdentity: SessionEntry] = [:]
            var ordered: [SessionEntry] = []
            var connectors: [InitiatorConnector] = []
            var acceptorGroups: [(AcceptorOptions, [SessionDriver])] = []
            for settings in sessions {
                let id = settings.identity
                guard entries[id] == nil else {
                    throw FIXEngineConfigurationError(description: "session \(id) is configured twice")
                }
                let store: any MessageStore
                let log: any SessionLog
                do {
                    store = try storeFactory(settings.session)
                    log = try logFactory(settings.session)
                } catch {
                    throw FIXEngineConfigurationError(description: "session \(id): \(error)")
                }
                let driver = SessionDriver(
                    configuration: settings.session, store: store, log: log, eventLoop: loop, clock: clock,
                    schedule: settings.schedule, logger: logger, flushes: flushes)
                let entry = SessionEntry(driver: driver, settings: settings, lifecycle: lifecycle)
                entries[id] = entry
                ordered.append(entry)
                switch settings.transport {
                case .initiator(let options):
                    guard settings.session.connectionType == .initiator else {
                        throw FIXEngineConfigurationError(
                            description: "session \(id): initiator transport for an acceptor session")
                    }
                    guard !options.endpoints.isEmpty else {
                        throw FIXEngineConfigurationError(description: "session \(id): no host to connect to")
                    }
                    let tls = try options.tls.map { o in
                        do { return try TLSContextFactory.clientContext(o) } catch {
                            throw FIXEngineConfigurationError(description: "session \(id): \(error)")
                        }
                    }
                    let connector = InitiatorConnector(
                        driver: driver, options: options, schedule: settings.schedule, tls: tls, decoder: decoder)
                    entry.connector = connector
                    connectors.append(connector)
                case .acceptor(let options):
                    guard settings.session.connectionType == .acceptor else {
                        throw FIXEngineConfigurationError(
                            description: "session \(id): acceptor transport for an initiator session")
                    }
                    if let i = acceptorGroups.firstIndex(where: { $0.0.endpoint == options.endpoint }) {
                        guard acceptorGroups[i].0 == options else {
                            throw FIXEngineConfigurationError(
                                description:
                                    "session \(id): the sessions on \(options.endpoint) disagree on its socket or TLS options"
                            )
                        }
                        acceptorGroups[i].1.append(driver)
                    } else {
                        acceptorGroups.append((options, [driver]))
                    }
                }
            }
            var listeners: [AcceptorListener] = []
            for (options, drivers) in acceptorGroups {
                let tls = try options.tls.map { o in
                    do { return try TLSContextFactory.serverContext(o) } catch {
                        throw FIXEngineConfigurationError(description: "acceptor \(options.endpoint): \(error)")
                    }
                }
                var routerLogger = logger
                routerLogger[metadataKey: "fix-acceptor"] = "\(options.endpoint)"
                let router = SessionRouter(
                    sessions: drivers, flushes: flushes, logger: routerLogger,
                    firstMessageTimeout: options.firstMessageTimeout)
                let listener = AcceptorListener(
                    options: options, router: router, tls: tls, decoder: decoder, eventLoop: loop)
                listeners.append(listener)
                for d in drivers { entries[d.identity]!.listener = listener }
            }
            self.entries = entries
            self.orderedEntries = ordered
            self.connectors = connectors
            self.listeners = listeners
        } catch {
            try? owned?.syncShutdownGracefully()
            throw error
        }
        self.ownedGroup = owned
        self.lifecycle = lifecycle
        self.eventLoop = loop
        self.clock = clock
        self.logger = logger
        self.loopState = NIOLoopBoundBox.makeBoxSendingValue(LoopState(), as: LoopState.self, eventLoop: loop)
    }

    /// Every session, in configuration order.
    public var sessions: [FIXSessionHandle] { orderedEntries.map { FIXSessionHandle(entry: $0) } }

    /// The session with `identity`.
    public func session(_ identity: SessionIdentity) -> FIXSessionHandle? {
        entries[identity].map { FIXSessionHandle(entry: $0) }
    }

    /// The driver of the session with `identity`, for code running on ``eventLoop`` (the
    /// application handler): its `send` writes without a thread hop.
    public func driver(for identity: SessionIdentity) -> SessionDriver? {
        entries[identity]?.driver
    }

    /// The address an acceptor session's listener is bound to (with the port chosen when the
    /// configured port was 0), once ``start(onApplicationMessage:onEvent:)`` returned.
    public func localAddress(of identity: SessionIdentity) async -> SocketAddress? {
        guard let listener = entries[identity]?.listener else { return nil }
        return try? await lifecycle.submit { listener.localAddress }?.get()
    }

    /// Binds the acceptors, starts connecting the initiators, and returns once every listener is
    /// bound.
    ///
    /// - Parameter onApplicationMessage: when set, every inbound application message of every
    ///   session is handed to it, on ``eventLoop``, as soon as it is accepted, instead of to the
    ///   sessions' ``FIXSessionHandle/inbound`` sequences (which then carry only events). From it,
    ///   `SessionDriver.send` on any session of this engine writes directly; the writes are
    ///   flushed together at the end of the read burst.
    /// - Parameter onEvent: when set, every session event (logon, logout, rejects...) of every session
    ///   is handed to it on ``eventLoop``, in order with the application messages, instead of to the
    ///   sessions' ``FIXSessionHandle/inbound`` sequences.
    public func start(
        onApplicationMessage: (@Sendable (FIXMessage, SessionDriver) -> Void)? = nil,
        onEvent: (@Sendable (SessionEvent, SessionDriver) -> Void)? = nil
    ) async throws {
        guard let started = lifecycle.submit({ [self] in startOnLoop(onApplicationMessage, onEvent) }) else {
            throw FIXEngineConfigurationError(description: "the engine was stopped")
        }
        try await started.flatMap { $0 }.get()
    }

    private func startOnLoop(
        _ handler: (@Sendable (FIXMessage, SessionDriver) -> Void)?,
        _ eventHandler: (@Sendable (SessionEvent, SessionDriver) -> Void)?
    ) -> EventLoopFuture<Void> {
        guard !loopState.value.started else {
            return eventLoop.makeFailedFuture(FIXEngineConfigurationError(description: "the engine was started twice"))
        }
        loopState.value.started = true
        let now = clock.now().utc
        for entry in orderedEntries {
            let driver = entry.driver
            let continuation = entry.continuation
            if let handler {
                driver.onApplicationMessage = handler
            } else {
                driver.onApplicationMessage = { message, _ in continuation.yield(.message(message)) }
            }
            if let eventHandler {
                driver.onEvent = eventHandler
            } else {
                driver.onEvent = { event, _ in continuation.yield(.event(event)) }
            }
            if !entry.settings.schedule.isWithinSchedule(now) { driver.scheduleClosed() }
        }
        let binds = listeners.map { $0.bind() }
        return EventLoopFuture.andAllSucceed(binds, on: eventLoop).map { [self] in
            for connector in connectors { connector.attempt() }
            loopState.value.scheduleTask = eventLoop.scheduleRepeatedTask(initialDelay: .seconds(1), delay: .seconds(1))
            { [self] _ in
                checkSchedules()
            }
        }.flatMapError { [self] error in
            listeners.map { $0.closeListener() }.reduce(eventLoop.makeSucceededVoidFuture()) { $0.and($1).map { _ in } }
                .flatMapThrowing { throw error }
        }
    }

    /// Once a second: schedule windows opening and closing, new session periods, initiators to start.
    private func checkSchedules() {
        guard !loopState.value.stopping else { return }
        let now = clock.now().utc
        for entry in orderedEntries {
            let driver = entry.driver
            let schedule = entry.settings.schedule
            let within = schedule.isWithinSchedule(now)
            if within != driver.isWithinSchedule {
                if within { driver.scheduleOpened() } else { driver.scheduleClosed() }
            }
            if schedule.isNewSessionPeriod(since: driver.store.creationTime, at: now) {
                driver.newSessionPeriod()
            }
            if within, let connector = entry.connector, connector.isIdle {
                connector.attempt()
            }
        }
    }

    /// Stops gracefully: no more connections or reconnections; every logged-on session sends a
    /// Logout and waits for the reply up to its LogoutTimeout; then every connection closes, the
    /// sessions' ``FIXSessionHandle/inbound`` sequences finish and an engine-owned loop shuts down.
    public func stop() async {
        let task = stopTask.withLock { task -> Task<Void, Never> in
            if let task { return task }
            let new = Task { await self.performStop() }
            task = new
            return new
        }
        await task.value
    }

    private func performStop() async {
        if let done = lifecycle.submit({ [self] in stopOnLoop() }) {
            try? await done.flatMap { $0 }.get()
        }
        if let ownedGroup {
            lifecycle.loopIsGone()
            try? await ownedGroup.shutdownGracefully()
        }
    }

    private func stopOnLoop() -> EventLoopFuture<Void> {
        if let existing = loopState.value.stopFuture { return existing }
        loopState.value.stopping = true
        loopState.value.scheduleTask?.cancel()
        loopState.value.scheduleTask = nil
        for connector in connectors { connector.stop() }
        var waits: [EventLoopFuture<Void>] = listeners.map { $0.closeListener() }
        var longestLogout = 0
        for entry in orderedEntries {
            let driver = entry.driver
            guard driver.isConnected else { continue }
            longestLogout = max(longestLogout, driver.configuration.logoutTimeout)
            driver.logout(text: nil)
            waits.append(driver.whenDisconnected())
        }
        let all = EventLoopFuture.andAllComplete(waits, on: eventLoop)
        // Connections whose peers never answer are closed once the longest LogoutTimeout (plus
        // the close grace period) has passed.
        let grace = eventLoop.scheduleTask(in: .seconds(Int64(longestLogout) + 3)) { [self] in
            for entry in orderedEntries { entry.driver.forceClose() }
        }
        let future = all.map { [self] in
            grace.cancel()
            for listener in listeners { listener.closeChildren() }
            for entry in orderedEntries {
                entry.driver.shutdown()
                entry.continuation.finish()
            }
        }
        loopState.value.stopFuture = future
        return future
    }
}

/// One session of an engine: its driver, settings, connector or listener, and application stream.
final class SessionEntry: @unchecked Sendable {
    let driver: SessionDriver
    let settings: FIXSessionSettings
    let inbound: AsyncStream<SessionInbound>
    let continuation: AsyncStream<SessionInbound>.Continuation
    // Set once while the engine is built, before the entry is shared.
    var connector: InitiatorConnector?
    var listener: AcceptorListener?

    let lifecycle: EngineLifecycle

    init(driver: SessionDriver, settings: FIXSessionSettings, lifecycle: EngineLifecycle) {
        self.driver = driver
        self.settings = settings
        self.lifecycle = lifecycle
        (inbound, continuation) = AsyncStream.makeStream(of: SessionInbound.self, bufferingPolicy: .unbounded)
    }
}

/// The application's view of one session of a ``FIXEngine``, usable from any task.
public struct FIXSessionHandle: Sendable {
    let entry: SessionEntry

    /// The session's identity.
    public var identity: SessionIdentity { entry.driver.identity }

    /// The session's application messages (unless the engine has an application handler) and
    /// events, in order. One consumer; the sequence finishes when the engine stops.
    public var inbound: AsyncStream<SessionInbound> { entry.inbound }

    /// The driver, for code on the engine's event loop.
    public var driver: SessionDriver { entry.driver }

    /// Sends an application message.
    ///
    /// - Throws: ``SessionSendError/notLoggedOn`` when the session is not logged on (nothing was
    ///   sent), ``SessionSendError/sessionMessageType(_:)`` for a session-level MsgType.
    public func send(_ message: FIXMessageBuilder) async throws(SessionSendError) {
        let driver = entry.driver
        let outcome: Result<Void, SessionSendError>
        do {
            guard
                let future = entry.lifecycle.submit({ () -> Result<Void, SessionSendError> in
                    do throws(SessionSendError) {
                        try driver.send(message)
                        return .success(())
                    } catch {
                        return .failure(error)
                    }
                })
            else { throw SessionSendError.notLoggedOn }
            outcome = try await future.get()
        } catch {
            throw .notLoggedOn  // the engine's loop is gone
        }
        try outcome.get()
    }

    /// Logs out (the connection closes on the reply or after LogoutTimeout). An initiator
    /// reconnects after ReconnectInterval.
    public func logout(text: String? = nil) async {
        let driver = entry.driver
        try? await entry.lifecycle.submit { driver.logout(text: text) }?.get()
    }

    /// Whether the session is logged on.
    public var isLoggedOn: Bool {
        get async {
            let driver = entry.driver
            return (try? await entry.lifecycle.submit { driver.isLoggedOn }?.get()) ?? false
        }
    }

    /// The next sender and target sequence numbers.
    public var sequenceNumbers: (nextSender: Int, nextTarget: Int) {
        get async {
            let driver = entry.driver
            let onLoop = entry.lifecycle.submit { [driver.nextSenderMsgSeqNum, driver.nextTargetMsgSeqNum] }
            let numbers =
                (try? await onLoop?.get()) ?? [driver.store.nextSenderMsgSeqNum, driver.store.nextTargetMsgSeqNum]
            return (numbers[0], numbers[1])
        }
    }
}

/// Whether the engine's loop still takes work: an engine-owned loop is shut down by `stop()`, and
/// submitting to it afterwards would be a programming error in NIO.
final class EngineLifecycle: Sendable {
    let eventLoop: any EventLoop
    private let loopAvailable = Mutex(true)

    init(eventLoop: any EventLoop) {
        self.eventLoop = eventLoop
    }

    /// Runs `body` on the loop, or returns `nil` when the loop is gone.
    func submit<T: Sendable>(_ body: @escaping @Sendable () throws -> T) -> EventLoopFuture<T>? {
        loopAvailable.withLock { available in
            available ? eventLoop.submit(body) : nil
        }
    }

    func loopIsGone() {
        loopAvailable.withLock { $0 = false }
    }
}
