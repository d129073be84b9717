package initdata

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/BurntSushi/toml"
)

// Encoding says how an init-data value was written.
type Encoding string

// The encodings Decode reads.
const (
	// EncodingGzipBase64 is standard padded base64 of gzip(TOML): the annotation and INITDATA format of Kata
	// (3.16 and later) and cloud-api-adaptor (v0.14.0 and later).
	EncodingGzipBase64 Encoding = "gzip+base64"
	// EncodingBase64 is plain base64 of the TOML, without gzip: cloud-api-adaptor v0.10.0 to v0.13.x only.
	EncodingBase64 Encoding = "base64"
	// EncodingTOML is the readable TOML itself.
	EncodingTOML Encoding = "toml"
)

// MaxTOMLSize bounds the TOML that Decode accepts, before or after gunzip, so that a small hostile blob
// cannot expand into gigabytes. Real init-data is a few KiB; Kubernetes caps an annotation set at 256 KiB.
const MaxTOMLSize = 8 << 20

// Decoded is an init-data document read back from its encoded or readable form.
type Decoded struct {
	Encoding Encoding
	// TOML holds the exact bytes the digests are computed from.
	TOML      []byte
	Version   string
	Algorithm Algorithm
	// Data holds the [data] entries in the order of the document.
	Data    []Entry
	Digests Digests
	// Warnings are problems that do not stop the guest but that a reviewer should see.
	Warnings []string
}

// Get returns the value of a [data] key.
func (d Decoded) Get(key string) (string, bool) {
	for _, e := range d.Data {
		if e.Key == key {
			return e.Value, true
		}
	}
	return "", false
}

// Decode reads init-data in any of the forms it travels in: base64 of gzip(TOML) (annotations and INITDATA),
// plain base64 of the TOML (old cloud-api-adaptor releases) or the raw TOML. Base64 text may be surrounded
// by whitespace (a file's final newline); raw TOML is taken byte for byte, since every byte is hashed.
//
// The document is validated as strictly as the guest does, and a little more: version must be "0.1.0",
// algorithm one of sha256, sha384 and sha512, [data] must be a table of strings, and no other top-level key
// is allowed (the guest ignores such keys, but they change the digest).
func Decode(blob []byte) (Decoded, error) {
	tomlBytes, enc, err := unwrap(blob)
	if err != nil {
		return Decoded{}, err
	}
	d, err := parseDocument(tomlBytes)
	if err != nil {
		if enc == EncodingBase64 {
			return Decoded{}, fmt.Errorf("base64 without gzip, read as TOML: %w", err)
		}
		return Decoded{}, err
	}
	d.Encoding = enc
	if enc == EncodingBase64 {
		d.Warnings = append([]string{"plain base64 without gzip: only cloud-api-adaptor v0.10.0 to v0.13.x reads this; Kata and newer cloud-api-adaptor releases need base64 of gzip(TOML)"}, d.Warnings...)
	}
	return d, nil
}

// unwrap undoes the transport encoding and returns the TOML bytes.
func unwrap(blob []byte) ([]byte, Encoding, error) {
	text := bytes.TrimLeftFunc(blob, isSpace)
	lead := len(blob) - len(text)
	text = bytes.TrimRightFunc(text, isSpace)
	if len(text) == 0 {
		return nil, "", errors.New("empty: there is no init-data (Kata ignores an empty annotation)")
	}
	if isGzip(blob) {
		return nil, "", errors.New("raw gzip data: init-data travels as base64 text (gzip -c FILE | base64 -w0) or as TOML")
	}
	// Init-data TOML always spans several lines and holds quoted strings or a [data] header; anything else
	// is meant as base64, and a stray character in it deserves a base64 error, not a TOML one.
	if base64Like(text) || !bytes.ContainsRune(text, '\n') || !bytes.ContainsAny(text, "\"'[") {
		raw, err := decodeBase64(text, lead)
		if err != nil {
			return nil, "", err
		}
		if isGzip(raw) {
			out, err := gunzip(raw)
			return out, EncodingGzipBase64, err
		}
		if utf8.Valid(raw) && !bytes.ContainsRune(raw, 0) {
			return raw, EncodingBase64, nil
		}
		return nil, "", fmt.Errorf("not gzip: the base64 text decodes to %d bytes that neither start with the gzip header (1f 8b) nor are TOML text", len(raw))
	}
	if len(blob) > MaxTOMLSize {
		return nil, "", fmt.Errorf("the TOML is %d bytes, more than the limit of %d", len(blob), MaxTOMLSize)
	}
	return blob, EncodingTOML, nil
}

func isSpace(r rune) bool {
	return r == ' ' || r == '\t' || r == '\n' || r == '\r' || r == '\v' || r == '\f'
}

func isGzip(b []byte) bool { return len(b) >= 2 && b[0] == 0x1f && b[1] == 0x8b }

func isBase64Char(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '+' || c == '/' || c == '='
}

