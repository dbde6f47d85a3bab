#if canImport(Glibc)
import Glibc
#endif

/// A non-recursive mutex that says so when a thread takes it twice, instead of hanging.
///
/// The case runner's lock guards what a parallel part's threads share, and helpers that take it
/// are called from code that already holds it more often than one notices: a side segment's
/// `create:` once called `noteLiveUpgrade()` under the answer path's lock, and `scripts/test.sh`
/// hung in `upgrade-major-migration` until gdb showed the main thread blocked on its own mutex.
/// An error-checking pthread mutex answers `EDEADLK` to that second `lock()` at no cost to the
/// uncontended path (the owner is recorded by glibc anyway); we stop with the place of the second
/// acquisition, because going on would break the exclusion the lock exists for.
public final class CheckedLock: @unchecked Sendable {
    private var mutex = pthread_mutex_t()

    public init() {
        var attr = pthread_mutexattr_t()
        pthread_mutexattr_init(&attr)
        pthread_mutexattr_settype(&attr, Int32(PTHREAD_MUTEX_ERRORCHECK))
        pthread_mutex_init(&mutex, &attr)
        pthread_mutexattr_destroy(&attr)
    }

    deinit { pthread_mutex_destroy(&mutex) }

    public func lock(file: StaticString = #fileID, line: UInt = #line) {
        let rc = pthread_mutex_lock(&mutex)
        if rc == EDEADLK {
            fatalError("\(file):\(line): this thread already holds the runner's lock (it is not recursive): "
                       + "call the helper without holding it, or use its lock-held variant")
        }
        precondition(rc == 0, "pthread_mutex_lock: \(rc)")
    }

    public func unlock(file: StaticString = #fileID, line: UInt = #line) {
        let rc = pthread_mutex_unlock(&mutex)
        precondition(rc == 0, "\(file):\(line): unlocking the runner's lock, which this thread does not hold (\(rc))")
    }

    public func withLock<T>(file: StaticString = #fileID, line: UInt = #line, _ body: () throws -> T) rethrows -> T {
        lock(file: file, line: line)
        defer { unlock() }
        return try body()
    }
}
