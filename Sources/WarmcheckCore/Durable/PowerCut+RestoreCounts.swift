import Foundation

/// The power-cut gate's restores judged by their counts too (DRIVER.md `restore`, PERSISTENCE.md
/// §7 steps 4–5): the gate already checks which keys came back and which problems were reported;
/// this compares `files`, `records`, `tombstones`, the floors and installed + evicted + expired
/// with the harness's own reading of the store (StoreReading). The gate's stores hold torn tails,
/// corrupt records and crafted bad files, so the counts are judged on bad input as well.
extension PowerCutSweep {
    /// `restore` of `seg` from `store`, and what its counts get wrong (nil when they agree or
    /// the restore failed, which the caller reports). The store is read before the request: a
    /// restorer that starts its journal early adds a file the restore itself never read.
    func restoreCounted(_ fx: FixtureProcess, _ seg: String, _ store: String) throws -> (DriverResponse, String?) {
        let before = StoreReading.storeFiles(store)
        let r = try fx.call("restore", restoreArgs(seg, store))
        guard r.isOK, r.result["restored"]?.bool == true, let g = StoreReading.segmentGeometry(seg) else { return (r, nil) }
        let wrong = StoreReading.merge(before, geometry: g).disagreements(with: r.result)
        return (r, wrong.isEmpty ? nil : "the restore answer's counts disagree with the store: " + wrong.joined(separator: "; "))
    }
}
