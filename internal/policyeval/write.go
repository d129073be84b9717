package policyeval

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/cocogen/cocogen/internal/trusteepolicy"
)

// Formats are the output formats of the eval commands.
var Formats = []string{"text", "json"}

// WriteAgent writes an agent decision: in text, the decision on the first line, then the rule that decided
// and what the policy printed; in json, the AgentResult.
func WriteAgent(w io.Writer, format string, r *AgentResult) error {
	if format == "json" {
		return writeJSON(w, r)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %s\n", r.Request, r.Decision)
	fmt.Fprintf(&b, "  profile: %s\n", r.Profile)
	switch {
	case r.Rule != nil && r.Rule.Default:
		fmt.Fprintf(&b, "  decided by the default: %s:%d: %s\n", r.Rule.File, r.Rule.Line, r.Rule.Text)
	case r.Rule != nil:
		fmt.Fprintf(&b, "  decided by the rule at %s:%d: %s\n", r.Rule.File, r.Rule.Line, r.Rule.Text)
	}
	if r.Problem != "" {
		fmt.Fprintf(&b, "  problem: %s\n", r.Problem)
	}
	if r.AllowFailures {
		b.WriteString("  allowed only because AllowRequestsFailingPolicy is true\n")
	}
	if _, isBool := r.Value.(bool); r.Value != nil && !isBool {
		fmt.Fprintf(&b, "  value: %s\n", compact(r.Value))
	}
	if !r.Allowed && r.Problem == "" {
		// The agent's answer to the host (src/agent/src/policy.rs): PERMISSION_DENIED with the prints.
		fmt.Fprintf(&b, "  the agent answers PERMISSION_DENIED: %q\n", r.Request+" is blocked by policy: "+strings.Join(r.Prints, " "))
	} else if len(r.Prints) > 0 {
		fmt.Fprintf(&b, "  printed: %s\n", strings.Join(r.Prints, " "))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// WriteTrustee writes a Trustee decision: in text, released or denied with the reason, the trust vector,
// the profile the token names and the readers of the resource, then the token claims the resource policy
// sees; in json, the TrusteeResult.
func WriteTrustee(w io.Writer, format string, r *TrusteeResult) error {
	if format == "json" {
		return writeJSON(w, r)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %s\n", r.Resource, r.Decision)
	if r.InitData != "" {
		fmt.Fprintf(&b, "  guest: init-data %s (for profile %s) on %s\n", r.InitData, r.Profile, r.TEE)
	} else {
		fmt.Fprintf(&b, "  guest: profile %s on %s\n", r.Profile, r.TEE)
	}
	fmt.Fprintf(&b, "  reason: %s\n", r.Reason)
	if r.Token != nil {
		var parts []string
		for _, k := range trusteepolicy.ClaimNames {
			if v, ok := r.TrustVector[k]; ok && v != 0 || slices.Contains([]string{"executables", "hardware", "configuration"}, k) {
				parts = append(parts, fmt.Sprintf("%s %d (%s)", k, v, trusteepolicy.Tier(v)))
			}
		}
		fmt.Fprintf(&b, "  trust vector: %s; the others make no claim\n", strings.Join(parts, ", "))
		fmt.Fprintf(&b, "  ear.status: %s\n", r.Status)
		if r.GPU != nil {
			fmt.Fprintf(&b, "  gpu0 trust vector: %s; the others make no claim\n", vectorText(r.GPU.TrustVector))
			fmt.Fprintf(&b, "  gpu0 ear.status: %s\n", r.GPU.Status)
		}
		profile := r.TokenProfile
		if profile == "" {
			profile = "(none)"
		}
		fmt.Fprintf(&b, "  %s: %s\n", trusteepolicy.ProfileClaim, profile)
		readers := strings.Join(r.Readers, ", ")
		if readers == "" {
			readers = "(none)"
		}
		fmt.Fprintf(&b, "  readers of %s: %s\n", r.Resource, readers)
		if len(r.Requires) > 0 {
			fmt.Fprintf(&b, "  %s requires the evidence of: %s\n", r.Resource, strings.Join(r.Requires, ", "))
		}
		b.WriteString("token claims (the resource policy's input):\n")
		var tok bytes.Buffer
		enc := json.NewEncoder(&tok)
		enc.SetEscapeHTML(false)
		enc.SetIndent("  ", "  ")
		if err := enc.Encode(r.Token); err != nil {
			return err
		}
		b.WriteString("  " + tok.String())
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// vectorText is a trust vector as the text output shows it: executables, hardware and configuration always,
// the other claims when they are set.
func vectorText(vector map[string]int64) string {
	var parts []string
	for _, k := range trusteepolicy.ClaimNames {
		if v, ok := vector[k]; ok && v != 0 || slices.Contains([]string{"executables", "hardware", "configuration"}, k) {
			parts = append(parts, fmt.Sprintf("%s %d (%s)", k, v, trusteepolicy.Tier(v)))
		}
	}
	return strings.Join(parts, ", ")
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func compact(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}
