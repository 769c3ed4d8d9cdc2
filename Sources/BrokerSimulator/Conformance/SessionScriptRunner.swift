import FIXCore
import FIXSession
import FIXTransport
import Foundation
import Logging
import NIOCore
import NIOPosix

/// A session script step that did not go as written, with what arrived instead.
public struct SessionScriptFailure: Error, CustomStringConvertible, Sendable {
    public var title: String
    public var target: SessionScript.Target
    /// The script line of the step (0: the set-up, before any step).
    public var line: Int
    public var reason: String
    /// The message received, `|`-delimited, when the step failed on one.
    public var received: String?

    public var description: String {
        var text = "\(title) [\(target.rawValue)] line \(line): \(reason)"
        if let received { text += "\n  received: \(received)" }
        return text
    }
}

/// A script that ran to its end.
public struct SessionScriptResult: Sendable {
    public var title: String
    public var target: SessionScript.Target
    public var steps: Int
    public var elapsed: Duration
}

/// Runs session-level scripts (`Specs/session/*.fixscript`) over real loopback TCP.
///
/// - ``SessionScript/Target/echo``: the SUT is a ``BrokerSimulatorServer`` session with
///   `Application=echo`; the tester dials it.
/// - ``SessionScript/Target/initiator``: the SUT is CopyBridge's session layer (a `FIXEngine`
///   initiator session); the tester listens and the SUT dials.
///
/// The SUT's session is configured like a settings file would (`SenderCompID` = the script's SUT,
/// `TargetCompID` = its tester, then every `@setting`), through the settings schema. Time is real:
/// `WAIT` and `EXPECT-NOTHING` sleep, since the SUT's session timers run on the system clock.
public enum SessionScriptRunner {
    /// Parses the script at `path` and runs it against each of `targets` (by default all of the
    /// script's), one after the other.
    public static func run(
        file path: String, targets: [SessionScript.Target]? = nil
    ) async throws -> [Result<SessionScriptResult, SessionScriptFailure>] {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw SessionScriptFailure(
                title: path, target: targets?.first ?? .echo, line: 0, reason: "cannot read the script file")
        }
        let script: SessionScript
        do {
            script = try SessionScript.parse(text)
        } catch {
            throw SessionScriptFailure(
                title: path, target: targets?.first ?? .echo, line: error.line, reason: error.reason)
        }
        let chosen = (targets ?? SessionScript.Target.allCases).filter { script.targets.contains($0) }
        var results: [Result<SessionScriptResult, SessionScriptFailure>] = []
        for target in chosen {
            do {
                results.append(.success(try await run(script, against: target)))
            } catch {
                results.append(.failure(error))
            }
        }
        return results
    }

    /// Runs `script` against `target`; throws the first step that fails.
    public static func run(
        _ script: SessionScript, against target: SessionScript.Target
    ) async throws(SessionScriptFailure) -> SessionScriptResult {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let started = ContinuousClock.now
        let outcome: Result<Int, SessionScriptFailure>
        do {
            let steps = try await ScriptRun(script: script, target: target, group: group).run()
            outcome = .success(steps)
        } catch let failure as SessionScriptFailure {
            outcome = .failure(failure)
        } catch {
            outcome = .failure(
                SessionScriptFailure(title: script.title, target: target, line: 0, reason: "\(error)"))
        }
        try? await group.shutdownGracefully()
        let steps = try outcome.get()
        return SessionScriptResult(
            title: script.title, target: target, steps: steps, elapsed: ContinuousClock.now - started)
    }
}

/// One run of a script against one target.
private final class ScriptRun {
    let script: SessionScript
    let target: SessionScript.Target
    let group: any EventLoopGroup
    let timeout: Duration
    var connection: ScriptPeerConnection?
    var saved: [String: String] = [:]
    var line = 0
    /// The SUT's own diagnostics: only what goes wrong.
    let logger: Logger = {
        var logger = Logger(label: "BrokerSimulator.conformance")
        logger.logLevel = .warning
        return logger
    }()

    init(script: SessionScript, target: SessionScript.Target, group: any EventLoopGroup) {
        self.script = script
        self.target = target
        self.group = group
        self.timeout = .milliseconds(script.timeoutMs)
    }

    func fail(_ reason: String, received: FIXMessage? = nil) -> SessionScriptFailure {
        SessionScriptFailure(
            title: script.title, target: target, line: line, reason: reason, received: received?.debugDescription)
    }

