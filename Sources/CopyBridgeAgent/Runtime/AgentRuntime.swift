import BrokerSimulator
import CopyEngine
import FIXCore
import FIXSession
import FIXTransport
import Foundation
import Logging
import NIOCore
import NIOPosix
import Prometheus
import ServiceLifecycle
import Synchronization

/// How an ``AgentRuntime`` runs beyond what the settings file says.
public struct AgentRuntimeOptions: Sendable {
    /// Whether to run the HTTP server of an `[ADMIN]` block.
    public enum HTTP: Sendable {
        /// As the `[ADMIN]` block says (no block: no server).
        case asConfigured
        /// On the `[ADMIN]` block's settings but this port (0: any free port).
        case port(Int)
        case disabled
    }

    /// Where console lines go (each call gets the lines of one burst); by default standard output.
    public var console: (@Sendable ([String]) -> Void)?
    /// Print a line per signal, copy, fill and decision (otherwise only sessions, alerts, summaries).
    public var printsActivity: Bool
    public var http: HTTP
    /// Simulated brokers already running for the file's `Simulator=Y` sessions (tests that restart
    /// the agent against the same brokers). By default the agent starts its own and stops them.
    public var simulator: BrokerSimulatorServer?
    /// The validator of each session's received messages (the data dictionary); `nil`: none.
    public var validator: (@Sendable (SessionSettings) -> (any MessageValidator)?)?
    /// How long a stop waits for orders in flight before logging the sessions out.
    public var stopDrainTimeout: Duration
    /// Record fills, orders, marks and subscriptions in the ledger in the data folder.
    public var ledger: Bool
    public var logger: Logger

    public init(
        console: (@Sendable ([String]) -> Void)? = nil, printsActivity: Bool = true, http: HTTP = .asConfigured,
        simulator: BrokerSimulatorServer? = nil,
        validator: (@Sendable (SessionSettings) -> (any MessageValidator)?)? = nil,
        stopDrainTimeout: Duration = .seconds(3), ledger: Bool = true,
        logger: Logger = Logger(label: "copybridge.agent")
    ) {
        self.console = console
        self.printsActivity = printsActivity
        self.http = http
        self.simulator = simulator
        self.validator = validator
        self.stopDrainTimeout = stopDrainTimeout
        self.ledger = ledger
        self.logger = logger
    }
}

/// The running agent (`copybridge run`): the settings file's sessions, the copy engine recovered
/// from the journal, the embedded simulated brokers, the ledger, metrics and the HTTP server.
///
/// ```swift
/// let runtime = AgentRuntime(configuration: try AgentConfiguration.load(path: "sessions.conf"))
/// try await runtime.start()
/// ...
/// let summary = await runtime.stop()   // no new copies, sessions logged out, journal and ledger closed
/// print(summary.text)
/// ```
///
/// `start()`: the journal is opened (a torn tail is cut off); the simulated brokers of `Simulator=Y`
/// sessions start (on a free port where `SocketConnectPort=0`, which the session then connects to);
/// every session gets its FileStore and FileSessionLog; the engine replays the journal and completes
/// its recovery, so every session is settled with its broker (order status, then positions) when it
/// logs on, before anything new is sent; then the sessions start, with the copy path in their
/// handler on one event loop, a tick timer, market data subscriptions, and the HTTP server.
public final class AgentRuntime: AgentStateSource, AdminCommandHandler, EngineCommandSink, Sendable {
    public static let version = "0.1.0"
    /// The name of the thread of the copy path's event loop, as `ps -L` shows it.
    public static let loopThreadName = "cb-agent"

    public let configuration: AgentConfiguration
    public let options: AgentRuntimeOptions

