import FIXCore
import FIXSession
import FIXTransport
import NIOCore

/// Sequence numbers of one session, for telling when nothing is in flight.
public struct SessionSequenceNumbers: Sendable, Equatable {
    public var nextSender: Int
    public var nextTarget: Int

    public init(nextSender: Int, nextTarget: Int) {
        self.nextSender = nextSender
        self.nextTarget = nextTarget
    }
}

/// The simulated brokers of a running copy scenario, as the follower side connects to them.
public struct CopyScenarioSetup: Sendable {
    /// One broker: its name (CompID), where it listens, and the counterparties it accepts.
    public struct Broker: Sendable {
        public var name: String
        public var host: String
        public var port: Int
        /// The CompIDs of the sessions it accepts (the scenario's session names, e.g. `BRIDGE`).
        public var sessions: [String]
    }

    public var scenario: CopyScenario
    public var brokers: [Broker]

    /// The broker named `name`.
    public func broker(_ name: String) -> Broker? { brokers.first { $0.name == name } }

    /// An initiator session from `sender` (the scenario's session name) to `broker`, ready for a
    /// `FIXEngine`: reconnecting every `reconnectIntervalMs` after a drop.
    public func initiatorSession(
        sender: String, broker: String, heartBtInt: Int = 30, reconnectIntervalMs: Int64 = 100
    ) -> FIXSessionSettings? {
        guard let b = self.broker(broker) else { return nil }
        return FIXSessionSettings(
            session: SessionConfiguration(
                identity: SessionIdentity(senderCompID: sender, targetCompID: b.name), connectionType: .initiator,
                heartBtInt: heartBtInt),
            transport: .initiator(
                InitiatorOptions(
                    endpoints: [TransportEndpoint(host: b.host, port: b.port)],
                    reconnectInterval: .milliseconds(reconnectIntervalMs), connectTimeout: .seconds(5))))
    }
}

/// The side of a copy scenario that copies: CopyBridge, or a stand-in while the copy engine is
/// being written. The runner plays the brokers (and the provider's actions at them) and checks
/// the outcome at the brokers.
public protocol CopyScenarioFollowerSide: Sendable {
    /// Connects to the brokers; returns once its sessions are logged on.
    func start(_ setup: CopyScenarioSetup) async throws
    /// Returns once everything received so far has been acted on and what that sent is written.
    func settle() async throws
    /// Its sessions' sequence numbers, by identity as the follower side sees it (sender: itself).
    func sequenceNumbers() async -> [SessionIdentity: SessionSequenceNumbers]
    /// Simulated time moved to `time` (a manual clock follows it).
    func advance(to time: UTCTimestamp) async throws
    /// The reason codes journaled for `follower` (skips, size-downs, rejects), in order.
    func skipReasons(follower: String) async -> [String]
    /// Logs out and stops.
    func stop() async
}

/// How one step of a copy scenario went.
public struct CopyScenarioStepResult: Sendable, Equatable, CustomStringConvertible {
    public enum Outcome: Sendable, Equatable {
        case passed
        case failed(String)
        /// The step needs a follower side and the run had none.
        case notRun(String)
    }

    public var index: Int
    public var atMs: Int64
    public var step: String
    public var outcome: Outcome

    public var description: String {
        let head = "step \(index + 1) at \(atMs)ms (\(step))"
        switch outcome {
        case .passed: return "\(head): passed"
        case .failed(let why): return "\(head): FAILED: \(why)"
        case .notRun(let why): return "\(head): not run: \(why)"
        }
    }
}

/// The result of a copy scenario run.
public struct CopyScenarioReport: Sendable {
    public var title: String
    public var steps: [CopyScenarioStepResult]

    public var failures: [CopyScenarioStepResult] {
        steps.filter { if case .failed = $0.outcome { true } else { false } }
    }

    /// No step failed (steps that could not run do not count).
    public var passed: Bool { failures.isEmpty }
}

