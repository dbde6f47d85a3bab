package warmcache

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"
)

// Geometry is the shape of a segment (§3 geometry_shards, geometry_sizes, geometry_limits).
type Geometry struct {
	ShardCount          uint32
	SlotsPerShard       uint32
	KeyCapacity         uint32
	ValueCapacity       uint32
	ProbeWindow         uint32
	ParticipantCapacity uint32
}

// DefaultGeometry is the geometry of §3 for tools and tests: 16 shards × 64 slots, key 64 B,
// value 1024 B, window 8, 64 participants (2.4 MB).
var DefaultGeometry = Geometry{16, 64, 64, 1024, 8, 64}

// Layout holds the derived sizes and offsets of a geometry (§3, §7).
type Layout struct {
	RecordSize         uint64
	SlotSize           uint64
	ParticipantsOffset uint64
	ShardsOffset       uint64
	ShardSize          uint64
	TotalLen           uint64
}

// Layout computes the derived figures. The geometry limits of §3 bound every factor, so no
// product below can overflow 64 bits (the largest, total_len, is < 2^54).
func (g Geometry) Layout() Layout {
	var l Layout
	l.RecordSize = RecordHeaderSize + uint64(g.ValueCapacity)
	l.SlotSize = alignUp(SlotHeaderSize+uint64(g.KeyCapacity)+2*l.RecordSize, CacheLine)
	l.ParticipantsOffset = ParticipantsOffset
	l.ShardsOffset = alignUp(HeaderSize+uint64(g.ParticipantCapacity)*ParticipantSize, 4096)
	l.ShardSize = ShardHeaderSize + uint64(g.SlotsPerShard)*l.SlotSize
	l.TotalLen = l.ShardsOffset + uint64(g.ShardCount)*l.ShardSize
	return l
}

// Validate checks the §3 geometry rules 1–6 and the total_len bound, returning the first
// violated rule in the table's order.
func (g Geometry) Validate() error {
	if err := g.check(); err != "" {
		return &Error{C: CodeBadGeometry, Op: "geometry", Detail: err}
	}
	return nil
}

func (g Geometry) check() string {
	if msg := g.checkFields(); msg != "" {
		return msg
	}
	if l := g.Layout(); l.TotalLen > MaxTotalLen {
		return fmt.Sprintf("rule 8 violated: total_len ≤ 2^40 (total_len %d)", l.TotalLen)
	}
	return ""
}

// checkFields checks the first six rules of §3 (the stored fields), in the table's order.
func (g Geometry) checkFields() string {
	switch {
	case g.ShardCount < 1 || g.ShardCount > MaxShardCount:
		return fmt.Sprintf("rule 1 violated: 1 ≤ shard_count ≤ 65536 (shard_count %d)", g.ShardCount)
	case g.SlotsPerShard < 1 || g.SlotsPerShard > MaxSlotsPerShard:
		return fmt.Sprintf("rule 2 violated: 1 ≤ slots_per_shard ≤ 65536 (slots_per_shard %d)", g.SlotsPerShard)
	case g.KeyCapacity < MinKeyCapacity || g.KeyCapacity > MaxKeyCapacity || g.KeyCapacity%8 != 0:
		return fmt.Sprintf("rule 3 violated: 8 ≤ key_capacity ≤ 4096, multiple of 8 (key_capacity %d)", g.KeyCapacity)
	case g.ValueCapacity < MinValueCapacity || g.ValueCapacity > MaxValueCapacity || g.ValueCapacity%8 != 0:
		return fmt.Sprintf("rule 4 violated: 8 ≤ value_capacity ≤ 1048576, multiple of 8 (value_capacity %d)", g.ValueCapacity)
	case g.ProbeWindow < 1 || g.ProbeWindow > g.SlotsPerShard || g.ProbeWindow > MaxProbeWindow:
		return fmt.Sprintf("rule 5 violated: 1 ≤ probe_window ≤ min(slots_per_shard, 64) (probe_window %d)", g.ProbeWindow)
	case g.ParticipantCapacity < 1 || g.ParticipantCapacity > MaxParticipantCapacity:
		return fmt.Sprintf("rule 6 violated: 1 ≤ participant_capacity ≤ 4096 (participant_capacity %d)", g.ParticipantCapacity)
	}
	return ""
}

