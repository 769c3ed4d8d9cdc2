import Foundation
import Synchronization
import TestSupport
import Testing

/// A program run by a test: its output lines are collected as they arrive, its stdin takes
/// commands, and it is stopped (QUIT, then terminate) when the test is done with it.
final class ExternalProcess: Sendable {
    let name: String
    let lines = Collector<String>()
    /// The exit status, once the program has exited.
    let exit = Collector<Int32>()
    private let process: Process
    private let input: Pipe
    private let output: Pipe
    private let pending = LineSplitter()

    init(name: String, executable: String, arguments: [String], directory: URL) throws {
        self.name = name
        process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.currentDirectoryURL = directory
        input = Pipe()
        output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        process.standardError = output
        let lines = self.lines
        let pending = self.pending
        output.fileHandleForReading.readabilityHandler = { handle in
            let data = handle.availableData
            let complete = pending.buffer.withLock { buffer -> [String] in
                if data.isEmpty {
                    // End of output: keep a last unterminated line.
                    defer { buffer.removeAll() }
                    return buffer.isEmpty ? [] : [String(decoding: buffer, as: UTF8.self)]
                }
                buffer.append(contentsOf: data)
                var out: [String] = []
                while let nl = buffer.firstIndex(of: UInt8(ascii: "\n")) {
                    out.append(String(decoding: buffer[..<nl], as: UTF8.self))
                    buffer.removeSubrange(...nl)
                }
                return out
            }
            for line in complete { lines.append(line) }
            if data.isEmpty { handle.readabilityHandler = nil }
        }
        let exit = self.exit
        process.terminationHandler = { p in exit.append(p.terminationStatus) }
        try process.run()
    }

    /// Writes one command line to the program's stdin.
    func send(_ command: String) {
        input.fileHandleForWriting.write(Data((command + "\n").utf8))
    }

    /// Waits for an output line for which `predicate` holds, and returns it.
    @discardableResult
    func waitForLine(
        _ what: String, timeout: Duration = .seconds(30), count: Int = 1,
        _ predicate: @escaping @Sendable (String) -> Bool
    ) async throws -> String {
        try await lines.wait(for: "\(name): \(what)", timeout: timeout) { lines in
            lines.lazy.filter(predicate).count >= count
        }
        return lines.items.filter(predicate)[count - 1]
    }

    /// Sends `command` and waits for its `DONE` acknowledgement (the qf_peer protocol).
    func command(_ command: String) async throws {
        let word = String(command.split(separator: " ").first ?? "")
        let already = lines.items.filter { $0 == "DONE \(word)" }.count
        send(command)
        try await waitForLine("DONE \(word)", count: already + 1) { $0 == "DONE \(word)" }
    }

    var isRunning: Bool { process.isRunning }

    /// Asks the program to quit with `quitCommand` (or kills it), waits a while, then kills it.
    func stop(quitCommand: String? = "QUIT", timeout: Duration = .seconds(10)) async {
        // SIGKILL, because the test runner's threads block SIGTERM and children inherit the mask.
        if let quitCommand, process.isRunning {
            send(quitCommand)
        } else if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
        }
        try? input.fileHandleForWriting.close()
        do {
            try await exit.wait(for: "\(name) to exit", timeout: timeout) { !$0.isEmpty }
        } catch {
            kill(process.processIdentifier, SIGKILL)
            try? await exit.wait(for: "\(name) to exit after SIGKILL", timeout: timeout) { !$0.isEmpty }
        }
    }

    /// Everything the program printed, for a failing test's message.
    var transcript: String { lines.items.joined(separator: "\n") }
}

/// Bytes of output not yet ended by a newline.
final class LineSplitter: Sendable {
    let buffer = Mutex<[UInt8]>([])
}
