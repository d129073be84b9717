package initdata

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"regexp"
	"strings"
	"testing"

	"github.com/BurntSushi/toml"
)

const (
	sampleAA  = "[token_configs]\n[token_configs.kbs]\nurl = \"https://kbs.example.com\"\n"
	sampleCDH = "socket = \"unix:///run/confidential-containers/cdh.sock\"\ncredentials = []\n\n[kbc]\nname = \"cc_kbc\"\nurl = \"https://kbs.example.com\"\n"
	samplePol = "package agent_policy\n\ndefault ExecProcessRequest := false\n"
)

// TestRenderLayout pins the exact bytes: they decide the digests that attestation policies hold.
func TestRenderLayout(t *testing.T) {
	cases := []struct {
		name string
		doc  Document
		want string
	}{
		{
			name: "with policy",
			doc:  Document{Algorithm: SHA256, AA: sampleAA, CDH: sampleCDH, Policy: samplePol},
			want: "version = \"0.1.0\"\nalgorithm = \"sha256\"\n\n[data]\n" +
				"\"aa.toml\" = '''\n" + sampleAA + "'''\n\n" +
				"\"cdh.toml\" = '''\n" + sampleCDH + "'''\n\n" +
				"\"policy.rego\" = '''\n" + samplePol + "'''\n",
		},
		{
			name: "without policy",
			doc:  Document{Algorithm: SHA384, AA: sampleAA, CDH: sampleCDH},
			want: "version = \"0.1.0\"\nalgorithm = \"sha384\"\n\n[data]\n" +
				"\"aa.toml\" = '''\n" + sampleAA + "'''\n\n" +
				"\"cdh.toml\" = '''\n" + sampleCDH + "'''\n",
		},
		{
			name: "values without a final newline end at the delimiter",
			doc:  Document{Algorithm: SHA512, AA: "a = 1", CDH: "b = 2", Policy: "package agent_policy"},
			want: "version = \"0.1.0\"\nalgorithm = \"sha512\"\n\n[data]\n" +
				"\"aa.toml\" = '''\na = 1'''\n\n\"cdh.toml\" = '''\nb = 2'''\n\n\"policy.rego\" = '''\npackage agent_policy'''\n",
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := Render(c.doc)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != c.want {
				t.Errorf("got:\n%s\nwant:\n%s", got, c.want)
			}
			again, _ := Render(c.doc)
			if !bytes.Equal(got, again) {
				t.Errorf("two renders differ")
			}
		})
	}
}

// TestRenderStrings renders values that a literal string cannot hold, or only just can, and checks both the
// form chosen and that every value reads back byte for byte through Decode and an independent TOML reader.
func TestRenderStrings(t *testing.T) {
	cases := []struct {
		name, value string
		literal     bool   // written as '''…'''
		written     string // the encoded value, between the delimiters; "" to skip the check
	}{
		{"plain config", sampleCDH, true, "\n" + sampleCDH},
		{"starts with a newline", "\nx = 1\n", true, "\n\nx = 1\n"},
		{"only a newline", "\n", true, "\n\n"},
		{"nested basic multi-line string", "cert = \"\"\"\nPEM\n\"\"\"\n", true, ""},
		{"two single quotes inside", "a = ''\n", true, ""},
		{"tab and unicode", "a\t= \"é ☃ 🚀\"\n", true, ""},
		{"backslashes stay literal", `path = 'C:\dir\' + "\u0041"` + "\n", true, ""},
		{"three single quotes", "x = '''\nabc\n'''\n", false, "\nx = '''\nabc\n'''\n"},
		{"ends with a single quote", "x = 'y'", false, "\nx = 'y'"},
		{"ends with two single quotes", "x = ''", false, "\nx = ''"},
		{"carriage return", "a = 1\r\nb = 2\r\n", false, "\na = 1\\r\nb = 2\\r\n"},
		{"control characters", "nul\x00 bell\a esc\x1b del\x7f bs\b ff\f", false, "\nnul\\u0000 bell\\u0007 esc\\u001B del\\u007F bs\\b ff\\f"},
		{"quotes runs next to the delimiter", `''' """ "" "` + "\"", false, "\n''' \\\"\\\"\" \\\"\" \\\"\\\""},
		{"backslash at a line end", "'''\\\n\\", false, "\n'''\\\\\n\\\\"},
		{"a quote as the whole value", "'", false, "\n'"},
		{"three double quotes at the end", `'''"""`, false, "\n'''\\\"\\\"\\\""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			doc := Document{Algorithm: SHA256, AA: c.value, CDH: sampleCDH, Policy: c.value}
			out, err := Render(doc)
			if err != nil {
				t.Fatal(err)
			}
			open, closing := `"""`, `"""`
			if c.literal {
				open, closing = "'''", "'''"
			}
			prefix := "\"aa.toml\" = " + open
			i := bytes.Index(out, []byte(prefix))
			if i < 0 {
				t.Fatalf("aa.toml is not written with %s:\n%s", open, out)
			}
			if c.written != "" {
				rest := out[i+len(prefix):]
				want := c.written + closing + "\n\n\"cdh.toml\""
				if !bytes.HasPrefix(rest, []byte(want)) {
					t.Errorf("written as\n%q\nwant\n%q", rest[:min(len(rest), len(want))], want)
				}
			}
			d, err := Decode(out)
			if err != nil {
				t.Fatalf("rendered TOML does not decode: %v\n%s", err, out)
			}
			for _, key := range []string{KeyAA, KeyPolicy} {
				if got, _ := d.Get(key); got != c.value {
					t.Errorf("%s reads back as %q, want %q", key, got, c.value)
				}
			}
			var m struct{ Data map[string]string }
			if _, err := toml.Decode(string(out), &m); err != nil || m.Data[KeyAA] != c.value {
				t.Errorf("BurntSushi/toml reads %q (%v)", m.Data[KeyAA], err)
			}
		})
	}
}

