/// The first problem the validator found: the reason and the offending tag (0 when none).
struct ValidationFailure {
    var reason: SessionRejectReason
    var tag: Int
}

extension DataDictionary {
    /// The session-level problem with `message`, or `nil` when it is valid for this dictionary.
    ///
    /// Checks, with QuickFIX's meaning of each switch in `options`: tag numbers (0), required
    /// fields (1), fields not defined for the message type (2), undefined tags (3), empty values
    /// (4), enumerated values (5), value formats (6), MsgType (11), repeated tags (13), header,
    /// body and trailer order (14), repeating-group order (15) and NumInGroup counts (16).
    /// The first problem in wire order is reported; a missing required field is noticed where its
    /// message, header, trailer or group entry ends. CompID (9) and SendingTime (10) are the
    /// session layer's to check, and so is whether the application supports a defined MsgType
    /// (``isDefined(msgType:)``).
    ///
    /// Allocates nothing when the message is valid.
    public func validate(_ message: FIXMessage, options: ValidationOptions = ValidationOptions()) -> FIXRejectInfo? {
        guard options.useDataDictionary else { return nil }
        guard let failure = validationFailure(message, options: options) else { return nil }
        let refTag: Int? = failure.reason == .invalidMsgType ? nil : failure.tag
        return FIXRejectInfo(failure.reason, refTagID: refTag, refMsgType: message.msgType)
    }

    func validationFailure(_ message: FIXMessage, options: ValidationOptions) -> ValidationFailure? {
        let tables = self.tables
        return message.fields.withUnsafeBufferPointer { fields in
            message.bytes.withUnsafeReadableBytes { raw in
                withUnsafeTemporaryAllocation(of: ValidationFrame.self, capacity: tables.maxDepth + 1) { frames in
                    let words = tables.scratchWords + (fields.count + 63) / 64
                    return withUnsafeTemporaryAllocation(of: UInt64.self, capacity: words) { scratch in
                        var v = Validator(
                            tables: tables, options: options, fields: fields, raw: raw, frames: frames,
                            scratch: scratch)
                        return v.run()
                    }
                }
            }
        }
    }
}

/// An open repeating group while validating.
struct ValidationFrame {
    var scope: Int
    /// First scratch word of the current entry's presence bits.
    var bits: Int
    var lastPosition: Int
    var entries: Int
    var declared: Int
    var started: Bool
}

/// One validation pass over a message's fields, in wire order, with a stack of open groups.
struct Validator {
    let t: CompiledTables
    let options: ValidationOptions
    let fields: UnsafeBufferPointer<FIXFieldRef>
    let raw: UnsafeRawBufferPointer
    let frames: UnsafeMutableBufferPointer<ValidationFrame>
    let scratch: UnsafeMutableBufferPointer<UInt64>
    var depth = 0
    var nextBits = 0

    init(
        tables: CompiledTables, options: ValidationOptions, fields: UnsafeBufferPointer<FIXFieldRef>,
        raw: UnsafeRawBufferPointer, frames: UnsafeMutableBufferPointer<ValidationFrame>,
        scratch: UnsafeMutableBufferPointer<UInt64>
    ) {
        self.t = tables
        self.options = options
        self.fields = fields
        self.raw = raw
        self.frames = frames
        self.scratch = scratch
    }

