import FIXCore

extension SessionSettings {
    /// The `[DEFAULT]` and `[SESSION]` kinds and every session key: QuickFIX's, in both the C++ and the Go
    /// spellings for TLS, plus CopyBridge's own (`SessionName`, `FileStoreSync`, `MaxMessageSize`).
    public static let schema = SettingsSchema(
        blockKinds: [
            .init(
                .default, maximumCount: 1,
                doc: "Values every [SESSION] block starts from; a key written in a [SESSION] overrides it."),
            .init(
                .session, inheritsFrom: .default,
                doc: "One FIX session with QuickFIX's keys: a QuickFIX [SESSION] block works unchanged."),
        ],
        keys: sessionKeys)

    private static let s: Set<SettingsBlockKind> = [.session]

    private static let timestampPrecisionType = CustomSettingType(
        name: "0|3|6|9", expectation: "0, 3, 6, 9, SECONDS, MILLIS, MICROS or NANOS"
    ) { raw in
        let named = ["SECONDS": 0, "MILLIS": 3, "MICROS": 6, "NANOS": 9]
        if let digits = named[raw.uppercased()] ?? Int(raw), TimestampPrecision(digits: digits) != nil {
            return .integer(digits)
        }
        return nil
    }

    /// Apache/QuickFIX C++ protocol syntax: `all -SSLv3`, `+TLSv1.2 +TLSv1.3`, `TLSv1_2`. The value is the
    /// list of TLS versions it enables (SSL versions are never spoken).
    private static let sslProtocolType = CustomSettingType(
        name: "protocol list",
        expectation: "protocols like 'all -SSLv3 -TLSv1' or '+TLSv1.2 +TLSv1.3' enabling a TLS version"
    ) { raw in
        let names: [String: [TLSVersion]] = [
            "all": TLSVersion.allCases, "sslv2": [], "sslv3": [], "tlsv1": [.v1_0], "tlsv1.0": [.v1_0],
            "tlsv1_0": [.v1_0], "tlsv1.1": [.v1_1], "tlsv1_1": [.v1_1], "tlsv1.2": [.v1_2], "tlsv1_2": [.v1_2],
            "tlsv1.3": [.v1_3], "tlsv1_3": [.v1_3],
        ]
        var enabled = Set<TLSVersion>()
        for token in raw.split(whereSeparator: { $0 == " " || $0 == "\t" }) {
            var name = Substring(token.lowercased())
            let sign = name.first == "+" || name.first == "-" ? name.removeFirst() : nil
            guard let versions = names[String(name)] else { return nil }
            if sign == "-" { enabled.subtract(versions) } else { enabled.formUnion(versions) }
        }
        guard !enabled.isEmpty else { return nil }
        return .list(enabled.sorted().map { .word($0.description) })
    }

    private static func ignored(_ name: String, _ why: String) -> SettingKey {
        SettingKey(name, in: s, .string, status: .ignored(why), doc: "QuickFIX key.")
    }

    private static func unsupported(_ name: String, _ why: String) -> SettingKey {
        SettingKey(name, in: s, .string, status: .unsupported(why), doc: "QuickFIX key.")
    }

