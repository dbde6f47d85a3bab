// Command warmcache-abi is the C ABI of the Go implementation's pure protocol functions,
// built with -buildmode=c-shared (scripts/build-abi.sh). docs/ABI.md is the contract and
// manifest.json in this directory declares the symbols for warmcheck's libffi caller.
//
// Buffers are borrowed from the caller for the duration of one call and are the caller's
// private memory (never a shared mapping), so they are viewed as Go slices without copying.
package main

/*
#include <stdint.h>
*/
import "C"

import (
	"encoding/binary"
	"unsafe"

	wc "github.com/warmcache/warmcache/go-fixture/warmcache"
)

func main() {}

// §15 open codes as ABI integers, in the order of the spec's list (docs/ABI.md "Error codes").
var codeNumbers = map[wc.Code]C.int32_t{
	wc.CodeNotFound: 1, wc.CodeSymlink: 2, wc.CodeNotRegularFile: 3, wc.CodeForeignOwner: 4,
	wc.CodeTooShort: 5, wc.CodeBadMagic: 6, wc.CodeUnsupportedMajor: 7, wc.CodeNotReady: 8,
	wc.CodeBadHeaderChecksum: 9, wc.CodeUnsupportedFeatures: 10, wc.CodeLayoutMismatch: 11,
	wc.CodeBadGeometry: 12, wc.CodeTruncated: 13, wc.CodeNoSpace: 14, wc.CodeExists: 15,
	wc.CodeParticipantsFull: 16, wc.CodeIO: 17, wc.CodeSparse: 18,
}

func bytesOf(p *C.uint8_t, n C.uint64_t) []byte {
	if p == nil || n == 0 {
		return nil
	}
	return unsafe.Slice((*byte)(unsafe.Pointer(p)), int(n))
}

func wordsOf(p *C.uint64_t, n int) []uint64 {
	if p == nil {
		return make([]uint64, n) // results go nowhere
	}
	return unsafe.Slice((*uint64)(unsafe.Pointer(p)), n)
}

func geometry(sc, sps, kc, vc, pw, pc C.uint32_t) wc.Geometry {
	return wc.Geometry{ShardCount: uint32(sc), SlotsPerShard: uint32(sps), KeyCapacity: uint32(kc),
		ValueCapacity: uint32(vc), ProbeWindow: uint32(pw), ParticipantCapacity: uint32(pc)}
}

//export wc_abi_version
func wc_abi_version() C.uint64_t { return 1 }

//export wc_wch64
func wc_wch64(p *C.uint8_t, n C.uint64_t, seed C.uint64_t) C.uint64_t {
	return C.uint64_t(wc.WCH64(bytesOf(p, n), uint64(seed)))
}

//export wc_state_encode
func wc_state_encode(state, active, owner, seq C.uint32_t) C.uint64_t {
	if state > C.uint32_t(wc.StateInvalidated) || active > 1 || owner > 0xFFFF {
		return C.uint64_t(^uint64(0))
	}
	return C.uint64_t(wc.MakeWord(wc.State(state), uint64(active), uint16(owner), uint32(seq)))
}

//export wc_state_decode
func wc_state_decode(w C.uint64_t, pc C.uint32_t, out4 *C.uint64_t) C.int32_t {
	word := wc.Word(w)
	o := wordsOf(out4, 4)
	o[0], o[1], o[2], o[3] = uint64(w)&0xFF, word.A(), uint64(word.Owner()), uint64(word.Seq())
	if !wc.StateValid(uint64(w), uint32(pc)) {
		return -1
	}
	return C.int32_t(word.State())
}

//export wc_snapshot_ok
func wc_snapshot_ok(s1, s2 C.uint64_t, pc C.uint32_t) C.int32_t {
	if wc.SnapshotOK(uint64(s1), uint64(s2), uint32(pc)) {
		return 1
	}
	return 0
}

//export wc_geometry_rule
func wc_geometry_rule(sc, sps, kc, vc, pw, pc C.uint32_t) C.int32_t {
	return C.int32_t(wc.GeometryRule(geometry(sc, sps, kc, vc, pw, pc)))
}

//export wc_layout
func wc_layout(sc, sps, kc, vc, pw, pc C.uint32_t, out6 *C.uint64_t) C.int32_t {
	l := geometry(sc, sps, kc, vc, pw, pc).Layout()
	o := wordsOf(out6, 6)
	o[0], o[1], o[2], o[3], o[4], o[5] = l.RecordSize, l.SlotSize, l.ParticipantsOffset, l.ShardsOffset, l.ShardSize, l.TotalLen
	return 1
}

