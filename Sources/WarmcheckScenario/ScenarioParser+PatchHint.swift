import Yams

/// `patch_hint: ROLE FIELD=VALUE…` (docs/SCENARIOS.md, "Control steps"): a dead participant's
/// `claim_hint` as the scenario wants its successor to meet it. FIELD is `in_flight` (default
/// 1), `shard`, `home` (default 0; a number, or `shard_count` / `slots_per_shard`, the first
/// value out of range), `reserved` (bits 49..63, default 0); the word `wide` sets W.
extension Parser {
    func parsePatchHint(_ value: Node, part: Part, at: SourceLocation) -> ControlStep? {
        if case .parallel = part {
            error(.badSequence, at, "`patch_hint` is not allowed in a parallel list: it belongs to sequential parts (init, final)")
            return nil
        }
        let usage = "`patch_hint` takes a role and FIELD=VALUE… (e.g. patch_hint: victim home=slots_per_shard shard=1)"
        guard let s = value.scalar else {
            error(.wrongType, loc(value), usage)
            return nil
        }
        let toks = tokens(of: value, text: s.string)
        guard let roleTok = toks.first else {
            error(.missing, loc(value), usage)
            return nil
        }
        guard roles.contains(roleTok.text) else {
            error(.undeclaredRole, roleTok.location, "role '\(roleTok.text)' is not declared in processes")
            return nil
        }
        var hint = HintPatch()
        for t in toks.dropFirst() {
            if t.text == "wide" { hint.wide = true; continue }
            let kv = t.text.split(separator: "=", maxSplits: 1).map(String.init)
            guard kv.count == 2, HintPatch.fields.contains(kv[0]), kv[0] != "wide" else {
                error(.badArgument, t.location, "bad hint field '\(t.text)': expected FIELD=VALUE with FIELD one of in_flight, shard, home, reserved, or the word wide")
                return nil
            }
            let n = kv[1].hasPrefix("0x") ? UInt64(kv[1].dropFirst(2), radix: 16) : UInt64(kv[1])
            let limit: UInt64 = kv[0] == "reserved" ? 0x7FFF : 0xFFFF
            switch (kv[0], kv[1]) {
            case ("shard", "shard_count"): hint.shard = .shardCount
            case ("home", "slots_per_shard"): hint.home = .slotsPerShard
            default:
                guard let n, n <= limit else {
                    error(.badValue, t.location, "bad hint field '\(t.text)': \(kv[0]) is a number up to \(limit)"
                          + (kv[0] == "shard" ? " or shard_count" : kv[0] == "home" ? " or slots_per_shard" : ""))
                    return nil
                }
                switch kv[0] {
                case "in_flight": hint.inFlight = n
                case "shard": hint.shard = .value(n)
                case "home": hint.home = .value(n)
                default: hint.reserved = n
                }
            }
        }
        return ControlStep(kind: .patchHint(role: roleTok.text, hint: hint), location: at)
    }
}
