import FIXCore

/// The codec benchmark's corpus (Benchmarks/corpus/fix44-broker.txt), generated with the encoder
/// so every BodyLength and CheckSum is right: broker ExecutionReports with parties and fees,
/// order rejects, orders, cancels and replaces, session messages and market data.
///
/// Regenerate with `swift run copybridge bench codec-corpus --output Benchmarks/corpus/fix44-broker.txt`.
public enum CodecCorpus {
    static let symbols = ["EUR/USD", "GBP/USD", "USD/JPY", "XAU/USD", "AAPL", "MSFT", "US500", "BTC/USD"]
    static let prices = ["1.08452", "1.26718", "151.302", "2331.45", "189.84", "415.10", "5204.5", "64210.50"]

    static func ts(_ second: Int, _ millis: Int = 0) -> UTCTimestamp {
        UTCTimestamp(
            year: 2026, month: 11, day: 26, hour: 9, minute: 30 + second / 60, second: second % 60,
            nanosecond: millis * 1_000_000)!
    }

    static func header(_ b: inout FIXMessageBuilder, seq: Int, sender: String = "BROKER", target: String = "COPYBRIDGE")
    {
        b.set(FIXTag.senderCompID, sender)
        b.set(FIXTag.targetCompID, target)
        b.set(FIXTag.msgSeqNum, seq)
        b.set(FIXTag.sendingTime, ts(seq % 600, seq * 7 % 1000))
    }

    static func parties(_ b: inout FIXMessageBuilder, _ n: Int, seed: Int) {
        b.group(453, count: n) { g in
            for p in 0..<n {
                g.append(448, p == 0 ? "BRKR-LDN" : "CLIENT-\(1000 + seed * 3 + p)")
                g.append(447, "D")
                g.append(452, ["1", "3", "11", "12"][p % 4])
                if p == 1 {
                    g.beginGroup(802, count: 2)
                    g.append(523, "desk-\(seed % 7)")
                    g.append(803, "9")
                    g.append(523, "trader@\(seed % 5).example")
                    g.append(803, "8")
                    g.endGroup()
                }
            }
        }
    }

    static func executionReport(seq: Int, order: Int, fill: Int) -> FIXMessageBuilder {
        var b = FIXMessageBuilder(msgType: "8")
        header(&b, seq: seq)
        let s = order % symbols.count
        let qty = FixedDecimal(mantissa: Int128(10_000 * (1 + order % 5)), scale: 2)
        let done = FixedDecimal(mantissa: Int128(2_500 * fill), scale: 2)
        let leaves = qty - done
        b.set(FIXTag.orderID, "BO-\(40_000 + order)")
        b.set(FIXTag.clOrdID, "CB-\(order)-F\(order % 9)-1")
        b.set(FIXTag.execID, "EX-\(seq)-\(order)")
        b.set(FIXTag.execType, fill == 0 ? "0" : "F")
        b.set(FIXTag.ordStatus, fill == 0 ? "0" : (leaves.isZero ? "2" : "1"))
        b.set(FIXTag.account, "ACC-\(100 + order % 13)")
        b.set(FIXTag.symbol, symbols[s])
        b.set(FIXTag.side, order % 2 == 0 ? "1" : "2")
        b.set(FIXTag.orderQty, qty)
        b.set(FIXTag.ordType, order % 3 == 0 ? "1" : "2")
        if order % 3 != 0 { b.set(FIXTag.price, prices[s]) }
        b.set(FIXTag.timeInForce, order % 4 == 0 ? "3" : "0")
        if fill > 0 {
            b.set(FIXTag.lastQty, FixedDecimal(mantissa: 2_500, scale: 2))
            b.set(FIXTag.lastPx, prices[s])
            b.set(30, "XLON")
        }
        b.set(FIXTag.leavesQty, leaves)
        b.set(FIXTag.cumQty, done)
        b.set(FIXTag.avgPx, fill == 0 ? "0" : prices[s])
        b.set(FIXTag.transactTime, ts(seq % 600, order % 1000))
        b.set(FIXTag.currency, s < 4 ? "USD" : "EUR")
        parties(&b, 2 + order % 2, seed: order)
        if fill > 0 {
            b.set(12, "1.25")
            b.set(13, "3")
            b.group(136, count: 2) { g in
                g.append(137, "0.37")
                g.append(138, "USD")
                g.append(139, "1")
                g.append(137, "0.05")
                g.append(138, "USD")
                g.append(139, "4")
            }
        }
        return b
    }

    static func orderReject(seq: Int, order: Int) -> FIXMessageBuilder {
        var b = FIXMessageBuilder(msgType: "8")
        header(&b, seq: seq)
        b.set(FIXTag.orderID, "NONE")
        b.set(FIXTag.clOrdID, "CB-\(order)-F2-1")
        b.set(FIXTag.execID, "RJ-\(seq)")
        b.set(FIXTag.execType, "8")
        b.set(FIXTag.ordStatus, "8")
        b.set(FIXTag.ordRejReason, [1, 3, 6, 11, 99][order % 5])
        b.set(FIXTag.symbol, symbols[order % symbols.count])
        b.set(FIXTag.side, "1")
        b.set(FIXTag.orderQty, FixedDecimal(mantissa: 50_000, scale: 2))
        b.set(FIXTag.leavesQty, FixedDecimal(0))
        b.set(FIXTag.cumQty, FixedDecimal(0))
        b.set(FIXTag.avgPx, FixedDecimal(0))
        b.set(FIXTag.transactTime, ts(seq % 600))
        b.set(FIXTag.text, "order rejected: insufficient margin on account ACC-\(100 + order % 13)")
        parties(&b, 2, seed: order)
        return b
    }

