import FIXCore
import FIXSession
import FIXTransport
import Foundation
import Logging
import NIOCore
import NIOPosix
import Synchronization

/// How a ``BrokerSimulatorServer`` runs, beyond what its brokers' plans say.
public struct SimServerOptions: Sendable {
    /// Where sessions keep their message stores and logs.
    public enum Storage: Sendable {
        /// As the plans say (FileStorePath, FileStoreSync, FileLogPath): `copybridge simulate` and `run`.
        case settings
        /// In memory, without logs: tests and conformance runs.
        case memory
    }

    /// Where the brokers' time comes from.
    public enum Time: Sendable {
        /// The server's clock: fills, price steps and bots happen in real time.
        case wallClock
        /// Simulated time starting at `start`, moved only by ``BrokerSimulatorServer/advance(to:)``
        /// (scenario runners, determinism tests). Session timers still run on the clock.
        case manual(start: UTCTimestamp)
    }

    public var storage: Storage
    public var time: Time
    /// The sessions' clock (and the brokers' in ``Time/wallClock``).
    public var clock: FIXClock
    /// `--book PATH`: every broker's book in one file (``SimServerBook``), besides each broker's `BookFile`.
    public var bookPath: String?
    /// Where to run; by default a one-thread group of the server's own. Every broker runs on one
    /// loop of it.
    public var group: (any EventLoopGroup)?
    /// Most messages kept per session while it is not logged on; older ones are dropped beyond it.
    public var outboxLimit: Int
    public var logger: Logger

    public init(
        storage: Storage = .settings, time: Time = .wallClock, clock: FIXClock = .system, bookPath: String? = nil,
        group: (any EventLoopGroup)? = nil, outboxLimit: Int = 100_000,
        logger: Logger = Logger(label: "BrokerSimulator")
    ) {
        self.storage = storage
        self.time = time
        self.clock = clock
        self.bookPath = bookPath
        self.group = group
        self.outboxLimit = outboxLimit
        self.logger = logger
    }
}

/// Every broker of a server with its book, as `--book PATH` writes it.
public struct SimServerBook: Codable, Sendable, Equatable {
    public struct Broker: Codable, Sendable, Equatable {
        public var name: String
        /// The port it listened on (the one chosen when the plan said 0).
        public var port: Int?
        /// Its sessions, as `SENDER->TARGET`.
        public var sessions: [String]
        public var book: SimBook
    }

    public var brokers: [Broker]

    /// Pretty-printed JSON with sorted keys.
    public func jsonData() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return try encoder.encode(self)
    }
}

/// A server-level failure: a broker or session it does not have, a book it cannot write.
public struct SimServerError: Error, CustomStringConvertible, Sendable {
    public let description: String
}

/// The bundled broker simulator on the wire: each ``SimBrokerPlan`` becomes a ``SimulatedBroker``
/// behind FIX acceptor sessions (a `FIXEngine` per broker, all on one event loop).
///
/// ```swift
/// let configuration = try CopyBridgeConfiguration.load(path: "sim.conf", schema: schema)
/// let server = try BrokerSimulatorServer(plans: SimulatorPlan.serving(configuration))
/// try await server.start()
/// print(await server.ports())      // broker name → bound port
/// ...
/// await server.stop()              // Logout everywhere, then every BookFile is written
/// ```
///
/// Sessions that share a listening port share one broker; different ports are different brokers.
/// A broker's messages to a session that is not logged on wait for its next logon.
public final class BrokerSimulatorServer: Sendable {
    /// The name of the thread of the server's own event loop, as `ps -L` shows it.
    public static let loopThreadName = "cb-sim"
    /// The brokers, in plan order.
    public let plans: [SimBrokerPlan]
    /// The loop every broker runs on.
    public let eventLoop: any EventLoop

    private let hosts: [SimBrokerHost]
    private let ownedGroup: MultiThreadedEventLoopGroup?
    private let bookPath: String?
    private let logger: Logger
    private let lifecycle = Mutex<Lifecycle>(Lifecycle())

    private struct Lifecycle {
        var started = false
        /// Bound ports by broker name, kept after the listeners close.
        var ports: [String: Int] = [:]
        var stopTask: Task<Void, Never>?
        var loopGone = false
    }

