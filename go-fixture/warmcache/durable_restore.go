package warmcache

import (
	"errors"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"
)

// RestoreReport says what OpenOrRestore did (PERSISTENCE.md §7), for the caller and the driver.
type RestoreReport struct {
	Restored     bool           `json:"restored"`
	Snapshot     string         `json:"snapshot"`      // the snapshot used, "" if none
	Files        int            `json:"files"`         // usable files read
	Records      int            `json:"records"`       // records read (applied prefixes)
	Installed    int            `json:"installed"`     // entries in the new segment
	Tombstones   int            `json:"tombstones"`    // keys whose winner is an invalidation
	Expired      int            `json:"expired"`       // winners expired at the new segment's now
	Evicted      int            `json:"evicted"`       // survivors a full window gave up
	VersionFloor uint64         `json:"version_floor"` // version_clock of the new segment
	OrderFloor   uint64         `json:"order_floor"`   // durable_order of the new segment
	Problems     []StoreProblem `json:"problems"`
}

// unusable lists the open errors after which restore rebuilds the segment (§7 step 2). The
// others (a newer major, unknown features, another layout, another owner, a symlink...) are
// returned: such a file is never replaced.
// A file over the reader's size bound (bad_geometry rule 9) is healthy, only too large for
// this reader, so it is never replaced either.
func unusable(err error) bool {
	switch CodeOf(err) {
	case CodeBadGeometry:
		var e *Error
		return !(errors.As(err, &e) && strings.HasPrefix(e.Detail, "rule 9 "))
	case CodeNotFound, CodeTooShort, CodeBadMagic, CodeNotReady, CodeBadHeaderChecksum, CodeTruncated, CodeSparse:
		return true
	}
	return false
}

// OpenOrRestore opens path, or rebuilds it from the store in s.Dir when it is missing or
// unusable (PERSISTENCE.md §7). The handle journals into the store with s's policy.
func OpenOrRestore(path string, g Geometry, s StoreOptions, o CreateOptions) (*Cache, RestoreReport, error) {
	var rep RestoreReport
	if err := s.check(); err != nil {
		return nil, rep, err
	}
	if err := os.MkdirAll(s.Dir, 0700); err != nil {
		return nil, rep, ioErr("restore", s.Dir, err)
	}
	attach := func(c *Cache) (*Cache, RestoreReport, error) {
		if err := c.AttachStore(s); err != nil {
			c.Close()
			return nil, rep, err
		}
		return c, rep, nil
	}
	// Step 1.
	c, err := Open(path, o.Open)
	if err == nil {
		return attach(c)
	}
	if !unusable(err) {
		return nil, rep, err
	}
	// Step 3: one restorer at a time; a starter that waited finds the segment restored.
	lockPath := filepath.Join(s.Dir, "restore.lock")
	lf, lerr := os.OpenFile(lockPath, os.O_RDWR|os.O_CREATE|syscall.O_CLOEXEC, 0600)
	if lerr != nil {
		return nil, rep, ioErr("restore", lockPath, lerr)
	}
	defer lf.Close() // releases the flock
	if err := syscall.Flock(int(lf.Fd()), syscall.LOCK_EX); err != nil {
		return nil, rep, ioErr("restore", lockPath, err)
	}
	oo := o.Open
	oo.Timeout = -1 // under the lock: a segment mid-restore cannot exist, do not poll
	c, err = Open(path, oo)
	if err == nil {
		return attach(c)
	}
	code := CodeOf(err)
	if !unusable(err) {
		return nil, rep, err
	}
	// Steps 4–5.
	now := uint64(time.Now().UnixNano())
	if o.simClock {
		now = o.simClockStart
	}
	survivors := readStore(s.Dir, g, now, &rep)
	// Steps 6–7: the never-half-built create path, filled before `ready`, replacing an
	// unusable file by rename.
	o.fill = func(c *Cache) { c.install(survivors, &rep) }
	o.replace = code != CodeNotFound
	c, err = create(path, g, o)
	if err != nil {
		if CodeOf(err) == CodeExists { // a plain creator linked first (§7 step 7)
			c, err = Open(path, o.Open)
			if err != nil {
				return nil, rep, err
			}
			return attach(c)
		}
		return nil, rep, err
	}
	rep.Restored = true
	return attach(c)
}

