package initdata

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"strconv"
	"strings"
	"testing"
)

func gz(b []byte) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(b)
	zw.Close()
	return buf.Bytes()
}

func b64(b []byte) []byte { return []byte(base64.StdEncoding.EncodeToString(b)) }

func TestDecodeVectors(t *testing.T) {
	t.Run("kata how-to blob", func(t *testing.T) {
		d, err := Decode(readTestdata(t, "kata-howto-initdata.b64"))
		if err != nil {
			t.Fatal(err)
		}
		if d.Encoding != EncodingGzipBase64 || d.Version != "0.1.0" || d.Algorithm != SHA256 {
			t.Errorf("got %s, version %s, algorithm %s", d.Encoding, d.Version, d.Algorithm)
		}
		if len(d.TOML) != 1518 || !bytes.HasPrefix(d.TOML, []byte("version = \"0.1.0\"\nalgorithm = \"sha256\"\n\n[data]\n\"policy.rego\" = '''\n# Copyright")) ||
			!bytes.HasSuffix(d.TOML, []byte("default ExecProcessRequest := false\n'''\n")) {
			t.Errorf("TOML (%d bytes) is not the how-to's", len(d.TOML))
		}
		if len(d.Data) != 1 || d.Data[0].Key != KeyPolicy || !strings.HasPrefix(d.Data[0].Value, "# Copyright (c) 2023 Microsoft Corporation\n") {
			t.Errorf("data: %+v", d.Data)
		}
		if d.Digests.Digest != "2385c5da0959d063638b2ab4ac252ae18e825f6ecb69815e4206b38077d0bcdd" {
			t.Errorf("digest %s", d.Digests.Digest)
		}
		if len(d.Warnings) != 0 {
			t.Errorf("warnings: %q", d.Warnings)
		}
	})
	t.Run("cloud-api-adaptor INITDATA equals its TOML", func(t *testing.T) {
		d, err := Decode(readTestdata(t, "caa-doc-initdata.b64"))
		if err != nil {
			t.Fatal(err)
		}
		raw, err := Decode(readTestdata(t, "caa-doc-initdata.toml"))
		if err != nil {
			t.Fatal(err)
		}
		if raw.Encoding != EncodingTOML || !bytes.Equal(d.TOML, raw.TOML) || d.Digests != raw.Digests {
			t.Errorf("the encoded and the raw form differ")
		}
		var keys []string
		for _, e := range d.Data {
			keys = append(keys, e.Key)
		}
		if strings.Join(keys, " ") != "aa.toml cdh.toml policy.rego" {
			t.Errorf("keys in document order: %v", keys)
		}
		if d.Digests.Digest != "4bebff2869bcdd3e9848fd8bca681ffb9bd9e018e343aa664c960fb4834129ac5b7fed3ca94b2da609906f1e94924b17" {
			t.Errorf("digest %s", d.Digests.Digest)
		}
	})
}

const validDoc = "version = \"0.1.0\"\nalgorithm = \"sha256\"\n\n[data]\n\"aa.toml\" = '''\nx = 1\n'''\n"

