package main

import wc "github.com/warmcache/warmcache/go-fixture/warmcache"

// layoutConstants is wc_layout_constant's table, in the order of docs/ABI.md "Layout
// constants", read from the package (never restated).
var layoutConstants = [...]uint64{
	wc.LayoutFingerprint, wc.HeaderSize, wc.ParticipantSize, wc.ShardHeaderSize, wc.SlotHeaderSize,
	wc.RecordHeaderSize, wc.Magic, wc.Ready, wc.KeySeed, wc.ValueSeed, wc.HeaderSeed,
	// header (§3)
	wc.OffMagic, wc.OffVersion, wc.OffFeaturesIncompat, wc.OffFeaturesCompat, wc.OffLayoutFingerprint,
	wc.OffTotalLen, wc.OffGeometryShards, wc.OffGeometrySizes, wc.OffGeometryLimits, wc.OffSlotSize,
	wc.OffParticipantsOffset, wc.OffShardsOffset, wc.OffShardSize, wc.OffCreatorPid,
	wc.OffCreatorStartTime, wc.OffCreatorInfo, wc.OffCreatedAtNs, wc.OffHeaderChecksum, wc.OffReady,
	wc.OffGeneration, wc.OffWaiters, wc.OffEventSeq, wc.OffVersionClock, wc.OffSimClockNs,
	// participant entry (§5)
	wc.PartEpoch, wc.PartPid, wc.PartStartTime, wc.PartInfo, wc.PartRegisteredAtNs,
	// shard header (§6)
	wc.ShardInsertLock, wc.ShardClockHand, wc.ShardHits, wc.ShardMisses, wc.ShardStaleHits,
	wc.ShardInserts, wc.ShardRefreshes, wc.ShardEvictions, wc.ShardInvalidations,
	wc.ShardExpirations, wc.ShardReclaims,
	// slot header (§7.1)
	wc.SlotState, wc.SlotReferenced, wc.SlotKeyHash, wc.SlotKeyLen, wc.SlotClaimedAtNs, wc.SlotKey,
	// record (§7.2)
	wc.RecVersion, wc.RecValueInfo, wc.RecChecksum, wc.RecExpiresAtNs, wc.RecStaleUntilNs,
	wc.RecWrittenAtNs, wc.RecWriter, wc.RecWriterStartTime, wc.RecValue,
}