// readStore reads the newest valid snapshot and every journal of g and merges them (§7 step 5).
// It returns the survivors in increasing order and fills rep's counts and floors.
func readStore(dir string, g Geometry, now uint64, rep *RestoreReport) []DurableRecord {
	rep.Problems = []StoreProblem{}
	snaps, journals, err := listStore(dir)
	if err != nil {
		rep.Problems = append(rep.Problems, StoreProblem{File: dir, Code: "io", Detail: err.Error()})
		return nil
	}
	m := newStoreMerge()
	// The snapshot first, while nothing else is merged: its records become the base list
	// (no map) and only the journals go through the map.
	if sp := m.takeNewestSnapshot(snaps, g); sp != "" {
		rep.Snapshot = filepath.Base(sp)
	}
	for _, j := range journals {
		m.take(ReadStoreFile(j, &g))
	}
	rep.Files, rep.Records, rep.VersionFloor, rep.OrderFloor = m.files, m.records, m.versionFloor, m.orderFloor
	rep.Problems = append(rep.Problems, m.problems...)
	all := m.result()
	out := all[:0]
	for _, r := range all {
		switch {
		case r.Kind == RecordKindDelete:
			rep.Tombstones++
		case expiredAt(r, now):
			rep.Expired++
		default:
			out = append(out, r)
		}
	}
	return out
}

// listStore lists the snapshots and journals of dir (§2), each sorted by name, which the fixed
// widths make numeric order.
func listStore(dir string) (snaps, journals []string, err error) {
	names, err := filepath.Glob(filepath.Join(dir, "*"))
	if err != nil {
		return nil, nil, err
	}
	for _, n := range names {
		b := filepath.Base(n)
		switch {
		case strings.HasPrefix(b, "snapshot-") && strings.HasSuffix(b, ".wcs"):
			snaps = append(snaps, n)
		case strings.HasPrefix(b, "journal-") && strings.HasSuffix(b, ".wcj"):
			journals = append(journals, n)
		}
	}
	sort.Strings(snaps)
	sort.Strings(journals)
	return snaps, journals, nil
}

// storeMerge is §7 step 5's merge, shared by restore and compaction (§8 step 3): per key the
// record of the highest order, and the floors over every record read.
//
// A snapshot merged before anything else is kept as a list (base): its keys are unique (§8
// step 3 writes one record per key), so it needs no map, which is most of a restore's CPU when
// the store is mostly one snapshot. Journal records go through the map (winners), and result()
// drops the base records a journal record of a higher order overrides.
type storeMerge struct {
	base                     []DurableRecord
	winners                  map[string]DurableRecord
	files, records           int
	versionFloor, orderFloor uint64
	problems                 []StoreProblem
}

func newStoreMerge() *storeMerge { return &storeMerge{winners: map[string]DurableRecord{}} }

// take merges the applied prefix of f (nothing of a file whose header failed).
func (m *storeMerge) take(f StoreFile) {
	m.problems = append(m.problems, f.Problems...)
	if !f.Usable {
		return
	}
	m.files++
	if f.Header.Magic == SnapshotMagic && m.base == nil && len(m.winners) == 0 && uniqueKeys(f.Records) {
		m.base = f.Records
		m.records += len(f.Records)
		for _, r := range f.Records {
			m.raise(r.Version, r.Order)
		}
		return
	}
	if len(m.winners) == 0 {
		m.winners = make(map[string]DurableRecord, len(f.Records))
	}
	for _, r := range f.Records {
		m.records++
		m.raise(r.Version, r.Order)
		// Two records of one order are one write read twice (a snapshot and a journal it
		// covered): keeping the first is keeping either.
		if w, ok := m.winners[string(r.Key)]; !ok || r.Order > w.Order {
			m.winners[string(r.Key)] = r
		}
	}
}

// uniqueKeys is true when no key repeats in rs: what a snapshot promises, checked rather than
// trusted (a crafted snapshot with a repeated key takes the map like a journal). The check
// costs a set of hashes, a fraction of the map of records it avoids.
func uniqueKeys(rs []DurableRecord) bool {
	seen := make(map[uint64]struct{}, len(rs))
	for _, r := range rs {
		h := WCH64(r.Key, JournalSeed)
		if _, dup := seen[h]; dup {
			return false // a repeat, or a hash collision: either way, the slow path
		}
		seen[h] = struct{}{}
	}
	return true
}

