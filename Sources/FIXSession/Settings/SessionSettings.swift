import FIXCore

/// Which side opens the TCP connection.
public enum ConnectionType: String, Sendable, Hashable, CaseIterable {
    /// We connect to the counterparty and send the first Logon.
    case initiator
    /// We listen and answer the counterparty's Logon.
    case acceptor
}

/// How often the file store forces its writes to disk (`FileStoreSync`).
public enum FileStoreSyncPolicy: String, Sendable, Hashable, CaseIterable {
    /// fsync before a message counts as stored: nothing acknowledged is lost in a crash.
    case always
    /// fsync a batch of writes together: a crash can lose the last few milliseconds.
    case batch
    /// Leave flushing to the operating system: fastest, for tests and simulations.
    case never
}

/// A host and TCP port to connect to.
public struct HostAndPort: Sendable, Hashable, CustomStringConvertible {
    public var host: String
    public var port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// `host:port`, with an IPv6 address in brackets.
    public var description: String {
        host.contains(":") && !host.hasPrefix("[") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }
}

/// Everything one `[SESSION]` block (with `[DEFAULT]`) says, typed, defaults applied, cross-checked.
///
/// Times are in whole seconds as QuickFIX writes them. Paths are absolute. ``password`` never prints.
/// Build it from a file with ``CopyBridgeConfiguration/load(path:schema:)``, or in code (tests) with
/// ``init(id:connectionType:)`` and then set what differs from the defaults.
public struct SessionSettings: Sendable, Equatable, CustomStringConvertible {
    public var id: SessionID
    /// `SessionName`: the short unique name other blocks, logs and metrics use; defaults to the
    /// identity's description.
    public var name: String
    public var connectionType: ConnectionType

    /// Initiators: `SocketConnectHost`/`SocketConnectPort` first, then the failover pairs
    /// `SocketConnectHost1`/`SocketConnectPort1`, ... in order. Empty for acceptors.
    public var connectAddresses: [HostAndPort]
    /// Acceptors: the address to listen on; `nil`: every interface.
    public var acceptHost: String?
    /// Acceptors: the port to listen on (0: any free port). `nil` for initiators.
    public var acceptPort: Int?
    public var socketNoDelay: Bool
    public var socketReuseAddress: Bool
    /// The largest message accepted from the peer, in bytes; a longer one closes the connection.
    public var maxMessageSize: Int

    /// `HeartBtInt`: what an initiator sends in its Logon (0: no heartbeats). Acceptors take the
    /// initiator's value from its Logon instead.
    public var heartbeatIntervalSeconds: Int
    /// Initiators: the wait between connection attempts.
    public var reconnectIntervalSeconds: Int
    public var logonTimeoutSeconds: Int
    public var logoutTimeoutSeconds: Int
    public var schedule: SessionSchedule

    public var resetOnLogon: Bool
    public var resetOnLogout: Bool
    public var resetOnDisconnect: Bool
    public var refreshOnLogon: Bool
    /// Whether sent messages are stored for resending; without them a ResendRequest is answered with
    /// a gap fill.
    public var persistMessages: Bool
    /// The directory of the session's message store.
    public var fileStorePath: String
    public var fileStoreSync: FileStoreSyncPolicy
    /// The directory of the session's message and event logs; `nil`: no file log.
    public var fileLogPath: String?

    /// A QuickFIX XML dictionary to validate against; `nil`: the built-in FIX 4.4 dictionary.
    public var dataDictionary: String?
    public var validation: ValidationOptions
    public var checkCompID: Bool
    public var checkLatency: Bool
    /// With ``checkLatency``, how far SendingTime may be from our clock.
    public var maxLatencySeconds: Int
    public var sendRedundantResendRequests: Bool
    /// The most messages one ResendRequest asks for; 0: no limit.
    public var resendRequestChunkSize: Int
    /// The sub-second digits of the timestamps we send.
    public var timestampPrecision: TimestampPrecision

    /// Username (553) sent in our Logon.
    public var username: String?
    /// Password (554) sent in our Logon; prints as `****`.
    public var password: SecretString?

    /// `nil`: plain TCP.
    public var tls: TLSSettings?

    /// Where the `[SESSION]` header is; `nil` for settings built in code.
    public var location: SourceLocation?

    /// A session with QuickFIX's defaults: non-stop, no addresses (set ``connectAddresses`` or
    /// ``acceptPort``), store in `./store`, no TLS.
    public init(id: SessionID, connectionType: ConnectionType) {
        self.id = id
        self.name = id.description
        self.connectionType = connectionType
        self.connectAddresses = []
        self.acceptHost = nil
        self.acceptPort = nil
        self.socketNoDelay = true
        self.socketReuseAddress = true
        self.maxMessageSize = SessionSettings.defaultMaxMessageSize
        self.heartbeatIntervalSeconds = 30
        self.reconnectIntervalSeconds = 30
        self.logonTimeoutSeconds = 10
        self.logoutTimeoutSeconds = 2
        self.schedule = .nonStop
        self.resetOnLogon = false
        self.resetOnLogout = false
        self.resetOnDisconnect = false
        self.refreshOnLogon = false
        self.persistMessages = true
        self.fileStorePath = "store"
        self.fileStoreSync = .always
        self.fileLogPath = nil
        self.dataDictionary = nil
        self.validation = ValidationOptions()
        self.checkCompID = true
        self.checkLatency = true
        self.maxLatencySeconds = 120
        self.sendRedundantResendRequests = false
        self.resendRequestChunkSize = 0
        self.timestampPrecision = .milliseconds
        self.username = nil
        self.password = nil
        self.tls = nil
        self.location = nil
    }

    static let defaultMaxMessageSize = 1_048_576

    /// One line for logs and `check-config`; the password is masked.
    public var description: String {
        var parts = [name, id.description, connectionType.rawValue]
        switch connectionType {
        case .initiator: parts.append(connectAddresses.map(\.description).joined(separator: ","))
        case .acceptor: parts.append("\(acceptHost ?? "*"):\(acceptPort.map(String.init) ?? "?")")
        }
        parts.append(schedule.description)
        if let tls { parts.append(tls.description) }
        if let username { parts.append("username \(username)") }
        if let password { parts.append("password \(password)") }
        return "SessionSettings(" + parts.joined(separator: ", ") + ")"
    }
}