/// Runs the broker side of a copy-trading scenario (`Specs/copy/*.json`) over loopback TCP.
///
/// Every broker of the scenario is a networked simulator on a free port, on simulated time
/// starting at the scenario's `start`. Time moves from one broker wake-up to the next (fills,
/// price steps, bots), and after each move and each action the runner waits until the brokers and
/// the follower side are quiet: every session logged on (unless in a simulated outage), nothing
/// queued, and both ends agreeing on the sequence numbers (nothing in flight). So a follower's
/// order sent in reaction to a provider's fill reaches its broker at the simulated instant of that
/// fill, however long the wire took.
///
/// Without a follower side, the steps that need one (expectations about followers' accounts,
/// skips) are reported as not run and the rest still runs.
public enum CopyScenarioRunner {
    public static func run(
        _ scenario: CopyScenario, follower: (any CopyScenarioFollowerSide)?, settleTimeout: Duration = .seconds(10)
    ) async throws -> CopyScenarioReport {
        var plans: [SimBrokerPlan] = []
        for broker in scenario.brokers {
            plans.append(
                SimBrokerPlan(
                    name: broker.name, counterparties: broker.sessions.keys.sorted(),
                    configuration: try broker.configuration()))
        }
        let server = try BrokerSimulatorServer(
            plans: plans, options: SimServerOptions(storage: .memory, time: .manual(start: scenario.start)))
        try await server.start()
        var run = Run(scenario: scenario, server: server, follower: follower, settleTimeout: settleTimeout)
        do {
            let report = try await run.steps()
            await follower?.stop()
            await server.stop()
            return report
        } catch {
            await follower?.stop()
            await server.stop()
            throw error
        }
    }

    struct Run {
        let scenario: CopyScenario
        let server: BrokerSimulatorServer
        let follower: (any CopyScenarioFollowerSide)?
        let settleTimeout: Duration

        mutating func steps() async throws -> CopyScenarioReport {
            let ports = server.ports()
            let setup = CopyScenarioSetup(
                scenario: scenario,
                brokers: scenario.brokers.map {
                    CopyScenarioSetup.Broker(
                        name: $0.name, host: "127.0.0.1", port: ports[$0.name] ?? 0, sessions: $0.sessions.keys.sorted()
                    )
                })
            if let follower {
                try await follower.start(setup)
                try await settle()
            }
            var results: [CopyScenarioStepResult] = []
            for (index, step) in scenario.steps.enumerated() {
                try await advance(to: time(step.atMs))
                let outcome = try await perform(step.action)
                results.append(
                    CopyScenarioStepResult(
                        index: index, atMs: step.atMs, step: Self.describe(step.action), outcome: outcome))
            }
            return CopyScenarioReport(title: scenario.title, steps: results)
        }

        func time(_ ms: Int64) -> UTCTimestamp {
            UTCTimestamp(
                nanosecondsSinceEpoch: scenario.start.nanosecondsSinceEpoch + ms * 1_000_000, precision: .milliseconds)
        }

        /// Moves every broker (and the follower side) through each wake-up up to `target`, settling
        /// after each.
        func advance(to target: UTCTimestamp) async throws {
            var last: UTCTimestamp?
            while let wake = try await server.nextWakeUp(), wake <= target {
                if let last, wake <= last { break }  // nothing moves: let the final advance run it
                last = wake
                try await server.advance(to: wake)
                try await follower?.advance(to: wake)
                try await settle()
            }
            try await server.advance(to: target)
            try await follower?.advance(to: target)
            try await settle()
        }

        /// Waits until nothing is in flight between the brokers and the follower side.
        func settle() async throws {
            guard let follower else { return }
            let deadline = ContinuousClock.now + settleTimeout
            var lastProblem = ""
            while true {
                try await follower.settle()
                let first = try await snapshot(follower)
                if first.problem == nil {
                    // The follower side may have had work pending when the numbers were read.
                    try await follower.settle()
                    let second = try await snapshot(follower)
                    if second.problem == nil && second.states == first.states && second.numbers == first.numbers {
                        return
                    }
                }
                lastProblem = first.problem ?? "still moving"
                guard ContinuousClock.now < deadline else {
                    throw SimServerError(
                        description: "the brokers and the follower side did not settle: \(lastProblem)")
                }
                try await Task.sleep(for: .milliseconds(1))
            }
        }

        struct Snapshot {
            var states: [SimSessionState]
            var numbers: [SessionIdentity: SessionSequenceNumbers]
            var problem: String?
        }

        func snapshot(_ follower: any CopyScenarioFollowerSide) async throws -> Snapshot {
            let states = try await server.sessionStates()
            let numbers = await follower.sequenceNumbers()
            var problem: String?
            for state in states where !state.isDown {
                guard let theirs = numbers[state.identity.reversed] else { continue }
                if !state.isLoggedOn {
                    problem = "\(state.identity) is not logged on"
                } else if state.queued > 0 {
                    problem = "\(state.identity) has \(state.queued) messages queued"
                } else if theirs.nextTarget != state.nextSenderMsgSeqNum
                    || theirs.nextSender != state.nextTargetMsgSeqNum
                {
                    problem = "\(state.identity) has messages in flight"
                }
                if problem != nil { break }
            }
            return Snapshot(states: states, numbers: numbers, problem: problem)
        }

