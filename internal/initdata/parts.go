package initdata

import (
	"bytes"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"text/template"
	"text/template/parse"

	"github.com/BurntSushi/toml"

	"github.com/cocogen/cocogen/internal/lazyre"
)

// Repository paths of the readable sources of the aa.toml and cdh.toml parts. Errors name them, with lines.
const (
	AATemplatePath  = "policies/initdata/aa.toml.tmpl"
	CDHTemplatePath = "policies/initdata/cdh.toml.tmpl"
)

// PartsData is what the aa.toml and cdh.toml templates may use.
type PartsData struct {
	// KBSURL is the Trustee KBS endpoint the guest attests to and fetches resources from (http or https).
	KBSURL string
	// TrustAnchor is the PEM text of the certificate(s) the guest trusts for the KBS TLS connection: the
	// CA that signs the KBS certificate, or the pinned leaf. Empty in the public-CA mode, where nothing is
	// embedded. RenderParts passes the templates a canonical form: the certificates alone, re-encoded,
	// without a final newline.
	TrustAnchor string
	// SecurityPolicyFlavour names the container image security policy the CDH fetches from the KBS, at
	// kbs:///default/security-policy/<flavour> (the upstream pattern's insecure, signed or reject).
	SecurityPolicyFlavour string
	// RegistryCredentials is the KBS resource URI (kbs:///<repository>/<type>/<tag>) that the CDH fetches the
	// registry credentials of image pulls from, [image] authenticated_registry_credentials_uri of cdh.toml
	// (guest-components v0.21.0 image-rs/src/config.rs ImageConfig; the resource is a container registry auth
	// file, {"auths": {...}}, image-rs/src/auth/mod.rs); "" for none.
	RegistryCredentials string
}

// resourceURIRe is the shape of a KBS resource URI as the CDH fetches it: kbs:/// (no host: the KBS of [kbc])
// and repository/type/tag (guest-components v0.21.0 confidential-data-hub/example.config.toml,
// authenticated_registry_credentials_uri = "kbs:///default/credential/test").
var resourceURIRe = lazyre.New(`^kbs:///[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$`)

// IsResourceURI reports whether s is a KBS resource URI the CDH fetches: kbs:///<repository>/<type>/<tag>.
func IsResourceURI(s string) bool { return resourceURIRe.MatchString(s) }

var flavourRe = lazyre.New(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)

// canonical checks the data and returns the form the templates see.
func (d PartsData) canonical() (PartsData, error) {
	u, err := url.Parse(d.KBSURL)
	switch {
	case d.KBSURL == "":
		return d, errors.New("the KBS URL is empty")
	case err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || strings.ContainsAny(d.KBSURL, "\"'\\ \t\r\n"):
		return d, fmt.Errorf("the KBS URL %q is not an http:// or https:// URL", d.KBSURL)
	case u.RawQuery != "" || u.Fragment != "" || u.User != nil:
		return d, fmt.Errorf("the KBS URL %q has a query, fragment or user part; the guest needs scheme, host, port and path only", d.KBSURL)
	}
	if d.SecurityPolicyFlavour == "" {
		return d, errors.New("the security policy flavour is empty: it names the image security policy resource (e.g. insecure, signed or reject)")
	}
	if !flavourRe.MatchString(d.SecurityPolicyFlavour) {
		return d, fmt.Errorf("the security policy flavour %q is not a KBS resource tag (letters, digits, '.', '_', '-')", d.SecurityPolicyFlavour)
	}
	if d.RegistryCredentials != "" && !IsResourceURI(d.RegistryCredentials) {
		return d, fmt.Errorf("the registry credentials %q are not a KBS resource URI (kbs:///<repository>/<type>/<tag>)", d.RegistryCredentials)
	}
	if strings.TrimSpace(d.TrustAnchor) != "" {
		pemText, err := canonicalPEM(d.TrustAnchor)
		if err != nil {
			return d, fmt.Errorf("trust anchor: %w", err)
		}
		d.TrustAnchor = pemText
	} else {
		d.TrustAnchor = ""
	}
	return d, nil
}

