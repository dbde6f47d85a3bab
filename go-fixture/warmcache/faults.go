package warmcache

import (
	"fmt"
	"strings"
)

// faultSet is a set of deliberate bugs (DRIVER.md "Fault switches"). They exist only so that
// warmcheck can prove it catches bugs of this kind (`warmcheck selftest`); every one is off
// unless set in OpenOptions.faults. Each fault is one `if c.faults.has(faultX)` branch at the
// exact place of the bug, marked "FAULT <name>" in the code; with the set empty each costs at
// most one predictable branch, and most sit on paths that are cold anyway.
type faultSet uint32

// The fault switches, named as in DRIVER.md.
const (
	// faultPublishBeforePayload: publish (T2/T5) before writing the record, then write it.
	faultPublishBeforePayload faultSet = 1 << iota
	// faultSkipSecondSeqCheck: the reader does not re-check the state word after copying.
	faultSkipSecondSeqCheck
	// faultNoVersionBump: a refresh keeps the old version.
	faultNoVersionBump
	// faultIgnoreChecksum: the reader returns a record whose checksum does not match.
	faultIgnoreChecksum
	// faultStealLiveClaim: treat every other owner as dead and reclaim from it.
	faultStealLiveClaim
	// faultNeverReclaim: never reclaim a dead owner's claim.
	faultNeverReclaim
	// faultEvictWritingSlot: CLOCK eviction may pick a slot in WRITING or REFRESHING.
	faultEvictWritingSlot
	// faultPrivateFutex: wait and wake use FUTEX_PRIVATE_FLAG (cross-process wakeups are lost).
	faultPrivateFutex
	// faultWrongHash: the key hash uses a different seed (KEY_SEED + 1).
	faultWrongHash
	// faultSkipInsertLock: insert without the shard insert lock (duplicate keys).
	faultSkipInsertLock
	// faultNoGenerationBump: publish without bumping generation.
	faultNoGenerationBump
	// faultStaleForever: ignore stale_until_ns: expired entries are served as stale.
	faultStaleForever
	// faultNsFlipBeforeEntries: ns_stage makes the flip CAS (N3) at once, so the staged version
	// is current while its entries are still being written; ns_flip only closes the stage.
	faultNsFlipBeforeEntries
	// faultNsReclaimIgnoresPins: ns_reclaim leaves pins out of its keep set (§18.7 step 4).
	faultNsReclaimIgnoresPins

	faultEnd
)

// faultNames lists the names of every fault this implementation carries, in bit order.
var faultNames = []string{
	"publish_before_payload",
	"skip_second_seq_check",
	"no_version_bump",
	"ignore_checksum",
	"steal_live_claim",
	"never_reclaim",
	"evict_writing_slot",
	"private_futex",
	"wrong_hash",
	"skip_insert_lock",
	"no_generation_bump",
	"stale_forever",
	"ns_flip_before_entries",
	"ns_reclaim_ignores_pins",
}

// parseFault returns the fault named name (a DRIVER.md name).
func parseFault(name string) (faultSet, error) {
	for i, n := range faultNames {
		if n == name {
			return faultSet(1) << uint(i), nil
		}
	}
	return 0, fmt.Errorf("unknown fault %q (known: %s)", name, strings.Join(faultNames, ", "))
}

// Names returns the names of the faults in f, in bit order.
func (f faultSet) Names() []string {
	var out []string
	for i, n := range faultNames {
		if f&(faultSet(1)<<uint(i)) != 0 {
			out = append(out, n)
		}
	}
	return out
}

func (f faultSet) String() string { return strings.Join(f.Names(), ",") }

// has reports whether fault x is switched on.
func (f faultSet) has(x faultSet) bool { return f&x != 0 }

// faultSwitches returns the faults switched on for this handle.
func (c *Cache) faultSwitches() faultSet { return c.faults }

// keySeed is KEY_SEED, or (FAULT wrong_hash) KEY_SEED + 1: the bug of an implementation whose
// seed constant is mistyped. Its keys land in other shards and slots with other key_hash
// values, so it misses what correct implementations wrote and they miss what it wrote.
func (c *Cache) keySeed() uint64 {
	if c.faults.has(faultWrongHash) { // FAULT wrong_hash
		return KeySeed + 1
	}
	return KeySeed
}
