import FIXCore
import FIXSession
import Foundation
import Testing

private func acceptor(_ extra: String = "") -> String {
    """
    [SESSION]
    BeginString=FIX.4.4
    SenderCompID=BROKER
    TargetCompID=CLIENT
    ConnectionType=acceptor
    SocketAcceptPort=9880
    \(extra)
    """
}

private func session(_ text: String, existing: Set<String> = []) throws -> SessionSettings {
    let configuration = try parseSettings(text, existing: existing)
    return try #require(configuration.sessions.first)
}

@Suite struct SettingsSessionRuleTests {
    @Test func acceptorNeedsAPort() {
        let text = acceptor().replacingOccurrences(of: "SocketAcceptPort=9880", with: "")
        #expect(
            settingsProblems(text) == [
                "sessions.conf:1: [SESSION] 'FIX.4.4:BROKER->CLIENT' is an acceptor but has no SocketAcceptPort"
            ])
    }

    @Test func acceptorIgnoresInitiatorKeysFromDefault() throws {
        let configuration = try parseSettings(
            """
            [DEFAULT]
            SocketConnectHost=broker.example
            SocketConnectPort=9876
            \(acceptor("SocketAcceptHost=127.0.0.1"))
            """)
        let settings = configuration.sessions[0]
        #expect(settings.connectAddresses.isEmpty)
        #expect(settings.acceptHost == "127.0.0.1")
        #expect(settings.acceptPort == 9880)
        #expect(settings.heartbeatIntervalSeconds == 30)
    }

    @Test func duplicateIdentitiesAndNames() {
        let text = """
            \(initiator("SessionName=one"))
            \(initiator("SessionName=two"))
            \(initiator("SessionName=one", target: "OTHER"))
            """
        #expect(
            settingsProblems(text) == [
                "sessions.conf:10: duplicate session FIX.4.4:ME->BROKER (also defined at line 1)",
                "sessions.conf:19: duplicate SessionName 'one' (also used at line 1)",
            ])
    }

    @Test func qualifiersAndSubIDsMakeIdentitiesDistinct() throws {
        let text = """
            \(initiator("SessionQualifier=orders"))
            \(initiator("SessionQualifier=quotes"))
            \(initiator("SenderSubID=DESK1"))
            """
        let configuration = try parseSettings(text)
        #expect(
            configuration.sessions.map(\.name) == [
                "FIX.4.4:ME->BROKER:orders", "FIX.4.4:ME->BROKER:quotes", "FIX.4.4:ME/DESK1->BROKER",
            ])
        #expect(
            configuration.session(id: SessionID(senderCompID: "ME", targetCompID: "BROKER", sessionQualifier: "quotes"))
                != nil)
    }

    @Test func startAndEndTimeBothOrNeither() throws {
        #expect(
            settingsProblems(initiator("EndTime=17:00:00")) == [
                "sessions.conf:9: EndTime without StartTime (give both, or NonStopSession=Y) in [SESSION] 'FIX.4.4:ME->BROKER'"
            ])
        #expect(try session(initiator("StartTime=08:00:00\nNonStopSession=Y")).schedule == .nonStop)
        #expect(try session(initiator()).schedule == .nonStop)
        #expect(
            settingsProblems(initiator("StartTime=08:00:00\nEndTime=17:00:00\nStartDay=Monday")) == [
                "sessions.conf:11: StartDay without EndDay (weekly sessions need both) in [SESSION] 'FIX.4.4:ME->BROKER'"
            ])
        #expect(
            settingsProblems(initiator("StartDay=Mon\nEndDay=Fri")) == [
                "sessions.conf:9: StartDay/EndDay need StartTime and EndTime in [SESSION] 'FIX.4.4:ME->BROKER'"
            ])
    }

    @Test func scheduleTimeZones() throws {
        let newYork = try #require(TimeZone(identifier: "America/New_York"))
        let daily = try session(initiator("StartTime=08:00:00\nEndTime=17:00:00\nTimeZone=America/New_York"))
        #expect(
            daily.schedule
                == SessionSchedule(
                    .daily(start: TimeOfDay(hour: 8, minute: 0)!, end: TimeOfDay(hour: 17, minute: 0)!),
                    timeZone: newYork))
        // QuickFIX/J writes the zone after the time.
        let suffixed = try session(initiator("StartTime=08:00:00 America/New_York\nEndTime=17:00:00 America/New_York"))
        #expect(suffixed.schedule == daily.schedule)
        #expect(
            settingsProblems(initiator("StartTime=08:00:00 Europe/London\nEndTime=17:00:00\nTimeZone=America/New_York"))
                == [
                    "sessions.conf:9: StartTime's zone Europe/London differs from TimeZone's America/New_York in [SESSION] 'FIX.4.4:ME->BROKER'"
                ])
        #expect(
            settingsProblems(initiator("StartTime=08:00:00\nEndTime=17:00:00\nTimeZone=UTC\nUseLocalTime=Y")) == [
                "sessions.conf:12: UseLocalTime=Y conflicts with TimeZone (give one) in [SESSION] 'FIX.4.4:ME->BROKER'"
            ])
        let local = try session(initiator("StartTime=08:00:00\nEndTime=17:00:00\nUseLocalTime=Y"))
        #expect(local.schedule.timeZone.identifier == TimeZone.current.identifier)
        let weekly = try session(initiator("StartTime=17:00:00\nEndTime=17:00:00\nStartDay=su\nEndDay=FRIDAY"))
        #expect(
            weekly.schedule.window
                == .weekly(
                    startDay: .sunday, start: TimeOfDay(hour: 17, minute: 0)!, endDay: .friday,
                    end: TimeOfDay(hour: 17, minute: 0)!))
        #expect(weekly.schedule.timeZone == SessionSchedule.utc)
        #expect(weekly.schedule.description == "weekly Sun 17:00:00-Fri 17:00:00 UTC")
    }

    @Test func timestampPrecisionAndValidationSwitches() throws {
        #expect(try session(initiator("MillisecondsInTimeStamp=N")).timestampPrecision == .seconds)
        #expect(try session(initiator("TimestampPrecision=6")).timestampPrecision == .microseconds)
        #expect(
            try session(initiator("TimestampPrecision=9\nMillisecondsInTimeStamp=N")).timestampPrecision == .nanoseconds
        )
        #expect(try session(initiator("TimeStampPrecision=MICROS")).timestampPrecision == .microseconds)

        let settings = try session(
            initiator(
                """
                UseDataDictionary=N
                ValidateFieldsOutOfOrder=N
                ValidateFieldsHaveValues=N
                ValidateUserDefinedFields=N
                AllowUnknownMsgFields=Y
                ValidateUnorderedGroupFields=N
                CheckCompID=N
                CheckLatency=N
                MaxLatency=30
                ResendRequestChunkSize=500
                SendRedundantResendRequests=Y
                MaxMessageSize=4096
                FileStoreSync=batch
                """))
        var expected = ValidationOptions()
        expected.useDataDictionary = false
        expected.validateFieldsOutOfOrder = false
        expected.validateFieldsHaveValues = false
        expected.validateUserDefinedFields = false
        expected.allowUnknownMessageFields = true
        expected.validateUnorderedGroupFields = false
        #expect(settings.validation == expected)
        #expect(!settings.checkCompID && !settings.checkLatency)
        #expect(settings.maxLatencySeconds == 30)
        #expect(settings.resendRequestChunkSize == 500)
        #expect(settings.sendRedundantResendRequests)
        #expect(settings.maxMessageSize == 4096)
        #expect(settings.fileStoreSync == .batch)
    }

    @Test func dataDictionaryMustExistAndIsResolvedAgainstTheFile() throws {
        let settings = try session(initiator("DataDictionary=spec/FIX44.xml"), existing: ["/cfg/spec/FIX44.xml"])
        #expect(settings.dataDictionary == "/cfg/spec/FIX44.xml")
        let absolute = try session(initiator("DataDictionary=/opt/FIX44.xml"), existing: ["/opt/FIX44.xml"])
        #expect(absolute.dataDictionary == "/opt/FIX44.xml")
    }
}

