package bgpwire

import (
	"math/rand/v2"
	"testing"
)

// TestDecodePrefixes checks the fast prefix decoder against makePrefix
// on random NLRI fields of both families: every length, host bits set,
// prefixes at the start, middle and end of fields of every size, with
// and without bytes before the field (the loads differ near the end).
func TestDecodePrefixes(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, alen := range []int{4, 16} {
		for n := 0; n < 20000; n++ {
			// Bytes before the field, which the decoder may load but
			// must not decode.
			field := make([]byte, rng.IntN(20))
			for i := range field {
				field[i] = byte(rng.Uint32())
			}
			start := len(field)
			var want []NLRI
			for k := rng.IntN(4); k >= 0; k-- {
				bits := rng.IntN(alen*8 + 1)
				nb := (bits + 7) / 8
				p := make([]byte, nb)
				for i := range p {
					p[i] = byte(rng.Uint32())
				}
				field = append(append(field, byte(bits)), p...)
				want = append(want, NLRI{Prefix: makePrefix(p, bits, alen == 4)})
			}
			got, bad, ok := decodePrefixes(nil, field, start, alen)
			if !ok {
				t.Fatalf("%x: bad prefix at %d", field, bad)
			}
			if len(got) != len(want) {
				t.Fatalf("%x: %d prefixes, want %d", field, len(got), len(want))
			}
			for i := range got {
				if got[i].Prefix != want[i].Prefix {
					t.Fatalf("%x: prefix %d is %v, want %v", field, i, got[i].Prefix, want[i].Prefix)
				}
			}
		}
	}
}