func TestDecodeForms(t *testing.T) {
	cases := []struct {
		name     string
		blob     []byte
		enc      Encoding
		warnings []string
	}{
		{"gzip+base64", b64(gz([]byte(validDoc))), EncodingGzipBase64, nil},
		{"gzip+base64 with a final newline", append(b64(gz([]byte(validDoc))), '\n'), EncodingGzipBase64, nil},
		{"plain base64 (cloud-api-adaptor before v0.14.0)", b64([]byte(validDoc)), EncodingBase64,
			[]string{"plain base64 without gzip: only cloud-api-adaptor v0.10.0 to v0.13.x reads this; Kata and newer cloud-api-adaptor releases need base64 of gzip(TOML)"}},
		{"raw TOML", []byte(validDoc), EncodingTOML, nil},
		{"empty [data]", []byte("version = \"0.1.0\"\nalgorithm = \"sha512\"\n[data]\n"), EncodingTOML, nil},
		{"inline data table", []byte("version = \"0.1.0\"\nalgorithm = \"sha384\"\ndata = { \"cdh.toml\" = \"a\" }\n"), EncodingTOML, nil},
		{"a key the guest does not read", []byte(validDoc + "\"extra.json\" = \"{}\"\n"), EncodingTOML,
			[]string{`[data] key "extra.json" is not one the guest reads (aa.toml, cdh.toml, policy.rego): cloud-api-adaptor peer pods skip it, yet it is part of the digest`}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d, err := Decode(c.blob)
			if err != nil {
				t.Fatal(err)
			}
			if d.Encoding != c.enc {
				t.Errorf("encoding %s, want %s", d.Encoding, c.enc)
			}
			if strings.Join(d.Warnings, "\n") != strings.Join(c.warnings, "\n") {
				t.Errorf("warnings %q, want %q", d.Warnings, c.warnings)
			}
			want, _ := ComputeDigests(d.Algorithm, d.TOML)
			if d.Digests != want {
				t.Errorf("digests not computed from the TOML bytes")
			}
		})
	}
	// Raw TOML is hashed as given, whitespace included.
	d, err := Decode([]byte(validDoc + "\n\n"))
	if err != nil || string(d.TOML) != validDoc+"\n\n" {
		t.Errorf("raw TOML changed: %q, %v", d.TOML, err)
	}
}

