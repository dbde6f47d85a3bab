package warmcache

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Compaction (docs/PERSISTENCE.md §8): the journals no process appends to any more, and the
// newest valid snapshot, are folded into a new snapshot; only once that snapshot's name is
// durable are the files it covers removed. The order of the steps is what makes a crash or a
// power cut at any point lose nothing:
//
//	lock restore.lock ─ lock covered journals ─ write .tmp ─ fsync .tmp ─ [snapshot.before_rename]
//	─ rename ─ fsync(DIR) ─ [snapshot.before_remove] ─ unlink each covered file [snapshot.after_remove]
//	─ fsync(DIR) ─ unlock
//
// Before the rename only a .tmp exists, which nobody reads; after fsync(DIR) the new snapshot
// holds every record of the files it covers, so removing them (or a power cut bringing some of
// them back, since an unlink is durable only at the next fsync(DIR)) changes nothing a restore
// reads: a record read twice merges into itself (§7 step 5).

// Pause points of compaction (PROTOCOL.md §17, PERSISTENCE.md §10).
const (
	PointSnapshotAfterWrite   = "snapshot.after_write"   // the .tmp written (write returned), before its fsync
	PointSnapshotBeforeRename = "snapshot.before_rename" // the .tmp fsynced, before the rename
	PointSnapshotBeforeRemove = "snapshot.before_remove" // renamed and fsync(DIR) done, before any removal
	PointSnapshotAfterRemove  = "snapshot.after_remove"  // after each covered file's unlink, before the last fsync(DIR)
)

// CompactOptions are the options of Compact.
type CompactOptions struct {
	// pauseHook is the harness's hook for the snapshot.* points (nil outside one); unexported like
	// every harness hook, so a service cannot set it (it reaches the harness through c.hooks).
	pauseHook func(point string)
}

// CompactReport says what a compaction did (PERSISTENCE.md §8), for the caller and the driver.
type CompactReport struct {
	Created      bool           `json:"created"`       // a snapshot was written (DRIVER.md: the step's `created`)
	Snapshot     string         `json:"snapshot"`      // the snapshot written, "" when no journal could be covered
	Base         string         `json:"base"`          // the older snapshot folded in, "" if none
	Covered      int            `json:"covered"`       // journals folded in (and removed)
	Live         int            `json:"live"`          // journals left because a writer still holds them
	Records      int            `json:"records"`       // records in the new snapshot, tombstones included
	Tombstones   int            `json:"tombstones"`    // of which invalidations
	Removed      int            `json:"removed"`       // files removed: covered journals, older snapshots, dead .tmp files
	VersionFloor uint64         `json:"version_floor"` // the end record's version
	OrderFloor   uint64         `json:"order_floor"`   // the end record's order
	Problems     []StoreProblem `json:"problems"`      // what reading the covered files met (§9)
}

// Compact folds the journals of geometry g in dir that no writer holds into a new snapshot and
// removes what it covers (§8). It needs no handle: any process of the fleet, or a cron job, may
// run it. A handle's own live journal is not covered; Cache.Compact ends it first.
func Compact(dir string, g Geometry, o CompactOptions) (CompactReport, error) {
	rep := CompactReport{Problems: []StoreProblem{}}
	if msg := g.check(); msg != "" {
		return rep, newErr(CodeBadGeometry, "compact", dir, "%s", msg)
	}
	pause := func(p string) {
		if pausePointsCompiled && o.pauseHook != nil {
			o.pauseHook(p)
		}
	}
	// Step 1: restorers and other compactors wait; writers do not.
	lockPath := filepath.Join(dir, "restore.lock")
	lf, err := os.OpenFile(lockPath, os.O_RDWR|os.O_CREATE|syscall.O_CLOEXEC, 0600)
	if err != nil {
		return rep, ioErr("compact", lockPath, err)
	}
	defer lf.Close() // releases the flock
	if err := syscall.Flock(int(lf.Fd()), syscall.LOCK_EX); err != nil {
		return rep, ioErr("compact", lockPath, err)
	}
	snaps, journals, err := listStore(dir)
	if err != nil {
		return rep, ioErr("compact", dir, err)
	}
	// Step 2: a journal is covered when its flock can be taken (its writer closed it or died)
	// and its header is valid and of g. The lock is taken before the file is read: a writer
	// flocks a new file before writing its header, so a file read under our lock is either
	// finished or empty (an empty one has no valid header and is left alone).
	var covered []*os.File
	defer func() {
		for _, f := range covered {
			f.Close()
		}
	}()
	m := newStoreMerge()
	var coveredPaths []string
	for _, p := range journals {
		f, err := os.OpenFile(p, os.O_RDONLY|syscall.O_CLOEXEC, 0)
		if err != nil {
			rep.Problems = append(rep.Problems, StoreProblem{File: p, Code: "io", Detail: err.Error()})
			continue
		}
		if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
			f.Close()
			rep.Live++
			continue
		}
		sf := ReadStoreFile(p, &g)
		if !sf.Usable {
			// Another geometry, or not (yet) a journal: reported, never removed.
			rep.Problems = append(rep.Problems, sf.Problems...)
			f.Close()
			continue
		}
		covered = append(covered, f)
		coveredPaths = append(coveredPaths, p)
		m.take(sf)
	}
	if len(coveredPaths) == 0 {
		return rep, nil
	}
	// Step 3: the base snapshot, then the covered journals (already merged: order decides, not
	// reading order).
	if base := m.takeNewestSnapshot(snaps, g); base != "" {
		rep.Base = filepath.Base(base)
	}
	rep.Problems = append(rep.Problems, m.problems...)
	recs := m.result()
	for _, r := range recs {
		if r.Kind == RecordKindDelete {
			rep.Tombstones++
		}
	}
	rep.Records, rep.VersionFloor, rep.OrderFloor = len(recs), m.versionFloor, m.orderFloor
	num := nextSnapshotNumber(dir)
	final := filepath.Join(dir, fmt.Sprintf("snapshot-%016x.wcs", num))
	tmp := fmt.Sprintf("%s.tmp.%d", final, os.Getpid())
	hdr := StoreHeader{Magic: SnapshotMagic, Geometry: g, CreatedAtNs: uint64(time.Now().UnixNano())}
	if err := writeSnapshot(tmp, hdr, recs, m, pause); err != nil {
		os.Remove(tmp)
		return rep, ioErr("compact", tmp, err)
	}
	// Step 4.
	pause(PointSnapshotBeforeRename)
	if err := os.Rename(tmp, final); err != nil {
		os.Remove(tmp)
		return rep, ioErr("compact", final, err)
	}
	if err := syncDir(dir); err != nil {
		return rep, ioErr("compact", dir, err)
	}
	rep.Snapshot, rep.Created = filepath.Base(final), true
	pause(PointSnapshotBeforeRemove)
	// Step 5: only now is anything removed.
	doomed := append([]string(nil), coveredPaths...)
	for _, s := range snaps {
		doomed = append(doomed, s) // every snapshot listed is older than the one just written
	}
	doomed = append(doomed, deadTemporaries(dir)...)
	for _, p := range doomed {
		if err := os.Remove(p); err != nil && !os.IsNotExist(err) {
			rep.Problems = append(rep.Problems, StoreProblem{File: p, Code: "io", Detail: err.Error()})
			continue
		}
		rep.Removed++
		pause(PointSnapshotAfterRemove)
	}
	rep.Covered = len(coveredPaths)
	if err := syncDir(dir); err != nil {
		return rep, ioErr("compact", dir, err)
	}
	return rep, nil
}