func TestRenderErrors(t *testing.T) {
	cases := []struct {
		name string
		doc  Document
		want string
	}{
		{"no algorithm", Document{AA: sampleAA, CDH: sampleCDH}, `render init-data: algorithm "" is not one of sha256, sha384 or sha512`},
		{"algorithm spelled with a dash", Document{Algorithm: "sha-384", AA: sampleAA, CDH: sampleCDH}, `render init-data: algorithm "sha-384" is not one of sha256, sha384 or sha512`},
		{"empty aa.toml", Document{Algorithm: SHA256, CDH: sampleCDH}, "render init-data: aa.toml is empty: the Attestation Agent needs its configuration (a pod's init-data replaces the default one as a whole)"},
		{"empty cdh.toml", Document{Algorithm: SHA256, AA: sampleAA}, "render init-data: cdh.toml is empty: the Confidential Data Hub needs its configuration (a pod's init-data replaces the default one as a whole)"},
		{"invalid UTF-8", Document{Algorithm: SHA256, AA: sampleAA, CDH: sampleCDH, Policy: "package p\xff"}, "render init-data: policy.rego is not valid UTF-8 text: TOML cannot carry it"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out, err := Render(c.doc)
			if err == nil || err.Error() != c.want {
				t.Errorf("got %v, want %s", err, c.want)
			}
			if out != nil {
				t.Errorf("output on error: %q", out)
			}
		})
	}
}

func TestCheckRoundTripCatchesDifferences(t *testing.T) {
	entries := []Entry{{KeyAA, "a"}, {KeyCDH, "b"}}
	good := []byte("version = \"0.1.0\"\nalgorithm = \"sha256\"\n[data]\n\"aa.toml\" = \"a\"\n\"cdh.toml\" = \"b\"\n")
	if err := checkRoundTrip(good, SHA256, entries); err != nil {
		t.Fatalf("good document: %v", err)
	}
	cases := map[string]string{
		"value differs":   "version = \"0.1.0\"\nalgorithm = \"sha256\"\n[data]\n\"aa.toml\" = \"a \"\n\"cdh.toml\" = \"b\"\n",
		"entry missing":   "version = \"0.1.0\"\nalgorithm = \"sha256\"\n[data]\n\"aa.toml\" = \"a\"\n",
		"extra key":       "version = \"0.1.0\"\nalgorithm = \"sha256\"\nx = 1\n[data]\n\"aa.toml\" = \"a\"\n\"cdh.toml\" = \"b\"\n",
		"wrong algorithm": "version = \"0.1.0\"\nalgorithm = \"sha384\"\n[data]\n\"aa.toml\" = \"a\"\n\"cdh.toml\" = \"b\"\n",
		"not TOML":        "version = \n",
	}
	for name, doc := range cases {
		if err := checkRoundTrip([]byte(doc), SHA256, entries); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

var paddedBase64Re = regexp.MustCompile(`^[A-Za-z0-9+/]*={0,2}$`)

func TestEncodeFormatAndDeterminism(t *testing.T) {
	doc, err := Render(Document{Algorithm: SHA256, AA: sampleAA, CDH: sampleCDH, Policy: samplePol})
	if err != nil {
		t.Fatal(err)
	}
	a, b := Encode(doc), Encode(doc)
	if a != b {
		t.Fatalf("two encodings differ")
	}
	if !paddedBase64Re.MatchString(a) || len(a)%4 != 0 {
		t.Errorf("not one line of padded standard base64: %q", a)
	}
	raw, err := base64.StdEncoding.DecodeString(a)
	if err != nil {
		t.Fatal(err)
	}
	// Header: magic 1f 8b, deflate, no flags (no name, comment or extra), mtime 0, XFL 2 (best
	// compression), OS 255 (unknown): nothing that depends on the machine or the time.
	if want := []byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 2, 0xff}; !bytes.HasPrefix(raw, want) {
		t.Errorf("gzip header % x, want % x", raw[:10], want)
	}
	if !strings.HasPrefix(a, "H4sIAAAAAAAC/") {
		t.Errorf("encoding starts %q", a[:13])
	}
	zr, err := gzip.NewReader(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	if zr.Name != "" || !zr.ModTime.IsZero() {
		t.Errorf("gzip header has name %q, mtime %v", zr.Name, zr.ModTime)
	}
}

// TestDigestIgnoresTheGzipLayer: the same TOML compressed differently gives another annotation but the same
// digests, since only the TOML bytes are hashed.
func TestDigestIgnoresTheGzipLayer(t *testing.T) {
	doc, err := Render(Document{Algorithm: SHA384, AA: sampleAA, CDH: sampleCDH, Policy: samplePol})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.NoCompression)
	zw.Name = "initdata.toml"
	zw.Write(doc)
	zw.Close()
	other := base64.StdEncoding.EncodeToString(buf.Bytes())
	if other == Encode(doc) {
		t.Fatal("the two encodings should differ")
	}
	d1, err := Decode([]byte(Encode(doc)))
	if err != nil {
		t.Fatal(err)
	}
	d2, err := Decode([]byte(other))
	if err != nil {
		t.Fatal(err)
	}
	want, _ := ComputeDigests(SHA384, doc)
	if d1.Digests != want || d2.Digests != want {
		t.Errorf("digests differ:\n%+v\n%+v\n%+v", d1.Digests, d2.Digests, want)
	}
}
