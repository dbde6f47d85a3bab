package warmcache

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

func TestCreateOpenRoundTrip(t *testing.T) {
	p := segPath(t)
	c := mustCreate(t, p, DefaultGeometry, CreateOptions{})
	st, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0600 || uint64(st.Size()) != DefaultGeometry.Layout().TotalLen {
		t.Fatalf("mode %v size %d", st.Mode(), st.Size())
	}
	if m, _ := filepath.Glob(p + ".init.*"); len(m) != 0 {
		t.Fatalf("left init files %v", m)
	}
	mustPut(t, c, "user:42", "hello", PutOptions{OriginTag: 7})
	d := mustOpen(t, p)
	if d.Geometry() != DefaultGeometry || d.ParticipantID() == c.ParticipantID() {
		t.Fatalf("geometry %+v id %d/%d", d.Geometry(), d.ParticipantID(), c.ParticipantID())
	}
	l := d.Get([]byte("user:42"))
	if !l.Hit || string(l.Value) != "hello" || l.OriginTag != 7 || l.Writer.Language != LanguageGo ||
		l.Writer.Pid != uint32(os.Getpid()) || l.Writer.Participant != uint8(c.ParticipantID()) {
		t.Fatalf("lookup %+v", l)
	}
	if readWord(t, p, OffReady) != Ready || readWord(t, p, OffMagic) != Magic {
		t.Fatal("header words")
	}
	_, err = Create(p, DefaultGeometry, CreateOptions{})
	wantCode(t, err, CodeExists)
	e, created, err := OpenOrCreate(p, DefaultGeometry, CreateOptions{})
	if err != nil || created {
		t.Fatalf("open_or_create: %v %v", created, err)
	}
	e.Close()
	p2 := segPath(t)
	f, created, err := OpenOrCreate(p2, smallGeo, CreateOptions{Group: true})
	if err != nil || !created {
		t.Fatalf("open_or_create new: %v %v", created, err)
	}
	defer f.Close()
	if st, _ := os.Stat(p2); st.Mode().Perm() != 0660 {
		t.Fatalf("group mode %v", st.Mode())
	}
}

func TestCreateBadGeometry(t *testing.T) {
	g := DefaultGeometry
	g.ProbeWindow = 65
	_, err := Create(segPath(t), g, CreateOptions{})
	wantCode(t, err, CodeBadGeometry)
	g = DefaultGeometry
	g.KeyCapacity = 12
	_, err = Create(segPath(t), g, CreateOptions{})
	wantCode(t, err, CodeBadGeometry)
}

