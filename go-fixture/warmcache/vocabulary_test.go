package warmcache

// The Go implementation's names and numbers against spec/vocabulary.json, the protocol's one
// machine-readable vocabulary (a renamed pause point or a moved offset fails here).

import (
	"encoding/json"
	"os"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

type vocabulary struct {
	Protocol struct{ Major, Minor int }
	States   []struct {
		Code     int
		Name     string
		Owned    bool
		Readable bool
	}
	Events          []string
	PausePoints     []string `json:"pause_points"`
	OpenErrors      []string `json:"open_errors"`
	OperationErrors []string `json:"operation_errors"`
	Faults          []string
	Languages       []struct {
		Code int
		Name string
	}
	Constants  map[string]json.RawMessage
	Layout     map[string]map[string]uint64
	Namespaces map[string]json.RawMessage // §18: numbers as constants are, plus lists
}

func loadVocabulary(t *testing.T) vocabulary {
	t.Helper()
	data, err := os.ReadFile("../../spec/vocabulary.json")
	if err != nil {
		t.Fatal(err)
	}
	var v vocabulary
	if err := json.Unmarshal(data, &v); err != nil {
		t.Fatalf("spec/vocabulary.json: %v", err)
	}
	return v
}

func (v vocabulary) constant(t *testing.T, name string) uint64 {
	return numberIn(t, v.Constants, name)
}

func (v vocabulary) nsConstant(t *testing.T, name string) uint64 {
	return numberIn(t, v.Namespaces, name)
}

// numberIn reads a JSON number or a "0x…" hex string (64-bit constants) of m.
func numberIn(t *testing.T, m map[string]json.RawMessage, name string) uint64 {
	raw, ok := m[name]
	if !ok {
		t.Fatalf("constant %s missing", name)
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		n, err := strconv.ParseUint(strings.TrimPrefix(s, "0x"), 16, 64)
		if err != nil {
			t.Fatalf("constant %s: %v", name, err)
		}
		return n
	}
	var n uint64
	if err := json.Unmarshal(raw, &n); err != nil {
		t.Fatalf("constant %s: %v", name, err)
	}
	return n
}

func TestVocabularyNames(t *testing.T) {
	v := loadVocabulary(t)
	if !reflect.DeepEqual(PausePoints, v.PausePoints) {
		t.Errorf("PausePoints %v, spec/vocabulary.json %v (same order as §17)", PausePoints, v.PausePoints)
	}
	if !reflect.DeepEqual(faultNames, v.Faults) {
		t.Errorf("faultNames %v, vocabulary %v", faultNames, v.Faults)
	}
	events := []string{EvClaim, EvPublish, EvAbort, EvRefreshClaim, EvRefreshPublish, EvRefreshAbort, EvMarkStale,
		EvInvalidateClaim, EvClear, EvEvict, EvExpire, EvReclaim}
	if !reflect.DeepEqual(events, v.Events) {
		t.Errorf("events %v, vocabulary %v", events, v.Events)
	}
	open := []Code{CodeNotFound, CodeSymlink, CodeNotRegularFile, CodeForeignOwner, CodeTooShort, CodeBadMagic,
		CodeUnsupportedMajor, CodeNotReady, CodeBadHeaderChecksum, CodeUnsupportedFeatures, CodeLayoutMismatch,
		CodeBadGeometry, CodeTruncated, CodeNoSpace, CodeExists, CodeParticipantsFull, CodeIO, CodeSparse}
	ops := []Code{CodeTooLarge, CodeNotFound, CodeFull, CodeVersionNotNewer, CodeBusy,
		CodeNotStaging, CodeNoPrevious, CodePinned, CodeBadNamespace, CodeClosed}
	for _, c := range []struct {
		got  []Code
		want []string
	}{{open, v.OpenErrors}, {ops, v.OperationErrors}} {
		var got []string
		for _, x := range c.got {
			got = append(got, string(x))
		}
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("error codes %v, vocabulary %v", got, c.want)
		}
	}
	if len(v.States) != int(StateInvalidated)+1 {
		t.Errorf("%d states in the vocabulary", len(v.States))
	}
	for _, s := range v.States {
		st := State(s.Code)
		if st.String() != s.Name || st.Owned() != s.Owned || st.Readable() != s.Readable {
			t.Errorf("state %d: Go says %s owned=%v readable=%v, vocabulary %+v", s.Code, st, st.Owned(), st.Readable(), s)
		}
	}
	if len(v.Languages) < 2 || v.Languages[LanguageGo].Name != "go" || Language(v.Languages[LanguageGo].Code) != LanguageGo {
		t.Errorf("language code %d is not go in the vocabulary: %+v", LanguageGo, v.Languages)
	}
	// Language.String spells every registered code as the vocabulary does.
	for _, l := range v.Languages {
		if got := Language(l.Code).String(); got != l.Name {
			t.Errorf("Language(%d).String() = %q, the vocabulary says %q", l.Code, got, l.Name)
		}
	}
	if v.Protocol.Major != ProtocolMajor || v.Protocol.Minor != ProtocolMinor {
		t.Errorf("protocol %d.%d, vocabulary %+v", ProtocolMajor, ProtocolMinor, v.Protocol)
	}
}