    private struct Running: @unchecked Sendable {
        var group: MultiThreadedEventLoopGroup
        var core: AgentCore
        var fix: FIXEngine
        var simulator: BrokerSimulatorServer?
        var ownsSimulator: Bool
        var ledger: LedgerFeed?
        var cpuLatency: CPULatencyRequest?
        var pinning: LoopPinning?
        var tick: RepeatedTask?
        var services: ServiceGroup?
        var servicesTask: Task<Void, any Error>?
        /// Completes when the HTTP server accepts connections (fails if it cannot listen).
        var httpListening: EventLoopFuture<SocketAddress>?
        var startedAt: Date
        var dashboardRefreshMs: Int
        var mode: String
    }

    private enum Phase {
        case idle
        case starting
        case running(Running)
        case stopping(Task<AgentSummary, Never>)
        case stopped(AgentSummary?)
    }

    private let state = Mutex<Phase>(.idle)
    private let httpAddress = Mutex<SocketAddress?>(nil)

    public init(configuration: AgentConfiguration, options: AgentRuntimeOptions = AgentRuntimeOptions()) {
        self.configuration = configuration
        self.options = options
    }

    private var running: Running? {
        state.withLock { if case .running(let r) = $0 { r } else { nil } }
    }

    // MARK: Starting

    /// Starts everything; returns once the sessions are connecting (not yet logged on).
    public func start() async throws {
        try state.withLock { phase in
            guard case .idle = phase else { throw AgentStartError("the agent was started twice") }
            phase = .starting
        }
        let running: Running
        var cpuLatency: CPULatencyRequest?
        var pinning: LoopPinning?
        do {
            pinning = try configuration.agent.loopCPU.map { cpu throws(AgentStartError) in try LoopPinning(cpu: cpu) }
            if let limit = configuration.agent.cpuIdleLatencyUs {
                do {
                    cpuLatency = try CPULatencyRequest(microseconds: limit)
                } catch {
                    throw AgentStartError(
                        "\(AgentSettings.Key.cpuIdleLatencyUs)=\(limit): \(error); run the agent as root or give it "
                            + "write access to \(error.device), or remove the key")
                }
            }
            running = try await launch(cpuLatency: cpuLatency, pinning: pinning)
            state.withLock { $0 = .running(running) }
        } catch {
            cpuLatency?.release()
            pinning?.release()
            state.withLock { $0 = .stopped(nil) }
            throw error
        }
        // The dashboard and admin API are part of a started agent: a port already in use is a start
        // failure, not a warning lost in the log while copying goes on unobserved.
        if let listening = running.httpListening {
            do {
                _ = try await listening.get()
            } catch {
                await stop()
                throw AgentStartError("the HTTP server did not start: \(error)")
            }
        }
        // The threads started since the loop was pinned (the HTTP server's) leave its CPU too.
        pinning?.keepOthersOff()
    }