// CreateOptions are the options of Create and OpenOrCreate.
type CreateOptions struct {
	// simClock sets feature SIM_CLOCK (§12); simClockStart is the initial sim_clock_ns.
	simClock      bool
	simClockStart uint64
	// Group creates the file 0660 instead of 0600 (§13).
	Group bool
	// FastChecksum sets feature FAST_CHECKSUM (1.1, §2): every record checksum of the segment
	// is WCH64X4 instead of WCH64. Chosen at creation for the segment's life; a 1.0 reader
	// refuses such a segment. Not allowed with Open.Protocol 1.0.
	FastChecksum bool
	// Future writes a future-version test image instead of this library's version (tests
	// only, protocol.go).
	Future FutureImage
	// Open is used by OpenOrCreate when the segment exists, and for the participant setup:
	// its faults and pauseHook apply to the created handle too.
	Open OpenOptions

	// fill, set by OpenOrRestore only, installs the restored entries between §4.1 steps 4
	// and 5; replace makes step 6 a rename over an unusable file (PERSISTENCE.md §7).
	fill    func(c *Cache)
	replace bool
}

// OpenOptions are the options of Open.
type OpenOptions struct {
	// Timeout bounds the polling for `ready` (§4.2 step 6): 0 means the default 2 s, a negative
	// value means "do not poll".
	Timeout time.Duration
	// faults switches on deliberate bugs for this handle (DRIVER.md "Fault switches"; see
	// faults.go). Zero, the default, is the correct protocol.
	faults faultSet
	// pauseHook is installed as by setPauseHook before the handle registers, so that it also
	// sees the pause points of the registration sweep (§5). Nil normally.
	pauseHook func(point string)
	// Language is the §7.3 code written into provenance and the participant entry; 0 means
	// LanguageGo. Another code lets this library pose as an unregistered implementation (the
	// harness's test of the third-party path), never anything else.
	Language Language
	// trace records transitions from before the registration, so that the reclaims of the
	// sweep (§5 step 2) are in the first drainTrace, as enableTrace after Open would miss them.
	trace bool
	// Protocol is the version this handle speaks (protocol.go); zero: the newest, 1.1.
	Protocol Protocol
	// LegacySweep makes this handle a 1.0 participant as far as §5.1 goes: its registration
	// sweeps every slot, and it never reads or writes the claim hint. For measuring what the
	// lazy sweep saves and for testing a fleet that mixes 1.0 and 1.1 participants. A handle
	// speaking 1.0 is one whatever this says (§14: it registers exactly as a 1.0 build would).
	LegacySweep bool
	// MaxTotalLen is the reader's size bound, geometry rule 9 (§3, §13.2): a segment whose
	// total_len is larger is refused with bad_geometry before anything past the header is
	// looked at. 0 means DefaultMaxTotalLen; values above 2^40 mean 2^40 (rule 8 caps it anyway).
	MaxTotalLen uint64
}

// DefaultMaxTotalLen is the size bound a reader accepts unless told otherwise (§13.2: 16 GiB).
const DefaultMaxTotalLen uint64 = 1 << 34

// Cache is one process's handle on a segment. Its methods may be called from many goroutines
// at once (they share one participant id); Close must not race with other calls.
type Cache struct {
	path string
	fd   int
	mem  []byte // the whole segment, mapped once at its checked length (§13)
	// base is &mem[0]. Hot paths address words as base+off (see u64) to avoid reloading the
	// slice header and re-checking bounds on every access.
	base unsafe.Pointer

	// Immutable header values, the only segment data kept in private memory (§4.2).
	geo      Geometry
	lay      Layout
	simClock bool
	// fastSum: the segment has FAST_CHECKSUM, so record checksums are WCH64X4 (§2).
	fastSum bool
	// minor is the protocol minor this handle writes (OpenOptions.Protocol).
	minor uint64

	id        uint16 // our participant id (index + 1)
	pid       uint64
	startTime uint64
	writer    uint64 // the provenance word of records we write (§7.2)

	tracer  *Tracer
	corrupt uint64 // private count of gets that met a corrupt slot (§15)

	// hooks is the §17 pause hook (pause.go), nil outside a harness.
	hooks hooks
	// faults are the deliberate bugs switched on for this handle (faults.go), 0 normally.
	faults faultSet
	// lang is the §7.3 code this handle writes (OpenOptions.Language).
	lang uint64
	// legacySweep: OpenOptions.LegacySweep.
	legacySweep bool

	// hookAfterClaim, for tests only: called after a claim (T1/T10/T11/T4) with the event
	// name; returning true abandons the operation with the slot still claimed.
	hookAfterClaim func(event string) bool

	// journal is the durable store's writer (durable_journal.go), nil without AttachStore.
	journal *journal

	// shardMod, slotMod: `mod shard_count` and `mod slots_per_shard` of the geometry (§6),
	// without a division (fastmod.go); set by withGeometry.
	shardMod, slotMod fastMod
}

// nameNonce is 8 random bytes for a private name (§4.1 step 1), read from /dev/urandom. Not
// crypto/rand: importing it linked math/big, the ciphers and their package initialisation into
// every consumer, for a name whose uniqueness O_EXCL enforces anyway (the time stands in if the
// device cannot be read).
func nameNonce() []byte {
	b := make([]byte, 8)
	if f, err := os.Open("/dev/urandom"); err == nil {
		_, err = io.ReadFull(f, b)
		_ = f.Close()
		if err == nil {
			return b
		}
	}
	binary.LittleEndian.PutUint64(b, uint64(time.Now().UnixNano()))
	return b
}

