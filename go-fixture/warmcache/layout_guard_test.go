package warmcache

import (
	"fmt"
	"strings"
	"testing"
)

// The layout guard (issue 8 §1): every offset, size and constant of the segment layout, in a
// fixed order, hashed. The digest is pinned next to the protocol major and the layout
// fingerprint it belongs to: a change of any entry that does not come with a new major and
// fingerprint (PROTOCOL.md §14: a layout change is always a new major) fails here. The Rust and
// Swift tests hash the same table to the same digest.
const (
	guardMajor       = 1
	guardFingerprint = 0x0808040808010840
	guardDigest      = 0xdb3f296eb29e7516
)

// layoutTable is the guarded table as "name=value" lines (the same names and order in Rust's
// tests/layout_guard.rs and Swift's LayoutGuardTests).
func layoutTable() string {
	entries := []struct {
		name string
		v    uint64
	}{
		{"magic", Magic}, {"ready", Ready}, {"header_size", HeaderSize}, {"cache_line", CacheLine},
		{"header_checksum_len", HeaderChecksumLen}, {"participant_size", ParticipantSize},
		{"shard_header_size", ShardHeaderSize}, {"slot_header_size", SlotHeaderSize}, {"record_header_size", RecordHeaderSize},
		{"wch64_p1", P1}, {"wch64_p2", P2}, {"key_seed", KeySeed}, {"value_seed", ValueSeed}, {"header_seed", HeaderSeed},
		{"feature_sim_clock", FeatureSimClock}, {"feature_fast_checksum", FeatureFastChecksum},
		{"wch64x4_l1", LaneStart1}, {"wch64x4_l2", LaneStart2}, {"wch64x4_l3", LaneStart3},
		{"hdr.magic", OffMagic}, {"hdr.version", OffVersion}, {"hdr.features_incompat", OffFeaturesIncompat},
		{"hdr.features_compat", OffFeaturesCompat}, {"hdr.layout_fingerprint", OffLayoutFingerprint},
		{"hdr.total_len", OffTotalLen}, {"hdr.geometry_shards", OffGeometryShards}, {"hdr.geometry_sizes", OffGeometrySizes},
		{"hdr.geometry_limits", OffGeometryLimits}, {"hdr.slot_size", OffSlotSize}, {"hdr.participants_offset", OffParticipantsOffset},
		{"hdr.shards_offset", OffShardsOffset}, {"hdr.shard_size", OffShardSize}, {"hdr.creator_pid", OffCreatorPid},
		{"hdr.creator_start_time", OffCreatorStartTime}, {"hdr.creator_info", OffCreatorInfo}, {"hdr.created_at_ns", OffCreatedAtNs},
		{"hdr.header_checksum", OffHeaderChecksum}, {"hdr.ready", OffReady}, {"hdr.generation", OffGeneration},
		{"hdr.waiters", OffWaiters}, {"hdr.event_seq", OffEventSeq}, {"hdr.version_clock", OffVersionClock},
		{"hdr.sim_clock_ns", OffSimClockNs},
		{"part.epoch", PartEpoch}, {"part.pid", PartPid}, {"part.start_time", PartStartTime}, {"part.info", PartInfo},
		{"part.registered_at_ns", PartRegisteredAtNs},
		{"shard.insert_lock", ShardInsertLock}, {"shard.clock_hand", ShardClockHand}, {"shard.hits", ShardHits},
		{"shard.misses", ShardMisses}, {"shard.stale_hits", ShardStaleHits}, {"shard.inserts", ShardInserts},
		{"shard.refreshes", ShardRefreshes}, {"shard.evictions", ShardEvictions}, {"shard.invalidations", ShardInvalidations},
		{"shard.expirations", ShardExpirations}, {"shard.reclaims", ShardReclaims},
		{"slot.state", SlotState}, {"slot.referenced", SlotReferenced}, {"slot.key_hash", SlotKeyHash},
		{"slot.key_len", SlotKeyLen}, {"slot.claimed_at_ns", SlotClaimedAtNs}, {"slot.key", SlotKey},
		{"rec.version", RecVersion}, {"rec.value_info", RecValueInfo}, {"rec.checksum", RecChecksum},
		{"rec.expires_at_ns", RecExpiresAtNs}, {"rec.stale_until_ns", RecStaleUntilNs}, {"rec.written_at_ns", RecWrittenAtNs},
		{"rec.writer", RecWriter}, {"rec.writer_start_time", RecWriterStartTime}, {"rec.value", RecValue},
		{"max_shard_count", MaxShardCount}, {"max_slots_per_shard", MaxSlotsPerShard}, {"min_key_capacity", MinKeyCapacity},
		{"max_key_capacity", MaxKeyCapacity}, {"min_value_capacity", MinValueCapacity}, {"max_value_capacity", MaxValueCapacity},
		{"max_probe_window", MaxProbeWindow}, {"max_participant_capacity", MaxParticipantCapacity}, {"max_total_len", MaxTotalLen},
	}
	var b strings.Builder
	for _, e := range entries {
		fmt.Fprintf(&b, "%s=%#x\n", e.name, e.v)
	}
	return b.String()
}

func TestLayoutGuard(t *testing.T) {
	table := layoutTable()
	digest := WCH64([]byte(table), 0)
	if ProtocolMajor != guardMajor || LayoutFingerprint != guardFingerprint {
		t.Fatalf("protocol major %d / fingerprint %#x are new: re-pin guardMajor, guardFingerprint and guardDigest = %#016x together (layout_guard_test.go)",
			ProtocolMajor, LayoutFingerprint, digest)
	}
	if digest != guardDigest {
		t.Fatalf("the layout changed (an offset, size or constant of this table) while the protocol major (%d) and the layout fingerprint (%#x) did not: "+
			"a layout change is a new major with a new fingerprint (PROTOCOL.md §14). Bump ProtocolMajor and LayoutFingerprint and re-pin "+
			"guardDigest = %#016x here and in the Rust and Swift guards, or undo the change. The table:\n%s", ProtocolMajor, LayoutFingerprint, digest, table)
	}
}
