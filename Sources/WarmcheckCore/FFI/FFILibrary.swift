// One ABI library loaded with dlopen, its functions prepared as libffi calls from the manifest
// (ffi_prep_cif once per function, ffi_call per call). Runs inside the sacrificial worker
// process (FFIWorker), never in the harness itself: a library that crashes kills only the worker.

import CFFI
import Foundation

public struct FFILoadError: Error, CustomStringConvertible {
    public let description: String
}

/// A prepared call: the cif, the symbol, and argument storage reused by every call (one 8-byte
/// slot per parameter; libffi reads u32 arguments from the slot's first bytes, which on a
/// little-endian machine are the low bytes).
final class PreparedFunction {
    let spec: ABIFunction
    let symbol: String
    let fn: UnsafeMutableRawPointer
    let cif = UnsafeMutablePointer<ffi_cif>.allocate(capacity: 1)
    let types: UnsafeMutablePointer<UnsafeMutablePointer<ffi_type>?>
    let slots: UnsafeMutablePointer<UInt64>
    let argv: UnsafeMutablePointer<UnsafeMutableRawPointer?>
    let rvalue = UnsafeMutablePointer<UInt64>.allocate(capacity: 2)

    init(spec: ABIFunction, declared: ManifestFunction, fn: UnsafeMutableRawPointer, library: String) throws {
        self.spec = spec
        self.symbol = declared.symbol
        self.fn = fn
        let n = declared.params.count
        types = .allocate(capacity: max(n, 1))
        slots = .allocate(capacity: max(n, 1))
        argv = .allocate(capacity: max(n, 1))
        for (i, t) in declared.params.enumerated() {
            types[i] = PreparedFunction.ffiType(t)
            argv[i] = UnsafeMutableRawPointer(slots + i)
        }
        let status = wc_ffi_prep(cif, UInt32(n), PreparedFunction.ffiType(declared.returns), types)
        guard status == FFI_OK else {
            throw FFILoadError(description: "library \(library): ffi_prep_cif failed for \(spec.name) (symbol \(symbol)): status \(status.rawValue)")
        }
    }

    static func ffiType(_ t: ABIType) -> UnsafeMutablePointer<ffi_type> {
        switch t {
        case .void: return wc_ffi_type_void()
        case .i32: return wc_ffi_type_i32()
        case .u32: return wc_ffi_type_u32()
        case .i64: return wc_ffi_type_i64()
        case .u64: return wc_ffi_type_u64()
        case .ptr: return wc_ffi_type_pointer()
        }
    }

    /// Calls with the argument slots already filled; the result widened to 64 bits (an i32 is
    /// sign-extended, so -1 reads as UInt64.max).
    @inline(__always)
    func call() -> UInt64 {
        rvalue[0] = 0
        wc_ffi_call(cif, fn, rvalue, argv)
        switch spec.returns {
        case .i32: return UInt64(bitPattern: Int64(Int32(truncatingIfNeeded: rvalue[0])))
        case .i64: return rvalue[0]
        case .u32: return rvalue[0] & 0xFFFF_FFFF
        case .void: return 0
        default: return rvalue[0]
        }
    }
}

public final class FFILibrary {
    public let name: String
    let handle: UnsafeMutableRawPointer
    /// Indexed like ABISpec.functions.
    let functions: [PreparedFunction]
    /// wc_batch, when the manifest declares it (then its symbol must exist like any other).
    let batch: PreparedFunction?
    /// wc_decode_journal, when the manifest declares it.
    let decodeJournal: PreparedFunction?

    public init(name: String, path: String, manifest: Manifest) throws {
        self.name = name
        guard let h = dlopen(path, RTLD_NOW | RTLD_LOCAL) else {
            let why = dlerror().map { String(cString: $0) } ?? "unknown dlopen error"
            throw FFILoadError(description: "library \(name): cannot load \(path): \(why)")
        }
        handle = h
        func prepare(_ spec: ABIFunction, _ declared: ManifestFunction) throws -> PreparedFunction {
            guard let fn = dlsym(h, declared.symbol) else {
                throw FFILoadError(description: "library \(name): symbol \(declared.symbol) (ABI function \(spec.name)) not found in \(path)")
            }
            return try PreparedFunction(spec: spec, declared: declared, fn: fn, library: name)
        }
        // Manifest.parse checked that every function is declared with the spec's types.
        functions = try ABISpec.functions.map { try prepare($0, manifest.functions[$0.name]!) }
        batch = try manifest.batch.map { try prepare(ABISpec.batch, $0) }
        decodeJournal = try manifest.decodeJournal.map { try prepare(ABISpec.decodeJournal, $0) }
    }
}