// withGeometry derives the private helpers of c.geo (its placement moduli) and returns c. Every
// constructor of a Cache goes through it.
func (c *Cache) withGeometry() *Cache {
	c.shardMod, c.slotMod = newFastMod(c.geo.ShardCount), newFastMod(c.geo.SlotsPerShard)
	return c
}

// Path returns the segment path.
func (c *Cache) Path() string { return c.path }

// Geometry returns the segment's geometry.
func (c *Cache) Geometry() Geometry { return c.geo }

// Layout returns the segment's derived layout.
func (c *Cache) Layout() Layout { return c.lay }

// ParticipantID returns this handle's participant id (1..participant_capacity).
func (c *Cache) ParticipantID() uint16 { return c.id }

// SimClock reports whether the segment runs on the simulated clock (§12).
func (c *Cache) SimClock() bool { return c.simClock }

// u64 returns a pointer to the shared word at off, i.e. (*uint64)(unsafe.Pointer(&mem[off]))
// without Go's per-access bounds check. That is safe because every off passed here is computed
// from the immutable geometry validated in §4.2 (total_len equals the formula and the mapping
// is exactly total_len bytes), plus a field offset inside its structure, plus, for key and value
// words, an index bounded by key_len ≤ key_capacity or value_len ≤ value_capacity checked just
// before: never from unchecked segment contents (§13). The layout guarantees 8-byte alignment
// (mmap returns a page-aligned base and every field is at a multiple of 8). TestBoundsAudit
// re-checks the largest offsets against len(mem) with the checked form.
func (c *Cache) u64(off uint64) *uint64 { return (*uint64)(unsafe.Add(c.base, off)) }

// u64Checked is the bounds-checked form, for code that is not hot.
func (c *Cache) u64Checked(off uint64) *uint64 { return (*uint64)(unsafe.Pointer(&c.mem[off])) }

func (c *Cache) load(off uint64) uint64     { return atomic.LoadUint64(c.u64(off)) }
func (c *Cache) store(off uint64, v uint64) { atomic.StoreUint64(c.u64(off), v) }

// add is the relaxed fetch-add of the shard counters (§6), and only of them: a benchmark-only
// build (tag warmcache_nocounters, counters_off.go) compiles it out to measure what the counters
// cost the hot path (scripts/bench-pause-cost.sh with SWITCH=counters). Other fetch-adds
// (the participant epoch) use addWord.
func (c *Cache) add(off uint64, d uint64) {
	if countersCompiled {
		atomic.AddUint64(c.u64(off), d)
	}
}

// addWord is a fetch-add on a shared word that is not a counter (the participant epoch, §5).
func (c *Cache) addWord(off uint64, d uint64) { atomic.AddUint64(c.u64(off), d) }

func (c *Cache) shardOff(s uint32) uint64 {
	return c.lay.ShardsOffset + uint64(s)*c.lay.ShardSize
}

func (c *Cache) slotOff(s, j uint32) uint64 {
	return c.lay.ShardsOffset + uint64(s)*c.lay.ShardSize + ShardHeaderSize + uint64(j)*c.lay.SlotSize
}

// recOff returns the offset of record a (0 or 1) of the slot at slotOff.
func (c *Cache) recOff(slotOff uint64, a uint64) uint64 {
	return slotOff + SlotHeaderSize + uint64(c.geo.KeyCapacity) + (a&1)*c.lay.RecordSize
}

// checkOpen is the first statement of every exported method that reads the mapping: after Close
// mem is nil and the pages are gone, so the call answers CodeClosed instead of faulting
// (PROTOCOL.md §15, DRIVER.md "After close").
func (c *Cache) checkOpen(op string) error {
	if c == nil || c.mem == nil {
		return &Error{C: CodeClosed, Op: op, Detail: "the cache handle is closed"}
	}
	return nil
}

// ---------------------------------------------------------------------------------------------
// §4.1 Creating

// Create builds a new segment at path under a private name and links it into place. It fails
// with `exists` if path already exists.
func Create(path string, g Geometry, o CreateOptions) (*Cache, error) {
	c, err := create(path, g, o)
	return c, err
}

// OpenOrCreate creates the segment, or opens it if it exists (§4.1). created says which. An
// existing segment is opened with whatever geometry it has.
func OpenOrCreate(path string, g Geometry, o CreateOptions) (c *Cache, created bool, err error) {
	c, err = create(path, g, o)
	if err == nil {
		return c, true, nil
	}
	if CodeOf(err) != CodeExists {
		return nil, false, err
	}
	c, err = Open(path, o.Open)
	return c, false, err
}

