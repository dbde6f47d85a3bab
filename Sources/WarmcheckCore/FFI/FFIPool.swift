// Every library's worker side by side: the same batch goes to all of them at once and the
// replies come back per library. A worker that dies is bisected down to the one call that kills
// it (in fresh workers), so the report names the library, the ABI symbol and the input.

import Foundation

public struct WorkerCrash: Error, CustomStringConvertible {
    public let failure: WorkerFailure
    /// The call that crashed it, when bisection found one.
    public let call: ABICall?
    public let symbol: String?
    public var description: String {
        guard let call else { return failure.description }
        return "\(failure.description); crashing call: \(symbol ?? call.function.name) \(call.shown)"
    }
}

public final class FFIPool {
    public let libraries: [ABILibrary]
    let executable: String
    var clients: [FFIWorkerClient]
    /// Nanoseconds spent inside calls, per library (the in-process cost).
    public var callNanos: [UInt64]
    public var callCount: UInt64 = 0
    /// Per library, every batch's size and nanoseconds inside its calls (the rate measurement
    /// takes the median over batches: one batch in which the worker was preempted by another
    /// process then counts as one sample, not as the whole round's time).
    public var batchNanos: [[(calls: Int, ns: UInt64)]]

    public init(_ libraries: [ABILibrary], executable: String) throws {
        self.libraries = libraries
        self.executable = executable
        var started: [FFIWorkerClient] = []
        do {
            for l in libraries { started.append(try FFIWorkerClient(l, executable: executable)) }
        } catch {
            started.forEach { $0.stop() }
            throw error
        }
        clients = started
        callNanos = Array(repeating: 0, count: libraries.count)
        batchNanos = Array(repeating: [], count: libraries.count)
    }

    public func stop() { clients.forEach { $0.stop() } }

    deinit { stop() }

    /// Whether each library's worker runs batches through its wc_batch.
    public var batched: [Bool] { clients.map(\.batched) }

    /// Results of `calls` per library: [library][call] = result word followed by out words.
    /// `perCall`: one libffi call per call even where the library has wc_batch.
    public func run(_ calls: [ABICall], perCall: Bool = false) throws -> [[[UInt64]]] {
        var out = Array(repeating: [[UInt64]](), count: clients.count)
        var start = 0
        while start < calls.count {
            let end = min(calls.count, start + batchSize(calls[start]))
            let part = Array(calls[start..<end])
            let replies = try batch(part, flags: perCall ? .perCall : [])
            for i in 0..<clients.count { out[i].append(contentsOf: replies[i]) }
            start = end
        }
        return out
    }

    func batchSize(_ c: ABICall) -> Int { c.blobs.reduce(0) { $0 + $1.count } > 1024 ? 64 : 4096 }

    func batch(_ calls: [ABICall], flags: WorkerFlags = []) throws -> [[[UInt64]]] {
        var w = ByteWriter()
        w.u32(UInt32(calls.count))
        calls.forEach { $0.encode(into: &w) }
        var failed: WorkerFailure?
        var sent: [Bool] = []
        for c in clients {
            do { try c.send(.calls, w.bytes, flags: flags); sent.append(true) } catch let f as WorkerFailure {
                failed = failed ?? f; sent.append(false)
            }
        }
        var replies: [[[UInt64]]] = []
        for (i, c) in clients.enumerated() {
            guard sent[i] else { replies.append([]); continue }
            do {
                var r = ByteReader(try c.receive(during: "running \(calls.count) calls"))
                let ns = try r.u64()
                callNanos[i] += ns
                batchNanos[i].append((calls.count, ns))
                var results: [[UInt64]] = []
                for call in calls {
                    var one = [try r.u64()]
                    for _ in 0..<call.function.outCount { one.append(try r.u64()) }
                    results.append(one)
                }
                replies.append(results)
            } catch let f as WorkerFailure {
                failed = failed ?? f
                replies.append([])
            }
        }
        if let f = failed { throw crash(f, calls) }
        callCount += UInt64(calls.count)
        return replies
    }

