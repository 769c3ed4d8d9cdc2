import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// A packet capture of loopback TCP traffic by `tcpdump`, with the kernel's timestamps, for measuring
/// latencies on the wire rather than inside the process.
final class PacketCapture: @unchecked Sendable {
    /// One TCP segment with a payload.
    struct Segment {
        /// Nanoseconds (the capture's clock).
        var time: Int64
        var sourcePort: UInt16
        var destinationPort: UInt16
        var sequence: UInt32
        var payload: ArraySlice<UInt8>
    }

    enum Failure: Error, CustomStringConvertible {
        case notInstalled
        case failed(String)

        var description: String {
            switch self {
            case .notInstalled: return "tcpdump is not installed (Benchmarks/bench-copy-loopback.sh installs it)"
            case .failed(let why): return "packet capture failed: \(why)"
            }
        }
    }

    private let pid: pid_t
    private var exited = false
    let path: String

    /// Starts `tcpdump` on the loopback interface for `ports`, writing to `path`; returns once it listens.
    init(ports: [Int], path: String, interface: String = "lo") throws {
        guard
            let tcpdump = ["/usr/bin/tcpdump", "/usr/sbin/tcpdump", "/bin/tcpdump"].first(where: {
                FileManager.default.isExecutableFile(atPath: $0)
            })
        else { throw Failure.notInstalled }
        self.path = path
        // tcpdump drops to its own user: let it write the file.
        guard FileManager.default.createFile(atPath: path, contents: nil, attributes: [.posixPermissions: 0o666])
        else { throw Failure.failed("cannot create \(path)") }
        // Segments with a payload only: bare ACKs would double what tcpdump must keep up with on a
        // busy machine, and a packet it drops is a sample lost.
        let filter =
            "(" + ports.map { "tcp port \($0)" }.joined(separator: " or ") + ")"
            + " and (ip[2:2] - ((ip[0] & 0xf) << 2) - ((tcp[12] & 0xf0) >> 2)) != 0"
        let arguments = [
            tcpdump, "-i", interface, "-s", "0", "-B", "32768", "-U", "--time-stamp-precision=nano", "-w", path, filter,
        ]
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else { throw Failure.failed("no pipe: errno \(errno)") }
        // Spawned by hand rather than with Foundation's Process: the child must not inherit the
        // signals this process's threads block, or the SIGINT that stops it would never arrive.
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var empty = sigset_t()
        sigemptyset(&empty)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        sigaddset(&defaults, SIGINT)
        sigaddset(&defaults, SIGTERM)
        posix_spawnattr_setsigmask(&attributes, &empty)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, fds[1], 2)
        posix_spawn_file_actions_addclose(&actions, fds[0])
        var child: pid_t = 0
        let argv = arguments.map { strdup($0) } + [nil]
        defer { for a in argv { free(a) } }
        #if canImport(Darwin)
            let environment = _NSGetEnviron().pointee
        #else
            let environment = environ
        #endif
        let rc = posix_spawn(&child, tcpdump, &actions, &attributes, argv, environment)
        close(fds[1])
        guard rc == 0 else {
            close(fds[0])
            throw Failure.failed("cannot start tcpdump: \(String(cString: strerror(rc)))")
        }
        pid = child
        // tcpdump says "listening on lo" once the capture is armed.
        let stderr = FileHandle(fileDescriptor: fds[0], closeOnDealloc: true)
        var text = ""
        while !text.contains("listening on") {
            let chunk = stderr.availableData
            if chunk.isEmpty {
                var status: Int32 = 0
                waitpid(child, &status, 0)
                exited = true
                throw Failure.failed("tcpdump exited: \(text.trimmingCharacters(in: .whitespacesAndNewlines))")
            }
            text += String(decoding: chunk, as: UTF8.self)
        }
        // Keep reading its messages (the statistics come at exit), so that it never blocks on a full pipe.
        let reader = stderr
        let messages = self.messages
        let closed = self.messagesClosed
        DispatchQueue.global().async {
            while true {
                let chunk = reader.availableData
                if chunk.isEmpty { break }
                messages.text.withLock { $0 += String(decoding: chunk, as: UTF8.self) }
            }
            closed.signal()
        }
    }

    /// tcpdump's standard error, as it comes.
    private final class Transcript: Sendable {
        let text = Mutex("")
    }

    private let messages = Transcript()
    private let messagesClosed = DispatchSemaphore(value: 0)

    /// tcpdump's last words: packets captured, received and dropped.
    private(set) var statistics = ""

    /// Stops the capture and reads its TCP segments that carry a payload, in capture order, each once.
    func finish() throws -> [Segment] {
        if !exited {
            // The capture trails the traffic: the kernel hands packets over in blocks, at the latest
            // after tcpdump's 1 s timeout, and -U writes each block as it comes. Stopping before the
            // last block is written would lose it, so wait until the file has not grown for longer.
            var size = -1
            var unchanged = 0
            for _ in 0..<240 where unchanged < 6 {
                let now = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
                unchanged = now == size ? unchanged + 1 : 0
                size = now
                usleep(250_000)
            }
            kill(pid, SIGINT)
            var status: Int32 = 0
            waitpid(pid, &status, 0)
            exited = true
            messagesClosed.wait()
            statistics = messages.text.withLock { text in
                text.split(separator: "\n").filter { $0.contains("packets") }.joined(separator: ", ")
            }
        }
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        return try Self.segments(Array(data))
    }

    deinit {
        if !exited {
            kill(pid, SIGKILL)
            var status: Int32 = 0
            waitpid(pid, &status, 0)
        }
    }

    /// The TCP segments with payload of a pcap file (Ethernet or Linux cooked link types, IPv4 or
    /// IPv6), duplicates (a segment seen leaving and arriving) kept at their first sighting.
    static func segments(_ bytes: [UInt8]) throws -> [Segment] {
        guard bytes.count >= 24 else { throw Failure.failed("the capture file is truncated") }
        func u32(_ o: Int, _ swapped: Bool) -> UInt32 {
            let v =
                UInt32(bytes[o]) | UInt32(bytes[o + 1]) << 8 | UInt32(bytes[o + 2]) << 16 | UInt32(bytes[o + 3]) << 24
            return swapped ? v.byteSwapped : v
        }
        let magic = u32(0, false)
        let (swapped, nanos): (Bool, Bool)
        switch magic {
        case 0xA1B2_3C4D: (swapped, nanos) = (false, true)
        case 0xA1B2_C3D4: (swapped, nanos) = (false, false)
        case 0x4D3C_B2A1: (swapped, nanos) = (true, true)
        case 0xD4C3_B2A1: (swapped, nanos) = (true, false)
        default: throw Failure.failed("not a pcap file (magic \(String(magic, radix: 16)))")
        }
        let linkType = u32(20, swapped)
        let linkHeader: Int
        switch linkType {
        case 1: linkHeader = 14  // Ethernet
        case 113: linkHeader = 16  // Linux cooked
        case 276: linkHeader = 20  // Linux cooked v2
        case 0: linkHeader = 4  // BSD loopback
        default: throw Failure.failed("unsupported link type \(linkType)")
        }
        var out: [Segment] = []
        var seen = Set<String>()
        var o = 24
        while o + 16 <= bytes.count {
            let seconds = Int64(u32(o, swapped))
            let fraction = Int64(u32(o + 4, swapped))
            let length = Int(u32(o + 8, swapped))
            let start = o + 16
            o = start + length
            guard o <= bytes.count else { break }
            let time = seconds * 1_000_000_000 + (nanos ? fraction : fraction * 1000)
            var ip = start + linkHeader
            guard ip < o else { continue }
            let version = bytes[ip] >> 4
            let tcp: Int
            if version == 4 {
                guard bytes[ip + 9] == 6 else { continue }
                tcp = ip + Int(bytes[ip] & 0x0F) * 4
            } else if version == 6 {
                guard bytes[ip + 6] == 6 else { continue }
                tcp = ip + 40
            } else {
                continue
            }
            ip = tcp
            guard tcp + 20 <= o else { continue }
            let source = UInt16(bytes[tcp]) << 8 | UInt16(bytes[tcp + 1])
            let destination = UInt16(bytes[tcp + 2]) << 8 | UInt16(bytes[tcp + 3])
            let sequence =
                UInt32(bytes[tcp + 4]) << 24 | UInt32(bytes[tcp + 5]) << 16 | UInt32(bytes[tcp + 6]) << 8
                | UInt32(bytes[tcp + 7])
            let payloadStart = tcp + Int(bytes[tcp + 12] >> 4) * 4
            guard payloadStart < o else { continue }
            guard seen.insert("\(source)>\(destination)#\(sequence)").inserted else { continue }
            out.append(
                Segment(
                    time: time, sourcePort: source, destinationPort: destination, sequence: sequence,
                    payload: bytes[payloadStart..<o]))
        }
        return out
    }
}

extension ArraySlice where Element == UInt8 {
    /// Whether the bytes contain `needle`.
    func contains(_ needle: [UInt8]) -> Bool {
        guard !needle.isEmpty else { return true }
        return occurrences(of: needle) > 0
    }

    /// How many times `needle` occurs, without overlaps.
    func occurrences(of needle: [UInt8]) -> Int {
        guard needle.count <= count, let first = needle.first else { return 0 }
        var found = 0
        var i = startIndex
        let last = endIndex - needle.count
        while i <= last {
            if self[i] == first && self[i..<(i + needle.count)].elementsEqual(needle) {
                found += 1
                i += needle.count
            } else {
                i += 1
            }
        }
        return found
    }
}
