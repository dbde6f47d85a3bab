// A library manifest (docs/ABI.md "Manifest"): which symbol implements each ABI function and
// with which C types. Checked against ABISpec before any call is made, so a wrong manifest is
// a clear error naming the library, the function and the symbol, never a wrong call.

import Foundation

public struct ManifestError: Error, CustomStringConvertible {
    public let description: String
    public init(_ d: String) { description = d }
}

public struct ManifestFunction: Sendable {
    public let function: String
    public let symbol: String
    public let returns: ABIType
    public let params: [ABIType]
}

public struct Manifest: Sendable {
    public let implementation: String
    public let functions: [String: ManifestFunction]
    /// The optional batch entry point, when declared (checked like every function).
    public var batch: ManifestFunction? { functions[ABISpec.batch.name] }
    /// The optional journal decoder, when declared.
    public var decodeJournal: ManifestFunction? { functions[ABISpec.decodeJournal.name] }

    public static func load(path: String, library: String) throws -> Manifest {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ManifestError("library \(library): cannot read manifest \(path)")
        }
        let json: JSON
        do { json = try JSON.parse(data) } catch {
            throw ManifestError("library \(library): manifest \(path) is not JSON: \(error)")
        }
        return try parse(json, library: library, path: path)
    }

    public static func parse(_ json: JSON, library: String, path: String) throws -> Manifest {
        func bad(_ what: String) -> ManifestError { ManifestError("library \(library): manifest \(path): \(what)") }
        guard json["abi"]?.string == "warmcache-abi" else { throw bad("\"abi\" must be \"warmcache-abi\"") }
        guard json["abi_version"]?.uint == ABISpec.version else {
            throw bad("\"abi_version\" must be \(ABISpec.version)")
        }
        guard let list = json["functions"]?.array else { throw bad("\"functions\" must be an array") }
        var functions: [String: ManifestFunction] = [:]
        for (i, f) in list.enumerated() {
            guard let name = f["function"]?.string, let symbol = f["symbol"]?.string else {
                throw bad("functions[\(i)] needs \"function\" and \"symbol\"")
            }
            func type(_ t: JSON?, _ what: String) throws -> ABIType {
                guard let s = t?.string else { throw bad("\(name) (symbol \(symbol)): \(what) has no type") }
                guard let ty = ABIType(rawValue: s) else {
                    throw bad("\(name) (symbol \(symbol)): \(what) has unknown type \"\(s)\" (known: \(ABIType.allCases.map(\.rawValue).joined(separator: ", ")))")
                }
                return ty
            }
            let returns = try type(f["returns"], "the return value")
            var params: [ABIType] = []
            for (j, p) in (f["params"]?.array ?? []).enumerated() {
                params.append(try type(p["type"], "parameter \(j) (\(p["name"]?.string ?? "?"))"))
            }
            functions[name] = ManifestFunction(function: name, symbol: symbol, returns: returns, params: params)
        }
        for spec in ABISpec.functions + ABISpec.optional {
            guard let f = functions[spec.name] else {
                if ABISpec.optional.contains(where: { $0.name == spec.name }) { continue }
                throw bad("ABI function \(spec.name) is not declared")
            }
            let want = spec.params.map(\.type)
            if f.returns != spec.returns || f.params != want {
                throw bad("\(spec.name) (symbol \(f.symbol)) is declared \(f.returns.rawValue)(\(f.params.map(\.rawValue).joined(separator: ", "))) but ABI v\(ABISpec.version) requires \(spec.returns.rawValue)(\(want.map(\.rawValue).joined(separator: ", ")))")
            }
        }
        return Manifest(implementation: json["implementation"]?.string ?? library, functions: functions)
    }
}
