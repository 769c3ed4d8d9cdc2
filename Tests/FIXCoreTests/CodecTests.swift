import NIOCore
import TestSupport
import Testing

@testable import FIXCore

@Suite struct CodecTests {
    /// A NewOrderSingle whose every byte is known (BodyLength and CheckSum computed by hand).
    static let goldenOrder =
        "8=FIX.4.4|9=163|35=D|34=2|49=CB|52=20261126-09:30:00.123|56=BRK|1=ACC|11=ORD-1|38=002000.00|40=2"
        + "|44=1.10500|54=1|55=EUR/USD|59=0|60=20261126-09:30:00.123|453=1|448=P1|447=D|452=3|10=121|"

    func goldenBuilder() -> FIXMessageBuilder {
        var b = FIXMessageBuilder(msgType: "D")
        b.set(FIXTag.transactTime, UTCTimestamp("20261126-09:30:00.123")!)
        b.set(FIXTag.symbol, "EUR/USD")
        b.group(453, count: 1) { g in
            g.append(448, "P1")
            g.append(447, "D")
            g.append(452, "3")
        }
        b.set(FIXTag.side, Character("1"))
        b.set(FIXTag.price, FixedDecimal("1.10500")!)
        b.set(FIXTag.orderQty, "002000.00")
        b.set(FIXTag.ordType, Character("2"))
        b.set(FIXTag.timeInForce, Character("0"))
        b.set(FIXTag.clOrdID, "ORD-1")
        b.set(FIXTag.account, "ACC")
        b.set(FIXTag.targetCompID, "BRK")
        b.set(FIXTag.sendingTime, UTCTimestamp("20261126-09:30:00.123")!)
        b.set(FIXTag.senderCompID, "CB")
        b.set(FIXTag.msgSeqNum, 2)
        return b
    }

    @Test func encodesTheGoldenOrder() throws {
        let built = goldenBuilder().build()
        #expect(built.debugDescription == Self.goldenOrder)
        let parsed = try FIXMessage(pipeDelimited: Self.goldenOrder)
        #expect(parsed == built)
        #expect(fix44.validate(parsed) == nil)
        // Values keep their bytes through a parse and a copy.
        #expect(parsed[38] == "002000.00")
        #expect(parsed[44] == "1.10500")
        #expect(FIXMessageBuilder(copying: parsed).build() == parsed)
        #expect(fix44.canonicalBuilder(copying: parsed).build() == parsed)
    }

    @Test func sectionsAddedOutOfPlaceReachTheCanonicalOrder() {
        // Each section in order but interleaved (trailer first, header last): the counting pass
        // alone orders them. Then the same with the header itself out of order and Signature set
        // before its length: a data field always follows its length field.
        var b = FIXMessageBuilder(msgType: "D")
        b.set(FIXTag.signatureLength, 2)
        b.set(FIXTag.signature, "ab")
        b.set(FIXTag.account, "ACC")
        b.set(FIXTag.clOrdID, "ORD-1")
        b.set(FIXTag.msgSeqNum, 7)
        b.set(FIXTag.senderCompID, "CB")
        b.set(FIXTag.symbol, "EUR/USD")
        b.set(FIXTag.targetCompID, "BRK")
        let inPlace = b.build().debugDescription
        #expect(inPlace.hasPrefix("8=FIX.4.4|9=60|35=D|34=7|49=CB|56=BRK|1=ACC|11=ORD-1|55=EUR/USD|93=2|89=ab|10="))
        var c = FIXMessageBuilder(msgType: "D")
        c.set(FIXTag.targetCompID, "BRK")
        c.set(FIXTag.symbol, "EUR/USD")
        c.set(FIXTag.signature, "ab")
        c.set(FIXTag.signatureLength, 2)
        c.set(FIXTag.senderCompID, "CB")
        c.set(FIXTag.clOrdID, "ORD-1")
        c.set(FIXTag.account, "ACC")
        c.set(FIXTag.msgSeqNum, 7)
        #expect(c.build().debugDescription == inPlace)
        // A canonical copy of the received message keeps the pair in order.
        let received = c.build()
        #expect(fix44.canonicalBuilder(copying: received).build() == received)
    }