    /// Sets up the SUT, runs every step, tears down; returns the number of steps run.
    func run() async throws -> Int {
        let steps = script.steps(for: target)
        switch target {
        case .echo:
            let server = try BrokerSimulatorServer.serving(
                try sutConfiguration(role: "acceptor", extra: [("SocketAcceptPort", "0"), ("Application", "echo")]),
                options: SimServerOptions(storage: .memory, group: group, logger: logger))
            try await server.start()
            let port = server.port(of: script.sutCompID) ?? 0
            do {
                try await execute(steps) { [group] in
                    try await ScriptPeerConnection.dial(host: "127.0.0.1", port: port, group: group)
                }
            } catch {
                await finish()
                await server.stop()
                throw error
            }
            await finish()
            await server.stop()
        case .initiator:
            let listener = try await ScriptPeerListener.listen(host: "127.0.0.1", group: group)
            let configuration = try sutConfiguration(
                role: "initiator",
                extra: [
                    ("SocketConnectHost", "127.0.0.1"), ("SocketConnectPort", "\(listener.port)"),
                    ("HeartBtInt", "30"), ("ReconnectInterval", "1"),
                ])
            let session = FIXSessionSettings(settings: configuration.sessions[0])
            let engine = try FIXEngine(
                sessions: [session], storeFactory: { _ in MemoryStore(creationTime: FIXClock.wallClockNow()) },
                group: group, logger: logger)
            try await engine.start()
            let timeout = self.timeout
            do {
                try await execute(steps) { [self] in
                    guard let accepted = await listener.accepted.next(timeout: timeout) else {
                        throw fail("the SUT did not connect within \(timeout)")
                    }
                    return accepted
                }
            } catch {
                await finish()
                await engine.stop()
                await listener.close()
                throw error
            }
            await finish()
            await engine.stop()
            await listener.close()
        }
        return steps.count
    }

    /// The SUT's session as a settings file: the script's identity, the role's keys, then every
    /// `@setting` (which win).
    func sutConfiguration(role: String, extra: [(String, String)]) throws -> CopyBridgeConfiguration {
        var lines: [(String, String)] = [
            ("BeginString", script.beginString), ("SenderCompID", script.sutCompID),
            ("TargetCompID", script.testerCompID), ("ConnectionType", role),
        ]
        lines += extra
        if role == "acceptor" { lines.append(("SocketAcceptHost", "127.0.0.1")) }
        for (key, value) in script.settings {
            lines.removeAll { $0.0.lowercased() == key.lowercased() }
            lines.append((key, value))
        }
        let text = "[SESSION]\n" + lines.map { "\($0.0)=\($0.1)\n" }.joined()
        do {
            return try CopyBridgeConfiguration.parse(
                text, file: "@setting", baseDirectory: FileManager.default.temporaryDirectory.path,
                schema: SessionSettings.schema.merging(SimSettings.schema))
        } catch {
            throw fail("the SUT cannot be configured: \(error)")
        }
    }

    func execute(
        _ steps: [SessionScript.Step], connect: () async throws -> ScriptPeerConnection
    ) async throws {
        for step in steps {
            line = step.line
            switch step.action {
            case .connect:
                guard connection == nil else { throw fail("CONNECT while connected") }
                do {
                    connection = try await connect()
                } catch let failure as SessionScriptFailure {
                    throw failure
                } catch {
                    throw fail("cannot connect: \(error)")
                }
            case .disconnect:
                try await requireConnection().close()
                connection = nil
            case .send(let fields):
                try await send(try encode(fields))
            case .sendRaw(let text):
                try await send(raw(text))
            case .expect(let fields):
                let conn = try requireConnection()
                switch await conn.inbox.next(timeout: timeout) {
                case nil: throw fail("no message within \(timeout)")
                case .closed?:
                    connection = nil
                    throw fail("the SUT disconnected")
                case .garbled(let error, let bytes)?:
                    throw fail("garbled message (\(error)): \(Self.pipes(bytes))")
                case .message(let message)?:
                    if let problem = check(message, fields) { throw fail(problem, received: message) }
                }
            case .expectDisconnect:
                let conn = try requireConnection()
                switch await conn.inbox.next(timeout: timeout) {
                case nil: throw fail("the SUT did not disconnect within \(timeout)")
                case .closed?:
                    await conn.close()
                    connection = nil
                case .garbled(let error, let bytes)?:
                    throw fail("expected a disconnection, got a garbled message (\(error)): \(Self.pipes(bytes))")
                case .message(let message)?:
                    throw fail("expected a disconnection", received: message)
                }
            case .expectNothing(let ms):
                let conn = try requireConnection()
                switch await conn.inbox.next(timeout: .milliseconds(ms)) {
                case nil: break
                case .closed?:
                    connection = nil
                    throw fail("expected nothing, the SUT disconnected")
                case .garbled(let error, let bytes)?:
                    throw fail("expected nothing, got a garbled message (\(error)): \(Self.pipes(bytes))")
                case .message(let message)?:
                    throw fail("expected nothing for \(ms)ms", received: message)
                }
            case .wait(let ms):
                try await Task.sleep(for: .milliseconds(ms))
            }
        }
    }

