package warmcache

import (
	"path/filepath"
	"testing"
	"time"
)

// TestEveryMethodAnswersClosed pins PROTOCOL.md §15 `closed` for the Go API: after Close every
// exported method of the handle that reads the segment fails with CodeClosed instead of touching
// the unmapped pages (a dropped check is a nil dereference here, a fail in the suite's closed-*
// scenarios), and a second Close is a no-op.
func TestEveryMethodAnswersClosed(t *testing.T) {
	path := segPath(t)
	c := mustCreate(t, path, smallGeo, CreateOptions{simClock: true})
	if err := c.AttachStore(StoreOptions{Dir: filepath.Join(t.TempDir(), "store"), Policy: FsyncNone}); err != nil {
		t.Fatal(err)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	k, v := []byte("k"), []byte("v")
	calls := map[string]func() error{
		"GetChecked": func() error { _, err := c.GetChecked(k); return err },
		"GetInto":    func() error { _, err := c.GetInto(k, make([]byte, 8)); return err },
		"Put":        func() error { _, err := c.Put(k, v, PutOptions{}); return err },
		"Refresh":    func() error { _, err := c.Refresh(k, v, PutOptions{}); return err },
		"Invalidate": func() error { _, err := c.Invalidate(k); return err },
		"Evict":      func() error { _, err := c.Evict(k); return err },
		"Stats":      func() error { _, err := c.Stats(); return err },
		"Generation": func() error { _, err := c.Generation(); return err },
		"WaitForChange": func() error {
			_, _, err := c.WaitForChange(0, 10*time.Millisecond)
			return err
		},
		"Now":          func() error { _, err := c.Now(); return err },
		"setSimClock":  func() error { return c.setSimClock(1) },
		"Dump":         func() error { _, err := c.Dump(); return err },
		"Participants": func() error { _, err := c.Participants(); return err },
		"Repair":       func() error { _, err := c.Repair(); return err },
		"Compact":      func() error { _, err := c.Compact(); return err },
		"JournalState": func() error { _, err := c.JournalState(); return err },
		"AttachStore":  func() error { return c.AttachStore(StoreOptions{Dir: t.TempDir()}) },
		"NsStage":      func() error { _, err := c.NsStage(0); return err },
		"NsPut":        func() error { _, err := c.NsPut(0, k, v); return err },
		"NsFlip":       func() error { _, err := c.NsFlip(0); return err },
		"NsRollback":   func() error { _, err := c.NsRollback(0); return err },
		"NsPin":        func() error { _, err := c.NsPin(0); return err },
		"NsUnpin":      func() error { _, err := c.NsUnpin(); return err },
		"NsGet":        func() error { _, err := c.NsGet(0, k); return err },
		"NsReclaim":    func() error { _, err := c.NsReclaim(0); return err },
		"NsState":      func() error { _, err := c.NsState(0); return err },
	}
	for name, call := range calls {
		t.Run(name, func(t *testing.T) { wantCode(t, call(), CodeClosed) })
	}
	if l := c.Get(k); l.Hit {
		t.Fatal("Get on a closed handle hit")
	}
	if err := c.Close(); err != nil {
		t.Fatal("second Close:", err)
	}
}