    @Test func reusedBuilderAndBufferEncodeTheSameBytes() {
        var b = goldenBuilder()
        var out = ByteBufferAllocator().buffer(capacity: 64)
        for _ in 0..<3 {
            out.clear()
            b.encode(into: &out)
            #expect(String(buffer: out).replacingOccurrences(of: "\u{1}", with: "|") == Self.goldenOrder)
            b = goldenBuilder()
        }
        b.reset(msgType: "0")
        b.set(FIXTag.senderCompID, "CB")
        #expect(b.build().debugDescription.hasPrefix("8=FIX.4.4|9=11|35=0|49=CB|10="))
    }

    @Test func headerEncodedAlongsideEqualsTheStampedCopy() {
        // The golden order without its header, and the header in a builder of its own (out of
        // tag order, with another BeginString): merged at encoding, the bytes are those of a copy
        // with the header's fields set on it.
        var body = goldenBuilder()
        body.removeEntries { $0.section == 0 }
        var header = FIXMessageBuilder(msgType: "", beginString: "FIX.4.4", byteCapacity: 16, fieldCapacity: 2)
        header.set(FIXTag.targetCompID, "BRK")
        header.set(FIXTag.senderCompID, "CB")
        header.set(FIXTag.sendingTime, UTCTimestamp("20261126-09:30:00.123")!)
        header.set(FIXTag.msgSeqNum, 2)
        var out = ByteBufferAllocator().buffer(capacity: 8)
        let written = body.encode(into: &out, header: header)
        #expect(written == out.readableBytes)
        #expect(String(buffer: out).replacingOccurrences(of: "\u{1}", with: "|") == Self.goldenOrder)
        #expect(body.encoded(header: header) == goldenBuilder().encoded())
        // A header field the message holds itself is replaced, as `set` replaces it; a body
        // field of the same tag in a group is not a header field and stays.
        var withOld = body
        withOld.set(FIXTag.msgSeqNum, 999)
        withOld.set(FIXTag.possDupFlag, true)
        var stamped = withOld
        for e in header.entries {
            let value = Array(UnsafeRawBufferPointer(start: header.storage.bytes + Int(e.start), count: Int(e.length)))
            stamped.set(Int(e.tag), bytes: value)
        }
        stamped.beginString = "FIXT.1.1"
        header.beginString = "FIXT.1.1"
        #expect(withOld.encoded(header: header) == stamped.encoded())
        #expect(String(buffer: withOld.encoded(header: header)).contains("\u{1}43=Y\u{1}"))
        #expect(!String(buffer: withOld.encoded(header: header)).contains("999"))
        // The sender's builder is not changed, and an empty header encodes the message alone.
        #expect(withOld.encoded() == withOld.encoded(header: FIXMessageBuilder(msgType: "")))
        #expect(String(buffer: withOld.encoded()).contains("34=999"))
    }

