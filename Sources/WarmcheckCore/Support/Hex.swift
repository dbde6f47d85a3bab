@_spi(Harness) import Warmcache
// The harness's JSON lives in its own module (Sources/WarmcheckJSON) so that WarmcheckModel and
// WarmcheckSegment, which must not depend on WarmcheckCore, read and write the same value type;
// re-exported here so the harness, its commands and its tests see it as before.
@_exported import WarmcheckJSON

/// Bytes as the driver carries them (lowercase hex, DRIVER.md): one implementation, in the
/// Warmcache library, shared with the Swift fixture.
public typealias Hex = Warmcache.Hex
