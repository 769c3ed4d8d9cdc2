import FIXCore
import FIXSession
import Foundation
import Testing

@Suite struct SettingsParserTests {
    @Test func loadsTheExampleWithInheritance() throws {
        let dir = try TemporaryDirectory()
        let file = try dir.write("sessions.conf", exampleSettings)
        try dir.write("certs/ca.pem", "-----BEGIN CERTIFICATE-----\n")
        let configuration = try CopyBridgeConfiguration.load(path: file, schema: SessionSettings.schema)
        #expect(configuration.warnings.isEmpty)
        #expect(configuration.sessions.map(\.name) == ["alpha-orders", "beta-dropcopy", "sim"])

        let alpha = try #require(configuration.session(named: "alpha-orders"))
        #expect(alpha.id == SessionID(senderCompID: "COPYBRIDGE", targetCompID: "ALPHA"))
        #expect(alpha.connectionType == .initiator)
        #expect(alpha.heartbeatIntervalSeconds == 30)  // from [DEFAULT]
        #expect(alpha.reconnectIntervalSeconds == 5)
        #expect(alpha.logonTimeoutSeconds == 10)  // QuickFIX's default
        #expect(
            alpha.connectAddresses == [
                HostAndPort(host: "fix.alpha.example", port: 9876), HostAndPort(host: "fix2.alpha.example", port: 9877),
            ])
        #expect(alpha.username == "copybridge")
        #expect(alpha.password?.revealed == "s3cr#t")
        #expect(
            alpha.fileStorePath
                == URL(fileURLWithPath: dir.path).appendingPathComponent("store").standardizedFileURL.path)
        #expect(alpha.fileStoreSync == .always)
        #expect(
            alpha.schedule
                == SessionSchedule(
                    .daily(start: TimeOfDay(hour: 22, minute: 0)!, end: TimeOfDay(hour: 21, minute: 55)!)))
        #expect(alpha.tls == nil)
        #expect(alpha.location == SourceLocation(file: file, line: 14))

        let beta = try #require(configuration.session(named: "beta-dropcopy"))
        #expect(beta.id.targetSubID == "DROPCOPY")
        #expect(beta.schedule.timeZone.identifier == "America/New_York")
        #expect(
            beta.schedule.window
                == .weekly(
                    startDay: .sunday, start: TimeOfDay(hour: 17, minute: 0)!, endDay: .friday,
                    end: TimeOfDay(hour: 17, minute: 0)!))
        let tls = try #require(beta.tls)
        #expect(tls.trustRootsFile?.hasSuffix("/certs/ca.pem") == true)
        #expect(tls.serverName == "fix.beta.example")
        #expect(tls.peerVerification == .required)
        #expect(tls.minimumVersion == .v1_2)

        let sim = try #require(configuration.session(named: "sim"))
        #expect(sim.connectionType == .acceptor)
        #expect(sim.id == SessionID(senderCompID: "SIMBROKER", targetCompID: "COPYBRIDGE"))
        #expect(sim.acceptPort == 0)
        #expect(sim.schedule == .nonStop)
        #expect(sim.fileStoreSync == .never)
        #expect(sim.connectAddresses.isEmpty)
    }

    @Test func aQuickFIXCppClientFileWorksUnchanged() throws {
        // The shape of QuickFIX's sample client and executor configurations, untouched.
        let text = """
            # default settings for sessions
            [DEFAULT]
            ConnectionType=initiator
            ReconnectInterval=60
            SenderCompID=CLIENT1
            FileStorePath=store
            FileLogPath=log
            StartTime=00:00:00
            EndTime=00:00:00
            UseDataDictionary=Y
            DataDictionary=spec/FIX44.xml
            ScreenLogShowIncoming=N
            ScreenLogShowOutgoing=N

            # session definition
            [SESSION]
            # inherit ConnectionType, ReconnectInterval and SenderCompID from default
            BeginString=FIX.4.4
            TargetCompID=EXECUTOR
            SocketConnectHost=localhost
            SocketConnectPort=5001
            HeartBtInt=30
            ResetOnLogon=Y
            ResetOnLogout=Y
            ResetOnDisconnect=Y
            """
        let configuration = try parseSettings(text, existing: ["/cfg/spec/FIX44.xml"])
        #expect(configuration.warnings.map(\.location.line) == [12, 13])
        let session = configuration.sessions[0]
        #expect(session.id == SessionID(senderCompID: "CLIENT1", targetCompID: "EXECUTOR"))
        #expect(session.reconnectIntervalSeconds == 60)
        #expect(session.dataDictionary == "/cfg/spec/FIX44.xml")
        #expect(session.fileLogPath == "/cfg/log")
        #expect(session.resetOnLogon && session.resetOnLogout && session.resetOnDisconnect)
        #expect(
            session.schedule.period(containing: UTCTimestamp("20240305-12:00:00")!)?.start == UTCTimestamp(
                "20240305-00:00:00")!)
    }

    @Test func entriesKeepTheirLinesAndWhetherTheyWereInherited() throws {
        let configuration = try parseSettings(
            """
            [DEFAULT]
            HeartBtInt=20
            ConnectionType=initiator

            \(initiator("ResetOnLogon=Y"))
            """)
        let block = configuration.sessionBlocks[0]
        let own = try #require(block["ResetOnLogon"])
        #expect(own.location == SourceLocation(file: "sessions.conf", line: 13))
        #expect(!own.isInherited)
        // The session's own HeartBtInt overrides [DEFAULT]'s.
        #expect(block["HeartBtInt"]?.location.line == 10)
        #expect(block["HeartBtInt"]?.rawValue == "30")
        #expect(configuration.sessions[0].heartbeatIntervalSeconds == 30)
        #expect(configuration.sessions[0].resetOnLogon)
        #expect(block.location(of: "ConnectionType").line == 9)
        #expect(block.location(of: "NoSuchKey").line == 5)
    }

    @Test func defaultValuesFillInInheritedBlocks() throws {
        let configuration = try parseSettings(
            """
            [DEFAULT]
            ConnectionType=initiator
            HeartBtInt=45
            ResetOnLogout=Y
            [SESSION]
            BeginString=FIX.4.4
            SenderCompID=ME
            TargetCompID=YOU
            SocketConnectHost=localhost
            SocketConnectPort=1234
            """)
        let session = configuration.sessions[0]
        #expect(session.heartbeatIntervalSeconds == 45)
        #expect(session.resetOnLogout)
        #expect(!session.resetOnLogon)
        #expect(session.persistMessages)
        #expect(session.maxLatencySeconds == 120)
        #expect(session.timestampPrecision == .milliseconds)
        #expect(session.name == "FIX.4.4:ME->YOU")
        #expect(configuration.sessionBlocks[0]["HeartBtInt"]?.isInherited == true)
        #expect(configuration.sessionBlocks[0].integer("LogoutTimeout") == 2)
    }

    @Test func commentsWhitespaceAndLineEndings() throws {
        let text =
            "\u{FEFF}# whole-line comment\r\n"
            + "   # indented comment\r\n"
            + "\r\n"
            + "[SESSION]   # trailing comment on a header\r\n"
            + "  BeginString =  FIX.4.4  \r\n"
            + "SenderCompID\t=\tME\t# tab before the comment\r\n"
            + "TargetCompID=YOU#NOTACOMMENT\r\n"
            + "ConnectionType=acceptor # role\r\n"
            + "SocketAcceptPort=5001\r\n"
            + "Password=pa#ss # the first '#' belongs to the value\r\n"
            + "Username=#desk # a '#' right after '=' too\r\n"
        let configuration = try parseSettings(text)
        let session = configuration.sessions[0]
        #expect(session.id == SessionID(senderCompID: "ME", targetCompID: "YOU#NOTACOMMENT"))
        #expect(session.password?.revealed == "pa#ss")
        #expect(session.username == "#desk")
        #expect(session.acceptPort == 5001)
        #expect(configuration.sessionBlocks[0]["SenderCompID"]?.location.line == 6)
    }

    @Test func keysMatchCaseInsensitivelyLikeQuickFIXCpp() throws {
        let configuration = try parseSettings(initiator("resetonlogon=Y\nTIMESTAMPPRECISION=NANOS"))
        #expect(configuration.sessions[0].resetOnLogon)
        #expect(configuration.sessions[0].timestampPrecision == .nanoseconds)
        #expect(configuration.sessionBlocks[0]["ResetOnLogon"]?.key == "ResetOnLogon")
    }

    @Test func unknownKeySuggestsTheNearestKnownKey() {
        var lines = Array(repeating: "# filler", count: 3)
        lines += initiator().split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        lines[11] = "HeartbeatInt=30"  // line 12
        #expect(
            settingsProblems(lines.joined(separator: "\n"))
                == ["sessions.conf:12: unknown key 'HeartbeatInt' in [SESSION] (did you mean 'HeartBtInt'?)"])
        #expect(
            settingsProblems(initiator("sendercompid2=X"))
                == ["sessions.conf:9: unknown key 'sendercompid2' in [SESSION] (did you mean 'SenderCompID'?)"])
        #expect(
            settingsProblems(initiator("SocketConectHost2=backup"))
                == [
                    "sessions.conf:9: unknown key 'SocketConectHost2' in [SESSION] (did you mean 'SocketConnectHost2'?)"
                ])
        #expect(
            settingsProblems(initiator("Frobnicate=Y")) == ["sessions.conf:9: unknown key 'Frobnicate' in [SESSION]"])
    }

    @Test func aMisspeltKeyIsNotAlsoReportedMissing() {
        let text = initiator().replacingOccurrences(of: "TargetCompID=", with: "TargetCompId2=")
        #expect(
            settingsProblems(text) == [
                "sessions.conf:4: unknown key 'TargetCompId2' in [SESSION] (did you mean 'TargetCompID'?)"
            ])
    }

    @Test func missingRequiredKeysNameTheBlock() {
        let text = """
            [DEFAULT]
            BeginString=FIX.4.4

            [SESSION]
            SenderCompID=ME
            HeartBtInt=30
            """
        #expect(
            settingsProblems(text) == [
                "sessions.conf:4: missing required key 'TargetCompID' in [SESSION]",
                "sessions.conf:4: missing required key 'ConnectionType' in [SESSION]",
            ])
    }

    @Test(arguments: [
        ("LogonTimeout=abc", "bad value 'abc' for 'LogonTimeout' in [SESSION]: expected an integer from 1 to 3600"),
        ("LogonTimeout=99999", "bad value '99999' for 'LogonTimeout' in [SESSION]: expected an integer from 1 to 3600"),
        ("SocketNodelay=maybe", "bad value 'maybe' for 'SocketNodelay' in [SESSION]: expected Y or N"),
        (
            "FileStoreSync=sometimes",
            "bad value 'sometimes' for 'FileStoreSync' in [SESSION]: expected always, batch or never"
        ),
        (
            "StartTime=25:00:00",
            "bad value '25:00:00' for 'StartTime' in [SESSION]: expected a time HH:MM:SS, optionally followed by a time zone name"
        ),
        (
            "StartTime=09:00:00 Mars/Base",
            "bad value '09:00:00 Mars/Base' for 'StartTime' in [SESSION]: unknown time zone 'Mars/Base'"
        ),
        ("StartDay=Funday", "bad value 'Funday' for 'StartDay' in [SESSION]: expected a day name (Monday, Mon, ...)"),
        (
            "TimeZone=Mars/Base",
            "bad value 'Mars/Base' for 'TimeZone' in [SESSION]: expected an IANA time zone name (e.g. America/New_York), UTC or Local"
        ),
        (
            "SocketConnectPort1=70000",
            "bad value '70000' for 'SocketConnectPort1' in [SESSION]: expected a TCP port from 1 to 65535"
        ),
        (
            "SocketAcceptHost=bad host!",
            "bad value 'bad host!' for 'SocketAcceptHost' in [SESSION]: expected a host name or IP address"
        ),
        (
            "SessionName=has space",
            "bad value 'has space' for 'SessionName' in [SESSION]: expected a name of at most 64 letters, digits, '.', '_' or '-'"
        ),
        (
            "TimestampPrecision=4",
            "bad value '4' for 'TimestampPrecision' in [SESSION]: expected 0, 3, 6, 9, SECONDS, MILLIS, MICROS or NANOS"
        ),
        (
            "DataDictionary=FIX44.xml",
            "bad value 'FIX44.xml' for 'DataDictionary' in [SESSION]: file '/cfg/FIX44.xml' does not exist"
        ),
        (
            "SSLProtocol=-all +SSLv3",
            "bad value '-all +SSLv3' for 'SSLProtocol' in [SESSION]: expected protocols like 'all -SSLv3 -TLSv1' or '+TLSv1.2 +TLSv1.3' enabling a TLS version"
        ),
        ("SenderSubID=", "no value for 'SenderSubID' in [SESSION]: expected a non-empty value"),
        ("SenderSubID=  # only a comment", "no value for 'SenderSubID' in [SESSION]: expected a non-empty value"),
    ])
    func badValuesNameFileLineKeyAndExpectation(line: String, message: String) {
        #expect(settingsProblems(initiator(line)) == ["sessions.conf:9: \(message)"])
    }

    @Test func beginStringMustBeFIX44() {
        let text = initiator().replacingOccurrences(of: "FIX.4.4", with: "FIX.4.2")
        #expect(
            settingsProblems(text) == [
                "sessions.conf:2: bad value 'FIX.4.2' for 'BeginString' in [SESSION]: expected FIX.4.4"
            ])
    }

    @Test func duplicateKeysAndBlocks() {
        let text = """
            [DEFAULT]
            HeartBtInt=30
            [DEFAULT]
            HeartBtInt=31
            \(initiator("HeartBtInt=60"))
            """
        #expect(
            settingsProblems(text) == [
                "sessions.conf:3: [DEFAULT] may appear once; the first is at line 1",
                "sessions.conf:13: duplicate key 'HeartBtInt' in [SESSION] (first set on line 10)",
            ])
    }

    @Test func syntaxErrors() {
        let text = """
            BeginString=FIX.4.4
            [SESSION
            [SESSION]
            just some words
            =value
            [SESION]
            Foo=bar
            """
        #expect(
            settingsProblems(text) == [
                "sessions.conf:1: 'BeginString' is outside any block (add [DEFAULT] or [SESSION] above it)",
                "sessions.conf:2: malformed block header '[SESSION' (expected [NAME])",
                "sessions.conf:3: missing required key 'BeginString' in [SESSION]",
                "sessions.conf:3: missing required key 'SenderCompID' in [SESSION]",
                "sessions.conf:3: missing required key 'TargetCompID' in [SESSION]",
                "sessions.conf:3: missing required key 'ConnectionType' in [SESSION]",
                "sessions.conf:4: expected Key=Value, a [BLOCK] header or a # comment, found 'just some words'",
                "sessions.conf:5: malformed key '' (expected letters and digits before '=')",
                "sessions.conf:6: unknown block [SESION] (did you mean [SESSION]?); known blocks: [DEFAULT], [SESSION]",
            ])
    }

    @Test func everyErrorIsReportedInFileOrder() {
        let text = """
            [SESSION]
            BeginString=FIX.4.4
            SenderCompID=ME
            TargetCompID=YOU
            ConnectionType=initiator
            HeartBtInt=-1
            SocketConnectHost=localhost
            SocketConnectPort=0
            StartTime=08:00:00
            LogonTimout=10
            ResetOnLogon=perhaps
            """
        let problems = settingsProblems(text)
        #expect(
            problems == [
                "sessions.conf:6: bad value '-1' for 'HeartBtInt' in [SESSION]: expected an integer from 0 to 3600",
                "sessions.conf:8: bad value '0' for 'SocketConnectPort' in [SESSION]: expected a TCP port from 1 to 65535",
                "sessions.conf:9: StartTime without EndTime (give both, or NonStopSession=Y) in [SESSION] 'FIX.4.4:ME->YOU'",
                "sessions.conf:10: unknown key 'LogonTimout' in [SESSION] (did you mean 'LogonTimeout'?)",
                "sessions.conf:11: bad value 'perhaps' for 'ResetOnLogon' in [SESSION]: expected Y or N",
            ])
    }

    @Test func crossKeyErrorsComeTogetherWithValueErrors() {
        let text = """
            [SESSION]
            BeginString=FIX.4.4
            SenderCompID=ME
            TargetCompID=YOU
            ConnectionType=initiator
            StartTime=08:00:00
            ResetOnLogon=perhaps
            """
        #expect(
            settingsProblems(text) == [
                "sessions.conf:1: [SESSION] 'FIX.4.4:ME->YOU' is an initiator but has no SocketConnectHost",
                "sessions.conf:1: [SESSION] 'FIX.4.4:ME->YOU' is an initiator but has no SocketConnectPort",
                "sessions.conf:1: [SESSION] 'FIX.4.4:ME->YOU' is an initiator but has no HeartBtInt",
                "sessions.conf:6: StartTime without EndTime (give both, or NonStopSession=Y) in [SESSION] 'FIX.4.4:ME->YOU'",
                "sessions.conf:7: bad value 'perhaps' for 'ResetOnLogon' in [SESSION]: expected Y or N",
            ])
    }

    @Test func quickFIXKeysWithoutEffectWarnAndUnsupportedOnesFail() throws {
        let configuration = try parseSettings(initiator("ScreenLogShowIncoming=Y"))
        #expect(
            configuration.warnings.map(\.description) == [
                "sessions.conf:9: warning: QuickFIX key 'ScreenLogShowIncoming' has no effect in CopyBridge: CopyBridge has no screen log; see FileLogPath."
            ])
        #expect(
            settingsProblems(initiator("LogonTime=08:00:00")) == [
                "sessions.conf:9: QuickFIX key 'LogonTime' is not supported: logon windows inside a session are not supported; use StartTime/EndTime."
            ])
    }

    @Test func unknownFileIsAnError() {
        do {
            _ = try CopyBridgeConfiguration.load(path: "/nonexistent/sessions.conf", schema: SessionSettings.schema)
            Issue.record("loaded a file that does not exist")
        } catch {
            #expect(error.description == "/nonexistent/sessions.conf: settings file does not exist")
        }
    }
}