// TestDecodeRejects lists every rejection rule with its message.
func TestDecodeRejects(t *testing.T) {
	valid := b64(gz([]byte(validDoc)))
	doc := func(s string) []byte { return b64(gz([]byte(s))) }
	concatenated := b64(append(gz([]byte(validDoc)), gz([]byte("x"))...))
	corrupt := gz([]byte(validDoc))
	corrupt[len(corrupt)-5] ^= 0xff // CRC-32 of the content
	cases := []struct {
		name string
		blob []byte
		want string
	}{
		// transport
		{"empty", []byte(" \n"), "empty: there is no init-data (Kata ignores an empty annotation)"},
		{"raw gzip", gz([]byte(validDoc)), "raw gzip data: init-data travels as base64 text (gzip -c FILE | base64 -w0) or as TOML"},
		{"stray character", append([]byte("H4sI!"), valid[5:]...), `not valid base64: '!' at byte 4 is not in the standard base64 alphabet (A-Z a-z 0-9 + / =)`},
		{"space inside", []byte("H4sI AAAA"), `not valid base64: ' ' at byte 4 is not in the standard base64 alphabet (A-Z a-z 0-9 + / =)`},
		{"wrapped lines", append(append(append([]byte{}, valid[:8]...), '\n'), valid[8:]...), "not valid base64: a line break at byte 8 splits the text: write it on one line (base64 -w0); Kata's runtime-rs refuses wrapped base64"},
		{"URL-safe alphabet", []byte("H4sI_AAA"), `not valid base64: '_' at byte 4 belongs to the URL-safe alphabet; init-data uses standard base64 (+ and /)`},
		{"missing padding", bytes.TrimRight(b64([]byte("abcd")), "="), "not valid base64: the '=' padding is missing (6 characters is not a multiple of 4)"},
		{"cut short", valid[:len(valid)-3], "not valid base64: " + strconv.Itoa(len(valid)-3) + " characters is not a multiple of 4 (is the text cut short?)"},
		{"non-zero padding bits", []byte("YR=="), "not valid base64: bad data or padding at byte 2"},
		{"padding in the middle", []byte("YQ==YQ=="), "not valid base64: bad data or padding at byte 4"},
		{"not gzip, not text", b64([]byte{0, 1, 2, 3, 0xfe}), "not gzip: the base64 text decodes to 5 bytes that neither start with the gzip header (1f 8b) nor are TOML text"},
		{"gzip header only", b64([]byte{0x1f, 0x8b, 8}), "not gzip: the data is truncated"},
		{"bad gzip header", b64([]byte{0x1f, 0x8b, 7, 0, 0, 0, 0, 0, 0, 0}), "not gzip: the header is invalid"},
		{"truncated gzip", b64(gz([]byte(validDoc))[:30]), "corrupt gzip data: the data is truncated"},
		{"corrupt gzip", b64(corrupt), "corrupt gzip data: the checksum does not match the content"},
		{"two gzip members", concatenated, "corrupt gzip data: 25 bytes follow the end of the gzip stream"},
		// TOML
		{"not UTF-8", doc("version = \"0.1.0\"\xff\n"), "not TOML: byte 17 is not valid UTF-8"},
		{"byte order mark", doc("\ufeff" + validDoc), "not TOML the guest reads: the text starts with a byte order mark (EF BB BF); remove it"},
		{"TOML syntax", doc("version = \"0.1.0\"\nalgorithm = sha256\n[data]\n"), "not valid TOML: line 2, column 13: expected value but found \"sha\" instead"},
		{"duplicate key", doc(validDoc + "\"aa.toml\" = \"again\"\n"), "not valid TOML: line 8, column 2: Key 'data.\"aa.toml\"' has already been defined."},
		{"TOML syntax in plain base64", b64([]byte("version = \n[data]\n")), "base64 without gzip, read as TOML: not valid TOML: line 1, column 11: expected value but found '\\n' instead"},
		{"''' inside a literal string", doc("version = \"0.1.0\"\nalgorithm = \"sha256\"\n[data]\n\"policy.rego\" = '''\na = '''x'''\n'''\n"), "not valid TOML: line 5, column 8: expected a top-level item to end with a newline, comment, or EOF, but got 'x' instead"},
		{"TOML 1.1 escape \\e", doc("version = \"0.1.0\"\nalgorithm = \"sha256\"\n[data]\n\"aa.toml\" = \"\"\"\nx = \"\\e[0m\"\n\"\"\"\n"), "not TOML the guest reads: line 5: the escape \\e is TOML 1.1, and the guest reads TOML 1.0; write \\u00XX instead"},
		{"TOML 1.1 escape \\x", doc("version = \"0.1.0\"\nalgorithm = \"sha256\"\n[data]\n\"a\\x2eb\" = \"c\"\n"), "not TOML the guest reads: line 4: the escape \\x is TOML 1.1, and the guest reads TOML 1.0; write \\u00XX instead"},
		{"TOML 1.1 multi-line inline table", doc("version = \"0.1.0\"\nalgorithm = \"sha256\"\ndata = {\n  \"aa.toml\" = \"x\" }\n"), "not TOML the guest reads: line 3: an inline table continues on the next line: that is TOML 1.1, and the guest reads TOML 1.0; keep it on one line or write a [table]"},
		{"TOML 1.1 trailing comma", doc("version = \"0.1.0\"\nalgorithm = \"sha256\"\ndata = { \"aa.toml\" = \"x\", }\n"), "not TOML the guest reads: line 3: a comma before the closing } of an inline table: that is TOML 1.1, and the guest reads TOML 1.0"},
		// document
		{"missing version", doc("algorithm = \"sha256\"\n[data]\n"), `missing version: the guest requires version = "0.1.0"`},
		{"version not a string", doc("version = 1\nalgorithm = \"sha256\"\n[data]\n"), `version is an integer, not a string: write version = "0.1.0"`},
		{"version 0.2.0", doc("version = \"0.2.0\"\nalgorithm = \"sha256\"\n[data]\n"), `unsupported version "0.2.0": the guest accepts only "0.1.0"`},
		{"version 0.1", doc("version = \"0.1\"\nalgorithm = \"sha256\"\n[data]\n"), `unsupported version "0.1": the guest accepts only "0.1.0"`},
		{"missing algorithm", doc("version = \"0.1.0\"\n[data]\n"), `missing algorithm: write algorithm = "sha256" (or sha384, sha512)`},
		{"algorithm not a string", doc("version = \"0.1.0\"\nalgorithm = [\"sha256\"]\n[data]\n"), `algorithm is an array, not a string: use sha256, sha384 or sha512`},
		{"algorithm uppercase", doc("version = \"0.1.0\"\nalgorithm = \"SHA256\"\n[data]\n"), `unsupported algorithm "SHA256": use sha256, sha384 or sha512 (lowercase, no dash)`},
		{"algorithm with a dash", doc("version = \"0.1.0\"\nalgorithm = \"sha-384\"\n[data]\n"), `unsupported algorithm "sha-384": use sha256, sha384 or sha512 (lowercase, no dash)`},
		{"algorithm sm3", doc("version = \"0.1.0\"\nalgorithm = \"sm3\"\n[data]\n"), `unsupported algorithm "sm3": use sha256, sha384 or sha512 (lowercase, no dash)`},
		{"missing data", doc("version = \"0.1.0\"\nalgorithm = \"sha256\"\n"), "missing [data] table: the guest requires it, even when it is empty"},
		{"data not a table", doc("version = \"0.1.0\"\nalgorithm = \"sha256\"\ndata = \"x\"\n"), "data is a string, not a table: write the files under [data]"},
		{"data array of tables", doc("version = \"0.1.0\"\nalgorithm = \"sha256\"\n[[data]]\n"), "data is an array of tables, not a table: write the files under [data]"},
		{"nested table in data", doc("version = \"0.1.0\"\nalgorithm = \"sha256\"\n[data.\"aa.toml\"]\nurl = \"x\"\n"), `data."aa.toml" is a table, not a string: every [data] value is the text of a file, written as a string ('''…''')`},
		{"integer in data", doc("version = \"0.1.0\"\nalgorithm = \"sha256\"\n[data]\nport = 8080\n"), `data.port is an integer, not a string: every [data] value is the text of a file, written as a string ('''…''')`},
		{"boolean in data", doc("version = \"0.1.0\"\nalgorithm = \"sha256\"\n[data]\ndebug = true\n"), `data.debug is a boolean, not a string: every [data] value is the text of a file, written as a string ('''…''')`},
		{"date in data", doc("version = \"0.1.0\"\nalgorithm = \"sha256\"\n[data]\nwhen = 2025-01-01T00:00:00Z\n"), `data.when is a date-time, not a string: every [data] value is the text of a file, written as a string ('''…''')`},
		{"unknown top-level key", doc("version = \"0.1.0\"\nalgorithm = \"sha256\"\nname = \"x\"\n[data]\n"), `unknown top-level key "name": init-data 0.1.0 has only version, algorithm and [data] (the guest would ignore it, but it changes the digest)`},
		{"unknown top-level table", doc(validDoc + "[extra]\n"), `unknown top-level key "extra": init-data 0.1.0 has only version, algorithm and [data] (the guest would ignore it, but it changes the digest)`},
		{"several problems at once", doc("version = \"1.0.0\"\nalgorithm = \"md5\"\n"), `unsupported version "1.0.0": the guest accepts only "0.1.0"; unsupported algorithm "md5": use sha256, sha384 or sha512 (lowercase, no dash); missing [data] table: the guest requires it, even when it is empty`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d, err := Decode(c.blob)
			if err == nil {
				t.Fatalf("accepted: %+v", d)
			}
			if err.Error() != c.want {
				t.Errorf("got  %s\nwant %s", err, c.want)
			}
		})
	}
}

func TestDecodeRefusesHugeExpansion(t *testing.T) {
	big := bytes.Repeat([]byte("#"), MaxTOMLSize+1)
	_, err := Decode(b64(gz(big)))
	if err == nil || err.Error() != "the gzip data expands to more than 8388608 bytes" {
		t.Errorf("got %v", err)
	}
}

// TestCheckTOML10Accepts: TOML 1.0 constructs that look like the 1.1 additions are not refused.
func TestCheckTOML10Accepts(t *testing.T) {
	for _, s := range []string{
		`a = "\\e and \\x are escaped backslashes"` + "\n",
		`a = 'C:\e\x in a literal string'` + "\n",
		"a = '''\n\\e { , }\n'''\n",
		"a = \"\"\"\nline \\\n  continued \\\"\\\\e\"\"\"\n",
		"a = \"\"\"quotes at the end\"\"\"\"\"\nb = { c = 1 }\n",
		"t = { list = [\n  1,\n  2,\n] }\n",
		"# a comment with { and a comma, }\nx = { y = \"}\" }\n",
		"[data]\n\"k\" = \"{\"\n[\"quoted.table\"]\n",
	} {
		if err := checkTOML10(s); err != nil {
			t.Errorf("%q: %v", s, err)
		}
	}
}