    @inline(__always)
    func value(_ f: FIXFieldRef) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(rebasing: raw[f.valueStart..<(f.valueStart + f.valueLength)])
    }

    @inline(__always)
    func isSet(_ word: Int, _ position: Int) -> Bool {
        scratch[word + position >> 6] & (1 << UInt64(position & 63)) != 0
    }

    @inline(__always)
    func set(_ word: Int, _ position: Int) {
        scratch[word + position >> 6] |= 1 << UInt64(position & 63)
    }

    @inline(__always)
    func clear(_ word: Int, count: Int) {
        for i in 0..<count { scratch[word + i] = 0 }
    }

    @inline(__always)
    func markPresent(_ tag: Int, scope: Int, bits: Int) {
        let m = t.topLevelMember(tag, in: scope)
        if m != CompiledTables.notFound { set(bits, Int(m & 0xFFFF)) }
    }

    /// The first required member of `scope` missing from the presence bits at `word`, or 0.
    func missingRequired(scope: Int, bits word: Int) -> Int {
        let s = t.scopes[scope]
        for w in 0..<Int(s.wordCount) {
            let missing = t.requiredWords[Int(s.requiredStart) + w] & ~scratch[word + w]
            if missing != 0 {
                return Int(t.positionTags[Int(s.positionStart) + w * 64 + missing.trailingZeroBitCount])
            }
        }
        return 0
    }

    /// Format and enumeration checks of one value (4, 5, 6), from the tag's `info` bits.
    @inline(__always)
    func checkValue(_ v: UnsafeRawBufferPointer, info: UInt32) -> SessionRejectReason? {
        if v.isEmpty {
            // Without ValidateFieldsHaveValues an empty value is tolerated, format included.
            return options.validateFieldsHaveValues ? .tagSpecifiedWithoutValue : nil
        }
        let ok: Bool
        // The raw codes of ValueCheck, switched on directly: no enum conversion on the hot path.
        switch info & CompiledTables.checkMask {
        case ValueCheck.int.rawValue: ok = FIXFieldType.parseInt(v) != nil
        case ValueCheck.decimal.rawValue: ok = FixedDecimal.isWellFormed(v)
        case ValueCheck.char.rawValue: ok = v.count == 1
        case ValueCheck.boolean.rawValue:
            ok = v.count == 1 && (v[0] == UInt8(ascii: "Y") || v[0] == UInt8(ascii: "N"))
        case ValueCheck.utcTimestamp.rawValue: ok = UTCTimestamp.isWellFormed(v)
        case ValueCheck.utcTimeOnly.rawValue: ok = UTCTimeOnly.parse(v) != nil
        case ValueCheck.date.rawValue: ok = FIXDate.parse(v) != nil
        case ValueCheck.monthYear.rawValue: ok = MonthYear.parse(v) != nil
        default: ok = true
        }
        if !ok { return .incorrectDataFormat }
        let enumIndex = Int(info >> CompiledTables.enumShift)
        if enumIndex != 0 {
            if info & CompiledTables.multiValueBit != 0 {
                var start = 0
                for i in 0...v.count where i == v.count || v[i] == UInt8(ascii: " ") {
                    let token = UnsafeRawBufferPointer(rebasing: v[start..<i])
                    if !t.enumContains(enumIndex - 1, token) { return .valueIncorrect }
                    start = i + 1
                }
            } else if !t.enumContains(enumIndex - 1, v) {
                return .valueIncorrect
            }
        }
        return nil
    }

    /// Opens a group whose count field (already checked for format) is `f`.
    @inline(__always)
    mutating func push(scope: Int, count f: FIXFieldRef) {
        let declared = FIXFieldType.parseInt(value(f)) ?? 0
        frames[depth] = ValidationFrame(
            scope: scope, bits: nextBits, lastPosition: -1, entries: 0, declared: declared, started: false)
        nextBits += Int(t.scopes[scope].wordCount)
        depth += 1
    }

    /// Closes the innermost group: the last entry's required fields, then the count.
    mutating func pop() -> ValidationFailure? {
        let frame = frames[depth - 1]
        depth -= 1
        nextBits = frame.bits
        if frame.started {
            let missing = missingRequired(scope: frame.scope, bits: frame.bits)
            if missing != 0 { return ValidationFailure(reason: .requiredTagMissing, tag: missing) }
        }
        if frame.entries != frame.declared {
            return ValidationFailure(
                reason: .incorrectNumInGroupCount, tag: Int(t.scopes[frame.scope].countTag))
        }
        return nil
    }

    mutating func run() -> ValidationFailure? {
        let n = fields.count
        guard n >= 4 else { return ValidationFailure(reason: .requiredTagMissing, tag: FIXTag.msgType) }
        let bodyScope = t.messageScope(value(fields[2]))
        if bodyScope < 0 { return ValidationFailure(reason: .invalidMsgType, tag: FIXTag.msgType) }

        let headerBits = 0
        let trailerBits = headerBits + Int(t.scopes[CompiledTables.headerScope].wordCount)
        let bodyBits = trailerBits + Int(t.scopes[CompiledTables.trailerScope].wordCount)
        nextBits = bodyBits + Int(t.scopes[bodyScope].wordCount)
        let topLevelBits = t.scratchWords
        clear(0, count: nextBits)
        clear(topLevelBits, count: (n + 63) / 64)
        // The framing fields were checked by the decoder.
        markPresent(Int(fields[0]._tag), scope: CompiledTables.headerScope, bits: headerBits)
        markPresent(Int(fields[1]._tag), scope: CompiledTables.headerScope, bits: headerBits)
        markPresent(Int(fields[2]._tag), scope: CompiledTables.headerScope, bits: headerBits)
        markPresent(Int(fields[n - 1]._tag), scope: CompiledTables.trailerScope, bits: trailerBits)

        let headerSection = 0
        let bodySection = 1
        let trailerSection = 2
        var section = headerSection
        var i = 3
        while i < n - 1 {
            let f = fields[i]
            let tag = Int(f._tag)
            // Tag 0, and tags written with leading zeros, are not tag numbers.
            let previous = fields[i - 1]
            let tagStart = previous.valueStart + previous.valueLength + 1
            if tag == 0 || raw[tagStart] == UInt8(ascii: "0") {
                return ValidationFailure(reason: .invalidTagNumber, tag: tag)
            }

            // Inside groups: a member continues the innermost group, anything else closes it.
            var inGroup = false
            while depth > 0 {
                let frame = frames[depth - 1]
                let scope = t.scopes[frame.scope]
                let member = t.member(tag, in: frame.scope)
                if member == CompiledTables.notFound {
                    if let failure = pop() { return failure }
                    continue
                }
                let position = Int(member & 0xFFFF)
                if tag == Int(scope.delimiter) {
                    if frame.started {
                        let missing = missingRequired(scope: frame.scope, bits: frame.bits)
                        if missing != 0 { return ValidationFailure(reason: .requiredTagMissing, tag: missing) }
                    }
                    clear(frame.bits, count: Int(scope.wordCount))
                    frames[depth - 1].entries += 1
                    frames[depth - 1].started = true
                } else {
                    // The first field of an entry must be the delimiter, whatever the switches say.
                    if !frame.started { return ValidationFailure(reason: .repeatingGroupFieldsOutOfOrder, tag: tag) }
                    if isSet(frame.bits, position) {
                        return ValidationFailure(
                            reason: options.validateUnorderedGroupFields
                                ? .repeatingGroupFieldsOutOfOrder : .tagAppearsMoreThanOnce,
                            tag: tag)
                    }
                    if options.validateUnorderedGroupFields && position < frame.lastPosition {
                        return ValidationFailure(reason: .repeatingGroupFieldsOutOfOrder, tag: tag)
                    }
                }
                frames[depth - 1].lastPosition = position
                set(frame.bits, position)
                if let reason = checkValue(value(f), info: t.info(tag)) {
                    return ValidationFailure(reason: reason, tag: tag)
                }
                let nested = Int(member >> 16)
                if nested != 0 { push(scope: nested - 1, count: f) }
                inGroup = true
                break
            }
            if inGroup {
                i += 1
                continue
            }

            // Top level: which section the tag belongs to, and whether it comes in order.
            set(topLevelBits, i)
            let info = t.info(tag)
            let scopeID: Int
            let bits: Int
            if info & CompiledTables.headerBit != 0 {
                if section != headerSection && options.validateFieldsOutOfOrder {
                    return ValidationFailure(reason: .tagSpecifiedOutOfRequiredOrder, tag: tag)
                }
                scopeID = CompiledTables.headerScope
                bits = headerBits
            } else if info & CompiledTables.trailerBit != 0 {
                section = trailerSection
                scopeID = CompiledTables.trailerScope
                bits = trailerBits
            } else {
                if section == trailerSection && options.validateFieldsOutOfOrder {
                    return ValidationFailure(reason: .tagSpecifiedOutOfRequiredOrder, tag: tag)
                }
                section = bodySection
                scopeID = bodyScope
                bits = bodyBits
            }
            let member = t.topLevelMember(tag, in: scopeID)
            if member != CompiledTables.notFound {
                let position = Int(member & 0xFFFF)
                if isSet(bits, position) { return ValidationFailure(reason: .tagAppearsMoreThanOnce, tag: tag) }
                set(bits, position)
                if let reason = checkValue(value(f), info: info) { return ValidationFailure(reason: reason, tag: tag) }
                let nested = Int(member >> 16)
                if nested != 0 { push(scope: nested - 1, count: f) }
            } else {
                if let failure = checkStray(at: i, tag: tag, info: info, topLevelBits: topLevelBits) {
                    return failure
                }
            }
            i += 1
        }
        while depth > 0 {
            if let failure = pop() { return failure }
        }
        var missing = missingRequired(scope: CompiledTables.headerScope, bits: headerBits)
        if missing == 0 { missing = missingRequired(scope: bodyScope, bits: bodyBits) }
        if missing == 0 { missing = missingRequired(scope: CompiledTables.trailerScope, bits: trailerBits) }
        if missing != 0 { return ValidationFailure(reason: .requiredTagMissing, tag: missing) }
        return nil
    }

    /// A top-level field that is no member of its section: undefined (3), not defined for the
    /// message type (2), or tolerated by AllowUnknownMsgFields / ValidateUserDefinedFields.
    func checkStray(at i: Int, tag: Int, info: UInt32, topLevelBits: Int) -> ValidationFailure? {
        let f = fields[i]
        if f.valueLength == 0 && options.validateFieldsHaveValues {
            return ValidationFailure(reason: .tagSpecifiedWithoutValue, tag: tag)
        }
        let defined = info & CompiledTables.definedBit != 0
        if defined, let reason = checkValue(value(f), info: info) {
            return ValidationFailure(reason: reason, tag: tag)
        }
        let userDefined = tag >= 5000
        let tolerated =
            (userDefined && !options.validateUserDefinedFields) || (!userDefined && options.allowUnknownMessageFields)
        if !tolerated {
            return ValidationFailure(reason: defined ? .tagNotDefinedForMessageType : .undefinedTag, tag: tag)
        }
        // Tolerated fields are still single: compare with the earlier top-level fields.
        for j in 3..<i where fields[j]._tag == f._tag && isSet(topLevelBits, j) {
            return ValidationFailure(reason: .tagAppearsMoreThanOnce, tag: tag)
        }
        return nil
    }
}

