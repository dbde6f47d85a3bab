package main

/*
#include <stdint.h>
*/
import "C"

import (
	"encoding/binary"

	wc "github.com/warmcache/warmcache/go-fixture/warmcache"
)

// PERSISTENCE.md §9's codes as ABI integers, in the order of its table (docs/ABI.md
// "wc_decode_journal"); 0 = the whole file was read without a problem.
var storeCodeNumbers = map[string]C.int32_t{
	"not_a_journal": 1, "unsupported_format": 2, "bad_header_checksum": 3, "other_geometry": 4,
	"torn_record": 5, "bad_record": 6, "bad_checksum": 7, "seq_gap": 8, "no_end": 9,
}

// journalRecordDigest chains one accepted record into the digest (docs/ABI.md): 13 words,
// the record's fields and the WCH64 (seed 0) of its key and value, hashed with the digest so
// far as the seed, so that two libraries agree on it only if they accepted the same records
// with the same fields in the same order.
func journalRecordDigest(d uint64, r wc.DurableRecord) uint64 {
	var w [13 * 8]byte
	le := binary.LittleEndian
	for i, v := range []uint64{uint64(r.Kind), r.Seq, r.Order, r.Version, uint64(len(r.Value)) | uint64(r.OriginTag)<<32,
		r.ExpiresAtNs, r.StaleUntilNs, r.WrittenAtNs, r.Writer, r.WriterStartTime, uint64(len(r.Key)),
		wc.WCH64(r.Key, 0), wc.WCH64(r.Value, 0)} {
		le.PutUint64(w[8*i:], v)
	}
	return wc.WCH64(w[:], d)
}

//export wc_decode_journal
func wc_decode_journal(image *C.uint8_t, n C.uint64_t, shards, sizes, limits C.uint64_t, out8 *C.uint64_t) C.int32_t {
	b := bytesOf(image, n)
	o := wordsOf(out8, 8)
	for i := range o {
		o[i] = 0
	}
	var want *wc.Geometry
	if shards != 0 || sizes != 0 || limits != 0 {
		g := wc.Geometry{ShardCount: uint32(shards), SlotsPerShard: uint32(shards >> 32), KeyCapacity: uint32(sizes),
			ValueCapacity: uint32(sizes >> 32), ProbeWindow: uint32(limits), ParticipantCapacity: uint32(limits >> 32)}
		want = &g
	}
	f := wc.DecodeStoreImage(b, want)
	var code C.int32_t
	o[0] = uint64(len(b))
	if len(f.Problems) > 0 {
		p := f.Problems[0]
		code = storeCodeNumbers[p.Code]
		if code >= 5 {
			o[0] = uint64(p.Offset)
		} else {
			o[0] = 0
		}
	}
	d := uint64(0)
	for _, r := range f.Records {
		if r.Kind == wc.RecordKindDelete {
			o[2]++
		}
		d = journalRecordDigest(d, r)
	}
	o[1], o[3] = uint64(len(f.Records)), d
	if f.Usable {
		o[4] = 1
		if f.Header.Magic == wc.SnapshotMagic {
			o[4] = 2
		}
	}
	if f.Complete {
		o[5], o[6], o[7] = 1, f.End.Order, f.End.Version
	}
	return code
}
