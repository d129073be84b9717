// Package initdata renders, encodes, decodes and measures Confidential Containers init-data: the TOML
// document (spec version 0.1.0, trustee kbs/docs/initdata.md) that carries the Attestation Agent and
// Confidential Data Hub configuration and the Kata agent policy into a pod VM.
//
// The package is pure: it reads no files and opens no connections. The digests it computes always come from
// the exact TOML bytes that are encoded, because every consumer (Kata shim and agent, Attestation Agent,
// Trustee, cloud-api-adaptor) hashes those bytes without re-serialising them.
package initdata

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"fmt"
	"hash"
	"strings"
	"unicode/utf8"

	"github.com/BurntSushi/toml"
)

// Version is the only init-data spec version the guest accepts.
const Version = "0.1.0"

// The [data] keys the guest reads. The Kata agent writes aa.toml and cdh.toml for the Attestation Agent and
// the Confidential Data Hub and loads policy.rego as the agent policy; cloud-api-adaptor peer pods copy
// exactly these three and skip any other key.
const (
	KeyAA     = "aa.toml"
	KeyCDH    = "cdh.toml"
	KeyPolicy = "policy.rego"
)

// Algorithm is the hash algorithm of an init-data document, as spelled in its algorithm key.
type Algorithm string

// The algorithms the guest accepts: lowercase, no dash (the Attestation Agent rejects "sha-384").
const (
	SHA256 Algorithm = "sha256"
	SHA384 Algorithm = "sha384"
	SHA512 Algorithm = "sha512"
)

// Algorithms lists the valid algorithms, for flag help and error messages.
var Algorithms = []Algorithm{SHA256, SHA384, SHA512}

// Valid reports whether the guest accepts a.
func (a Algorithm) Valid() bool { return a == SHA256 || a == SHA384 || a == SHA512 }

func (a Algorithm) hash() hash.Hash {
	switch a {
	case SHA256:
		return sha256.New()
	case SHA384:
		return sha512.New384()
	case SHA512:
		return sha512.New()
	}
	return nil
}

// algorithmList renders the valid algorithms for messages: "sha256, sha384 or sha512".
func algorithmList() string {
	return string(SHA256) + ", " + string(SHA384) + " or " + string(SHA512)
}

// Document is the content of one init-data document. Render writes it in a fixed layout, so the same Document
// always gives the same bytes and the same digests.
type Document struct {
	Algorithm Algorithm
	// AA is the Attestation Agent configuration, [data]."aa.toml". Required.
	AA string
	// CDH is the Confidential Data Hub configuration, [data]."cdh.toml". Required.
	CDH string
	// Policy is the Kata agent policy, [data]."policy.rego". Empty means the document has no policy.rego
	// entry and the agent keeps the policy baked into the pod VM image.
	Policy string
}

// entries returns the [data] entries in the order Render writes them.
func (d Document) entries() []Entry {
	out := []Entry{{KeyAA, d.AA}, {KeyCDH, d.CDH}}
	if d.Policy != "" {
		out = append(out, Entry{KeyPolicy, d.Policy})
	}
	return out
}

// Entry is one [data] key and its string value.
type Entry struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// Render writes the document as TOML in this exact layout (every byte counts: it is what gets hashed):
//
//	version = "0.1.0"
//	algorithm = "sha256"
//	<empty line>
//	[data]
//	"aa.toml" = '''
//	<aa.toml, byte for byte>'''
//	<empty line>
//	"cdh.toml" = '''
//	<cdh.toml, byte for byte>'''
//	<empty line>
//	"policy.rego" = '''
//	<policy.rego, byte for byte>'''
//
// The file ends with one newline after the last closing delimiter. Each value is a multi-line literal string
// that starts on the line after its opening delimiter (TOML drops that first newline); when the value ends
// with a newline, as configuration files do, the closing delimiter sits on a line of its own. A value that a
// literal string cannot hold (it contains three single quotes in a row, a control character other than tab
// and newline, or ends with a single quote) is written as a multi-line basic string (three double quotes)
// with escapes instead: backslash, \b, \f, \r and \uXXXX for the other control characters (TOML 1.0
// escapes only), and a double quote when another one follows it or it ends the value. It reads back as
// the same bytes. policy.rego is left out when Document.Policy is empty.
//
// Before returning, Render parses its output back, checks that it uses TOML 1.0 syntax only (what the
// guest reads) and that version, algorithm and every value read back byte for byte; any difference is an
// error.
func Render(doc Document) ([]byte, error) {
	if !doc.Algorithm.Valid() {
		return nil, fmt.Errorf("render init-data: algorithm %q is not one of %s", doc.Algorithm, algorithmList())
	}
	if doc.AA == "" {
		return nil, fmt.Errorf("render init-data: %s is empty: the Attestation Agent needs its configuration (a pod's init-data replaces the default one as a whole)", KeyAA)
	}
	if doc.CDH == "" {
		return nil, fmt.Errorf("render init-data: %s is empty: the Confidential Data Hub needs its configuration (a pod's init-data replaces the default one as a whole)", KeyCDH)
	}
	entries := doc.entries()
	size := 64
	for _, e := range entries {
		if !utf8.ValidString(e.Value) {
			return nil, fmt.Errorf("render init-data: %s is not valid UTF-8 text: TOML cannot carry it", e.Key)
		}
		size += len(e.Key) + len(e.Value) + 16
	}
	b := make([]byte, 0, size)
	b = append(b, "version = \""+Version+"\"\nalgorithm = \""+string(doc.Algorithm)+"\"\n\n[data]\n"...)
	for i, e := range entries {
		if i > 0 {
			b = append(b, '\n')
		}
		b = append(b, '"')
		b = append(b, e.Key...)
		b = append(b, "\" = "...)
		b = appendMultiline(b, e.Value)
		b = append(b, '\n')
	}
	if err := checkRoundTrip(b, doc.Algorithm, entries); err != nil {
		return nil, fmt.Errorf("render init-data: %w", err)
	}
	return b, nil
}