// result is every winner (tombstones included) in increasing order. Called once: it removes
// from winners the journal records that lose to a base record of their key.
func (m *storeMerge) result() []DurableRecord {
	out := make([]DurableRecord, 0, len(m.base)+len(m.winners))
	for _, r := range m.base {
		if w, ok := m.winners[string(r.Key)]; ok {
			if w.Order >= r.Order {
				continue // overridden by a journal (or the same write read twice)
			}
			delete(m.winners, string(r.Key))
		}
		out = append(out, r)
	}
	for _, r := range m.winners {
		out = append(out, r)
	}
	if !sort.SliceIsSorted(out, func(a, b int) bool { return out[a].Order < out[b].Order }) {
		sort.Slice(out, func(a, b int) bool { return out[a].Order < out[b].Order })
	}
	return out
}

func (m *storeMerge) raise(version, order uint64) {
	if version > m.versionFloor {
		m.versionFloor = version
	}
	if order > m.orderFloor {
		m.orderFloor = order
	}
}

// takeNewestSnapshot merges the newest valid snapshot of snaps (sorted) and returns its path; an
// incomplete or unreadable one is reported and the next older one used (§8, §9).
func (m *storeMerge) takeNewestSnapshot(snaps []string, g Geometry) string {
	for i := len(snaps) - 1; i >= 0; i-- {
		f := ReadStoreFile(snaps[i], &g)
		if f.Usable && f.Complete {
			m.take(f)
			m.raise(f.End.Version, f.End.Order)
			return snaps[i]
		}
		m.problems = append(m.problems, f.Problems...)
	}
	return ""
}

// expiredAt is PROTOCOL.md §12's miss rule applied to a record.
func expiredAt(r DurableRecord, now uint64) bool {
	if r.ExpiresAtNs == 0 {
		return false
	}
	if r.StaleUntilNs == 0 {
		return now >= r.ExpiresAtNs
	}
	return now >= r.StaleUntilNs
}

// install writes the survivors into the private, not yet ready segment (§7 step 6). Nobody else
// can see the file, so plain atomic stores suffice; the release store of `ready` publishes them.
func (c *Cache) install(rs []DurableRecord, rep *RestoreReport) {
	sps, pw := c.geo.SlotsPerShard, c.geo.ProbeWindow
	// Per slot: whether an entry was installed there and its order. Flat arrays over every slot
	// (9 bytes a slot, freed after the restore) instead of a map: a restore installs millions.
	nslots := uint64(c.geo.ShardCount) * uint64(sps)
	heldOrder, heldUsed := make([]uint64, nslots), make([]bool, nslots)
	for _, r := range rs {
		h, shard, home := c.keyPlace(r.Key)
		slot, lowest, lowOrder := uint32(0), uint32(0), ^uint64(0)
		found := false
		for k := uint32(0); k < pw; k++ {
			j := (home + k) % sps
			at := uint64(shard)*uint64(sps) + uint64(j)
			ord, used := heldOrder[at], heldUsed[at]
			if !used {
				slot, found = j, true
				break
			}
			if ord < lowOrder {
				lowest, lowOrder = j, ord
			}
		}
		if !found {
			slot = lowest
			rep.Evicted++
			rep.Installed--
		}
		at := uint64(shard)*uint64(sps) + uint64(slot)
		heldOrder[at], heldUsed[at] = r.Order, true
		so := c.slotOff(shard, slot)
		c.store(so+SlotKeyHash, h)
		c.store(so+SlotKeyLen, uint64(len(r.Key)))
		c.writeWords(so+SlotKey, r.Key)
		c.store(so+SlotReferenced, 0)
		ro := c.recOff(so, 1)
		c.store(ro+RecVersion, r.Version)
		c.store(ro+RecValueInfo, uint64(len(r.Value))|uint64(r.OriginTag)<<32)
		c.store(ro+RecChecksum, WCH64(r.Value, ValueSeed))
		c.store(ro+RecExpiresAtNs, r.ExpiresAtNs)
		c.store(ro+RecStaleUntilNs, r.StaleUntilNs)
		c.store(ro+RecWrittenAtNs, r.WrittenAtNs)
		c.store(ro+RecWriter, r.Writer)
		c.store(ro+RecWriterStartTime, r.WriterStartTime)
		c.writeWords(ro+RecValue, r.Value)
		c.store(so+SlotState, uint64(MakeWord(StateReady, 1, 0, 2)))
		rep.Installed++
	}
	c.store(OffVersionClock, rep.VersionFloor)
	c.store(OffDurableOrder, rep.OrderFloor)
}