    func finish() async {
        await connection?.close()
        connection = nil
    }

    func requireConnection() throws -> ScriptPeerConnection {
        guard let connection else { throw fail("not connected (CONNECT first)") }
        return connection
    }

    func send(_ bytes: [UInt8]) async throws {
        do {
            try await requireConnection().send(bytes)
        } catch let failure as SessionScriptFailure {
            throw failure
        } catch {
            throw fail("cannot send: \(error)")
        }
    }

    // MARK: Encoding

    func resolve(_ value: SessionScript.Value) throws -> String {
        switch value {
        case .literal(let text): return text
        case .now(let offsetMs):
            let now = FIXClock.wallClockNow().nanosecondsSinceEpoch + offsetMs * 1_000_000
            return UTCTimestamp(nanosecondsSinceEpoch: now, precision: .milliseconds).description
        case .saved(let name):
            guard let value = saved[name] else { throw fail("{$\(name)} was never saved") }
            return value
        case .any, .timestamp, .absent, .save:
            preconditionFailure("the parser keeps EXPECT placeholders out of SEND lines")
        }
    }

    /// A SEND line as wire bytes: the session header filled in, canonical order, and BodyLength
    /// and CheckSum computed unless the line gives them.
    func encode(_ fields: [SessionScript.Field]) throws -> [UInt8] {
        func given(_ tag: Int) throws -> String? {
            try fields.first { $0.tag == tag }.map { try resolve($0.value) }
        }
        guard let msgType = try given(FIXTag.msgType) else { throw fail("SEND without MsgType") }
        var b = FIXMessageBuilder(msgType: msgType, beginString: try given(FIXTag.beginString) ?? script.beginString)
        let written = Set(fields.map(\.tag))
        if !written.contains(FIXTag.senderCompID) { b.set(FIXTag.senderCompID, script.testerCompID) }
        if !written.contains(FIXTag.targetCompID) { b.set(FIXTag.targetCompID, script.sutCompID) }
        if !written.contains(FIXTag.sendingTime) {
            b.set(FIXTag.sendingTime, FIXClock.wallClockNow().with(precision: .milliseconds))
        }
        for field in fields
        where ![FIXTag.beginString, FIXTag.bodyLength, FIXTag.checkSum, FIXTag.msgType].contains(field.tag) {
            b.append(field.tag, try resolve(field.value))
        }
        var bytes = b.encoded().readableBytesView.map { $0 }
        let bodyLength = try given(FIXTag.bodyLength)
        let checkSum = try given(FIXTag.checkSum)
        guard bodyLength != nil || checkSum != nil else { return bytes }
        // Rewrite the trailer around the line's own values: everything up to the CheckSum field.
        var parts = bytes.split(separator: SOH, omittingEmptySubsequences: false).map(Array.init)
        parts.removeLast()  // after the last SOH
        parts.removeLast()  // 10=...
        if let bodyLength { parts[1] = Array("9=\(bodyLength)".utf8) }
        bytes = parts.flatMap { $0 + [SOH] }
        let sum = bytes.reduce(0) { ($0 + Int($1)) % 256 }
        let trailer = checkSum ?? String(format: "%03d", sum)
        return bytes + Array("10=\(trailer)".utf8) + [SOH]
    }