@Suite struct SettingsFailoverTests {
    @Test func numberedPairsFollowThePrimary() throws {
        let settings = try session(
            initiator(
                """
                SocketConnectHost2=third.example
                SocketConnectPort2=9002
                SocketConnectHost1=second.example
                SocketConnectPort1=9001
                """))
        #expect(
            settings.connectAddresses.map(\.description) == [
                "localhost:9876", "second.example:9001", "third.example:9002",
            ])
    }

    @Test func numberedKeysInheritFromDefault() throws {
        let configuration = try parseSettings(
            """
            [DEFAULT]
            SocketConnectHost1=backup.example
            SocketConnectPort1=7001
            \(initiator())
            """)
        #expect(
            configuration.sessions[0].connectAddresses.map(\.description) == ["localhost:9876", "backup.example:7001"])
    }

    @Test func brokenFailoverPairs() {
        #expect(
            settingsProblems(initiator("SocketConnectPort1=9001")) == [
                "sessions.conf:9: SocketConnectPort1 has no matching SocketConnectHost1 in [SESSION] 'FIX.4.4:ME->BROKER'"
            ])
        #expect(
            settingsProblems(initiator("SocketConnectHost1=b.example")) == [
                "sessions.conf:9: SocketConnectHost1 has no matching SocketConnectPort1 in [SESSION] 'FIX.4.4:ME->BROKER'"
            ])
        #expect(
            settingsProblems(
                initiator(
                    "SocketConnectHost1=b.example\nSocketConnectPort1=1\nSocketConnectHost3=c.example\nSocketConnectPort3=3"
                ))
                == [
                    "sessions.conf:11: SocketConnectHost3 follows no SocketConnectHost2 (failovers count up from 1) in [SESSION] 'FIX.4.4:ME->BROKER'"
                ])
        #expect(
            settingsProblems(initiator("SocketConnectHost0=a.example"))
                == [
                    "sessions.conf:9: unknown key 'SocketConnectHost0' in [SESSION] (did you mean 'SocketConnectHost'?)"
                ])
        #expect(
            settingsProblems(initiator("BeginString1=FIX.4.4")) == [
                "sessions.conf:9: unknown key 'BeginString1' in [SESSION] (did you mean 'BeginString'?)"
            ])
    }
}

