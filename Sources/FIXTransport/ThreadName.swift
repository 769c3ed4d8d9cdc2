import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Names the calling thread as `ps -L`, `top -H` and profilers show it: event loop threads are
/// otherwise all `NIO-ELT-n`.
public enum ThreadName {
    /// Linux keeps 15 bytes of a thread's name; a longer one is cut there.
    public static let maximumBytes = 15

    /// Names the calling thread. On Linux by writing its `comm` file: Foundation's `Thread.name`,
    /// set first thing in a new `Thread`'s body, sometimes left the thread unnamed (it names the OS
    /// thread only once it knows the thread is its own), and `pthread_setname_np` is not in the
    /// Glibc module.
    public static func setCurrent(_ name: String) {
        let cut = String(decoding: name.utf8.prefix(maximumBytes), as: UTF8.self)
        #if canImport(Glibc)
            guard let file = fopen("/proc/thread-self/comm", "w") else { return }
            fputs(cut, file)
            fclose(file)
        #else
            Thread.current.name = cut
        #endif
    }
}
