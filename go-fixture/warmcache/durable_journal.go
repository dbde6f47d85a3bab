package warmcache

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"time"
)

// FsyncPolicy says when journal bytes are made durable (PERSISTENCE.md §6).
type FsyncPolicy string

const (
	FsyncAlways   FsyncPolicy = "always"   // fdatasync before answering
	FsyncInterval FsyncPolicy = "interval" // a timer fdatasyncs every Interval
	FsyncNone     FsyncPolicy = "none"     // the kernel writes back when it will
)

// Pause points of the durable store (PROTOCOL.md §17, PERSISTENCE.md §10).
const (
	PointJournalBeforeAppend  = "journal.before_append"
	PointJournalAfterAppend   = "journal.after_append"
	PointJournalAfterSync     = "journal.after_sync"
	PointRestoreBeforePublish = "restore.before_publish"
)

// StoreOptions name a durable store directory and its policy.
type StoreOptions struct {
	Dir      string
	Policy   FsyncPolicy
	Interval time.Duration // FsyncInterval only; 0 = 1 s
}

func (o StoreOptions) check() error {
	switch o.Policy {
	case FsyncAlways, FsyncInterval, FsyncNone:
	default:
		return newErr(CodeUnsupported, "store", o.Dir, "fsync policy %q is not always, interval or none", o.Policy)
	}
	if o.Dir == "" {
		return newErr(CodeUnsupported, "store", o.Dir, "no store directory")
	}
	return nil
}

// journal is one handle's journal (PERSISTENCE.md §6). One file per writer: no lock between
// processes, a crash can only tear this file's last record. mu serialises the handle's
// goroutines so that seq order is append order is answer order.
type journal struct {
	mu      sync.Mutex
	opts    StoreOptions
	f       *os.File
	path    string
	part    uint32
	seq     uint64
	written int64 // bytes written (write returned)
	synced  int64 // bytes covered by the last completed fdatasync
	dirty   bool  // a new file's directory entry is not yet fsynced
	stop    chan struct{}
	done    chan struct{}
}

// JournalState is what a harness needs to simulate a power cut (PERSISTENCE.md §6): the file,
// how many bytes `write` returned for and how many the last fdatasync covered.
type JournalState struct {
	Path    string `json:"path"`
	Written int64  `json:"written"`
	Synced  int64  `json:"synced"`
	Seq     uint64 `json:"seq"`
}

// AttachStore makes this handle journal its durable operations into o.Dir.
func (c *Cache) AttachStore(o StoreOptions) error {
	if err := c.checkOpen("store"); err != nil {
		return err
	}
	if err := o.check(); err != nil {
		return err
	}
	if o.Policy == FsyncInterval && o.Interval <= 0 {
		o.Interval = time.Second
	}
	if err := os.MkdirAll(o.Dir, 0700); err != nil {
		return ioErr("store", o.Dir, err)
	}
	j := &journal{opts: o}
	if o.Policy == FsyncInterval {
		j.stop, j.done = make(chan struct{}), make(chan struct{})
		go j.syncLoop()
	}
	c.journal = j
	return nil
}

