import FIXCore
import Foundation
import NIOCore

/// Why the codec benchmark could not run.
public struct CodecBenchmarkError: Error, CustomStringConvertible {
    public let description: String

    public init(_ description: String) {
        self.description = description
    }
}

/// What `copybridge bench codec` prints: nanoseconds per message for each measurement.
public struct CodecBenchmarkResult: Sendable {
    public var messages: Int
    public var iterations: Int
    /// Frame, verify BodyLength and CheckSum, index every field.
    public var parseNanoseconds: Double
    /// The same plus dictionary validation, repeating groups included.
    public var parseValidateNanoseconds: Double
    /// Build and serialise a NewOrderSingle with a reused builder and output buffer.
    public var encodeNewOrderSingleNanoseconds: Double
    /// The same message as the agent sends it: the order's fields in tag order in a builder of
    /// their own, the header in the session's, merged as the message is encoded.
    public var encodeSessionNewOrderSingleNanoseconds: Double
    /// An in-sequence ExecutionReport received by a logged-on session, up to its delivery.
    public var sessionReceiveNanoseconds: Double

    /// One JSON object on one line, keys in a fixed order.
    public var jsonLine: String {
        func f(_ v: Double) -> String { String(format: "%.1f", v) }
        return "{\"messages\":\(messages),\"iterations\":\(iterations),\"parse_ns\":\(f(parseNanoseconds)),"
            + "\"parse_validate_ns\":\(f(parseValidateNanoseconds)),"
            + "\"encode_nos_ns\":\(f(encodeNewOrderSingleNanoseconds)),"
            + "\"encode_nos_session_ns\":\(f(encodeSessionNewOrderSingleNanoseconds)),"
            + "\"session_receive_ns\":\(f(sessionReceiveNanoseconds))}"
    }
}

/// Times the FIX codec on a corpus: parsing, parsing with validation, and encoding; and a session
/// receiving as many ExecutionReports.
///
/// The corpus is a text file with one FIX message per line, `|` standing for SOH and `#`
/// starting a comment line. Every message must be valid for the dictionary, so that the
/// validating pass does the whole job on every message. Each figure is the fastest batch of
/// ``batchSize`` passes, divided per message.
public struct CodecBenchmark {
    public let corpus: [ByteBuffer]
    public let dictionary: DataDictionary
    public let iterations: Int

    public init(corpus: [ByteBuffer], dictionary: DataDictionary, iterations: Int) {
        self.corpus = corpus
        self.dictionary = dictionary
        self.iterations = iterations
    }

    /// Reads a corpus file.
    public static func loadCorpus(path: String) throws -> [ByteBuffer] {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw CodecBenchmarkError("cannot read \(path): \(error.localizedDescription)")
        }
        return parseCorpus(text)
    }

    /// The messages of a corpus text.
    public static func parseCorpus(_ text: String) -> [ByteBuffer] {
        text.split(whereSeparator: \.isNewline).compactMap { line -> ByteBuffer? in
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            guard !trimmed.isEmpty, !trimmed.hasPrefix("#") else { return nil }
            return ByteBuffer(bytes: trimmed.utf8.map { $0 == UInt8(ascii: "|") ? SOH : $0 })
        }
    }

    /// Runs the three measurements, each after a warm-up pass.
    public func run() throws -> CodecBenchmarkResult {
        guard !corpus.isEmpty else { throw CodecBenchmarkError("the corpus holds no messages") }
        guard iterations > 0 else { throw CodecBenchmarkError("iterations must be positive") }
        let decoder = FIXFrameDecoder(configuration: dictionary.decoderConfiguration())
        for (i, bytes) in corpus.enumerated() {
            let message: FIXMessage
            do {
                message = try decoder.decodeOne(bytes)
            } catch {
                throw CodecBenchmarkError("corpus message \(i + 1) does not decode: \(error)")
            }
            if let reject = dictionary.validate(message) {
                throw CodecBenchmarkError("corpus message \(i + 1) is not valid: \(reject) \(message)")
            }
        }
        let count = corpus.count
        let parse = time(iterations) { parsePass(decoder) }
        let validate = time(iterations) { validatePass(decoder) }
        var encoder = NewOrderSingleEncoder()
        let encode = time(iterations) { encoder.pass(corpus.count) }
        var sessionEncoder = NewOrderSingleEncoder()
        let encodeSession = time(iterations) { sessionEncoder.sessionPass(corpus.count) }
        let receiver = SessionReceiver(count: count)
        let receive = time(iterations) { receiver.pass() }
        return CodecBenchmarkResult(
            messages: corpus.count, iterations: iterations, parseNanoseconds: parse / Double(count),
            parseValidateNanoseconds: validate / Double(count), encodeNewOrderSingleNanoseconds: encode / Double(count),
            encodeSessionNewOrderSingleNanoseconds: encodeSession / Double(count),
            sessionReceiveNanoseconds: receive / Double(count))
    }

    /// Nanoseconds per call of `body`: the fastest batch of ``batchSize`` calls, after one untimed
    /// call. Other work on the machine only ever adds time, so the fastest batch is the best
    /// estimate of the code's own cost; short batches are likely to run uninterrupted.
    private func time(_ iterations: Int, _ body: () -> Int) -> Double {
        var sink = body()
        let perBatch = Swift.min(iterations, CodecBenchmark.batchSize)
        var best = Double.infinity
        for _ in 0..<Swift.max(1, iterations / perBatch) {
            let start = ContinuousClock.now
            for _ in 0..<perBatch { sink &+= body() }
            let (seconds, attoseconds) = (ContinuousClock.now - start).components
            best = Swift.min(best, (Double(seconds) * 1e9 + Double(attoseconds) / 1e9) / Double(perBatch))
        }
        blackHole(sink)
        return best
    }

    /// Passes over the corpus per timed batch.
    public static let batchSize = 20

    private func parsePass(_ decoder: FIXFrameDecoder) -> Int {
        var fields = 0
        for bytes in corpus {
            guard let m = try? decoder.decodeOne(bytes) else { preconditionFailure("corpus was checked") }
            fields &+= m.count
        }
        return fields
    }

    private func validatePass(_ decoder: FIXFrameDecoder) -> Int {
        var fields = 0
        for bytes in corpus {
            guard let m = try? decoder.decodeOne(bytes) else { preconditionFailure("corpus was checked") }
            if dictionary.validate(m) != nil { preconditionFailure("corpus was checked") }
            fields &+= m.count
        }
        return fields
    }
}

