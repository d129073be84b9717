package model

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/cocogen/cocogen/internal/initdata"
	"github.com/cocogen/cocogen/internal/lazyre"
	"github.com/cocogen/cocogen/internal/metadata"
	"github.com/cocogen/cocogen/internal/node"
	"github.com/cocogen/cocogen/internal/schema"
	"github.com/cocogen/cocogen/internal/srcpos"
)

// CoCo is global.coco: the Confidential Containers choices of the pattern. Names that the upstream
// coco-pattern already uses (securityPolicyFlavour, azure.defaultVMFlavour, azure.VMFlavours) keep their
// meaning; cocogen's own choices sit beside them.
type CoCo struct {
	Tree *node.Node
	// SecurityPolicyFlavour names the container image signature policy the guest fetches from the KBS:
	// kbs:///default/security-policy/<flavour>.
	SecurityPolicyFlavour string
	FlavourPos            srcpos.Pos
	Azure                 CoCoAzure
	// BareMetal are the choices of a cluster whose own hosts run the pod VMs (Intel TDX, AMD SEV-SNP).
	BareMetal CoCoBareMetal
	InitData  InitDataChoices
	Trustee   Trustee
	// Rollout says how changes reach the running cloud-api-adaptor and KBS (global.coco.rollout).
	Rollout Rollout
	// SidecarImage is the cocogen sidecar image that a hub's ACM policies give the Argo CD instance of each
	// managed cluster (global.coco.sidecarImage; the image of `cocogen bootstrap --image`).
	SidecarImage    string
	SidecarImagePos srcpos.Pos
}

// CoCoAzure are the Azure peer-pod choices.
type CoCoAzure struct {
	// DefaultVMFlavour is the confidential VM size of a peer pod that asks for none.
	DefaultVMFlavour string
	DefaultPos       srcpos.Pos
	// VMFlavours are the sizes pods may ask for (the upstream comma-separated string, or a list).
	VMFlavours  []string
	FlavoursPos srcpos.Pos
	Tags        *node.Node // map of Azure resource tags for the peer-pod VMs
	// RootVolumeSize is the peer-pod VM's root disk in GiB (nil: the operator's default).
	RootVolumeSize *node.Node
}

// CoCoBareMetal are the bare-metal choices (global.coco.baremetal).
type CoCoBareMetal struct {
	Pos srcpos.Pos
	// DefaultMemory is the pod VM's memory in MiB (the io.katacontainers.config.hypervisor.default_memory
	// annotation of every confidential pod that sets none); 0 leaves the runtime's default.
	DefaultMemory int64
	MemoryPos     srcpos.Pos
	// Storage is the local storage operator whose cluster object the host application renders: lvms (an
	// LVMCluster), hpp (a HostPathProvisioner) or none.
	Storage    string
	StoragePos srcpos.Pos
	// MachineConfigRoles are the machine config pools whose hosts get the TEE kernel arguments (default
	// worker; add master on a compact cluster).
	MachineConfigRoles []string
	// TDXCollateralService is where Trustee's TDX verifier fetches Intel's collateral (Intel's PCS itself,
	// the default, or a PCCS that caches it, e.g. in a disconnected cluster).
	TDXCollateralService    string
	TDXCollateralServicePos srcpos.Pos
	// NVIDIAVerifier is how Trustee verifies NVIDIA GPU evidence (NVIDIAVerifiers): local, against NVIDIA's
	// device root built into Trustee, or remote, by NVIDIA's remote attestation service (NRAS), which needs a
	// licence agreement with NVIDIA and reports the GPU's secure boot and debug state.
	NVIDIAVerifier    string
	NVIDIAVerifierPos srcpos.Pos
}

// NVIDIAVerifiers are the verifier types of Trustee's NVIDIA verifier (trustee v0.21.0
// deps/verifier/src/nvidia/mod.rs, NvidiaVerifierType: Local, the default, or Remote).
var NVIDIAVerifiers = []string{"local", "remote"}

// Bare-metal storage choices.
var BareMetalStorages = []string{"lvms", "hpp", "none"}

// DefaultTDXCollateralService is Intel's Provisioning Certification Service, Trustee's own default
// (trustee v0.21.0 deps/verifier/src/intel_dcap/mod.rs INTEL_PCS_URL).
const DefaultTDXCollateralService = "https://api.trustedservices.intel.com/sgx/certification/v4/"

// InitDataChoices say which init-data profiles exist.
type InitDataChoices struct {
	// Default is the profile peer pods get when a pod names none (peer-pods-cm INITDATA).
	Default    string
	DefaultPos srcpos.Pos
	Profiles   []Profile
}

