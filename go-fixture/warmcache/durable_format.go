package warmcache

import (
	"encoding/binary"
	"fmt"
	"os"
)

// The durable store's on-disk format (docs/PERSISTENCE.md §4, §5, §9).
//
// File header (96 bytes), the same for journals and snapshots but for the magic:
//
//	 0 magic | 8 format | 16 geometry_shards | 24 geometry_sizes | 32 geometry_limits
//	40 segment_created_at_ns | 48 writer | 56 writer_start_time | 64 participant | 72 epoch
//	80 created_at_ns | 88 header_checksum = WCH64(bytes 0..87, JOURNAL_SEED)
//
// Record (record_len bytes, a multiple of 8):
//
//	 0 record_len u32 | 4 kind u8 | 5 flags u8 | 6 key_len u16
//	 8 seq | 16 order | 24 version | 32 value_info | 40 expires_at_ns | 48 stale_until_ns
//	56 written_at_ns | 64 writer | 72 writer_start_time
//	80 key (pad8) | value (pad8) | record_len-8 checksum = WCH64(bytes 0..record_len-8, JOURNAL_SEED)
const (
	JournalMagic  uint64 = 0x4C4E524A4D524157 // "WARMJRNL"
	SnapshotMagic uint64 = 0x50414E534D524157 // "WARMSNAP"
	JournalSeed   uint64 = 0x574A524E4C534544 // "WJRNLSED"

	StoreFormatMajor  = 1
	StoreFormatMinor  = 0
	StoreHeaderSize   = 96
	storeFormatWord   = uint64(StoreFormatMajor) | uint64(StoreFormatMinor)<<16 | uint64(StoreHeaderSize)<<32
	RecordFixedSize   = 80 // bytes before the key
	RecordMinSize     = RecordFixedSize + 8
	OffDurableOrder   = 704 // header line 11: durable_order (PERSISTENCE.md §3)
	RecordKindPut     = 1
	RecordKindDelete  = 2
	RecordKindEnd     = 3
	hdrOffGeoShards   = 16
	hdrOffGeoSizes    = 24
	hdrOffGeoLimits   = 32
	hdrOffSegCreated  = 40
	hdrOffWriter      = 48
	hdrOffWriterStart = 56
	hdrOffParticipant = 64
	hdrOffEpoch       = 72
	hdrOffCreatedAt   = 80
	hdrOffChecksum    = 88
)

// StoreHeader is a decoded file header.
type StoreHeader struct {
	Magic              uint64
	Geometry           Geometry
	SegmentCreatedAtNs uint64
	Writer             uint64
	WriterStartTime    uint64
	Participant        uint16
	Epoch              uint64
	CreatedAtNs        uint64
}

// DurableRecord is one decoded record (PERSISTENCE.md §5).
type DurableRecord struct {
	Kind            uint8
	Seq             uint64
	Order           uint64
	Version         uint64
	OriginTag       uint32
	ExpiresAtNs     uint64
	StaleUntilNs    uint64
	WrittenAtNs     uint64
	Writer          uint64
	WriterStartTime uint64
	Key, Value      []byte
}

// StoreProblem is one reported failure of §9: the file, the byte offset and the code.
type StoreProblem struct {
	File       string `json:"file"`
	Offset     int64  `json:"offset"`
	Code       string `json:"code"`
	Detail     string `json:"detail"`
	NotApplied int    `json:"not_applied_bytes"`
}

func (p StoreProblem) String() string {
	return fmt.Sprintf("%s at byte %d of %s: %s", p.Code, p.Offset, p.File, p.Detail)
}

func pad8(n int) int { return (n + 7) &^ 7 }

func geometryWords(g Geometry) (uint64, uint64, uint64) {
	return uint64(g.ShardCount) | uint64(g.SlotsPerShard)<<32,
		uint64(g.KeyCapacity) | uint64(g.ValueCapacity)<<32,
		uint64(g.ProbeWindow) | uint64(g.ParticipantCapacity)<<32
}

func geometryFromWords(s, z, l uint64) Geometry {
	return Geometry{ShardCount: uint32(s), SlotsPerShard: uint32(s >> 32), KeyCapacity: uint32(z),
		ValueCapacity: uint32(z >> 32), ProbeWindow: uint32(l), ParticipantCapacity: uint32(l >> 32)}
}

