import DequeModule
import FIXCore
import FIXSession
import FIXTransport
import Logging
import NIOCore

/// What one session of a simulated broker looks like from the broker's side, for tests and the
/// copy scenario runner (quiescence: nothing in flight when both sides agree on the numbers).
public struct SimSessionState: Sendable, Equatable {
    public var broker: String
    public var identity: SessionIdentity
    public var isLoggedOn: Bool
    public var nextSenderMsgSeqNum: Int
    public var nextTargetMsgSeqNum: Int
    /// Messages waiting for the session to log on (or come back from a simulated outage).
    public var queued: Int
    /// The session is in a simulated outage (``BrokerSimulatorServer/disconnect(broker:counterparty:)``).
    public var isDown: Bool
}

/// One simulated broker on the wire: a ``SimulatedBroker`` fed by the sessions of a `FIXEngine`,
/// on the engine's event loop.
///
/// Everything but the `let`s is used on ``eventLoop`` only. Application messages go to the broker
/// as they are accepted; the broker's outputs leave through the session drivers (the session layer
/// adds 34/49/52/56). Messages for a session that is not logged on wait in its outbox and leave,
/// in order, when it logs on, as a broker keeps what it owes a client across a reconnection.
final class SimBrokerHost: @unchecked Sendable {
    let plan: SimBrokerPlan
    let engine: FIXEngine
    let eventLoop: any EventLoop
    let clock: FIXClock
    let isManual: Bool
    let outboxLimit: Int
    let logger: Logger
    let drivers: [SimSessionKey: SessionDriver]

    private(set) var broker: SimulatedBroker
    private var manualNow: UTCTimestamp
    private var outbox: [SimSessionKey: Deque<FIXMessageBuilder>] = [:]
    private var overflowReported: Set<SimSessionKey> = []
    private var down: Set<SimSessionKey> = []
    private var timer: Scheduled<Void>?
    private var timerAt: Int64?
    private var stopped = false

    init(
        plan: SimBrokerPlan, engine: FIXEngine, broker: SimulatedBroker, clock: FIXClock, isManual: Bool,
        outboxLimit: Int, logger: Logger
    ) {
        self.plan = plan
        self.engine = engine
        self.eventLoop = engine.eventLoop
        self.broker = broker
        self.clock = clock
        self.isManual = isManual
        self.manualNow = broker.now
        self.outboxLimit = outboxLimit
        var logger = logger
        logger[metadataKey: "simulated-broker"] = "\(plan.name)"
        self.logger = logger
        var drivers: [SimSessionKey: SessionDriver] = [:]
        for session in plan.sessions {
            guard let driver = engine.driver(for: session.identity) else {
                preconditionFailure("the engine has no session \(session.identity)")
            }
            drivers[SimBrokerPlan.key(of: session.identity)] = driver
        }
        self.drivers = drivers
    }

    /// The broker's notion of now: the wall clock, or the time the runner moved it to.
    var now: UTCTimestamp {
        isManual ? manualNow : clock.now().utc
    }

    // MARK: Wiring (on the loop)

    /// Takes the session events once the engine has started, and catches up with a session that
    /// logged on before (a client already waiting on a fixed port).
    func attach() {
        eventLoop.assertInEventLoop()
        for (key, driver) in drivers {
            // The engine forwards events to its handles' streams; the broker needs them on the loop,
            // in order with the application messages.
            driver.onEvent = { [self] event, _ in sessionEvent(event, key) }
            if driver.isLoggedOn { flush(key) }
        }
        reschedule()
    }

    func received(_ message: FIXMessage, from driver: SessionDriver) {
        eventLoop.assertInEventLoop()
        guard !stopped else { return }
        let key = SimBrokerPlan.key(of: driver.identity)
        dispatch(broker.received(message, on: key, at: now))
        reschedule()
    }

    private func sessionEvent(_ event: SessionEvent, _ key: SimSessionKey) {
        logger.debug("\(key): \(event)")
        if case .loggedOn = event {
            if down.contains(key) {
                drivers[key]?.logout(text: "simulated outage")
            } else {
                flush(key)
            }
        } else if case .disconnected = event {
            broker.sessionLoggedOut(key)
        }
    }

    // MARK: Outputs

