/// The value types of the FIX 4.4 data dictionary, named as the QuickFIX XML format names them.
public enum FIXFieldType: String, Sendable, CaseIterable, Codable {
    case int = "INT"
    case length = "LENGTH"
    case seqNum = "SEQNUM"
    case numInGroup = "NUMINGROUP"
    case dayOfMonth = "DAYOFMONTH"
    case tagNum = "TAGNUM"
    case float = "FLOAT"
    case qty = "QTY"
    case price = "PRICE"
    case priceOffset = "PRICEOFFSET"
    case amt = "AMT"
    case percentage = "PERCENTAGE"
    case char = "CHAR"
    case boolean = "BOOLEAN"
    case string = "STRING"
    case multipleValueString = "MULTIPLEVALUESTRING"
    case multipleStringValue = "MULTIPLESTRINGVALUE"
    case multipleCharValue = "MULTIPLECHARVALUE"
    case country = "COUNTRY"
    case currency = "CURRENCY"
    case exchange = "EXCHANGE"
    case utcTimestamp = "UTCTIMESTAMP"
    case utcTimeOnly = "UTCTIMEONLY"
    case utcDateOnly = "UTCDATEONLY"
    case utcDate = "UTCDATE"
    case localMktDate = "LOCALMKTDATE"
    case monthYear = "MONTHYEAR"
    case data = "DATA"
    case xmlData = "XMLDATA"
    case language = "LANGUAGE"
    case tzTimeOnly = "TZTIMEONLY"
    case tzTimestamp = "TZTIMESTAMP"
    case time = "TIME"
    case date = "DATE"

    /// Parses a dictionary type name, case-insensitively; unknown names are treated as strings by callers.
    public init?(dictionaryName: String) {
        self.init(rawValue: dictionaryName.uppercased())
    }

    /// Whether `bytes` is a well-formed value of this type (the check behind SessionRejectReason 6).
    public func accepts(_ bytes: UnsafeRawBufferPointer) -> Bool {
        switch self {
        case .int, .length, .seqNum, .numInGroup, .dayOfMonth, .tagNum:
            return FIXFieldType.parseInt(bytes) != nil
        case .float, .qty, .price, .priceOffset, .amt, .percentage:
            return FixedDecimal.parse(bytes) != nil
        case .char:
            return bytes.count == 1
        case .boolean:
            return bytes.count == 1 && (bytes[0] == UInt8(ascii: "Y") || bytes[0] == UInt8(ascii: "N"))
        case .utcTimestamp, .time:
            return UTCTimestamp.parse(bytes) != nil
        case .utcTimeOnly:
            return UTCTimeOnly.parse(bytes) != nil
        case .utcDateOnly, .utcDate, .localMktDate, .date:
            return FIXDate.parse(bytes) != nil
        case .monthYear:
            return MonthYear.parse(bytes) != nil
        case .string, .multipleValueString, .multipleStringValue, .multipleCharValue, .country, .currency,
            .exchange, .data, .xmlData, .language, .tzTimeOnly, .tzTimestamp:
            return true
        }
    }

    /// Parses a FIX integer: optional `-`, then 1 to 18 digits (leading zeros allowed).
    @inlinable
    public static func parseInt(_ bytes: UnsafeRawBufferPointer) -> Int? {
        let n = bytes.count
        guard n > 0 else { return nil }
        var i = 0
        var negative = false
        if bytes[0] == UInt8(ascii: "-") {
            negative = true
            i = 1
            guard n > 1 else { return nil }
        }
        var v = 0
        var significant = 0
        while i < n {
            let d = bytes[i] &- UInt8(ascii: "0")
            guard d < 10 else { return nil }
            if significant > 0 || d != 0 { significant += 1 }
            guard significant <= 18 else { return nil }
            v = v &* 10 &+ Int(d)
            i += 1
        }
        return negative ? -v : v
    }
}
