/// SessionRejectReason (373) values of FIX 4.4, with the standard text a Reject carries in Text (58).
public enum SessionRejectReason: Int, Sendable, CaseIterable, Codable {
    case invalidTagNumber = 0
    case requiredTagMissing = 1
    case tagNotDefinedForMessageType = 2
    case undefinedTag = 3
    case tagSpecifiedWithoutValue = 4
    case valueIncorrect = 5
    case incorrectDataFormat = 6
    case decryptionProblem = 7
    case signatureProblem = 8
    case compIDProblem = 9
    case sendingTimeAccuracyProblem = 10
    case invalidMsgType = 11
    case xmlValidationError = 12
    case tagAppearsMoreThanOnce = 13
    case tagSpecifiedOutOfRequiredOrder = 14
    case repeatingGroupFieldsOutOfOrder = 15
    case incorrectNumInGroupCount = 16
    case nonDataValueIncludesFieldDelimiter = 17
    case other = 99

    /// The standard text for Text (58).
    public var text: String {
        switch self {
        case .invalidTagNumber: return "Invalid tag number"
        case .requiredTagMissing: return "Required tag missing"
        case .tagNotDefinedForMessageType: return "Tag not defined for this message type"
        case .undefinedTag: return "Undefined Tag"
        case .tagSpecifiedWithoutValue: return "Tag specified without a value"
        case .valueIncorrect: return "Value is incorrect (out of range) for this tag"
        case .incorrectDataFormat: return "Incorrect data format for value"
        case .decryptionProblem: return "Decryption problem"
        case .signatureProblem: return "Signature problem"
        case .compIDProblem: return "CompID problem"
        case .sendingTimeAccuracyProblem: return "SendingTime accuracy problem"
        case .invalidMsgType: return "Invalid MsgType"
        case .xmlValidationError: return "XML Validation error"
        case .tagAppearsMoreThanOnce: return "Tag appears more than once"
        case .tagSpecifiedOutOfRequiredOrder: return "Tag specified out of required order"
        case .repeatingGroupFieldsOutOfOrder: return "Repeating group fields out of order"
        case .incorrectNumInGroupCount: return "Incorrect NumInGroup count for repeating group"
        case .nonDataValueIncludesFieldDelimiter: return "Non Data value includes field delimiter (SOH character)"
        case .other: return "Other"
        }
    }
}

/// Why a message failed validation: what a session-level Reject (35=3) reports.
public struct FIXRejectInfo: Error, Sendable, Equatable, CustomStringConvertible {
    /// SessionRejectReason (373).
    public var reason: SessionRejectReason
    /// RefTagID (371): the offending tag, when there is one.
    public var refTagID: Int?
    /// RefMsgType (372).
    public var refMsgType: String?
    /// Text (58); the standard text of the reason unless a more precise one is given.
    public var text: String

    public init(_ reason: SessionRejectReason, refTagID: Int? = nil, refMsgType: String? = nil, text: String? = nil) {
        self.reason = reason
        self.refTagID = refTagID
        self.refMsgType = refMsgType
        self.text = text ?? reason.text
    }

    public var description: String {
        var s = "\(text) (373=\(reason.rawValue)"
        if let t = refTagID { s += ", 371=\(t)" }
        if let m = refMsgType { s += ", 372=\(m)" }
        return s + ")"
    }
}

/// The validation switches QuickFIX users know from their settings files.
public struct ValidationOptions: Sendable, Equatable {
    /// UseDataDictionary: validate against the dictionary at all.
    public var useDataDictionary = true
    /// ValidateFieldsOutOfOrder: header, body and trailer fields must be in their sections.
    public var validateFieldsOutOfOrder = true
    /// ValidateFieldsHaveValues: empty values are rejected (reason 4).
    public var validateFieldsHaveValues = true
    /// ValidateUserDefinedFields: user-defined tags (5000 and above) are checked against the dictionary.
    public var validateUserDefinedFields = true
    /// AllowUnknownMsgFields: fields not defined for the message type are tolerated.
    public var allowUnknownMessageFields = false
    /// ValidateUnorderedGroupFields: group members must follow the dictionary's order.
    public var validateUnorderedGroupFields = true
    /// CheckFieldsOutOfOrder is the same switch under QuickFIX/J's name.
    public init() {}
}
