package warmcache

import (
	"bytes"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"syscall"
	"time"
)

// Open-file-description lock commands (Linux ≥ 3.15). The syscall package does not name them.
const (
	fOFDGetlk = 36 // F_OFD_GETLK
	fOFDSetlk = 37 // F_OFD_SETLK
)

// partOff returns the offset of participant entry i (0-based).
func (c *Cache) partOff(i uint32) uint64 { return c.lay.ParticipantsOffset + uint64(i)*ParticipantSize }

// lockRange builds the §5 liveness-lock description for entry i: F_WRLCK, SEEK_SET, one byte at
// the entry's first byte. l_pid must be 0 for OFD locks.
func (c *Cache) lockRange(i uint32) syscall.Flock_t {
	return syscall.Flock_t{Type: syscall.F_WRLCK, Whence: 0, Start: int64(c.partOff(i)), Len: 1}
}

// register takes the first free participant entry (§5 "Registering").
func (c *Cache) register() error {
	pc := c.geo.ParticipantCapacity
	for i := uint32(0); i < pc; i++ {
		lk := c.lockRange(i)
		err := syscall.FcntlFlock(uintptr(c.fd), fOFDSetlk, &lk)
		if err == syscall.EAGAIN || err == syscall.EACCES {
			continue // a live participant owns entry i
		}
		if err != nil {
			return ioErr("register participant", c.path, err)
		}
		off := c.partOff(i)
		// 1. e = fetch_add(epoch, 1): e is the predecessor's epoch, ours is e + 1.
		prev := addU64(c.u64(off+PartEpoch), 1) - 1
		c.store(off+PartPid, c.pid)
		c.store(off+PartStartTime, c.startTime)
		c.store(off+PartInfo, c.lang|ProtocolMajor<<8|c.minor<<16|uint64(uint32(os.Geteuid()))<<32)
		c.store(off+PartRegisteredAtNs, uint64(time.Now().UnixNano()))
		c.id = uint16(i + 1)
		c.writer = c.pid&0xFFFFFFFF | c.lang<<32 | ProtocolMajor<<40 | c.minor<<48 | uint64(c.id&0xFF)<<56
		// 2. Sweep before making any claim, as far as the predecessor's hint allows (§5.1).
		switch sc := c.scopeFor(off, prev); {
		case sc.all:
			c.sweep()
		case !sc.none:
			c.sweepWindow(sc.shard, sc.home)
		}
		// 3. Only now may a successor trust the hint as ours: claim_hint = 0, then
		// hint_epoch = e + 1 (seq-cst stores, after the sweep's CASes). A 1.0 participant
		// (LegacySweep, which a handle speaking 1.0 always is) never writes these bytes.
		if !c.legacySweep {
			// §18.3: a dead predecessor's pin is void already (its epoch is not ours); a 1.1
			// registrant clears it so that nobody needs the epoch test for it.
			c.store(off+PartNsPin, 0)
			c.store(off+PartClaimHint, 0)
			c.store(off+PartHintEpoch, prev+1)
		}
		return nil
	}
	return newErr(CodeParticipantsFull, "register participant", c.path, "all %d participant entries are held by live processes", pc)
}

// sweep undoes every claim and insert lock recorded under our id: since we hold the entry's
// lock now, they can only belong to a dead predecessor at this index (§5 step 2).
// Insert locks are released first so that T14 reclaims below can take them (reclaim.go).
func (c *Cache) sweep() {
	for s := uint32(0); s < c.geo.ShardCount; s++ {
		c.sweepLock(s)
	}
	for s := uint32(0); s < c.geo.ShardCount; s++ {
		for j := uint32(0); j < c.geo.SlotsPerShard; j++ {
			c.sweepSlot(s, j)
		}
	}
}

// sweepLock frees shard s's insert lock if our dead predecessor holds it.
func (c *Cache) sweepLock(s uint32) {
	p := c.u64(c.shardOff(s) + ShardInsertLock)
	// FAULT never_reclaim: a dead predecessor's insert lock is not freed either.
	if !c.faults.has(faultNeverReclaim) && casU64(p, uint64(c.id), 0) {
		c.add(c.shardOff(s)+ShardReclaims, 1)
	}
}

