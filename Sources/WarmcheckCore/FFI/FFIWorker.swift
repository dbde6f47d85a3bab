// The sacrificial worker: `warmcheck ffi-worker` loads one ABI library and serves batches on
// stdin/stdout (WorkerWire.swift). A library that crashes or hangs takes only this process
// down; the harness (FFIWorkerClient) turns that into a finding with the input saved.

import Foundation

public enum FFIWorker {
    /// Runs the worker loop; returns the process exit status (2 if the library or manifest is bad,
    /// with the reason on stderr).
    public static func run(name: String, library: String, manifest manifestPath: String) -> Int32 {
        let lib: FFILibrary
        do {
            let manifest = try Manifest.load(path: manifestPath, library: name)
            lib = try FFILibrary(name: name, path: library, manifest: manifest)
        } catch {
            FileHandle.standardError.write(Data("\(error)\n".utf8))
            return 2
        }
        signal(SIGPIPE, SIG_IGN)
        var server = WorkerServer(lib: lib)
        do {
            try reply(Array((lib.batch == nil ? WorkerGreeting.plain : WorkerGreeting.batch).utf8))
            while true {
                let head = try PipeIO.readExactly(0, 16)
                var r = ByteReader(head)
                let kind = try r.u32()
                server.flags = WorkerFlags(rawValue: try r.u32())
                let len = Int(try r.u64())
                var payload = try PipeIO.readExactly(0, len)
                guard let req = WorkerRequest(rawValue: kind) else {
                    FileHandle.standardError.write(Data("ffi-worker \(name): unknown request kind \(kind)\n".utf8))
                    return 2
                }
                if req == .quit { return 0 }
                try reply(try server.handle(req, &payload))
            }
        } catch is PipeIO.Closed {
            return 0   // the harness closed the pipe: nothing left to do
        } catch {
            // A malformed request or a library that broke the batch contract: the harness sees
            // the worker die and reports this line from its stderr.
            FileHandle.standardError.write(Data("ffi-worker \(name): \(error)\n".utf8))
            return 2
        }
    }

    static func reply(_ bytes: [UInt8]) throws {
        var w = ByteWriter()
        w.u64(UInt64(bytes.count))
        try PipeIO.writeAll(1, w.bytes + bytes)
    }
}

struct WorkerServer {
    let lib: FFILibrary
    var mutator: ImageMutator?
    var journals: JournalMutator?
    var scratch: [UInt8] = []
    var flags: WorkerFlags = []

    init(lib: FFILibrary) { self.lib = lib }

    mutating func handle(_ req: WorkerRequest, _ payload: inout [UInt8]) throws -> [UInt8] {
        switch req {
        case .calls: return try calls(&payload)
        case .setBase:
            mutator = ImageMutator(base: payload)
            return []
        case .fuzz:
            var r = ByteReader(payload)
            let (seed, first, count) = (try r.u64(), try r.u64(), try r.u64())
            return fuzz(seed: seed, first: first, count: count)
        case .fuzzOne:
            var r = ByteReader(payload)
            let (seed, index) = (try r.u64(), try r.u64())
            var out = [UInt64](repeating: 0, count: 8)
            let ret = decode(seed: seed, index: index, &out)
            var w = ByteWriter()
            w.u64(ret)
            out.forEach { w.u64($0) }
            return w.bytes
        case .setJournals:
            var r = ByteReader(payload)
            _ = (try r.u64(), try r.u64(), try r.u64())   // the mutator reads the geometry from the first journal
            let n = Int(try r.u32())
            var list: [[UInt8]] = []
            for _ in 0..<n { list.append(Array(payload[try r.blob()])) }
            journals = JournalMutator(journals: list)
            return []
        case .fuzzJournal:
            var r = ByteReader(payload)
            let (seed, first, count) = (try r.u64(), try r.u64(), try r.u64())
            return try fuzzJournals(seed: seed, first: first, count: count)
        case .fuzzJournalOne:
            var r = ByteReader(payload)
            let (seed, index) = (try r.u64(), try r.u64())
            guard let journals else { throw JournalWorkerError("no journals set") }
            let (len, want) = journals.mutant(seed: seed, index: index, into: &scratch)
            return try journalReply(Array(scratch[0..<len]), want)
        case .decodeJournal:
            var r = ByteReader(payload)
            let want = (try r.u64(), try r.u64(), try r.u64())
            return try journalReply(Array(payload[(r.at)...]), want)
        case .quit: return []
        }
    }

    struct JournalWorkerError: Error, CustomStringConvertible {
        let description: String
        init(_ d: String) { description = d }
    }

