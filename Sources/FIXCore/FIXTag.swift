/// Tag numbers the engine itself reads or writes. Application code may use these or the generated
/// field names in `FIXMessages`.
public enum FIXTag {
    public static let account = 1
    public static let avgPx = 6
    public static let beginSeqNo = 7
    public static let beginString = 8
    public static let bodyLength = 9
    public static let checkSum = 10
    public static let clOrdID = 11
    public static let cumQty = 14
    public static let currency = 15
    public static let endSeqNo = 16
    public static let execID = 17
    public static let execRefID = 19
    public static let securityIDSource = 22
    public static let lastPx = 31
    public static let lastQty = 32
    public static let msgSeqNum = 34
    public static let msgType = 35
    public static let newSeqNo = 36
    public static let orderID = 37
    public static let orderQty = 38
    public static let ordStatus = 39
    public static let ordType = 40
    public static let origClOrdID = 41
    public static let possDupFlag = 43
    public static let price = 44
    public static let refSeqNum = 45
    public static let securityID = 48
    public static let senderCompID = 49
    public static let senderSubID = 50
    public static let sendingTime = 52
    public static let side = 54
    public static let symbol = 55
    public static let targetCompID = 56
    public static let targetSubID = 57
    public static let text = 58
    public static let timeInForce = 59
    public static let transactTime = 60
    public static let signature = 89
    public static let secureDataLen = 90
    public static let secureData = 91
    public static let signatureLength = 93
    public static let rawDataLength = 95
    public static let rawData = 96
    public static let possResend = 97
    public static let encryptMethod = 98
    public static let stopPx = 99
    public static let ordRejReason = 103
    public static let heartBtInt = 108
    public static let testReqID = 112
    public static let onBehalfOfCompID = 115
    public static let origSendingTime = 122
    public static let gapFillFlag = 123
    public static let deliverToCompID = 128
    public static let resetSeqNumFlag = 141
    public static let senderLocationID = 142
    public static let targetLocationID = 143
    public static let execType = 150
    public static let leavesQty = 151
    public static let allocAccount = 79
    public static let allocQty = 80
    public static let noAllocs = 78
    public static let xmlDataLen = 212
    public static let xmlData = 213
    public static let refTagID = 371
    public static let refMsgType = 372
    public static let sessionRejectReason = 373
    public static let businessRejectRefID = 379
    public static let businessRejectReason = 380
    public static let maxMessageSize = 383
    public static let testMessageIndicator = 464
    public static let username = 553
    public static let password = 554
    public static let nextExpectedMsgSeqNum = 789
    public static let lastMsgSeqNumProcessed = 369
    public static let noHops = 627

    /// Length fields and the data fields they announce, as FIX 4.4 pairs them. A data field may
    /// contain SOH and is read by its length.
    public static let standardDataFields: [Int: Int] = [
        90: 91, 93: 89, 95: 96, 212: 213, 348: 349, 350: 351, 352: 353, 354: 355, 356: 357, 358: 359,
        360: 361, 362: 363, 364: 365, 445: 446, 618: 619, 621: 622,
    ]

    /// The standard header of FIX 4.4 (besides 8, 9 and 35), in the order the specification lists it.
    public static let standardHeader: [Int] = [
        49, 56, 115, 128, 90, 91, 34, 50, 142, 57, 143, 116, 144, 129, 145, 43, 97, 52, 122, 212, 213, 347, 369,
        627, 628, 629, 630,
    ]

    /// The standard trailer (besides 10).
    public static let standardTrailer: [Int] = [93, 89]
}
