import FIXCore
import FIXSession
import NIOCore

/// A host and port to connect to or listen on.
public struct TransportEndpoint: Sendable, Hashable, CustomStringConvertible {
    public var host: String
    public var port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    public var description: String { "\(host):\(port)" }
}

/// When a session may be connected: the session schedule (StartTime/EndTime, StartDay/EndDay...).
///
/// The settings engineer's `SessionSchedule` conforms; ``AlwaysOpenSchedule`` and
/// ``ClosureSchedule`` cover tests and simple set-ups.
public protocol SessionScheduleCheck: Sendable {
    /// Whether `time` is inside the session's trading window.
    func isWithinSchedule(_ time: UTCTimestamp) -> Bool
    /// Whether a store created at `creationTime` belongs to an earlier session period than `time`,
    /// so that both sequence numbers must start again at 1 (the daily or weekly reset).
    func isNewSessionPeriod(since creationTime: UTCTimestamp, at time: UTCTimestamp) -> Bool
}

extension SessionScheduleCheck {
    public func isNewSessionPeriod(since creationTime: UTCTimestamp, at time: UTCTimestamp) -> Bool { false }
}

/// A schedule that is always open and never resets (a 24/7 session, or a test).
public struct AlwaysOpenSchedule: SessionScheduleCheck {
    public init() {}
    public func isWithinSchedule(_ time: UTCTimestamp) -> Bool { true }
}

/// A schedule given by closures.
public struct ClosureSchedule: SessionScheduleCheck {
    let within: @Sendable (UTCTimestamp) -> Bool
    let newPeriod: @Sendable (UTCTimestamp, UTCTimestamp) -> Bool

    public init(
        isWithinSchedule: @escaping @Sendable (UTCTimestamp) -> Bool,
        isNewSessionPeriod: @escaping @Sendable (_ creationTime: UTCTimestamp, _ now: UTCTimestamp) -> Bool = {
            _, _ in false
        }
    ) {
        self.within = isWithinSchedule
        self.newPeriod = isNewSessionPeriod
    }

    public func isWithinSchedule(_ time: UTCTimestamp) -> Bool { within(time) }
    public func isNewSessionPeriod(since creationTime: UTCTimestamp, at time: UTCTimestamp) -> Bool {
        newPeriod(creationTime, time)
    }
}

/// How an initiator reaches its counterparty.
public struct InitiatorOptions: Sendable {
    /// SocketConnectHost/SocketConnectPort first, then SocketConnectHost1/Port1, ... (failover).
    /// Each failed attempt moves to the next endpoint; after an established connection drops, the
    /// next attempt starts again from the first.
    public var endpoints: [TransportEndpoint]
    /// ReconnectInterval: the wait between two connection attempts.
    public var reconnectInterval: TimeAmount
    /// How long one TCP connect may take before it counts as failed.
    public var connectTimeout: TimeAmount
    /// SocketNodelay (TCP_NODELAY).
    public var socketNodelay: Bool
    /// SocketSendBufferSize / SocketReceiveBufferSize, when set.
    public var sendBufferSize: Int?
    public var receiveBufferSize: Int?
    /// TLS to the counterparty, or `nil` for plain TCP.
    public var tls: TransportTLSOptions?

    public init(
        endpoints: [TransportEndpoint], reconnectInterval: TimeAmount = .seconds(30),
        connectTimeout: TimeAmount = .seconds(10), socketNodelay: Bool = true, sendBufferSize: Int? = nil,
        receiveBufferSize: Int? = nil, tls: TransportTLSOptions? = nil
    ) {
        self.endpoints = endpoints
        self.reconnectInterval = reconnectInterval
        self.connectTimeout = connectTimeout
        self.socketNodelay = socketNodelay
        self.sendBufferSize = sendBufferSize
        self.receiveBufferSize = receiveBufferSize
        self.tls = tls
    }
}

/// A listening socket. Acceptor sessions whose options are equal share one listener, and each
/// connection is routed to its session by the CompIDs of its first message.
public struct AcceptorOptions: Sendable, Hashable {
    /// SocketAcceptHost (all interfaces when `0.0.0.0`) and SocketAcceptPort (0: any free port,
    /// see ``FIXEngine/localAddress(of:)``).
    public var endpoint: TransportEndpoint
    /// SocketReuseAddress (SO_REUSEADDR).
    public var socketReuseAddress: Bool
    /// SocketNodelay (TCP_NODELAY) on accepted connections.
    public var socketNodelay: Bool
    /// SocketSendBufferSize / SocketReceiveBufferSize, when set.
    public var sendBufferSize: Int?
    public var receiveBufferSize: Int?
    /// TLS on accepted connections, or `nil` for plain TCP.
    public var tls: TransportTLSOptions?
    /// How long a new connection may stay silent before its first message identifies it.
    public var firstMessageTimeout: TimeAmount

    public init(
        host: String = "0.0.0.0", port: Int, socketReuseAddress: Bool = true, socketNodelay: Bool = true,
        sendBufferSize: Int? = nil, receiveBufferSize: Int? = nil, tls: TransportTLSOptions? = nil,
        firstMessageTimeout: TimeAmount = .seconds(10)
    ) {
        self.endpoint = TransportEndpoint(host: host, port: port)
        self.socketReuseAddress = socketReuseAddress
        self.socketNodelay = socketNodelay
        self.sendBufferSize = sendBufferSize
        self.receiveBufferSize = receiveBufferSize
        self.tls = tls
        self.firstMessageTimeout = firstMessageTimeout
    }

    public static func == (lhs: AcceptorOptions, rhs: AcceptorOptions) -> Bool {
        lhs.endpoint == rhs.endpoint && lhs.socketReuseAddress == rhs.socketReuseAddress
            && lhs.socketNodelay == rhs.socketNodelay && lhs.sendBufferSize == rhs.sendBufferSize
            && lhs.receiveBufferSize == rhs.receiveBufferSize && lhs.tls == rhs.tls
            && lhs.firstMessageTimeout == rhs.firstMessageTimeout
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(endpoint)
    }
}

/// Everything the engine needs to run one session.
public struct FIXSessionSettings: Sendable {
    /// Whether the session connects out or waits for the counterparty.
    public enum Transport: Sendable {
        case initiator(InitiatorOptions)
        case acceptor(AcceptorOptions)
    }

    /// The session layer's configuration (identity, HeartBtInt, the QuickFIX switches).
    public var session: SessionConfiguration
    public var transport: Transport
    /// The session schedule; always open by default.
    public var schedule: any SessionScheduleCheck

    public init(
        session: SessionConfiguration, transport: Transport, schedule: any SessionScheduleCheck = AlwaysOpenSchedule()
    ) {
        self.session = session
        self.transport = transport
        self.schedule = schedule
    }

    /// The session's identity.
    public var identity: SessionIdentity { session.identity }
}
