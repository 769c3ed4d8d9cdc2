import Foundation
import Testing

@testable import FIXCore

@Suite struct DataDictionaryTests {
    @Test func loadsFIX44() throws {
        let d = fix44
        #expect(d.beginString == "FIX.4.4")
        #expect(d.messages.count == 93)
        #expect(d.field(tag: 11)?.name == "ClOrdID")
        #expect(d.field(named: "Side")?.tag == 54)
        #expect(d.field(tag: 54)?.values.first == FieldValue(value: "1", description: "BUY"))
        #expect(d.message(msgType: "D")?.name == "NewOrderSingle")
        #expect(d.isDefined(msgType: "8"))
        #expect(!d.isDefined(msgType: "ZZ"))
        #expect(d.isAdmin(msgType: "A"))
        #expect(!d.isAdmin(msgType: "D"))
        #expect(d.header.requiredTags == [8, 9, 35, 49, 56, 34, 52])
        #expect(d.trailer.memberTags == [93, 89, 10])
        #expect(d.isHeaderField(52) && !d.isHeaderField(11))
        #expect(d.isTrailerField(93))
    }
}