extension FixedDecimal {
    /// Whether `bytes` is a decimal number ``parse(_:)`` accepts, without building it.
    @inlinable
    static func isWellFormed(_ bytes: UnsafeRawBufferPointer) -> Bool {
        let n = bytes.count
        var i = 0
        if n > 0 && bytes[0] == UInt8(ascii: "-") { i = 1 }
        var digits = 0
        var significant = 0
        var scale = -1
        while i < n {
            let c = bytes[i]
            if c == UInt8(ascii: ".") {
                if scale >= 0 { return false }
                scale = 0
            } else {
                let d = c &- UInt8(ascii: "0")
                guard d < 10 else { return false }
                if significant > 0 || d != 0 { significant += 1 }
                digits += 1
                if scale >= 0 { scale += 1 }
            }
            i += 1
        }
        return digits > 0 && significant <= 38 && scale <= maximumScale
    }
}

extension UTCTimestamp {
    /// Whether `bytes` is a timestamp ``parse(_:)`` accepts, checked without computing the instant.
    @inlinable
    static func isWellFormed(_ bytes: UnsafeRawBufferPointer) -> Bool {
        let n = bytes.count
        guard n >= 17, n <= 27, n != 18, bytes[8] == UInt8(ascii: "-"), bytes[11] == UInt8(ascii: ":"),
            bytes[14] == UInt8(ascii: ":")
        else { return false }
        @inline(__always) func digit(_ i: Int) -> Int {
            let d = bytes[i] &- UInt8(ascii: "0")
            return d < 10 ? Int(d) : 1_000_000  // poisons any sum it enters
        }
        @inline(__always) func pair(_ i: Int) -> Int { digit(i) &* 10 &+ digit(i + 1) }
        let year = pair(0) &* 100 &+ pair(2)
        let month = pair(4)
        let day = pair(6)
        guard year < 10000, month >= 1, month <= 12, day >= 1, day <= daysInMonth(year: year, month: month),
            pair(9) < 24, pair(12) < 60, pair(15) <= 60
        else { return false }
        if n > 17 {
            guard bytes[17] == UInt8(ascii: ".") else { return false }
            for i in 18..<n where digit(i) > 9 { return false }
        }
        // Near the ends of the representable range only the parser knows.
        if year < 1678 || year > 2261 { return parse(bytes) != nil }
        return true
    }
}
