import FIXCore
import FIXSession
import Logging
import NIOCore
import NIOPosix
import NIOSSL

/// Keeps an initiator session connected: connects inside the session schedule, walks the failover
/// endpoints, and waits ReconnectInterval between attempts. Loop-bound.
final class InitiatorConnector: @unchecked Sendable {
    private enum State {
        /// Not connecting; the engine's schedule check calls ``attempt()`` when the window opens.
        case idle
        case connecting
        case connected(any Channel)
        case waiting(Scheduled<Void>)
        case stopped
    }

    let driver: SessionDriver
    let options: InitiatorOptions
    let schedule: any SessionScheduleCheck
    private let tls: NIOSSLContext?
    private let decoder: FIXDecoderConfiguration
    private var state = State.idle
    private var nextEndpoint = 0

    init(
        driver: SessionDriver, options: InitiatorOptions, schedule: any SessionScheduleCheck,
        tls: NIOSSLContext?, decoder: FIXDecoderConfiguration
    ) {
        precondition(!options.endpoints.isEmpty, "an initiator needs an endpoint")
        self.driver = driver
        self.options = options
        self.schedule = schedule
        self.tls = tls
        self.decoder = decoder
    }

    var eventLoop: any EventLoop { driver.eventLoop }

    /// Whether nothing is in progress (neither connecting, connected nor waiting to retry).
    var isIdle: Bool {
        if case .idle = state { return true }
        return false
    }

    /// Connects now, when the schedule allows.
    func attempt() {
        eventLoop.assertInEventLoop()
        guard isIdle else { return }
        guard schedule.isWithinSchedule(driver.clock.now().utc) else { return }
        let endpoint = options.endpoints[nextEndpoint]
        state = .connecting
        driver.logEvent("Connecting to \(endpoint)")
        let serverHostname: String?
        if let name = options.tls?.serverName {
            serverHostname = name
        } else {
            serverHostname = ChannelSetup.isIPAddress(endpoint.host) ? nil : endpoint.host
        }
        let tlsSide = tls.map { ChannelSetup.TLSSide.client($0, serverHostname: serverHostname) }
        let driver = self.driver
        let decoder = self.decoder
        var bootstrap = ClientBootstrap(group: eventLoop)
            .connectTimeout(options.connectTimeout)
            .channelOption(.socketOption(.tcp_nodelay), value: options.socketNodelay ? 1 : 0)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try ChannelSetup.configure(
                        channel, tls: tlsSide, decoder: decoder, session: FIXSessionHandler(driver: driver))
                }
            }
        if let size = options.sendBufferSize {
            bootstrap = bootstrap.channelOption(.socketOption(.so_sndbuf), value: SocketOptionValue(size))
        }
        if let size = options.receiveBufferSize {
            bootstrap = bootstrap.channelOption(.socketOption(.so_rcvbuf), value: SocketOptionValue(size))
        }
        bootstrap.connect(host: endpoint.host, port: endpoint.port).whenComplete { [self] result in
            switch result {
            case .success(let channel):
                guard case .connecting = state else {
                    channel.close(promise: nil)
                    return
                }
                state = .connected(channel)
                channel.closeFuture.whenComplete { [self] _ in connectionEnded() }
            case .failure(let error):
                guard case .connecting = state else { return }
                let text = "Connection to \(endpoint) failed: \(error)"
                driver.logEvent(text)
                driver.logger.info("\(text)")
                nextEndpoint = (nextEndpoint + 1) % options.endpoints.count
                state = .idle
                waitThenAttempt()
            }
        }
    }

    private func connectionEnded() {
        guard case .connected = state else { return }
        // The endpoint we were connected to worked: try it first again.
        nextEndpoint = 0
        state = .idle
        waitThenAttempt()
    }

    private func waitThenAttempt() {
        state = .waiting(
            eventLoop.scheduleTask(in: options.reconnectInterval) { [self] in
                guard case .waiting = state else { return }
                state = .idle
                attempt()
            })
    }

    /// Stops reconnecting; an open connection is left to the session's logout.
    func stop() {
        eventLoop.assertInEventLoop()
        if case .waiting(let task) = state { task.cancel() }
        state = .stopped
    }
}
