package warmcache_test

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/warmcache/warmcache/go-fixture/warmcache"
)

// segmentPath gives each example its own segment file, removed by the returned function.
// A service would use a fixed path under /dev/shm shared by its producer and consumers.
func segmentPath(name string) (string, func()) {
	dir, err := os.MkdirTemp("", "warmcache-example-")
	if err != nil {
		panic(err)
	}
	return filepath.Join(dir, name), func() { os.RemoveAll(dir) }
}

// A producer and a consumer share one segment: whoever comes first creates it, the other opens it.
func ExampleOpenOrCreate() {
	path, done := segmentPath("users.seg")
	defer done()

	producer, created, err := warmcache.OpenOrCreate(path, warmcache.DefaultGeometry, warmcache.CreateOptions{})
	if err != nil {
		panic(err)
	}
	defer producer.Close()
	consumer, createdAgain, err := warmcache.OpenOrCreate(path, warmcache.DefaultGeometry, warmcache.CreateOptions{})
	if err != nil {
		panic(err)
	}
	defer consumer.Close()
	fmt.Println("producer created it:", created)
	fmt.Println("consumer created it:", createdAgain)
	// Output:
	// producer created it: true
	// consumer created it: false
}

// Put with a TTL and a stale-serving grace; Get tells fresh from stale and says who wrote it.
func ExampleCache_Put() {
	path, done := segmentPath("prices.seg")
	defer done()
	c, err := warmcache.Create(path, warmcache.DefaultGeometry, warmcache.CreateOptions{})
	if err != nil {
		panic(err)
	}
	defer c.Close()

	res, err := c.Put([]byte("sku-42"), []byte("19.99"), warmcache.PutOptions{
		TTL:       time.Minute,      // fresh for a minute
		Grace:     10 * time.Second, // then served as stale for 10 s while someone recomputes
		OriginTag: 7,                // opaque to the cache: which code path wrote it
	})
	if err != nil {
		panic(err)
	}
	fmt.Println("created:", res.Created)

	hit := c.Get([]byte("sku-42"))
	fmt.Printf("hit=%v stale=%v value=%s origin=%d writer=%v\n",
		hit.Hit, hit.Stale, hit.Value, hit.OriginTag, hit.Writer.Language)
	// Output:
	// created: true
	// hit=true stale=false value=19.99 origin=7 writer=go
}

// A miss is an ordinary answer, not an error: compute the value and put it.
func ExampleCache_Get() {
	path, done := segmentPath("miss.seg")
	defer done()
	c, err := warmcache.Create(path, warmcache.DefaultGeometry, warmcache.CreateOptions{})
	if err != nil {
		panic(err)
	}
	defer c.Close()

	key := []byte("report:2026-12")
	if got := c.Get(key); !got.Hit {
		value := []byte("expensive result") // recompute
		if _, err := c.Put(key, value, warmcache.PutOptions{TTL: time.Hour}); err != nil {
			panic(err)
		}
	}
	fmt.Printf("%s\n", c.Get(key).Value)
	// Output:
	// expensive result
}

// A consumer parks until a producer publishes something (PROTOCOL.md §11) instead of polling.
func ExampleCache_WaitForChange() {
	path, done := segmentPath("notify.seg")
	defer done()
	consumer, err := warmcache.Create(path, warmcache.DefaultGeometry, warmcache.CreateOptions{})
	if err != nil {
		panic(err)
	}
	defer consumer.Close()
	producer, err := warmcache.Open(path, warmcache.OpenOptions{})
	if err != nil {
		panic(err)
	}
	defer producer.Close()

	seen, err := consumer.Generation()
	if err != nil {
		panic(err)
	}
	putDone := make(chan struct{})
	go func() {
		defer close(putDone)
		time.Sleep(10 * time.Millisecond)
		producer.Put([]byte("config"), []byte("v2"), warmcache.PutOptions{})
	}()
	_, timedOut, err := consumer.WaitForChange(seen, 5*time.Second)
	if err != nil {
		panic(err)
	}
	// The consumer wakes as soon as the put is published, before the put has returned: wait for
	// it, since closing a handle under one of its own operations is the caller's bug (Close).
	<-putDone
	fmt.Println("timed out:", timedOut)
	fmt.Printf("config = %s\n", consumer.Get([]byte("config")).Value)
	// Output:
	// timed out: false
	// config = v2
}

// Stats sums every shard's counters (PROTOCOL.md §6) and counts slots by state.
func ExampleCache_Stats() {
	path, done := segmentPath("stats.seg")
	defer done()
	c, err := warmcache.Create(path, warmcache.DefaultGeometry, warmcache.CreateOptions{})
	if err != nil {
		panic(err)
	}
	defer c.Close()
	c.Put([]byte("a"), []byte("1"), warmcache.PutOptions{})
	c.Get([]byte("a"))
	c.Get([]byte("b"))

	st, err := c.Stats()
	if err != nil {
		panic(err)
	}
	fmt.Printf("hits=%d misses=%d inserts=%d ready=%d\n",
		st.Totals.Hits, st.Totals.Misses, st.Totals.Inserts, st.Totals.Occupancy["READY"])
	// Output:
	// hits=1 misses=1 inserts=1 ready=1
}

func ExampleLanguage_String() {
	for _, l := range []warmcache.Language{warmcache.LanguageGo, warmcache.LanguageRust, warmcache.LanguageSwift, 9} {
		fmt.Println(l)
	}
	// Output:
	// go
	// rust
	// swift
	// language#9
}
