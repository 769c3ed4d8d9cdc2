import FIXCore

/// A copy-trading scenario (`Specs/copy/*.json`): simulated brokers, a provider, followers, and
/// timed steps that act (provider orders, quotes) or check outcomes at the follower brokers.
///
/// The format is specified in `Specs/README.md`; this type decodes and validates it so a runner
/// gets typed steps and ready-made simulator configurations.
public struct CopyScenario: Sendable, Equatable, Decodable {
    public static let formatName = "copybridge.copy-scenario/1"

    /// A simulated broker: `simulator` is its `[SIMULATOR]` block, `sessions` its session blocks
    /// keyed by the counterparty's CompID (the broker's own CompID is its `name`).
    public struct Broker: Sendable, Equatable, Decodable {
        public var name: String
        public var simulator: [String: String]
        public var sessions: [String: [String: String]]

        /// The session key of `session` at this broker.
        public func sessionKey(_ session: String) -> SimSessionKey {
            SimSessionKey(senderCompID: name, targetCompID: session)
        }

        /// The simulator configuration these settings describe.
        public func configuration(
            readFile: (String) throws -> String = SimSettings.readTextFile
        ) throws(SimConfigurationError) -> SimulatorConfiguration {
            var blocks: [SimSessionKey: [String: String]] = [:]
            for (session, settings) in sessions { blocks[sessionKey(session)] = settings }
            return try SimulatorConfiguration(settings: simulator, sessions: blocks, readFile: readFile)
        }
    }

    /// The signal provider: its account at a broker, and the drop-copy session CopyBridge watches.
    public struct Provider: Sendable, Equatable, Decodable {
        public var name: String
        public var broker: String
        public var account: String
        public var session: String
    }

    /// A follower: its account, the session CopyBridge trades it on, and its `[FOLLOWER]` settings.
    public struct Follower: Sendable, Equatable, Decodable {
        public var name: String
        public var broker: String
        public var account: String
        public var session: String
        /// Passed verbatim into the follower's `[FOLLOWER]` block.
        public var copy: [String: String]
    }

    /// An order the provider (or anyone) enters directly at a broker.
    public struct Order: Sendable, Equatable {
        public var broker: String
        public var request: SimOrderRequest
    }

    /// What the orders of an account at a broker must look like at a point in time.
    public struct OrderExpectation: Sendable, Equatable {
        public var broker: String
        public var account: String
        public var symbol: String?
        public var side: SimSide?
        public var orderQty: FixedDecimal?
        public var cumQty: FixedDecimal?
        public var status: SimOrdStatus?
        /// How many orders match every given field (default 1; 0: none may exist).
        public var count: Int
    }

    public enum Action: Sendable, Equatable {
        case quote(broker: String, symbol: String, bid: FixedDecimal, ask: FixedDecimal)
        case order(Order)
        case cancel(broker: String, account: String, clOrdID: String)
        /// The transport of a session drops (CopyBridge must recover when it comes back).
        case disconnect(broker: String, session: String)
        case reconnect(broker: String, session: String)
        case expectOrders(OrderExpectation)
        /// The net position of an account (signed: negative is short).
        case expectPosition(broker: String, account: String, symbol: String, quantity: FixedDecimal)
        /// CopyBridge recorded that it did not copy (or sized down) for this follower, with this reason code.
        case expectSkip(follower: String, reason: String)
    }

    public struct Step: Sendable, Equatable {
        /// Milliseconds after `start`.
        public var atMs: Int64
        public var action: Action
    }

    public var format: String
    public var title: String
    public var description: String
    public var start: UTCTimestamp
    public var brokers: [Broker]
    public var provider: Provider
    public var followers: [Follower]
    public var steps: [Step]

    public func broker(_ name: String) -> Broker? { brokers.first { $0.name == name } }
}

// MARK: - Decoding

extension CopyScenario {
    enum Keys: String, CodingKey {
        case format, title, description, start, brokers, provider, followers, steps
    }

