import NIOCore
import Testing

@testable import FIXCore

func pipe(_ s: String) -> ByteBuffer {
    ByteBuffer(bytes: s.utf8.map { $0 == UInt8(ascii: "|") ? SOH : $0 })
}

/// A valid NewOrderSingle built by the encoder, as `|`-delimited text.
func sampleOrder(seq: Int = 2) -> String {
    var b = FIXMessageBuilder(msgType: "D")
    b.set(FIXTag.senderCompID, "CB")
    b.set(FIXTag.targetCompID, "BRK")
    b.set(FIXTag.msgSeqNum, seq)
    b.set(FIXTag.sendingTime, UTCTimestamp("20261126-09:30:00.123")!)
    b.set(FIXTag.clOrdID, "ORD-1")
    b.set(FIXTag.symbol, "EUR/USD")
    b.set(FIXTag.side, Character("1"))
    b.set(FIXTag.orderQty, "002000.00")
    b.set(FIXTag.ordType, Character("1"))
    b.set(FIXTag.transactTime, UTCTimestamp("20261126-09:30:00.123")!)
    return b.build().debugDescription
}

@Suite struct FIXFrameDecoderTests {
    @Test func encoderOrdersFieldsCanonically() {
        var b = FIXMessageBuilder(msgType: "D")
        b.set(FIXTag.symbol, "EUR/USD")
        b.set(FIXTag.clOrdID, "A")
        b.set(FIXTag.sendingTime, UTCTimestamp("20261126-09:30:00.123")!)
        b.set(FIXTag.msgSeqNum, 7)
        b.set(FIXTag.senderCompID, "S")
        b.set(FIXTag.targetCompID, "T")
        let text = b.build().debugDescription
        #expect(text.hasPrefix("8=FIX.4.4|9="))
        let body = text.split(separator: "|").dropFirst(2).map { String($0.split(separator: "=")[0]) }
        #expect(body == ["35", "34", "49", "52", "56", "11", "55", "10"])
    }

    @Test func roundTripsAndVerifiesChecksum() throws {
        let text = sampleOrder()
        let m = try FIXMessage(pipeDelimited: text)
        #expect(m.msgType == "D")
        #expect(m.isMsgType("D"))
        #expect(try m.int(FIXTag.msgSeqNum) == 2)
        #expect(m[FIXTag.orderQty] == "002000.00")
        #expect(try m.decimal(FIXTag.orderQty) == 2000)
        #expect(try m.char(FIXTag.side) == "1")
        #expect(try m.timestamp(FIXTag.transactTime).description == "20261126-09:30:00.123")
        // Re-serialising preserves the original bytes of each value.
        #expect(FIXMessageBuilder(copying: m).build().debugDescription == text)
    }

    @Test func typedAccessorErrorsNameTagAndValue() throws {
        let m = try FIXMessage(pipeDelimited: sampleOrder())
        #expect(throws: FIXFieldError(tag: 55, kind: .badFormat(expected: .int), value: "EUR/USD")) {
            try m.int(55)
        }
        #expect(throws: FIXFieldError(tag: 44, kind: .missing)) { try m.decimal(44) }
        #expect("\(FIXFieldError(tag: 55, kind: .badFormat(expected: .int), value: "EUR/USD"))".contains("55"))
    }

    @Test func framesOneByteAtATime() throws {
        let stream = pipe(sampleOrder(seq: 1) + sampleOrder(seq: 2))
        var buffer = ByteBuffer()
        let decoder = FIXFrameDecoder()
        var seqs: [Int] = []
        for byte in stream.readableBytesView {
            buffer.writeInteger(byte)
            while let result = decoder.next(from: &buffer) {
                guard case .message(let m) = result else {
                    Issue.record("unexpected \(result)")
                    return
                }
                seqs.append(m.msgSeqNum ?? -1)
            }
        }
        #expect(seqs == [1, 2])
        #expect(buffer.readableBytes == 0)
    }

    @Test func resynchronisesAfterGarbage() throws {
        let good = sampleOrder(seq: 5)
        var badChecksum = good
        badChecksum.removeLast(4)
        badChecksum += "000|"
        var buffer = pipe("garbage!!" + badChecksum + "8=FIX.4.4|9=5|35=0|junk" + good)
        let decoder = FIXFrameDecoder()
        var events: [String] = []
        while let r = decoder.next(from: &buffer) {
            switch r {
            case .message(let m): events.append("msg \(m.msgSeqNum!)")
            case .garbled(let e, _): events.append("\(e)".components(separatedBy: " ").first!)
            }
        }
        #expect(events.count >= 4)
        #expect(events.last == "msg 5")
        #expect(events.first == "skipped")
    }

    @Test func enforcesMaximumSizeBeforeBuffering() {
        var buffer = pipe("8=FIX.4.4|9=999999|35=D|")
        let decoder = FIXFrameDecoder(configuration: .init(maximumMessageSize: 4096))
        guard case .garbled(.tooLarge(999999, 4096), _)? = decoder.next(from: &buffer) else {
            Issue.record("expected tooLarge")
            return
        }
    }

    @Test func readsDataFieldsByLength() throws {
        var b = FIXMessageBuilder(msgType: "B")
        b.set(FIXTag.msgSeqNum, 3)
        b.setData(lengthTag: 95, dataTag: 96, Array("a\u{01}b=c".utf8))
        b.set(148, "headline")
        let m = b.build()
        let i = try #require(m.firstIndex(of: 96))
        #expect(m.valueBytes(at: i) == Array("a\u{01}b=c".utf8))
        #expect(m[148] == "headline")
    }

    @Test func msgTypeMustBeThird() {
        var buffer = pipe("8=FIX.4.4|9=5|34=1|35=0|10=000|")
        guard case .garbled(.msgTypeNotThird, _)? = FIXFrameDecoder().next(from: &buffer) else {
            Issue.record("expected msgTypeNotThird")
            return
        }
    }
}
