// Package podvm pins the pod VM image that Trustee accepts: it reads the boot measurements that Red Hat
// publishes with the dm-verity pod VM image of each OpenShift sandboxed containers release, and writes the
// chosen PCRs into a values file as global.coco.trustee.referenceValues.podVMPCRs, in place, keeping the rest of
// the file (comments included) as it is.
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

// DefaultPCRs are the vTPM PCRs pinned by default: the boot loader's configuration and code, the unified
// kernel image and the boot events (3, 9, 11, 12), the PCRs the upstream coco-pattern registers for Azure pod
// VMs. PCRs 0 to 2 and 4 to 7 measure the Azure firmware, which Microsoft updates; PCR 8 binds the init-data
// and is computed by the render.
var DefaultPCRs = []int{3, 9, 11, 12}

// Measurements are the sha256 PCR values of a pod VM image, by PCR name (pcr03), lowercase hex.
type Measurements map[string]string

var hexRe = lazyre.New(`^[0-9a-f]{64}$`)

// ReadMeasurements reads the measurements file of the OpenShift sandboxed containers dm-verity pod VM image
// (/image/measurements.json in registry.redhat.io/openshift-sandboxed-containers/osc-dm-verity-image:<release>):
// a JSON object whose measurements.sha256 maps pcrNN to a hex value, with or without the 0x prefix (the
// upstream coco-pattern's scripts/get-pcr.sh reads the same path and strips the prefix).
func ReadMeasurements(data []byte) (Measurements, error) {
	var doc struct {
		Measurements struct {
			SHA256 map[string]any `json:"sha256"`
		} `json:"measurements"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("not the measurements JSON of a pod VM image: %w", err)
	}
	if len(doc.Measurements.SHA256) == 0 {
		return nil, errors.New(`no measurements.sha256 object with PCR values: want {"measurements": {"sha256": {"pcr03": "0x...", ...}}}`)
	}
	out := Measurements{}
	for name, v := range doc.Measurements.SHA256 {
		s, ok := v.(string)
		if !ok {
			return nil, fmt.Errorf("measurements.sha256.%s is not a string of hex digits", name)
		}
		s = strings.ToLower(strings.TrimPrefix(strings.TrimPrefix(strings.TrimSpace(s), "0x"), "0X"))
		if !hexRe.MatchString(s) {
			return nil, fmt.Errorf("measurements.sha256.%s is %q, not a sha256 value (64 hex digits)", name, v)
		}
		out[strings.ToLower(name)] = s
	}
	return out, nil
}

// PCRName is the name of PCR n as values and evidence write it: pcr03.
func PCRName(n int) string { return fmt.Sprintf("pcr%02d", n) }

// Select returns the values of the PCRs pcrs, in order.
func (m Measurements) Select(pcrs []int) ([]PCR, error) {
	var out []PCR
	for _, n := range pcrs {
		if n < 0 || n > 23 {
			return nil, fmt.Errorf("PCR %d does not exist: a vTPM has PCRs 0 to 23", n)
		}
		if n == 8 {
			return nil, errors.New("PCR 8 binds the init-data: cocogen computes its reference values from the rendered profiles")
		}
		v, ok := m[PCRName(n)]
		if !ok {
			return nil, fmt.Errorf("the measurements have no %s (they have %s)", PCRName(n), strings.Join(m.names(), ", "))
		}
		out = append(out, PCR{Name: PCRName(n), Values: []string{v}})
	}
	return out, nil
}

func (m Measurements) names() []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// PCR is one pinned PCR and the values it may hold.
type PCR struct {
	Name   string
	Values []string
}

// Pin returns the values file src (name is how it is shown) with global.coco.trustee.referenceValues.podVMPCRs
// set to pcrs and acceptUnpinnedPodVM removed, each with the comment lines directly above it; the new block
// takes the place of the first one removed, or ends the referenceValues map. With add, values already
// pinned for a PCR are kept beside the new ones (while pods of the old and the new image run). The map must
// be written in block style. The result is parsed again and must hold exactly the pinned values.
func Pin(name string, src []byte, pcrs []PCR, source string, add bool) ([]byte, error) {
	if add {
		tree, err := node.Parse(name, src, node.DefaultLimits)
		if err != nil {
			return nil, err
		}
		pcrs = withPinned(pcrs, tree.Path("global", "coco", "trustee", "referenceValues", "podVMPCRs"))
	}
	out, err := valuesedit.Replace(name, src, []string{"global", "coco", "trustee", "referenceValues"}, []string{"podVMPCRs", "acceptUnpinnedPodVM"},
		"add it (with its expiration) first", func(pad string) string {
			var block strings.Builder
			fmt.Fprintf(&block, "%s# The boot measurements of the pod VM image (%s), written by cocogen podvm pin:\n", pad, source)
			fmt.Fprintf(&block, "%s# Trustee affirms only pod VMs whose vTPM holds one of these values in each PCR.\n", pad)
			fmt.Fprintf(&block, "%spodVMPCRs:\n", pad)
			for _, p := range pcrs {
				// Quoted: a value of hex digits only (zeros, say) would read as a number.
				fmt.Fprintf(&block, "%s  %s: [\"%s\"]\n", pad, p.Name, strings.Join(p.Values, `", "`))
			}
			return block.String()
		})
	if err != nil {
		return nil, err
	}
	if err := check(name, out, pcrs); err != nil {
		return nil, fmt.Errorf("internal error: the edited %s does not read back: %w", name, err)
	}
	return out, nil
}

// withPinned adds to pcrs the values already pinned in podVMPCRs.
func withPinned(pcrs []PCR, pinned *node.Node) []PCR {
	out := slices.Clone(pcrs)
	for i := range out {
		for _, it := range pinned.Get(out[i].Name).Items() {
			if v := it.Scalar(); !slices.Contains(out[i].Values, v) {
				out[i].Values = append(out[i].Values, v)
			}
		}
		slices.Sort(out[i].Values)
	}
	return out
}

// check parses the edited file and compares what it pins with pcrs.
func check(name string, data []byte, pcrs []PCR) error {
	tree, err := node.Parse(name, data, node.DefaultLimits)
	if err != nil {
		return err
	}
	rv := tree.Path("global", "coco", "trustee", "referenceValues")
	if rv.Get("acceptUnpinnedPodVM") != nil {
		return errors.New("acceptUnpinnedPodVM is still set")
	}
	pinned := rv.Get("podVMPCRs")
	if pinned.Len() != len(pcrs) {
		return fmt.Errorf("podVMPCRs has %d PCRs, want %d", pinned.Len(), len(pcrs))
	}
	for _, p := range pcrs {
		var got []string
		for _, it := range pinned.Get(p.Name).Items() {
			got = append(got, it.Scalar())
		}
		if !slices.Equal(got, p.Values) {
			return fmt.Errorf("%s is %v, want %v", p.Name, got, p.Values)
		}
	}
	return nil
}
