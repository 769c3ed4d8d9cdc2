import Testing

@testable import FIXCore

@Suite struct GroupTests {
    @Test func walksNestedGroups() throws {
        let m = rawMessage(header("8") + "|" + erBody + "|58=done")
        let parties = try m.groupEntries(countTag: 453, in: fix44)
        #expect(parties.count == 2)
        #expect(parties.map { $0[448] } == ["BRK-A", "CLIENT"])
        #expect(try parties[1].int(452) == 3)
        #expect(parties[0].group?.countTag == 453)
        #expect(parties[0].isGroupEntry)
        #expect(try parties[0].groupEntries(countTag: 802).isEmpty)
        let subs = try parties[1].groupEntries(countTag: 802)
        #expect(subs.count == 1)
        #expect(subs[0][523] == "desk7")
        #expect(try subs[0].int(803) == 9)
        // The entry's range covers its nested group, the top level steps over both.
        #expect(parties[1].range.contains(try #require(m.firstIndex(of: 803))))
        let top = m.topLevel(in: fix44)
        #expect(top[58] == "done")
        #expect(top[448] == nil)
        #expect(try top.decimal(151) == 2000)
        // Absent groups read as empty; tags that are no group are refused.
        #expect(try m.groupEntries(countTag: 136, in: fix44).isEmpty)
        #expect(throws: FIXGroupError.notAGroup(countTag: 55, msgType: "8")) {
            try m.groupEntries(countTag: 55, in: fix44)
        }
    }

    @Test func detectsCountMismatch() throws {
        let tooMany = rawMessage(header("8") + "|" + erBody.replacingOccurrences(of: "453=2", with: "453=3"))
        #expect(throws: FIXGroupError.countMismatch(countTag: 453, declared: 3, found: 2)) {
            try tooMany.groupEntries(countTag: 453, in: fix44)
        }
        let nested = rawMessage(header("8") + "|" + erBody.replacingOccurrences(of: "802=1", with: "802=0"))
        let parties = try nested.groupEntries(countTag: 453, in: fix44)
        #expect(throws: FIXGroupError.countMismatch(countTag: 802, declared: 0, found: 1)) {
            try parties[1].groupEntries(countTag: 802)
        }
        let bad = rawMessage(header("8") + "|" + erBody.replacingOccurrences(of: "453=2", with: "453=two"))
        #expect(throws: FIXGroupError.badCount(countTag: 453, value: "two")) {
            try bad.groupEntries(countTag: 453, in: fix44)
        }
    }

    @Test func readsHeaderGroups() throws {
        let m = rawMessage(header("0") + "|627=2|628=HUB1|630=7|628=HUB2")
        let hops = try m.groupEntries(countTag: 627, in: fix44)
        #expect(hops.map { $0[628] } == ["HUB1", "HUB2"])
        #expect(try hops[0].intIfPresent(630) == 7)
        #expect(try hops[1].intIfPresent(630) == nil)
    }

    @Test func topLevelSkipsGroupMembersWithTheSameTag() throws {
        // In this broker's dictionary Text (58) is a top-level field and a member of NoCustomLegs.
        let custom = try DataDictionary(xml: try customDictionaryXML(), source: "broker-FIX44.xml")
        let m = rawMessage(header("8") + "|" + erBody + "|5002=1|5003=L1|5004=10|58=in the leg|5001=VIP|58=top level")
        #expect(custom.validate(m) == nil)
        let top = m.topLevel(in: custom)
        #expect(top[58] == "top level")
        #expect(m[58] == "in the leg")
        let legs = try m.groupEntries(countTag: 5002, in: custom)
        #expect(legs.count == 1)
        #expect(legs[0][58] == "in the leg")
        #expect(try legs[0].decimal(5004) == 10)
    }

    @Test func canonicalCopyOrdersBodyAndKeepsGroupsTogether() throws {
        // Received out of canonical order: body fields unsorted, a header field late, group
        // members out of dictionary order.
        let received = rawMessage(
            "35=8|49=BRK|56=CB|34=9|52=20261126-09:30:00.123|37=O-1|17=EX-1|453=2|448=A|452=1|447=D|448=B|447=D|452=3"
                + "|802=1|523=desk|803=9|150=0|39=0|55=EUR/USD|54=1|151=002000.00|14=0|6=0|58=x|43=Y")
        let options = {
            var o = ValidationOptions()
            o.validateFieldsOutOfOrder = false
            o.validateUnorderedGroupFields = false
            return o
        }()
        #expect(fix44.validate(received, options: options) == nil)
        #expect(fix44.validate(received)?.reason == .repeatingGroupFieldsOutOfOrder)
        let copy = fix44.canonicalBuilder(copying: received).build()
        #expect(
            copy.debugDescription.split(separator: "|").dropFirst(2).dropLast().joined(separator: "|")
                == "35=8|34=9|43=Y|49=BRK|52=20261126-09:30:00.123|56=CB|6=0|14=0|17=EX-1|37=O-1|39=0|54=1|55=EUR/USD"
                + "|58=x|150=0|151=002000.00|453=2|448=A|447=D|452=1|448=B|447=D|452=3|802=1|523=desk|803=9")
        #expect(fix44.validate(copy) == nil)
        // Valid messages survive a canonical copy byte for byte.
        let valid = rawMessage(header("8") + "|" + erBody)
        #expect(fix44.canonicalBuilder(copying: valid).build() == valid)
    }

    @Test func canonicalCopyOfAnUnknownMsgTypeSortsTheBody() {
        let m = rawMessage(header("U9") + "|5001=b|58=a|1=c")
        let copy = fix44.canonicalBuilder(copying: m).build()
        #expect(copy.debugDescription.contains("|56=CB|1=c|58=a|5001=b|10="))
    }

    @Test func builderRemovesWholeGroups() {
        var b = FIXMessageBuilder(msgType: "8")
        b.set(37, "O-1")
        b.group(453, count: 1) { g in
            g.append(448, "A")
        }
        b.removeGroup(453)
        b.group(453, count: 1) { g in
            g.append(448, "B")
        }
        #expect(b.build().debugDescription.contains("|37=O-1|453=1|448=B|10="))
    }
}