    @Test func bodyWriterBuildsWhatSetBuilds() {
        let account = Array("BOB-07".utf8)
        let time = Array("20261126-09:30:00.123".utf8)
        var viaSet = FIXMessageBuilder(msgType: "D")
        viaSet.set(FIXTag.account, bytes: account)
        viaSet.set(FIXTag.clOrdID, "Bq7Xw0KnlOKM300")
        viaSet.set(FIXTag.orderQty, FixedDecimal(mantissa: 125, scale: 1))
        viaSet.set(FIXTag.ordType, ascii: UInt8(ascii: "2"))
        viaSet.set(FIXTag.price, FixedDecimal(mantissa: 108_345, scale: 5))
        viaSet.set(FIXTag.side, ascii: UInt8(ascii: "1"))
        viaSet.set(FIXTag.symbol, "EURUSD.m")
        viaSet.set(FIXTag.transactTime, bytes: time)
        var written = FIXMessageBuilder(
            msgType: "D", fields: 8, valueBytes: 64 + 2 * FIXMessageBuilder.FieldWriter.decimalBytes
        ) {
            w in
            account.withUnsafeBytes { w.bytes(FIXTag.account, $0) }
            w.string(FIXTag.clOrdID, "Bq7Xw0KnlOKM300")
            w.decimal(FIXTag.orderQty, FixedDecimal(mantissa: 125, scale: 1))
            w.ascii(FIXTag.ordType, UInt8(ascii: "2"))
            w.decimal(FIXTag.price, FixedDecimal(mantissa: 108_345, scale: 5))
            w.ascii(FIXTag.side, UInt8(ascii: "1"))
            w.string(FIXTag.symbol, "EURUSD.m")
            time.withUnsafeBytes { w.bytes(FIXTag.transactTime, $0) }
        }
        #expect(written.runSection == 1)
        #expect(written.encoded() == viaSet.encoded())
        #expect(Self.ordered(written).encoded() == viaSet.encoded())
        #expect(written[FIXTag.price] == "1.08345" && written[FIXTag.orderQty] == "12.5")
        var header = FIXMessageBuilder(msgType: "", byteCapacity: 16, fieldCapacity: 2)
        header.set(FIXTag.msgSeqNum, 7)
        header.set(FIXTag.senderCompID, "CB")
        #expect(written.encoded(header: header) == viaSet.encoded(header: header))
        // Set after the writer, a field replaces the written value as it replaces a set one.
        written.set(FIXTag.side, ascii: UInt8(ascii: "2"))
        viaSet.set(FIXTag.side, ascii: UInt8(ascii: "2"))
        #expect(written.encoded() == viaSet.encoded())
        #expect(String(buffer: written.encoded()).contains("\u{1}54=2\u{1}"))
        // No fields: an empty body, as a new builder has.
        let empty = FIXMessageBuilder(msgType: "0", fields: 0, valueBytes: 0) { _ in }
        #expect(empty.encoded() == FIXMessageBuilder(msgType: "0").encoded())
    }

    /// `builder` with its fields kept but its bytes no longer taken as the wire form, so that
    /// encoding orders every field (the path every builder took before runs were copied).
    static func ordered(_ builder: FIXMessageBuilder) -> FIXMessageBuilder {
        var b = builder
        b.removeEntries { _ in false }
        #expect(b.runSection == FIXMessageBuilder.brokenRun)
        return b
    }

    @Test("a builder whose bytes are its wire form encodes as one whose fields are ordered", arguments: [1, 2, 3])
    func runsEncodeAsOrderedFields(seed: UInt64) throws {
        var rng = SplitMix64(seed: seed)
        // Body, header and trailer tags, one- to four-digit and beyond, and group count tags.
        let bodyTags = [1, 11, 38, 40, 44, 54, 55, 58, 59, 60, 448, 1128, 20_001]
        let headerTags = [34, 43, 49, 52, 56, 57, 97, 115, 142]
        var fastCount = 0
        for round in 0..<2_000 {
            var body = FIXMessageBuilder(msgType: round % 3 == 0 ? "8" : "D", byteCapacity: 16, fieldCapacity: 2)
            var header = FIXMessageBuilder(msgType: "", byteCapacity: 16, fieldCapacity: 2)
            // Half the rounds add ascending tags of one section, as the engine and a session do.
            let ascending = rng.next() % 2 == 0
            // Mostly fields of one section, as messages are; sometimes of all three.
            let tags =
                switch rng.next() % 4 {
                case 0: headerTags
                case 1: bodyTags + headerTags + [93]
                default: bodyTags
                }
            var candidates = tags.filter { _ in rng.next() % 2 == 0 }
            if !ascending { candidates.shuffle(using: &rng) }
            for tag in candidates {
                let value = String(repeating: "v", count: Int(rng.next() % 25))
                switch rng.next() % 8 {
                case 0: body.set(tag, Int(rng.next() % 100_000) - 500)
                case 1: body.append(tag, value)
                case 2: body.set(tag, FixedDecimal(mantissa: Int128(rng.next() % 1_000_000), scale: 2))
                case 3: body.set(tag, UTCTimestamp(nanosecondsSinceEpoch: 1_790_000_000_000_000_000 + Int64(round)))
                case 4 where tag > 100 && tag < 1000:
                    body.group(tag, count: 1) { g in g.append(tag + 1, value) }
                default: body.set(tag, value)
                }
                if rng.next() % 16 == 0 { body.set(tag, "again") }
            }
            for tag in [34, 49, 52, 56, 57].filter({ _ in rng.next() % 3 != 0 }) {
                header.set(tag, "H\(tag)")
            }
            if rng.next() % 8 == 0 { header.set(43, true) }
            let runs = body.runSection != FIXMessageBuilder.brokenRun
            if runs && (body.runSection != 0) { fastCount += 1 }
            let expected = Self.ordered(body)
            #expect(body.encoded() == expected.encoded(), "round \(round)")
            #expect(body.encoded(header: header) == expected.encoded(header: Self.ordered(header)), "round \(round)")
            var bytes = body.encoded(header: header)
            let message = try FIXFrameDecoder().decodeOne(bytes)
            #expect(message.msgType == body.msgType)
            bytes = body.encoded()
            _ = try FIXFrameDecoder().decodeOne(bytes)
        }
        // The copied runs were exercised, not only the ordering path.
        #expect(fastCount > 100)
    }