@Suite struct SettingsTLSTests {
    let files: Set<String> = [
        "/cfg/tls/client.pem", "/cfg/tls/client.key", "/cfg/tls/ca.pem", "/cfg/tls/server.pem", "/cfg/tls/server.key",
    ]

    @Test func quickFIXCppAndGoSpellingsGiveTheSameSettings() throws {
        let cpp = try session(
            initiator(
                """
                SocketUseSSL=Y
                ClientCertificateFile=tls/client.pem
                ClientCertificateKeyFile=tls/client.key
                CertificationAuthoritiesFile=tls/ca.pem
                SSLProtocol=all -SSLv2 -SSLv3 -TLSv1 -TLSv1_1
                """), existing: files)
        let go = try session(
            initiator(
                """
                SocketCertificateFile=tls/client.pem
                SocketPrivateKeyFile=tls/client.key
                SocketCAFile=tls/ca.pem
                SocketMinimumTLSVersion=TLS12
                """), existing: files)
        let expected = TLSSettings(
            certificateFile: "/cfg/tls/client.pem", privateKeyFile: "/cfg/tls/client.key",
            trustRootsFile: "/cfg/tls/ca.pem",
            peerVerification: .required, minimumVersion: .v1_2)
        #expect(cpp.tls == expected)
        #expect(go.tls == expected)  // QuickFIX/Go turns TLS on when certificate files are given
    }

    @Test func acceptorTakesTheServerKeys() throws {
        let settings = try session(
            acceptor(
                """
                ClientCertificateFile=tls/client.pem
                ServerCertificateFile=tls/server.pem
                ServerCertificateKeyFile=tls/server.key
                CertificationAuthoritiesFile=tls/ca.pem
                CertificateVerifyLevel=2
                SSLProtocol=+TLSv1.2
                SSLCipherSuite=HIGH:!aNULL
                TLSCipherSuites=TLS_AES_256_GCM_SHA384
                """), existing: files)
        let tls = try #require(settings.tls)
        #expect(tls.certificateFile == "/cfg/tls/server.pem")
        #expect(tls.privateKeyFile == "/cfg/tls/server.key")
        #expect(tls.peerVerification == .optional)
        #expect(tls.minimumVersion == .v1_2)
        #expect(tls.maximumVersion == .v1_2)
        #expect(tls.cipherSuites == "HIGH:!aNULL")
        #expect(tls.tls13CipherSuites == "TLS_AES_256_GCM_SHA384")
    }

