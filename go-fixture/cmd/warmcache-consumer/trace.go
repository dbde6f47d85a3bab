package main

import (
	"fmt"
	"os"
	"strings"
)

// writeTrace records the phases of this start as Chrome trace JSON (the "X" complete events of
// the Trace Event Format, microseconds), which chrome://tracing and Perfetto open.
func writeTrace(path string, execNs, start, opened int64, m *milestones) {
	if execNs == 0 {
		execNs = start
	}
	type phase struct {
		name     string
		from, to int64
	}
	phases := []phase{{"exec → main", execNs, start}, {"open (map + register)", start, opened},
		{"registered → first hit", opened, m.firstHit}, {"first hit → 99 % served", m.firstHit, m.served99}}
	var ev []string
	for _, p := range phases {
		if p.from == 0 || p.to < p.from {
			continue
		}
		ev = append(ev, fmt.Sprintf(`{"name":%q,"ph":"X","pid":%d,"tid":1,"ts":%.3f,"dur":%.3f}`,
			p.name, os.Getpid(), float64(p.from)/1e3, float64(p.to-p.from)/1e3))
	}
	body := `{"traceEvents":[` + strings.Join(ev, ",") + `],"displayTimeUnit":"ms"}` + "\n"
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		die("write trace %s: %v", path, err)
	}
}