    enum StepKeys: String, CodingKey {
        case at, `do`, expect, broker, session, account, follower, clOrdID, symbol, side, qty, type, price, tif
        case bid, ask, cumQty, status, count, reason
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: Keys.self)
        format = try c.decode(String.self, forKey: .format)
        guard format == CopyScenario.formatName else {
            throw DecodingError.dataCorruptedError(
                forKey: .format, in: c, debugDescription: "expected \(CopyScenario.formatName), got \(format)")
        }
        title = try c.decode(String.self, forKey: .title)
        description = try c.decodeIfPresent(String.self, forKey: .description) ?? ""
        let startText = try c.decode(String.self, forKey: .start)
        guard let start = UTCTimestamp(startText) else {
            throw DecodingError.dataCorruptedError(
                forKey: .start, in: c, debugDescription: "'\(startText)' is not a UTCTimestamp")
        }
        self.start = start
        brokers = try c.decode([Broker].self, forKey: .brokers)
        provider = try c.decode(Provider.self, forKey: .provider)
        followers = try c.decode([Follower].self, forKey: .followers)
        var list = try c.nestedUnkeyedContainer(forKey: .steps)
        var steps: [Step] = []
        while !list.isAtEnd {
            let s = try list.nestedContainer(keyedBy: StepKeys.self)
            steps.append(try CopyScenario.step(s))
        }
        self.steps = steps
        try validate()
    }

    static func step(_ s: KeyedDecodingContainer<StepKeys>) throws -> Step {
        func fail(_ key: StepKeys, _ text: String) -> DecodingError {
            DecodingError.dataCorruptedError(forKey: key, in: s, debugDescription: text)
        }
        func decimal(_ key: StepKeys) throws -> FixedDecimal? {
            guard let text = try s.decodeIfPresent(String.self, forKey: key) else { return nil }
            guard let value = FixedDecimal(text) else { throw fail(key, "'\(text)' is not a decimal") }
            return value
        }
        func required<T>(_ value: T?, _ key: StepKeys) throws -> T {
            guard let value else { throw fail(key, "\(key.rawValue) is required for this step") }
            return value
        }
        func string(_ key: StepKeys) throws -> String { try s.decode(String.self, forKey: key) }
        let atText = try string(.at)
        guard let atMs = SessionScript.parseDuration(atText) else {
            throw fail(.at, "'\(atText)' is not a duration (250ms, 2s, 1m)")
        }
        let side = try s.decodeIfPresent(String.self, forKey: .side).map { text in
            switch text.lowercased() {
            case "buy": return SimSide.buy
            case "sell": return SimSide.sell
            default: throw fail(.side, "side '\(text)' is not buy or sell")
            }
        }
        let action: Action
        if let verb = try s.decodeIfPresent(String.self, forKey: .do) {
            switch verb {
            case "quote":
                action = .quote(
                    broker: try string(.broker), symbol: try string(.symbol), bid: try required(decimal(.bid), .bid),
                    ask: try required(decimal(.ask), .ask))
            case "order":
                let typeText = try s.decodeIfPresent(String.self, forKey: .type) ?? "market"
                let ordType: SimOrdType
                switch typeText.lowercased() {
                case "market": ordType = .market
                case "limit": ordType = .limit
                case "stop": ordType = .stop
                default: throw fail(.type, "type '\(typeText)' is not market, limit or stop")
                }
                let tifText = try s.decodeIfPresent(String.self, forKey: .tif) ?? "day"
                let tif: SimTimeInForce
                switch tifText.lowercased() {
                case "day": tif = .day
                case "gtc": tif = .goodTillCancel
                case "ioc": tif = .immediateOrCancel
                case "fok": tif = .fillOrKill
                default: throw fail(.tif, "tif '\(tifText)' is not day, gtc, ioc or fok")
                }
                let price = try decimal(.price)
                if ordType != .market && price == nil { throw fail(.price, "a \(typeText) order needs a price") }
                let request = SimOrderRequest(
                    clOrdID: try string(.clOrdID), account: try string(.account), symbol: try string(.symbol),
                    side: try required(side, .side), quantity: try required(decimal(.qty), .qty), ordType: ordType,
                    price: ordType == .limit ? price : nil, stopPx: ordType == .stop ? price : nil, timeInForce: tif)
                action = .order(Order(broker: try string(.broker), request: request))
            case "cancel":
                action = .cancel(
                    broker: try string(.broker), account: try string(.account), clOrdID: try string(.clOrdID))
            case "disconnect":
                action = .disconnect(broker: try string(.broker), session: try string(.session))
            case "reconnect":
                action = .reconnect(broker: try string(.broker), session: try string(.session))
            default:
                throw fail(.do, "unknown action '\(verb)' (quote, order, cancel, disconnect, reconnect)")
            }
        } else if let check = try s.decodeIfPresent(String.self, forKey: .expect) {
            switch check {
            case "order":
                let status = try s.decodeIfPresent(String.self, forKey: .status).map { text in
                    let statuses: [String: SimOrdStatus] = [
                        "new": .new, "partially-filled": .partiallyFilled, "filled": .filled, "canceled": .canceled,
                        "rejected": .rejected, "expired": .expired,
                    ]
                    guard let status = statuses[text] else {
                        throw fail(
                            .status, "status '\(text)' is not one of \(statuses.keys.sorted().joined(separator: ", "))")
                    }
                    return status
                }
                let count = try s.decodeIfPresent(Int.self, forKey: .count) ?? 1
                guard count >= 0 else { throw fail(.count, "count must be 0 or more") }
                action = .expectOrders(
                    OrderExpectation(
                        broker: try string(.broker), account: try string(.account),
                        symbol: try s.decodeIfPresent(String.self, forKey: .symbol), side: side,
                        orderQty: try decimal(.qty), cumQty: try decimal(.cumQty), status: status, count: count))
            case "position":
                action = .expectPosition(
                    broker: try string(.broker), account: try string(.account), symbol: try string(.symbol),
                    quantity: try required(decimal(.qty), .qty))
            case "skip":
                action = .expectSkip(follower: try string(.follower), reason: try string(.reason))
            default:
                throw fail(.expect, "unknown expectation '\(check)' (order, position, skip)")
            }
        } else {
            throw fail(.do, "a step needs \"do\" or \"expect\"")
        }
        return Step(atMs: atMs, action: action)
    }

    /// Cross-references: every broker, session, follower and symbol a step names exists, and
    /// steps are in time order.
    func validate() throws {
        func fail(_ text: String) -> DecodingError {
            DecodingError.dataCorrupted(DecodingError.Context(codingPath: [], debugDescription: "\(title): \(text)"))
        }
        let names = brokers.map(\.name)
        guard Set(names).count == names.count else { throw fail("broker names repeat") }
        func symbols(_ broker: String) throws -> [String] {
            guard let b = self.broker(broker) else { throw fail("unknown broker \(broker)") }
            do {
                return try b.configuration(readFile: { _ in "" }).instruments.map(\.symbol)
            } catch {
                throw fail("broker \(broker): \(error)")
            }
        }
        func session(_ broker: String, _ name: String) throws {
            guard self.broker(broker)?.sessions[name] != nil else {
                throw fail("broker \(broker) has no session \(name)")
            }
        }
        _ = try symbols(provider.broker)
        try session(provider.broker, provider.session)
        for f in followers {
            _ = try symbols(f.broker)
            try session(f.broker, f.session)
        }
        var last: Int64 = 0
        for step in steps {
            guard step.atMs >= last else { throw fail("steps are not in time order at \(step.atMs)ms") }
            last = step.atMs
            switch step.action {
            case .quote(let broker, let symbol, _, _):
                guard try symbols(broker).contains(symbol) else { throw fail("\(broker) does not list \(symbol)") }
            case .order(let order):
                guard try symbols(order.broker).contains(order.request.symbol) else {
                    throw fail("\(order.broker) does not list \(order.request.symbol)")
                }
            case .cancel(let broker, _, _):
                _ = try symbols(broker)
            case .expectOrders(let e):
                let listed = try symbols(e.broker)
                if let symbol = e.symbol, !listed.contains(symbol) { throw fail("\(e.broker) does not list \(symbol)") }
            case .expectPosition(let broker, _, let symbol, _):
                guard try symbols(broker).contains(symbol) else { throw fail("\(broker) does not list \(symbol)") }
            case .disconnect(let broker, let name), .reconnect(let broker, let name):
                try session(broker, name)
            case .expectSkip(let follower, _):
                guard followers.contains(where: { $0.name == follower }) else {
                    throw fail("unknown follower \(follower)")
                }
            }
        }
    }
}