func TestVocabularyNumbers(t *testing.T) {
	v := loadVocabulary(t)
	for name, ours := range map[string]uint64{
		"magic": Magic, "ready": Ready, "layout_fingerprint": LayoutFingerprint, "feature_sim_clock": FeatureSimClock,
		"feature_fast_checksum": FeatureFastChecksum, "wch64x4_l1": LaneStart1, "wch64x4_l2": LaneStart2, "wch64x4_l3": LaneStart3,
		"wch64_p1": P1, "wch64_p2": P2, "key_seed": KeySeed, "value_seed": ValueSeed, "header_seed": HeaderSeed,
		"cache_line": CacheLine, "header_size": HeaderSize, "header_checksum_len": HeaderChecksumLen,
		"participant_size": ParticipantSize, "shard_header_size": ShardHeaderSize, "slot_header_size": SlotHeaderSize,
		"record_header_size": RecordHeaderSize, "read_retries": ReadRetries, "wait_spins": WaitSpins, "lock_spins": LockSpins,
	} {
		if got := v.constant(t, name); got != ours {
			t.Errorf("constant %s: vocabulary %#x, Go %#x", name, got, ours)
		}
	}
	tables := map[string]map[string]uint64{
		"header": {"magic": OffMagic, "version": OffVersion, "features_incompat": OffFeaturesIncompat,
			"features_compat": OffFeaturesCompat, "layout_fingerprint": OffLayoutFingerprint, "total_len": OffTotalLen,
			"geometry_shards": OffGeometryShards, "geometry_sizes": OffGeometrySizes, "geometry_limits": OffGeometryLimits,
			"slot_size": OffSlotSize, "participants_offset": OffParticipantsOffset, "shards_offset": OffShardsOffset,
			"shard_size": OffShardSize, "creator_pid": OffCreatorPid, "creator_start_time": OffCreatorStartTime,
			"creator_info": OffCreatorInfo, "created_at_ns": OffCreatedAtNs, "header_checksum": OffHeaderChecksum,
			"ready": OffReady, "generation": OffGeneration, "waiters": OffWaiters, "event_seq": OffEventSeq,
			"version_clock": OffVersionClock, "sim_clock_ns": OffSimClockNs},
		"participant": {"epoch": PartEpoch, "pid": PartPid, "start_time": PartStartTime, "info": PartInfo,
			"registered_at_ns": PartRegisteredAtNs, "claim_hint": PartClaimHint, "hint_epoch": PartHintEpoch, "ns_pin": PartNsPin},
		"namespace": {"ns_head": NsHead, "ns_stage": NsStage},
		"shard": {"insert_lock": ShardInsertLock, "clock_hand": ShardClockHand, "hits": ShardHits, "misses": ShardMisses,
			"stale_hits": ShardStaleHits, "inserts": ShardInserts, "refreshes": ShardRefreshes, "evictions": ShardEvictions,
			"invalidations": ShardInvalidations, "expirations": ShardExpirations, "reclaims": ShardReclaims},
		"slot": {"state": SlotState, "referenced": SlotReferenced, "key_hash": SlotKeyHash, "key_len": SlotKeyLen,
			"claimed_at_ns": SlotClaimedAtNs, "key": SlotKey},
		"record": {"version": RecVersion, "value_info": RecValueInfo, "checksum": RecChecksum, "expires_at_ns": RecExpiresAtNs,
			"stale_until_ns": RecStaleUntilNs, "written_at_ns": RecWrittenAtNs, "writer": RecWriter,
			"writer_start_time": RecWriterStartTime, "value": RecValue},
	}
	for name, ours := range map[string]uint64{"count": NsCount, "table_offset": NsTableOffset, "entry_size": NsEntrySize,
		"key_magic": NsKeyMagic, "key_prefix_len": NsKeyPrefixLen, "version_max": NsVersionMax, "pin_epoch_mask": NsPinEpochMask} {
		if got := v.nsConstant(t, name); got != ours {
			t.Errorf("namespaces.%s: vocabulary %#x, Go %#x", name, got, ours)
		}
	}
	if !reflect.DeepEqual(tables, v.Layout) {
		t.Errorf("layout offsets differ:\n Go         %v\n vocabulary %v", tables, v.Layout)
	}
}
