import FIXCore
import FIXSession

/// Receives in-sequence ExecutionReports through a logged-on ``SessionStateMachine``, as the agent's
/// sessions receive a provider's fills: sequence number, CompIDs, SendingTime, validation, and the
/// actions that deliver the message. What every inbound message costs before the engine sees it.
struct SessionReceiver {
    /// Logged on and expecting 2: each pass starts from a copy of it (a value).
    private let loggedOn: SessionStateMachine
    private let messages: [FIXMessage]
    private let now: SessionTime

    /// `count` fills from BROKER to COPYBRIDGE, numbered from 2 (the Logon is 1), to a session
    /// configured as the agent's are (no dictionary validator: the engine checks what it reads).
    init(count: Int) {
        let sendingTime = UTCTimestamp("20261126-09:30:00.123")!
        now = SessionTime(utc: sendingTime, monotonicNanoseconds: 1_000_000_000)
        let configuration = SessionConfiguration(
            identity: SessionIdentity(senderCompID: "COPYBRIDGE", targetCompID: "BROKER"), connectionType: .acceptor)
        var machine = SessionStateMachine(configuration: configuration)
        _ = machine.connected(at: now)
        var logon = FIXMessageBuilder(msgType: "A")
        Self.header(&logon, seq: 1, at: sendingTime)
        logon.set(FIXTag.encryptMethod, 0)
        logon.set(FIXTag.heartBtInt, 30)
        _ = machine.received(logon.build(), at: now)
        precondition(machine.isLoggedOn, "the benchmark's Logon was refused")
        loggedOn = machine
        messages = (0..<count).map { k in
            var b = FIXMessageBuilder(msgType: "8")
            Self.header(&b, seq: k + 2, at: sendingTime)
            b.set(FIXTag.account, "ALICE-01")
            b.set(FIXTag.avgPx, FixedDecimal(mantissa: 108_530, scale: 5))
            b.set(FIXTag.clOrdID, "P-\(k)")
            b.set(FIXTag.cumQty, 50_000)
            b.set(FIXTag.execID, "TP436K-E\(k)")
            b.set(FIXTag.lastPx, FixedDecimal(mantissa: 108_530, scale: 5))
            b.set(FIXTag.lastQty, 50_000)
            b.set(FIXTag.orderID, "TP436K")
            b.set(FIXTag.orderQty, 50_000)
            b.set(FIXTag.ordStatus, Character("2"))
            b.set(FIXTag.side, Character("2"))
            b.set(FIXTag.symbol, "EUR/USD")
            b.set(FIXTag.transactTime, sendingTime)
            b.set(FIXTag.execType, Character("F"))
            b.set(FIXTag.leavesQty, 0)
            return b.build()
        }
    }

    private static func header(_ b: inout FIXMessageBuilder, seq: Int, at time: UTCTimestamp) {
        b.set(FIXTag.msgSeqNum, seq)
        b.set(FIXTag.senderCompID, "BROKER")
        b.set(FIXTag.sendingTime, time)
        b.set(FIXTag.targetCompID, "COPYBRIDGE")
    }

    /// Receives every message once, from sequence number 2 again; returns how many were delivered.
    func pass() -> Int {
        var machine = loggedOn
        var delivered = 0
        for message in messages {
            for action in machine.received(message, at: now) {
                if case .deliver = action { delivered &+= 1 }
            }
        }
        return delivered
    }
}