// checkRoundTrip parses rendered TOML with an independent reader and compares it with what was written.
func checkRoundTrip(b []byte, alg Algorithm, entries []Entry) error {
	var got struct {
		Version   string            `toml:"version"`
		Algorithm string            `toml:"algorithm"`
		Data      map[string]string `toml:"data"`
	}
	md, err := toml.Decode(string(b), &got)
	if err != nil {
		return fmt.Errorf("the rendered TOML does not parse: %w", err)
	}
	if err := checkTOML10(string(b)); err != nil {
		return fmt.Errorf("the rendered TOML is not TOML 1.0: %w", err)
	}
	if u := md.Undecoded(); len(u) > 0 {
		return fmt.Errorf("the rendered TOML has unexpected key %s", u[0])
	}
	if got.Version != Version || got.Algorithm != string(alg) {
		return fmt.Errorf("the rendered TOML reads back as version %q, algorithm %q", got.Version, got.Algorithm)
	}
	if len(got.Data) != len(entries) {
		return fmt.Errorf("the rendered TOML reads back with %d [data] entries, want %d", len(got.Data), len(entries))
	}
	for _, e := range entries {
		if v, ok := got.Data[e.Key]; !ok || v != e.Value {
			return fmt.Errorf("%s does not read back byte for byte from the rendered TOML", e.Key)
		}
	}
	return nil
}

// appendMultiline appends s as a TOML multi-line string: literal when a literal string can hold s exactly,
// otherwise basic with escapes. The opening delimiter is followed by a newline, which
// TOML drops.
func appendMultiline(b []byte, s string) []byte {
	if literalSafe(s) {
		b = append(b, "'''\n"...)
		b = append(b, s...)
		return append(b, "'''"...)
	}
	b = append(b, "\"\"\"\n"...)
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == '\\':
			b = append(b, `\\`...)
		case r == '"':
			// A quote is escaped when another quote follows it or when it is the last character, so that no
			// run of unescaped quotes can close the string early or merge with the closing delimiter.
			if i+1 == len(s) || s[i+1] == '"' {
				b = append(b, `\"`...)
			} else {
				b = append(b, '"')
			}
		case r == '\n' || r == '\t':
			b = append(b, byte(r))
		case r == '\b':
			b = append(b, `\b`...)
		case r == '\f':
			b = append(b, `\f`...)
		case r == '\r':
			b = append(b, `\r`...)
		case r < 0x20 || r == 0x7f:
			// \uXXXX, not the \xHH or \e escapes of TOML 1.1, which the guest's TOML 1.0 readers reject.
			b = fmt.Appendf(b, `\u%04X`, r)
		default:
			b = append(b, s[i:i+size]...)
		}
		i += size
	}
	return append(b, `"""`...)
}

// literalSafe reports whether a multi-line literal string holds s exactly: no run of three single quotes, no
// control character other than tab and newline (a carriage return would be read as part of a CRLF newline, or rejected), and no
// quote at the end, where it would touch the closing delimiter.
func literalSafe(s string) bool {
	if strings.Contains(s, "'''") || strings.HasSuffix(s, "'") {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < 0x20 && c != '\t' && c != '\n') || c == 0x7f {
			return false
		}
	}
	return true
}

// Encode returns the annotation and INITDATA form of init-data: standard padded base64 of gzip(TOML), on one
// line. The gzip header has no file name, no comment and a zero modification time, and the compression
// level is fixed (best compression, to leave the most room under the Kubernetes and Azure size limits), so
// the same TOML gives the same text on every run and machine built with the same Go release. Only the
// digests are part of attestation: they depend on the TOML bytes alone, never on this encoding.
func Encode(tomlBytes []byte) string {
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err != nil {
		panic(err) // the level is a valid constant
	}
	// Writing to a bytes.Buffer cannot fail.
	_, _ = zw.Write(tomlBytes)
	_ = zw.Close()
	return base64.StdEncoding.EncodeToString(buf.Bytes())
}