/// Another module's block kind, keys and cross-block rule, as CopyEngine will register them.
private let providerSchema = SettingsSchema(
    blockKinds: [.init(.provider, doc: "A signal provider.")],
    keys: [
        SettingKey("ProviderName", in: [.provider], .name, required: true, doc: "Provider name."),
        SettingKey("Session", in: [.provider], .name, required: true, doc: "SessionName of the drop copy."),
        SettingKey("Accounts", in: [.provider], .list(.string), doc: "Accounts to watch."),
        SettingKey(
            "MaxLeverage", in: [.provider], .decimal(FixedDecimal(1)...FixedDecimal(100)), default: "10",
            doc: "Leverage cap."),
        SettingKey("Enabled", in: [.provider], .bool, default: "Y", doc: "Copy this provider."),
    ],
    validators: [
        { configuration in
            configuration.blocks(of: .provider).compactMap { block in
                guard let session = block.string("Session"), configuration.session(named: session) == nil else {
                    return nil
                }
                return block.diagnostic(for: "Session", "no session is named '\(session)'")
            }
        }
    ])

@Suite struct SettingsSchemaCompositionTests {
    let schema = SettingsSchema.composed([SessionSettings.schema, providerSchema])

    @Test func otherBlockKindsKeepTypedValuesAndLocations() throws {
        let text = """
            \(initiator("SessionName=alpha"))
            [PROVIDER]
            ProviderName=star
            Session=alpha
            Accounts=A1, A2 ,A3
            MaxLeverage=12.5
            """
        let configuration = try parseSettings(text, schema: schema)
        let provider = try #require(configuration.blocks(of: .provider).first)
        #expect(provider.location.line == 10)
        #expect(provider.string("ProviderName") == "star")
        #expect(provider.list("Accounts") == [.string("A1"), .string("A2"), .string("A3")])
        #expect(provider.decimal("MaxLeverage") == FixedDecimal("12.5"))
        #expect(provider["MaxLeverage"]?.location == SourceLocation(file: "sessions.conf", line: 14))
        #expect(provider.bool("Enabled") == true)  // default
        #expect(!provider.contains("Enabled"))
        #expect(configuration.blocks(of: .simulator).isEmpty)
    }