    private static let sessionKeys: [SettingKey] = [
        // Identity
        SettingKey(
            "BeginString", in: s, .word(["FIX.4.4"]), required: true, doc: "FIX version; CopyBridge speaks FIX.4.4."),
        SettingKey("SenderCompID", in: s, .string, required: true, doc: "Our CompID (49 in what we send)."),
        SettingKey("SenderSubID", in: s, .string, doc: "Our SubID (50 in what we send)."),
        SettingKey(
            "TargetCompID", in: s, .string, required: true, doc: "The counterparty's CompID (56 in what we send)."),
        SettingKey("TargetSubID", in: s, .string, doc: "The counterparty's SubID (57 in what we send)."),
        SettingKey("SessionQualifier", in: s, .string, doc: "Tells otherwise identical sessions apart."),
        SettingKey(
            "SessionName", in: s, .name,
            doc:
                "Short unique name other blocks, logs and metrics use (default: the identity, FIX.4.4:SENDER->TARGET)."
        ),
        SettingKey(
            "ConnectionType", in: s, .word(["initiator", "acceptor"]), required: true,
            doc: "initiator connects; acceptor listens."),

        // Sockets
        SettingKey(
            "SocketConnectHost", in: s, .host, numbered: true,
            doc: "Initiators: host to connect to; SocketConnectHost1..n are failovers tried in order."),
        SettingKey(
            "SocketConnectPort", in: s, .port(allowsZero: false), numbered: true,
            doc: "Initiators: port to connect to; SocketConnectPort1..n pair with SocketConnectHost1..n."),
        SettingKey(
            "SocketAcceptHost", in: s, .host, doc: "Acceptors: address to listen on (default: every interface)."),
        SettingKey(
            "SocketAcceptPort", in: s, .port(allowsZero: true),
            doc: "Acceptors: port to listen on (0: any free port)."),
        SettingKey("SocketNodelay", in: s, .bool, default: "Y", doc: "Disable Nagle's algorithm (TCP_NODELAY)."),
        SettingKey(
            "SocketReuseAddress", in: s, .bool, default: "Y",
            doc: "Acceptors: set SO_REUSEADDR on the listening socket."),
        SettingKey(
            "MaxMessageSize", in: s, .integer(256...67_108_864), default: "\(defaultMaxMessageSize)",
            doc: "Largest message accepted from the peer, in bytes; a longer one closes the connection."),

        // Timers
        SettingKey(
            "HeartBtInt", in: s, .integer(0...3600),
            doc: "Heartbeat interval in seconds, required for initiators (0: none); acceptors take the initiator's."),
        SettingKey(
            "ReconnectInterval", in: s, .integer(1...3600), default: "30",
            doc: "Initiators: seconds between connection attempts."),
        SettingKey(
            "LogonTimeout", in: s, .integer(1...3600), default: "10", doc: "Seconds to wait for the Logon reply."),
        SettingKey(
            "LogoutTimeout", in: s, .integer(1...3600), default: "2", doc: "Seconds to wait for the Logout reply."),

        // Schedule
        SettingKey(
            "StartTime", in: s, .timeOfDay,
            doc: "Daily (or weekly, with StartDay) session start, HH:MM:SS in TimeZone; a zone may follow the time."),
        SettingKey("EndTime", in: s, .timeOfDay, doc: "Session end, HH:MM:SS; before StartTime means the next day."),
        SettingKey("StartDay", in: s, .weekday, doc: "Weekly sessions: the day the session starts (with EndDay)."),
        SettingKey("EndDay", in: s, .weekday, doc: "Weekly sessions: the day the session ends."),
        SettingKey(
            "TimeZone", in: s, .timeZone, default: "UTC",
            doc: "IANA zone StartTime/EndTime are read in (Local: the host's)."),
        SettingKey(
            "UseLocalTime", in: s, .bool, default: "N",
            doc: "QuickFIX C++: read StartTime/EndTime in the host's zone."),
        SettingKey(
            "NonStopSession", in: s, .bool, default: "N",
            doc: "Always in session; sequence numbers never reset by schedule. Also the case without StartTime/EndTime."
        ),

        // Sequence numbers and storage
        SettingKey("ResetOnLogon", in: s, .bool, default: "N", doc: "Reset sequence numbers when a Logon is received."),
        SettingKey("ResetOnLogout", in: s, .bool, default: "N", doc: "Reset sequence numbers after a normal Logout."),
        SettingKey(
            "ResetOnDisconnect", in: s, .bool, default: "N", doc: "Reset sequence numbers after an abnormal disconnect."
        ),
        SettingKey(
            "RefreshOnLogon", in: s, .bool, default: "N",
            doc: "Reload the store's state when logging on (hot failover)."),
        SettingKey(
            "PersistMessages", in: s, .bool, default: "Y",
            doc: "Store sent messages for resending; N answers resends with gap fills."),
        SettingKey("FileStorePath", in: s, .path, default: "store", doc: "Directory of the message stores."),
        SettingKey(
            "FileStoreSync", in: s, .word(FileStoreSyncPolicy.allCases.map(\.rawValue)), default: "always",
            doc: "When the store fsyncs: always (nothing acknowledged is lost), batch, or never (tests)."),
        SettingKey("FileLogPath", in: s, .path, doc: "Directory of the message and event logs (default: no file log)."),

        // Validation
        SettingKey(
            "DataDictionary", in: s, .existingFile,
            doc: "QuickFIX XML dictionary (default: the built-in FIX 4.4 one)."),
        SettingKey(
            "UseDataDictionary", in: s, .bool, default: "Y", doc: "Validate received messages against the dictionary."),
        SettingKey(
            "ValidateFieldsOutOfOrder", in: s, .bool, default: "Y",
            doc: "Reject header, body or trailer fields out of their section."),
        SettingKey("ValidateFieldsHaveValues", in: s, .bool, default: "Y", doc: "Reject fields with empty values."),
        SettingKey(
            "ValidateUserDefinedFields", in: s, .bool, default: "Y",
            doc: "Check user-defined fields (5000+) against the dictionary."),
        SettingKey(
            "AllowUnknownMsgFields", in: s, .bool, default: "N",
            doc: "Tolerate fields not defined for the message type."),
        SettingKey(
            "ValidateUnorderedGroupFields", in: s, .bool, default: "Y",
            doc: "Reject repeating-group fields out of the dictionary's order."),
        SettingKey(
            "CheckCompID", in: s, .bool, default: "Y", doc: "Reject messages whose CompIDs are not this session's."),
        SettingKey(
            "CheckLatency", in: s, .bool, default: "Y",
            doc: "Reject messages whose SendingTime is more than MaxLatency away."),
        SettingKey(
            "MaxLatency", in: s, .integer(1...86_400), default: "120",
            doc: "Seconds of SendingTime difference CheckLatency allows."),
        SettingKey(
            "SendRedundantResendRequests", in: s, .bool, default: "N",
            doc: "Send a ResendRequest even when one for the same gap is outstanding."),
        SettingKey(
            "ResendRequestChunkSize", in: s, .integer(0...1_000_000), default: "0",
            doc: "Most messages per ResendRequest (0: no limit)."),
        SettingKey(
            "TimestampPrecision", in: s, .custom(timestampPrecisionType), default: "3",
            doc: "Sub-second digits of the timestamps we send (QuickFIX/Go's SECONDS..NANOS also accepted)."),
        SettingKey(
            "MillisecondsInTimeStamp", in: s, .bool, default: "Y",
            doc: "Older QuickFIX switch: N sends whole seconds unless TimestampPrecision is given."),

        // Logon credentials
        SettingKey("Username", in: s, .string, doc: "Username (553) sent in our Logon."),
        SettingKey("Password", in: s, .string, secret: true, doc: "Password (554) sent in our Logon; never printed."),

        // TLS
        SettingKey(
            "SocketUseSSL", in: s, .bool,
            doc: "Use TLS (default: Y when a certificate, key or CA file for the session's role is given)."),
        SettingKey(
            "ServerCertificateFile", in: s, .path,
            doc: "Acceptors: certificate chain (PEM), maybe with its key (QuickFIX C++)."),
        SettingKey(
            "ServerCertificateKeyFile", in: s, .path,
            doc: "Acceptors: private key (PEM) of ServerCertificateFile (QuickFIX C++)."),
        SettingKey(
            "ClientCertificateFile", in: s, .path,
            doc: "Initiators: client certificate chain (PEM), maybe with its key (QuickFIX C++)."),
        SettingKey(
            "ClientCertificateKeyFile", in: s, .path,
            doc: "Initiators: private key (PEM) of ClientCertificateFile (QuickFIX C++)."),
        SettingKey(
            "CertificationAuthoritiesFile", in: s, .path,
            doc: "Certificates to trust (PEM) (QuickFIX C++; default: the system's trust store)."),
        SettingKey(
            "CertificateVerifyLevel", in: s, .integer(0...2),
            doc: "0: no peer verification; 1: verify the peer; 2: acceptors verify a client certificate if presented."),
        SettingKey(
            "SSLProtocol", in: s, .custom(sslProtocolType),
            doc: "TLS versions, Apache syntax, e.g. 'all -SSLv3 -TLSv1' (QuickFIX C++)."),
        SettingKey(
            "SSLCipherSuite", in: s, .string, doc: "OpenSSL cipher list for TLS 1.2 and earlier (QuickFIX C++)."),
        SettingKey("TLSCipherSuites", in: s, .string, doc: "TLS 1.3 cipher suites (QuickFIX C++)."),
        SettingKey("SocketCertificateFile", in: s, .path, doc: "Our certificate chain (PEM) (QuickFIX/Go)."),
        SettingKey(
            "SocketPrivateKeyFile", in: s, .path, doc: "Private key (PEM) of SocketCertificateFile (QuickFIX/Go)."),
        SettingKey("SocketCAFile", in: s, .path, doc: "Certificates to trust (PEM) (QuickFIX/Go)."),
        SettingKey(
            "SocketServerName", in: s, .host,
            doc: "Initiators: name for SNI and certificate checks (QuickFIX/Go; default: the host)."),
        SettingKey(
            "SocketMinimumTLSVersion", in: s, .word(["SSL30", "TLS10", "TLS11", "TLS12", "TLS13"]), default: "TLS12",
            doc: "Lowest TLS version accepted (QuickFIX/Go; SSL30 counts as TLS10)."),

        // QuickFIX keys accepted without effect: they only tune what CopyBridge does differently.
        ignored("ScreenLogShowIncoming", "CopyBridge has no screen log; see FileLogPath."),
        ignored("ScreenLogShowOutgoing", "CopyBridge has no screen log; see FileLogPath."),
        ignored("ScreenLogShowEvents", "CopyBridge has no screen log; see FileLogPath."),
        ignored("ScreenLogShowHeartBeats", "CopyBridge has no screen log; see FileLogPath."),
        ignored("FileLogBackupPath", "logs are rotated by the operating system's tools."),
        ignored("FileStoreMaxCachedMsgs", "the file store sizes its own cache."),
        ignored("HttpAcceptPort", "CopyBridge's admin interface has its own settings."),
        ignored("SocketSendBufferSize", "the operating system's buffer sizes are used."),
        ignored("SocketReceiveBufferSize", "the operating system's buffer sizes are used."),
        ignored("DefaultApplVerID", "only FIXT.1.1 sessions use it."),
        ignored("TransportDataDictionary", "only FIXT.1.1 sessions use it."),
        ignored("AppDataDictionary", "only FIXT.1.1 sessions use it."),

        // QuickFIX keys whose behaviour CopyBridge lacks: refusing them beats silently doing otherwise.
        unsupported("SenderLocationID", "location IDs are not part of CopyBridge's session identity."),
        unsupported("TargetLocationID", "location IDs are not part of CopyBridge's session identity."),
        unsupported("LogonTime", "logon windows inside a session are not supported; use StartTime/EndTime."),
        unsupported("LogoutTime", "logon windows inside a session are not supported; use StartTime/EndTime."),
        unsupported("LogonDay", "logon windows inside a session are not supported; use StartDay/EndDay."),
        unsupported("LogoutDay", "logon windows inside a session are not supported; use StartDay/EndDay."),
        unsupported(
            "CertificationAuthoritiesDirectory", "put the CA certificates in one file (CertificationAuthoritiesFile)."),
        unsupported("CertificateRevocationListFile", "certificate revocation lists are not checked."),
        unsupported("CertificateRevocationListDirectory", "certificate revocation lists are not checked."),
    ]
}