func create(path string, g Geometry, o CreateOptions) (*Cache, error) {
	const op = "create"
	minor, known, perr := o.Open.Protocol.speaks()
	if perr != nil {
		return nil, perr
	}
	var v, fi, fc uint64
	if err := o.Future.apply(&v, &fi, &fc); err != nil {
		return nil, err
	}
	if o.FastChecksum && known&FeatureFastChecksum == 0 {
		return nil, fmt.Errorf("FAST_CHECKSUM needs protocol 1.1, this handle speaks %d.%d", ProtocolMajor, minor)
	}
	if err := g.check(); err != "" {
		return nil, &Error{C: CodeBadGeometry, Op: op, Path: path, Detail: err}
	}
	// Cheap early answer; the authoritative one is linkat's EEXIST below.
	if _, err := os.Lstat(path); err == nil && !o.replace {
		return nil, &Error{C: CodeExists, Op: op, Path: path, Detail: "the path already exists"}
	}
	lay := g.Layout()

	mode := uint32(0600)
	if o.Group {
		mode = 0660
	}
	// The handle does not exist before step 4; the hook is the one it will get.
	early := hooks{o.Open.pauseHook}
	// Steps 1 and 2, and the sweep of dead creators' files (openTemp).
	tmp, fd, err := openTemp(op, path, mode, early)
	if err != nil {
		return nil, err
	}
	ok := false
	var mem []byte
	defer func() {
		if !ok {
			if mem != nil {
				_ = syscall.Munmap(mem)
			}
			_ = syscall.Unlink(tmp)
			_ = syscall.Close(fd)
		}
	}()
	early.at(PointCreateAfterOpenTemp)
	// Step 3: reserve the whole length now, so a full tmpfs is an error now, not a SIGBUS later.
	if err := syscall.Fallocate(fd, 0, 0, int64(lay.TotalLen)); err != nil {
		switch err {
		case syscall.ENOSPC, syscall.EDQUOT:
			return nil, &Error{C: CodeNoSpace, Op: op, Path: path,
				Detail: fmt.Sprintf("cannot reserve %d bytes (%s)", lay.TotalLen, errnoName(err.(syscall.Errno))),
				Errno:  err.(syscall.Errno)}
		case syscall.EOPNOTSUPP:
			if err := reserveByWriting(fd, lay.TotalLen); err != nil {
				if err == syscall.ENOSPC {
					return nil, &Error{C: CodeNoSpace, Op: op, Path: path, Detail: "ENOSPC", Errno: syscall.ENOSPC}
				}
				return nil, ioErr(op, tmp, err)
			}
		default:
			return nil, ioErr(op, tmp, err)
		}
	}
	early.at(PointCreateAfterSize)
	// Step 4: map and write the immutable header.
	mem, err = syscall.Mmap(fd, 0, int(lay.TotalLen), syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_SHARED)
	if err != nil {
		return nil, ioErr(op, tmp, err)
	}
	c := &Cache{path: path, fd: fd, mem: mem, base: unsafe.Pointer(&mem[0]), geo: g, lay: lay, simClock: o.simClock,
		fastSum: o.FastChecksum, minor: minor, hooks: hooks{o.Open.pauseHook}, faults: o.Open.faults, lang: languageCode(o.Open.Language), legacySweep: o.Open.LegacySweep || minor == 0}
	c.withGeometry()
	if o.Open.trace {
		c.enableTrace()
	}
	c.initProcess()
	var feat uint64
	if o.simClock {
		feat |= FeatureSimClock
	}
	if o.FastChecksum {
		feat |= FeatureFastChecksum
	}
	hdr := [17]uint64{
		OffMagic / 8:              Magic,
		OffVersion / 8:            ProtocolMajor | minor<<16 | HeaderSize<<32,
		OffFeaturesIncompat / 8:   feat,
		OffFeaturesCompat / 8:     0,
		OffLayoutFingerprint / 8:  LayoutFingerprint,
		OffTotalLen / 8:           lay.TotalLen,
		OffGeometryShards / 8:     uint64(g.ShardCount) | uint64(g.SlotsPerShard)<<32,
		OffGeometrySizes / 8:      uint64(g.KeyCapacity) | uint64(g.ValueCapacity)<<32,
		OffGeometryLimits / 8:     uint64(g.ProbeWindow) | uint64(g.ParticipantCapacity)<<32,
		OffSlotSize / 8:           lay.SlotSize,
		OffParticipantsOffset / 8: lay.ParticipantsOffset,
		OffShardsOffset / 8:       lay.ShardsOffset,
		OffShardSize / 8:          lay.ShardSize,
		OffCreatorPid / 8:         c.pid,
		OffCreatorStartTime / 8:   c.startTime,
		OffCreatorInfo / 8:        c.lang | uint64(uint32(os.Geteuid()))<<32,
		OffCreatedAtNs / 8:        uint64(time.Now().UnixNano()),
	}
	_ = o.Future.apply(&hdr[OffVersion/8], &hdr[OffFeaturesIncompat/8], &hdr[OffFeaturesCompat/8])
	for i, w := range hdr {
		c.store(uint64(i*8), w)
	}
	c.store(OffHeaderChecksum, headerChecksum(hdr[:]))
	if o.simClock {
		c.store(OffSimClockNs, o.simClockStart)
	}
	if o.fill != nil {
		o.fill(c)
	}
	c.hooks.at(PointCreateAfterHeader)
	// Step 5: ready, the last write of initialisation. Go's atomic store is sequentially
	// consistent, hence at least release: the header is visible before `ready`.
	c.store(OffReady, Ready)
	if o.fill != nil {
		c.hooks.at(PointRestoreBeforePublish)
	}
	c.hooks.at(PointCreateBeforeLink)
	if o.replace {
		// Restore over an unusable file (PERSISTENCE.md §7 step 7): rename replaces it in
		// one step; a process still mapping the old file keeps its inode.
		if err := syscall.Rename(tmp, path); err != nil {
			return nil, ioErr(op, path, err)
		}
	} else if err := syscall.Link(tmp, path); err != nil {
		// Step 6: link into place. syscall.Link is linkat(AT_FDCWD, tmp, AT_FDCWD, path, 0):
		// no AT_SYMLINK_FOLLOW.
		if err == syscall.EEXIST {
			return nil, &Error{C: CodeExists, Op: op, Path: path, Detail: "another creator linked the path first", Errno: syscall.EEXIST}
		}
		return nil, ioErr(op, path, err)
	}
	_ = syscall.Unlink(tmp)
	_ = syscall.Flock(fd, syscall.LOCK_UN)
	c.hooks.at(PointCreateAfterLink)
	if err := c.register(); err != nil {
		// The segment is valid and linked; only our registration failed.
		_ = syscall.Munmap(mem)
		_ = syscall.Close(fd)
		ok = true
		return nil, err
	}
	ok = true
	return c, nil
}