    @Test func builderComparesAValueWithoutMakingAString() {
        var b = FIXMessageBuilder(msgType: "D")
        b.set(11, "A1b2C3")
        b.set(1, "")
        b.beginGroup(78, count: 1)
        b.append(79, "in-a-group")
        b.endGroup()
        #expect(b.value(of: 11, is: "A1b2C3"))
        #expect(!b.value(of: 11, is: "A1b2C"), "a prefix is not the value")
        #expect(!b.value(of: 11, is: "A1b2C4"))
        #expect(b.value(of: 1, is: "") && !b.value(of: 1, is: "x"))
        #expect(b.value(of: 35, is: "D") && !b.value(of: 35, is: "8"))
        #expect(!b.value(of: 58, is: ""), "an absent tag has no value")
        #expect(!b.value(of: 79, is: "in-a-group"), "group fields are not read back")
    }

    @Test func messageComparesAValueWithAStringByteForByte() {
        var b = FIXMessageBuilder(msgType: "D")
        b.set(49, "BROKER")
        b.set(11, "Grüße-1")
        b.set(1, "")
        let m = b.build()
        let broker = "BROK" + "ER"  // made at run time, not a literal
        #expect(m.value(of: 49, equals: broker))
        #expect(!m.value(of: 49, equals: "BROKE"), "a prefix is not the value")
        #expect(!m.value(of: 49, equals: "BROKERS"), "nor is a longer string")
        #expect(!m.value(of: 49, equals: "BROKEr"))
        #expect(m.value(of: 11, equals: "Grüße-1"), "multi-byte UTF-8 compares by its bytes")
        #expect(!m.value(of: 11, equals: "Grusse-1"))
        #expect(m.value(of: 1, equals: "") && !m.value(of: 1, equals: "x"))
        #expect(!m.value(of: 58, equals: ""), "an absent tag has no value")
        #expect(m.value(of: 8, equals: "FIX.4.4") && !m.value(of: 8, equals: "FIX.4.2"))
    }

    @Test func asciiByteValuesEncodeLikeStrings() {
        var bytes = FIXMessageBuilder(msgType: "D")
        var text = FIXMessageBuilder(msgType: "D")
        bytes.set(54, ascii: UInt8(ascii: "2"))
        text.set(54, "2")
        bytes.set(40, ascii: UInt8(ascii: "1"))
        text.set(40, "1")
        bytes.set(54, ascii: UInt8(ascii: "1"))
        text.set(54, "1")
        #expect(bytes.value(of: 54, is: "1"), "a second set replaces the first")
        #expect(bytes.encoded() == text.encoded())
        #expect(bytes.build().debugDescription.contains("|40=1|54=1|"))
    }