    /// wc_decode_journal on `image` against the geometry words `want` (zeros: any).
    func decodeJournal(_ image: inout [UInt8], _ len: Int, _ want: (UInt64, UInt64, UInt64), _ out: inout [UInt64]) throws -> UInt64 {
        guard let f = lib.decodeJournal else { throw JournalWorkerError("library \(lib.name) declares no decode_journal") }
        return image.withUnsafeMutableBytes { img in
            out.withUnsafeMutableBufferPointer { ob in
                f.slots[0] = UInt64(UInt(bitPattern: img.baseAddress))
                f.slots[1] = UInt64(len)
                f.slots[2] = want.0
                f.slots[3] = want.1
                f.slots[4] = want.2
                f.slots[5] = UInt64(UInt(bitPattern: ob.baseAddress!))
                return f.call()
            }
        }
    }

    func journalReply(_ image: [UInt8], _ want: (UInt64, UInt64, UInt64)) throws -> [UInt8] {
        var img = image
        var out = [UInt64](repeating: 0, count: 8)
        let ret = try decodeJournal(&img, img.count, want, &out)
        var w = ByteWriter()
        w.u64(ret)
        out.forEach { w.u64($0) }
        return w.bytes
    }

    mutating func fuzzJournals(seed: UInt64, first: UInt64, count: UInt64) throws -> [UInt8] {
        guard let journals else { throw JournalWorkerError("no journals set") }
        return try WorkerServer.digests(first: first, count: count) { i, out in
            let (len, want) = journals.mutant(seed: seed, index: i, into: &scratch)
            return try decodeJournal(&scratch, len, want, &out)
        }
    }

    /// Reply of a fuzz request: u64 nanoseconds spent in `decode` (mutation included), then
    /// one digest per mutant of first..<first+count.
    static func digests(first: UInt64, count: UInt64, _ decode: (UInt64, inout [UInt64]) throws -> UInt64) rethrows -> [UInt8] {
        var out = [UInt64](repeating: 0, count: 8)
        var digests: [UInt64] = []
        digests.reserveCapacity(Int(count))
        var spent: UInt64 = 0
        for i in first..<(first + count) {
            let t0 = PipeIO.nanos()
            let ret = try decode(i, &out)
            spent += PipeIO.nanos() - t0
            digests.append(FuzzDigest.of(ret, out))
        }
        var w = ByteWriter()
        w.u64(spent)
        digests.forEach { w.u64($0) }
        return w.bytes
    }

    /// Executes a batch in order (docs/ABI.md "Worker protocol"); all pointers point into the
    /// request's own bytes or into the reply's out words. Parsed in place with raw pointers:
    /// this loop is the per-call cost that `vectors` reports, so it allocates nothing per call.
    func calls(_ payload: inout [UInt8]) throws -> [UInt8] {
        let total = payload.count
        guard total >= 4 else { throw ByteReader.Short() }
        let count = payload.withUnsafeBytes { Int($0.loadUnaligned(as: UInt32.self)) }
        if let batch = lib.batch, !flags.contains(.perCall) { return try batched(batch, &payload, count) }
        let resultWords = count * 10 + 1
        let results = UnsafeMutablePointer<UInt64>.allocate(capacity: resultWords)
        defer { results.deallocate() }
        let outs = UnsafeMutablePointer<UInt64>.allocate(capacity: 16)
        defer { outs.deallocate() }
        var produced = 1
        var bad = false
        let start = PipeIO.nanos()
        payload.withUnsafeMutableBytes { raw in
            let base = raw.baseAddress!
            var at = 4
            for _ in 0..<count {
                guard at + 16 <= total else { bad = true; return }
                let fn = Int(base.loadUnaligned(fromByteOffset: at, as: UInt32.self))
                let nvals = Int(base.loadUnaligned(fromByteOffset: at + 4, as: UInt32.self))
                let nblobs = Int(base.loadUnaligned(fromByteOffset: at + 8, as: UInt32.self))
                at += 16
                guard fn < lib.functions.count, at + 8 * nvals <= total else { bad = true; return }
                let f = lib.functions[fn]
                let values = at
                at += 8 * nvals
                var blobStart = [Int](repeating: 0, count: 0)
                var blobLen = [Int](repeating: 0, count: 0)
                if nblobs > 0 {
                    for _ in 0..<nblobs {
                        guard at + 8 <= total else { bad = true; return }
                        let n = Int(base.loadUnaligned(fromByteOffset: at, as: UInt64.self))
                        at += 8
                        guard n >= 0, at + n <= total else { bad = true; return }
                        blobStart.append(at); blobLen.append(n)
                        at += n + (8 - n % 8) % 8
                    }
                }
                var v = 0, b = 0, o = 0
                var lastLen: UInt64 = 0
                let params = f.spec.params
                for i in 0..<params.count {
                    switch params[i] {
                    case .u32, .u64:
                        f.slots[i] = v < nvals ? base.loadUnaligned(fromByteOffset: values + 8 * v, as: UInt64.self) : 0
                        v += 1
                    case .bytes:
                        f.slots[i] = UInt64(UInt(bitPattern: base + (b < nblobs ? blobStart[b] : 0)))
                        lastLen = b < nblobs ? UInt64(blobLen[b]) : 0
                        b += 1
                    case .bytesLen:
                        f.slots[i] = lastLen
                    case .outWords(let n):
                        for k in 0..<n { outs[o + k] = 0 }
                        f.slots[i] = UInt64(UInt(bitPattern: outs + o))
                        o += n
                    case .outI32:
                        outs[o] = 0
                        f.slots[i] = UInt64(UInt(bitPattern: outs + o))
                        o += 1
                    }
                }
                results[produced] = f.call()
                produced += 1
                for k in 0..<o {
                    results[produced] = p32(f, k, outs[k])
                    produced += 1
                }
            }
        }
        if bad { throw ByteReader.Short() }
        results[0] = PipeIO.nanos() - start
        return Array(UnsafeRawBufferPointer(start: results, count: produced * 8))
    }

