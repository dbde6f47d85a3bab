//go:build !warmcache_nopause

package warmcache

// pausePointsCompiled is whether the §17 pause points are compiled in. True in every normal
// build; only the benchmark-only build tag warmcache_nopause (pause_nopause.go) sets it false, so
// that scripts/bench-pause-cost.sh can measure what the points cost when no hook is installed.
const pausePointsCompiled = true
