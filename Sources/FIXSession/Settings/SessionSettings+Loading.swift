import FIXCore
import Foundation

extension SessionSettings {
    /// Builds the typed settings of one `[SESSION]` block (inheritance applied, required keys present),
    /// checking the rules that span keys. Returns `nil` when it added an error.
    static func make(
        from block: SettingsBlock, fileExists: (String) -> Bool, diagnostics: inout DiagnosticCollector
    ) -> SessionSettings? {
        var problems = SessionProblems(block: block)
        let id = SessionID(
            beginString: block.string("BeginString")!, senderCompID: block.string("SenderCompID")!,
            senderSubID: block.string("SenderSubID"), targetCompID: block.string("TargetCompID")!,
            targetSubID: block.string("TargetSubID"), sessionQualifier: block.string("SessionQualifier"))
        let connectionType = ConnectionType(rawValue: block.string("ConnectionType")!)!
        var settings = SessionSettings(id: id, connectionType: connectionType)
        settings.name = block.string("SessionName") ?? id.description
        problems.sessionName = settings.name
        settings.location = block.location

        switch connectionType {
        case .initiator:
            settings.connectAddresses = connectAddresses(block, &problems)
            if let heartbeat = block.integer("HeartBtInt") {
                settings.heartbeatIntervalSeconds = heartbeat
            } else {
                problems.missing("HeartBtInt", "is an initiator but has no HeartBtInt")
            }
        case .acceptor:
            settings.acceptHost = block.string("SocketAcceptHost")
            settings.acceptPort = block.integer("SocketAcceptPort")
            if settings.acceptPort == nil {
                problems.missing("SocketAcceptPort", "is an acceptor but has no SocketAcceptPort")
            }
            if let heartbeat = block.integer("HeartBtInt") { settings.heartbeatIntervalSeconds = heartbeat }
        }
        settings.socketNoDelay = block.bool("SocketNodelay")!
        settings.socketReuseAddress = block.bool("SocketReuseAddress")!
        settings.maxMessageSize = block.integer("MaxMessageSize")!
        settings.reconnectIntervalSeconds = block.integer("ReconnectInterval")!
        settings.logonTimeoutSeconds = block.integer("LogonTimeout")!
        settings.logoutTimeoutSeconds = block.integer("LogoutTimeout")!
        settings.schedule = schedule(block, &problems)

        settings.resetOnLogon = block.bool("ResetOnLogon")!
        settings.resetOnLogout = block.bool("ResetOnLogout")!
        settings.resetOnDisconnect = block.bool("ResetOnDisconnect")!
        settings.refreshOnLogon = block.bool("RefreshOnLogon")!
        settings.persistMessages = block.bool("PersistMessages")!
        settings.fileStorePath = block.string("FileStorePath")!
        settings.fileStoreSync = FileStoreSyncPolicy(rawValue: block.string("FileStoreSync")!)!
        settings.fileLogPath = block.string("FileLogPath")

        settings.dataDictionary = block.string("DataDictionary")
        settings.validation.useDataDictionary = block.bool("UseDataDictionary")!
        settings.validation.validateFieldsOutOfOrder = block.bool("ValidateFieldsOutOfOrder")!
        settings.validation.validateFieldsHaveValues = block.bool("ValidateFieldsHaveValues")!
        settings.validation.validateUserDefinedFields = block.bool("ValidateUserDefinedFields")!
        settings.validation.allowUnknownMessageFields = block.bool("AllowUnknownMsgFields")!
        settings.validation.validateUnorderedGroupFields = block.bool("ValidateUnorderedGroupFields")!
        settings.checkCompID = block.bool("CheckCompID")!
        settings.checkLatency = block.bool("CheckLatency")!
        settings.maxLatencySeconds = block.integer("MaxLatency")!
        settings.sendRedundantResendRequests = block.bool("SendRedundantResendRequests")!
        settings.resendRequestChunkSize = block.integer("ResendRequestChunkSize")!
        if block.contains("TimestampPrecision") || block.bool("MillisecondsInTimeStamp")! {
            settings.timestampPrecision = TimestampPrecision(digits: block.integer("TimestampPrecision")!)!
        } else {
            settings.timestampPrecision = .seconds
        }

        settings.username = block.string("Username")
        settings.password = block.string("Password").map(SecretString.init)
        settings.tls = tls(block, connectionType, fileExists, &problems)

        diagnostics.append(contentsOf: problems.diagnostics)
        return problems.hasErrors ? nil : settings
    }

