package pipeline

import (
	"fmt"
	"time"

	"github.com/cocogen/cocogen/internal/agentpolicy"
	"github.com/cocogen/cocogen/internal/diag"
	"github.com/cocogen/cocogen/internal/initdata"
	"github.com/cocogen/cocogen/internal/metadata"
	"github.com/cocogen/cocogen/internal/model"
	"github.com/cocogen/cocogen/internal/regolimit"
	"github.com/cocogen/cocogen/internal/repo"
	"github.com/cocogen/cocogen/internal/srcpos"
)

// Profile is one rendered init-data profile: the readable TOML, the value that goes into annotations and
// peer-pods-cm, and the digests that attestation compares, all from the same bytes.
type Profile struct {
	Name      string
	Pos       srcpos.Pos
	TOML      []byte
	Encoded   string
	Digests   initdata.Digests
	Algorithm string
	// Policy is the agent policy the init-data carries (its [data]."policy.rego"), byte for byte, and
	// PolicyFile the repository file it is rendered from.
	Policy     []byte
	PolicyFile string
	// Kata is the release whose agent loads the policy (the metadata's kata.version; zero, any release, when the
	// metadata names none).
	Kata agentpolicy.KataVersion
	// Containers are the containers of the workloads that run with this profile, which the policy admits
	// when it checks containers (ChecksContainers).
	Containers       []agentpolicy.Container
	ChecksContainers bool

	// The sources, read by buildProfiles; finalize turns them into the fields above.
	src      []byte
	exec     []agentpolicy.ExecCommand
	aa, cdh  []byte
	execPath string
}

// profilesDir is where the agent policies live.
const profilesDir = "policies/agent/"

// needsTrustAnchor reports whether a render reads the KBS trust anchor: init-data embeds it, and the trustee
// application serves the KBS certificate it anchors.
func needsTrustAnchor(v *model.Values) bool {
	if len(v.CoCo.InitData.Profiles) > 0 {
		return true
	}
	for _, a := range v.ClusterGroup.Applications {
		if a.CoCoGen == model.GenTrustee && !a.Disabled {
			return true
		}
	}
	return false
}

// readTrustAnchor reads and checks the PEM certificate that the metadata names as the KBS trust anchor ("" in
// the public mode, which embeds none). ok is false when it is missing or unfit; the reason is in d.
func readTrustAnchor(root *repo.Root, meta *metadata.Metadata, d *diag.List) (pem string, ok bool) {
	mode := meta.TrustAnchorMode()
	if mode == "public" {
		return "", true
	}
	cert := meta.KBS.TrustAnchor.Certificate
	if !cert.Set {
		d.Errorf(srcpos.Pos{File: meta.Source}, "kbs.trustAnchor", "init-data embeds the KBS trust anchor (mode %s): set kbs.trustAnchor.certificate to the repository path of its PEM file, or mode: public when the KBS certificate comes from a public CA", mode)
		return "", false
	}
	rel, err := repo.Clean(cert.Value)
	var data []byte
	if err == nil {
		data, err = root.ReadFile(rel)
	}
	if err != nil {
		d.Errorf(cert.Pos, "kbs.trustAnchor.certificate", "%v", err)
		return "", false
	}
	ta, td := meta.CheckTrustAnchor(data, time.Now())
	d.Append(td)
	if ta == nil || td.HasErrors() {
		return "", false
	}
	return string(data), true
}