    /// Creates the brokers and their sessions (opening stores and logs) without listening yet.
    public init(plans: [SimBrokerPlan], options: SimServerOptions = SimServerOptions()) throws {
        var names = Set<String>()
        for plan in plans {
            guard names.insert(plan.name).inserted else {
                throw SimServerError(description: "two simulated brokers are named \(plan.name)")
            }
        }
        let owned = options.group == nil ? MultiThreadedEventLoopGroup(numberOfThreads: 1) : nil
        let loop = (options.group ?? owned!).next()
        // Its own loop only: a loop the caller lends keeps the caller's name.
        if owned != nil { loop.execute { ThreadName.setCurrent(BrokerSimulatorServer.loopThreadName) } }
        let clock = options.clock
        var hosts: [SimBrokerHost] = []
        do {
            for plan in plans {
                let storage = options.storage
                let engine = try FIXEngine(
                    sessions: plan.sessions,
                    storeFactory: { configuration in
                        let creation = clock.now().utc
                        switch storage {
                        case .memory:
                            return MemoryStore(creationTime: creation)
                        case .settings:
                            guard let files = plan.storage[configuration.identity] else {
                                return MemoryStore(creationTime: creation)
                            }
                            return try FileStore(
                                directory: files.storePath, identity: configuration.identity, syncPolicy: files.sync,
                                creationTime: creation)
                        }
                    },
                    logFactory: { configuration in
                        switch storage {
                        case .memory:
                            return NullSessionLog()
                        case .settings:
                            guard let path = plan.storage[configuration.identity]?.logPath else {
                                return NullSessionLog()
                            }
                            return try FileSessionLog(directory: path, identity: configuration.identity)
                        }
                    },
                    group: loop, clock: clock,
                    decoder: FIXDecoderConfiguration(maximumMessageSize: plan.maximumMessageSize),
                    logger: options.logger)
                let start: UTCTimestamp
                let isManual: Bool
                switch options.time {
                case .wallClock:
                    start = clock.now().utc
                    isManual = false
                case .manual(let manualStart):
                    start = manualStart
                    isManual = true
                }
                var broker = SimulatedBroker(configuration: plan.configuration, start: start)
                if let bookFile = plan.bookFile { try broker.restorePositions(fromBookFile: bookFile) }
                hosts.append(
                    SimBrokerHost(
                        plan: plan, engine: engine, broker: broker, clock: clock, isManual: isManual,
                        outboxLimit: options.outboxLimit, logger: options.logger))
            }
        } catch {
            try? owned?.syncShutdownGracefully()
            throw error
        }
        self.plans = plans
        self.hosts = hosts
        self.ownedGroup = owned
        self.eventLoop = loop
        self.bookPath = options.bookPath
        self.logger = options.logger
    }

    /// The brokers `copybridge simulate --config FILE` serves: every acceptor session of the file.
    public static func serving(
        _ configuration: CopyBridgeConfiguration, options: SimServerOptions = SimServerOptions()
    ) throws -> BrokerSimulatorServer {
        let plans = try SimulatorPlan.serving(configuration)
        guard !plans.isEmpty else {
            throw SimServerError(description: "\(configuration.file) has no [SESSION] with ConnectionType=acceptor")
        }
        return try BrokerSimulatorServer(plans: plans, options: options)
    }

    /// For `copybridge run`: starts (listening) the simulated brokers behind the initiator sessions
    /// with `Simulator=Y`, so that the agent's sessions find them when they connect. `nil` when no
    /// session is simulated. Stop it after the agent's sessions have logged out.
    public static func startMirrors(
        for configuration: CopyBridgeConfiguration, options: SimServerOptions = SimServerOptions()
    ) async throws -> BrokerSimulatorServer? {
        let plans = try SimulatorPlan.mirroring(configuration)
        guard !plans.isEmpty else { return nil }
        let server = try BrokerSimulatorServer(plans: plans, options: options)
        try await server.start()
        return server
    }

    // MARK: Lifecycle

    /// Binds every broker's listener and returns once all are bound.
    public func start() async throws {
        try lifecycle.withLock { state in
            guard !state.started else { throw SimServerError(description: "the simulator was started twice") }
            state.started = true
        }
        var started: [SimBrokerHost] = []
        do {
            for host in hosts {
                try await host.engine.start(onApplicationMessage: { message, driver in
                    host.received(message, from: driver)
                })
                started.append(host)
                try await eventLoop.submit { host.attach() }.get()
                let address = await self.address(of: host)
                if let port = address?.port { lifecycle.withLock { $0.ports[host.plan.name] = port } }
                logger.info("simulated broker \(host.plan.name) listening on \(address.map { "\($0)" } ?? "?")")
            }
        } catch {
            for host in started { await host.engine.stop() }
            try? await ownedGroup?.shutdownGracefully()
            lifecycle.withLock { $0.loopGone = true }
            throw error
        }
    }