    private func launch(cpuLatency: CPULatencyRequest?, pinning: LoopPinning?) async throws -> Running {
        let agent = configuration.agent
        let logger = options.logger
        let console = options.console ?? ConsoleOutput.standardOutput
        do {
            try FileManager.default.createDirectory(atPath: agent.dataFolder, withIntermediateDirectories: true)
        } catch {
            throw AgentStartError("cannot create the data folder \(agent.dataFolder): \(error.localizedDescription)")
        }
        let (journal, scan): (Journal, JournalScan)
        do {
            (journal, scan) = try Journal.open(path: agent.journalPath, policy: agent.journalSync)
        } catch {
            throw AgentStartError("\(error)")
        }
        if scan.tornTailBytes > 0 {
            logger.warning("journal: cut a torn tail of \(scan.tornTailBytes) bytes (a crash while it was written)")
        }

        // Simulated brokers first, so that their ports are known when the sessions are built.
        var simulator = options.simulator
        let ownsSimulator = simulator == nil
        if simulator == nil {
            let plans = try EmbeddedSimulators.plans(for: configuration)
            if !plans.isEmpty {
                let server = try BrokerSimulatorServer(plans: plans, options: SimServerOptions(logger: logger))
                try await server.start()
                simulator = server
                let ports = server.ports()
                console(
                    plans.map { plan in
                        "simulated broker \(plan.name) listening on port \(ports[plan.name].map(String.init) ?? "?")"
                    })
            }
        }
        let simulated = try EmbeddedSimulators.sessions(configuration, simulator: simulator)

        let ledger: LedgerFeed?
        do {
            ledger = options.ledger ? try LedgerFeed(path: agent.ledgerPath, logger: logger) : nil
        } catch {
            if ownsSimulator { await simulator?.stop() }
            throw AgentStartError("cannot open the ledger \(agent.ledgerPath): \(error)")
        }

        let registry = PrometheusCollectorRegistry()
        let thresholds = configuration.admin?.alertThresholds ?? AlertThresholds()
        let metrics = CopyBridgeMetrics(
            factory: CopyBridgeMetrics.makePrometheusFactory(registry: registry), thresholds: thresholds,
            logger: logger)

        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let loop = group.next()
        // Named for `top -H`, `ps -L` and profiles, where every SwiftNIO loop is otherwise NIO-ELT-n.
        loop.execute { ThreadName.setCurrent(AgentRuntime.loopThreadName) }
        let core: AgentCore
        let fix: FIXEngine
        do {
            try await pinning?.pin(loop, logger: logger)
            if let priority = agent.loopRealtimePriority {
                try await LoopPriority(priority: priority).apply(loop, logger: logger)
            }
            core = try AgentCore(
                loop: loop, configuration: configuration, journal: journal, metrics: metrics, ledger: ledger,
                console: console, printsActivity: options.printsActivity, logger: logger,
                marketDataSymbols: simulated.marketDataSymbols)
            var sessions: [FIXSessionSettings] = []
            var byIdentity: [SessionIdentity: SessionSettings] = [:]
            for session in configuration.sessions {
                var fixSettings = FIXSessionSettings(
                    settings: session.settings, validator: options.validator?(session.settings))
                if let port = simulated.ports[session.name], case .initiator(var initiator) = fixSettings.transport {
                    initiator.endpoints[0].port = port
                    fixSettings.transport = .initiator(initiator)
                }
                sessions.append(fixSettings)
                byIdentity[fixSettings.identity] = session.settings
            }
            let batch = agent.journalSync == .batch
            let settingsByIdentity = byIdentity
            fix = try FIXEngine(
                sessions: sessions,
                storeFactory: { session in
                    let settings = settingsByIdentity[session.identity]!
                    let store = try FileStore(
                        directory: settings.fileStorePath, identity: session.identity,
                        syncPolicy: FileStore.SyncPolicy(rawValue: settings.fileStoreSync.rawValue) ?? .always,
                        creationTime: FIXClock.wallClockNow())
                    return JournalFirstStore(
                        inner: store, commitJournal: { core.commitJournalForStore() },
                        syncJournal: batch ? { core.syncJournalForFlush() } : nil)
                },
                logFactory: { session in
                    guard let path = settingsByIdentity[session.identity]!.fileLogPath else { return NullSessionLog() }
                    return try FileSessionLog(directory: path, identity: session.identity)
                },
                group: loop, logger: logger)
        } catch {
            try? await group.shutdownGracefully()
            if ownsSimulator { await simulator?.stop() }
            ledger?.close()
            throw AgentStartError("\(error)")
        }
        var found: [String: SessionDriver] = [:]
        for session in configuration.sessions {
            found[session.name] = fix.driver(for: SessionIdentity(session.settings.id))
        }
        let drivers = found
        let replayed = try await loop.submit { () -> Int in
            core.attach(drivers)
            return core.recover(scan)
        }.get()
        logger.info("journal replayed: \(replayed) records")
        try await fix.start(
            onApplicationMessage: { message, driver in core.received(message, from: driver) },
            onEvent: { event, driver in core.sessionEvent(event, from: driver) })
        let interval = TimeAmount.milliseconds(Int64(agent.tickIntervalMs))
        let tick = try await loop.submit {
            loop.scheduleRepeatedTask(initialDelay: interval, delay: interval) { _ in core.tick() }
        }.get()

        let wall = AgentClock.wallNanos()
        ledger?.recordConfiguration(
            followers: configuration.engine.followers.map { f in
                var equity: FixedDecimal?
                if case .fixed(let e) = f.equity { equity = e }
                return (
                    f.followerID, f.account, equity, f.providers.map(\.providerID),
                    configuration.feeTerms[f.followerID]
                )
            },
            providers: configuration.engine.providers.map { p in
                var equity: FixedDecimal?
                if case .fixed(let e) = p.equity { equity = e }
                return (p.providerID, p.account, equity)
            }, currency: agent.accountCurrency, at: wall)

        var running = Running(
            group: group, core: core, fix: fix, simulator: simulator, ownsSimulator: ownsSimulator, ledger: ledger,
            cpuLatency: cpuLatency, pinning: pinning, tick: tick, services: nil, servicesTask: nil, startedAt: Date(),
            dashboardRefreshMs: configuration.admin?.dashboardRefreshMs ?? 1000,
            mode: configuration.sessions.allSatisfy(\.simulated) ? "paper" : "live")
        try startServices(&running, metrics: metrics, registry: registry)
        return running
    }

