// Command warmcache-remote-consumer is the Go consumer of rows (d) and (e) of `warmcheck bench
// startup` (docs/BENCHMARKS.md "Startup"): the same working set, request stream and result line
// as cmd/warmcache-consumer, fetched from Redis or memcached on loopback. It is a program of its
// own because it needs `net`, which a service on the warmcache library does not link.
//
//	warmcache-remote-consumer redis ADDR N | memcached ADDR N              fetch the stream from a server (pipelined batches)
//	warmcache-remote-consumer load-redis ADDR N | load-memcached ADDR N    fill a server, print "ready"
package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"time"

	"github.com/warmcache/warmcache/go-fixture/internal/benchload"
)

const prog = "warmcache-remote-consumer"

func die(format string, a ...interface{}) { benchload.Die(prog, fmt.Sprintf(format, a...)) }

func main() {
	start := benchload.Now()
	if len(os.Args) < 2 {
		die("usage: %s redis|memcached|load-redis|load-memcached ADDR N", prog)
	}
	pos, f := benchload.ParseFlags(prog, os.Args[2:])
	if len(pos) != 2 {
		die("%s takes 2 arguments, got %d", os.Args[1], len(pos))
	}
	n := benchload.Num(prog, pos[1])
	switch os.Args[1] {
	case "redis", "memcached":
		serveRemote(start, os.Args[1], pos[0], n, f)
	case "load-redis", "load-memcached":
		load(os.Args[1][len("load-"):], pos[0], n)
	default:
		die("unknown mode %q", os.Args[1])
	}
}

// Minimal clients for rows (d) and (e) of the startup bench. Go's standard library has no Redis
// or memcached client and this module takes no dependencies, so these speak just enough of each
// protocol (RESP2 GET/SET; memcached's text get/set/mn), pipelined in batches as a real client's
// pipeline or multi-get would, over one loopback connection.

const batch = 100

func dial(addr string) (net.Conn, *bufio.Reader, *bufio.Writer) {
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		die("connect %s: %v", addr, err)
	}
	return c, bufio.NewReaderSize(c, 1<<16), bufio.NewWriterSize(c, 1<<16)
}

func line(r *bufio.Reader) []byte {
	l, err := r.ReadSlice('\n')
	if err != nil {
		die("server closed the connection: %v", err)
	}
	return bytes.TrimRight(l, "\r\n")
}

// respBulk reads one RESP bulk-string reply into buf: the value, or nil for a null reply.
func respBulk(r *bufio.Reader, buf []byte) []byte {
	l := line(r)
	if len(l) == 0 || l[0] != '$' {
		die("unexpected Redis reply %q", l)
	}
	n, err := strconv.Atoi(string(l[1:]))
	if err != nil {
		die("bad Redis length %q", l)
	}
	if n < 0 {
		return nil
	}
	if cap(buf) < n+2 {
		buf = make([]byte, n+2)
	}
	buf = buf[:n+2]
	if _, err := io.ReadFull(r, buf); err != nil {
		die("short Redis reply: %v", err)
	}
	return buf[:n]
}

func serveRemote(start int64, kind, addr string, n uint64, f benchload.Flags) {
	conn, r, w := dial(addr)
	defer conn.Close()
	opened := time.Now().UnixNano()
	m := benchload.NewMilestones(n)
	buf := make([]byte, 256)
	kb := make([]byte, benchload.KeyLen)
	for r0 := uint64(0); r0 < 2*n; r0 += batch {
		end := r0 + batch
		if end > 2*n {
			end = 2 * n
		}
		if kind == "redis" {
			for q := r0; q < end; q++ {
				k := benchload.Key(kb, benchload.Index(q, n))
				fmt.Fprintf(w, "*2\r\n$3\r\nGET\r\n$%d\r\n%s\r\n", len(k), k)
			}
		} else {
			w.WriteString("get")
			for q := r0; q < end; q++ {
				w.WriteByte(' ')
				w.Write(benchload.Key(kb, benchload.Index(q, n)))
			}
			w.WriteString("\r\n")
		}
		if err := w.Flush(); err != nil {
			die("send to %s: %v", addr, err)
		}
		var done bool
		if kind == "redis" {
			for q := r0; q < end; q++ {
				v := respBulk(r, buf)
				done = m.Record(benchload.Right(v, benchload.Index(q, n)))
			}
		} else {
			done = readMulti(r, m, r0, end, n)
		}
		if done {
			break
		}
	}
	benchload.Finish(prog, start, opened, m, f)
}

// readMulti reads a memcached multi-get answer (VALUE lines for the keys present, in request
// order, then END) and records each request of the batch as hit or miss.
func readMulti(r *bufio.Reader, m *benchload.Milestones, from, to, n uint64) bool {
	q := from
	done := false
	for {
		l := line(r)
		if bytes.Equal(l, []byte("END")) {
			break
		}
		f := bytes.Fields(l)
		if len(f) < 4 || !bytes.Equal(f[0], []byte("VALUE")) {
			die("unexpected memcached reply %q", l)
		}
		size, err := strconv.Atoi(string(f[3]))
		if err != nil {
			die("bad memcached length %q", l)
		}
		data := make([]byte, size+2)
		if _, err := io.ReadFull(r, data); err != nil {
			die("short memcached value: %v", err)
		}
		i, _ := strconv.ParseUint(string(f[1][1:]), 10, 64)
		for q < to && benchload.Index(q, n) != i { // keys the server did not return were misses
			done = m.Record(false)
			q++
		}
		if q < to {
			done = m.Record(benchload.Right(data[:size], i))
			q++
		}
	}
	for ; q < to; q++ {
		done = m.Record(false)
	}
	return done
}

// load fills a server with the working set, pipelined, then prints "ready".
func load(kind, addr string, n uint64) {
	conn, r, w := dial(addr)
	defer conn.Close()
	for i0 := uint64(0); i0 < n; i0 += 1000 {
		end := i0 + 1000
		if end > n {
			end = n
		}
		for i := i0; i < end; i++ {
			k, v := benchload.NewKey(i), benchload.Value(i)
			if kind == "redis" {
				fmt.Fprintf(w, "*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$%d\r\n", len(k), k, len(v))
			} else {
				fmt.Fprintf(w, "set %s 0 0 %d noreply\r\n", k, len(v))
			}
			w.Write(v)
			w.WriteString("\r\n")
		}
		if kind != "redis" {
			w.WriteString("mn\r\n") // meta no-op: its MN answer says every set before it was applied
		}
		if err := w.Flush(); err != nil {
			die("send to %s: %v", addr, err)
		}
		if kind == "redis" {
			for i := i0; i < end; i++ {
				if l := line(r); !bytes.Equal(l, []byte("+OK")) {
					die("SET answered %q", l)
				}
			}
		} else if l := line(r); !bytes.Equal(l, []byte("MN")) {
			die("memcached answered %q (out of memory? the bench starts it with -m)", l)
		}
	}
	os.Stdout.WriteString("ready\n")
}