    @Test func acceptorVerifiesClientsOnlyWithACertificateAuthority() throws {
        let plain = try session(
            acceptor("SocketCertificateFile=tls/server.pem\nSocketPrivateKeyFile=tls/server.key"), existing: files)
        #expect(plain.tls?.peerVerification == TLSSettings.PeerVerification.none)
        let mutual = try session(
            acceptor(
                "SocketCertificateFile=tls/server.pem\nSocketPrivateKeyFile=tls/server.key\nSocketCAFile=tls/ca.pem"),
            existing: files)
        #expect(mutual.tls?.peerVerification == .required)
    }

    @Test func combinedCertificateAndKeyFile() throws {
        let settings = try session(initiator("ClientCertificateFile=tls/client.pem"), existing: files)
        #expect(settings.tls?.certificateFile == "/cfg/tls/client.pem")
        #expect(settings.tls?.privateKeyFile == "/cfg/tls/client.pem")
    }

    @Test func serverAuthenticationOnlyInitiator() throws {
        let settings = try session(
            initiator("SocketUseSSL=Y\nSocketServerName=fix.broker.example\nSocketMinimumTLSVersion=tls13"))
        #expect(
            settings.tls
                == TLSSettings(peerVerification: .required, serverName: "fix.broker.example", minimumVersion: .v1_3))
    }

    @Test func tlsIsOffWhenSaidSoOrWhenOnlyTheOtherRolesFilesAreGiven() throws {
        #expect(try session(initiator("SocketUseSSL=N\nSocketCAFile=tls/ca.pem"), existing: files).tls == nil)
        #expect(try session(initiator("ServerCertificateFile=tls/server.pem"), existing: files).tls == nil)
        #expect(try session(initiator()).tls == nil)
    }

    @Test func missingFilesAreNamed() {
        #expect(
            settingsProblems(
                initiator("SocketUseSSL=Y\nClientCertificateFile=tls/nope.pem\nSocketCAFile=/etc/ca.pem"),
                existing: files)
                == [
                    "sessions.conf:10: ClientCertificateFile '/cfg/tls/nope.pem' does not exist in [SESSION] 'FIX.4.4:ME->BROKER'",
                    "sessions.conf:11: SocketCAFile '/etc/ca.pem' does not exist in [SESSION] 'FIX.4.4:ME->BROKER'",
                ])
        // The files only matter when TLS is on.
        #expect(settingsProblems(initiator("SocketUseSSL=N\nClientCertificateFile=tls/nope.pem")).isEmpty)
    }

    @Test func tlsRuleViolations() {
        #expect(
            settingsProblems(acceptor("SocketUseSSL=Y"), existing: files) == [
                "sessions.conf:7: is a TLS acceptor but has no ServerCertificateFile (or SocketCertificateFile) in [SESSION] 'FIX.4.4:BROKER->CLIENT'"
            ])
        #expect(
            settingsProblems(
                initiator("ClientCertificateFile=tls/client.pem\nSocketCertificateFile=tls/client.pem"), existing: files
            ) == [
                "sessions.conf:10: SocketCertificateFile and ClientCertificateFile (sessions.conf:9) both set the same TLS file; keep one in [SESSION] 'FIX.4.4:ME->BROKER'"
            ])
        #expect(
            settingsProblems(initiator("SocketPrivateKeyFile=tls/client.key"), existing: files) == [
                "sessions.conf:9: SocketPrivateKeyFile is given without a certificate (ClientCertificateFile or SocketCertificateFile) in [SESSION] 'FIX.4.4:ME->BROKER'"
            ])
        #expect(
            settingsProblems(initiator("SocketUseSSL=Y\nSSLProtocol=+TLSv1.2\nSocketMinimumTLSVersion=TLS12")) == [
                "sessions.conf:11: SocketMinimumTLSVersion and SSLProtocol both set TLS versions; keep one in [SESSION] 'FIX.4.4:ME->BROKER'"
            ])
        #expect(
            settingsProblems(initiator("SocketUseSSL=Y\nCertificateVerifyLevel=2")) == [
                "sessions.conf:10: CertificateVerifyLevel=2 (optional client certificates) is for acceptors in [SESSION] 'FIX.4.4:ME->BROKER'"
            ])
        #expect(
            settingsProblems(initiator("SocketUseSSL=Y\nCertificateVerifyLevel=0")) == [
                "sessions.conf:10: warning: CertificateVerifyLevel=0: the server's certificate is not verified in [SESSION] 'FIX.4.4:ME->BROKER'"
            ])
    }
}

