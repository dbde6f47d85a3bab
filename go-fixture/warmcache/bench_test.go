package warmcache

import (
	"fmt"
	"os"
	"testing"
)

func benchCache(b *testing.B) *Cache {
	p := fmt.Sprintf("/dev/shm/warmcache-gotest-%d", os.Getpid())
	os.Remove(p)
	c, err := Create(p, DefaultGeometry, CreateOptions{})
	if err != nil {
		b.Fatal(err)
	}
	os.Remove(p) // the mapping and descriptor stay valid
	b.Cleanup(func() { c.Close() })
	return c
}

func benchGet(b *testing.B, size int) {
	c := benchCache(b)
	key := []byte("bench:key:00042")
	val := make([]byte, size)
	if _, err := c.Put(key, val, PutOptions{}); err != nil {
		b.Fatal(err)
	}
	buf := make([]byte, size)
	b.SetBytes(int64(size))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if l, _ := c.GetInto(key, buf); !l.Hit {
			b.Fatal("miss")
		}
	}
}

func BenchmarkGetHit64(b *testing.B) { benchGet(b, 64) }
func BenchmarkGetHit1K(b *testing.B) { benchGet(b, 1024) }

func BenchmarkGetAlloc64(b *testing.B) {
	c := benchCache(b)
	key := []byte("bench:key:00042")
	c.Put(key, make([]byte, 64), PutOptions{})
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		c.Get(key)
	}
}

func BenchmarkGetMiss(b *testing.B) {
	c := benchCache(b)
	key := []byte("bench:absent")
	for i := 0; i < b.N; i++ {
		c.Get(key)
	}
}

func benchPut(b *testing.B, size int) {
	c := benchCache(b)
	key := []byte("bench:key:00042")
	val := make([]byte, size)
	b.SetBytes(int64(size))
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := c.Put(key, val, PutOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkPut64(b *testing.B) { benchPut(b, 64) }
func BenchmarkPut1K(b *testing.B) { benchPut(b, 1024) }

// BenchmarkMapBaseline is the same-run yardstick: a Go map lookup plus a copy of the value.
func BenchmarkMapBaseline64(b *testing.B) {
	m := map[string][]byte{"bench:key:00042": make([]byte, 64)}
	key := []byte("bench:key:00042")
	buf := make([]byte, 64)
	for i := 0; i < b.N; i++ {
		v, ok := m[string(key)]
		if !ok {
			b.Fatal("miss")
		}
		copy(buf, v)
	}
}