// Profile is one init-data profile: an agent policy, the aa.toml and cdh.toml templates and a hash algorithm.
type Profile struct {
	Name        string
	Pos         srcpos.Pos
	AgentPolicy string // a file name under policies/agent/, without .rego
	PolicyPos   srcpos.Pos
	Algorithm   string
	AA          string // repository path of the aa.toml template
	CDH         string // repository path of the cdh.toml template
	// ExecAllowList are extra exact argv that the profile's policy lets the host exec.
	ExecAllowList []ExecCommand
	// RegistryCredentials is the KBS resource (kbs:///<repository>/<type>/<tag>) the guest's image pulls take
	// registry credentials from (cdh.toml [image] authenticated_registry_credentials_uri); "" for none.
	RegistryCredentials    string
	RegistryCredentialsPos srcpos.Pos
}

// ExecCommand is one allowed argv.
type ExecCommand struct {
	Args []string
	Pos  srcpos.Pos
}

// Profile returns the named profile.
func (c *CoCo) Profile(name string) (*Profile, bool) {
	for i := range c.InitData.Profiles {
		if c.InitData.Profiles[i].Name == name {
			return &c.InitData.Profiles[i], true
		}
	}
	return nil, false
}

// ProfileNames lists the profiles in order.
func (c *CoCo) ProfileNames() []string {
	var out []string
	for _, p := range c.InitData.Profiles {
		out = append(out, p.Name)
	}
	return out
}

// Default paths of the readable init-data sources.
const (
	DefaultAATemplate  = "policies/initdata/aa.toml.tmpl"
	DefaultCDHTemplate = "policies/initdata/cdh.toml.tmpl"
)

var (
	cocoKeys        = []string{"securityPolicyFlavour", "azure", "baremetal", "initdata", "trustee", "rollout", "sidecarImage", "secured", "bypassAttestation", "enableSSHDebug"}
	cocoAzureKeys   = []string{"defaultVMFlavour", "VMFlavours", "tags", "rootVolumeSize"}
	cocoBareKeys    = []string{"defaultMemory", "storage", "machineConfigRoles", "tdxCollateralService", "nvidiaVerifier"}
	initDataKeys    = []string{"default", "profiles"}
	profileKeys     = []string{"agentPolicy", "algorithm", "aa", "cdh", "execAllowList", "registryCredentials"}
	flavours        = []string{"insecure", "signed", "reject"}
	algorithms      = []string{"sha256", "sha384", "sha512"}
	profileNameRe   = lazyre.New(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)
	policyFileRe    = lazyre.New(`^[A-Za-z0-9][A-Za-z0-9_.-]*$`)
	tagKeyRe        = lazyre.New(`^[^<>%&\\?/,=\s]+$`)
	upstreamOnlyKey = map[string]string{
		"secured":           "cocogen always renders the reference values from the init-data it encodes",
		"bypassAttestation": "cocogen never bypasses attestation",
		"enableSSHDebug":    "use the debug init-data profile to look inside a pod VM",
	}
)