// canonicalPEM parses one or more PEM certificates and re-encodes them, so that only certificates reach the
// guest (never a key pasted into the same file, nor the text openssl prints around a certificate).
func canonicalPEM(text string) (string, error) {
	rest := []byte(strings.TrimSpace(text))
	var out bytes.Buffer
	for n := 1; len(rest) > 0; n++ {
		block, next := pem.Decode(rest)
		if block == nil {
			if n == 1 {
				return "", errors.New("no PEM block found: expected -----BEGIN CERTIFICATE-----")
			}
			return "", fmt.Errorf("unexpected text after PEM block %d", n-1)
		}
		if block.Type != "CERTIFICATE" {
			return "", fmt.Errorf("PEM block %d is a %s, not a CERTIFICATE: only public certificates belong in init-data", n, block.Type)
		}
		if len(block.Headers) > 0 {
			return "", fmt.Errorf("PEM block %d has headers; a certificate has none", n)
		}
		if _, err := x509.ParseCertificate(block.Bytes); err != nil {
			return "", fmt.Errorf("PEM block %d is not a valid X.509 certificate: %w", n, err)
		}
		out.Write(pem.EncodeToMemory(block))
		rest = bytes.TrimSpace(next)
	}
	return strings.TrimSuffix(out.String(), "\n"), nil
}

// RenderParts renders the aa.toml and cdh.toml templates (text/template, missingkey=error) with data, and
// checks that each result is TOML that holds what the guest needs: [token_configs.kbs] url in aa.toml and a
// [kbc] table with name and url in cdh.toml, both equal to the KBS URL. Errors name the template file and,
// for template and TOML errors, the template line.
func RenderParts(aaTmpl, cdhTmpl []byte, data PartsData) (aa, cdh []byte, err error) {
	data, err = data.canonical()
	if err != nil {
		return nil, nil, fmt.Errorf("init-data parts: %w", err)
	}
	aa, err = renderPart(AATemplatePath, string(aaTmpl), data, checkAA)
	if err != nil {
		return nil, nil, err
	}
	cdh, err = renderPart(CDHTemplatePath, string(cdhTmpl), data, checkCDH)
	if err != nil {
		return nil, nil, err
	}
	return aa, cdh, nil
}

func newPartTemplate(name, src string) (*template.Template, error) {
	return template.New(name).Option("missingkey=error").Parse(src)
}

func renderPart(name, src string, data PartsData, check func(map[string]any, PartsData) error) ([]byte, error) {
	t, err := newPartTemplate(name, src)
	if err != nil {
		return nil, err // "template: <name>:<line>: ..."
	}
	var out bytes.Buffer
	if err := t.Execute(&out, data); err != nil {
		return nil, err // "template: <name>:<line>:<col>: executing ..."
	}
	var doc map[string]any
	if _, err := toml.Decode(out.String(), &doc); err != nil {
		var pe toml.ParseError
		if !errors.As(err, &pe) {
			return nil, fmt.Errorf("%s: the output is not TOML: %w", name, err)
		}
		line := templateLine(name, src, data, pe.Position.Start)
		return nil, fmt.Errorf("%s:%d: the output is not TOML: %s (output line %d, column %d: %q)",
			name, line, pe.Message, pe.Position.Line, pe.Position.Col, outputLine(out.String(), pe.Position.Line))
	}
	if err := check(doc, data); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return out.Bytes(), nil
}

func checkAA(doc map[string]any, data PartsData) error {
	tc, _ := doc["token_configs"].(map[string]any)
	kbs, _ := tc["kbs"].(map[string]any)
	u, ok := kbs["url"].(string)
	switch {
	case !ok:
		return errors.New("the output has no [token_configs.kbs] url: the Attestation Agent needs it to reach the KBS")
	case u != data.KBSURL:
		return fmt.Errorf("[token_configs.kbs] url is %q, not the KBS URL %q: write {{ .KBSURL }}", u, data.KBSURL)
	}
	return nil
}

