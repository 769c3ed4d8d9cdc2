#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// A request to the kernel's power management (PM QoS) that no CPU enters an idle state it would
/// take longer than a given time to leave, held for as long as the request lives: Linux keeps it
/// while the process holds `/dev/cpu_dma_latency` open with the value written to it, and drops it
/// when the file is closed, by ``release()`` or by the process ending however it ends.
///
/// This is the wake-up on the copy path. Between fills the agent's thread sleeps; when a CPU has
/// gone into a deep idle state (on a virtual machine, handed back to the host), waking it for the
/// next fill costs tens of microseconds before any of the agent's code runs. A limit of 0 keeps idle
/// CPUs polling instead, so the fill is handled at once; the price is that idle CPUs stay busy.
public final class CPULatencyRequest: @unchecked Sendable {
    /// The kernel's device for CPU latency requests.
    public static let devicePath = "/dev/cpu_dma_latency"

    private var fd: Int32

    /// Asks for the limit; throws, saying why, when the device cannot be opened or written (it
    /// needs root, or write access given to the agent's user).
    public init(microseconds: Int, device: String = CPULatencyRequest.devicePath) throws(CPULatencyRequestError) {
        guard let value = Int32(exactly: microseconds), value >= 0 else {
            throw CPULatencyRequestError(device: device, reason: "\(microseconds) µs is not a limit the kernel takes")
        }
        let fd = open(device, O_WRONLY | O_CLOEXEC)
        guard fd >= 0 else { throw CPULatencyRequestError(device: device, reason: "cannot open it: \(errnoText())") }
        var raw = value
        let written = withUnsafeBytes(of: &raw) { write(fd, $0.baseAddress, $0.count) }
        guard written == MemoryLayout<Int32>.size else {
            let why = errnoText()
            close(fd)
            throw CPULatencyRequestError(device: device, reason: "cannot write to it: \(why)")
        }
        self.fd = fd
    }

    /// Withdraws the request (also done when it is deallocated).
    public func release() {
        guard fd >= 0 else { return }
        close(fd)
        fd = -1
    }

    deinit { release() }

    /// The limit in force now, all requests taken together (reading the device), or nil when it
    /// cannot be read.
    public static func current(device: String = devicePath) -> Int32? {
        let fd = open(device, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var value: Int32 = 0
        let count = withUnsafeMutableBytes(of: &value) { read(fd, $0.baseAddress, $0.count) }
        return count == MemoryLayout<Int32>.size ? value : nil
    }
}

/// Why a ``CPULatencyRequest`` could not be made.
public struct CPULatencyRequestError: Error, CustomStringConvertible, Equatable {
    public var device: String
    public var reason: String
    public var description: String { "\(device): \(reason)" }
}
