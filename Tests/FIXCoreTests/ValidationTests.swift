import Testing

@testable import FIXCore

/// A valid NewOrderSingle body (after the header).
let nosBody = "11=ORD-1|1=ACC|38=002000.00|40=2|44=1.10500|54=1|55=EUR/USD|59=0|60=20261126-09:30:00.123"

/// A valid ExecutionReport body with two parties, the second with a nested sub-party group.
let erBody =
    "6=0|11=ORD-1|14=0|17=EX-1|37=O-1|39=0|54=1|55=EUR/USD|150=0|151=2000"
    + "|453=2|448=BRK-A|447=D|452=1|448=CLIENT|447=D|452=3|802=1|523=desk7|803=9"

@Suite struct ValidationTests {
    func reject(_ fields: String, _ options: ValidationOptions = ValidationOptions()) -> FIXRejectInfo? {
        fix44.validate(rawMessage(fields), options: options)
    }

    func expectReject(
        _ fields: String, _ reason: SessionRejectReason, tag: Int?, options: ValidationOptions = ValidationOptions(),
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        let info = reject(fields, options)
        let msgType = String(fields.split(separator: "|")[0].dropFirst(3))
        #expect(
            info == FIXRejectInfo(reason, refTagID: tag, refMsgType: msgType), "\(fields)",
            sourceLocation: sourceLocation)
        #expect(info?.text == reason.text, sourceLocation: sourceLocation)
    }

    @Test func validMessagesPass() {
        #expect(reject(header("D") + "|" + nosBody) == nil)
        #expect(reject(header("8") + "|" + erBody) == nil)
        #expect(reject(header("0")) == nil)
        #expect(reject(header("A") + "|98=0|108=30|141=Y") == nil)
        // A header group (NoHops) and a data field containing SOH.
        #expect(reject(header("A") + "|627=1|628=HUB|629=20261126-09:29:59.000|95=3|96=a\u{1}b|98=0|108=30") == nil)
    }

    @Test func invalidTagNumber() {
        expectReject(header("D") + "|" + nosBody + "|0=x", .invalidTagNumber, tag: 0)
        expectReject(
            header("D") + "|011=ORD-1|1=ACC|38=1|40=1|54=1|55=X|60=20261126-09:30:00", .invalidTagNumber, tag: 11)
    }

    @Test func requiredTagMissing() {
        expectReject(header("D") + "|1=ACC|38=1|40=1|54=1|55=X|60=20261126-09:30:00", .requiredTagMissing, tag: 11)
        expectReject("35=D|34=2|52=20261126-09:30:00.123|56=CB|" + nosBody, .requiredTagMissing, tag: 49)
        // A required group of a required component (MDFullGrp's NoMDEntries).
        expectReject(header("W") + "|55=EUR/USD", .requiredTagMissing, tag: 268)
    }

    @Test func tagNotDefinedForMessageType() {
        expectReject(header("D") + "|" + nosBody + "|37=O-1", .tagNotDefinedForMessageType, tag: 37)
        // A group member outside its group.
        expectReject(
            header("8") + "|" + erBody.replacingOccurrences(of: "|453=2", with: "|448=X|453=2"),
            .tagNotDefinedForMessageType, tag: 448)
    }

    @Test func undefinedTag() {
        expectReject(header("D") + "|" + nosBody + "|4999=x", .undefinedTag, tag: 4999)
        expectReject(header("D") + "|" + nosBody + "|5001=x", .undefinedTag, tag: 5001)
    }

    @Test func tagWithoutValue() {
        expectReject(header("D") + "|" + nosBody + "|58=", .tagSpecifiedWithoutValue, tag: 58)
        expectReject(header("D") + "|" + nosBody + "|4999=", .tagSpecifiedWithoutValue, tag: 4999)
    }

    @Test func valueOutOfRange() {
        expectReject(
            header("D") + "|" + nosBody.replacingOccurrences(of: "54=1", with: "54=Z"), .valueIncorrect, tag: 54)
        // Multiple-value strings check each value.
        #expect(reject(header("D") + "|" + nosBody + "|18=1 G") == nil)
        expectReject(header("D") + "|" + nosBody + "|18=1 ZZ", .valueIncorrect, tag: 18)
        // Multi-character enumerations.
        expectReject(header("D") + "|" + nosBody + "|22=ZZ", .valueIncorrect, tag: 22)
        #expect(reject(header("D") + "|" + nosBody + "|22=4|48=US0378331005") == nil)
    }

    @Test func incorrectDataFormat() {
        expectReject(
            header("D") + "|" + nosBody.replacingOccurrences(of: "38=002000.00", with: "38=2k"),
            .incorrectDataFormat, tag: 38)
        expectReject(
            header("D") + "|" + nosBody.replacingOccurrences(of: "60=20261126-09:30:00.123", with: "60=yesterday"),
            .incorrectDataFormat, tag: 60)
        expectReject(header("D") + "|" + nosBody + "|114=X", .incorrectDataFormat, tag: 114)
        expectReject("35=D|34=two|49=BRK|52=20261126-09:30:00.123|56=CB|" + nosBody, .incorrectDataFormat, tag: 34)
    }

    @Test func invalidMsgType() {
        expectReject(header("ZZ") + "|" + nosBody, .invalidMsgType, tag: nil)
    }

    @Test func tagAppearsMoreThanOnce() {
        expectReject(header("D") + "|" + nosBody + "|11=ORD-2", .tagAppearsMoreThanOnce, tag: 11)
        expectReject(header("D") + "|34=3|" + nosBody, .tagAppearsMoreThanOnce, tag: 34)
    }

    @Test func tagOutOfRequiredOrder() {
        // A header field after the body.
        expectReject(header("D") + "|" + nosBody + "|50=DESK", .tagSpecifiedOutOfRequiredOrder, tag: 50)
        // A body field after the trailer.
        expectReject(header("D") + "|93=3|89=sig|" + nosBody, .tagSpecifiedOutOfRequiredOrder, tag: 11)
    }

    @Test func repeatingGroupOutOfOrder() {
        // The first field of an entry is not the delimiter.
        expectReject(
            header("8") + "|" + erBody.replacingOccurrences(of: "453=2|448=BRK-A|447=D", with: "453=2|447=D|448=BRK-A"),
            .repeatingGroupFieldsOutOfOrder, tag: 447)
        // Members out of dictionary order inside an entry.
        expectReject(
            header("8") + "|" + erBody.replacingOccurrences(of: "448=BRK-A|447=D|452=1", with: "448=BRK-A|452=1|447=D"),
            .repeatingGroupFieldsOutOfOrder, tag: 447)
    }

    @Test func numInGroupMismatch() {
        expectReject(
            header("8") + "|" + erBody.replacingOccurrences(of: "453=2", with: "453=3"),
            .incorrectNumInGroupCount, tag: 453)
        expectReject(
            header("8") + "|" + erBody.replacingOccurrences(of: "453=2", with: "453=1"),
            .incorrectNumInGroupCount, tag: 453)
        // Nested group.
        expectReject(
            header("8") + "|" + erBody.replacingOccurrences(of: "802=1", with: "802=2"),
            .incorrectNumInGroupCount, tag: 802)
        expectReject(
            header("8") + "|" + erBody.replacingOccurrences(of: "453=2", with: "453=x"),
            .incorrectDataFormat, tag: 453)
    }
}