// sweepSlot undoes our dead predecessor's claim on slot j of shard s, if it has one.
func (c *Cache) sweepSlot(s, j uint32) {
	w := Word(c.load(c.slotOff(s, j) + SlotState))
	if w.valid(c.geo.ParticipantCapacity) && w.State().Owned() && w.Owner() == c.id {
		c.reclaim(s, j, w)
	}
}

// alive reports whether participant o holds its liveness lock (§5). Our own id is alive by
// definition (an OFD lock never conflicts with its own description, so GETLK would say
// F_UNLCK). Any error answers "alive", the safe answer.
func (c *Cache) alive(o uint16) bool {
	if o == c.id {
		return true
	}
	if c.faults.has(faultStealLiveClaim) {
		// FAULT steal_live_claim: the bug of a liveness test that always answers "dead"
		// (e.g. a misread F_OFD_GETLK result): every other owner's claim and insert lock is
		// reclaimed from under it while it is still writing.
		return false
	}
	return c.lockHeld(o)
}

// lockHeld is the §5 liveness test proper: does participant o hold its liveness lock?
func (c *Cache) lockHeld(o uint16) bool {
	if o == c.id {
		return true
	}
	if o == 0 || uint32(o) > c.geo.ParticipantCapacity {
		return false // not a participant id at all (§13): nobody can own with it
	}
	lk := c.lockRange(uint32(o) - 1)
	if err := syscall.FcntlFlock(uintptr(c.fd), fOFDGetlk, &lk); err != nil {
		return true
	}
	return lk.Type != syscall.F_UNLCK
}

// Participant describes one participant-table entry (§5).
type Participant struct {
	Index          uint32
	ID             uint16
	Epoch          uint64
	Pid            uint64
	StartTime      uint64
	Language       Language
	ProtocolMajor  uint8
	ProtocolMinor  uint8
	UID            uint32
	RegisteredAtNs uint64
	Alive          bool
	Self           bool
}

// Participants lists every entry that was ever registered (epoch > 0), with its liveness.
func (c *Cache) Participants() ([]Participant, error) {
	if err := c.checkOpen("participants"); err != nil {
		return nil, err
	}
	var out []Participant
	for i := uint32(0); i < c.geo.ParticipantCapacity; i++ {
		off := c.partOff(i)
		ep := c.load(off + PartEpoch)
		if ep == 0 {
			continue
		}
		info := c.load(off + PartInfo)
		id := uint16(i + 1)
		out = append(out, Participant{
			Index: i, ID: id, Epoch: ep,
			Pid:            c.load(off + PartPid),
			StartTime:      c.load(off + PartStartTime),
			Language:       Language(info),
			ProtocolMajor:  uint8(info >> 8),
			ProtocolMinor:  uint8(info >> 16),
			UID:            uint32(info >> 32),
			RegisteredAtNs: c.load(off + PartRegisteredAtNs),
			Alive:          c.lockHeld(id), // the truth, even under FAULT steal_live_claim
			Self:           id == c.id,
		})
	}
	return out, nil
}

// processStartTime is field 22 of /proc/self/stat (clock ticks since boot), 0 if unknown.
func processStartTime() uint64 {
	b, err := os.ReadFile("/proc/self/stat")
	if err != nil {
		return 0
	}
	// comm (field 2) may contain spaces and parentheses: fields resume after the last ')'.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0
	}
	f := bytes.Fields(b[i+1:])
	// f[0] is field 3, so field 22 is f[19].
	if len(f) < 20 {
		return 0
	}
	v, err := strconv.ParseUint(string(f[19]), 10, 64)
	if err != nil {
		return 0
	}
	return v
}

// relax is one iteration of a bounded wait (§9: a CPU relax, or a yield every so often). Go has
// no pause intrinsic; a short spin stands in for it, and we yield to the scheduler every 8th
// iteration (more often than the spec's 64th) because several goroutines of one process may
// share one participant id and one CPU.
func relax(i int) {
	if i&7 == 7 {
		runtime.Gosched()
		return
	}
	for k := 0; k < 30; k++ {
	}
}

func (p Participant) String() string {
	return fmt.Sprintf("participant %d (pid %d, epoch %d, alive %v)", p.ID, p.Pid, p.Epoch, p.Alive)
}
