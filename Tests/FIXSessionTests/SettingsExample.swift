import FIXSession
import Foundation

/// The example settings file the tests load: two brokers (one with a failover address, one over TLS
/// with a weekly schedule) and the bundled simulator's acceptor.
let exampleSettings = """
    # CopyBridge example settings: two brokers and the bundled simulator.
    [DEFAULT]
    BeginString=FIX.4.4
    SenderCompID=COPYBRIDGE
    ConnectionType=initiator
    HeartBtInt=30
    ReconnectInterval=5
    FileStorePath=store
    FileLogPath=log
    StartTime=22:00:00
    EndTime=21:55:00      # daily, across midnight
    TimeZone=UTC

    [SESSION]
    SessionName=alpha-orders
    TargetCompID=ALPHA
    SocketConnectHost=fix.alpha.example
    SocketConnectPort=9876
    SocketConnectHost1=fix2.alpha.example
    SocketConnectPort1=9877
    Username=copybridge
    Password=s3cr#t       # the '#' without a space before it belongs to the password

    [SESSION]   # drop copy over TLS, FX week in New York
    SessionName=beta-dropcopy
    TargetCompID=BETA
    TargetSubID=DROPCOPY
    SocketConnectHost=127.0.0.1
    SocketConnectPort=9880
    StartDay=Sunday
    EndDay=Friday
    StartTime=17:00:00
    EndTime=17:00:00
    TimeZone=America/New_York
    SocketUseSSL=Y
    SocketCAFile=certs/ca.pem
    SocketServerName=fix.beta.example

    [SESSION]
    SessionName=sim
    SenderCompID=SIMBROKER
    TargetCompID=COPYBRIDGE
    ConnectionType=acceptor
    SocketAcceptPort=0
    NonStopSession=Y
    FileStoreSync=never

    """

/// Parses settings text as `sessions.conf` in `/cfg`, where only `existing` files exist.
func parseSettings(
    _ text: String, existing: Set<String> = [], schema: SettingsSchema = SessionSettings.schema
) throws(SettingsError) -> CopyBridgeConfiguration {
    try CopyBridgeConfiguration.parse(
        text, file: "sessions.conf", baseDirectory: "/cfg", schema: schema, fileExists: { existing.contains($0) })
}

/// The diagnostics settings text produces, `file:line: message` each; empty when it loads cleanly.
func settingsProblems(
    _ text: String, existing: Set<String> = [], schema: SettingsSchema = SessionSettings.schema
)
    -> [String]
{
    do {
        return try parseSettings(text, existing: existing, schema: schema).warnings.map(\.description)
    } catch {
        return error.diagnostics.map(\.description)
    }
}

/// A minimal valid initiator block, to which tests add lines.
func initiator(_ extra: String = "", target: String = "BROKER") -> String {
    """
    [SESSION]
    BeginString=FIX.4.4
    SenderCompID=ME
    TargetCompID=\(target)
    ConnectionType=initiator
    HeartBtInt=30
    SocketConnectHost=localhost
    SocketConnectPort=9876
    \(extra)
    """
}
