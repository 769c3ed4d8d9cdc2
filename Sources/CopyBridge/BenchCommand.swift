import ArgumentParser
import CopyBridgeBench
import FIXCore
import Foundation

/// `copybridge bench`: performance measurements.
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Run performance benchmarks.",
        // One per line, so that branches adding benchmarks merge cleanly.
        subcommands: [
            CodecBenchCommand.self,
            CodecCorpusCommand.self,
            CopyBenchCommand.self,
            LoopbackBenchCommand.self,
        ]
    )
}

/// `copybridge bench codec`: parse, parse+validate and encode timings on a message corpus.
struct CodecBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "codec",
        abstract: "Time FIX parsing, validation and encoding; prints one JSON line of nanoseconds per message."
    )

    @Option(name: .long, help: "Corpus file: one FIX message per line, '|' for SOH, '#' for comments.")
    var messages: String

    @Option(name: .long, help: "Data dictionary in the QuickFIX XML format.")
    var dictionary: String

    @Option(name: .long, help: "Passes over the corpus per measurement.")
    var iterations: Int = 20_000

    func run() throws {
        let dictionary: DataDictionary
        do {
            dictionary = try DataDictionary(contentsOfFile: self.dictionary)
        } catch {
            throw CodecBenchmarkError("\(error)")
        }
        let corpus = try CodecBenchmark.loadCorpus(path: messages)
        let result = try CodecBenchmark(corpus: corpus, dictionary: dictionary, iterations: iterations).run()
        print(result.jsonLine)
    }
}

/// `copybridge bench codec-corpus`: writes the generated benchmark corpus.
struct CodecCorpusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "codec-corpus",
        abstract: "Write the generated codec benchmark corpus.",
        shouldDisplay: false
    )

    @Option(name: .long, help: "Where to write the corpus.")
    var output: String

    func run() throws {
        try CodecCorpus.generate().write(toFile: output, atomically: true, encoding: .utf8)
    }
}