    private func startServices(
        _ running: inout Running, metrics: CopyBridgeMetrics, registry: PrometheusCollectorRegistry
    ) throws {
        guard var admin = configuration.admin else { return }
        switch options.http {
        case .disabled: return
        case .asConfigured: break
        case .port(let port): admin.port = port
        }
        let core = running.core
        let listening = ListeningSignal(core.loop.makePromise(of: SocketAddress.self))
        let server: AgentHTTPServer
        do {
            server = try AgentHTTPServer(
                configuration: admin, stateSource: self, commandHandler: self, registry: registry,
                logger: options.logger,
                onListening: { [self] bound in
                    httpAddress.withLock { $0 = bound }
                    listening.complete(.success(bound))
                })
        } catch {
            listening.complete(.failure(AgentStartError("\(error)")))
            throw AgentStartError("\(error)")
        }
        let monitor = AlertMonitor(metrics: metrics) { transitions in
            core.loop.execute { for t in transitions { core.recordAlert(t) } }
        }
        let services = ServiceGroup(services: [server, monitor], logger: options.logger)
        running.services = services
        running.servicesTask = Task {
            do {
                try await services.run()
                listening.complete(.failure(AgentStartError("the HTTP server stopped before it listened")))
            } catch {
                listening.complete(.failure(error))
                throw error
            }
        }
        core.loop.scheduleTask(in: .seconds(30)) {
            listening.complete(.failure(AgentStartError("the HTTP server was not listening after 30 s")))
        }
        running.httpListening = listening.future
    }

    // MARK: Stopping

    /// Stops gracefully and returns the summary: no new copies (orders in flight are waited for, up
    /// to the options' timeout), every session logs out, the journal is synced and closed, the ledger
    /// catches up and closes, the simulated brokers stop and write their books. Calling it again
    /// returns the same summary.
    @discardableResult
    public func stop() async -> AgentSummary {
        let action = state.withLock { phase -> (Task<AgentSummary, Never>?, AgentSummary?) in
            switch phase {
            case .running(let running):
                let task = Task { await self.performStop(running) }
                phase = .stopping(task)
                return (task, nil)
            case .stopping(let task):
                return (task, nil)
            case .stopped(let summary):
                return (nil, summary)
            case .idle, .starting:
                phase = .stopped(nil)
                return (nil, nil)
            }
        }
        if let task = action.0 {
            let summary = await task.value
            state.withLock { $0 = .stopped(summary) }
            return summary
        }
        return action.1
            ?? AgentActivity(accountCurrency: configuration.agent.accountCurrency, startedMonotonic: 0)
            .summary(followers: [], now: 0)
    }

