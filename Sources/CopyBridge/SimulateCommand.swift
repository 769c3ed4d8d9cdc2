import ArgumentParser
import BrokerSimulator
import FIXSession
import Foundation

/// `copybridge simulate`: the bundled broker simulator on the wire, and the session conformance runner.
struct SimulateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "simulate",
        abstract: "Serve simulated brokers for a settings file, or run session conformance scripts.",
        discussion: """
            --config FILE serves every [SESSION] with ConnectionType=acceptor; sessions that share a listening \
            port share one broker. SIGINT or SIGTERM logs every session out, stops, and writes the books \
            (BookFile, --book); SIGUSR1 writes them without stopping.

            --script FILE runs a session script (Specs/session/*.fixscript) over loopback TCP against the \
            simulator's echo mode and against CopyBridge's own session layer as initiator.
            """
    )

    @Option(help: "Settings file whose acceptor sessions are served.")
    var config: String?

    @Option(help: "Also write every broker's book (orders, fills, positions) to this JSON file.")
    var book: String?

    @Option(name: .customLong("script"), help: "A session script to run (repeatable).")
    var scripts: [String] = []

    @Option(help: "Run the scripts against this target only: echo or initiator.")
    var target: String?

    func validate() throws {
        if (config == nil) == scripts.isEmpty { throw ValidationError("give either --config FILE or --script FILE") }
        if book != nil && config == nil { throw ValidationError("--book goes with --config") }
        if let target, SessionScript.Target(rawValue: target) == nil {
            throw ValidationError("--target must be echo or initiator")
        }
    }

    func run() async throws {
        if let config {
            try await serve(config)
        } else {
            try await runScripts()
        }
    }

    private func serve(_ path: String) async throws {
        let configuration: CopyBridgeConfiguration
        do {
            configuration = try CopyBridgeConfiguration.load(path: path, schema: CopyBridgeSettings.schema)
        } catch {
            FileHandle.standardError.write(Data(error.diagnostics.map { "\($0)\n" }.joined().utf8))
            throw ExitCode.failure
        }
        FileHandle.standardError.write(Data(configuration.warnings.map { "\($0)\n" }.joined().utf8))
        let signals = SimSignals([SIGINT, SIGTERM, SIGUSR1])
        let server = try BrokerSimulatorServer.serving(configuration, options: SimServerOptions(bookPath: book))
        try await server.start()
        let ports = server.ports()
        for plan in server.plans {
            let sessions = plan.sessions.map { "\($0.identity.targetCompID)" }.joined(separator: ", ")
            print("\(plan.name) listening on port \(ports[plan.name].map(String.init) ?? "?") for \(sessions)")
        }
        for await number in signals.signals {
            guard number == SIGUSR1 else { break }
            do {
                let written = try await server.writeBooks()
                print(written.isEmpty ? "no BookFile or --book to write" : "wrote " + written.joined(separator: ", "))
            } catch {
                FileHandle.standardError.write(Data("\(error)\n".utf8))
            }
        }
        // A second SIGINT during the graceful stop ends the process at once.
        signals.cancel()
        print("stopping: logging out every session")
        await server.stop()
    }

    private func runScripts() async throws {
        let targets = target.flatMap(SessionScript.Target.init(rawValue:)).map { [$0] }
        var failed = false
        for path in scripts {
            let results: [Result<SessionScriptResult, SessionScriptFailure>]
            do {
                results = try await SessionScriptRunner.run(file: path, targets: targets)
            } catch {
                print("FAIL \(path): \(error)")
                failed = true
                continue
            }
            if results.isEmpty { print("SKIP \(path): no target of the script selected") }
            for result in results {
                switch result {
                case .success(let run):
                    let (seconds, attoseconds) = run.elapsed.components
                    let ms = seconds * 1000 + attoseconds / 1_000_000_000_000_000
                    print("PASS \(path) [\(run.target.rawValue)] \(run.steps) steps in \(ms)ms")
                case .failure(let failure):
                    print("FAIL \(path) \(failure)")
                    failed = true
                }
            }
        }
        if failed { throw ExitCode.failure }
    }
}