//export wc_expiry
func wc_expiry(expires, staleUntil, now C.uint64_t) C.int32_t {
	return C.int32_t(wc.Expiry(uint64(expires), uint64(staleUntil), uint64(now)))
}

//export wc_auto_version
func wc_auto_version(before, current C.uint64_t) C.uint64_t {
	return C.uint64_t(wc.AutoVersion(uint64(before), uint64(current)))
}

//export wc_layout_constant
func wc_layout_constant(index C.uint32_t) C.uint64_t {
	if int(index) >= len(layoutConstants) {
		return C.uint64_t(^uint64(0))
	}
	return C.uint64_t(layoutConstants[index])
}

//export wc_header_check
func wc_header_check(image *C.uint8_t, n C.uint64_t, ruleOut *C.int32_t) C.int32_t {
	code, rule, _, _ := wc.CheckImage(bytesOf(image, n))
	if ruleOut != nil {
		*ruleOut = C.int32_t(rule)
	}
	return codeNumbers[code]
}

// Get outcomes (docs/ABI.md "wc_get").
const (
	outMiss    = 0
	outFresh   = 1
	outStale   = 2
	outCorrupt = 3
)

func get(b []byte, g wc.Geometry, l wc.Layout, key []byte, now uint64, o []uint64) int {
	for i := range o {
		o[i] = 0
	}
	o[0] = ^uint64(0)
	r := wc.ImageGet(b, g, l, key, now)
	switch {
	case r.Corrupt:
		return outCorrupt
	case !r.Hit:
		return outMiss
	}
	w := r.Writer
	o[0] = uint64(r.Shard)*uint64(g.SlotsPerShard) + uint64(r.Slot)
	o[1], o[2], o[3] = r.Version, uint64(len(r.Value))|uint64(r.OriginTag)<<32, wc.WCH64(r.Value, wc.ValueSeed)
	o[4], o[5], o[6] = r.ExpiresAtNs, r.StaleUntilNs, r.WrittenAtNs
	o[7] = uint64(w.Pid) | uint64(w.Language)<<32 | uint64(w.ProtocolMajor)<<40 | uint64(w.ProtocolMinor)<<48 | uint64(w.Participant)<<56
	o[8] = w.StartTime
	if r.Stale {
		return outStale
	}
	return outFresh
}

//export wc_get
func wc_get(image *C.uint8_t, n C.uint64_t, key *C.uint8_t, keyLen C.uint64_t, now C.uint64_t, out9 *C.uint64_t) C.int32_t {
	b := bytesOf(image, n)
	o := wordsOf(out9, 9)
	code, _, g, l := wc.CheckImage(b)
	if code != "" {
		for i := range o {
			o[i] = 0
		}
		return -1
	}
	return C.int32_t(get(b, g, l, bytesOf(key, keyLen), uint64(now), o))
}

//export wc_decode_image
func wc_decode_image(image *C.uint8_t, n C.uint64_t, now C.uint64_t, out8 *C.uint64_t) C.int32_t {
	b := bytesOf(image, n)
	o := wordsOf(out8, 8)
	for i := range o {
		o[i] = 0
	}
	code, rule, g, l := wc.CheckImage(b)
	if code != "" {
		o[0] = uint64(rule)
		return codeNumbers[code]
	}
	var counts [5]uint64
	var fields [9]uint64
	digest := make([]byte, 0, 64)
	var rec [32]byte
	for s := uint32(0); s < g.ShardCount; s++ {
		for j := uint32(0); j < g.SlotsPerShard; j++ {
			off := l.ShardsOffset + uint64(s)*l.ShardSize + wc.ShardHeaderSize + uint64(j)*l.SlotSize
			klen := binary.LittleEndian.Uint64(b[off+wc.SlotKeyLen:]) & 0xFFFFFFFF
			if klen == 0 || klen > uint64(g.KeyCapacity) {
				continue
			}
			key := append([]byte(nil), b[off+wc.SlotKey:off+wc.SlotKey+klen]...)
			outcome := get(b, g, l, key, uint64(now), fields[:])
			counts[0]++
			counts[1+outcome]++
			binary.LittleEndian.PutUint64(rec[0:], uint64(s)*uint64(g.SlotsPerShard)+uint64(j))
			binary.LittleEndian.PutUint64(rec[8:], uint64(outcome))
			binary.LittleEndian.PutUint64(rec[16:], fields[1])
			binary.LittleEndian.PutUint64(rec[24:], fields[0])
			digest = append(digest, rec[:]...)
		}
	}
	copy(o[1:6], counts[:])
	o[6] = wc.WCH64(digest, 0)
	return 0
}