@Suite struct ValidationSwitchTests {
    func check(
        _ fields: String, _ configure: (inout ValidationOptions) -> Void
    ) -> (
        strict: FIXRejectInfo?, relaxed: FIXRejectInfo?
    ) {
        var options = ValidationOptions()
        configure(&options)
        let m = rawMessage(fields)
        return (fix44.validate(m), fix44.validate(m, options: options))
    }

    @Test func useDataDictionary() {
        let r = check(header("ZZ") + "|0=x") { $0.useDataDictionary = false }
        #expect(r.strict?.reason == .invalidMsgType)
        #expect(r.relaxed == nil)
    }

    @Test func validateFieldsOutOfOrder() {
        let r = check(header("D") + "|" + nosBody + "|50=DESK") { $0.validateFieldsOutOfOrder = false }
        #expect(r.strict?.reason == .tagSpecifiedOutOfRequiredOrder)
        #expect(r.relaxed == nil)
        // Out of order is tolerated, repetition is not.
        let twice = check(header("D") + "|" + nosBody + "|49=OTHER") { $0.validateFieldsOutOfOrder = false }
        #expect(twice.strict?.reason == .tagSpecifiedOutOfRequiredOrder)
        #expect(twice.relaxed?.reason == .tagAppearsMoreThanOnce)
        let trailerFirst = check(header("D") + "|93=3|89=sig|" + nosBody) { $0.validateFieldsOutOfOrder = false }
        #expect(trailerFirst.relaxed == nil)
    }