/// Keeps a result alive so the optimiser cannot drop the work that produced it.
@inline(never)
func blackHole(_ value: Int) {
    if value == 42_424_242 { print("") }
}

/// Builds and serialises NewOrderSingles the way an order router does: one builder and one output
/// buffer, reused for every order.
struct NewOrderSingleEncoder {
    var builder = FIXMessageBuilder(msgType: "D")
    /// The session's header builder, for ``sessionPass(_:)``.
    var header = FIXMessageBuilder(msgType: "", byteCapacity: 128, fieldCapacity: 8)
    var out = ByteBufferAllocator().buffer(capacity: 512)
    var seq = 1
    let sendingTime = UTCTimestamp("20261126-09:30:00.123")!
    let buy: Character = "1"
    let market: Character = "1"
    let immediateOrCancel: Character = "3"
    let quantity = FixedDecimal(mantissa: 125_000, scale: 2)

    /// Starts the next message: its sequence number, an empty builder and its sending time.
    mutating func nextMessage() -> UTCTimestamp {
        seq += 1
        builder.reset(msgType: "D")
        return UTCTimestamp(nanosecondsSinceEpoch: sendingTime.nanosecondsSinceEpoch + Int64(seq) * 1_000_000)
    }

    mutating func pass(_ count: Int) -> Int {
        var bytes = 0
        for _ in 0..<count {
            let now = nextMessage()
            builder.set(FIXTag.msgSeqNum, seq)
            builder.set(FIXTag.senderCompID, "COPYBRIDGE")
            builder.set(FIXTag.sendingTime, now)
            builder.set(FIXTag.targetCompID, "BROKER")
            builder.set(FIXTag.account, "FOLLOWER-0042")
            builder.set(FIXTag.clOrdID, "CB-7F3A-0001-1")
            builder.set(FIXTag.side, buy)
            builder.set(FIXTag.symbol, "EUR/USD")
            builder.set(FIXTag.orderQty, quantity)
            builder.set(FIXTag.ordType, market)
            builder.set(FIXTag.timeInForce, immediateOrCancel)
            builder.set(FIXTag.transactTime, now)
            out.clear()
            bytes &+= builder.encode(into: &out)
        }
        return bytes
    }

    /// The same messages, byte for byte, built as the engine and the session layer build them:
    /// the engine's fields in tag order, then the session's header in a builder of its own,
    /// merged in as `SessionStateMachine.send` encodes.
    mutating func sessionPass(_ count: Int) -> Int {
        var bytes = 0
        for _ in 0..<count {
            let now = nextMessage()
            builder.set(FIXTag.account, "FOLLOWER-0042")
            builder.set(FIXTag.clOrdID, "CB-7F3A-0001-1")
            builder.set(FIXTag.orderQty, quantity)
            builder.set(FIXTag.ordType, market)
            builder.set(FIXTag.side, buy)
            builder.set(FIXTag.symbol, "EUR/USD")
            builder.set(FIXTag.timeInForce, immediateOrCancel)
            builder.set(FIXTag.transactTime, now)
            header.reset(msgType: "")
            header.set(FIXTag.msgSeqNum, seq)
            header.set(FIXTag.senderCompID, "COPYBRIDGE")
            header.set(FIXTag.sendingTime, now)
            header.set(FIXTag.targetCompID, "BROKER")
            out.clear()
            bytes &+= builder.encode(into: &out, header: header)
        }
        return bytes
    }
}
