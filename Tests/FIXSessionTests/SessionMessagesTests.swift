import Testing

@testable import FIXSession

@Suite struct SessionMessagesTests {
    @Test func everyOneByteMsgTypeIsKnownExactlyWhenTheFIX44ListHasIt() {
        for b in UInt8(0)..<128 {
            let type = String(decoding: [b], as: UTF8.self)
            let expected = SessionMessageType.fix44.contains(type) || type == "U"
            #expect(SessionMessageType.isKnownFIX44(type) == expected, "MsgType \(type) (byte \(b))")
        }
        #expect(SessionMessageType.isKnownFIX44("8") && SessionMessageType.isKnownFIX44("D"))
        #expect(!SessionMessageType.isKnownFIX44("I") && !SessionMessageType.isKnownFIX44("O"))
    }

    @Test func longerMsgTypesAreLookedUpInTheList() {
        #expect(SessionMessageType.isKnownFIX44("AE") && SessionMessageType.isKnownFIX44("BH"))
        #expect(!SessionMessageType.isKnownFIX44("BI") && !SessionMessageType.isKnownFIX44("ZZ"))
        #expect(SessionMessageType.isKnownFIX44("U1") && SessionMessageType.isKnownFIX44("UXY"))
        #expect(!SessionMessageType.isKnownFIX44(""))
        #expect(!SessionMessageType.isKnownFIX44("é"), "a one-character type of two bytes")
    }
}