    static func newOrder(seq: Int, order: Int) -> FIXMessageBuilder {
        var b = FIXMessageBuilder(msgType: "D")
        header(&b, seq: seq, sender: "COPYBRIDGE", target: "BROKER")
        let s = order % symbols.count
        b.set(FIXTag.account, "FOLLOWER-\(order % 40)")
        b.set(FIXTag.clOrdID, "CB-\(order)-F\(order % 9)-1")
        b.set(FIXTag.side, order % 2 == 0 ? "1" : "2")
        b.set(FIXTag.symbol, symbols[s])
        b.set(FIXTag.orderQty, "00\(1000 + order * 10).00")
        b.set(FIXTag.ordType, order % 2 == 0 ? "1" : "2")
        if order % 2 == 1 { b.set(FIXTag.price, prices[s]) }
        b.set(FIXTag.timeInForce, "3")
        b.set(FIXTag.transactTime, ts(seq % 600, 5))
        if order % 3 == 0 { parties(&b, 1, seed: order) }
        return b
    }

    /// The corpus text: a comment header, then one message per line with `|` for SOH.
    public static func generate() -> String {
        var messages: [FIXMessageBuilder] = []
        var seq = 1000
        func next() -> Int {
            seq += 1
            return seq
        }
        var logon = FIXMessageBuilder(msgType: "A")
        header(&logon, seq: 1)
        logon.set(FIXTag.encryptMethod, 0)
        logon.set(FIXTag.heartBtInt, 30)
        logon.set(FIXTag.resetSeqNumFlag, true)
        messages.append(logon)
        for order in 0..<24 {
            switch order % 6 {
            case 0, 3:
                messages.append(newOrder(seq: next(), order: order))
                messages.append(executionReport(seq: next(), order: order, fill: 0))
            case 1, 4:
                messages.append(executionReport(seq: next(), order: order, fill: 1))
                messages.append(executionReport(seq: next(), order: order, fill: 2))
            case 2:
                messages.append(orderReject(seq: next(), order: order))
            default:
                var cancel = FIXMessageBuilder(msgType: "F")
                header(&cancel, seq: next(), sender: "COPYBRIDGE", target: "BROKER")
                cancel.set(FIXTag.origClOrdID, "CB-\(order)-F1-1")
                cancel.set(FIXTag.clOrdID, "CB-\(order)-F1-2")
                cancel.set(FIXTag.side, "2")
                cancel.set(FIXTag.symbol, symbols[order % symbols.count])
                cancel.set(FIXTag.orderQty, "1000")
                cancel.set(FIXTag.transactTime, ts(order, 17))
                messages.append(cancel)
                var replace = FIXMessageBuilder(msgType: "G")
                header(&replace, seq: next(), sender: "COPYBRIDGE", target: "BROKER")
                replace.set(FIXTag.origClOrdID, "CB-\(order)-F1-2")
                replace.set(FIXTag.clOrdID, "CB-\(order)-F1-3")
                replace.set(FIXTag.side, "1")
                replace.set(FIXTag.symbol, symbols[order % symbols.count])
                replace.set(FIXTag.orderQty, "1500")
                replace.set(FIXTag.ordType, "2")
                replace.set(FIXTag.price, prices[order % symbols.count])
                replace.set(FIXTag.transactTime, ts(order, 18))
                messages.append(replace)
                var cancelReject = FIXMessageBuilder(msgType: "9")
                header(&cancelReject, seq: next())
                cancelReject.set(FIXTag.orderID, "BO-\(40_000 + order)")
                cancelReject.set(FIXTag.clOrdID, "CB-\(order)-F1-3")
                cancelReject.set(FIXTag.origClOrdID, "CB-\(order)-F1-2")
                cancelReject.set(FIXTag.ordStatus, "2")
                cancelReject.set(434, "2")
                cancelReject.set(102, "0")
                cancelReject.set(FIXTag.text, "too late to replace")
                messages.append(cancelReject)
            }
        }
        var reject = FIXMessageBuilder(msgType: "3")
        header(&reject, seq: next())
        reject.set(FIXTag.refSeqNum, 1007)
        reject.set(FIXTag.refTagID, 54)
        reject.set(FIXTag.refMsgType, "D")
        reject.set(FIXTag.sessionRejectReason, 5)
        reject.set(FIXTag.text, "Value is incorrect (out of range) for this tag")
        messages.append(reject)
        var business = FIXMessageBuilder(msgType: "j")
        header(&business, seq: next())
        business.set(FIXTag.refSeqNum, 1011)
        business.set(FIXTag.refMsgType, "AN")
        business.set(FIXTag.businessRejectReason, 3)
        business.set(FIXTag.text, "Unsupported Message Type")
        messages.append(business)
        var heartbeat = FIXMessageBuilder(msgType: "0")
        header(&heartbeat, seq: next())
        messages.append(heartbeat)
        var snapshot = FIXMessageBuilder(msgType: "W")
        header(&snapshot, seq: next())
        snapshot.set(262, "MD-1")
        snapshot.set(FIXTag.symbol, "EUR/USD")
        snapshot.group(268, count: 4) { g in
            for (type, px, size) in [
                ("0", "1.08450", "1000000"), ("0", "1.08449", "3000000"),
                ("1", "1.08453", "1500000"), ("1", "1.08455", "2000000"),
            ] {
                g.append(269, type)
                g.append(270, px)
                g.append(271, size)
            }
        }
        messages.append(snapshot)

        var out = "# FIX 4.4 codec benchmark corpus: one message per line, '|' stands for SOH.\n"
        out += "# Generated by `copybridge bench codec-corpus`; every message is valid for Specs/FIX44.xml.\n"
        for m in messages {
            out += m.build().debugDescription + "\n"
        }
        return out
    }
}