// openTemp is §4.1 steps 1 and 2: the private file TMP, created exclusively, its mode applied
// with fchmod (the umask may have removed bits), under the creator's flock; then the sweep of
// dead creators' files. A sweeper (another creator of the same prefix) can take TMP's lock in
// the instant between open and flock and remove the name; the fstat after the flock sees that
// (st_nlink 0) and starts again with a new name, since a build under a removed name could
// never be linked. Once this creator holds the lock, no sweeper can take it.
func openTemp(op, path string, mode uint32, early hooks) (string, int, error) {
	for attempt := 0; ; attempt++ {
		tmp := InitPrefix(path) + strconv.Itoa(os.Getpid()) + "." + hex.EncodeToString(nameNonce())
		fd, err := syscall.Open(tmp, syscall.O_RDWR|syscall.O_CREAT|syscall.O_EXCL|syscall.O_NOFOLLOW|syscall.O_CLOEXEC, 0600)
		if err == syscall.ENOENT {
			// §4.1 step 1: the directory does not exist.
			return "", -1, &Error{C: CodeNotFound, Op: op, Path: path, Detail: "its directory does not exist", Errno: syscall.ENOENT}
		}
		if err == syscall.EEXIST {
			continue // a random collision: draw another name
		}
		if err != nil {
			return "", -1, ioErr(op, tmp, err)
		}
		fail := func(err error) (string, int, error) {
			_ = syscall.Unlink(tmp)
			_ = syscall.Close(fd)
			return "", -1, ioErr(op, tmp, err)
		}
		if err := syscall.Fchmod(fd, mode); err != nil {
			return fail(err)
		}
		early.at(PointCreateBeforeFlock)
		// Step 2: the flock marks the file as being built by a live creator.
		if err := syscall.Flock(fd, syscall.LOCK_EX); err != nil {
			return fail(err)
		}
		var st syscall.Stat_t
		if err := syscall.Fstat(fd, &st); err != nil {
			return fail(err)
		}
		if st.Nlink == 0 {
			_ = syscall.Close(fd)
			if attempt+1 >= createAttempts {
				return "", -1, ioErr(op, tmp, syscall.ENOENT)
			}
			continue
		}
		RemoveStaleInit(path)
		return tmp, fd, nil
	}
}

// createAttempts bounds the restarts of openTemp: each one needs another creator's sweep to
// win the instant between this creator's open and its flock.
const createAttempts = 8