func checkCDH(doc map[string]any, data PartsData) error {
	kbc, ok := doc["kbc"].(map[string]any)
	if !ok {
		return errors.New("the output has no [kbc] table: the Confidential Data Hub refuses a configuration file without it")
	}
	if name, ok := kbc["name"].(string); !ok || name == "" {
		return errors.New(`[kbc] has no name: write name = "cc_kbc"`)
	}
	u, ok := kbc["url"].(string)
	switch {
	case !ok:
		return errors.New("[kbc] has no url: the Confidential Data Hub needs it to reach the KBS")
	case u != data.KBSURL:
		return fmt.Errorf("[kbc] url is %q, not the KBS URL %q: write {{ .KBSURL }}", u, data.KBSURL)
	}
	if data.RegistryCredentials != "" {
		image, _ := doc["image"].(map[string]any)
		if got, _ := image["authenticated_registry_credentials_uri"].(string); got != data.RegistryCredentials {
			return fmt.Errorf("the profile sets registryCredentials, but the output's [image] authenticated_registry_credentials_uri is %q, not %q: write {{ .RegistryCredentials }} there", got, data.RegistryCredentials)
		}
	}
	return nil
}

func outputLine(s string, line int) string {
	lines := strings.Split(s, "\n")
	if line >= 1 && line <= len(lines) {
		return lines[line-1]
	}
	return ""
}

// marker brackets the template line number that templateLine writes into a second rendering.
const marker = '\x00'

// templateLine finds the template line that produced the output byte at offset. It renders the template a
// second time with a marker holding the template line at the start of every text piece and after each of
// its newlines; the last marker before the offending byte names the line. Output that an action wrote (a
// certificate, say) belongs to the line of the action. Returns 0 when it cannot tell.
func templateLine(name, src string, data PartsData, offset int) int {
	t, err := newPartTemplate(name, src)
	if err != nil {
		return 0
	}
	for _, tt := range t.Templates() {
		if tt.Tree != nil && tt.Tree.Root != nil {
			markLines(tt.Tree.Root, src)
		}
	}
	var out bytes.Buffer
	if err := t.Execute(&out, data); err != nil {
		return 0
	}
	m := out.Bytes()
	line, clean := 0, 0
	for i := 0; i < len(m); {
		if m[i] == marker {
			j := bytes.IndexByte(m[i+1:], marker)
			if j < 0 {
				return line
			}
			line, _ = strconv.Atoi(string(m[i+1 : i+1+j]))
			i += j + 2
			continue
		}
		if clean == offset {
			return line
		}
		clean++
		i++
	}
	return line
}

// markLines inserts line markers into every text node under n.
func markLines(n parse.Node, src string) {
	switch n := n.(type) {
	case *parse.ListNode:
		if n == nil {
			return
		}
		for _, c := range n.Nodes {
			markLines(c, src)
		}
	case *parse.TextNode:
		pos := int(n.Pos)
		if pos > len(src) {
			return
		}
		line := 1 + strings.Count(src[:pos], "\n")
		var b []byte
		mark := func(l int) {
			b = append(b, marker)
			b = strconv.AppendInt(b, int64(l), 10)
			b = append(b, marker)
		}
		mark(line)
		for _, c := range n.Text {
			b = append(b, c)
			if c == '\n' {
				line++
				mark(line)
			}
		}
		n.Text = b
	case *parse.IfNode:
		markLines(n.List, src)
		markLines(n.ElseList, src)
	case *parse.RangeNode:
		markLines(n.List, src)
		markLines(n.ElseList, src)
	case *parse.WithNode:
		markLines(n.List, src)
		markLines(n.ElseList, src)
	}
}
