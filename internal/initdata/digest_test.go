package initdata

import (
	"encoding/base64"
	"encoding/hex"
	"os"
	"strings"
	"testing"
)

// readTestdata reads a file of testdata/ or fails the test.
func readTestdata(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestDigestVectors checks the digests against published vectors: the Kata how-to blob (docs/how-to/
// how-to-use-the-kata-agent-policy.md) and the cloud-api-adaptor initdata.md example, whose digests were
// computed independently (Python hashlib); and the FIPS 180-2 "abc" vector for sha512.
func TestDigestVectors(t *testing.T) {
	howto, err := Decode(readTestdata(t, "kata-howto-initdata.b64"))
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		alg  Algorithm
		toml []byte
		want Digests
	}{
		{
			name: "kata how-to, sha256",
			alg:  SHA256,
			toml: howto.TOML,
			want: Digests{
				Algorithm:     SHA256,
				Digest:        "2385c5da0959d063638b2ab4ac252ae18e825f6ecb69815e4206b38077d0bcdd",
				SNPHostData:   "2385c5da0959d063638b2ab4ac252ae18e825f6ecb69815e4206b38077d0bcdd",
				TDXMRConfigID: "2385c5da0959d063638b2ab4ac252ae18e825f6ecb69815e4206b38077d0bcdd" + strings.Repeat("00", 16),
				AzurePCR8:     "5969a150dc60c85c0cd9744e296cfc81a3e622413c0359f199099b7a3bcef135",
			},
		},
		{
			name: "cloud-api-adaptor doc, sha384",
			alg:  SHA384,
			toml: readTestdata(t, "caa-doc-initdata.toml"),
			want: Digests{
				Algorithm:     SHA384,
				Digest:        "4bebff2869bcdd3e9848fd8bca681ffb9bd9e018e343aa664c960fb4834129ac5b7fed3ca94b2da609906f1e94924b17",
				SNPHostData:   "4bebff2869bcdd3e9848fd8bca681ffb9bd9e018e343aa664c960fb4834129ac",
				TDXMRConfigID: "4bebff2869bcdd3e9848fd8bca681ffb9bd9e018e343aa664c960fb4834129ac5b7fed3ca94b2da609906f1e94924b17",
				AzurePCR8:     "5a3bf79fe9977bb2b2ec75431437bc40a75378dc5e7c09daad31d8849df71ece",
			},
		},
		{
			name: "abc, sha512: TDX and SNP cut the 64-byte digest",
			alg:  SHA512,
			toml: []byte("abc"),
			want: Digests{
				Algorithm:     SHA512,
				Digest:        "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f",
				SNPHostData:   "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a",
				TDXMRConfigID: "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd",
				AzurePCR8:     "d32b8a2ecd09a341194b99ac1826a7838900f376f122634f3055d1282eafcc42",
			},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := ComputeDigests(c.alg, c.toml)
			if err != nil {
				t.Fatal(err)
			}
			if got != c.want {
				t.Errorf("got  %+v\nwant %+v", got, c.want)
			}
		})
	}
	// qemu takes HOST_DATA as base64 (host-data=...): the how-to's value.
	raw, _ := hex.DecodeString(cases[0].want.SNPHostData)
	if got := base64.StdEncoding.EncodeToString(raw); got != "I4XF2glZ0GNjiyq0rCUq4Y6CX27LaYFeQgazgHfQvN0=" {
		t.Errorf("SNP host-data in base64 = %s", got)
	}
}

func TestComputeDigestsRejectsUnknownAlgorithm(t *testing.T) {
	for _, alg := range []Algorithm{"", "SHA256", "sha-256", "sm3", "md5"} {
		_, err := ComputeDigests(alg, []byte("x"))
		want := `algorithm "` + string(alg) + `" is not one of sha256, sha384 or sha512`
		if err == nil || err.Error() != want {
			t.Errorf("%q: got %v, want %s", alg, err, want)
		}
	}
}

func TestAdjust(t *testing.T) {
	d := []byte{1, 2, 3}
	if got := adjust(d, 2); hex.EncodeToString(got) != "0102" {
		t.Errorf("cut: %x", got)
	}
	if got := adjust(d, 5); hex.EncodeToString(got) != "0102030000" {
		t.Errorf("pad: %x", got)
	}
	if d[0] != 1 || len(d) != 3 {
		t.Errorf("adjust changed its input")
	}
}

// TestDigestsOfAKnownDigest: the bindings derived from a digest are those of the bytes it was computed from,
// for every algorithm; anything but the algorithm's lowercase hex is refused.
func TestDigestsOfAKnownDigest(t *testing.T) {
	doc := []byte("version = \"0.1.0\"\nalgorithm = \"sha384\"\n\n[data]\n")
	for _, alg := range []Algorithm{SHA256, SHA384, SHA512} {
		want, err := ComputeDigests(alg, doc)
		if err != nil {
			t.Fatal(err)
		}
		got, err := DigestsOf(alg, want.Digest)
		if err != nil || got != want {
			t.Errorf("%s: %+v, %v; want %+v", alg, got, err, want)
		}
	}
	d, _ := ComputeDigests(SHA256, doc)
	for _, bad := range []string{"", d.Digest[:62], d.Digest + "00", strings.ToUpper(d.Digest), "zz" + d.Digest[2:]} {
		if _, err := DigestsOf(SHA256, bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	if _, err := DigestsOf("md5", d.Digest); err == nil {
		t.Error("md5 accepted")
	}
}
