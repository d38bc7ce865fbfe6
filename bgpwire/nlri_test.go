package bgpwire

import (
	"math/rand/v2"
	"testing"
)

// TestPrefix4At checks the branch-free IPv4 prefix reader against
// makePrefix for every length, at the start, middle and end of a field
// of every size, with host bits set.
func TestPrefix4At(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for bits := 0; bits <= 32; bits++ {
		nb := (bits + 7) / 8
		for before := 0; before <= 6; before++ {
			for after := 0; after <= 6; after++ {
				b := make([]byte, before+1+nb+after)
				for k := range b {
					b[k] = byte(rng.Uint32())
				}
				b[before] = byte(bits)
				got := prefix4At(b, before, bits)
				want := makePrefix(b[before+1:before+1+nb], bits, true)
				if got != want {
					t.Fatalf("bits %d, %d bytes before, %d after: %v, want %v", bits, before, after, got, want)
				}
			}
		}
	}
}
