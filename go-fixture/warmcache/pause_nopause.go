//go:build warmcache_nopause

package warmcache

// pausePointsCompiled is false under the warmcache_nopause build tag: hooks.at becomes a no-op the
// compiler removes, so setPauseHook and OpenOptions.pauseHook have no effect. For measuring the
// cost of the pause points only (scripts/bench-pause-cost.sh); never ship or test with this tag,
// the harness relies on the pause points.
const pausePointsCompiled = false