    /// The whole batch in one call of the library's wc_batch (docs/ABI.md "Batches"): the reply
    /// must have exactly the words the calls define, which is walked and checked here, outside
    /// the timed call, so a library that miscounts is caught instead of shifting every answer.
    func batched(_ batch: PreparedFunction, _ payload: inout [UInt8], _ count: Int) throws -> [UInt8] {
        let want = try BatchLayout.resultWords(payload, count: count)
        let results = UnsafeMutablePointer<UInt64>.allocate(capacity: want + 1)
        defer { results.deallocate() }
        let start = PipeIO.nanos()
        let got = payload.withUnsafeMutableBytes { raw -> UInt64 in
            batch.slots[0] = UInt64(UInt(bitPattern: raw.baseAddress!))
            batch.slots[1] = UInt64(raw.count)
            batch.slots[2] = UInt64(UInt(bitPattern: results + 1))
            batch.slots[3] = UInt64(want)
            return batch.call()
        }
        results[0] = PipeIO.nanos() - start
        guard Int64(bitPattern: got) == Int64(want) else {
            throw BatchLayout.Miscounted(library: lib.name, symbol: batch.symbol, got: Int64(bitPattern: got), want: want)
        }
        return Array(UnsafeRawBufferPointer(start: results, count: (want + 1) * 8))
    }

    /// An i32 out parameter is read back sign-extended, like an i32 result.
    @inline(__always) func p32(_ f: PreparedFunction, _ k: Int, _ w: UInt64) -> UInt64 {
        f.spec.params.last == .outI32 ? UInt64(bitPattern: Int64(Int32(truncatingIfNeeded: w))) : w
    }

    mutating func decode(seed: UInt64, index: UInt64, _ out: inout [UInt64]) -> UInt64 {
        guard let mutator else { return UInt64.max }
        let (len, now) = mutator.mutant(seed: seed, index: index, into: &scratch)
        let f = lib.functions[ABISpec.id("decode_image")]
        return scratch.withUnsafeMutableBytes { img in
            out.withUnsafeMutableBufferPointer { ob in
                f.slots[0] = UInt64(UInt(bitPattern: img.baseAddress!))
                f.slots[1] = UInt64(len)
                f.slots[2] = now
                f.slots[3] = UInt64(UInt(bitPattern: ob.baseAddress!))
                return f.call()
            }
        }
    }

    mutating func fuzz(seed: UInt64, first: UInt64, count: UInt64) -> [UInt8] {
        WorkerServer.digests(first: first, count: count) { i, out in decode(seed: seed, index: i, &out) }
    }
}

enum FuzzDigest {
    /// One word standing for a decode's result and out words (compared across libraries).
    static func of(_ ret: UInt64, _ out: [UInt64]) -> UInt64 {
        var h = ret &* 0x9E3779B185EBCA87
        for w in out { h = (h ^ w) &* 0xC2B2AE3D27D4EB4F; h ^= h >> 29 }
        return h
    }
}
