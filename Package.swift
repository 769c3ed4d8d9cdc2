// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "CopyBridge",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "copybridge", targets: ["CopyBridge"]),
        .library(name: "FIXCore", targets: ["FIXCore"]),
        .library(name: "FIXMessages", targets: ["FIXMessages"]),
        .library(name: "FIXSession", targets: ["FIXSession"]),
        .library(name: "FIXTransport", targets: ["FIXTransport"]),
        .library(name: "CopyEngine", targets: ["CopyEngine"]),
        .library(name: "Ledger", targets: ["Ledger"]),
        .library(name: "BrokerSimulator", targets: ["BrokerSimulator"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-collections.git", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-atomics.git", from: "1.3.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
    ],
    targets: [
        // FIX 4.4 wire format: decimal and time types, zero-copy message view, framing decoder,
        // encoder, data dictionary (QuickFIX XML) and validation.
        .target(
            name: "FIXCore",
            dependencies: [.product(name: "NIOCore", package: "swift-nio")]
        ),
        // Typed views of the messages the product uses, generated from the dictionary by FIXCodegen.
        .target(name: "FIXMessages", dependencies: ["FIXCore"]),
        .executableTarget(name: "FIXCodegen", dependencies: ["FIXCore"]),
        // Session layer: settings file, pure session state machine, message stores, schedules.
        .target(
            name: "FIXSession",
            dependencies: [
                "FIXCore", "FIXMessages",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "DequeModule", package: "swift-collections"),
            ]
        ),
        // Thread CPU affinity (C: Glibc declares sched_setaffinity only under _GNU_SOURCE).
        .target(name: "CThreadAffinity"),
        // SwiftNIO channel handlers, initiators with failover, acceptors, TLS and message logs.
        .target(
            name: "FIXTransport",
            dependencies: [
                "FIXSession", "CThreadAffinity",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // The copy-trading core: signals, sizing, filters, risk, targets and per-broker routing. No I/O.
        .target(
            name: "CopyEngine",
            dependencies: [
                "FIXCore", "FIXMessages",
                .product(name: "DequeModule", package: "swift-collections"),
            ]
        ),
        // Durable ledger in SQLite: fills, positions, P&L, statistics and fees.
        .target(
            name: "Ledger",
            dependencies: ["FIXCore", .product(name: "GRDB", package: "GRDB.swift")]
        ),
        // The bundled FIX broker: matching, fill models, drop copy, market data, bots, echo mode.
        .target(
            name: "BrokerSimulator",
            dependencies: [
                "FIXCore", "FIXMessages", "FIXSession", "FIXTransport",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "DequeModule", package: "swift-collections"),
            ]
        ),
        // CRC-32C with the processor's instruction, for the journal's checksums (C: Swift cannot reach it).
        .target(name: "CCRC32C"),
        // The running agent: wires sessions, engine, ledger, journal, admin API, metrics and dashboard.
        .target(
            name: "CopyBridgeAgent",
            dependencies: [
                "FIXCore", "FIXMessages", "FIXSession", "FIXTransport", "CopyEngine", "Ledger", "BrokerSimulator",
                "CCRC32C",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "Atomics", package: "swift-atomics"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ]
        ),
        // Benchmarks behind `copybridge bench`.
        .target(
            name: "CopyBridgeBench",
            dependencies: ["FIXCore", "FIXMessages", "FIXSession", "CopyEngine"]
        ),
        .executableTarget(
            name: "CopyBridge",
            dependencies: [
                "FIXCore", "FIXMessages", "FIXSession", "FIXTransport", "CopyEngine", "Ledger", "BrokerSimulator",
                "CopyBridgeAgent", "CopyBridgeBench",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // Helpers shared by the test targets: waiting on events, free ports, temporary directories, and the
        // seeded generator that makes property and fuzz tests reproducible.
        .target(name: "TestSupport", path: "Tests/TestSupport"),
        .testTarget(name: "FIXCoreTests", dependencies: ["FIXCore", "FIXMessages", "TestSupport"]),
        .testTarget(name: "FIXSessionTests", dependencies: ["FIXSession", "FIXCore", "FIXMessages", "TestSupport"]),
        .testTarget(
            name: "FIXTransportTests",
            dependencies: [
                "FIXTransport", "FIXSession", "FIXCore", "TestSupport",
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        .testTarget(name: "CopyEngineTests", dependencies: ["CopyEngine", "FIXCore", "FIXMessages", "TestSupport"]),
        .testTarget(name: "LedgerTests", dependencies: ["Ledger", "CopyEngine", "FIXCore", "TestSupport"]),
        .testTarget(
            name: "BrokerSimulatorTests",
            dependencies: ["BrokerSimulator", "FIXTransport", "FIXSession", "FIXCore", "TestSupport"]
        ),
        .testTarget(name: "CopyBridgeAgentTests", dependencies: ["CopyBridgeAgent", "BrokerSimulator", "FIXCore"]),
        .testTarget(name: "CopyBridgeBenchTests", dependencies: ["CopyBridgeBench", "FIXCore"]),
    ]
)
