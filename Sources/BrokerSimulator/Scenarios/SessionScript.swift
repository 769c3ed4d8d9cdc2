/// A session-level conformance scenario (`Specs/session/*.fixscript`), parsed.
///
/// The format is specified in `Specs/README.md`. The tester plays the counterparty of the system
/// under test (SUT): the simulator in echo mode (an acceptor) or CopyBridge (an initiator).
public struct SessionScript: Sendable, Equatable {
    /// The kinds of SUT a script can run against.
    public enum Target: String, Sendable, Equatable, CaseIterable {
        /// The bundled simulator, `Application=echo`, accepting the tester's connection.
        case echo
        /// CopyBridge's session as initiator, connecting to the tester.
        case initiator
    }

    /// A field value in a SEND or EXPECT line.
    public enum Value: Sendable, Equatable {
        /// The value exactly as written.
        case literal(String)
        /// SEND: the runner's current time plus `offsetMs`, as a UTCTimestamp with milliseconds.
        case now(offsetMs: Int64)
        /// EXPECT: present, any value.
        case any
        /// EXPECT: present and a valid UTCTimestamp.
        case timestamp
        /// EXPECT: the tag must not be present.
        case absent
        /// EXPECT: present, any value, remembered under a name.
        case save(String)
        /// SEND or EXPECT: the value remembered under a name.
        case saved(String)
    }

    public struct Field: Sendable, Equatable {
        public var tag: Int
        public var value: Value
    }

    /// One command of the script.
    public enum Action: Sendable, Equatable {
        /// Open the connection: dial the SUT (echo) or accept its connection (initiator).
        case connect
        /// The tester closes the connection.
        case disconnect
        /// Frame and send a message; the runner adds 8, 9, 49, 56, 52 and 10 unless listed.
        case send([Field])
        /// Send bytes as written (`|` is SOH); `{BODYLENGTH}` and `{CHECKSUM}` are computed.
        case sendRaw(String)
        /// The next message from the SUT must match these fields.
        case expect([Field])
        /// The SUT must close the connection within the timeout.
        case expectDisconnect
        /// Let time pass (simulated time when the runner drives the clock).
        case wait(ms: Int64)
        /// Nothing may arrive for this long.
        case expectNothing(ms: Int64)
    }

    public struct Step: Sendable, Equatable {
        public var line: Int
        /// Targets this step runs for (all of the script's unless inside `@when`).
        public var targets: Set<Target>
        public var action: Action
    }

    public var title: String
    public var targets: Set<Target>
    public var beginString: String
    public var testerCompID: String
    public var sutCompID: String
    /// Settings the SUT session needs, in order (`HeartBtInt=30`).
    public var settings: [(key: String, value: String)]
    /// How long an EXPECT or EXPECT-DISCONNECT waits.
    public var timeoutMs: Int64
    public var steps: [Step]

    /// The steps that run against `target`.
    public func steps(for target: Target) -> [Step] { steps.filter { $0.targets.contains(target) } }

    /// The value of a `@setting`.
    public func setting(_ key: String) -> String? { settings.first { $0.key == key }?.value }

    public static func == (lhs: SessionScript, rhs: SessionScript) -> Bool {
        lhs.title == rhs.title && lhs.targets == rhs.targets && lhs.beginString == rhs.beginString
            && lhs.testerCompID == rhs.testerCompID && lhs.sutCompID == rhs.sutCompID
            && lhs.settings.map(\.key) == rhs.settings.map(\.key)
            && lhs.settings.map(\.value) == rhs.settings.map(\.value) && lhs.timeoutMs == rhs.timeoutMs
            && lhs.steps == rhs.steps
    }
}

/// A line of a session script the parser cannot use.
public struct SessionScriptError: Error, Equatable, Sendable, CustomStringConvertible {
    public var line: Int
    public var reason: String

    public init(line: Int, reason: String) {
        self.line = line
        self.reason = reason
    }

    public var description: String { "line \(line): \(reason)" }
}