// reserveByWriting is the EOPNOTSUPP fallback of §4.1 step 3: ftruncate, then one zero byte in
// every 4096-byte page.
func reserveByWriting(fd int, n uint64) error {
	if err := syscall.Ftruncate(fd, int64(n)); err != nil {
		return err
	}
	zero := []byte{0}
	for off := uint64(0); off < n; off += 4096 {
		if _, err := syscall.Pwrite(fd, zero, int64(off)); err != nil {
			return err
		}
	}
	return nil
}

// headerChecksum is WCH64(bytes 0..135, HEADER_SEED) computed over the 17 header words.
func headerChecksum(words []uint64) uint64 {
	h := wchStart(HeaderSeed, HeaderChecksumLen)
	for _, w := range words[:HeaderChecksumLen/8] {
		h = wchWord(h, w)
	}
	return wchEnd(h)
}

// speaking names the version a handle speaks, for messages.
func speaking(p Protocol) string {
	minor, _, _ := p.speaks()
	return fmt.Sprintf("%d.%d", ProtocolMajor, minor)
}

func (c *Cache) initProcess() {
	c.pid = uint64(os.Getpid())
	c.startTime = processStartTime()
}

// ---------------------------------------------------------------------------------------------
// §4.2 Opening

// Open opens an existing segment, running the checks of §4.2 in the spec's order.
func Open(path string, o OpenOptions) (*Cache, error) {
	const op = "open"
	// Step 1.
	fd, err := syscall.Open(path, syscall.O_RDWR|syscall.O_NOFOLLOW|syscall.O_CLOEXEC, 0)
	if err != nil {
		switch err {
		case syscall.ELOOP:
			return nil, &Error{C: CodeSymlink, Op: op, Path: path, Detail: "the path is a symbolic link", Errno: syscall.ELOOP}
		case syscall.ENOENT:
			return nil, &Error{C: CodeNotFound, Op: op, Path: path, Detail: "no such file", Errno: syscall.ENOENT}
		}
		return nil, ioErr(op, path, err)
	}
	c, err := openFD(path, fd, o)
	if err != nil {
		_ = syscall.Close(fd)
		return nil, err
	}
	return c, nil
}

func openFD(path string, fd int, o OpenOptions) (*Cache, error) {
	const op = "open"
	minor, _, perr := o.Protocol.speaks()
	if perr != nil {
		return nil, perr
	}
	// Step 2.
	var st syscall.Stat_t
	if err := syscall.Fstat(fd, &st); err != nil {
		return nil, ioErr(op, path, err)
	}
	if st.Mode&syscall.S_IFMT != syscall.S_IFREG {
		return nil, newErr(CodeNotRegularFile, op, path, "not a regular file (mode %#o)", st.Mode)
	}
	if euid := os.Geteuid(); st.Uid != uint32(euid) {
		return nil, newErr(CodeForeignOwner, op, path, "owned by uid %d, we are uid %d", st.Uid, euid)
	}
	// Step 3.
	if st.Size < HeaderSize {
		return nil, newErr(CodeTooShort, op, path, "file is %d bytes, a header needs %d", st.Size, HeaderSize)
	}
	// Step 4: map the header page only; we do not trust total_len before checking it.
	hdr, err := syscall.Mmap(fd, 0, HeaderSize, syscall.PROT_READ, syscall.MAP_SHARED)
	if err != nil {
		return nil, ioErr(op, path, err)
	}
	geo, lay, feat, cerr := checkHeader(hdr, path, o)
	_ = syscall.Munmap(hdr)
	if cerr != nil {
		return nil, cerr
	}
	// Step 11: re-stat, the file may have been truncated meanwhile.
	if err := syscall.Fstat(fd, &st); err != nil {
		return nil, ioErr(op, path, err)
	}
	if uint64(st.Size) < lay.TotalLen {
		return nil, newErr(CodeTruncated, op, path, "file is %d bytes, header declares total_len %d", st.Size, lay.TotalLen)
	}
	// Still step 11: a hole would be allocated on first write, a SIGBUS on a full file system
	// (§13.2). st_blocks counts 512-byte units whatever the file system's block size.
	if alloc := uint64(st.Blocks) * 512; alloc < lay.TotalLen {
		return nil, newErr(CodeSparse, op, path, "file has %d bytes allocated, header declares total_len %d (a sparse file: §4.1 allocates every block)", alloc, lay.TotalLen)
	}
	// Step 12: map total_len bytes, once (§13: never remapped because the header says so).
	mem, err := syscall.Mmap(fd, 0, int(lay.TotalLen), syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_SHARED)
	if err != nil {
		return nil, ioErr(op, path, err)
	}
	c := &Cache{path: path, fd: fd, mem: mem, base: unsafe.Pointer(&mem[0]), geo: geo, lay: lay, simClock: feat&FeatureSimClock != 0,
		fastSum: feat&FeatureFastChecksum != 0, minor: minor, hooks: hooks{o.pauseHook}, faults: o.faults, lang: languageCode(o.Language), legacySweep: o.LegacySweep || minor == 0}
	c.withGeometry()
	if o.trace {
		c.enableTrace()
	}
	c.initProcess()
	if err := c.register(); err != nil {
		_ = syscall.Munmap(mem)
		return nil, err
	}
	return c, nil
}

