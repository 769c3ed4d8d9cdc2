import FIXCore
import TestSupport
import Testing

@testable import CopyEngine

@Suite("Configuration and schema")
struct ConfigurationTests {
    @Test func settingsBlocksParseIntoTypedConfiguration() throws {
        let provider = try ProviderConfig(settings: [
            "ProviderID": "alice", "SessionName": "alpha-dropcopy", "Account": "ALICE-01", "Equity": "100000",
        ])
        #expect(
            provider
                == ProviderConfig(
                    providerID: "alice", sessionName: "alpha-dropcopy", account: "ALICE-01", equity: .fixed(100_000)))

        let f = try FollowerConfig(settings: [
            "FollowerID": "bob", "Provider": "alice:1.0, carol:0.5", "SessionName": "beta-trading", "Account": "BOB-07",
            "Equity": "10000", "Sizing": "equity-ratio", "Ratio": "1.0", "LotSize": "1000", "Rounding": "floor",
            "BelowMin": "skip", "Reverse": "N", "MaxSignalAgeMs": "2000", "MaxPriceDeviationBps": "20",
            "AllowSymbols": "EUR/USD, GBP*", "DenySymbols": "XAU/USD", "TradingHours": "07:00-21:00,22:30-06:00",
            "TradingDays": "Mon-Fri", "CatchUp": "if-not-worse", "MaxOrderQty": "50000", "MinQty": "2000",
        ])
        #expect(
            f.providers == [
                ProviderLink(providerID: "alice", weight: 1), ProviderLink(providerID: "carol", weight: dec("0.5")),
            ])
        #expect(f.equity == .fixed(10_000))
        #expect(f.lotSize == 1000 && f.minQty == 2000 && f.maxOrderQty == 50_000 && f.maxPositionQty == 0)
        #expect(f.maxSignalAgeMs == 2000 && f.maxPriceDeviationBps == 20)
        #expect(f.allowSymbols == ["EUR/USD", "GBP*"] && f.denySymbols == ["XAU/USD"])
        #expect(f.catchUp == .ifNotWorse)
        #expect(f.tradingHours.windows == [.init(start: 420, end: 1260), .init(start: 1350, end: 360)])
        #expect(f.tradingHours.days == 0b0011111)
        #expect(f.symbolFilter("GBP/USD") == nil)
        #expect(f.symbolFilter("XAU/USD") == .symbolDenied)
        #expect(f.symbolFilter("USD/JPY") == .symbolNotAllowed)

        let s = try BrokerSessionConfig(
            name: "gamma",
            settings: [
                "SymbolMap": "EUR/USD:EURUSD.m,XAU/USD:GOLD", "SymbolSuffix": ".m", "SymbolRemoveSlash": "Y",
                "QtyUnit": "lots", "ContractSize": "100000", "ContractSizes": "XAU/USD:100", "OrderMode": "block",
                "OrdType": "limit", "TimeInForce": "FOK", "RetryLimit": "3", "CloseThenOpen": "Y",
                // QuickFIX keys live in the same block and are not ours to judge.
                "SocketConnectHost": "127.0.0.1", "HeartBtInt": "30",
            ])
        #expect(s.symbolMap.brokerSymbol(for: "EUR/USD") == "EURUSD.m")
        #expect(s.symbolMap.brokerSymbol(for: "XAU/USD") == "GOLD")
        #expect(s.symbolMap.brokerSymbol(for: "GBP/USD") == "GBPUSD.m")
        #expect(s.symbolMap.canonicalSymbol(for: "GBPUSD.m") == "GBP/USD")
        #expect(s.symbolMap.canonicalSymbol(for: "GOLD") == "XAU/USD")
        #expect(s.contractSize(for: "XAU/USD") == 100 && s.contractSize(for: "EUR/USD") == 100_000)
        #expect(
            s.orderMode == .block && s.ordType == .limit && s.timeInForce == .fok && s.retryLimit == 3
                && s.closeThenOpen)
    }

    /// The table is the single source of defaults: parsing only the required keys must give the
    /// same values as the structs' own defaults, key by key.
    @Test func schemaDefaultsAgreeWithTypedDefaults() throws {
        let p = try ProviderConfig(settings: ["ProviderID": "a", "SessionName": "s", "Account": "A"])
        #expect(p == ProviderConfig(providerID: "a", sessionName: "s", account: "A"))
        let f = try FollowerConfig(settings: ["FollowerID": "b", "Provider": "a", "SessionName": "s", "Account": "B"])
        #expect(
            f
                == FollowerConfig(
                    followerID: "b", providers: [ProviderLink(providerID: "a")], sessionName: "s", account: "B"))
        let s = try BrokerSessionConfig(name: "s", settings: [:])
        #expect(s == BrokerSessionConfig(name: "s"))
    }

    @Test func everySchemaKeyIsReadByTheParser() throws {
        // A key the parser ignored would keep its default; a deliberately odd value must show up.
        for block in CopyConfigBlock.allCases {
            for key in CopyConfigSchema.keys(in: block) {
                #expect(!key.doc.isEmpty, "\(key.name) has no doc")
                let odd: String
                switch key.type {
                case .string: odd = "zz"
                case .decimal: odd = "7"
                case .integer: odd = "7"
                case .boolean: odd = key.defaultValue == "Y" ? "N" : "Y"
                case .choice(let words): odd = words.first { $0 != key.defaultValue }!
                case .list: odd = "ZZZ"
                case .providerLinks: odd = "zz:2"
                case .symbolMap, .decimalMap: odd = "ZZ:7"
                case .timeWindows: odd = "01:00-02:00"
                case .weekdays: odd = "Sun"
                case .equity: odd = "7"
                case .lossLimit: odd = "7%"
                case .timeOfDay: odd = "07:30"
                }
                var settings: [String: String]
                switch block {
                case .provider: settings = ["ProviderID": "a", "SessionName": "s", "Account": "A"]
                case .follower: settings = ["FollowerID": "b", "Provider": "a", "SessionName": "s", "Account": "B"]
                case .session: settings = [:]
                }
                let base = settings
                settings[key.name] = odd
                let changed: Bool
                switch block {
                case .provider: changed = try ProviderConfig(settings: settings) != ProviderConfig(settings: base)
                case .follower: changed = try FollowerConfig(settings: settings) != FollowerConfig(settings: base)
                case .session:
                    changed =
                        try BrokerSessionConfig(name: "s", settings: settings)
                        != BrokerSessionConfig(name: "s", settings: base)
                }
                #expect(changed, "[\(block.rawValue)] \(key.name) is not read")
            }
        }
    }

    @Test func badValuesAreNamedErrors() {
        #expect(
            throws: CopyConfigurationError(
                block: .follower, id: "b", key: "Sizing",
                message: "'lots' is not one of equity-ratio, fixed-ratio, fixed-qty, risk-percent")
        ) {
            try FollowerConfig(settings: [
                "FollowerID": "b", "Provider": "a", "SessionName": "s", "Account": "B", "Sizing": "lots",
            ])
        }
        #expect(throws: CopyConfigurationError(block: .follower, id: "b", key: "Ratioo", message: "unknown key")) {
            try FollowerConfig(settings: [
                "FollowerID": "b", "Provider": "a", "SessionName": "s", "Account": "B", "Ratioo": "1",
            ])
        }
        #expect(throws: CopyConfigurationError(block: .provider, id: "", key: "ProviderID", message: "is required")) {
            try ProviderConfig(settings: ["SessionName": "s", "Account": "A"])
        }
        #expect(
            throws: CopyConfigurationError(
                block: .follower, id: "b", key: "TradingHours", message: "'25:00-26:00' is not HH:MM-HH:MM")
        ) {
            try FollowerConfig(settings: [
                "FollowerID": "b", "Provider": "a", "SessionName": "s", "Account": "B", "TradingHours": "25:00-26:00",
            ])
        }
    }

    @Test func validationChecksReferences() {
        var config = setup(followers: [follower("bob", providers: [ProviderLink(providerID: "nobody")])])
        #expect(
            throws: CopyConfigurationError(
                block: .follower, id: "bob", key: "Provider", message: "no provider named 'nobody'")
        ) {
            try config.validate()
        }
        config = setup(followers: [follower("bob", session: "nowhere")])
        #expect(
            throws: CopyConfigurationError(
                block: .follower, id: "bob", key: "SessionName", message: "no session named 'nowhere'")
        ) {
            try config.validate()
        }
        config = setup(followers: [follower("bob", account: "ALICE-01", session: "alpha")])
        #expect(
            throws: CopyConfigurationError(
                block: .follower, id: "bob", key: "Account", message: "account 'ALICE-01' on 'alpha' is used twice")
        ) {
            try config.validate()
        }
        config = setup(followers: [follower("bob") { $0.sizing = .fixedQty }])
        #expect(
            throws: CopyConfigurationError(
                block: .follower, id: "bob", key: "FixedQty", message: "fixed-qty sizing needs FixedQty > 0")
        ) {
            try config.validate()
        }
    }

    @Test func markdownReferenceListsEveryKey() {
        let md = CopyConfigSchema.markdownReference()
        for key in CopyConfigSchema.keys { #expect(md.contains("| `\(key.name)` |")) }
        #expect(md.contains("### [FOLLOWER]"))
        #expect(md.contains("| `Sizing` | equity-ratio|fixed-ratio|fixed-qty|risk-percent | `equity-ratio` |"))
    }

    @Test func tradingHoursHandleMidnightAndWeekdays() {
        // t0 is Tuesday 22:13:20 UTC.
        let evening = TradingHours(windows: [.init(start: 22 * 60, end: 6 * 60)], days: 0b0011111)
        #expect(evening.contains(t0))
        #expect(evening.contains(t0 + 3 * 3_600_000 * ms))  // Wednesday 01:13, window opened Tuesday
        #expect(!evening.contains(t0 + 9 * 3_600_000 * ms))  // Wednesday 07:13
        let office = TradingHours(windows: [.init(start: 8 * 60, end: 16 * 60)])
        #expect(!office.contains(t0))
        #expect(office.contains(t0 + 12 * 3_600_000 * ms))  // Wednesday 10:13
        let weekdays = TradingHours(windows: [], days: 0b0011111)
        #expect(!weekdays.contains(t0 + 4 * 86_400_000 * ms))  // Saturday
    }

    @Test func reasonCodesAreStableAndDocumented() {
        #expect(Set(ReasonCode.allCases.map(\.rawValue)).count == ReasonCode.allCases.count)
        #expect(ReasonCode.staleSignal.rawValue == "stale-signal")
        for r in ReasonCode.allCases { #expect(!r.explanation.isEmpty) }
    }
}

@Suite("ClOrdID scheme")
struct ClOrdIDTests {
    @Test func idsAreDeterministicShortAndDistinct() {
        let a = ClOrdIDScheme.make(prefix: "", "beta", "alpha", "EXEC-1", "bob", attempt: 0)
        #expect(a == ClOrdIDScheme.make(prefix: "", "beta", "alpha", "EXEC-1", "bob", attempt: 0))
        #expect(a.utf8.count == 15)
        #expect(a.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber) })
        #expect(a.hasSuffix("00"))
        let b = ClOrdIDScheme.make(prefix: "", "beta", "alpha", "EXEC-1", "bob", attempt: 1)
        #expect(b.hasSuffix("01") && b.dropLast(2) == a.dropLast(2))
        #expect(ClOrdIDScheme.make(prefix: "", "beta", "alpha", "EXEC-1", "carol", attempt: 0) != a)
        // Separators keep ("EXEC-1", "bob") apart from ("EXEC-1b", "ob").
        #expect(ClOrdIDScheme.make(prefix: "", "beta", "alpha", "EXEC-1b", "ob", attempt: 0) != a)
        let prefixed = ClOrdIDScheme.make(prefix: "CB-PROD-01234X", "beta", "alpha", "EXEC-1", "bob", attempt: 1295)
        #expect(prefixed.utf8.count == 29 && prefixed.hasPrefix("CB-PROD-01234X") && prefixed.hasSuffix("ZZ"))
    }

    /// ClOrdIDs are journaled and sit in brokers' books, and a restarted engine derives them
    /// again to recognise its orders: a version that made other IDs from the same inputs would
    /// resend what an earlier one sent. These values come from an independent implementation of
    /// the scheme (SipHash-2-4-128 per the reference code, then base62 and base36). The scheme
    /// first had 16 hash digits ("VOWXK0KnlOTCnKM3" for the first): 10 from one half of the hash,
    /// of which these keep the 10, and 6 from the other, of which they keep the last 3.
    @Test func idsNeverChangeBetweenVersions() {
        #expect(ClOrdIDScheme.make(prefix: "", "beta", "alpha", "EXEC-1", "bob", attempt: 0) == "VOWXK0KnlOKM300")
        #expect(ClOrdIDScheme.make(prefix: "", "beta", "alpha", "EXEC-1", "bob", attempt: 1) == "VOWXK0KnlOKM301")
        #expect(
            ClOrdIDScheme.make(prefix: "CB-PROD-01234X", "beta", "alpha", "EXEC-1", "bob", attempt: 1295)
                == "CB-PROD-01234XVOWXK0KnlOKM3ZZ")
        #expect(ClOrdIDScheme.make(prefix: "CB", "s", "E7", "b", "f", attempt: 37) == "CBnV7KhLkptxrSY11")
    }

    @Test("the digits are the hash's two halves in base 62, one digit at a time, for any input and attempt")
    func digitsAreBase62OfTheHash() {
        let alphabet = Array("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz".utf8)
        var rng = SplitMix64(seed: 5)
        for _ in 0..<2_000 {
            var hasher = ClOrdIDHasher()
            hasher.feed("S\(rng.next())")
            hasher.feed(String(repeating: "x", count: Int(rng.next() % 40)))
            let attempt = Int(rng.next() % UInt64(ClOrdIDScheme.maximumAttempt + 1))
            var state = hasher.h
            let (first, second) = state.finalize128()
            var high = first % 839_299_365_868_340_224
            var low = second % 238_328
            var digits = [UInt8](repeating: 0, count: 15)
            for i in (0..<10).reversed() {
                digits[i] = alphabet[Int(high % 62)]
                high /= 62
            }
            for i in (10..<13).reversed() {
                digits[i] = alphabet[Int(low % 62)]
                low /= 62
            }
            digits[13] = alphabet[attempt / 36]
            digits[14] = alphabet[attempt % 36]
            #expect(hasher.clOrdID(prefix: "CB", attempt: attempt) == "CB" + String(decoding: digits, as: UTF8.self))
        }
    }

    /// The reference implementation's first and sixteenth 128-bit test vectors (key 00...0f).
    @Test func sipHashMatchesTheReferenceVectors() {
        let key = (UInt64(0x0706_0504_0302_0100), UInt64(0x0F0E_0D0C_0B0A_0908))
        func digest(_ count: Int) -> [UInt8] {
            var h = SipHasher24(k0: key.0, k1: key.1)
            Array(UInt8(0)..<UInt8(count)).withUnsafeBytes { h.write($0) }
            let (a, b) = h.finalize128()
            return withUnsafeBytes(of: a.littleEndian) { Array($0) } + withUnsafeBytes(of: b.littleEndian) { Array($0) }
        }
        func hex(_ bytes: [UInt8]) -> String { bytes.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined() }
        #expect(hex(digest(0)) == "a3817f04ba25a8e66df67214c7550293")
        #expect(hex(digest(15)) == "5493e99933b0a8117e08ec0f97cfc3d9")
    }

    /// Word-at-a-time writes in any split give the state byte-at-a-time writes give.
    @Test func sipHashWritesInAnySplitAgreeWithBytewiseWrites() {
        var rng = SplitMix64(seed: 11)
        for _ in 0..<500 {
            let bytes = (0..<Int(rng.next() % 40)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            var bytewise = SipHasher24(k0: 1, k1: 2)
            for b in bytes { bytewise.write(b) }
            var split = SipHasher24(k0: 1, k1: 2)
            var i = 0
            while i < bytes.count {
                let n = Swift.min(Int(rng.next() % 11), bytes.count - i)
                bytes[i..<(i + n)].withUnsafeBytes { split.write($0) }
                i += n
            }
            #expect(split.finalize128() == bytewise.finalize128(), "\(bytes)")
        }
    }

    /// A late report of an order sent before the IDs were shortened is still recognised as ours.
    @Test func idsOfBothLengthsHaveOurShape() {
        #expect(ClOrdIDScheme.matches("VOWXK0KnlOKM300", prefix: ""))
        #expect(ClOrdIDScheme.matches("VOWXK0KnlOTCnKM300", prefix: ""))
        #expect(ClOrdIDScheme.matches("CBVOWXK0KnlOTCnKM300", prefix: "CB"))
        #expect(!ClOrdIDScheme.matches("VOWXK0KnlOTCnKM30", prefix: ""))
        #expect(!ClOrdIDScheme.matches("VOWXK0KnlO-CnKM300", prefix: ""))
        #expect(!ClOrdIDScheme.matches("XXVOWXK0KnlOKM300", prefix: "CB"))
    }

    @Test func noCollisionsAmongManyInputs() {
        var seen = Set<String>()
        for e in 0..<1000 {
            for f in 0..<10 {
                seen.insert(ClOrdIDScheme.make(prefix: "", "beta", "alpha", "E\(e)", "f\(f)", attempt: 0))
            }
        }
        #expect(seen.count == 10_000)
    }

    @Test func base64FollowsRFC4648() throws {
        let bytes: [UInt8] = Array(0...255)
        #expect(Base64.decode(Base64.encode(bytes)) == bytes)
        #expect(Base64.encode(Array("Man".utf8)) == "TWFu")
        #expect(Base64.encode(Array("Ma".utf8)) == "TWE=")
        #expect(Base64.decode("TQ==") == Array("M".utf8))
        #expect(Base64.decode("TQ=") == nil)
    }
}