    /// A SEND-RAW line as bytes: `|` is SOH; `{BODYLENGTH}` and `{CHECKSUM}` are computed over the
    /// bytes as sent.
    func raw(_ text: String) -> [UInt8] {
        var bytes = Array(text.utf8).map { $0 == UInt8(ascii: "|") ? SOH : $0 }
        let bodyLengthMark = Array("9={BODYLENGTH}".utf8) + [SOH]
        if let start = Self.find(bodyLengthMark, in: bytes) {
            let bodyStart = start + bodyLengthMark.count
            let trailerMark = [SOH] + Array("10=".utf8)
            let bodyEnd = Self.find(trailerMark, in: bytes, from: bodyStart).map { $0 + 1 } ?? bytes.count
            let length = Array("9=\(bodyEnd - bodyStart)".utf8) + [SOH]
            bytes.replaceSubrange(start..<bodyStart, with: length)
        }
        let checkSumMark = Array("10={CHECKSUM}".utf8)
        if let start = Self.find(checkSumMark, in: bytes) {
            let sum = bytes[..<start].reduce(0) { ($0 + Int($1)) % 256 }
            bytes.replaceSubrange(
                start..<start + checkSumMark.count, with: Array("10=\(String(format: "%03d", sum))".utf8))
        }
        return bytes
    }

    static func find(_ needle: [UInt8], in haystack: [UInt8], from: Int = 0) -> Int? {
        guard needle.count <= haystack.count else { return nil }
        var i = from
        while i + needle.count <= haystack.count {
            if haystack[i..<i + needle.count].elementsEqual(needle) { return i }
            i += 1
        }
        return nil
    }

    static func pipes(_ bytes: [UInt8]) -> String {
        String(decoding: bytes.map { $0 == SOH ? UInt8(ascii: "|") : $0 }, as: UTF8.self)
    }

    // MARK: Matching

    /// Why `message` does not match an EXPECT line, or `nil` when it does.
    func check(_ message: FIXMessage, _ fields: [SessionScript.Field]) -> String? {
        var expected: [(tag: Int, values: [SessionScript.Value])] = []
        for field in fields {
            if let i = expected.firstIndex(where: { $0.tag == field.tag }) {
                expected[i].values.append(field.value)
            } else {
                expected.append((field.tag, [field.value]))
            }
        }
        let listed = Set(expected.map(\.tag))
        if !listed.contains(FIXTag.beginString), message.beginString != script.beginString {
            return "BeginString is \(message.beginString), expected \(script.beginString)"
        }
        if !listed.contains(FIXTag.senderCompID), message[FIXTag.senderCompID] != script.sutCompID {
            return "SenderCompID (49) is \(message[FIXTag.senderCompID] ?? "absent"), expected \(script.sutCompID)"
        }
        if !listed.contains(FIXTag.targetCompID), message[FIXTag.targetCompID] != script.testerCompID {
            return "TargetCompID (56) is \(message[FIXTag.targetCompID] ?? "absent"), expected \(script.testerCompID)"
        }
        if !listed.contains(FIXTag.sendingTime), (try? message.timestamp(FIXTag.sendingTime)) == nil {
            return "SendingTime (52) is not a valid UTCTimestamp"
        }
        var saves: [String: String] = [:]
        for (tag, values) in expected {
            let actual = message.values(of: tag)
            if values.contains(.absent) {
                guard actual.isEmpty else { return "tag \(tag) is present (\(actual[0])), expected it absent" }
                continue
            }
            guard actual.count == values.count else {
                return actual.isEmpty
                    ? "tag \(tag) is missing"
                    : "tag \(tag) occurs \(actual.count) times, expected \(values.count)"
            }
            for (value, text) in zip(values, actual) {
                switch value {
                case .literal(let wanted):
                    if text != wanted { return "tag \(tag) is \(text), expected \(wanted)" }
                case .any:
                    continue
                case .timestamp:
                    if UTCTimestamp(text) == nil { return "tag \(tag) is \(text), expected a UTCTimestamp" }
                case .save(let name):
                    saves[name] = text
                case .saved(let name):
                    if text != saved[name] {
                        return "tag \(tag) is \(text), expected {$\(name)} = \(saved[name] ?? "?")"
                    }
                case .now, .absent:
                    preconditionFailure("the parser keeps SEND placeholders out of EXPECT lines")
                }
            }
        }
        saved.merge(saves) { $1 }
        return nil
    }
}