// maxTotalLen is the bound of rule 9 in force for these options.
func (o OpenOptions) maxTotalLen() uint64 {
	switch {
	case o.MaxTotalLen == 0:
		return DefaultMaxTotalLen
	case o.MaxTotalLen > MaxTotalLen:
		return MaxTotalLen
	}
	return o.MaxTotalLen
}

// checkHeader runs §4.2 steps 4–10 on the mapped header page.
func checkHeader(hdr []byte, path string, o OpenOptions) (Geometry, Layout, uint64, error) {
	const op = "open"
	ld := func(off int) uint64 { return atomic.LoadUint64((*uint64)(unsafe.Pointer(&hdr[off]))) }
	var g Geometry
	var l Layout
	if m := ld(OffMagic); m != Magic {
		return g, l, 0, newErr(CodeBadMagic, op, path, "magic is %#016x, want %#016x", m, Magic)
	}
	// Step 5, before the checksum: a future major may lay out its header differently.
	if v := ld(OffVersion); v&0xFFFF != ProtocolMajor {
		return g, l, 0, newErr(CodeUnsupportedMajor, op, path, "major version %d, this reader speaks %d", v&0xFFFF, ProtocolMajor)
	}
	// Step 6: acquire load of ready (Go atomics are sequentially consistent), polled until the
	// open timeout.
	timeout := o.Timeout
	if timeout == 0 {
		timeout = 2 * time.Second
	}
	deadline := time.Now().Add(timeout)
	for ld(OffReady) != Ready {
		if timeout < 0 || time.Now().After(deadline) {
			return g, l, 0, newErr(CodeNotReady, op, path, "ready is %#016x, not READY", ld(OffReady))
		}
		time.Sleep(time.Millisecond)
	}
	// Step 7. The header is immutable once ready, so one read of the words is enough.
	var words [17]uint64
	for i := range words {
		words[i] = ld(i * 8)
	}
	if sum, want := ld(OffHeaderChecksum), headerChecksum(words[:]); sum != want {
		return g, l, 0, newErr(CodeBadHeaderChecksum, op, path, "header_checksum is %#016x, bytes 0..135 hash to %#016x", sum, want)
	}
	// Step 8.
	// A handle speaking 1.0 knows only the 1.0 bits, so it refuses FAST_CHECKSUM here as a
	// 1.0 build does (never reading WCH64X4 sums as WCH64 ones).
	feat := words[OffFeaturesIncompat/8]
	_, known, perr := o.Protocol.speaks()
	if perr != nil {
		return g, l, 0, perr
	}
	if unk := feat &^ known; unk != 0 {
		return g, l, 0, newErr(CodeUnsupportedFeatures, op, path, "unknown features_incompat bits %#x (this reader speaks %s)", unk, speaking(o.Protocol))
	}
	// Step 9: the fingerprint, and the header size the version word declares.
	if fp := words[OffLayoutFingerprint/8]; fp != LayoutFingerprint {
		return g, l, 0, newErr(CodeLayoutMismatch, op, path, "layout_fingerprint %#016x, want %#016x", fp, LayoutFingerprint)
	}
	if hs := words[OffVersion/8] >> 32; hs != HeaderSize {
		return g, l, 0, newErr(CodeLayoutMismatch, op, path, "header size %d in the version word, want %d", hs, HeaderSize)
	}
	// Step 10: the rules of §3 in the table's order.
	gs, gz, gl := words[OffGeometryShards/8], words[OffGeometrySizes/8], words[OffGeometryLimits/8]
	g = Geometry{uint32(gs), uint32(gs >> 32), uint32(gz), uint32(gz >> 32), uint32(gl), uint32(gl >> 32)}
	bad := func(format string, args ...interface{}) (Geometry, Layout, uint64, error) {
		return g, l, 0, newErr(CodeBadGeometry, op, path, format, args...)
	}
	if msg := g.checkFields(); msg != "" {
		return bad("%s", msg)
	}
	l = g.Layout() // the six fields are within their limits, so this cannot overflow
	if v := words[OffSlotSize/8]; v != l.SlotSize {
		return bad("rule 7 violated: slot_size equals its formula (stored %d, formula %d)", v, l.SlotSize)
	}
	if v := words[OffParticipantsOffset/8]; v != l.ParticipantsOffset {
		return bad("rule 7 violated: participants_offset equals its formula (stored %d, formula %d)", v, l.ParticipantsOffset)
	}
	if v := words[OffShardsOffset/8]; v != l.ShardsOffset {
		return bad("rule 7 violated: shards_offset equals its formula (stored %d, formula %d)", v, l.ShardsOffset)
	}
	if v := words[OffShardSize/8]; v != l.ShardSize {
		return bad("rule 7 violated: shard_size equals its formula (stored %d, formula %d)", v, l.ShardSize)
	}
	if v := words[OffTotalLen/8]; v != l.TotalLen || l.TotalLen > MaxTotalLen {
		return bad("rule 8 violated: total_len equals shards_offset + shard_count*shard_size and ≤ 2^40 (stored %d, formula %d)", v, l.TotalLen)
	}
	if bound := o.maxTotalLen(); l.TotalLen > bound {
		return bad("rule 9 violated: total_len ≤ max_total_len, this reader's size bound (total_len %d, max_total_len %d)", l.TotalLen, bound)
	}
	return g, l, feat, nil
}

