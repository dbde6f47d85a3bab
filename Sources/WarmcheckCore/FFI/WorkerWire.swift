// The pipe protocol between warmcheck and an FFI worker (docs/ABI.md "Worker protocol").
// Little-endian binary frames, one request then one reply, so a batch of thousands of calls
// costs one round trip. Request: u32 kind, u32 flags (WorkerFlags), u64 payload length,
// payload. Reply: u64 payload length, payload. The worker's first reply is its greeting.

import Foundation

enum WorkerRequest: UInt32 {
    /// A batch of calls: u32 count, then per call u32 function id, u32 value count, u32 blob
    /// count, u32 zero, the values (u64 each), then per blob a u64 length and the bytes padded
    /// to 8. Reply: u64 nanoseconds spent in the calls, then per call the u64 result and the
    /// function's out words.
    case calls = 1
    /// The base image the fuzz mutator starts from (the payload is the image). Empty reply.
    case setBase = 2
    /// u64 seed, u64 first index, u64 count: decode the mutants. Reply: u64 nanoseconds spent
    /// in wc_decode_image, then one u64 digest per mutant.
    case fuzz = 3
    /// u64 seed, u64 index: decode one mutant. Reply: u64 result, 8 out words.
    case fuzzOne = 4
    case quit = 5
    /// The journals the journal mutator starts from: u64 geometry_shards, sizes, limits (the
    /// restoring geometry passed to wc_decode_journal), u32 count, then per journal a u64
    /// length and the bytes padded to 8. Empty reply.
    case setJournals = 6
    /// As `fuzz`, for journal mutants through wc_decode_journal.
    case fuzzJournal = 7
    /// As `fuzzOne`, for one journal mutant: u64 result, 8 out words.
    case fuzzJournalOne = 8
    /// The payload is a journal image: decode it. Reply: u64 result, 8 out words.
    case decodeJournal = 9
}

/// The worker's first reply: loaded, and whether calls go through the library's wc_batch.
enum WorkerGreeting {
    static let plain = "ready"
    static let batch = "ready batch"
}

struct WorkerFlags: OptionSet {
    let rawValue: UInt32
    /// Make one libffi call per call even if the library has wc_batch (vectors checks that both
    /// paths answer alike, and measures both rates).
    static let perCall = WorkerFlags(rawValue: 1)
}

/// The calls format walked without calling anything: how many result words a batch defines.
enum BatchLayout {
    struct Miscounted: Error, CustomStringConvertible {
        let library: String, symbol: String, got: Int64, want: Int
        var description: String {
            "library \(library): \(symbol) returned \(got) for a batch whose calls define \(want) result words"
        }
    }

    static func resultWords(_ payload: [UInt8], count: Int) throws -> Int {
        var r = ByteReader(payload)
        r.at = 4
        var words = 0
        for _ in 0..<count {
            let fn = Int(try r.u32()), nvals = Int(try r.u32()), nblobs = Int(try r.u32())
            _ = try r.u32()
            guard fn < ABISpec.functions.count, nvals <= payload.count else { throw ByteReader.Short() }
            r.at += 8 * nvals
            for _ in 0..<nblobs { _ = try r.blob() }
            guard r.at <= payload.count else { throw ByteReader.Short() }
            words += ABISpec.replyWords(fn)
        }
        return words
    }
}

struct ByteWriter {
    var bytes: [UInt8] = []
    mutating func u32(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { bytes.append(contentsOf: $0) } }
    mutating func u64(_ v: UInt64) { withUnsafeBytes(of: v.littleEndian) { bytes.append(contentsOf: $0) } }
    mutating func blob(_ b: [UInt8]) {
        u64(UInt64(b.count))
        bytes.append(contentsOf: b)
        bytes.append(contentsOf: [UInt8](repeating: 0, count: (8 - b.count % 8) % 8))
    }
}

struct ByteReader {
    let bytes: [UInt8]
    var at = 0
    struct Short: Error {}
    init(_ b: [UInt8]) { bytes = b }
    mutating func u32() throws -> UInt32 { try int() }
    mutating func u64() throws -> UInt64 { try int() }
    mutating func int<T: FixedWidthInteger>() throws -> T {
        let n = T.bitWidth / 8
        guard at + n <= bytes.count else { throw Short() }
        var v: T = 0
        for i in 0..<n { v |= T(bytes[at + i]) << (8 * i) }
        at += n
        return v
    }
    /// A blob's bytes stay in `bytes`; returns their range.
    mutating func blob() throws -> Range<Int> {
        let n = Int(try u64())
        guard n >= 0, at + n <= bytes.count else { throw Short() }
        let r = at..<(at + n)
        at += n + (8 - n % 8) % 8
        return r
    }
}

/// Blocking whole-buffer I/O on a pipe end; `deadline` (monotonic seconds) bounds each wait.
enum PipeIO {
    struct Closed: Error {}
    struct TimedOut: Error {}

    static func writeAll(_ fd: Int32, _ bytes: [UInt8]) throws {
        var off = 0
        while off < bytes.count {
            let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + off, bytes.count - off) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { throw Closed() }
            off += n
        }
    }

    static func readExactly(_ fd: Int32, _ count: Int, deadline: Double? = nil) throws -> [UInt8] {
        var out = [UInt8](repeating: 0, count: count)
        var off = 0
        while off < count {
            if let deadline {
                let left = deadline - monotonicSeconds()
                guard left > 0 else { throw TimedOut() }
                var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
                let r = poll(&p, 1, Int32(min(left * 1000, 60_000)) + 1)
                if r < 0 && errno == EINTR { continue }
                if r == 0 { continue }
            }
            let n = out.withUnsafeMutableBytes { read(fd, $0.baseAddress! + off, count - off) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { throw Closed() }
            off += n
        }
        return out
    }

    static func monotonicSeconds() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }

    static func nanos() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
    }
}