// base64Like reports whether text can only be meant as base64: the standard alphabet, plus the URL-safe
// characters and line breaks, which decodeBase64 refuses with a message of their own.
func base64Like(text []byte) bool {
	for _, c := range text {
		if !isBase64Char(c) && c != '-' && c != '_' && c != '\n' && c != '\r' {
			return false
		}
	}
	return true
}

// decodeBase64 decodes standard, padded base64 on one line, refusing what some consumer would refuse:
// line breaks (Kata's runtime-rs decoder), the URL-safe alphabet, missing padding and non-zero padding bits.
// Offsets in messages count from the start of the input (lead is the whitespace trimmed before text).
func decodeBase64(text []byte, lead int) ([]byte, error) {
	for i, c := range text {
		switch {
		case isBase64Char(c):
			continue
		case c == '\n' || c == '\r':
			return nil, fmt.Errorf("not valid base64: a line break at byte %d splits the text: write it on one line (base64 -w0); Kata's runtime-rs refuses wrapped base64", lead+i)
		case c == '-' || c == '_':
			return nil, fmt.Errorf("not valid base64: %q at byte %d belongs to the URL-safe alphabet; init-data uses standard base64 (+ and /)", c, lead+i)
		}
		r, _ := utf8.DecodeRune(text[i:])
		return nil, fmt.Errorf("not valid base64: %q at byte %d is not in the standard base64 alphabet (A-Z a-z 0-9 + / =)", r, lead+i)
	}
	raw, err := base64.StdEncoding.Strict().DecodeString(string(text))
	if err == nil {
		return raw, nil
	}
	if len(text)%4 != 0 && !bytes.HasSuffix(text, []byte("=")) {
		if _, rawErr := base64.RawStdEncoding.Strict().DecodeString(string(text)); rawErr == nil {
			return nil, fmt.Errorf("not valid base64: the '=' padding is missing (%d characters is not a multiple of 4)", len(text))
		}
	}
	var ce base64.CorruptInputError
	if errors.As(err, &ce) {
		if len(text)%4 != 0 {
			return nil, fmt.Errorf("not valid base64: %d characters is not a multiple of 4 (is the text cut short?)", len(text))
		}
		return nil, fmt.Errorf("not valid base64: bad data or padding at byte %d", lead+int(ce))
	}
	return nil, fmt.Errorf("not valid base64: %w", err)
}

// gunzip reads exactly one gzip member and refuses anything after it: Go readers would take further bytes
// as another member, Rust readers ignore them, and the two would hash different documents.
func gunzip(raw []byte) ([]byte, error) {
	br := bytes.NewReader(raw)
	zr, err := gzip.NewReader(br)
	if err != nil {
		return nil, fmt.Errorf("not gzip: %s", gzipProblem(err))
	}
	zr.Multistream(false)
	out, err := io.ReadAll(io.LimitReader(zr, MaxTOMLSize+1))
	if err != nil {
		return nil, fmt.Errorf("corrupt gzip data: %s", gzipProblem(err))
	}
	if len(out) > MaxTOMLSize {
		return nil, fmt.Errorf("the gzip data expands to more than %d bytes", MaxTOMLSize)
	}
	if n := br.Len(); n > 0 {
		return nil, fmt.Errorf("corrupt gzip data: %d bytes follow the end of the gzip stream", n)
	}
	return out, nil
}

func gzipProblem(err error) string {
	switch {
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return "the data is truncated"
	case errors.Is(err, gzip.ErrChecksum):
		return "the checksum does not match the content"
	case errors.Is(err, gzip.ErrHeader):
		return "the header is invalid"
	}
	return err.Error()
}

var utf8BOM = []byte("\xef\xbb\xbf")