// Close unmaps the segment and closes the descriptor, which releases the participant's OFD
// lock (§5 "Leaving"). Every later call of the handle's methods fails with CodeClosed and
// touches nothing; a second Close is a no-op. Close must not run while another goroutine is
// inside a method of the handle (a parked WaitForChange included): the pages go at once.
func (c *Cache) Close() error {
	if c == nil || c.mem == nil {
		return nil
	}
	c.detachStore()
	err1 := syscall.Munmap(c.mem)
	c.mem, c.base = nil, nil
	err2 := syscall.Close(c.fd)
	c.fd = -1
	if err1 != nil {
		return ioErr("close", c.path, err1)
	}
	if err2 != nil {
		return ioErr("close", c.path, err2)
	}
	return nil
}

// InitPrefix is PATH's private build name up to the pid (§4.1 step 1): the final name's last
// component cut to at most 191 bytes (never inside a UTF-8 sequence), then ".init.", so that a
// final name of up to 255 bytes (NAME_MAX) still has a temporary name that fits.
func InitPrefix(path string) string {
	_, base := splitPath(path)
	dir := path[:len(path)-len(base)]
	n := len(base)
	if n > 191 {
		n = 191
		for n > 0 && base[n]&0xC0 == 0x80 { // base[n] continues the sequence cut at n
			n--
		}
	}
	return dir + base[:n] + ".init."
}

// RemoveStaleInit is the sweep of §4.1 step 2: it removes every DIR + B + ".init." + pid + "." +
// random file (the cut prefix of PATH, InitPrefix) whose flock(LOCK_EX|LOCK_NB) it can take, since
// a live creator holds its file's lock from step 2 until it removed the file. It unlinks while
// holding the lock, so that a creator that opened the file but has not locked it yet finds it
// unlinked (openTemp). A name that only begins with the prefix, such as the private file of a
// segment named B.init.x, is another segment's and is left. The caller's own TMP is locked by
// it, through another open file description, so the sweep cannot take it either. Every error
// leaves what it concerns as it is: the sweep never fails a create.
func RemoveStaleInit(path string) {
	dir, base := splitPath(path)
	f, err := os.Open(dir)
	if err != nil {
		return
	}
	names, err := f.Readdirnames(-1)
	f.Close()
	if err != nil {
		return
	}
	prefix := InitPrefix(base)
	for _, n := range names {
		if !strings.HasPrefix(n, prefix) || !isInitSuffix(n[len(prefix):]) {
			continue
		}
		full := dir + "/" + n
		fd, err := syscall.Open(full, syscall.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_CLOEXEC, 0)
		if err != nil {
			continue
		}
		if syscall.Flock(fd, syscall.LOCK_EX|syscall.LOCK_NB) == nil {
			_ = syscall.Unlink(full)
		}
		syscall.Close(fd)
	}
}

// isInitSuffix tells whether s is the "pid.random" that follows ".init." in a private name
// (§4.1 step 1): decimal digits, a dot, lowercase hexadecimal digits.
func isInitSuffix(s string) bool {
	dot := strings.IndexByte(s, '.')
	if dot <= 0 || dot == len(s)-1 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case i < dot && c >= '0' && c <= '9':
		case i > dot && (c >= '0' && c <= '9' || c >= 'a' && c <= 'f'):
		case i == dot:
		default:
			return false
		}
	}
	return true
}

func splitPath(p string) (string, string) {
	for i := len(p) - 1; i >= 0; i-- {
		if p[i] == '/' {
			if i == 0 {
				return "/", p[1:]
			}
			return p[:i], p[i+1:]
		}
	}
	return ".", p
}

// languageCode is the §7.3 code of OpenOptions.Language (0: Go's own).
func languageCode(l Language) uint64 {
	if l == LanguageUnknown {
		return uint64(LanguageGo)
	}
	return uint64(l)
}