func TestOpenRefusals(t *testing.T) {
	dir := t.TempDir()
	good := func(name string) string {
		p := filepath.Join(dir, name)
		c, err := Create(p, smallGeo, CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		c.Close()
		return p
	}
	open := func(p string) error {
		c, err := Open(p, OpenOptions{Timeout: -1})
		if err == nil {
			c.Close()
		}
		return err
	}

	wantCode(t, open(filepath.Join(dir, "missing")), CodeNotFound)

	short := filepath.Join(dir, "short")
	os.WriteFile(short, make([]byte, 100), 0600)
	wantCode(t, open(short), CodeTooShort)

	zeros := filepath.Join(dir, "zeros")
	os.WriteFile(zeros, make([]byte, 8192), 0600)
	wantCode(t, open(zeros), CodeBadMagic)

	p := good("magic")
	patchFile(t, p, true, map[int]uint64{OffMagic: 0x1122334455667788})
	wantCode(t, open(p), CodeBadMagic)

	p = good("major") // a future major: refused before the checksum is looked at
	patchFile(t, p, false, map[int]uint64{OffVersion: 2 | HeaderSize<<32})
	wantCode(t, open(p), CodeUnsupportedMajor)

	p = good("notready")
	patchFile(t, p, false, map[int]uint64{OffReady: 0})
	wantCode(t, open(p), CodeNotReady)

	p = good("checksum")
	patchFile(t, p, false, map[int]uint64{OffCreatedAtNs: 12345})
	wantCode(t, open(p), CodeBadHeaderChecksum)

	p = good("features")
	patchFile(t, p, true, map[int]uint64{OffFeaturesIncompat: 1 << 5})
	wantCode(t, open(p), CodeUnsupportedFeatures)

	p = good("compat") // features_compat is ignorable
	patchFile(t, p, true, map[int]uint64{OffFeaturesCompat: 0xFFFF})
	if err := open(p); err != nil {
		t.Fatalf("features_compat refused: %v", err)
	}

	p = good("fingerprint")
	patchFile(t, p, true, map[int]uint64{OffLayoutFingerprint: 0x0808040808010841})
	wantCode(t, open(p), CodeLayoutMismatch)

	p = good("geometry")
	patchFile(t, p, true, map[int]uint64{OffGeometryLimits: 0 | 16<<32})
	wantCode(t, open(p), CodeBadGeometry)

	p = good("slotsize")
	patchFile(t, p, true, map[int]uint64{OffSlotSize: 1024})
	wantCode(t, open(p), CodeBadGeometry)

	p = good("totallen")
	patchFile(t, p, true, map[int]uint64{OffTotalLen: 1 << 41})
	wantCode(t, open(p), CodeBadGeometry)

	p = good("truncated")
	os.Truncate(p, int64(smallGeo.Layout().TotalLen)-4096)
	err := open(p)
	wantCode(t, err, CodeTruncated)

	// §4.2 step 11, second half: the same length with a hole in it (a copy written at its
	// header and sized by ftruncate) is refused as sparse; the truncated test wins over it.
	p = good("sparse")
	hdr := make([]byte, HeaderSize)
	if f, err := os.Open(p); err != nil {
		t.Fatal(err)
	} else {
		f.ReadAt(hdr, 0)
		f.Close()
	}
	os.Remove(p)
	os.WriteFile(p, hdr, 0600)
	os.Truncate(p, int64(smallGeo.Layout().TotalLen))
	wantCode(t, open(p), CodeSparse)
	os.Truncate(p, int64(smallGeo.Layout().TotalLen)-1)
	wantCode(t, open(p), CodeTruncated)

	// Rule 9, the reader's size bound: checked on the header alone, so a 4096-byte file that
	// declares 2^40 bytes is bad_geometry (not truncated), and a bound just below a healthy
	// segment's total_len refuses it while the bound equal to it accepts it.
	p = good("bound")
	huge := Geometry{ShardCount: 65536, SlotsPerShard: 65536, KeyCapacity: 8, ValueCapacity: 8, ProbeWindow: 8, ParticipantCapacity: 1}
	for huge.Layout().TotalLen > MaxTotalLen {
		huge.SlotsPerShard /= 2
	}
	hl := huge.Layout()
	os.Truncate(p, HeaderSize)
	patchFile(t, p, true, map[int]uint64{OffGeometryShards: uint64(huge.ShardCount) | uint64(huge.SlotsPerShard)<<32,
		OffGeometrySizes: uint64(huge.KeyCapacity) | uint64(huge.ValueCapacity)<<32, OffGeometryLimits: uint64(huge.ProbeWindow) | uint64(huge.ParticipantCapacity)<<32,
		OffSlotSize: hl.SlotSize, OffShardsOffset: hl.ShardsOffset, OffShardSize: hl.ShardSize, OffTotalLen: hl.TotalLen})
	err = open(p)
	wantCode(t, err, CodeBadGeometry)
	if !strings.Contains(err.Error(), "rule 9") || !strings.Contains(err.Error(), fmt.Sprint(DefaultMaxTotalLen)) {
		t.Fatalf("a %d-byte geometry under the default bound: %v, want rule 9 naming the bound", hl.TotalLen, err)
	}
	if _, err := Open(p, OpenOptions{Timeout: -1, MaxTotalLen: MaxTotalLen}); CodeOf(err) != CodeTruncated {
		t.Fatalf("with the bound raised to 2^40 the same file is %v, want truncated", err)
	}
	p = good("bound-small")
	tl := smallGeo.Layout().TotalLen
	if _, err := Open(p, OpenOptions{Timeout: -1, MaxTotalLen: tl - 1}); CodeOf(err) != CodeBadGeometry || !strings.Contains(err.Error(), "rule 9") {
		t.Fatalf("bound total_len-1: %v, want bad_geometry rule 9", err)
	}
	if c, err := Open(p, OpenOptions{Timeout: -1, MaxTotalLen: tl}); err != nil {
		t.Fatalf("bound = total_len: %v, want accepted", err)
	} else {
		c.Close()
	}

	p = good("target")
	link := filepath.Join(dir, "link")
	os.Symlink(p, link)
	wantCode(t, open(link), CodeSymlink)

	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0600); err != nil {
		t.Fatal(err)
	}
	wantCode(t, open(fifo), CodeNotRegularFile)

	wantCode(t, open(dir), CodeIO) // O_RDWR on a directory: EISDIR at step 1

	if os.Geteuid() == 0 {
		p = good("foreign")
		if err := os.Chown(p, 65534, 65534); err != nil {
			t.Fatal(err)
		}
		wantCode(t, open(p), CodeForeignOwner)
	} else {
		t.Log("not root: foreign_owner case skipped")
	}
}