    @Test func builderCopiesAreIndependent() {
        var a = FIXMessageBuilder(msgType: "D")
        a.set(FIXTag.clOrdID, "A")
        var b = a
        b.set(FIXTag.clOrdID, "B")
        b.set(FIXTag.symbol, "X")
        a.set(FIXTag.account, "ACC")
        #expect(a[FIXTag.clOrdID] == "A")
        #expect(a[FIXTag.symbol] == nil)
        #expect(b[FIXTag.clOrdID] == "B")
        #expect(b[FIXTag.account] == nil)
        #expect(a.build().debugDescription.contains("|1=ACC|11=A|10="))
        #expect(b.build().debugDescription.contains("|11=B|55=X|10="))
    }

    @Test func builderGrowsPastItsInitialStorage() throws {
        var b = FIXMessageBuilder(msgType: "B")
        let long = String(repeating: "x", count: 1000)
        b.set(148, long)
        b.group(33, count: 200) { g in
            for i in 0..<200 { g.append(58, "line \(i)") }
        }
        b.set(FIXTag.msgSeqNum, 1)
        b.set(FIXTag.msgSeqNum, 7)
        let m = b.build()
        #expect(m[148] == long)
        #expect(m.values(of: 58).count == 200)
        #expect(m.values(of: 58).last == "line 199")
        #expect(try m.int(FIXTag.msgSeqNum) == 7)
        #expect(m.values(of: FIXTag.msgSeqNum).count == 1)
    }

    @Test func setReplacesAndRemoveDeletes() {
        var b = FIXMessageBuilder(msgType: "D")
        // 11 and 75 share the tag filter's bit (11 % 64 == 75 % 64).
        b.set(11, "first")
        b.set(75, "20261126")
        b.set(11, "second")
        b.set(75, "20261127")
        #expect(b[11] == "second")
        #expect(b[75] == "20261127")
        b.remove(11)
        #expect(!b.contains(11))
        #expect(b.contains(75))
        b.set(FIXTag.msgType, "G")
        #expect(b.msgType == "G")
    }

