import Foundation
import Testing

@testable import FIXCore

/// A broker's customised copy of FIX 4.4: extra fields, an extra message, extra fields and a
/// group on ExecutionReport, and an extra OrdType value.
func customDictionaryXML() throws -> String {
    var xml = try #require(String(data: try repositoryFile("Specs/FIX44.xml"), encoding: .utf8))
    func patch(_ anchor: String, _ replacement: String) throws {
        let range = try #require(xml.range(of: anchor), "anchor \(anchor) not found")
        xml.replaceSubrange(range, with: replacement)
    }
    try patch(
        " </fields>",
        """
          <field number='5001' name='CustomerTag' type='STRING' />
          <field number='5002' name='NoCustomLegs' type='NUMINGROUP' />
          <field number='5003' name='CustomLegRef' type='STRING' />
          <field number='5004' name='CustomLegQty' type='QTY' />
          <field number='5005' name='AlertLevel' type='INT'>
           <value enum='1' description='LOW' />
           <value enum='2' description='HIGH' />
          </field>
         </fields>
        """)
    try patch(
        " </messages>",
        """
          <message name='BrokerAlert' msgtype='U1' msgcat='app'>
           <field name='AlertLevel' required='Y' />
           <field name='Text' required='N' />
          </message>
         </messages>
        """)
    try patch(
        "<message name='ExecutionReport' msgtype='8' msgcat='app'>\n   <field name='OrderID' required='Y' />",
        """
        <message name='ExecutionReport' msgtype='8' msgcat='app'>
           <field name='OrderID' required='Y' />
           <field name='CustomerTag' required='N' />
           <group name='NoCustomLegs' required='N'>
            <field name='CustomLegRef' required='N' />
            <field name='CustomLegQty' required='Y' />
            <field name='Text' required='N' />
           </group>
        """)
    try patch(
        "<field number='40' name='OrdType' type='CHAR'>",
        "<field number='40' name='OrdType' type='CHAR'>\n   <value enum='Z' description='BROKER_SPECIAL' />")
    return xml
}

@Suite struct DictionaryLoadTests {
    @Test func loadsTheReferenceFileUnchanged() throws {
        // Specs/FIX44.xml is the reference file with two attribution comment lines on top.
        let specs = try repositoryFile("Specs/FIX44.xml")
        var lines = 0
        var cut = specs.startIndex
        for (i, byte) in zip(specs.indices, specs) where byte == UInt8(ascii: "\n") {
            lines += 1
            if lines == 2 {
                cut = i + 1
                break
            }
        }
        #expect(specs[specs.startIndex..<cut].starts(with: Array("<!--".utf8)))
        let reference = specs[cut...]
        #expect(reference.starts(with: Array("<fix type='FIX' major='4' minor='4'".utf8)))
        let shared = "/work/shared/reference/FIX44.xml"
        if let original = FileManager.default.contents(atPath: shared) {
            #expect(original == Data(reference))
        }
        let d = try DataDictionary(xml: Data(reference), source: "FIX44.xml")
        #expect(d.messages.count == fix44.messages.count)
        #expect(d.fields.count == fix44.fields.count)
        #expect(d.fields.count == 912)
    }

    @Test func exposesStructure() throws {
        let d = fix44
        let er = try #require(d.message(msgType: "8"))
        #expect(er.name == "ExecutionReport")
        #expect(er.category == "app")
        #expect(er.requiredTags == [37, 17, 150, 39, 54, 151, 14, 6])
        let parties = try #require(d.group(countTag: 453, msgType: "8"))
        #expect(parties.name == "NoPartyIDs")
        #expect(parties.delimiter == 448)
        #expect(parties.memberTags == [448, 447, 452, 802])
        let subs = try #require(parties.group(countTag: 802))
        #expect(subs.memberTags == [523, 803])
        // A group reached through a component is one object wherever the component is used.
        #expect(d.group(countTag: 453, msgType: "D") === parties)
        // A group whose first member is a component: the delimiter is the component's first field.
        #expect(d.group(countTag: 146, msgType: "V")?.delimiter == 55)
        #expect(d.group(countTag: 627, msgType: "0")?.memberTags == [628, 629, 630])
        #expect(d.isMessageField(453, msgType: "8"))
        #expect(!d.isMessageField(448, msgType: "8"))
        #expect(d.isRequiredField(11, msgType: "D"))
        #expect(!d.isRequiredField(44, msgType: "D"))
        // OrderQtyData is required in NewOrderSingle but its fields are not.
        #expect(!d.isRequiredField(38, msgType: "D"))
        #expect(d.values(of: 40).map(\.value).prefix(3) == ["1", "2", "3"])
        #expect(d.field(tag: 18)?.isMultipleValue == true)
    }

