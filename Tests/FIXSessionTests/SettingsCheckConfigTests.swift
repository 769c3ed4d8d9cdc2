import FIXSession
import Foundation
import Testing

@Suite struct SettingsCheckConfigTests {
    @Test func validFileListsItsSessions() throws {
        let dir = try TemporaryDirectory()
        let file = try dir.write("sessions.conf", exampleSettings)
        try dir.write("certs/ca.pem", "-----BEGIN CERTIFICATE-----\n")
        let result = ConfigurationCheck.run(path: file, schema: SessionSettings.schema)
        #expect(result.isValid)
        #expect(result.diagnostics.isEmpty)
        #expect(result.configuration?.sessions.count == 3)
        let lines = result.report.split(separator: "\n").map {
            $0.split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ")
        }
        #expect(
            lines == [
                "\(file): valid, 3 sessions",
                "NAME IDENTITY ROLE ADDRESS SCHEDULE TLS",
                "alpha-orders FIX.4.4:COPYBRIDGE->ALPHA initiator fix.alpha.example:9876 (+1 failover) daily 22:00:00-21:55:00 UTC no",
                "beta-dropcopy FIX.4.4:COPYBRIDGE->BETA/DROPCOPY initiator 127.0.0.1:9880 weekly Sun 17:00:00-Fri 17:00:00 America/New_York yes",
                "sim FIX.4.4:SIMBROKER->COPYBRIDGE acceptor listen *:0 non-stop no",
            ])
        // Columns line up.
        let raw = result.report.split(separator: "\n")
        let column = raw[1].range(of: "IDENTITY")!.lowerBound.utf16Offset(in: raw[1])
        #expect(raw[2].dropFirst(column).hasPrefix("FIX.4.4:COPYBRIDGE->ALPHA"))
    }

    @Test func invalidFileReportsEveryErrorWithItsLine() throws {
        let dir = try TemporaryDirectory()
        // The example without its CA file, with a typo and a bad value.
        let broken =
            exampleSettings
            .replacingOccurrences(of: "HeartBtInt=30", with: "HeartbeatInt=30")
            .replacingOccurrences(of: "ReconnectInterval=5", with: "ReconnectInterval=soon")
        let file = try dir.write("sessions.conf", broken)
        let result = ConfigurationCheck.run(path: file, schema: SessionSettings.schema)
        #expect(!result.isValid)
        #expect(result.configuration == nil)
        let ca = URL(fileURLWithPath: dir.path).appendingPathComponent("certs/ca.pem").standardizedFileURL.path
        #expect(
            result.diagnostics.map(\.description) == [
                "\(file):6: unknown key 'HeartbeatInt' in [DEFAULT] (did you mean 'HeartBtInt'?)",
                "\(file):7: bad value 'soon' for 'ReconnectInterval' in [DEFAULT]: expected an integer from 1 to 3600",
                "\(file):36: SocketCAFile '\(ca)' does not exist in [SESSION] 'beta-dropcopy'",
            ])
        #expect(result.report == "\(file): invalid, 3 errors\n")
    }

    @Test func warningsKeepAFileValid() throws {
        let dir = try TemporaryDirectory()
        let file = try dir.write("sessions.conf", initiator("ScreenLogShowEvents=Y\nHttpAcceptPort=8080"))
        let result = ConfigurationCheck.run(path: file, schema: SessionSettings.schema)
        #expect(result.isValid)
        #expect(result.diagnostics.map(\.severity) == [.warning, .warning])
        #expect(result.report.hasPrefix("\(file): valid, 1 session, 2 warnings\n"))
    }

    @Test func missingFile() throws {
        let dir = try TemporaryDirectory()
        let file = dir.path + "/absent.conf"
        let result = ConfigurationCheck.run(path: file, schema: SessionSettings.schema)
        #expect(!result.isValid)
        #expect(result.diagnostics.map(\.description) == ["\(file): settings file does not exist"])
    }
}