// coco decodes global.coco (absent: no CoCo choices, the pattern renders no init-data). pos is where the
// section is, or would be: the positions of choices that are absent fall back to it, so that what needs them
// can say where to add them.
func (dc decoder) coco(n *node.Node, pos srcpos.Pos, out *CoCo) {
	const path = "global.coco"
	out.FlavourPos, out.Azure.DefaultPos, out.InitData.DefaultPos = pos, pos, pos
	dc.rollout(nil, &out.Rollout) // the defaults, also without global.coco
	if n.IsNull() || !dc.c.Map(n, path, false, cocoKeys...) {
		return
	}
	out.FlavourPos, out.Azure.DefaultPos, out.InitData.DefaultPos = n.Pos, n.KeyPos("azure"), n.KeyPos("initdata")
	out.Tree = n
	dc.rollout(n.Get("rollout"), &out.Rollout)
	if s := dc.str(n, path, "sidecarImage"); s != "" {
		out.SidecarImage, out.SidecarImagePos = s, n.Get("sidecarImage").Pos
		if !imageRe.MatchString(s) {
			dc.errorf(n.Get("sidecarImage"), schema.Join(path, "sidecarImage"), "%q is not an image reference (registry/repository[:tag][@sha256:<hex>])", s)
		}
	}
	for k, why := range upstreamOnlyKey {
		if _, ok := n.Lookup(k); ok {
			dc.c.Diags.Warnf(n.KeyPos(k), schema.Join(path, k), "ignored: an upstream coco-pattern setting that cocogen has no use for (%s)", why)
		}
	}
	out.SecurityPolicyFlavour = dc.str(n, path, "securityPolicyFlavour")
	out.FlavourPos = n.Get("securityPolicyFlavour").PosOr(n.Pos)
	if out.SecurityPolicyFlavour == "" {
		out.SecurityPolicyFlavour = "insecure"
		dc.c.Diags.Warnf(n.Pos, schema.Join(path, "securityPolicyFlavour"), "not set: the guest accepts any container image (insecure); set signed or reject for production")
	} else {
		dc.c.Enum(n.Get("securityPolicyFlavour"), schema.Join(path, "securityPolicyFlavour"), out.SecurityPolicyFlavour, flavours...)
	}
	if az := n.Get("azure"); dc.c.Map(az, schema.Join(path, "azure"), true, cocoAzureKeys...) {
		p := schema.Join(path, "azure")
		out.Azure.DefaultVMFlavour = dc.str(az, p, "defaultVMFlavour")
		out.Azure.DefaultPos = az.Get("defaultVMFlavour").PosOr(az.Pos)
		out.Azure.VMFlavours, out.Azure.FlavoursPos = dc.vmSizes(az, p)
		for _, s := range append([]string{out.Azure.DefaultVMFlavour}, out.Azure.VMFlavours...) {
			if s != "" && !metadata.IsVMSizeName(s) {
				dc.c.Diags.Errorf(out.Azure.FlavoursPos, p, "%q is not %s", s, metadata.VMSizeRule)
			}
		}
		if out.Azure.DefaultVMFlavour != "" && len(out.Azure.VMFlavours) > 0 && !slices.Contains(out.Azure.VMFlavours, out.Azure.DefaultVMFlavour) {
			dc.c.Diags.Errorf(out.Azure.DefaultPos, schema.Join(p, "defaultVMFlavour"), "%s is not among VMFlavours (%v): peer pods could not use their default size", out.Azure.DefaultVMFlavour, out.Azure.VMFlavours)
		}
		if t := az.Get("tags"); dc.c.Map(t, schema.Join(p, "tags"), true) {
			for _, e := range t.Entries() {
				if !tagKeyRe.MatchString(e.Key) || len(e.Key) > 512 {
					dc.c.Diags.Errorf(e.KeyPos, schema.Join(p, "tags"), "%q is not a valid Azure tag name", e.Key)
				}
				if !e.Value.IsScalar() {
					dc.c.Diags.Errorf(e.Value.PosOr(e.KeyPos), schema.Join(schema.Join(p, "tags"), e.Key), "a tag value must be a string")
				}
			}
			out.Azure.Tags = t
		}
		if rv := az.Get("rootVolumeSize"); !rv.IsNull() {
			if rv.Kind != node.Int || rv.Text == "0" || rv.Text[0] == '-' {
				dc.c.Diags.Errorf(rv.Pos, schema.Join(p, "rootVolumeSize"), "must be a positive number of GiB, not %q", rv.Src)
			}
			out.Azure.RootVolumeSize = rv
		}
	}
	dc.bareMetal(n.Get("baremetal"), n.KeyPos("baremetal"), &out.BareMetal)
	dc.trustee(n.Get("trustee"), &out.Trustee)
	defer dc.resourceProfiles(out)
	id := n.Get("initdata")
	if !dc.c.Map(id, schema.Join(path, "initdata"), true, initDataKeys...) {
		return
	}
	p := schema.Join(path, "initdata")
	out.InitData.Default = dc.str(id, p, "default")
	out.InitData.DefaultPos = id.Get("default").PosOr(id.Pos)
	profiles := id.Get("profiles")
	if !dc.c.Map(profiles, schema.Join(p, "profiles"), true) {
		return
	}
	for _, e := range sortedByKey(profiles) {
		pp := schema.Join(schema.Join(p, "profiles"), e.Key)
		if !profileNameRe.MatchString(e.Key) {
			dc.c.Diags.Errorf(e.KeyPos, pp, "%q is not a valid profile name (lowercase letters, digits and -)", e.Key)
			continue
		}
		prof := Profile{Name: e.Key, Pos: e.KeyPos, Algorithm: "sha256", AA: DefaultAATemplate, CDH: DefaultCDHTemplate}
		v := e.Value
		if !dc.c.Map(v, pp, false, profileKeys...) {
			continue
		}
		prof.AgentPolicy = dc.str(v, pp, "agentPolicy")
		prof.PolicyPos = v.Get("agentPolicy").PosOr(v.Pos)
		if prof.AgentPolicy == "" {
			dc.c.Diags.Errorf(v.Pos, pp, "agentPolicy is required: the name of a policy under policies/agent/ (without .rego)")
		} else if !policyFileRe.MatchString(prof.AgentPolicy) {
			dc.c.Diags.Errorf(prof.PolicyPos, schema.Join(pp, "agentPolicy"), "%q is not a policy name: write the file name under policies/agent/ without .rego", prof.AgentPolicy)
		}
		if a := dc.str(v, pp, "algorithm"); a != "" {
			dc.c.Enum(v.Get("algorithm"), schema.Join(pp, "algorithm"), a, algorithms...)
			prof.Algorithm = a
		}
		if s := dc.str(v, pp, "aa"); s != "" {
			prof.AA = s
		}
		if s := dc.str(v, pp, "cdh"); s != "" {
			prof.CDH = s
		}
		if rc := v.Get("registryCredentials"); !rc.IsNull() {
			prof.RegistryCredentials, prof.RegistryCredentialsPos = dc.str(v, pp, "registryCredentials"), rc.Pos
			if prof.RegistryCredentials != "" && !initdata.IsResourceURI(prof.RegistryCredentials) {
				dc.errorf(rc, schema.Join(pp, "registryCredentials"), "%q is not a KBS resource URI: write kbs:///<repository>/<type>/<tag>, e.g. kbs:///default/credential/regcred (a resource of global.coco.trustee.resources)", prof.RegistryCredentials)
				prof.RegistryCredentials = ""
			}
		}
		if list := v.Get("execAllowList"); !list.IsNull() {
			lp := schema.Join(pp, "execAllowList")
			if list.Kind != node.List {
				dc.errorf(list, lp, "must be a list of argv lists, e.g. [[curl, -s, http://127.0.0.1:8006/cdh/resource/default/kbsres1/key1]]")
			} else {
				for i, it := range list.Items() {
					args, ok := dc.c.StringList(it, schema.Index(lp, i))
					if !ok || it.IsNull() || len(args) == 0 {
						if ok {
							dc.errorf(it, schema.Index(lp, i), "must be a non-empty argv list (one string per argument)")
						}
						continue
					}
					cmd := ExecCommand{Pos: it.Pos}
					for _, a := range args {
						cmd.Args = append(cmd.Args, a.Text)
					}
					prof.ExecAllowList = append(prof.ExecAllowList, cmd)
				}
			}
		}
		out.InitData.Profiles = append(out.InitData.Profiles, prof)
	}
	if len(out.InitData.Profiles) > 0 {
		if out.InitData.Default == "" {
			dc.c.Diags.Errorf(id.Pos, schema.Join(p, "default"), "is required: the profile that peer pods get when a pod names none (one of %v)", out.ProfileNames())
		} else if _, ok := out.Profile(out.InitData.Default); !ok {
			msg := "no profile %q (profiles: %v)"
			if s := schema.Suggest(out.InitData.Default, out.ProfileNames()); s != "" {
				msg += "; did you mean " + `"` + s + `"?`
			}
			dc.c.Diags.Errorf(out.InitData.DefaultPos, schema.Join(p, "default"), msg, out.InitData.Default, out.ProfileNames())
		}
	}
}