        func needsFollower(broker: String, account: String) -> Bool {
            scenario.followers.contains { $0.broker == broker && $0.account == account }
        }

        func perform(_ action: CopyScenario.Action) async throws -> CopyScenarioStepResult.Outcome {
            switch action {
            case .quote(let broker, let symbol, let bid, let ask):
                do {
                    try await server.act(on: broker) { b, now in
                        (try b.setQuote(symbol, bid: bid, ask: ask, at: now), ())
                    }
                } catch {
                    return .failed("\(error)")
                }
                try await settle()
                return .passed
            case .order(let order):
                let request = order.request
                try await server.act(on: order.broker) { b, now in (b.submit(request, at: now), ()) }
                try await settle()
                return .passed
            case .cancel(let broker, let account, let clOrdID):
                try await server.act(on: broker) { b, now in (b.cancel(account: account, clOrdID: clOrdID, at: now), ())
                }
                try await settle()
                return .passed
            case .disconnect(let broker, let session):
                try await server.disconnect(broker: broker, counterparty: session)
                try await settle()
                return .passed
            case .reconnect(let broker, let session):
                try await server.reconnect(broker: broker, counterparty: session)
                try await settle()
                return .passed
            case .expectOrders(let e):
                if follower == nil && needsFollower(broker: e.broker, account: e.account) {
                    return .notRun("expects a follower's orders; no follower side")
                }
                let orders = await server.inspect(e.broker) { $0.orders.filter { $0.account == e.account } } ?? []
                let matching = orders.filter { o in
                    (e.symbol.map { $0 == o.symbol } ?? true) && (e.side.map { $0 == o.side } ?? true)
                        && (e.orderQty.map { $0 == o.orderQty } ?? true) && (e.cumQty.map { $0 == o.cumQty } ?? true)
                        && (e.status.map { $0 == o.status } ?? true)
                }
                if matching.count == e.count { return .passed }
                let listed = orders.map {
                    "\($0.clOrdID) \($0.side) \($0.orderQty) \($0.symbol) cum \($0.cumQty) \($0.status)"
                }
                return .failed(
                    "\(matching.count) matching orders of \(e.account) at \(e.broker), expected \(e.count); "
                        + "its orders: [\(listed.joined(separator: "; "))]")
            case .expectPosition(let broker, let account, let symbol, let quantity):
                if follower == nil && needsFollower(broker: broker, account: account) {
                    return .notRun("expects a follower's position; no follower side")
                }
                let position = await server.inspect(broker) { $0.position(account: account, symbol: symbol).quantity }
                guard let position else { return .failed("no broker \(broker)") }
                return position == quantity
                    ? .passed : .failed("\(account) holds \(position) \(symbol) at \(broker), expected \(quantity)")
            case .expectSkip(let name, let reason):
                guard let follower else { return .notRun("expects CopyBridge's journal; no follower side") }
                let reasons = await follower.skipReasons(follower: name)
                return reasons.contains(reason)
                    ? .passed : .failed("\(name)'s journaled reasons are \(reasons), expected \(reason)")
            }
        }

        static func describe(_ action: CopyScenario.Action) -> String {
            switch action {
            case .quote(let broker, let symbol, let bid, let ask): return "quote \(symbol) \(bid)/\(ask) at \(broker)"
            case .order(let order):
                let r = order.request
                return "order \(r.clOrdID) \(r.side) \(r.quantity) \(r.symbol) for \(r.account) at \(order.broker)"
            case .cancel(let broker, let account, let clOrdID): return "cancel \(clOrdID) of \(account) at \(broker)"
            case .disconnect(let broker, let session): return "disconnect \(session) at \(broker)"
            case .reconnect(let broker, let session): return "reconnect \(session) at \(broker)"
            case .expectOrders(let e): return "expect \(e.count) orders of \(e.account) at \(e.broker)"
            case .expectPosition(let broker, let account, let symbol, let quantity):
                return "expect \(account) \(quantity) \(symbol) at \(broker)"
            case .expectSkip(let follower, let reason): return "expect skip \(reason) for \(follower)"
            }
        }
    }
}
