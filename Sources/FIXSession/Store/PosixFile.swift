#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// A file descriptor with the few positioned operations the file store needs; every failure
/// names the operation and the file.
struct PosixFile: ~Copyable {
    let fd: Int32
    let path: String

    init(path: String, create: Bool = true) throws(MessageStoreError) {
        let flags = O_RDWR | O_CLOEXEC | (create ? O_CREAT : 0)
        let fd = open(path, flags, 0o644)
        guard fd >= 0 else { throw MessageStoreError(.io(errno: errno), "open \(path)") }
        self.fd = fd
        self.path = path
    }

    deinit { close(fd) }

    func size() throws(MessageStoreError) -> Int {
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw MessageStoreError(.io(errno: errno), "stat \(path)") }
        return Int(st.st_size)
    }

    func write(_ bytes: UnsafeRawBufferPointer, at offset: Int) throws(MessageStoreError) {
        var done = 0
        while done < bytes.count {
            let n = pwrite(fd, bytes.baseAddress! + done, bytes.count - done, off_t(offset + done))
            if n < 0 {
                if errno == EINTR { continue }
                throw MessageStoreError(.io(errno: errno), "write \(path)")
            }
            done += n
        }
    }

    func write(_ bytes: [UInt8], at offset: Int) throws(MessageStoreError) {
        let result = bytes.withUnsafeBytes { p in Result { () throws(MessageStoreError) in try write(p, at: offset) } }
        try result.get()
    }

    func read(count: Int, at offset: Int) throws(MessageStoreError) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: count)
        var done = 0
        while done < count {
            let n = out.withUnsafeMutableBytes { p in
                pread(fd, p.baseAddress! + done, count - done, off_t(offset + done))
            }
            if n < 0 {
                if errno == EINTR { continue }
                throw MessageStoreError(.io(errno: errno), "read \(path)")
            }
            if n == 0 { break }
            done += n
        }
        if done < count { out.removeLast(count - done) }
        return out
    }

    func readAll() throws(MessageStoreError) -> [UInt8] {
        try read(count: try size(), at: 0)
    }

    func truncate(to length: Int) throws(MessageStoreError) {
        guard ftruncate(fd, off_t(length)) == 0 else { throw MessageStoreError(.io(errno: errno), "truncate \(path)") }
    }

    func sync() throws(MessageStoreError) {
        guard fsync(fd) == 0 else { throw MessageStoreError(.io(errno: errno), "fsync \(path)") }
    }
}

enum PosixFS {
    static func exists(_ path: String) -> Bool {
        access(path, F_OK) == 0
    }

    static func readFile(_ path: String) throws(MessageStoreError) -> [UInt8]? {
        guard exists(path) else { return nil }
        let file = try PosixFile(path: path, create: false)
        return try file.readAll()
    }

    /// Replaces `path` with `bytes` so that a crash leaves either the old or the new content:
    /// write a temporary file, (fsync it), rename it over `path`, (fsync the directory).
    static func replace(_ path: String, with bytes: [UInt8], directory: String, sync: Bool) throws(MessageStoreError) {
        let temporary = path + ".tmp"
        do {
            let file = try PosixFile(path: temporary)
            try file.truncate(to: 0)
            try file.write(bytes, at: 0)
            if sync { try file.sync() }
        }
        guard rename(temporary, path) == 0 else { throw MessageStoreError(.io(errno: errno), "rename \(temporary)") }
        if sync { try syncDirectory(directory) }
    }

    static func syncDirectory(_ directory: String) throws(MessageStoreError) {
        let fd = open(directory, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw MessageStoreError(.io(errno: errno), "open directory \(directory)") }
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw MessageStoreError(.io(errno: errno), "fsync directory \(directory)") }
    }

    /// Creates `directory` and its missing parents.
    static func makeDirectories(_ directory: String) throws(MessageStoreError) {
        var path = directory.hasPrefix("/") ? "" : "."
        for component in directory.split(separator: "/") {
            path += "/" + component
            if mkdir(path, 0o755) != 0 && errno != EEXIST {
                throw MessageStoreError(.io(errno: errno), "mkdir \(path)")
            }
        }
    }
}