    @Test func otherBlockKindsReportEveryErrorClass() {
        let text = """
            \(initiator("SessionName=alpha"))
            [PROVIDER]
            Session=beta
            MaxLevrage=12
            HeartBtInt=30
            Accounts=A1,,A3
            [PROVIDER]
            ProviderName=moon
            Session=alpha
            MaxLeverage=1000
            """
        #expect(
            settingsProblems(text, schema: schema) == [
                "sessions.conf:10: missing required key 'ProviderName' in [PROVIDER]",
                "sessions.conf:12: unknown key 'MaxLevrage' in [PROVIDER] (did you mean 'MaxLeverage'?)",
                "sessions.conf:13: key 'HeartBtInt' is not allowed in [PROVIDER] (it belongs in [DEFAULT] or [SESSION])",
                "sessions.conf:14: bad value 'A1,,A3' for 'Accounts' in [PROVIDER]: '' is not a non-empty value",
                "sessions.conf:18: bad value '1000' for 'MaxLeverage' in [PROVIDER]: expected a decimal number from 1 to 100",
            ])
    }

    @Test func validatorsSeeTheWholeConfiguration() {
        let text = """
            \(initiator("SessionName=alpha"))
            [PROVIDER]
            ProviderName=star
            Session=beta
            """
        #expect(settingsProblems(text, schema: schema) == ["sessions.conf:12: no session is named 'beta'"])
    }

    @Test func referenceDocumentsEveryKey() {
        let reference = schema.markdownReference()
        for key in schema.keys {
            #expect(!key.doc.isEmpty)
            #expect(reference.contains("`\(key.name)`"), "\(key.name)")
        }
        #expect(reference.contains("### [SESSION]"))
        #expect(reference.contains("### [PROVIDER]"))
        #expect(reference.contains("| `HeartBtInt` | int 0..3600 |  |"))
        #expect(reference.contains("| `SocketNodelay` | Y/N | `Y` |"))
        #expect(reference.contains("`SocketConnectHost`, `SocketConnectHost`*n*"))
        #expect(schema.keys(allowedIn: .default).count == schema.keys(allowedIn: .session).count)
    }
}
