import NIOCore
import TestSupport
import Testing

@testable import FIXCore

@Suite struct FuzzPropertyTests {
    static let interesting: [UInt8] = Array("=|0123456789.-8=FIX.4.49=10=35=453=802=".utf8) + [SOH, 0, 0xFF]

    func mutate(_ bytes: [UInt8], _ rng: inout SplitMix64) -> [UInt8] {
        var b = bytes
        for _ in 0..<Int.random(in: 1...4, using: &rng) where !b.isEmpty {
            let at = Int.random(in: 0..<b.count, using: &rng)
            switch Int.random(in: 0..<6, using: &rng) {
            case 0: b[at] ^= UInt8(1 << Int.random(in: 0..<8, using: &rng))
            case 1: b.insert(Self.interesting.randomElement(using: &rng)!, at: at)
            case 2: b.remove(at: at)
            case 3: b[at] = SOH
            case 4: b.removeSubrange(at..<Swift.min(b.count, at + Int.random(in: 1...12, using: &rng)))
            default:
                let from = Int.random(in: 0..<b.count, using: &rng)
                let chunk = b[from..<Swift.min(b.count, from + Int.random(in: 1...16, using: &rng))]
                b.insert(contentsOf: chunk, at: at)
            }
        }
        return b
    }

    /// Everything a receiver does with a message, none of which may crash.
    func exercise(_ m: FIXMessage) {
        for options in [
            ValidationOptions(),
            {
                var o = ValidationOptions(); o.validateFieldsOutOfOrder = false; o.validateUnorderedGroupFields = false;
                o.allowUnknownMessageFields = true; o.validateUserDefinedFields = false;
                o.validateFieldsHaveValues = false; return o
            }(),
        ] {
            if let reject = fix44.validate(m, options: options) {
                #expect(reject.text == reject.reason.text)
            }
        }
        let copy = fix44.canonicalBuilder(copying: m)
        _ = copy.encoded()
        if let def = fix44.message(msgType: m.msgType) {
            for case .group(let g, _) in def.members {
                if let entries = try? m.groupEntries(countTag: g.countTag, in: fix44) {
                    for e in entries {
                        for case .group(let nested, _) in g.members {
                            _ = try? e.groupEntries(countTag: nested.countTag)
                        }
                        _ = e[g.delimiter]
                    }
                }
            }
        }
        _ = m.topLevel(in: fix44)[FIXTag.text]
    }

    @Test func mutatedMessagesNeverCrashTheDecoderOrTheValidator() {
        let originals = corpusMessages.map(\.byteArray)
        let decoder = FIXFrameDecoder(configuration: fix44.decoderConfiguration())
        var rng = SplitMix64(seed: 20_261_126)
        var messages = 0
        var garbled = 0
        for _ in 0..<3000 {
            let mutated = mutate(originals.randomElement(using: &rng)!, &rng)
            var buffer = ByteBuffer(bytes: mutated)
            var rounds = 0
            while let result = decoder.next(from: &buffer) {
                rounds += 1
                switch result {
                case .message(let m):
                    messages += 1
                    exercise(m)
                case .garbled(let error, let skipped):
                    garbled += 1
                    #expect(!error.description.isEmpty)
                    #expect(skipped.readableBytes > 0)
                }
                if rounds > mutated.count + 1 {
                    Issue.record("decoder does not progress on \(mutated)")
                    break
                }
            }
            // What remains is an incomplete frame: decoding it alone says so.
            if buffer.readableBytes > 0 {
                #expect(throws: FIXDecodeError.self) { try decoder.decodeOne(buffer) }
            }
        }
        #expect(messages > 0)
        #expect(garbled > 0)
    }

    @Test func truncatedMessagesAskForMoreBytes() {
        let decoder = FIXFrameDecoder(configuration: fix44.decoderConfiguration())
        for original in corpusMessages.prefix(12).map(\.byteArray) {
            for length in 0..<original.count {
                var buffer = ByteBuffer(bytes: original[0..<length])
                #expect(decoder.next(from: &buffer) == nil)
                #expect(buffer.readableBytes == length)
                #expect(throws: FIXDecodeError.incomplete) {
                    try decoder.decodeOne(ByteBuffer(bytes: original[0..<length]))
                }
            }
        }
    }

    @Test func validatorSurvivesFieldLevelMutations() {
        // Mutations that keep the frame valid (checksum recomputed) reach the validator every time.
        var rng = SplitMix64(seed: 4_4)
        let tags = [
            0, 1, 11, 34, 35, 38, 44, 49, 52, 54, 58, 93, 89, 268, 269, 448, 452, 453, 523, 802, 803, 5001, 9999,
        ]
        let values = ["", "1", "0", "-1", "x", "2.5", "99999999999999999999", "20261126-09:30:00", "Y", "1 A"]
        var rejected = 0
        for _ in 0..<2000 {
            let source = corpusMessages.randomElement(using: &rng)!
            var fields = source.debugDescription.split(separator: "|").dropFirst(2).dropLast().map(String.init)
            for _ in 0..<Int.random(in: 1...3, using: &rng) {
                let at = Int.random(in: 1...fields.count, using: &rng)
                switch Int.random(in: 0..<4, using: &rng) {
                case 0:
                    fields.insert("\(tags.randomElement(using: &rng)!)=\(values.randomElement(using: &rng)!)", at: at)
                case 1 where at < fields.count: fields.remove(at: at)
                case 2 where at < fields.count: fields.swapAt(at, Int.random(in: 1..<fields.count, using: &rng))
                default:
                    if at < fields.count {
                        let tag = fields[at].split(separator: "=", maxSplits: 1).first ?? "58"
                        fields[at] = "\(tag)=\(values.randomElement(using: &rng)!)"
                    }
                }
            }
            let m = rawMessage(fields.joined(separator: "|"))
            exercise(m)
            if fix44.validate(m) != nil { rejected += 1 }
        }
        #expect(rejected > 700)
    }
}