// Compact ends this handle's current journal part (so that its file can be covered, §8 step 1)
// and compacts its store.
func (c *Cache) Compact() (CompactReport, error) {
	if err := c.checkOpen("compact"); err != nil {
		return CompactReport{}, err
	}
	j := c.journal
	if j == nil {
		return CompactReport{}, newErr(CodeUnsupported, "compact", c.path, "the handle has no store")
	}
	j.mu.Lock()
	if j.f != nil {
		if j.opts.Policy != FsyncNone {
			_ = j.sync() // not needed for safety (the snapshot is fsynced), but keeps synced honest
		}
		j.endPart()
	}
	j.mu.Unlock()
	return Compact(j.opts.Dir, c.geo, CompactOptions{pauseHook: c.hooks.pause})
}

// StoreDir is the directory this handle journals into, "" without a store.
func (c *Cache) StoreDir() string {
	if c.journal == nil {
		return ""
	}
	return c.journal.opts.Dir
}

// writeSnapshot writes hdr, recs with seq 1, 2, … and the end record to path and fsyncs it.
func writeSnapshot(path string, hdr StoreHeader, recs []DurableRecord, m *storeMerge, pause func(string)) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL|syscall.O_CLOEXEC, 0600)
	if err != nil {
		return err
	}
	defer f.Close()
	buf := encodeHeader(hdr)
	flush := func() error {
		_, err := f.Write(buf)
		buf = buf[:0]
		return err
	}
	for i, r := range recs {
		r.Seq = uint64(i + 1)
		buf = append(buf, encodeRecord(r)...)
		if len(buf) >= 1<<20 {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	buf = append(buf, encodeRecord(DurableRecord{Kind: RecordKindEnd, Seq: uint64(len(recs) + 1),
		Order: m.orderFloor, Version: m.versionFloor})...)
	if err := flush(); err != nil {
		return err
	}
	pause(PointSnapshotAfterWrite)
	return f.Sync()
}

// nextSnapshotNumber is one more than the highest snapshot number in dir, .tmp files included
// (so that a crashed compactor's leftover never shares a final name).
func nextSnapshotNumber(dir string) uint64 {
	names, _ := filepath.Glob(filepath.Join(dir, "snapshot-*"))
	next := uint64(1)
	for _, n := range names {
		b := strings.TrimPrefix(filepath.Base(n), "snapshot-")
		if len(b) < 16 {
			continue
		}
		if v, err := strconv.ParseUint(b[:16], 16, 64); err == nil && v >= next {
			next = v + 1
		}
	}
	return next
}

// deadTemporaries lists the .tmp files of compactors that are no longer running (§8 allows
// removing them).
func deadTemporaries(dir string) []string {
	names, _ := filepath.Glob(filepath.Join(dir, "snapshot-*.wcs.tmp.*"))
	var out []string
	for _, n := range names {
		i := strings.LastIndex(n, ".tmp.")
		pid, err := strconv.Atoi(n[i+5:])
		if err != nil || pid <= 0 {
			continue
		}
		if pid != os.Getpid() && syscall.Kill(pid, 0) == syscall.ESRCH {
			out = append(out, n)
		}
	}
	return out
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
