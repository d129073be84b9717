package podvm

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/cocogen/cocogen/internal/lazyre"
	"github.com/cocogen/cocogen/internal/node"
	"github.com/cocogen/cocogen/internal/valuesedit"
)

// LaunchPin is one bare-metal launch measurement key of global.coco.trustee.referenceValues and the values it
// accepts (sha384, 96 lowercase hex digits).
type LaunchPin struct {
	Key    string // snpLaunchMeasurements, tdxMRTD, tdxRTMR1, tdxRTMR2
	Values []string
}

// launchKeys maps each TEE's fields of a firmware reference values file to the values keys they are pinned
// as: the SEV-SNP launch measurement (firmware, kernel, initrd and command line in one digest), the TDX MR_TD
// (firmware) and RTMR 1 (kernel, initrd) and RTMR 2 (command line). The field names are those of the
// firmware reference values that veritas (confidential-devhub/veritas) computes from an OpenShift release's
// kata-containers and edk2-ovmf packages, as validatedpatterns/coco-pattern docs/firmware-reference-values.md
// lists them.
var launchKeys = map[string][][2]string{
	"snp": {{"snp_launch_measurement", "snpLaunchMeasurements"}},
	"tdx": {{"mr_td", "tdxMRTD"}, {"rtmr_1", "tdxRTMR1"}, {"rtmr_2", "tdxRTMR2"}},
}

// LaunchTEEs are the TEEs whose launch measurements ReadLaunch reads.
var LaunchTEEs = []string{"snp", "tdx"}

var sha384Re = lazyre.New(`^[0-9a-f]{96}$`)

// ReadLaunch reads the launch measurements of a bare-metal pod VM for tee from a firmware reference values
// file: a JSON object whose fields (snp_launch_measurement; mr_td, rtmr_1, rtmr_2) hold a hex value or a list
// of them (one per kernel command line variant), with or without 0x. Other fields are ignored; the first
// field of the TEE (the launch measurement, MR_TD) is required, the RTMRs are pinned when present.
func ReadLaunch(data []byte, tee string) ([]LaunchPin, error) {
	keys, ok := launchKeys[tee]
	if !ok {
		return nil, fmt.Errorf("unknown TEE %q (valid: %s)", tee, strings.Join(LaunchTEEs, ", "))
	}
	var doc map[string]any
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("not a firmware reference values JSON object: %w", err)
	}
	var out []LaunchPin
	for i, k := range keys {
		v, ok := doc[k[0]]
		if !ok {
			if i == 0 {
				return nil, fmt.Errorf("no %s field: want the firmware reference values of a %s pod VM, e.g. {%q: [\"<96 hex digits>\"]}", k[0], strings.ToUpper(tee), k[0])
			}
			continue
		}
		var raw []any
		switch x := v.(type) {
		case string:
			raw = []any{x}
		case []any:
			raw = x
		}
		if len(raw) == 0 {
			return nil, fmt.Errorf("%s is not a hex value or a list of them", k[0])
		}
		pin := LaunchPin{Key: k[1]}
		for _, r := range raw {
			s, ok := r.(string)
			s = strings.ToLower(strings.TrimPrefix(strings.TrimPrefix(strings.TrimSpace(s), "0x"), "0X"))
			if !ok || !sha384Re.MatchString(s) {
				return nil, fmt.Errorf("%s holds %v, not a sha384 value (96 hex digits)", k[0], r)
			}
			if !slices.Contains(pin.Values, s) {
				pin.Values = append(pin.Values, s)
			}
		}
		slices.Sort(pin.Values)
		out = append(out, pin)
	}
	return out, nil
}

// PinLaunch returns the values file src with the launch measurement keys of pins set (replacing what they
// held, or, with add, beside it), each other line kept. acceptUnpinnedPodVM stays: the attestation policy
// ignores it for a TEE whose measurements are pinned, and other TEEs or Azure pod VMs may still rely on it.
func PinLaunch(name string, src []byte, tee string, pins []LaunchPin, source string, add bool) ([]byte, error) {
	if len(pins) == 0 {
		return nil, errors.New("nothing to pin")
	}
	path := []string{"global", "coco", "trustee", "referenceValues"}
	if add {
		tree, err := node.Parse(name, src, node.DefaultLimits)
		if err != nil {
			return nil, err
		}
		rv := tree.Path(path...)
		for i := range pins {
			for _, it := range rv.Get(pins[i].Key).Items() {
				if v := it.Scalar(); !slices.Contains(pins[i].Values, v) {
					pins[i].Values = append(pins[i].Values, v)
				}
			}
			slices.Sort(pins[i].Values)
		}
	}
	var drop []string
	for _, k := range launchKeys[tee] {
		drop = append(drop, k[1])
	}
	out, err := valuesedit.Replace(name, src, path, drop, "add it (with its expiration) first", func(pad string) string {
		var b strings.Builder
		fmt.Fprintf(&b, "%s# The launch measurements of the %s pod VM (%s), written by cocogen podvm pin --tee %s:\n", pad, strings.ToUpper(tee), source, tee)
		fmt.Fprintf(&b, "%s# Trustee affirms only pod VMs that launched with one of these values in each.\n", pad)
		for _, p := range pins {
			fmt.Fprintf(&b, "%s%s: [\"%s\"]\n", pad, p.Key, strings.Join(p.Values, `", "`))
		}
		return b.String()
	})
	if err != nil {
		return nil, err
	}
	tree, err := node.Parse(name, out, node.DefaultLimits)
	if err != nil {
		return nil, fmt.Errorf("internal error: the edited %s does not parse: %w", name, err)
	}
	for _, p := range pins {
		var got []string
		for _, it := range tree.Path(path...).Get(p.Key).Items() {
			got = append(got, it.Scalar())
		}
		if !slices.Equal(got, p.Values) {
			return nil, fmt.Errorf("internal error: the edited %s has %s %v, want %v", name, p.Key, got, p.Values)
		}
	}
	return out, nil
}