    /// Replays the batch call by call in a fresh worker of the failed library to find the call
    /// that kills it; the other workers are stopped (the run ends with this finding).
    func crash(_ f: WorkerFailure, _ calls: [ABICall]) -> WorkerCrash {
        stop()
        guard let lib = libraries.first(where: { $0.name == f.library }) else {
            return WorkerCrash(failure: f, call: nil, symbol: nil)
        }
        var client = try? FFIWorkerClient(lib, executable: executable)
        for call in calls {
            guard let c = client else { break }
            var w = ByteWriter()
            w.u32(1)
            call.encode(into: &w)
            do {
                try c.send(.calls, w.bytes)
                _ = try c.receive(during: "replaying one call")
            } catch let one as WorkerFailure {
                let symbol = (try? Manifest.load(path: lib.manifest, library: lib.name))?.functions[call.function.name]?.symbol
                return WorkerCrash(failure: one, call: call, symbol: symbol)
            } catch {
                break
            }
            _ = client   // keep the worker for the next call
        }
        client?.stop()
        client = nil
        return WorkerCrash(failure: f, call: nil, symbol: nil)
    }

    /// Fuzz digests of mutants first..<first+count per library, plus nanoseconds per library.
    public func fuzz(seed: UInt64, first: UInt64, count: UInt64) throws -> ([[UInt64]], [UInt64]) {
        try fuzz(.fuzz, what: "mutants", seed: seed, first: first, count: count)
    }

    func fuzz(_ kind: WorkerRequest, what: String, seed: UInt64, first: UInt64, count: UInt64) throws -> ([[UInt64]], [UInt64]) {
        var w = ByteWriter()
        w.u64(seed); w.u64(first); w.u64(count)
        var failed: WorkerFailure?
        for c in clients {
            do { try c.send(kind, w.bytes) } catch let f as WorkerFailure { failed = failed ?? f }
        }
        var digests: [[UInt64]] = []
        var nanos: [UInt64] = []
        for c in clients {
            do {
                var r = ByteReader(try c.receive(during: "decoding \(what) \(first)..<\(first + count) of seed \(seed)"))
                nanos.append(try r.u64())
                digests.append(try (0..<count).map { _ in try r.u64() })
            } catch let f as WorkerFailure {
                failed = failed ?? f
                digests.append([]); nanos.append(0)
            }
        }
        if let failed { stop(); throw failed }
        return (digests, nanos)
    }

    public func setBase(_ image: [UInt8]) throws {
        for c in clients { try c.send(.setBase, image) }
        for c in clients { _ = try c.receive(during: "taking the base image") }
    }

    /// wc_decode_image's result and out words for one mutant, per library.
    public func fuzzOne(seed: UInt64, index: UInt64) throws -> [[UInt64]] {
        var w = ByteWriter()
        w.u64(seed); w.u64(index)
        var out: [[UInt64]] = []
        for c in clients {
            try c.send(.fuzzOne, w.bytes)
            var r = ByteReader(try c.receive(during: "decoding mutant \(index) of seed \(seed)"))
            out.append(try (0..<9).map { _ in try r.u64() })
        }
        return out
    }

    // MARK: journals (fuzz --journals)

    public func setJournals(_ journals: [[UInt8]], geometry g: (UInt64, UInt64, UInt64)) throws {
        var w = ByteWriter()
        w.u64(g.0); w.u64(g.1); w.u64(g.2)
        w.u32(UInt32(journals.count))
        journals.forEach { w.blob($0) }
        for c in clients { try c.send(.setJournals, w.bytes) }
        for c in clients { _ = try c.receive(during: "taking the base journals") }
    }

    /// Digests of journal mutants first..<first+count per library, plus nanoseconds per library.
    public func fuzzJournals(seed: UInt64, first: UInt64, count: UInt64) throws -> ([[UInt64]], [UInt64]) {
        try fuzz(.fuzzJournal, what: "journal mutants", seed: seed, first: first, count: count)
    }

    /// wc_decode_journal's result and out words for one journal mutant, per library.
    public func fuzzJournalOne(seed: UInt64, index: UInt64) throws -> [[UInt64]] {
        var w = ByteWriter()
        w.u64(seed); w.u64(index)
        return try answers(.fuzzJournalOne, w.bytes, during: "decoding journal mutant \(index) of seed \(seed)")
    }

    /// wc_decode_journal's answer for one journal image, per library.
    public func decodeJournal(_ image: [UInt8], geometry g: (UInt64, UInt64, UInt64)) throws -> [[UInt64]] {
        var w = ByteWriter()
        w.u64(g.0); w.u64(g.1); w.u64(g.2)
        return try answers(.decodeJournal, w.bytes + image, during: "decoding a journal image")
    }

    func answers(_ kind: WorkerRequest, _ payload: [UInt8], during: String) throws -> [[UInt64]] {
        var out: [[UInt64]] = []
        for c in clients {
            try c.send(kind, payload)
            var r = ByteReader(try c.receive(during: during))
            out.append(try (0..<9).map { _ in try r.u64() })
        }
        return out
    }
}