// parseDocument parses and validates init-data TOML and computes its digests.
func parseDocument(b []byte) (Decoded, error) {
	if !utf8.Valid(b) {
		i := 0
		for i < len(b) {
			r, size := utf8.DecodeRune(b[i:])
			if r == utf8.RuneError && size == 1 {
				break
			}
			i += size
		}
		return Decoded{}, fmt.Errorf("not TOML: byte %d is not valid UTF-8", i)
	}
	if bytes.HasPrefix(b, utf8BOM) {
		return Decoded{}, errors.New("not TOML the guest reads: the text starts with a byte order mark (EF BB BF); remove it")
	}
	var doc map[string]any
	md, err := toml.Decode(string(b), &doc)
	if err != nil {
		var pe toml.ParseError
		if errors.As(err, &pe) {
			return Decoded{}, fmt.Errorf("not valid TOML: line %d, column %d: %s", pe.Position.Line, pe.Position.Col, pe.Message)
		}
		return Decoded{}, fmt.Errorf("not valid TOML: %w", err)
	}
	if err := checkTOML10(string(b)); err != nil {
		return Decoded{}, fmt.Errorf("not TOML the guest reads: %w", err)
	}
	d := Decoded{TOML: b}
	var problems []string

	switch v, ok := doc["version"]; {
	case !ok:
		problems = append(problems, `missing version: the guest requires version = "`+Version+`"`)
	case typeName(v) != "string":
		problems = append(problems, fmt.Sprintf(`version is %s, not a string: write version = "%s"`, article(typeName(v)), Version))
	case v.(string) != Version:
		problems = append(problems, fmt.Sprintf(`unsupported version %q: the guest accepts only "%s"`, v, Version))
	default:
		d.Version = Version
	}

	switch v, ok := doc["algorithm"]; {
	case !ok:
		problems = append(problems, `missing algorithm: write algorithm = "sha256" (or sha384, sha512)`)
	case typeName(v) != "string":
		problems = append(problems, fmt.Sprintf("algorithm is %s, not a string: use %s", article(typeName(v)), algorithmList()))
	case !Algorithm(v.(string)).Valid():
		problems = append(problems, fmt.Sprintf("unsupported algorithm %q: use %s (lowercase, no dash)", v, algorithmList()))
	default:
		d.Algorithm = Algorithm(v.(string))
	}

	switch v, ok := doc["data"]; {
	case !ok:
		problems = append(problems, "missing [data] table: the guest requires it, even when it is empty")
	case typeName(v) != "table":
		problems = append(problems, fmt.Sprintf("data is %s, not a table: write the files under [data]", article(typeName(v))))
	default:
		table := v.(map[string]any)
		for _, key := range dataKeys(md, table) {
			val := table[key]
			s, ok := val.(string)
			if !ok {
				problems = append(problems, fmt.Sprintf("data.%s is %s, not a string: every [data] value is the text of a file, written as a string ('''…''')", quoteKey(key), article(typeName(val))))
				continue
			}
			d.Data = append(d.Data, Entry{Key: key, Value: s})
			if key != KeyAA && key != KeyCDH && key != KeyPolicy {
				d.Warnings = append(d.Warnings, fmt.Sprintf("[data] key %q is not one the guest reads (%s, %s, %s): cloud-api-adaptor peer pods skip it, yet it is part of the digest", key, KeyAA, KeyCDH, KeyPolicy))
			}
		}
	}

	for _, key := range topLevelKeys(md, doc) {
		if key != "version" && key != "algorithm" && key != "data" {
			problems = append(problems, fmt.Sprintf("unknown top-level key %q: init-data %s has only version, algorithm and [data] (the guest would ignore it, but it changes the digest)", key, Version))
		}
	}
	if len(problems) > 0 {
		return Decoded{}, errors.New(strings.Join(problems, "; "))
	}
	d.Digests, _ = ComputeDigests(d.Algorithm, b) // the algorithm was validated above
	return d, nil
}

// dataKeys returns the keys of the [data] table in document order.
func dataKeys(md toml.MetaData, table map[string]any) []string {
	var keys []string
	seen := map[string]bool{}
	for _, k := range md.Keys() {
		if len(k) == 2 && k[0] == "data" && !seen[k[1]] {
			if _, ok := table[k[1]]; ok {
				keys = append(keys, k[1])
				seen[k[1]] = true
			}
		}
	}
	var rest []string
	for k := range table {
		if !seen[k] {
			rest = append(rest, k)
		}
	}
	slices.Sort(rest)
	return append(keys, rest...)
}

// topLevelKeys returns the top-level keys in document order.
func topLevelKeys(md toml.MetaData, doc map[string]any) []string {
	var keys []string
	seen := map[string]bool{}
	for _, k := range md.Keys() {
		if _, ok := doc[k[0]]; ok && !seen[k[0]] {
			keys = append(keys, k[0])
			seen[k[0]] = true
		}
	}
	var rest []string
	for k := range doc {
		if !seen[k] {
			rest = append(rest, k)
		}
	}
	slices.Sort(rest)
	return append(keys, rest...)
}

// quoteKey writes a key as TOML would need it in a dotted key: bare when it can be, quoted otherwise.
func quoteKey(k string) string {
	if k != "" && strings.IndexFunc(k, func(r rune) bool {
		return !('A' <= r && r <= 'Z' || 'a' <= r && r <= 'z' || '0' <= r && r <= '9' || r == '_' || r == '-')
	}) < 0 {
		return k
	}
	return fmt.Sprintf("%q", k)
}

// typeName names the TOML type of a decoded value.
func typeName(v any) string {
	switch v.(type) {
	case string:
		return "string"
	case int64:
		return "integer"
	case float64:
		return "float"
	case bool:
		return "boolean"
	case map[string]any:
		return "table"
	case []map[string]any:
		return "array of tables"
	case []any:
		return "array"
	case time.Time:
		return "date-time"
	}
	return "date or time"
}

func article(noun string) string {
	if strings.ContainsRune("aeiou", rune(noun[0])) {
		return "an " + noun
	}
	return "a " + noun
}
