package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/cocogen/cocogen/internal/initdata"
)

// initDataFormats are the output formats of the initdata commands.
var initDataFormats = []string{"text", "json"}

// decodedItem is one decoded value and where it came from. `initdata decode` prints a list of them; any command
// that shows init-data (a rendered profile, say) builds them the same way and prints them with writeDecoded.
type decodedItem struct {
	// Source says what the value came from: a file name, or an object and its field.
	Source string
	// Field is the Kubernetes field the value was read from; nil for a file that holds the value alone.
	Field *initdata.Field
	// EncodedSize is the length of the encoded text (0 when the input was the readable TOML).
	EncodedSize int
	// Exactly one of InitData and Policy is set.
	InitData *initdata.Decoded
	Policy   *string // the Rego text of an agent policy annotation
}

// writeDecoded prints decoded values as text (a header per value, then its readable content byte for byte)
// or as a JSON array.
func writeDecoded(w io.Writer, format string, items []decodedItem) error {
	switch format {
	case "json":
		out := make([]decodedJSON, len(items))
		for i, it := range items {
			out[i] = it.json()
		}
		return writeJSON(w, out)
	case "text":
		var b strings.Builder
		for i, it := range items {
			if i > 0 {
				b.WriteByte('\n')
			}
			it.writeText(&b)
		}
		_, err := io.WriteString(w, b.String())
		return err
	}
	return fmt.Errorf("unknown output format %q (valid: %s)", format, strings.Join(initDataFormats, ", "))
}

func (it decodedItem) encoding() string {
	if it.Policy != nil {
		return "base64"
	}
	return string(it.InitData.Encoding)
}

func (it decodedItem) writeText(b *strings.Builder) {
	fmt.Fprintf(b, "==> %s <==\n", it.Source)
	if it.EncodedSize > 0 {
		fmt.Fprintf(b, "%-15s %s (%d bytes)\n", "encoding", it.encoding(), it.EncodedSize)
	} else {
		fmt.Fprintf(b, "%-15s %s\n", "encoding", it.encoding())
	}
	var content string
	if it.Policy != nil {
		content = *it.Policy
		fmt.Fprintf(b, "%-15s agent policy (Rego), %d bytes\n", "content", len(content))
	} else {
		d := it.InitData
		content = string(d.TOML)
		fmt.Fprintf(b, "%-15s init-data %s, %d bytes of TOML\n", "content", d.Version, len(d.TOML))
		var keys []string
		for _, e := range d.Data {
			keys = append(keys, fmt.Sprintf("%s (%d bytes)", e.Key, len(e.Value)))
		}
		if len(keys) == 0 {
			keys = []string{"(empty)"}
		}
		fmt.Fprintf(b, "%-15s %s\n", "data", strings.Join(keys, ", "))
		writeDigestLines(b, d.Digests)
	}
	b.WriteByte('\n')
	b.WriteString(content)
	if !strings.HasSuffix(content, "\n") {
		b.WriteByte('\n')
	}
}

// writeDigestLines prints the digests one per line, the raw digest under the name of its algorithm.
func writeDigestLines(b *strings.Builder, d initdata.Digests) {
	fmt.Fprintf(b, "%-15s %s\n", "algorithm", d.Algorithm)
	fmt.Fprintf(b, "%-15s %s\n", d.Algorithm, d.Digest)
	fmt.Fprintf(b, "%-15s %s\n", "snp-host-data", d.SNPHostData)
	fmt.Fprintf(b, "%-15s %s\n", "tdx-mrconfigid", d.TDXMRConfigID)
	fmt.Fprintf(b, "%-15s %s\n", "azure-pcr8", d.AzurePCR8)
}

// writeDigests prints the digests of one document as text or as a JSON object.
func writeDigests(w io.Writer, format string, d initdata.Digests) error {
	switch format {
	case "json":
		return writeJSON(w, d)
	case "text":
		var b strings.Builder
		writeDigestLines(&b, d)
		_, err := io.WriteString(w, b.String())
		return err
	}
	return fmt.Errorf("unknown output format %q (valid: %s)", format, strings.Join(initDataFormats, ", "))
}

// decodedJSON is the JSON form of a decodedItem.
type decodedJSON struct {
	Source      string            `json:"source"`
	Kind        string            `json:"kind,omitempty"`
	Namespace   string            `json:"namespace,omitempty"`
	Name        string            `json:"name,omitempty"`
	Field       string            `json:"field,omitempty"`
	Content     initdata.Content  `json:"content"`
	Encoding    string            `json:"encoding"`
	EncodedSize int               `json:"encodedSize,omitempty"`
	Version     string            `json:"version,omitempty"`
	Algorithm   string            `json:"algorithm,omitempty"`
	Digests     *initdata.Digests `json:"digests,omitempty"`
	Data        []initdata.Entry  `json:"data,omitempty"`
	TOML        string            `json:"toml,omitempty"`
	Rego        string            `json:"rego,omitempty"`
}

func (it decodedItem) json() decodedJSON {
	out := decodedJSON{Source: it.Source, Encoding: it.encoding(), EncodedSize: it.EncodedSize}
	if f := it.Field; f != nil {
		out.Kind, out.Namespace, out.Name, out.Field = f.Kind, f.Namespace, f.Name, f.Path
	}
	if it.Policy != nil {
		out.Content, out.Rego = initdata.ContentAgentPolicy, *it.Policy
		return out
	}
	d := it.InitData
	out.Content = initdata.ContentInitData
	out.Version, out.Algorithm, out.TOML = d.Version, string(d.Algorithm), string(d.TOML)
	digests := d.Digests
	out.Digests = &digests
	out.Data = d.Data
	return out
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