// encodeHeader builds a 96-byte header.
func encodeHeader(h StoreHeader) []byte {
	b := make([]byte, StoreHeaderSize)
	le := binary.LittleEndian
	gs, gz, gl := geometryWords(h.Geometry)
	le.PutUint64(b[0:], h.Magic)
	le.PutUint64(b[8:], storeFormatWord)
	le.PutUint64(b[hdrOffGeoShards:], gs)
	le.PutUint64(b[hdrOffGeoSizes:], gz)
	le.PutUint64(b[hdrOffGeoLimits:], gl)
	le.PutUint64(b[hdrOffSegCreated:], h.SegmentCreatedAtNs)
	le.PutUint64(b[hdrOffWriter:], h.Writer)
	le.PutUint64(b[hdrOffWriterStart:], h.WriterStartTime)
	le.PutUint64(b[hdrOffParticipant:], uint64(h.Participant))
	le.PutUint64(b[hdrOffEpoch:], h.Epoch)
	le.PutUint64(b[hdrOffCreatedAt:], h.CreatedAtNs)
	le.PutUint64(b[hdrOffChecksum:], WCH64(b[:hdrOffChecksum], JournalSeed))
	return b
}

// recordLen is §5's formula.
func recordLen(keyLen, valueLen int) int { return RecordFixedSize + pad8(keyLen) + pad8(valueLen) + 8 }

// encodeRecord builds one record with its checksum.
func encodeRecord(r DurableRecord) []byte {
	n := recordLen(len(r.Key), len(r.Value))
	b := make([]byte, n)
	le := binary.LittleEndian
	le.PutUint32(b[0:], uint32(n))
	b[4] = r.Kind
	le.PutUint16(b[6:], uint16(len(r.Key)))
	le.PutUint64(b[8:], r.Seq)
	le.PutUint64(b[16:], r.Order)
	le.PutUint64(b[24:], r.Version)
	le.PutUint64(b[32:], uint64(len(r.Value))|uint64(r.OriginTag)<<32)
	le.PutUint64(b[40:], r.ExpiresAtNs)
	le.PutUint64(b[48:], r.StaleUntilNs)
	le.PutUint64(b[56:], r.WrittenAtNs)
	le.PutUint64(b[64:], r.Writer)
	le.PutUint64(b[72:], r.WriterStartTime)
	copy(b[RecordFixedSize:], r.Key)
	copy(b[RecordFixedSize+pad8(len(r.Key)):], r.Value)
	le.PutUint64(b[n-8:], WCH64(b[:n-8], JournalSeed))
	return b
}

// StoreFile is one file of the store as read by §9: its header, the records applied (a prefix)
// and the problems met.
type StoreFile struct {
	Path     string
	Header   StoreHeader
	Records  []DurableRecord
	Problems []StoreProblem
	// Usable is false when the header failed (nothing of the file is applied).
	Usable bool
	// Complete is true for a snapshot that ended with its end record (which is not in Records).
	Complete bool
	End      DurableRecord
}

// ReadStoreFile reads path as §9 says. want is the geometry restoring; a nil want accepts any
// geometry that passes PROTOCOL.md §3's rules. It never panics on any input: every length is
// checked against the bytes actually present before it is used.
func ReadStoreFile(path string, want *Geometry) StoreFile {
	f := StoreFile{Path: path}
	data, err := os.ReadFile(path)
	if err != nil {
		f.Problems = append(f.Problems, StoreProblem{File: path, Code: "io", Detail: err.Error()})
		return f
	}
	return decodeStoreFile(path, data, want)
}