    private func performStop(_ running: Running) async -> AgentSummary {
        let core = running.core
        let (seconds, attoseconds) = options.stopDrainTimeout.components
        let drainTimeout = TimeAmount.nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
        running.tick?.cancel()
        if let drained = try? await core.loop.submit({ core.beginStop(timeout: drainTimeout) }).get() {
            try? await drained.get()
        }
        await running.fix.stop()
        let summary = (try? await core.loop.submit { core.finishStop() }.get()) ?? core.summary()
        running.ledger?.close()
        if running.ownsSimulator, let simulator = running.simulator { await simulator.stop() }
        if let services = running.services {
            await services.triggerGracefulShutdown()
            _ = try? await running.servicesTask?.value
        }
        try? await running.group.shutdownGracefully()
        running.cpuLatency?.release()
        running.pinning?.release()
        return summary
    }

    /// Abandons the agent as a `kill -9` would: nothing more is handled or written, connections close
    /// without a Logout, the journal is left as it is. For tests of recovery.
    public func abandon() async {
        let running = state.withLock { phase -> Running? in
            guard case .running(let r) = phase else { return nil }
            phase = .stopped(nil)
            return r
        }
        guard let running else { return }
        running.tick?.cancel()
        try? await running.core.loop.submit { running.core.crash() }.get()
        running.servicesTask?.cancel()
        _ = try? await running.servicesTask?.value
        try? await running.group.shutdownGracefully()
        running.ledger?.close()
        if running.ownsSimulator, let simulator = running.simulator { await simulator.stop() }
        // The kernel would drop the request with the process; a test's process lives on.
        running.cpuLatency?.release()
        running.pinning?.release()
    }

    // MARK: Observing

    /// The simulated brokers (embedded, or given in the options), once started.
    public var simulator: BrokerSimulatorServer? { running?.simulator ?? options.simulator }

    /// The HTTP server's bound address, once it listens.
    public var httpListeningAddress: SocketAddress? { httpAddress.withLock { $0 } }

    /// Where the agent stands now.
    public func progress() async throws -> AgentProgress {
        guard let core = running?.core else { throw AgentRuntimeError.notStarted }
        return try await core.loop.submit { core.progress() }.get()
    }

    /// Returns once `condition` holds (checked after every burst of activity), or throws after `timeout`.
    ///
    /// With `detailed: false` the progress given to `condition` lacks ``AgentProgress/followerStatus``,
    /// ``AgentProgress/liveOrders`` and ``AgentProgress/followerPositions`` (they walk the engine's
    /// books) and costs next to nothing.
    public func waitUntil(
        _ what: String, timeout: Duration = .seconds(30), detailed: Bool = true,
        _ condition: @escaping @Sendable (AgentProgress) -> Bool
    ) async throws {
        guard let core = running?.core else { throw AgentRuntimeError.notStarted }
        let (seconds, attoseconds) = timeout.components
        let amount = TimeAmount.nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
        let future = try await core.loop.submit { core.waitUntil(what, timeout: amount, detailed: detailed, condition) }
            .get()
        try await future.get()
    }

    /// Returns once `count` orders have been filled in all, or throws after `timeout`. The agent
    /// checks it with one comparison after each burst of activity, where
    /// ``waitUntil(_:timeout:detailed:_:)`` builds its whole progress: a driver pacing itself on the
    /// copies (the loopback benchmark) then costs the agent next to nothing between them.
    public func waitUntilFilled(_ count: Int, timeout: Duration = .seconds(30)) async throws {
        guard let core = running?.core else { throw AgentRuntimeError.notStarted }
        let (seconds, attoseconds) = timeout.components
        let amount = TimeAmount.nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
        let future = try await core.loop.submit { core.waitUntilFilled(count, timeout: amount) }.get()
        try await future.get()
    }

    /// The run's figures so far.
    public func summary() async -> AgentSummary {
        guard let core = running?.core, let summary = try? await core.loop.submit({ core.summary() }).get() else {
            return await stop()
        }
        return summary
    }