// resourceProfiles checks that the profiles the KBS resources name exist.
func (dc decoder) resourceProfiles(out *CoCo) {
	for _, r := range out.Trustee.Resources {
		for i, name := range r.Profiles {
			if _, ok := out.Profile(name); ok {
				continue
			}
			hint := ""
			if s := schema.Suggest(name, out.ProfileNames()); s != "" {
				hint = fmt.Sprintf("; did you mean %q?", s)
			}
			dc.c.Diags.Errorf(r.ProfilePositions[i], "global.coco.trustee.resources."+r.Name+".profiles", "no init-data profile %q (profiles: %v): only pods of the profiles listed here may fetch %s%s", name, out.ProfileNames(), r.Name, hint)
		}
	}
}

// vmSizes reads VMFlavours: the upstream comma-separated string (no spaces) or a list.
func (dc decoder) vmSizes(az *node.Node, path string) ([]string, srcpos.Pos) {
	n := az.Get("VMFlavours")
	p := schema.Join(path, "VMFlavours")
	if n.IsNull() {
		return nil, az.Pos
	}
	var sizes []string
	switch n.Kind {
	case node.String:
		for _, s := range splitComma(n.Text) {
			s = strings.TrimSpace(s)
			if s == "" {
				dc.c.Diags.Errorf(n.Pos, p, "empty size in %q", n.Text)
				continue
			}
			sizes = append(sizes, s)
		}
		for _, r := range n.Text {
			if r == ' ' || r == '\t' {
				dc.c.Diags.Errorf(n.Pos, p, "%q contains spaces: peer-pods-cm takes a comma-separated list without spaces", n.Text)
				break
			}
		}
	case node.List:
		items, ok := dc.c.StringList(n, p)
		if ok {
			for _, it := range items {
				sizes = append(sizes, it.Text)
			}
		}
	default:
		dc.errorf(n, p, "must be a comma-separated string or a list of VM sizes")
	}
	return sizes, n.Pos
}