extension SessionScript {
    /// Parses a script; every error names its line.
    public static func parse(_ text: String) throws(SessionScriptError) -> SessionScript {
        var title: String? = nil
        var targets: Set<Target>? = nil
        var session: (String, String, String)? = nil
        var settings: [(key: String, value: String)] = []
        var timeoutMs: Int64 = 5000
        var steps: [Step] = []
        var when: Set<Target>? = nil
        var saved: Set<String> = []
        var lineNumber = 0
        for rawLine in text.split(separator: "\n", omittingEmptySubsequences: false) {
            lineNumber += 1
            let line = stripComment(String(rawLine)).simTrimmed
            if line.isEmpty { continue }
            let (word, rest) = splitWord(line)
            func fail(_ reason: String) -> SessionScriptError { SessionScriptError(line: lineNumber, reason: reason) }
            if word.hasPrefix("@") {
                guard steps.isEmpty || word == "@when" else { throw fail("\(word) must come before the first step") }
                switch word {
                case "@title":
                    guard !rest.isEmpty else { throw fail("@title needs a text") }
                    title = rest
                case "@targets":
                    targets = try parseTargets(rest, fail)
                case "@session":
                    let parts = rest.split(separator: " ").map(String.init)
                    guard parts.count == 3, parts[1].hasPrefix("TESTER="), parts[2].hasPrefix("SUT="),
                        parts[1].count > 7, parts[2].count > 4
                    else { throw fail("expected @session BEGINSTRING TESTER=COMPID SUT=COMPID") }
                    session = (parts[0], String(parts[1].dropFirst(7)), String(parts[2].dropFirst(4)))
                case "@setting":
                    guard let eq = rest.firstIndex(of: "="), eq != rest.startIndex else {
                        throw fail("expected @setting KEY=VALUE")
                    }
                    settings.append((String(rest[..<eq]), String(rest[rest.index(after: eq)...])))
                case "@timeout":
                    guard let ms = parseDuration(rest) else {
                        throw fail("'\(rest)' is not a duration (500ms, 5s, 2m)")
                    }
                    timeoutMs = ms
                case "@when":
                    guard let all = targets else { throw fail("@when needs @targets first") }
                    if rest == "any" {
                        when = nil
                    } else {
                        let chosen = try parseTargets(rest, fail)
                        guard chosen.isSubset(of: all) else {
                            throw fail("@when \(rest) names a target not in @targets")
                        }
                        when = chosen
                    }
                default:
                    throw fail("unknown directive \(word)")
                }
                continue
            }
            guard let all = targets, session != nil, title != nil else {
                throw fail("@title, @targets and @session must come before the first step")
            }
            let action: Action
            switch word {
            case "CONNECT", "DISCONNECT", "EXPECT-DISCONNECT":
                guard rest.isEmpty else { throw fail("\(word) takes no argument") }
                action = word == "CONNECT" ? .connect : (word == "DISCONNECT" ? .disconnect : .expectDisconnect)
            case "SEND", "EXPECT":
                let fields = try parseFields(rest, expect: word == "EXPECT", fail)
                for field in fields {
                    switch field.value {
                    case .saved(let name) where !saved.contains(name):
                        throw fail("{$\(name)} is used before a {SAVE:\(name)}")
                    case .save(let name): saved.insert(name)
                    case .literal, .now, .any, .timestamp, .absent, .saved: break
                    }
                }
                if word == "SEND" {
                    guard fields.contains(where: { $0.tag == 35 }), fields.contains(where: { $0.tag == 34 }) else {
                        throw fail("SEND needs MsgType (35) and MsgSeqNum (34)")
                    }
                    action = .send(fields)
                } else {
                    guard fields.contains(where: { $0.tag == 35 }) else { throw fail("EXPECT needs MsgType (35)") }
                    action = .expect(fields)
                }
            case "SEND-RAW":
                guard !rest.isEmpty else { throw fail("SEND-RAW needs the bytes to send") }
                action = .sendRaw(rest)
            case "WAIT", "EXPECT-NOTHING":
                guard let ms = parseDuration(rest) else { throw fail("'\(rest)' is not a duration (500ms, 5s, 2m)") }
                action = word == "WAIT" ? .wait(ms: ms) : .expectNothing(ms: ms)
            default:
                throw fail("unknown command \(word)")
            }
            steps.append(Step(line: lineNumber, targets: when ?? all, action: action))
        }
        guard let title, let targets, let session else {
            throw SessionScriptError(line: lineNumber, reason: "a script needs @title, @targets and @session")
        }
        guard !steps.isEmpty else { throw SessionScriptError(line: lineNumber, reason: "the script has no steps") }
        return SessionScript(
            title: title, targets: targets, beginString: session.0, testerCompID: session.1, sutCompID: session.2,
            settings: settings, timeoutMs: timeoutMs, steps: steps)
    }