// buildProfiles reads each profile's sources through the repository root and fills the aa.toml and cdh.toml
// templates from the metadata and the trust anchor (readTrustAnchor). The agent policy needs the containers of
// the workloads that use the profile, which are known only once the overlays are built: renderApps finishes
// every profile (Profile.finalize) before it injects init-data anywhere. Every profile is built, used or not,
// so that a broken one fails the render that introduces it.
func buildProfiles(root *repo.Root, v *model.Values, meta *metadata.Metadata, anchor string, kata agentpolicy.KataVersion, meter *regolimit.Meter, d *diag.List) map[string]*Profile {
	profiles := v.CoCo.InitData.Profiles
	if len(profiles) == 0 {
		return nil
	}
	kbsURL := meta.KBSURL()
	if kbsURL == "" {
		d.Errorf(srcpos.Pos{File: meta.Source}, "kbs.url", "the KBS endpoint is unknown: set kbs.url or cluster.appsDomain in the metadata")
		return nil
	}
	parts := initdata.PartsData{KBSURL: kbsURL, TrustAnchor: anchor, SecurityPolicyFlavour: v.CoCo.SecurityPolicyFlavour}
	templates := map[string][]byte{}
	read := func(rel string, pos srcpos.Pos, path string) ([]byte, bool) {
		if data, ok := templates[rel]; ok {
			return data, true
		}
		clean, err := repo.Clean(rel)
		if err == nil {
			var data []byte
			if data, err = root.ReadFile(clean); err == nil {
				templates[rel] = data
				return data, true
			}
		}
		d.Errorf(pos, path, "%v", err)
		return nil, false
	}
	out := map[string]*Profile{}
	for _, p := range profiles {
		path := "global.coco.initdata.profiles." + p.Name
		policyPath := profilesDir + p.AgentPolicy + ".rego"
		src, ok1 := read(policyPath, p.PolicyPos, path+".agentPolicy")
		aaTmpl, ok2 := read(p.AA, p.Pos, path+".aa")
		cdhTmpl, ok3 := read(p.CDH, p.Pos, path+".cdh")
		if !ok1 || !ok2 || !ok3 {
			continue
		}
		var exec []agentpolicy.ExecCommand
		for _, c := range p.ExecAllowList {
			exec = append(exec, agentpolicy.ExecCommand{Args: c.Args, Pos: c.Pos})
		}
		aa, cdh, err := initdata.RenderParts(aaTmpl, cdhTmpl, parts)
		if err != nil {
			d.Errorf(p.Pos, path, "%v", err)
			continue
		}
		out[p.Name] = &Profile{
			Name: p.Name, Pos: p.Pos, Algorithm: p.Algorithm, Kata: kata,
			PolicyFile: root.Display(policyPath), ChecksContainers: agentpolicy.ChecksContainers(src),
			src: src, exec: exec, aa: aa, cdh: cdh, execPath: path,
		}
	}
	if len(out) != len(profiles) {
		return nil
	}
	return out
}

// finalize completes a profile read by buildProfiles once the containers of the workloads that use it are
// known: the agent policy with its policy_data (exec allow-list and containers), validated for the cluster's
// agent, the init-data TOML, its digests and its encoding. It reports false when the profile cannot be built.
func (p *Profile) finalize(containers []agentpolicy.Container, d *diag.List) bool {
	if p.ChecksContainers {
		p.Containers = containers
	}
	policy, pd := agentpolicy.Finalize(p.PolicyFile, p.src, agentpolicy.PolicyData{Exec: p.exec, Containers: p.Containers}, agentpolicy.Options{Kata: p.Kata})
	d.Append(pd)
	if policy == nil {
		return false
	}
	doc := initdata.Document{Algorithm: initdata.Algorithm(p.Algorithm), AA: string(p.aa), CDH: string(p.cdh), Policy: string(policy)}
	text, err := initdata.Render(doc)
	if err != nil {
		d.Errorf(p.Pos, p.execPath, "render init-data: %v", err)
		return false
	}
	digests, err := initdata.ComputeDigests(doc.Algorithm, text)
	if err != nil {
		d.Errorf(p.Pos, p.execPath, "init-data digests: %v", err)
		return false
	}
	encoded := initdata.Encode(text)
	if warn, err := initdata.CheckAzureUserData(encoded); err != nil {
		d.Errorf(p.Pos, p.execPath, "%v", err)
		return false
	} else if warn != "" {
		d.Warnf(p.Pos, p.execPath, "%s", warn)
	}
	p.Policy, p.TOML, p.Encoded, p.Digests = policy, text, encoded, digests
	return true
}

// profileError says that a profile is unknown, with the known ones.
func profileError(names []string, name string) error {
	return fmt.Errorf("no init-data profile %q (profiles: %v)", name, names)
}