    /// A follower's state in a canonical symbol, as the engine sees it.
    public func followerPosition(_ follower: String, symbol: String) async -> FollowerPositionView? {
        guard let core = running?.core else { return nil }
        return try? await core.loop.submit { core.engine.followerPosition(follower, symbol: symbol) }.get()
    }

    /// The ClOrdIDs the engine still follows on a session.
    public func liveOrders(session: String) async -> [String] {
        guard let core = running?.core else { return [] }
        return (try? await core.loop.submit { core.engine.liveOrders(session: session).map(\.clOrdID) }.get()) ?? []
    }

    /// Waits until the ledger has recorded everything queued so far and its fee figures include it
    /// (tests). Blocks the calling thread for as long as the ledger thread takes.
    func drainLedger() {
        running?.ledger?.drain()
    }

    public func snapshot() async -> AgentSnapshot {
        guard let running else {
            return AgentSnapshot(
                generatedAt: Date(),
                agent: AgentInfo(
                    name: configuration.agent.name, version: Self.version, startedAt: Date(), mode: "stopped"))
        }
        let core = running.core
        if let snapshot = try? await core.loop.submit({
            core.snapshot(
                startedAt: running.startedAt, dashboardRefreshMs: running.dashboardRefreshMs, mode: running.mode)
        }).get() {
            return snapshot
        }
        return AgentSnapshot(
            generatedAt: Date(),
            agent: AgentInfo(
                name: configuration.agent.name, version: Self.version, startedAt: running.startedAt, mode: "stopped"))
    }

    /// Operator commands (the HTTP admin API, `copybridge ctl`): carried out by the copy engine's
    /// operator commands through ``EngineAdminHandler``, on the engine's loop (see ``submit(_:actor:reason:)``).
    public func handle(_ command: AdminCommand, actor: String, reason: String?) async throws -> AdminCommandResult {
        try await EngineAdminHandler(sink: self, currency: configuration.agent.accountCurrency)
            .handle(command, actor: actor, reason: reason)
    }

    /// Runs `command` on the engine's loop: checked, journaled with `actor` and `reason` when it
    /// applies (and audited with its outcome either way), and its orders sent like the copy path's.
    public func submit(_ command: OperatorCommand, actor: String, reason: String?) async throws -> EngineCommandReceipt
    {
        guard let core = running?.core else { throw AdminCommandError.refused("the agent is not running") }
        return try await core.loop.submit { core.submit(command, actor: actor, reason: reason) }.get()
    }

    public func engineState() async throws -> EngineStateView {
        guard let core = running?.core else { throw AdminCommandError.refused("the agent is not running") }
        return try await core.loop.submit { core.engine.stateView() }.get()
    }
}

/// Why the agent could not start.
public struct AgentStartError: Error, Sendable, CustomStringConvertible {
    public let description: String

    public init(_ description: String) {
        self.description = description
    }
}

/// Console output that never blocks the event loop: lines are written from a queue of their own.
public enum ConsoleOutput {
    private static let queue = DispatchQueue(label: "copybridge.console")

    /// Writes each call's lines to standard output, in order.
    public static let standardOutput: @Sendable ([String]) -> Void = { lines in
        let text = lines.joined(separator: "\n") + "\n"
        queue.async { FileHandle.standardOutput.write(Data(text.utf8)) }
    }

    /// Waits until everything given so far is written.
    public static func flush() {
        queue.sync {}
    }
}

/// A promise completed by whichever comes first: the server listening, failing, or a timeout.
private final class ListeningSignal: Sendable {
    private let promise: Mutex<EventLoopPromise<SocketAddress>?>
    let future: EventLoopFuture<SocketAddress>

    init(_ promise: EventLoopPromise<SocketAddress>) {
        self.promise = Mutex(promise)
        self.future = promise.futureResult
    }

    func complete(_ result: Result<SocketAddress, any Error>) {
        promise.withLock { p in
            p?.completeWith(result)
            p = nil
        }
    }
}