    @Test func writesEveryValueType() {
        var b = FIXMessageBuilder(msgType: "D")
        b.set(1, -42)
        b.set(2, Int.max)
        b.set(3, FixedDecimal("-0.05")!)
        b.set(4, FixedDecimal(mantissa: 12_345_678_901_234_567_890, scale: 4))
        b.set(5, true)
        b.set(6, false)
        b.set(7, UTCTimestamp("19691231-23:59:59.999999")!)
        b.set(12, UTCTimestamp("20261126-09:30:00")!)
        b.set(13, UTCTimeOnly(nanosecondsSinceMidnight: 3_600_000_000_001, precision: .nanoseconds))
        b.set(14, FIXDate(year: 2026, month: 2, day: 28)!)
        b.set(15, Character("é"))
        b.set(16, bytes: [0x41, 0x42])
        let text = b.build().debugDescription
        #expect(
            text.contains(
                "|1=-42|2=9223372036854775807|3=-0.05|4=1234567890123456.7890|5=Y|6=N|7=19691231-23:59:59.999999"
                    + "|12=20261126-09:30:00|13=01:00:00.000000001|14=20260228|15=é|16=AB|"))
    }

    @Test func timestampsAcrossDaysUseTheRightDate() {
        var b = FIXMessageBuilder(msgType: "D")
        let day = Int64(86_400_000_000_000)
        let base = UTCTimestamp("20261126-23:59:59.999")!.nanosecondsSinceEpoch
        for (i, expected) in [
            "20261126-23:59:59.999", "20261127-00:00:00.000", "20261126-23:59:59.999",
            "20261231-23:59:59.999",
        ].enumerated() {
            let offsets: [Int64] = [0, 1_000_000, 0, 35 * day]
            b.set(100 + i, UTCTimestamp(nanosecondsSinceEpoch: base + offsets[i]))
            #expect(b[100 + i] == expected)
        }
    }

    @Test func sectionTableMatchesTheStandardHeaderAndTrailer() {
        for tag in 1...1000 {
            let expected: UInt8 =
                FIXTag.standardHeader.contains(tag) ? 0 : (FIXTag.standardTrailer.contains(tag) ? 2 : 1)
            #expect(FIXMessageBuilder.section(of: tag) == expected, "tag \(tag)")
        }
    }

    @Test func checksumAndSeparatorCountMatchAPlainLoop() {
        var rng = SplitMix64(seed: 77)
        // Every length to 300, then lengths around the encoder's 1 024-byte folds, with random
        // bytes and with 0xFF everywhere (the largest lane sums).
        let lengths = Array(0..<300) + [1023, 1024, 1025, 2048, 2055, 5000, 70_000]
        for length in lengths {
            for saturated in [false, true] {
                let bytes = (0..<length).map { _ -> UInt8 in
                    if saturated { return 0xFF }
                    return UInt8.random(in: 0...3, using: &rng) == 0 ? SOH : UInt8.random(in: 0...255, using: &rng)
                }
                let expected = bytes.reduce(0) { ($0 + Int($1)) % 256 }
                let fast = bytes.withUnsafeBytes { FIXFrameDecoder.checksumAndSeparators($0) }
                #expect(fast.checksum == expected, "length \(length)")
                #expect(fast.separators == bytes.filter { $0 == SOH }.count)
                #expect(bytes.withUnsafeBytes { FIXFrameDecoder.checksum($0) } == expected, "length \(length)")
            }
        }
    }

    @Test func quickFormatChecksAgreeWithTheParsers() {
        var rng = SplitMix64(seed: 99)
        let alphabet = Array("0123456789-:.9".utf8)
        let seeds = [
            "20261126-09:30:00.123", "20261126-09:30:00", "20240229-23:59:60.123456789", "22620411-23:47:16",
            "16770921-00:12:44", "99991231-23:59:59", "1.5", "-0.001", "002000.00", ".5", "5.",
        ]
        for _ in 0..<5000 {
            var v = Array(seeds.randomElement(using: &rng)!.utf8)
            for _ in 0..<Int.random(in: 0...2, using: &rng) where !v.isEmpty {
                let at = Int.random(in: 0..<v.count, using: &rng)
                switch Int.random(in: 0..<3, using: &rng) {
                case 0: v[at] = alphabet.randomElement(using: &rng)!
                case 1: v.remove(at: at)
                default: v.insert(alphabet.randomElement(using: &rng)!, at: at)
                }
            }
            v.withUnsafeBytes { raw in
                #expect(
                    UTCTimestamp.isWellFormed(raw) == (UTCTimestamp.parse(raw) != nil),
                    "\(String(decoding: v, as: UTF8.self))")
                #expect(
                    FixedDecimal.isWellFormed(raw) == (FixedDecimal.parse(raw) != nil),
                    "\(String(decoding: v, as: UTF8.self))")
            }
        }
    }

    @Test func timestampsOutsideTheRepresentableRangeAreMalformed() throws {
        #expect(UTCTimestamp("99991231-23:59:59") == nil)
        #expect(UTCTimestamp("00010101-00:00:00") == nil)
        #expect(UTCTimestamp("22620411-23:47:16.854") != nil)
        let m = rawMessage(
            header("D") + "|"
                + nosBody.replacingOccurrences(of: "60=20261126-09:30:00.123", with: "60=99991231-23:59:59"))
        #expect(fix44.validate(m) == FIXRejectInfo(.incorrectDataFormat, refTagID: 60, refMsgType: "D"))
        #expect(throws: FIXFieldError.self) { try m.timestamp(60) }
    }

    @Test func findsSeparatorsWordByWord() {
        for length in 0..<40 {
            for at in 0...length {
                var bytes = [UInt8](repeating: UInt8(ascii: "a"), count: length)
                if at < length { bytes[at] = SOH }
                let found = bytes.withUnsafeBytes { FIXFrameDecoder.findSOH($0, from: 0, end: length) }
                #expect(found == at)
            }
        }
    }
}
