package metadata

import (
	"fmt"
	"strings"

	"github.com/cocogen/cocogen/internal/diag"
	"github.com/cocogen/cocogen/internal/lazyre"
	"github.com/cocogen/cocogen/internal/node"
	"github.com/cocogen/cocogen/internal/schema"
	"github.com/cocogen/cocogen/internal/srcpos"
)

// The confidential VM sizes that peer pods may use are choices, so they live in values (upstream's
// global.coco.azure.defaultVMFlavour and global.coco.azure.VMFlavours), not in metadata. The helpers below check
// them where they are read, with positions, and `cocogen metadata check --azure` checks them against Azure.

// VMSize is one Azure VM size name with the position it was read from.
type VMSize struct {
	Name string
	Pos  srcpos.Pos
}

// vmSizeRe is the one rule for an Azure VM size name in cocogen (values, metadata check, --size), as the
// compute API and its resource SKUs spell it: the tier, Standard (the Basic tier has no confidential sizes,
// which are all peer pods may use), then the size in the naming convention of
// learn.microsoft.com/azure/virtual-machines/vm-naming-conventions: family, sub-family, vCPUs, an optional
// constrained vCPU count after a hyphen (learn.microsoft.com/azure/virtual-machines/constrained-vcpu:
// Standard_E4-2ds_v4), additive features, then _-separated accelerator and version (Standard_DC2as_v5,
// Standard_DC4es_v6, Standard_NCC40ads_H100_v5).
var vmSizeRe = lazyre.New(`^Standard_[A-Za-z0-9]+(-[A-Za-z0-9]+)?(_[A-Za-z0-9]+)*$`)

// VMSizeRule describes vmSizeRe in messages.
const VMSizeRule = "an Azure VM size name as the compute API spells it (Standard_<family><vCPUs><features>_<version>, e.g. Standard_DC2as_v5)"

// IsVMSizeName reports whether s has the shape of an Azure VM size name (the one rule: vmSizeRe).
func IsVMSizeName(s string) bool { return vmSizeRe.MatchString(s) }

// CheckVMSize reads one VM size (global.coco.azure.defaultVMFlavour). A null or missing node gives ok false
// without a diagnostic: the caller decides whether the size is required.
func CheckVMSize(n *node.Node, path string, d *diag.List) (VMSize, bool) {
	if n.IsNull() {
		return VMSize{}, false
	}
	if n.Kind != node.String {
		d.Errorf(n.Pos, path, "must be a VM size name, not a %s", n.Kind)
		return VMSize{}, false
	}
	s := VMSize{Name: n.Text, Pos: n.Pos}
	if strings.Contains(n.Text, ",") {
		d.Errorf(n.Pos, path, "%q is a list: the default is one VM size (e.g. Standard_DC2as_v5)", n.Text)
		return VMSize{}, false
	}
	return s, checkVMSizeName(s, path, d)
}

// CheckVMSizeList reads the VM sizes peer pods may use (global.coco.azure.VMFlavours): upstream's
// comma-separated string ("Standard_DC2as_v5,Standard_DC4as_v5") or a YAML list of names. Every problem is
// reported into d (spaces around the commas, empty entries, names that are not VM sizes; repeated names are
// warnings); ok is false when there was an error. An empty string or null is an empty list: peer pods then
// use the default size only.
func CheckVMSizeList(n *node.Node, path string, d *diag.List) ([]VMSize, bool) {
	if n.IsNull() {
		return nil, true
	}
	var out []VMSize
	ok := true
	switch n.Kind {
	case node.String:
		if n.Text == "" {
			return nil, true
		}
		if strings.ContainsAny(n.Text, " \t") {
			d.Errorf(n.Pos, path, "%q has spaces: the cloud-api-adaptor splits AZURE_INSTANCE_SIZES on commas without trimming, so a size after a space never matches; write %q",
				n.Text, strings.Join(strings.Fields(strings.ReplaceAll(n.Text, ",", " ")), ","))
			return nil, false
		}
		for i, name := range strings.Split(n.Text, ",") {
			if name == "" {
				d.Errorf(n.Pos, path, "%q has an empty entry (entry %d): remove the extra comma", n.Text, i+1)
				ok = false
				continue
			}
			s := VMSize{Name: name, Pos: n.Pos}
			if checkVMSizeName(s, path, d) {
				out = append(out, s)
			} else {
				ok = false
			}
		}
	case node.List:
		for i, it := range n.Items() {
			p := schema.Index(path, i)
			if it.Kind != node.String {
				d.Errorf(it.Pos, p, "must be a VM size name, not a %s", it.Kind)
				ok = false
				continue
			}
			if strings.Contains(it.Text, ",") {
				d.Errorf(it.Pos, p, "%q: write one VM size per list item", it.Text)
				ok = false
				continue
			}
			s := VMSize{Name: it.Text, Pos: it.Pos}
			if checkVMSizeName(s, p, d) {
				out = append(out, s)
			} else {
				ok = false
			}
		}
	default:
		d.Errorf(n.Pos, path, "must be a comma-separated string of VM sizes (e.g. \"Standard_DC2as_v5,Standard_DC4as_v5\") or a list, not a %s", n.Kind)
		return nil, false
	}
	seen := map[string]bool{}
	for _, s := range out {
		if seen[s.Name] {
			d.Warnf(s.Pos, path, "%s is listed twice", s.Name)
		}
		seen[s.Name] = true
	}
	return out, ok
}

func checkVMSizeName(s VMSize, path string, d *diag.List) bool {
	if strings.TrimSpace(s.Name) != s.Name || s.Name == "" {
		d.Errorf(s.Pos, path, "%q has spaces: write the VM size name alone", s.Name)
		return false
	}
	if !vmSizeRe.MatchString(s.Name) {
		msg := fmt.Sprintf("%q is not %s", s.Name, VMSizeRule)
		if rest, ok := cutPrefixFold(s.Name, "standard_"); ok && vmSizeRe.MatchString("Standard_"+rest) {
			msg += fmt.Sprintf("; did you mean %q?", "Standard_"+rest)
		}
		d.Errorf(s.Pos, path, "%s", msg)
		return false
	}
	return true
}

func cutPrefixFold(s, prefix string) (string, bool) {
	if len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix) {
		return s[len(prefix):], true
	}
	return s, false
}

// CheckDefaultVMSize reports an error when the default size is not among the allowed sizes: the
// cloud-api-adaptor refuses an instance type outside a non-empty AZURE_INSTANCE_SIZES, the default included.
// An empty allowed list allows the default alone.
func CheckDefaultVMSize(def VMSize, defPath string, allowed []VMSize, d *diag.List) bool {
	if len(allowed) == 0 {
		return true
	}
	names := make([]string, len(allowed))
	for i, s := range allowed {
		if s.Name == def.Name {
			return true
		}
		names[i] = s.Name
	}
	d.Errorf(def.Pos, defPath, "%s is not among the allowed VM sizes (%s): peer pods could not start with the default size; add it to the list or choose one of them",
		def.Name, strings.Join(names, ","))
	return false
}

// JoinVMSizes writes sizes as peer-pods-cm AZURE_INSTANCE_SIZES wants them: comma-separated, no spaces.
func JoinVMSizes(sizes []VMSize) string {
	names := make([]string, len(sizes))
	for i, s := range sizes {
		names[i] = s.Name
	}
	return strings.Join(names, ",")
}