    @Test func validateFieldsHaveValues() {
        let r = check(header("D") + "|" + nosBody + "|58=|126=") { $0.validateFieldsHaveValues = false }
        #expect(r.strict?.reason == .tagSpecifiedWithoutValue)
        #expect(r.relaxed == nil)
    }

    @Test func validateUserDefinedFields() {
        let r = check(header("D") + "|" + nosBody + "|5001=x|9999=y") { $0.validateUserDefinedFields = false }
        #expect(r.strict == FIXRejectInfo(.undefinedTag, refTagID: 5001, refMsgType: "D"))
        #expect(r.relaxed == nil)
        // Below 5000 the switch does not apply.
        let low = check(header("D") + "|" + nosBody + "|4999=x") { $0.validateUserDefinedFields = false }
        #expect(low.relaxed?.reason == .undefinedTag)
        // Tolerated user-defined fields still appear once.
        let twice = check(header("D") + "|" + nosBody + "|5001=x|5001=y") { $0.validateUserDefinedFields = false }
        #expect(twice.relaxed == FIXRejectInfo(.tagAppearsMoreThanOnce, refTagID: 5001, refMsgType: "D"))
    }

    @Test func allowUnknownMessageFields() {
        let r = check(header("D") + "|" + nosBody + "|37=O-1|4999=x") { $0.allowUnknownMessageFields = true }
        #expect(r.strict?.reason == .tagNotDefinedForMessageType)
        #expect(r.relaxed == nil)
        // User-defined fields are governed by ValidateUserDefinedFields instead.
        let user = check(header("D") + "|" + nosBody + "|5001=x") { $0.allowUnknownMessageFields = true }
        #expect(user.relaxed?.reason == .undefinedTag)
        // Known fields still have their format checked.
        let format = check(header("D") + "|" + nosBody + "|37=O-1|31=abc") { $0.allowUnknownMessageFields = true }
        #expect(format.relaxed == FIXRejectInfo(.incorrectDataFormat, refTagID: 31, refMsgType: "D"))
    }

    @Test func validateUnorderedGroupFields() {
        let swapped = erBody.replacingOccurrences(of: "448=BRK-A|447=D|452=1", with: "448=BRK-A|452=1|447=D")
        let r = check(header("8") + "|" + swapped) { $0.validateUnorderedGroupFields = false }
        #expect(r.strict?.reason == .repeatingGroupFieldsOutOfOrder)
        #expect(r.relaxed == nil)
        // The delimiter must still come first.
        let noDelimiter = erBody.replacingOccurrences(of: "453=2|448=BRK-A|447=D", with: "453=2|447=D|448=BRK-A")
        #expect(
            check(header("8") + "|" + noDelimiter) { $0.validateUnorderedGroupFields = false }.relaxed?.reason
                == .repeatingGroupFieldsOutOfOrder)
        // A member repeated within one entry.
        let repeated = erBody.replacingOccurrences(of: "448=BRK-A|447=D|452=1", with: "448=BRK-A|447=D|452=1|447=P")
        let twice = check(header("8") + "|" + repeated) { $0.validateUnorderedGroupFields = false }
        #expect(twice.strict?.reason == .repeatingGroupFieldsOutOfOrder)
        #expect(twice.relaxed == FIXRejectInfo(.tagAppearsMoreThanOnce, refTagID: 447, refMsgType: "8"))
    }
}
