import FIXCore
import FIXSession
import NIOCore
import NIOSSL

// How a `[SESSION]` block of the settings file becomes a session the transport runs. Every
// program that reads a settings file (the agent, the simulator, the conformance runners) goes
// through these, so a key means the same thing everywhere.

extension SessionIdentity {
    /// The session layer's identity for a settings file's SessionID.
    public init(_ id: SessionID) {
        self.init(
            beginString: id.beginString, senderCompID: id.senderCompID, senderSubID: id.senderSubID,
            targetCompID: id.targetCompID, targetSubID: id.targetSubID, qualifier: id.sessionQualifier)
    }
}

extension SessionConfiguration {
    /// The session layer's configuration for `settings`, as `identity` (the file's by default) in
    /// `role` (the file's ConnectionType by default), checking messages with `validator`.
    public init(
        settings: SessionSettings, identity: SessionIdentity? = nil, role: ConnectionType? = nil,
        validator: (any MessageValidator)? = nil
    ) {
        let fileRole: ConnectionType = settings.connectionType == .initiator ? .initiator : .acceptor
        self.init(
            identity: identity ?? SessionIdentity(settings.id), connectionType: role ?? fileRole,
            heartBtInt: settings.heartbeatIntervalSeconds)
        resetOnLogon = settings.resetOnLogon
        resetOnLogout = settings.resetOnLogout
        resetOnDisconnect = settings.resetOnDisconnect
        refreshOnLogon = settings.refreshOnLogon
        checkCompID = settings.checkCompID
        checkLatency = settings.checkLatency
        maxLatency = settings.maxLatencySeconds
        sendRedundantResendRequests = settings.sendRedundantResendRequests
        resendRequestChunkSize = settings.resendRequestChunkSize
        persistMessages = settings.persistMessages
        timestampPrecision = settings.timestampPrecision
        logonTimeout = settings.logonTimeoutSeconds
        logoutTimeout = settings.logoutTimeoutSeconds
        username = settings.username
        password = settings.password?.revealed
        validationOptions = settings.validation
        self.validator = validator
    }
}

extension TransportTLSOptions {
    /// The transport's TLS options for a session's TLS settings.
    public init(_ tls: TLSSettings, role: ConnectionType) {
        let verification: Verification
        switch tls.peerVerification {
        case .none: verification = .none
        case .required, .optional: verification = tls.serverName == nil && role == .acceptor ? .chainOnly : .full
        }
        self.init(
            certificateFile: tls.certificateFile, privateKeyFile: tls.privateKeyFile, caFile: tls.trustRootsFile,
            verification: verification,
            requireClientCertificate: role == .acceptor && tls.peerVerification == .required,
            serverName: tls.serverName, minimumVersion: NIOSSL.TLSVersion(tls.minimumVersion),
            cipherSuites: tls.cipherSuites)
        verifyOptionalClientCertificate = role == .acceptor && tls.peerVerification == .optional
        maximumVersion = tls.maximumVersion.map { NIOSSL.TLSVersion($0) }
    }
}

extension NIOSSL.TLSVersion {
    init(_ version: FIXSession.TLSVersion) {
        switch version {
        case .v1_0: self = .tlsv1
        case .v1_1: self = .tlsv11
        case .v1_2: self = .tlsv12
        case .v1_3: self = .tlsv13
        }
    }
}

extension SessionSchedule: SessionScheduleCheck {
    public func isWithinSchedule(_ time: UTCTimestamp) -> Bool {
        isInSession(at: time)
    }

    public func isNewSessionPeriod(since creationTime: UTCTimestamp, at time: UTCTimestamp) -> Bool {
        isInSession(at: time) && !isSameSessionPeriod(creationTime, time)
    }
}

extension InitiatorOptions {
    /// Failover endpoints, reconnect interval, socket options and TLS of an initiator block.
    public init(settings: SessionSettings) {
        self.init(
            endpoints: settings.connectAddresses.map { TransportEndpoint(host: $0.host, port: $0.port) },
            reconnectInterval: .seconds(Int64(settings.reconnectIntervalSeconds)), connectTimeout: .seconds(5),
            socketNodelay: settings.socketNoDelay, tls: settings.tls.map { TransportTLSOptions($0, role: .initiator) })
    }
}

extension AcceptorOptions {
    /// Listening address, socket options and TLS of an acceptor block.
    public init(settings: SessionSettings) {
        self.init(
            host: settings.acceptHost ?? "0.0.0.0", port: settings.acceptPort ?? 0,
            socketReuseAddress: settings.socketReuseAddress, socketNodelay: settings.socketNoDelay,
            tls: settings.tls.map { TransportTLSOptions($0, role: .acceptor) })
    }
}

extension FIXSessionSettings {
    /// A settings-file session as the transport runs it.
    public init(settings: SessionSettings, validator: (any MessageValidator)? = nil) {
        let session = SessionConfiguration(settings: settings, validator: validator)
        switch settings.connectionType {
        case .initiator:
            self.init(
                session: session, transport: .initiator(InitiatorOptions(settings: settings)),
                schedule: settings.schedule)
        case .acceptor:
            self.init(
                session: session, transport: .acceptor(AcceptorOptions(settings: settings)), schedule: settings.schedule
            )
        }
    }
}
