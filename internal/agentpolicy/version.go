package agentpolicy

import (
	"fmt"
	"strconv"

	"github.com/cocogen/cocogen/internal/lazyre"
)

// KataVersion is the Kata Containers release whose agent will load a policy. The zero value means "any
// release cocogen supports": a policy is then checked against the strictest combination (both Rego dialects,
// only the builtins every supported agent has).
type KataVersion struct {
	Major, Minor, Patch int
}

var kataVersionRe = lazyre.New(`^v?([0-9]+)\.([0-9]+)(?:\.([0-9]+))?$`)

// ParseKataVersion reads "3.21.0", "3.21" or "v3.21.0". The empty string gives the zero value.
func ParseKataVersion(s string) (KataVersion, error) {
	if s == "" {
		return KataVersion{}, nil
	}
	m := kataVersionRe.FindStringSubmatch(s)
	if m == nil {
		return KataVersion{}, fmt.Errorf("invalid kata version %q: want MAJOR.MINOR[.PATCH], e.g. 3.21.0", s)
	}
	var v KataVersion
	var err error
	if v.Major, err = strconv.Atoi(m[1]); err != nil {
		return KataVersion{}, fmt.Errorf("invalid kata version %q: %w", s, err)
	}
	if v.Minor, err = strconv.Atoi(m[2]); err != nil {
		return KataVersion{}, fmt.Errorf("invalid kata version %q: %w", s, err)
	}
	if m[3] != "" {
		if v.Patch, err = strconv.Atoi(m[3]); err != nil {
			return KataVersion{}, fmt.Errorf("invalid kata version %q: %w", s, err)
		}
	}
	return v, nil
}

// IsZero reports whether no release was given.
func (v KataVersion) IsZero() bool { return v == KataVersion{} }

func (v KataVersion) String() string {
	if v.IsZero() {
		return "any supported kata release"
	}
	return fmt.Sprintf("%d.%d.%d", v.Major, v.Minor, v.Patch)
}

// Less reports whether v is an older release than w.
func (v KataVersion) Less(w KataVersion) bool {
	if v.Major != w.Major {
		return v.Major < w.Major
	}
	if v.Minor != w.Minor {
		return v.Minor < w.Minor
	}
	return v.Patch < w.Patch
}

// Releases at which the agent's Rego engine changed (kata-containers src/agent/Cargo.toml, later
// src/agent/policy/Cargo.toml, read at each tag):
//
//	kata            regorus in the agent                        features                         dialect
//	< 3.5.0         none: the guest ran OPA itself               —                                —
//	3.5.0–3.10.x    0.1.4 (crates.io)                            arc, regex                       v0
//	3.11.0–3.13.x   0.2.6                                        arc, regex, std                  v0
//	3.14.0–3.27.x   0.2.8                                        arc, regex, std                  v0
//	3.28.0–3.29.x   0.2.8                                        + base64, base64url              v0
//	≥ 3.30.0        git 8986431 (≈0.9.1 + microsoft/regorus#624)  arc, base64, base64url, regex, std  v1
//
// "v0" means the agent never calls Engine::set_rego_v1, and regorus before 0.3 parses Rego v0 unless a module
// imports rego.v1 (or future.keywords.*). From 0.3 on regorus parses v1 by default and the agent never calls
// Engine::set_rego_v0, so v0-only syntax (a rule body without `if`) is a parse error.
var (
	firstRegorusRelease = KataVersion{3, 5, 0}
	firstRegoV1Release  = KataVersion{3, 30, 0}
)

// acceptsV0 reports whether the agent of release v parses policies as Rego v0 (so a policy must parse as v0).
func acceptsV0(v KataVersion) bool { return v.IsZero() || v.Less(firstRegoV1Release) }