    /// Logs out every session (waiting for the replies up to LogoutTimeout), stops the brokers,
    /// writes every `BookFile` (and the `bookPath` of the options), and releases the loop if the
    /// server owns it. Failures to write a book are logged. Calling it again waits for the first call.
    public func stop() async {
        let task = lifecycle.withLock { state -> Task<Void, Never> in
            if let task = state.stopTask { return task }
            let task = Task { await self.performStop() }
            state.stopTask = task
            return task
        }
        await task.value
    }

    private func performStop() async {
        guard lifecycle.withLock({ !$0.loopGone }) else { return }
        await withTaskGroup(of: Void.self) { group in
            for host in hosts { group.addTask { await host.engine.stop() } }
        }
        try? await eventLoop.submit { [hosts] in for host in hosts { host.shutdown() } }.get()
        do {
            try await writeBooks()
        } catch {
            logger.error("\(error)")
        }
        lifecycle.withLock { $0.loopGone = true }
        try? await ownedGroup?.shutdownGracefully()
    }

    // MARK: Observing

    /// The brokers' names, in plan order.
    public var brokerNames: [String] { plans.map(\.name) }

    /// The port a broker listens on (the chosen one when its plan said 0), once started.
    public func port(of broker: String) -> Int? {
        lifecycle.withLock { $0.ports[broker] }
    }

    /// Every broker's port, by name, once started.
    public func ports() -> [String: Int] {
        lifecycle.withLock { $0.ports }
    }

    private func address(of host: SimBrokerHost) async -> SocketAddress? {
        guard let first = host.plan.sessions.first else { return nil }
        return await host.engine.localAddress(of: first.identity)
    }

    /// Runs `body` with the broker's state on the loop (nil for an unknown broker or a stopped server).
    public func inspect<T: Sendable>(
        _ broker: String, _ body: @escaping @Sendable (SimulatedBroker) -> T
    ) async -> T? {
        guard let host = host(broker) else { return nil }
        return try? await onLoop { body(host.broker) }
    }

    /// The book of one broker.
    public func book(of broker: String) async -> SimBook? {
        await inspect(broker) { $0.book() }
    }

    /// Every broker's book.
    public func serverBook() async throws -> SimServerBook {
        var brokers: [SimServerBook.Broker] = []
        for host in hosts {
            let port = port(of: host.plan.name)
            let book = try await onLoop { host.broker.book() }
            brokers.append(
                SimServerBook.Broker(
                    name: host.plan.name, port: port,
                    sessions: host.plan.sessions.map { "\($0.identity.senderCompID)->\($0.identity.targetCompID)" },
                    book: book))
        }
        return SimServerBook(brokers: brokers)
    }

    /// The state of every session of every broker.
    public func sessionStates() async throws -> [SimSessionState] {
        try await onLoop { [hosts] in hosts.flatMap { $0.states() } }
    }

    /// The earliest instant any broker has something to do.
    public func nextWakeUp() async throws -> UTCTimestamp? {
        try await onLoop { [hosts] in hosts.compactMap(\.broker.nextWakeUp).min() }
    }

    // MARK: Acting

    /// Writes every broker's `BookFile`, and every book to the options' `bookPath`. Returns the
    /// paths written.
    @discardableResult
    public func writeBooks() async throws -> [String] {
        var written: [String] = []
        for host in hosts {
            guard let path = host.plan.bookFile else { continue }
            let book = try await onLoop { host.broker.book() }
            try Self.write(try book.jsonData(), to: path)
            written.append(path)
        }
        if let bookPath {
            try Self.write(try await serverBook().jsonData(), to: bookPath)
            written.append(bookPath)
        }
        return written
    }