    @Test func dataFieldPairsMatchTheStandardOnes() {
        #expect(fix44.dataFieldPairs == FIXTag.standardDataFields)
        #expect(fix44.decoderConfiguration().dataFields == FIXTag.standardDataFields)
    }

    @Test func loadsACustomisedDictionary() throws {
        let custom = try DataDictionary(xml: try customDictionaryXML(), source: "broker-FIX44.xml")
        #expect(custom.field(tag: 5001)?.name == "CustomerTag")
        #expect(custom.message(msgType: "U1")?.name == "BrokerAlert")
        #expect(custom.isDefined(msgType: "U1"))
        #expect(!fix44.isDefined(msgType: "U1"))
        #expect(custom.group(countTag: 5002, msgType: "8")?.requiredTags == [5004])

        let alert = rawMessage(header("U1") + "|58=margin call|5005=2")
        #expect(custom.validate(alert) == nil)
        #expect(fix44.validate(alert)?.reason == .invalidMsgType)
        #expect(custom.validate(rawMessage(header("U1") + "|5005=3"))?.reason == .valueIncorrect)
        #expect(
            custom.validate(rawMessage(header("U1") + "|58=x"))
                == FIXRejectInfo(.requiredTagMissing, refTagID: 5005, refMsgType: "U1"))

