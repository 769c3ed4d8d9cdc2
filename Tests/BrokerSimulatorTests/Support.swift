import FIXCore
import Testing

@testable import BrokerSimulator

/// 2026-03-02 09:00:00.000 UTC, a Monday.
let t0 = UTCTimestamp(year: 2026, month: 3, day: 2, hour: 9)!

/// `t0` plus `ms` milliseconds.
func at(_ ms: Int64) -> UTCTimestamp {
    UTCTimestamp(nanosecondsSinceEpoch: t0.nanosecondsSinceEpoch + ms * 1_000_000, precision: .milliseconds)
}

let client = SimSessionKey(senderCompID: "SIM", targetCompID: "CLIENT")
let client2 = SimSessionKey(senderCompID: "SIM", targetCompID: "CLIENT2")

func dec(_ s: String) -> FixedDecimal { FixedDecimal(s)! }

/// A broker with still prices (EUR/USD 1.0850/1.0852, USD/JPY 151.20/151.22), no latency and no
/// day end unless the test says otherwise.
func makeBroker(
    fill: SimFillModel = SimFillModel(), sessions: [SimSessionKey: SimSessionConfiguration] = [:],
    bots: [SimBotConfiguration] = [], seed: UInt64 = 7, priceTickMs: Int = 0, dayEnd: Int64? = nil,
    limits: SimAccountLimits = SimAccountLimits(), accountEquity: [String: FixedDecimal] = [:]
) -> SimulatedBroker {
    let instruments = [
        SimInstrument(symbol: "EUR/USD", initialPrice: dec("1.0850"), tickSize: dec("0.0001"), spreadTicks: 2),
        SimInstrument(symbol: "USD/JPY", initialPrice: dec("151.20"), tickSize: dec("0.01"), spreadTicks: 2),
    ]
    let config = SimulatorConfiguration(
        instruments: instruments, randomSeed: seed, priceTickMs: priceTickMs, maxTicksPerStep: 2,
        quoteSize: 1_000_000, dayEndNanos: dayEnd, idPrefix: "T",
        defaultSession: SimSessionConfiguration(fillModel: fill, limits: limits), sessions: sessions, bots: bots,
        accountEquity: accountEquity)
    return SimulatedBroker(configuration: config, start: t0)
}

/// Builds an inbound message with a session header, as the session layer would hand it over.
func inbound(_ msgType: String, seq: Int = 2, _ fields: [(Int, String)], header: [(Int, String)] = []) -> FIXMessage {
    var b = FIXMessageBuilder(msgType: msgType)
    b.set(FIXTag.senderCompID, "CLIENT")
    b.set(FIXTag.targetCompID, "SIM")
    b.set(FIXTag.msgSeqNum, seq)
    b.set(FIXTag.sendingTime, t0)
    for (tag, value) in header { b.set(tag, value) }
    for (tag, value) in fields { b.append(tag, value) }
    return b.build()
}

func newOrder(
    _ clOrdID: String, side: String = "1", qty: String = "100000", type: String = "1", price: String? = nil,
    stop: String? = nil, tif: String? = nil, symbol: String = "EUR/USD", account: String? = "ACC"
) -> FIXMessage {
    var fields: [(Int, String)] = [(FIXTag.clOrdID, clOrdID)]
    if let account { fields.append((FIXTag.account, account)) }
    fields += [(FIXTag.symbol, symbol), (FIXTag.side, side), (FIXTag.orderQty, qty), (FIXTag.ordType, type)]
    if let price { fields.append((FIXTag.price, price)) }
    if let stop { fields.append((FIXTag.stopPx, stop)) }
    if let tif { fields.append((FIXTag.timeInForce, tif)) }
    fields.append((FIXTag.transactTime, t0.description))
    return inbound("D", fields)
}

func cancelRequest(_ clOrdID: String, orig: String, orderID: String? = nil) -> FIXMessage {
    var fields: [(Int, String)] = [(FIXTag.clOrdID, clOrdID), (FIXTag.origClOrdID, orig)]
    if let orderID { fields.append((FIXTag.orderID, orderID)) }
    fields += [(FIXTag.symbol, "EUR/USD"), (FIXTag.side, "1"), (FIXTag.orderQty, "100000")]
    return inbound("F", fields)
}

func replaceRequest(
    _ clOrdID: String, orig: String, qty: String, price: String? = nil, side: String = "1", type: String = "2"
) -> FIXMessage {
    var fields: [(Int, String)] = [
        (FIXTag.clOrdID, clOrdID), (FIXTag.origClOrdID, orig), (FIXTag.symbol, "EUR/USD"), (FIXTag.side, side),
        (FIXTag.orderQty, qty), (FIXTag.ordType, type),
    ]
    if let price { fields.append((FIXTag.price, price)) }
    return inbound("G", fields)
}

/// The outputs as (session, decoded message) pairs.
func decoded(_ outputs: [SimOutput]) -> [(SimSessionKey, FIXMessage)] {
    outputs.map { ($0.session, $0.message.build()) }
}

/// Only the messages, in order.
func messages(_ outputs: [SimOutput]) -> [FIXMessage] { outputs.map { $0.message.build() } }

/// The ExecTypes of a list of ExecutionReports, e.g. "0F".
func execTypes(_ outputs: [SimOutput]) -> String {
    messages(outputs).map { $0[FIXTag.execType] ?? "?" }.joined()
}

/// The wire bytes of every output, session by session, for byte-for-byte comparisons.
func wireText(_ outputs: [SimOutput]) -> [String] {
    outputs.map { "\($0.session) \($0.message.build().debugDescription)" }
}