    /// The primary address, then the numbered failovers, which must count up from 1 in pairs.
    private static func connectAddresses(_ block: SettingsBlock, _ problems: inout SessionProblems) -> [HostAndPort] {
        var addresses: [HostAndPort] = []
        let host = block.string("SocketConnectHost")
        let port = block.integer("SocketConnectPort")
        if host == nil { problems.missing("SocketConnectHost", "is an initiator but has no SocketConnectHost") }
        if port == nil { problems.missing("SocketConnectPort", "is an initiator but has no SocketConnectPort") }
        if let host, let port { addresses.append(HostAndPort(host: host, port: port)) }
        let hostNumbers = Set(block.numbers(of: "SocketConnectHost"))
        let portNumbers = Set(block.numbers(of: "SocketConnectPort"))
        for number in hostNumbers.union(portNumbers).sorted() {
            let hostKey = "SocketConnectHost\(number)"
            let portKey = "SocketConnectPort\(number)"
            guard let failoverHost = block.string(hostKey) else {
                if !block.isInvalid(hostKey) { problems.error(portKey, "\(portKey) has no matching \(hostKey)") }
                continue
            }
            guard let failoverPort = block.integer(portKey) else {
                if !block.isInvalid(portKey) { problems.error(hostKey, "\(hostKey) has no matching \(portKey)") }
                continue
            }
            if number > 1 && !hostNumbers.contains(number - 1) && !portNumbers.contains(number - 1) {
                problems.error(
                    hostKey, "\(hostKey) follows no SocketConnectHost\(number - 1) (failovers count up from 1)")
                continue
            }
            addresses.append(HostAndPort(host: failoverHost, port: failoverPort))
        }
        return addresses
    }

    private static func schedule(_ block: SettingsBlock, _ problems: inout SessionProblems) -> SessionSchedule {
        if block.bool("NonStopSession")! { return .nonStop }
        // A schedule key with a bad value was reported already; its absence would only add noise.
        guard !["StartTime", "EndTime", "StartDay", "EndDay", "TimeZone"].contains(where: block.isInvalid) else {
            return .nonStop
        }
        let start = block.timeOfDay("StartTime")
        let end = block.timeOfDay("EndTime")
        let startDay = block.weekday("StartDay")
        let endDay = block.weekday("EndDay")
        var ok = true
        if (start == nil) != (end == nil) {
            let (given, missing) = start != nil ? ("StartTime", "EndTime") : ("EndTime", "StartTime")
            problems.error(given, "\(given) without \(missing) (give both, or NonStopSession=Y)")
            ok = false
        }
        if (startDay == nil) != (endDay == nil) {
            let (given, missing) = startDay != nil ? ("StartDay", "EndDay") : ("EndDay", "StartDay")
            problems.error(given, "\(given) without \(missing) (weekly sessions need both)")
            ok = false
        }
        if startDay != nil && endDay != nil && start == nil && end == nil {
            problems.error("StartDay", "StartDay/EndDay need StartTime and EndTime")
            ok = false
        }

        // The zone can come from TimeZone, UseLocalTime or a zone written after either time; those
        // written must agree.
        var zone: (value: TimeZone, source: String)?
        var sources: [(TimeZone, String)] = []
        if block.contains("TimeZone") { sources.append((block.timeZone("TimeZone")!, "TimeZone")) }
        if block.bool("UseLocalTime")! {
            if block.contains("TimeZone") {
                problems.error("UseLocalTime", "UseLocalTime=Y conflicts with TimeZone (give one)")
                ok = false
            } else {
                sources.append((TimeZone.current, "UseLocalTime"))
            }
        }
        if let z = start?.zone { sources.append((z, "StartTime")) }
        if let z = end?.zone { sources.append((z, "EndTime")) }
        for (candidate, source) in sources {
            if let chosen = zone, !SessionSchedule.sameZone(chosen.value, candidate) {
                let name = SessionSchedule.zoneName
                problems.error(
                    source, "\(source)'s zone \(name(candidate)) differs from \(chosen.source)'s \(name(chosen.value))")
                ok = false
            } else if zone == nil {
                zone = (candidate, source)
            }
        }
        guard ok, let start, let end else { return .nonStop }
        let timeZone = zone?.value ?? SessionSchedule.utc
        if let startDay, let endDay {
            return SessionSchedule(
                .weekly(startDay: startDay, start: start.time, endDay: endDay, end: end.time), timeZone: timeZone)
        }
        return SessionSchedule(.daily(start: start.time, end: end.time), timeZone: timeZone)
    }

