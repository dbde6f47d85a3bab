//go:build warmcache_nocounters

package warmcache

// countersCompiled is false under the warmcache_nocounters build tag: the shard counters stay 0,
// which breaks §6 and the conformance checks. For measuring their cost only; never ship or test
// with this tag.
const countersCompiled = false
