package warmcache

import (
	"fmt"
	"strings"
)

// Faults is a set of deliberate bugs (DRIVER.md "Fault switches"). They exist only so that
// warmcheck can prove it catches bugs of this kind (`warmcheck selftest`); every one is off
// unless set in OpenOptions.Faults. Each fault is one `if c.faults.has(FaultX)` branch at the
// exact place of the bug, marked "FAULT <name>" in the code; with the set empty each costs at
// most one predictable branch, and most sit on paths that are cold anyway.
type Faults uint32

// The fault switches, named as in DRIVER.md.
const (
	// FaultPublishBeforePayload: publish (T2/T5) before writing the record, then write it.
	FaultPublishBeforePayload Faults = 1 << iota
	// FaultSkipSecondSeqCheck: the reader does not re-check the state word after copying.
	FaultSkipSecondSeqCheck
	// FaultNoVersionBump: a refresh keeps the old version.
	FaultNoVersionBump
	// FaultIgnoreChecksum: the reader returns a record whose checksum does not match.
	FaultIgnoreChecksum
	// FaultStealLiveClaim: treat every other owner as dead and reclaim from it.
	FaultStealLiveClaim
	// FaultNeverReclaim: never reclaim a dead owner's claim.
	FaultNeverReclaim
	// FaultEvictWritingSlot: CLOCK eviction may pick a slot in WRITING or REFRESHING.
	FaultEvictWritingSlot
	// FaultPrivateFutex: wait and wake use FUTEX_PRIVATE_FLAG (cross-process wakeups are lost).
	FaultPrivateFutex
	// FaultWrongHash: the key hash uses a different seed (KEY_SEED + 1).
	FaultWrongHash
	// FaultSkipInsertLock: insert without the shard insert lock (duplicate keys).
	FaultSkipInsertLock
	// FaultNoGenerationBump: publish without bumping generation.
	FaultNoGenerationBump
	// FaultStaleForever: ignore stale_until_ns: expired entries are served as stale.
	FaultStaleForever
	// FaultNsFlipBeforeEntries: ns_stage makes the flip CAS (N3) at once, so the staged version
	// is current while its entries are still being written; ns_flip only closes the stage.
	FaultNsFlipBeforeEntries
	// FaultNsReclaimIgnoresPins: ns_reclaim leaves pins out of its keep set (§18.7 step 4).
	FaultNsReclaimIgnoresPins

	faultEnd
)

// FaultNames lists the names of every fault this implementation carries, in bit order.
var FaultNames = []string{
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

// ParseFault returns the fault named name (a DRIVER.md name).
func ParseFault(name string) (Faults, error) {
	for i, n := range FaultNames {
		if n == name {
			return Faults(1) << uint(i), nil
		}
	}
	return 0, fmt.Errorf("unknown fault %q (known: %s)", name, strings.Join(FaultNames, ", "))
}

// Names returns the names of the faults in f, in bit order.
func (f Faults) Names() []string {
	var out []string
	for i, n := range FaultNames {
		if f&(Faults(1)<<uint(i)) != 0 {
			out = append(out, n)
		}
	}
	return out
}

func (f Faults) String() string { return strings.Join(f.Names(), ",") }

// has reports whether fault x is switched on.
func (f Faults) has(x Faults) bool { return f&x != 0 }

// Faults returns the faults switched on for this handle.
func (c *Cache) Faults() Faults { return c.faults }

// keySeed is KEY_SEED, or (FAULT wrong_hash) KEY_SEED + 1: the bug of an implementation whose
// seed constant is mistyped. Its keys land in other shards and slots with other key_hash
// values, so it misses what correct implementations wrote and they miss what it wrote.
func (c *Cache) keySeed() uint64 {
	if c.faults.has(FaultWrongHash) { // FAULT wrong_hash
		return KeySeed + 1
	}
	return KeySeed
}