    func dispatch(_ outputs: [SimOutput]) {
        var touched: [SimSessionKey] = []
        for output in outputs {
            let key = output.session
            guard drivers[key] != nil else {
                logger.warning("dropping a \(output.message.msgType) for \(key): the broker has no such FIX session")
                continue
            }
            // Changed where it is stored: a copy taken out and put back would copy every message
            // owed, for each new one, while the session stays away.
            if outbox[key, default: []].count >= outboxLimit {
                outbox[key]!.removeFirst()
                if overflowReported.insert(key).inserted {
                    logger.warning(
                        "\(key) is not logged on and owes more than \(outboxLimit) messages: dropping the oldest")
                }
            }
            outbox[key, default: []].append(output.message)
            if !touched.contains(key) { touched.append(key) }
        }
        for key in touched { flush(key) }
    }

    /// Sends what the session is owed, in order, while it is logged on.
    private func flush(_ key: SimSessionKey) {
        guard !down.contains(key), let driver = drivers[key], driver.isLoggedOn, let queue = outbox[key],
            !queue.isEmpty
        else { return }
        var sent = 0
        for message in queue {
            do {
                try driver.send(message)
                sent += 1
            } catch .notLoggedOn {
                break
            } catch {
                logger.error("cannot send a \(message.msgType) on \(key): \(error)")
                sent += 1
            }
        }
        outbox[key] = sent == queue.count ? nil : Deque(queue.dropFirst(sent))
        if outbox[key] == nil { overflowReported.remove(key) }
    }

    // MARK: Time

    /// Arms the timer for the broker's next wake-up (wall clock only; manual time moves by ``advance(to:)``).
    private func reschedule() {
        guard !stopped, !isManual, let wake = broker.nextWakeUp?.nanosecondsSinceEpoch else { return }
        // An earlier timer re-arms for the later instant when it fires.
        if let timerAt, timerAt <= wake { return }
        timer?.cancel()
        timerAt = wake
        let delay = wake - clock.now().utc.nanosecondsSinceEpoch
        timer = eventLoop.scheduleTask(in: .nanoseconds(max(0, delay))) { [self] in
            timer = nil
            timerAt = nil
            guard !stopped else { return }
            dispatch(broker.advance(to: now))
            reschedule()
        }
    }

    /// Moves manual time to `time` (never back) and runs what is due.
    func advance(to time: UTCTimestamp) {
        eventLoop.assertInEventLoop()
        precondition(isManual, "advance(to:) needs a server with manual time")
        guard !stopped else { return }
        if time > manualNow { manualNow = time.with(precision: .milliseconds) }
        dispatch(broker.advance(to: manualNow))
    }

    /// Runs `body` on the broker at the current time and sends its outputs.
    func act<T>(_ body: (inout SimulatedBroker, UTCTimestamp) throws -> ([SimOutput], T)) rethrows -> T {
        eventLoop.assertInEventLoop()
        let (outputs, result) = try body(&broker, now)
        dispatch(outputs)
        reschedule()
        return result
    }

    // MARK: Simulated outages

    /// Ends the session (Logout) and refuses it until ``setDown(_:false)``; what the broker sends
    /// it meanwhile waits in its outbox.
    func setDown(_ isDown: Bool, _ key: SimSessionKey) {
        eventLoop.assertInEventLoop()
        guard let driver = drivers[key] else { return }
        if isDown {
            down.insert(key)
            if driver.isLoggedOn { driver.logout(text: "simulated outage") }
        } else {
            down.remove(key)
            flush(key)
        }
    }

    func states() -> [SimSessionState] {
        eventLoop.assertInEventLoop()
        return drivers.keys.sorted().map { key in
            let driver = drivers[key]!
            return SimSessionState(
                broker: plan.name, identity: driver.identity, isLoggedOn: driver.isLoggedOn,
                nextSenderMsgSeqNum: driver.nextSenderMsgSeqNum, nextTargetMsgSeqNum: driver.nextTargetMsgSeqNum,
                queued: outbox[key]?.count ?? 0, isDown: down.contains(key))
        }
    }

    /// No more timers or messages into the broker.
    func shutdown() {
        eventLoop.assertInEventLoop()
        stopped = true
        timer?.cancel()
        timer = nil
        timerAt = nil
    }
}
