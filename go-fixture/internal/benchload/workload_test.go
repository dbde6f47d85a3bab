package benchload

import (
	"encoding/json"
	"fmt"
	"os/exec"
	"strings"
	"testing"
)

// The key format is shared with the Rust consumer and the servers' loaders: it must stay
// "k" + 10 decimal digits, whatever writes it.
func TestKeyIsTheSharedFormat(t *testing.T) {
	k := make([]byte, KeyLen)
	for _, i := range []uint64{0, 7, 9, 10, 99999, 1000002, 1234567890, 9999999999} {
		if got, want := string(Key(k, i)), fmt.Sprintf("k%010d", i); got != want {
			t.Fatalf("Key(%d) = %q, want %q", i, got, want)
		}
	}
}

func TestMilestonesAndLine(t *testing.T) {
	m := NewMilestones(1000)
	for r := 0; r < 989; r++ {
		if m.Record(r >= 5) {
			t.Fatalf("done after %d requests, before 99 %% of 1000 were served", r+1)
		}
	}
	if m.firstHit == 0 || m.served99 != 0 {
		t.Fatalf("first hit %d, 99 %% %d after 989 requests", m.firstHit, m.served99)
	}
	if !m.Record(true) {
		t.Fatal("not done at the 990th request (99 % served, window all hits)")
	}
	var got map[string]int64
	if err := json.Unmarshal([]byte(m.Line(1, 2)), &got); err != nil {
		t.Fatalf("the result line is not JSON: %v: %s", err, m.Line(1, 2))
	}
	if got["main_ns"] != 1 || got["opened_ns"] != 2 || got["requests"] != 990 || got["hits"] != 985 || got["served99_ns"] != m.served99 {
		t.Fatalf("result line %v", got)
	}
}

// The consumer of rows (a)–(c) must start as a service on the library alone does: `net` (and
// with it runtime/cgo, the dynamic loader and libc) doubled its exec → first hit
// (docs/BENCHMARKS.md "Startup"). The servers' client is cmd/warmcache-remote-consumer.
func TestConsumerLinksNoNetwork(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "../../cmd/warmcache-consumer").Output()
	if err != nil {
		t.Skipf("go list: %v", err)
	}
	for _, p := range strings.Fields(string(out)) {
		switch p {
		case "net", "runtime/cgo", "crypto/rand", "math/big":
			t.Errorf("cmd/warmcache-consumer depends on %s", p)
		}
	}
}