    /// Removes a `#` comment (so field values cannot contain `#`).
    static func stripComment(_ line: String) -> String {
        guard let hash = line.firstIndex(of: "#") else { return line }
        return String(line[..<hash])
    }

    static func splitWord(_ line: String) -> (String, String) {
        guard let space = line.firstIndex(where: { $0 == " " || $0 == "\t" }) else { return (line, "") }
        return (String(line[..<space]), String(line[space...]).simTrimmed)
    }

    static func parseTargets(
        _ text: String, _ fail: (String) -> SessionScriptError
    ) throws(SessionScriptError) -> Set<Target> {
        var set: Set<Target> = []
        for word in text.split(separator: " ") {
            guard let target = Target(rawValue: String(word)) else {
                throw fail(
                    "unknown target '\(word)' (expected \(Target.allCases.map(\.rawValue).joined(separator: ", ")))")
            }
            set.insert(target)
        }
        guard !set.isEmpty else { throw fail("name at least one target") }
        return set
    }

    /// `250ms`, `5s`, `2m`.
    static func parseDuration(_ text: String) -> Int64? {
        let units: [(String, Int64)] = [("ms", 1), ("s", 1000), ("m", 60_000)]
        for (suffix, factor) in units where text.hasSuffix(suffix) {
            guard let n = Int64(text.dropLast(suffix.count)), n >= 0 else { return nil }
            return n * factor
        }
        return nil
    }

    static func parseFields(
        _ text: String, expect: Bool, _ fail: (String) -> SessionScriptError
    ) throws(SessionScriptError) -> [Field] {
        var fields: [Field] = []
        for item in text.split(separator: "|") {
            let entry = String(item).simTrimmed
            if entry.isEmpty { continue }
            guard let eq = entry.firstIndex(of: "="), let tag = Int(entry[..<eq]), tag > 0 else {
                throw fail("'\(entry)' is not TAG=VALUE")
            }
            let raw = String(entry[entry.index(after: eq)...])
            fields.append(Field(tag: tag, value: try parseValue(raw, expect: expect, fail)))
        }
        guard !fields.isEmpty else { throw fail("no fields") }
        return fields
    }

    static func parseValue(
        _ raw: String, expect: Bool, _ fail: (String) -> SessionScriptError
    ) throws(SessionScriptError) -> Value {
        guard raw.hasPrefix("{"), raw.hasSuffix("}") else {
            guard !raw.contains("{") else { throw fail("a placeholder must be the whole value: '\(raw)'") }
            return .literal(raw)
        }
        let inner = String(raw.dropFirst().dropLast())
        func onlyIn(_ expectSide: Bool, _ value: Value) throws(SessionScriptError) -> Value {
            guard expect == expectSide else {
                throw fail("{\(inner)} is only allowed in \(expectSide ? "EXPECT" : "SEND") lines")
            }
            return value
        }
        switch inner {
        case "ANY": return try onlyIn(true, .any)
        case "TIME": return try onlyIn(true, .timestamp)
        case "ABSENT": return try onlyIn(true, .absent)
        case "NOW": return try onlyIn(false, .now(offsetMs: 0))
        default: break
        }
        if inner.hasPrefix("NOW+") || inner.hasPrefix("NOW-") {
            guard let ms = parseDuration(String(inner.dropFirst(4))) else {
                throw fail("'\(raw)' is not {NOW+duration} or {NOW-duration}")
            }
            return try onlyIn(false, .now(offsetMs: inner.hasPrefix("NOW+") ? ms : -ms))
        }
        if inner.hasPrefix("SAVE:"), inner.count > 5 { return try onlyIn(true, .save(String(inner.dropFirst(5)))) }
        if inner.hasPrefix("$"), inner.count > 1 { return .saved(String(inner.dropFirst())) }
        throw fail("unknown placeholder \(raw)")
    }
}