func TestParticipantsFullAndLiveness(t *testing.T) {
	g := smallGeo
	g.ParticipantCapacity = 2
	p := segPath(t)
	a := mustCreate(t, p, g, CreateOptions{})
	b := mustOpen(t, p)
	_, err := Open(p, OpenOptions{Timeout: -1})
	wantCode(t, err, CodeParticipantsFull)

	ps, err := a.Participants()
	if err != nil || len(ps) != 2 || !ps[0].Alive || !ps[1].Alive || !ps[0].Self {
		t.Fatalf("participants %+v %v", ps, err)
	}
	b.Close()
	ps, _ = a.Participants()
	if ps[1].Alive {
		t.Fatalf("closed participant still alive: %+v", ps[1])
	}
	c := mustOpen(t, p) // takes entry 1 again, epoch 2
	if c.ParticipantID() != 2 {
		t.Fatalf("id %d", c.ParticipantID())
	}
	ps, _ = a.Participants()
	if !ps[1].Alive || ps[1].Epoch != 2 || ps[1].Pid != uint64(os.Getpid()) {
		t.Fatalf("re-registered %+v", ps[1])
	}
}

// TestBoundsAudit checks that the largest offsets the unchecked accessor can be asked for lie
// inside the mapping, for several geometries, and that u64 and the checked form agree.
func TestBoundsAudit(t *testing.T) {
	for _, g := range []Geometry{DefaultGeometry, smallGeo, {1, 1, 8, 8, 1, 1}, {3, 7, 24, 40, 7, 5}} {
		c := mustCreate(t, segPath(t), g, CreateOptions{})
		s, j := g.ShardCount-1, g.SlotsPerShard-1
		so := c.slotOff(s, j)
		offs := []uint64{
			c.partOff(g.ParticipantCapacity-1) + PartRegisteredAtNs,
			c.shardOff(s) + ShardReclaims,
			so + SlotKey + uint64(g.KeyCapacity) - 8,
			c.recOff(so, 1) + RecValue + uint64(g.ValueCapacity) - 8,
			OffSimClockNs,
		}
		for _, off := range offs {
			if off+8 > uint64(len(c.mem)) || off%8 != 0 {
				t.Fatalf("%+v: offset %d outside %d", g, off, len(c.mem))
			}
			if c.u64(off) != c.u64Checked(off) {
				t.Fatal("accessors disagree")
			}
		}
		if c.recOff(so, 1)+c.lay.RecordSize > so+c.lay.SlotSize {
			t.Fatal("record 1 overflows its slot")
		}
	}
}

// TestInitPrefixFitsNameMax pins PROTOCOL.md §4.1 step 1's cut: at most 191 bytes of the last
// component, never inside a UTF-8 sequence, the directory kept as written.
func TestInitPrefixFitsNameMax(t *testing.T) {
	long := strings.Repeat("n", 255)
	if got := InitPrefix("/d/" + long); got != "/d/"+long[:191]+".init." {
		t.Fatalf("cut: %q", got)
	}
	for _, n := range []int{190, 191, 192} {
		cut := n
		if cut > 191 {
			cut = 191
		}
		if got, want := InitPrefix(long[:n]), long[:cut]+".init."; got != want {
			t.Fatalf("%d bytes: %q, want %q", n, got, want)
		}
	}
	utf := strings.Repeat("n", 190) + "é" + "x"
	if got := InitPrefix(utf); got != strings.Repeat("n", 190)+".init." {
		t.Fatalf("a 2-byte character across byte 191 must go whole: %q", got)
	}
	if got := InitPrefix("a/b.seg"); got != "a/b.seg.init." {
		t.Fatalf("short names are kept: %q", got)
	}
}

// TestCreateSweepsDeadInit pins §4.1 step 2's sweep: a dead creator's private file (its flock
// free) is removed, a live creator's (flock held) and other segments' files are left, even one
// whose name begins with the same bytes (the private file of a segment named B.init.7).
func TestCreateSweepsDeadInit(t *testing.T) {
	p := segPath(t)
	dead, live := p+".init.4194305.ab12", p+".init.4194306.cd34"
	others := []string{p + ".init.7.init.4194305.ab12", p + "x.init.4194305.ab12"}
	for _, f := range append([]string{dead, live}, others...) {
		if err := os.WriteFile(f, []byte("x"), 0600); err != nil {
			t.Fatal(err)
		}
		defer os.Remove(f)
	}
	lf, err := os.Open(live)
	if err != nil {
		t.Fatal(err)
	}
	defer lf.Close()
	if err := syscall.Flock(int(lf.Fd()), syscall.LOCK_EX); err != nil {
		t.Fatal(err)
	}
	c := mustCreate(t, p, DefaultGeometry, CreateOptions{})
	defer c.Close()
	if _, err := os.Stat(dead); !os.IsNotExist(err) {
		t.Fatalf("the dead creator's %s is still there (%v)", dead, err)
	}
	for _, f := range append([]string{live}, others...) {
		if _, err := os.Stat(f); err != nil {
			t.Fatalf("%s must be left: %v", f, err)
		}
	}
}
