package warmcache

import (
	"math/rand"
	"testing"
)

// fastMod must agree with % for every divisor a geometry can have (1..65536) and beyond, at the
// edges of x and at random x: a wrong remainder puts keys in other shards and slots than the
// other implementations look in.
func TestFastModAgreesWithDivision(t *testing.T) {
	r := rand.New(rand.NewSource(1))
	divisors := []uint32{1, 2, 3, 7, 16, 63, 64, 100, 511, 512, 1000, 65535, 65536, 1<<31 - 1, 1 << 31, ^uint32(0)}
	for i := 0; i < 200; i++ {
		divisors = append(divisors, 1+uint32(r.Intn(65536)))
	}
	for _, d := range divisors {
		f := newFastMod(d)
		xs := []uint32{0, 1, d - 1, d, d + 1, 2*d - 1, ^uint32(0), ^uint32(0) - 1, 1 << 31}
		for i := 0; i < 2000; i++ {
			xs = append(xs, r.Uint32())
		}
		for _, x := range xs {
			if got, want := f.rem(x), x%d; got != want {
				t.Fatalf("fastMod(%d).rem(%d) = %d, want %d", d, x, got, want)
			}
		}
	}
}