@Suite struct SettingsSecretTests {
    static let password = "hunter2-TOPSECRET"

    @Test func passwordIsNeverPrinted() throws {
        let text = initiator("Username=trader\nPassword=\(Self.password)")
        let configuration = try parseSettings(text)
        let settings = configuration.sessions[0]
        #expect(settings.password?.revealed == Self.password)
        var dumped = ""
        dump(settings, to: &dumped)
        let block = configuration.sessionBlocks[0]
        let printed = [
            settings.description, String(describing: settings), String(reflecting: settings), dumped,
            String(describing: settings.password), block.description, block["Password"]!.description,
            block["Password"]!.displayValue, ConfigurationCheck.report(configuration),
        ]
        for text in printed {
            #expect(!text.contains(Self.password), "\(text)")
        }
        #expect(settings.description.contains("password ****"))
        #expect(block["Password"]!.description == "Password=****")
    }

    @Test func diagnosticsNeverQuoteAPassword() {
        // A misspelt key is not known to be secret: its value is never quoted in "unknown key" errors either.
        let problems = settingsProblems(
            initiator("Pasword=\(Self.password)\nPassword=\(Self.password)\nPassword=\(Self.password)"))
        #expect(
            problems == [
                "sessions.conf:9: unknown key 'Pasword' in [SESSION] (did you mean 'Password'?)",
                "sessions.conf:11: duplicate key 'Password' in [SESSION] (first set on line 10)",
            ])
    }
}

@Suite struct SessionIDTests {
    @Test func descriptionFollowsQuickFIX() {
        #expect(SessionID(senderCompID: "ME", targetCompID: "YOU").description == "FIX.4.4:ME->YOU")
        let full = SessionID(
            senderCompID: "ME", senderSubID: "D1", targetCompID: "YOU", targetSubID: "T1", sessionQualifier: "q")
        #expect(full.description == "FIX.4.4:ME/D1->YOU/T1:q")
        #expect(full.reversed.description == "FIX.4.4:YOU/T1->ME/D1:q")
        #expect(full.reversed.reversed == full)
    }

    @Test func fileNameStemsAreSafeAndDistinct() {
        #expect(SessionID(senderCompID: "ME", targetCompID: "YOU").fileNameStem == "FIX.4.4-ME-YOU")
        #expect(
            SessionID(senderCompID: "ME", senderSubID: "D1", targetCompID: "YOU", sessionQualifier: "q").fileNameStem
                == "FIX.4.4-ME_D1-YOU-q")
        #expect(SessionID(senderCompID: "../etc", targetCompID: "a/b c").fileNameStem == "FIX.4.4-%2E.%2Fetc-a%2Fb%20c")
        // A "-" or "_" inside a CompID cannot be confused with the separators.
        let a = SessionID(senderCompID: "A-B", targetCompID: "C")
        let b = SessionID(senderCompID: "A", targetCompID: "B-C")
        let c = SessionID(senderCompID: "A", senderSubID: "B", targetCompID: "C")
        let d = SessionID(senderCompID: "A_B", targetCompID: "C")
        #expect(Set([a, b, c, d].map(\.fileNameStem)).count == 4)
        #expect(a.fileNameStem.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "._-%".contains($0)) })
    }

    @Test func identitiesOrderAndHash() {
        let a = SessionID(senderCompID: "A", targetCompID: "B")
        let aq = SessionID(senderCompID: "A", targetCompID: "B", sessionQualifier: "q")
        #expect(a < aq)
        #expect(a != aq)
        #expect(Set([a, aq, a]).count == 2)
    }
}