        let er = header("8") + "|" + erBody + "|5001=VIP|5002=2|5003=L1|5004=10|5003=L2|5004=5|58=leg two"
        #expect(custom.validate(rawMessage(er)) == nil)
        #expect(fix44.validate(rawMessage(er)) == FIXRejectInfo(.undefinedTag, refTagID: 5001, refMsgType: "8"))
        // The custom group's required member.
        let missing = header("8") + "|" + erBody + "|5002=1|5003=L1"
        #expect(
            custom.validate(rawMessage(missing)) == FIXRejectInfo(.requiredTagMissing, refTagID: 5004, refMsgType: "8"))
        // The extra OrdType value.
        let special = header("D") + "|" + nosBody.replacingOccurrences(of: "40=2", with: "40=Z")
        #expect(custom.validate(rawMessage(special)) == nil)
        #expect(fix44.validate(rawMessage(special))?.reason == .valueIncorrect)
    }

    func loadError(_ xml: String) -> DataDictionaryError? {
        do {
            _ = try DataDictionary(xml: xml, source: "broker.xml")
            return nil
        } catch {
            return error
        }
    }

    func minimal(fields: String = "", messages: String = "", components: String = "") -> String {
        """
        <fix type='FIX' major='4' minor='4'>
         <header>
          <field name='BeginString' required='Y' />
         </header>
         <trailer>
          <field name='CheckSum' required='Y' />
         </trailer>
         <messages>
        \(messages)
         </messages>
         <components>
        \(components)
         </components>
         <fields>
          <field number='8' name='BeginString' type='STRING' />
          <field number='10' name='CheckSum' type='STRING' />
          <field number='11' name='ClOrdID' type='STRING' />
        \(fields)
         </fields>
        </fix>
        """
    }

    @Test func minimalDictionaryLoads() throws {
        let d = try DataDictionary(
            xml: minimal(
                messages:
                    "<message name='Order' msgtype='D' msgcat='app'><field name='ClOrdID' required='Y'/></message>"),
            source: "min.xml")
        #expect(d.message(msgType: "D")?.requiredTags == [11])
    }

    @Test func loadErrorsNameFileAndProblem() throws {
        let undefined = try #require(
            loadError(
                minimal(messages: "<message name='Order' msgtype='D'><field name='Price' required='Y'/></message>")))
        #expect(undefined.problem == .undefinedField(name: "Price", referencedBy: "message Order"))
        #expect(undefined.file == "broker.xml")
        #expect(undefined.line != nil)
        #expect(undefined.description.hasPrefix("broker.xml:"))
        #expect(undefined.description.contains("undefined field Price referenced by message Order"))

        let duplicate = try #require(loadError(minimal(fields: "<field number='11' name='Other' type='STRING' />")))
        #expect(duplicate.problem == .duplicateFieldNumber(11, names: ["ClOrdID", "Other"]))
        #expect(duplicate.description.contains("duplicate field number 11"))

        let duplicateName = try #require(
            loadError(minimal(fields: "<field number='12' name='ClOrdID' type='STRING' />")))
        #expect(duplicateName.problem == .duplicateFieldName("ClOrdID"))

        let badType = try #require(loadError(minimal(fields: "<field number='44' name='Price' type='REAL' />")))
        #expect(badType.problem == .badType(field: "Price", type: "REAL"))
        #expect(badType.description.contains("unknown type 'REAL'"))

        let badNumber = try #require(loadError(minimal(fields: "<field number='x1' name='Price' type='PRICE' />")))
        #expect(badNumber.problem == .badFieldNumber(name: "Price", number: "x1"))

        let component = try #require(
            loadError(
                minimal(messages: "<message name='Order' msgtype='D'><component name='Nope' required='Y'/></message>")))
        #expect(component.problem == .undefinedComponent(name: "Nope", referencedBy: "message Order"))

        let recursive = try #require(
            loadError(minimal(components: "<component name='Loop'><component name='Loop' required='N'/></component>")))
        #expect(recursive.problem == .recursiveComponent("Loop"))

        let twice = try #require(
            loadError(minimal(messages: "<message name='A' msgtype='D'/><message name='B' msgtype='D'/>")))
        #expect(twice.problem == .duplicateMessage(msgType: "D"))

        let member = try #require(
            loadError(
                minimal(
                    messages:
                        "<message name='A' msgtype='D'><field name='ClOrdID' required='Y'/><field name='ClOrdID' required='N'/></message>"
                )))
        #expect(member.problem == .duplicateMember(field: "ClOrdID", in: "message A"))

        let empty = try #require(
            loadError(
                minimal(
                    fields: "<field number='453' name='NoPartyIDs' type='NUMINGROUP' />",
                    messages: "<message name='A' msgtype='D'><group name='NoPartyIDs' required='N'></group></message>"))
        )
        #expect(empty.problem == .emptyGroup("NoPartyIDs"))

        let syntax = try #require(loadError("<fix major='4' minor='4'><header></fix>"))
        guard case .xmlSyntax = syntax.problem else {
            Issue.record("expected an XML syntax error, got \(syntax)")
            return
        }
        #expect(syntax.description.hasPrefix("broker.xml:1: malformed XML"))

        for broken in [
            "<fix major='4' minor='4'>\n<header>", "<fix major='4 minor='4'/>", "<fix><field name='A' x/></fix>",
        ] {
            let e = try #require(loadError(broken), "\(broken) loaded")
            guard case .xmlSyntax = e.problem else {
                Issue.record("expected an XML syntax error for \(broken), got \(e)")
                continue
            }
        }

        let notFix = try #require(loadError("<dictionary/>"))
        guard case .notADictionary = notFix.problem else {
            Issue.record("expected notADictionary, got \(notFix)")
            return
        }

        do {
            _ = try DataDictionary(contentsOfFile: "/nonexistent/FIX44.xml")
            Issue.record("a missing file loaded")
        } catch {
            #expect(error.file == "/nonexistent/FIX44.xml")
            guard case .unreadable = error.problem else {
                Issue.record("expected unreadable, got \(error)")
                return
            }
        }
    }
}
