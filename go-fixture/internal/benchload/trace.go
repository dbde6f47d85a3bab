package benchload

import (
	"os"
	"strconv"
)

// writeTrace records the phases of this start as Chrome trace JSON (the "X" complete events of
// the Trace Event Format, microseconds), which chrome://tracing and Perfetto open.
func writeTrace(prog, path string, execNs, start, opened int64, m *Milestones) {
	if execNs == 0 {
		execNs = start
	}
	type phase struct {
		name     string
		from, to int64
	}
	phases := []phase{{"exec → main", execNs, start}, {"open (map + register)", start, opened},
		{"registered → first hit", opened, m.firstHit}, {"first hit → 99 % served", m.firstHit, m.served99}}
	us := func(ns int64) string { return strconv.FormatFloat(float64(ns)/1e3, 'f', 3, 64) }
	body := `{"traceEvents":[`
	sep := ""
	for _, p := range phases {
		if p.from == 0 || p.to < p.from {
			continue
		}
		body += sep + `{"name":` + strconv.Quote(p.name) + `,"ph":"X","pid":` + strconv.Itoa(os.Getpid()) +
			`,"tid":1,"ts":` + us(p.from) + `,"dur":` + us(p.to-p.from) + `}`
		sep = ","
	}
	body += `],"displayTimeUnit":"ms"}` + "\n"
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		Die(prog, "write trace "+path+": "+err.Error())
	}
}
