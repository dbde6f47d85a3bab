#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import Foundation

/// Drains a fixture's stderr pipe on its own thread and keeps only the last `capacity` bytes.
///
/// A pipe rather than a file: a fixture flooding stderr (1.5 GB of it) must cost neither 1.5 GB
/// of memory when its tail is shown nor 1.5 GB of /dev/shm, and a fixture that cannot be started
/// leaves no empty file behind. The thread keeps the pipe empty, so a chatty fixture never blocks
/// on a full pipe while the harness is busy elsewhere.
final class StderrTail: @unchecked Sendable {
    let capacity: Int
    private let fd: Int32
    // `lock` guards `ring`, `start`, `total`, `finishing` and `ended`.
    private let lock = NSLock()
    private var ring: [UInt8]
    /// Index of the oldest byte once the ring has wrapped.
    private var start = 0
    /// Bytes ever read: the settled-tail wait watches it grow.
    private var total = 0
    private var finishing = false
    /// The reader has ended and `finish` has seen it.
    private var ended = false
    private let done = DispatchSemaphore(value: 0)

    /// Takes ownership of `fd` (closed when the reader ends).
    init(fd: Int32, capacity: Int = 64 * 1024) {
        self.fd = fd
        self.capacity = capacity
        ring = []
        ring.reserveCapacity(capacity)
        let t = Thread { [self] in drain() }
        t.stackSize = 256 * 1024
        t.start()
    }

    private func drain() {
        var chunk = [UInt8](repeating: 0, count: 16 * 1024)
        while true {
            var pfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let pr = poll(&pfd, 1, 100)
            if pr == 0 {
                // Nothing to read: stop once told the process is gone (a grandchild that kept
                // the write end open must not keep this thread alive for ever).
                lock.lock(); let stop = finishing; lock.unlock()
                if stop { break }
                continue
            }
            if pr < 0 { if errno == EINTR { continue }; break }
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            append(chunk[..<n])
        }
        close(fd)
        done.signal()
    }

    func append(_ bytes: ArraySlice<UInt8>) {
        lock.lock()
        defer { lock.unlock() }
        total += bytes.count
        var keep = bytes.suffix(capacity)
        // Fill up first, then overwrite the oldest bytes in at most two block copies (a flood
        // goes through here at pipe speed).
        let room = capacity - ring.count
        if room > 0 {
            ring.append(contentsOf: keep.prefix(room))
            keep = keep.dropFirst(room)
        }
        while !keep.isEmpty {
            let n = min(keep.count, capacity - start)
            ring.replaceSubrange(start..<start + n, with: keep.prefix(n))
            keep = keep.dropFirst(n)
            start = (start + n) % capacity
        }
    }

    /// Bytes read so far (all of them, not only those kept).
    var bytesSeen: Int {
        lock.lock(); defer { lock.unlock() }
        return total
    }

    /// The kept bytes, oldest first.
    var bytes: [UInt8] {
        lock.lock(); defer { lock.unlock() }
        return Array(ring[start...] + ring[..<start])
    }

    /// The last `lines` lines, trimmed.
    func text(lines: Int) -> String {
        let all = bytes
        let text = String(decoding: all, as: UTF8.self)
        var shown = text.split(separator: "\n", omittingEmptySubsequences: false).suffix(lines)
        // A tail that starts mid-line says so rather than showing half a line as if whole.
        if bytesSeen > all.count, !shown.isEmpty { shown[shown.startIndex] = "…" + shown[shown.startIndex] }
        return shown.joined(separator: "\n").trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// The process has been reaped: read what is left, then end (within `seconds`).
    func finish(within seconds: Double = 1) {
        lock.lock()
        finishing = true
        let already = ended
        lock.unlock()
        // Once: a second wait on the semaphore would sit out its whole timeout.
        guard !already, done.wait(timeout: .now() + seconds) == .success else { return }
        lock.lock(); ended = true; lock.unlock()
    }
}