    private static func write(_ data: Data, to path: String) throws {
        let url = URL(fileURLWithPath: path)
        do {
            try FileManager.default.createDirectory(
                at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try data.write(to: url, options: .atomic)
        } catch {
            throw SimServerError(description: "cannot write the book to \(path): \(error.localizedDescription)")
        }
    }

    /// Moves every broker's simulated time to `time` (manual time only) and sends what is due.
    public func advance(to time: UTCTimestamp) async throws {
        try await onLoop { [hosts] in for host in hosts { host.advance(to: time) } }
    }

    /// Runs `body` on a broker at its current time and sends the outputs it returns, e.g.
    /// `{ broker, now in (broker.submit(order, at: now), ()) }`.
    public func act<T: Sendable>(
        on broker: String,
        _ body: @escaping @Sendable (inout SimulatedBroker, UTCTimestamp) throws -> (outputs: [SimOutput], result: T)
    ) async throws -> T {
        let host = try requireHost(broker)
        return try await onLoop { try host.act { broker, now in try body(&broker, now) } }
    }

    /// Runs `body` on the broker `delay` from now and returns at once, without waiting for it. A
    /// driver that awaits ``act(on:_:)`` is woken by the broker's loop just as the broker's
    /// messages go out, so on a small machine its own work competes with their receiver; the
    /// loopback benchmark schedules its provider fills this way so that only the broker and the
    /// agent run when a fill leaves.
    public func schedule(
        on broker: String, in delay: TimeAmount,
        _ body: @escaping @Sendable (inout SimulatedBroker, UTCTimestamp) -> [SimOutput]
    ) throws {
        let host = try requireHost(broker)
        let scheduled: Bool = lifecycle.withLock { state in
            guard !state.loopGone else { return false }
            eventLoop.scheduleTask(in: delay) {
                host.act { broker, now in (body(&broker, now), ()) }
            }
            return true
        }
        guard scheduled else { throw SimServerError(description: "the simulator has stopped") }
    }

    /// Simulates an outage of one session: the broker logs it out and refuses it (logging it out
    /// again whenever it logs on) until ``reconnect(broker:counterparty:)``; what the broker sends
    /// meanwhile waits for the session to come back.
    public func disconnect(broker: String, counterparty: String) async throws {
        let (host, key) = try session(broker, counterparty)
        try await onLoop { host.setDown(true, key) }
    }

    /// Ends a simulated outage: the session may log on again and receives what it missed.
    public func reconnect(broker: String, counterparty: String) async throws {
        let (host, key) = try session(broker, counterparty)
        try await onLoop { host.setDown(false, key) }
    }

    // MARK: Helpers

    private func host(_ name: String) -> SimBrokerHost? {
        hosts.first { $0.plan.name == name }
    }

    private func requireHost(_ name: String) throws -> SimBrokerHost {
        guard let host = host(name) else { throw SimServerError(description: "no simulated broker named \(name)") }
        return host
    }

    private func session(_ broker: String, _ counterparty: String) throws -> (SimBrokerHost, SimSessionKey) {
        let host = try requireHost(broker)
        guard let key = host.drivers.keys.sorted().first(where: { $0.targetCompID == counterparty }) else {
            throw SimServerError(description: "simulated broker \(broker) has no session with \(counterparty)")
        }
        return (host, key)
    }

    /// Runs `body` on the loop; throws once the server has released it.
    private func onLoop<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        let future: EventLoopFuture<T>? = lifecycle.withLock { state in
            state.loopGone ? nil : eventLoop.submit(body)
        }
        guard let future else { throw SimServerError(description: "the simulator has stopped") }
        return try await future.get()
    }
}

/// Catches process signals and hands them over as a sequence, for the command line
/// (`copybridge simulate`, `copybridge run`): SIGINT/SIGTERM to stop, SIGUSR1 to write the books.
public final class SimSignals: Sendable {
    /// The caught signals, in delivery order.
    public let signals: AsyncStream<Int32>

    private let numbers: [Int32]
    private let continuation: AsyncStream<Int32>.Continuation
    private let state: Mutex<SignalSources?>

    private final class SignalSources: @unchecked Sendable {
        // Dispatch sources are used from their own queue only; this box only carries them to `cancel()`.
        let sources: [any DispatchSourceSignal]
        init(_ sources: [any DispatchSourceSignal]) { self.sources = sources }
    }

    /// Starts catching `numbers`: they no longer end the process until ``cancel()``.
    public init(_ numbers: [Int32]) {
        let (stream, continuation) = AsyncStream.makeStream(of: Int32.self)
        var sources: [any DispatchSourceSignal] = []
        for number in numbers {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { continuation.yield(number) }
            source.resume()
            sources.append(source)
        }
        self.signals = stream
        self.numbers = numbers
        self.continuation = continuation
        self.state = Mutex(SignalSources(sources))
    }

    /// Stops catching: the signals have their default effect again.
    public func cancel() {
        guard
            let box = state.withLock({ s -> SignalSources? in
                defer { s = nil }; return s
            })
        else { return }
        for source in box.sources { source.cancel() }
        for number in numbers { signal(number, SIG_DFL) }
        continuation.finish()
    }

    deinit { cancel() }
}
