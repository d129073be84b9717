// Package collect gathers cluster facts for a metadata file: from the cloud controller's cloud.conf (a file,
// or the ConfigMap of a live cluster) and from the OpenShift config objects of a live cluster (platform, apps
// domain, version). It returns them as metadata overrides positioned at their source, so that
// metadata.Load validates them with diagnostics that point at cloud.conf:line:col or at the object they came
// from.
package collect

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"

	"github.com/cocogen/cocogen/internal/diag"
	"github.com/cocogen/cocogen/internal/metadata"
	"github.com/cocogen/cocogen/internal/srcpos"
)

// cloudConfKeys maps the cloud.conf keys cocogen reads to metadata facts. Every other key (credentials
// included) is ignored and never printed.
var cloudConfKeys = map[string]string{
	"cloud":             "azure.cloud",
	"subscriptionId":    "azure.subscriptionId",
	"tenantId":          "azure.tenantId",
	"location":          "azure.location",
	"resourceGroup":     "azure.resourceGroup",
	"vnetResourceGroup": "azure.vnetResourceGroup",
	"vnetName":          "azure.vnetName",
	"subnetName":        "azure.subnetName",
	"securityGroupName": "azure.securityGroupName",
}

// cloudConfOrder is the order of the facts returned (the order of the metadata file).
var cloudConfOrder = []string{"cloud", "subscriptionId", "tenantId", "location", "resourceGroup",
	"vnetResourceGroup", "vnetName", "subnetName", "securityGroupName"}

// CloudConf reads the Azure facts of a cloud.conf (the JSON in ConfigMap
// openshift-cloud-controller-manager/cloud-conf, key cloud.conf). name is how the file is shown in
// diagnostics; each fact is positioned at its value in the file. Empty values are left out (an unknown fact).
func CloudConf(name string, data []byte) ([]metadata.Override, *diag.List) {
	d := &diag.List{}
	values, err := scanObject(data)
	if err != nil {
		var se *scanError
		pos := srcpos.Pos{File: name}
		if errors.As(err, &se) {
			pos.Line, pos.Col = lineCol(data, se.offset)
		}
		d.Errorf(pos, "", "not a cloud.conf: %v", err)
		return nil, d
	}
	var out []metadata.Override
	for _, key := range cloudConfOrder {
		v, ok := values[key]
		if !ok {
			continue
		}
		line, col := lineCol(data, v.offset)
		pos := srcpos.Pos{File: name, Line: line, Col: col}
		var s string
		if err := json.Unmarshal(v.raw, &s); err != nil {
			if string(v.raw) == "null" {
				continue
			}
			d.Errorf(pos, key, "must be a string, not %s", v.raw)
			continue
		}
		if s == "" {
			continue
		}
		out = append(out, metadata.Override{Path: cloudConfKeys[key], Value: s, Pos: pos})
	}
	if len(out) == 0 && !d.HasErrors() {
		d.Errorf(srcpos.Pos{File: name}, "", "holds none of the Azure keys cocogen reads (%s): is it the Azure cloud.conf?", joinKeys())
	}
	return out, d
}

func joinKeys() string {
	var b bytes.Buffer
	for i, k := range cloudConfOrder {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(k)
	}
	return b.String()
}

type jsonValue struct {
	raw    json.RawMessage
	offset int // of the value's first byte
}

type scanError struct {
	offset int
	msg    string
}

func (e *scanError) Error() string { return e.msg }

// scanObject reads a JSON object and returns its members with the offset of each value, so that diagnostics
// can name line and column. The last of two equal keys wins, as in encoding/json.
func scanObject(data []byte) (map[string]jsonValue, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	tok, err := dec.Token()
	if err != nil {
		return nil, syntaxError(data, dec, err)
	}
	if delim, ok := tok.(json.Delim); !ok || delim != '{' {
		return nil, &scanError{offset: skipSpace(data, 0), msg: "the JSON must be an object ({...})"}
	}
	out := map[string]jsonValue{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, syntaxError(data, dec, err)
		}
		key, _ := tok.(string) // object keys are strings, or Token fails
		start := valueStart(data, int(dec.InputOffset()))
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, syntaxError(data, dec, err)
		}
		out[key] = jsonValue{raw: raw, offset: start}
	}
	if _, err := dec.Token(); err != nil {
		return nil, syntaxError(data, dec, err)
	}
	end := int(dec.InputOffset())
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, &scanError{offset: skipSpace(data, end), msg: "text after the JSON object"}
	}
	return out, nil
}

func syntaxError(data []byte, dec *json.Decoder, err error) error {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		// A Decoder's offsets are not always from the start of the input; Unmarshal's are, and name the
		// byte after the offending one.
		var v any
		if uerr := json.Unmarshal(data, &v); errors.As(uerr, &se) {
			return &scanError{offset: int(se.Offset) - 1, msg: "invalid JSON: " + se.Error()}
		}
		return &scanError{offset: int(dec.InputOffset()), msg: "invalid JSON: " + err.Error()}
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return &scanError{offset: int(dec.InputOffset()), msg: "invalid JSON: unexpected end"}
	}
	return &scanError{offset: int(dec.InputOffset()), msg: "invalid JSON: " + err.Error()}
}

// valueStart skips the white space and the colon between a key and its value.
func valueStart(data []byte, i int) int {
	for i < len(data) && (data[i] == ':' || isSpace(data[i])) {
		i++
	}
	return i
}

func skipSpace(data []byte, i int) int {
	for i < len(data) && isSpace(data[i]) {
		i++
	}
	return i
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// lineCol turns a byte offset into a 1-based line and column (in characters, a tab counting as one).
func lineCol(data []byte, offset int) (line, col int) {
	offset = min(max(offset, 0), len(data))
	line = 1 + bytes.Count(data[:offset], []byte("\n"))
	lineStart := bytes.LastIndexByte(data[:offset], '\n') + 1
	return line, len([]rune(string(data[lineStart:offset]))) + 1
}