    /// TLS from either spelling, chosen for the session's role; `nil` for plain TCP.
    private static func tls(
        _ block: SettingsBlock, _ role: ConnectionType, _ fileExists: (String) -> Bool,
        _ problems: inout SessionProblems
    ) -> TLSSettings? {
        let (certificateKey, keyKey) =
            switch role {
            case .initiator: ("ClientCertificateFile", "ClientCertificateKeyFile")
            case .acceptor: ("ServerCertificateFile", "ServerCertificateKeyFile")
            }
        let fileKeys = [
            certificateKey, keyKey, "SocketCertificateFile", "SocketPrivateKeyFile", "CertificationAuthoritiesFile",
            "SocketCAFile",
        ]
        let useTLS = block.bool("SocketUseSSL") ?? fileKeys.contains(where: block.contains)
        guard useTLS else { return nil }

        // One value per role: the C++ and the Go spelling may not both be given.
        func either(_ cpp: String, _ go: String) -> (key: String, path: String)? {
            switch (block[cpp], block[go]) {
            case (let a?, .some):
                problems.error(go, "\(go) and \(cpp) (\(a.location)) both set the same TLS file; keep one")
                return (cpp, block.string(cpp)!)
            case (.some, nil): return (cpp, block.string(cpp)!)
            case (nil, .some): return (go, block.string(go)!)
            case (nil, nil): return nil
            }
        }
        let certificate = either(certificateKey, "SocketCertificateFile")
        let privateKey = either(keyKey, "SocketPrivateKeyFile")
        let trustRoots = either("CertificationAuthoritiesFile", "SocketCAFile")
        for file in [certificate, privateKey, trustRoots].compactMap({ $0 }) where !fileExists(file.path) {
            problems.error(file.key, "\(file.key) '\(file.path)' does not exist")
        }
        if role == .acceptor && certificate == nil {
            problems.error(
                "SocketUseSSL", "is a TLS acceptor but has no ServerCertificateFile (or SocketCertificateFile)")
        }
        if let privateKey, certificate == nil {
            problems.error(
                privateKey.key,
                "\(privateKey.key) is given without a certificate (\(certificateKey) or SocketCertificateFile)")
        }

        var settings = TLSSettings(
            certificateFile: certificate?.path, privateKeyFile: privateKey?.path ?? certificate?.path,
            trustRootsFile: trustRoots?.path, serverName: role == .initiator ? block.string("SocketServerName") : nil,
            cipherSuites: block.string("SSLCipherSuite"), tls13CipherSuites: block.string("TLSCipherSuites"))

        switch block.integer("CertificateVerifyLevel") {
        case 0?:
            settings.peerVerification = .none
            if role == .initiator {
                problems.warning(
                    "CertificateVerifyLevel", "CertificateVerifyLevel=0: the server's certificate is not verified")
            }
        case 1?:
            settings.peerVerification = .required
        case 2?:
            settings.peerVerification = .optional
            if role == .initiator {
                problems.error(
                    "CertificateVerifyLevel", "CertificateVerifyLevel=2 (optional client certificates) is for acceptors"
                )
            }
        case let level?:
            preconditionFailure("CertificateVerifyLevel \(level) passed the schema's range")
        case nil:
            settings.peerVerification = role == .initiator || trustRoots != nil ? .required : .none
        }

        if block.contains("SSLProtocol") && block.contains("SocketMinimumTLSVersion") {
            problems.error(
                "SocketMinimumTLSVersion", "SocketMinimumTLSVersion and SSLProtocol both set TLS versions; keep one")
        }
        if block.contains("SSLProtocol") {
            let versions = block.list("SSLProtocol")!.map { value -> TLSVersion in
                guard case .word(let name) = value, let v = TLSVersion.allCases.first(where: { $0.description == name })
                else {
                    preconditionFailure("SSLProtocol parser produced \(value)")
                }
                return v
            }
            settings.minimumVersion = versions.min()!
            settings.maximumVersion = versions.max() == TLSVersion.allCases.last ? nil : versions.max()
        } else {
            switch block.string("SocketMinimumTLSVersion")! {
            case "SSL30":
                settings.minimumVersion = .v1_0
                problems.warning(
                    "SocketMinimumTLSVersion", "SSL 3.0 is never spoken: SocketMinimumTLSVersion=SSL30 means TLS10")
            case "TLS10": settings.minimumVersion = .v1_0
            case "TLS11": settings.minimumVersion = .v1_1
            case "TLS12": settings.minimumVersion = .v1_2
            case "TLS13": settings.minimumVersion = .v1_3
            case let other: preconditionFailure("SocketMinimumTLSVersion \(other) passed the schema")
            }
        }
        return settings
    }
}

/// Diagnostics about one session, each naming the session so that errors located at a `[DEFAULT]` line
/// still say which session they concern.
private struct SessionProblems {
    let block: SettingsBlock
    var sessionName: String = ""
    var diagnostics: [SettingsDiagnostic] = []
    var hasErrors: Bool { diagnostics.contains { $0.severity == .error } }

    /// `key == nil` locates the problem at the `[SESSION]` header and puts the session first:
    /// "[SESSION] 'name' is an initiator but ...".
    mutating func error(_ key: String?, _ message: String) {
        add(.error, key, message)
    }

    /// An error about the session as a whole because `key` is absent, unless `key` was written with a
    /// bad value (already reported).
    mutating func missing(_ key: String, _ message: String) {
        if !block.isInvalid(key) { add(.error, nil, message) }
    }

    mutating func warning(_ key: String?, _ message: String) {
        add(.warning, key, message)
    }

    private mutating func add(_ severity: SettingsDiagnostic.Severity, _ key: String?, _ message: String) {
        let text = key == nil ? "[SESSION] '\(sessionName)' \(message)" : "\(message) in [SESSION] '\(sessionName)'"
        diagnostics.append(block.diagnostic(severity, for: key, text))
    }
}