func splitComma(s string) []string {
	var out []string
	start := 0
	for i := 0; i <= len(s); i++ {
		if i == len(s) || s[i] == ',' {
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return out
}

var (
	roleRe           = lazyre.New(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)
	collateralURLRe  = lazyre.New(`^https://[^\s/]+(/[^\s]*)?$`)
	maxDefaultMemory = int64(4 * 1024 * 1024) // 4 TiB in MiB: larger is a typo
)

// bareMetal decodes global.coco.baremetal; its defaults apply also when it is absent.
func (dc decoder) bareMetal(n *node.Node, pos srcpos.Pos, out *CoCoBareMetal) {
	const path = "global.coco.baremetal"
	*out = CoCoBareMetal{Pos: pos, MemoryPos: pos, StoragePos: pos, TDXCollateralServicePos: pos, Storage: "lvms",
		MachineConfigRoles: []string{"worker"}, TDXCollateralService: DefaultTDXCollateralService,
		NVIDIAVerifier: "local", NVIDIAVerifierPos: pos}
	if n.IsNull() || !dc.c.Map(n, path, false, cocoBareKeys...) {
		return
	}
	out.Pos, out.MemoryPos, out.StoragePos, out.TDXCollateralServicePos = n.Pos, n.Pos, n.Pos, n.Pos
	if m := n.Get("defaultMemory"); !m.IsNull() {
		out.MemoryPos = m.Pos
		v, err := strconv.ParseInt(m.Text, 10, 64)
		if m.Kind != node.Int || err != nil || v <= 0 || v > maxDefaultMemory {
			dc.c.Diags.Errorf(m.Pos, schema.Join(path, "defaultMemory"), "must be the pod VM's memory in MiB, a positive integer (e.g. 8192), not %q", m.Src)
		} else {
			out.DefaultMemory = v
		}
	}
	if s := dc.str(n, path, "storage"); s != "" {
		out.StoragePos = n.Get("storage").Pos
		if dc.c.Enum(n.Get("storage"), schema.Join(path, "storage"), s, BareMetalStorages...) {
			out.Storage = s
		}
	}
	if r := n.Get("machineConfigRoles"); !r.IsNull() {
		if r.Kind != node.List || r.Len() == 0 {
			dc.c.Diags.Errorf(r.Pos, schema.Join(path, "machineConfigRoles"), "must be a list of machine config pool roles (e.g. [worker])")
		} else {
			out.MachineConfigRoles = nil
			for _, it := range r.Items() {
				if it.Kind != node.String || !roleRe.MatchString(it.Text) {
					dc.c.Diags.Errorf(it.Pos, schema.Join(path, "machineConfigRoles"), "%q is not a machine config pool role (lowercase letters, digits and -)", it.Src)
					continue
				}
				if !slices.Contains(out.MachineConfigRoles, it.Text) {
					out.MachineConfigRoles = append(out.MachineConfigRoles, it.Text)
				}
			}
		}
	}
	if v := dc.str(n, path, "nvidiaVerifier"); v != "" {
		out.NVIDIAVerifierPos = n.Get("nvidiaVerifier").Pos
		if dc.c.Enum(n.Get("nvidiaVerifier"), schema.Join(path, "nvidiaVerifier"), v, NVIDIAVerifiers...) {
			out.NVIDIAVerifier = v
		}
	}
	if u := dc.str(n, path, "tdxCollateralService"); u != "" {
		out.TDXCollateralServicePos = n.Get("tdxCollateralService").Pos
		if !collateralURLRe.MatchString(u) {
			dc.c.Diags.Errorf(out.TDXCollateralServicePos, schema.Join(path, "tdxCollateralService"), "must be an https:// URL of a PCCS or of Intel's PCS (e.g. %s)", DefaultTDXCollateralService)
		} else {
			out.TDXCollateralService = u
		}
	}
}
