package initdata

import (
	"bytes"
	"testing"
	"unicode/utf8"

	"github.com/BurntSushi/toml"
)

// FuzzDecode: Decode never panics, and what it accepts is consistent: the digests are those of the TOML it
// returns, and re-encoding that TOML decodes to the same document.
func FuzzDecode(f *testing.F) {
	f.Add([]byte(validDoc))
	f.Add(b64(gz([]byte(validDoc))))
	f.Add(b64([]byte(validDoc)))
	f.Add([]byte("H4sIAAAAAAAA/wMAAAAAAAAAAAA="))
	f.Fuzz(func(t *testing.T, blob []byte) {
		d, err := Decode(blob)
		if err != nil {
			return
		}
		want, err := ComputeDigests(d.Algorithm, d.TOML)
		if err != nil || d.Digests != want {
			t.Fatalf("digests %+v, want %+v (%v)", d.Digests, want, err)
		}
		again, err := Decode([]byte(Encode(d.TOML)))
		if err != nil {
			t.Fatalf("re-encoded document does not decode: %v", err)
		}
		if !bytes.Equal(again.TOML, d.TOML) || again.Digests != d.Digests || len(again.Data) != len(d.Data) {
			t.Fatalf("re-encoded document differs")
		}
	})
}

// FuzzEncodeDecode: the gzip and base64 layer gives back any bytes exactly.
func FuzzEncodeDecode(f *testing.F) {
	f.Add([]byte(""))
	f.Add([]byte(validDoc))
	f.Add([]byte{0x1f, 0x8b, 0, 0xff})
	f.Fuzz(func(t *testing.T, data []byte) {
		enc := Encode(data)
		if enc != Encode(data) {
			t.Fatal("Encode is not deterministic")
		}
		got, form, err := unwrap([]byte(enc))
		if err != nil {
			t.Fatalf("unwrap(Encode(x)): %v", err)
		}
		if form != EncodingGzipBase64 || !bytes.Equal(got, data) {
			t.Fatalf("got %q (%s), want %q", got, form, data)
		}
	})
}

// FuzzRenderRoundTrip: any UTF-8 strings render to TOML that reads back to the same strings, both through
// Decode and through an independent TOML reader.
func FuzzRenderRoundTrip(f *testing.F) {
	f.Add(uint8(0), sampleAA, sampleCDH, samplePol)
	f.Add(uint8(1), "'''", `"""`, "")
	f.Add(uint8(2), "a'", "\r\n\x00\x7f\\", "\"")
	f.Fuzz(func(t *testing.T, alg uint8, aa, cdh, policy string) {
		doc := Document{Algorithm: Algorithms[int(alg)%len(Algorithms)], AA: aa, CDH: cdh, Policy: policy}
		out, err := Render(doc)
		if !utf8.ValidString(aa) || !utf8.ValidString(cdh) || !utf8.ValidString(policy) || aa == "" || cdh == "" {
			if err == nil {
				t.Fatalf("rendered an invalid document")
			}
			return
		}
		if err != nil {
			t.Fatalf("Render: %v", err)
		}
		d, err := Decode(out)
		if err != nil {
			t.Fatalf("Decode: %v\n%s", err, out)
		}
		want := doc.entries()
		if len(d.Data) != len(want) {
			t.Fatalf("%d entries, want %d", len(d.Data), len(want))
		}
		for i, e := range want {
			if d.Data[i] != e {
				t.Fatalf("entry %d reads back as %q, want %q", i, d.Data[i], e)
			}
		}
		var m struct{ Data map[string]string }
		if _, err := toml.Decode(string(out), &m); err != nil || m.Data[KeyAA] != aa || m.Data[KeyCDH] != cdh {
			t.Fatalf("independent reader: %v", err)
		}
	})
}