// JournalState reports the current journal file (empty before the first durable operation).
func (c *Cache) JournalState() (JournalState, error) {
	if err := c.checkOpen("journal_state"); err != nil {
		return JournalState{}, err
	}
	j := c.journal
	if j == nil {
		return JournalState{}, nil
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	return JournalState{Path: j.path, Written: j.written, Synced: j.synced, Seq: j.seq}, nil
}

func (c *Cache) detachStore() {
	j := c.journal
	if j == nil {
		return
	}
	if j.stop != nil {
		close(j.stop)
		<-j.done
	}
	j.mu.Lock()
	if j.f != nil && j.opts.Policy != FsyncNone {
		_ = j.sync()
	}
	j.closeFile()
	j.mu.Unlock()
	c.journal = nil
}

// takeOrder is §3's order, taken while the caller holds the slot's claim.
func (c *Cache) takeOrder(durable bool) uint64 {
	if !durable || c.journal == nil {
		return 0
	}
	return c.add1(OffDurableOrder)
}

// journalAppend writes r (§6 step 2) and applies the policy (step 3). It reports whether the
// record is durable as the policy promises; false after any error, the file then being closed
// so that the next durable operation starts a new part.
func (c *Cache) journalAppend(r DurableRecord) bool {
	j := c.journal
	c.hooks.at(PointJournalBeforeAppend)
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.f == nil {
		if err := c.startJournal(j); err != nil {
			fmt.Fprintf(os.Stderr, "warmcache: journal: %v\n", err)
			return false
		}
	}
	r.Seq = j.seq + 1
	b := encodeRecord(r)
	// os.File.Write continues short writes; an error ends the file (§6 step 2).
	if _, err := j.f.Write(b); err != nil {
		fmt.Fprintf(os.Stderr, "warmcache: journal %s: write: %v\n", j.path, err)
		j.endPart()
		return false
	}
	j.seq++
	j.written += int64(len(b))
	c.hooks.at(PointJournalAfterAppend)
	if j.opts.Policy == FsyncAlways {
		if err := j.sync(); err != nil {
			fmt.Fprintf(os.Stderr, "warmcache: journal %s: fdatasync: %v\n", j.path, err)
			j.endPart()
			return false
		}
		c.hooks.at(PointJournalAfterSync)
	}
	return true
}

// startJournal opens a new part (§6 "Starting a journal"). Called with j.mu held.
func (c *Cache) startJournal(j *journal) error {
	epoch := c.load(c.partOff(uint32(c.id-1)) + PartEpoch) // our own entry: only we changed it
	created := c.load(OffCreatedAtNs)
	name := fmt.Sprintf("journal-%016x-%04x-%016x-%04x.wcj", created, c.id, epoch, j.part)
	p := filepath.Join(j.opts.Dir, name)
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL|syscall.O_CLOEXEC, 0600)
	if err != nil {
		return ioErr("journal", p, err)
	}
	// From here the name is taken: a failure ends this part like an append's error (§6), or
	// every later start would meet EEXIST on it (an ENOSPC in the header did that).
	// The flock tells a compactor the file is live (§8 step 2).
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		j.part++
		return ioErr("journal", p, err)
	}
	hdr := encodeHeader(StoreHeader{Magic: JournalMagic, Geometry: c.geo, SegmentCreatedAtNs: created,
		Writer: c.writer, WriterStartTime: c.startTime, Participant: c.id, Epoch: epoch,
		CreatedAtNs: uint64(time.Now().UnixNano())})
	if _, err := f.Write(hdr); err != nil {
		f.Close()
		j.part++
		return ioErr("journal", p, err)
	}
	j.f, j.path, j.seq, j.written, j.synced, j.dirty = f, p, 0, int64(len(hdr)), 0, true
	if j.opts.Policy != FsyncNone {
		// The header and the name must be durable before any record is acknowledged.
		if err := j.sync(); err != nil {
			j.endPart()
			return ioErr("journal", p, err)
		}
	}
	return nil
}

// sync is fdatasync of the file, plus fsync of the directory once for a new file (its name).
// Called with j.mu held, or from syncLoop which takes it.
func (j *journal) sync() error {
	upto := j.written
	if err := syscall.Fdatasync(int(j.f.Fd())); err != nil {
		return err
	}
	if j.dirty {
		d, err := os.Open(j.opts.Dir)
		if err != nil {
			return err
		}
		err = d.Sync()
		d.Close()
		if err != nil {
			return err
		}
		j.dirty = false
	}
	j.synced = upto
	return nil
}

// endPart closes the file after an error: a failed fsync is never retried (the kernel may have
// dropped the dirty pages), the next durable operation starts part + 1.
func (j *journal) endPart() {
	j.closeFile()
	j.part++
}

func (j *journal) closeFile() {
	if j.f != nil {
		_ = j.f.Close() // releases the flock
		j.f = nil
	}
}

// syncLoop is the interval policy's timer.
func (j *journal) syncLoop() {
	defer close(j.done)
	t := time.NewTicker(j.opts.Interval)
	defer t.Stop()
	for {
		select {
		case <-j.stop:
			return
		case <-t.C:
			j.mu.Lock()
			if j.f != nil && j.synced < j.written {
				if err := j.sync(); err != nil {
					fmt.Fprintf(os.Stderr, "warmcache: journal %s: fdatasync: %v\n", j.path, err)
					j.endPart()
				}
			}
			j.mu.Unlock()
		}
	}
}
