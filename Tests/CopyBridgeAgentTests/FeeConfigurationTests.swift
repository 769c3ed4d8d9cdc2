import FIXCore
import FIXSession
import Foundation
import Ledger
import Testing

@testable import CopyBridgeAgent

/// A valid file with two followers of alice; `bob` and `carl` are added inside their blocks.
private func feeSettings(bob: String, carl: String = "") -> String {
    """
    [DEFAULT]
    BeginString=FIX.4.4
    ConnectionType=initiator
    HeartBtInt=30
    SocketConnectHost=127.0.0.1
    SocketConnectPort=0
    Simulator=Y

    [SESSION]
    SessionName=drop
    SenderCompID=A
    TargetCompID=BRK
    DropCopyFor=ALICE

    [SESSION]
    SessionName=orders
    SenderCompID=B
    TargetCompID=BRK

    [PROVIDER]
    ProviderID=alice
    SessionName=drop
    Account=ALICE

    [FOLLOWER]
    FollowerID=bob
    Provider=alice
    SessionName=orders
    Account=BOB
    \(bob)

    [FOLLOWER]
    FollowerID=carl
    Provider=alice
    SessionName=orders
    Account=CARL
    \(carl)
    """
}

private func parse(_ text: String) throws(SettingsError) -> CopyBridgeConfiguration {
    try CopyBridgeConfiguration.parse(
        text, file: "fees.conf", baseDirectory: "/tmp", schema: CopyBridgeSchema.schema, fileExists: { _ in true })
}

@Suite("Fee configuration")
struct FeeConfigurationTests {
    @Test("fee keys in [FOLLOWER] become the ledger's terms, percentages as fractions; unwritten keys are no fee")
    func goodValues() throws {
        let text = feeSettings(
            bob: """
                PerformanceFeePct=20
                FeePeriod=Quarterly
                OnWithdrawal=crystallise
                ManagementFeePct=1.5
                VolumeFeePerMillion=12.5
                PlatformSharePct=30
                """,
            carl: "VolumeFeePerMillion=0")
        let configuration = try AgentConfiguration(try parse(text))
        #expect(
            configuration.feeTerms["bob"]
                == FeeTerms(
                    performanceRate: FixedDecimal("0.2")!, period: .quarterly, onWithdrawal: .crystallise,
                    managementRatePerYear: FixedDecimal("0.015")!, volumeFeePerMillion: FixedDecimal("12.5")!,
                    platformShare: FixedDecimal("0.3")!))
        #expect(configuration.feeTerms["carl"] == FeeTerms())
        #expect(
            configuration.feeTerms["carl"]?.period == .monthly && configuration.feeTerms["carl"]?.onWithdrawal == .hold)
        // The bounds are included.
        let bounds = try AgentConfiguration(
            try parse(feeSettings(bob: "PerformanceFeePct=100\nPlatformSharePct=0\nManagementFeePct=100")))
        #expect(bounds.feeTerms["bob"]?.performanceRate == .one)
        #expect(bounds.feeTerms["bob"]?.managementRatePerYear == .one)
        #expect(bounds.feeTerms["bob"]?.problem == nil)
    }

    @Test(
        "a bad fee value is reported at its file:line, naming the key and what it expects",
        arguments: [
            (
                "PerformanceFeePct=120",
                "bad value '120' for 'PerformanceFeePct' in [FOLLOWER]: expected a decimal number from 0 to 100"
            ),
            (
                "PerformanceFeePct=-5",
                "bad value '-5' for 'PerformanceFeePct' in [FOLLOWER]: expected a decimal number from 0 to 100"
            ),
            (
                "ManagementFeePct=2%",
                "bad value '2%' for 'ManagementFeePct' in [FOLLOWER]: expected a decimal number from 0 to 100"
            ),
            (
                "PlatformSharePct=100.5",
                "bad value '100.5' for 'PlatformSharePct' in [FOLLOWER]: expected a decimal number from 0 to 100"
            ),
            (
                "VolumeFeePerMillion=-1",
                "bad value '-1' for 'VolumeFeePerMillion' in [FOLLOWER]: expected a decimal number from 0 to 1000000"
            ),
            ("FeePeriod=yearly", "bad value 'yearly' for 'FeePeriod' in [FOLLOWER]: expected monthly or quarterly"),
            (
                "OnWithdrawal=charge",
                "bad value 'charge' for 'OnWithdrawal' in [FOLLOWER]: expected crystallise or hold"
            ),
        ])
    func badValues(_ line: String, _ message: String) {
        let text = feeSettings(bob: "Equity=1000", carl: line)
        let number = text.split(separator: "\n", omittingEmptySubsequences: false).firstIndex { $0.contains(line) }! + 1
        do {
            _ = try parse(text)
            Issue.record("\(line) was accepted")
        } catch {
            let found = error.errors.map(\.description)
            #expect(found == ["fees.conf:\(number): \(message)"], "\(found)")
        }
    }

    @Test("fee keys belong to [FOLLOWER]: in a provider block they are unknown")
    func onlyInFollowerBlocks() {
        let text = feeSettings(bob: "").replacingOccurrences(
            of: "Account=ALICE", with: "Account=ALICE\nPerformanceFeePct=20")
        do {
            _ = try parse(text)
            Issue.record("accepted")
        } catch {
            #expect(
                error.errors.contains {
                    $0.description.contains("'PerformanceFeePct'") && $0.description.contains("[PROVIDER]")
                })
        }
    }
}
