//go:build !warmcache_nocounters

package warmcache

// countersCompiled is whether the shard counters (§6) are kept. True in every normal build; only
// the benchmark-only build tag warmcache_nocounters (counters_off.go) sets it false, so that
// scripts/bench-pause-cost.sh (SWITCH=counters) can measure what the counters cost.
const countersCompiled = true