func decodeStoreFile(path string, data []byte, want *Geometry) StoreFile {
	f := StoreFile{Path: path}
	le := binary.LittleEndian
	bad := func(off int, code, format string, a ...interface{}) {
		f.Problems = append(f.Problems, StoreProblem{File: path, Offset: int64(off), Code: code,
			Detail: fmt.Sprintf(format, a...), NotApplied: len(data) - off})
	}
	if len(data) < StoreHeaderSize {
		bad(0, "not_a_journal", "%d bytes, shorter than the %d-byte header", len(data), StoreHeaderSize)
		return f
	}
	magic := le.Uint64(data[0:])
	if magic != JournalMagic && magic != SnapshotMagic {
		bad(0, "not_a_journal", "magic %#016x is neither WARMJRNL nor WARMSNAP", magic)
		return f
	}
	if fw := le.Uint64(data[8:]); fw&0xFFFF != StoreFormatMajor || fw>>32 != StoreHeaderSize {
		bad(8, "unsupported_format", "format word %#x: major %d, header size %d (this reader: major 1, 96)", fw, fw&0xFFFF, fw>>32)
		return f
	}
	if got, want := le.Uint64(data[hdrOffChecksum:]), WCH64(data[:hdrOffChecksum], JournalSeed); got != want {
		bad(hdrOffChecksum, "bad_header_checksum", "stored %#016x, computed %#016x", got, want)
		return f
	}
	g := geometryFromWords(le.Uint64(data[hdrOffGeoShards:]), le.Uint64(data[hdrOffGeoSizes:]), le.Uint64(data[hdrOffGeoLimits:]))
	if msg := g.check(); msg != "" {
		bad(hdrOffGeoShards, "other_geometry", "the file's geometry is invalid: %s", msg)
		return f
	}
	if want != nil && g != *want {
		bad(hdrOffGeoShards, "other_geometry", "the file's geometry %+v is not the restoring %+v", g, *want)
		return f
	}
	f.Header = StoreHeader{Magic: magic, Geometry: g, SegmentCreatedAtNs: le.Uint64(data[hdrOffSegCreated:]),
		Writer: le.Uint64(data[hdrOffWriter:]), WriterStartTime: le.Uint64(data[hdrOffWriterStart:]),
		Participant: uint16(le.Uint64(data[hdrOffParticipant:])), Epoch: le.Uint64(data[hdrOffEpoch:]),
		CreatedAtNs: le.Uint64(data[hdrOffCreatedAt:])}
	f.Usable = true
	snapshot := magic == SnapshotMagic
	off := StoreHeaderSize
	seq := uint64(0)
	for off < len(data) {
		left := len(data) - off
		if left < 8 {
			bad(off, "torn_record", "%d bytes left, fewer than a record's first word", left)
			return f
		}
		n := int(le.Uint32(data[off:]))
		if n == 0 || n < RecordMinSize || n%8 != 0 {
			bad(off, "bad_record", "record_len %d (a record is at least %d bytes, a multiple of 8)", n, RecordMinSize)
			return f
		}
		if n > left {
			bad(off, "torn_record", "record_len %d runs past the end of the file (%d bytes left)", n, left)
			return f
		}
		rb := data[off : off+n]
		if got, want := le.Uint64(rb[n-8:]), WCH64(rb[:n-8], JournalSeed); got != want {
			bad(off, "bad_checksum", "stored %#016x, computed %#016x", got, want)
			return f
		}
		kind, flags, keyLen := rb[4], rb[5], int(le.Uint16(rb[6:]))
		vi := le.Uint64(rb[32:])
		valueLen := int(uint32(vi))
		switch {
		case kind != RecordKindPut && kind != RecordKindDelete && !(snapshot && kind == RecordKindEnd):
			bad(off, "bad_record", "kind %d is not a record kind of this file", kind)
			return f
		case flags != 0:
			bad(off, "bad_record", "flags %#x, zero in format 1.0", flags)
			return f
		case kind != RecordKindEnd && (keyLen == 0 || keyLen > int(g.KeyCapacity)):
			bad(off, "bad_record", "key_len %d outside 1..%d", keyLen, g.KeyCapacity)
			return f
		case uint64(valueLen) > uint64(g.ValueCapacity) || (kind != RecordKindPut && valueLen != 0):
			bad(off, "bad_record", "value length %d (value_capacity %d, kind %d)", valueLen, g.ValueCapacity, kind)
			return f
		case n != recordLen(keyLen, valueLen):
			bad(off, "bad_record", "record_len %d, the formula gives %d", n, recordLen(keyLen, valueLen))
			return f
		}
		r := DurableRecord{Kind: kind, Seq: le.Uint64(rb[8:]), Order: le.Uint64(rb[16:]), Version: le.Uint64(rb[24:]),
			OriginTag: uint32(vi >> 32), ExpiresAtNs: le.Uint64(rb[40:]), StaleUntilNs: le.Uint64(rb[48:]),
			WrittenAtNs: le.Uint64(rb[56:]), Writer: le.Uint64(rb[64:]), WriterStartTime: le.Uint64(rb[72:]),
			// Decoded in place: key and value alias the file's bytes (read once, never written),
			// which saves two allocations per record on a restore of millions.
			Key:   rb[RecordFixedSize : RecordFixedSize+keyLen : RecordFixedSize+keyLen],
			Value: rb[RecordFixedSize+pad8(keyLen) : RecordFixedSize+pad8(keyLen)+valueLen : RecordFixedSize+pad8(keyLen)+valueLen]}
		if r.Seq != seq+1 {
			bad(off, "seq_gap", "seq %d after %d", r.Seq, seq)
			return f
		}
		seq = r.Seq
		off += n
		if kind == RecordKindEnd {
			f.Complete, f.End = true, r
			if off != len(data) {
				bad(off, "bad_record", "%d bytes after the end record", len(data)-off)
			}
			return f
		}
		f.Records = append(f.Records, r)
	}
	if snapshot && !f.Complete {
		bad(off, "no_end", "the snapshot's records stop before an end record")
	}
	return f
}

// DecodeStoreImage is §9's reading of one file's bytes, exactly as restore reads a file
// (ReadStoreFile after the read): the pure entry point of the C ABI's wc_decode_journal.
func DecodeStoreImage(data []byte, want *Geometry) StoreFile {
	return decodeStoreFile("image", data, want)
}
