// Package profiles generates the init-data profiles of global.coco.initdata: for each profile, its agent
// policy (the policy source with its policy_data: the exec allow-list and the containers of the workloads that
// run with it, validated for the cluster's agent), its aa.toml and cdh.toml (templates filled with the KBS
// endpoint and trust anchor), the init-data TOML that carries all three, its digests and its encoding — all
// from the same bytes, so that what pods carry is what attestation compares.
//
// Generation runs in two steps because an agent policy admits the containers of the pod templates that use
// its profile, which are known only once the workloads' overlays are built: Build fills the templates and
// checks the sources, and Profile.Finalize completes each profile with its containers. Both are pure
// functions of their input: the sources arrive as bytes, read by the render's load phase.
package profiles

import (
	"strings"

	"github.com/cocogen/cocogen/internal/agentpolicy"
	"github.com/cocogen/cocogen/internal/diag"
	"github.com/cocogen/cocogen/internal/initdata"
	"github.com/cocogen/cocogen/internal/model"
	"github.com/cocogen/cocogen/internal/srcpos"
)

// PolicyDir is the repository directory of the agent policies: a profile's agentPolicy names a file in it
// without .rego.
const PolicyDir = "policies/agent/"

// PolicyPath is the repository path of a profile's agent policy source.
func PolicyPath(p model.Profile) string { return PolicyDir + p.AgentPolicy + ".rego" }

// Source is a repository file as the load phase found it: its content, the name diagnostics show for it, or
// why it could not be read (reported by the generator that needs it).
type Source struct {
	Name string
	Data []byte
	Err  error
}

// Input is what Build reads.
type Input struct {
	// Profiles are global.coco.initdata.profiles, in values order.
	Profiles []model.Profile
	// KBSURL is the KBS endpoint init-data sends the guest to, TrustAnchor the PEM certificate it trusts the
	// KBS with ("" in the public mode), SecurityPolicyFlavour global.coco.securityPolicyFlavour.
	KBSURL, TrustAnchor, SecurityPolicyFlavour string
	// Kata is the release whose agent loads the policies (zero: any release).
	Kata agentpolicy.KataVersion
	// Files are the profiles' sources by the repository path the values write (PolicyPath, AA, CDH).
	Files map[string]Source
}

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

	// The sources, read by Build; Finalize turns them into the fields above.
	src      []byte
	exec     []agentpolicy.ExecCommand
	aa, cdh  []byte
	execPath string
}

// Build fills each profile's aa.toml and cdh.toml templates and readies its policy source. Every profile is
// built, used or not, so that a broken one fails the render that introduces it. It returns nil, with the
// reasons in the diagnostics, when a profile cannot be built.
func Build(in Input) (map[string]*Profile, *diag.List) {
	d := &diag.List{}
	if len(in.Profiles) == 0 {
		return nil, d
	}
	if in.KBSURL == "" {
		// The caller checks the endpoint before it loads the sources; this keeps Build total.
		d.Errorf(srcpos.Pos{}, "kbs.url", "the KBS endpoint is unknown: set kbs.url or cluster.appsDomain in the metadata")
		return nil, d
	}
	parts := initdata.PartsData{KBSURL: in.KBSURL, TrustAnchor: in.TrustAnchor, SecurityPolicyFlavour: in.SecurityPolicyFlavour}
	read := func(rel string, pos srcpos.Pos, path string) (Source, bool) {
		f, ok := in.Files[rel]
		switch {
		case !ok:
			d.Errorf(pos, path, "%s was not loaded", rel)
			return f, false
		case f.Err != nil:
			d.Errorf(pos, path, "%v", f.Err)
			return f, false
		}
		return f, true
	}
	out := map[string]*Profile{}
	for _, p := range in.Profiles {
		path := "global.coco.initdata.profiles." + p.Name
		src, ok1 := read(PolicyPath(p), p.PolicyPos, path+".agentPolicy")
		aaTmpl, ok2 := read(p.AA, p.Pos, path+".aa")
		cdhTmpl, ok3 := read(p.CDH, p.Pos, path+".cdh")
		if !ok1 || !ok2 || !ok3 {
			continue
		}
		var exec []agentpolicy.ExecCommand
		for _, c := range p.ExecAllowList {
			exec = append(exec, agentpolicy.ExecCommand{Args: c.Args, Pos: c.Pos})
		}
		pp := parts
		pp.RegistryCredentials = p.RegistryCredentials
		aa, cdh, err := initdata.RenderParts(aaTmpl.Data, cdhTmpl.Data, pp)
		if err != nil {
			d.Errorf(p.Pos, path, "%v", err)
			continue
		}
		out[p.Name] = &Profile{
			Name: p.Name, Pos: p.Pos, Algorithm: p.Algorithm, Kata: in.Kata,
			PolicyFile: src.Name, ChecksContainers: agentpolicy.ChecksContainers(src.Data),
			src: src.Data, exec: exec, aa: aa, cdh: cdh, execPath: path,
		}
	}
	if len(out) != len(in.Profiles) {
		return nil, d
	}
	return out, d
}

// Finalize completes a profile from Build once the containers of the workloads that use it are known: the
// agent policy with its policy_data (exec allow-list and containers), validated for the cluster's agent, the
// init-data TOML, its digests and its encoding. ok is false when the profile cannot be built (the reasons are
// in the diagnostics).
func (p *Profile) Finalize(containers []agentpolicy.Container) (ok bool, d *diag.List) {
	d = &diag.List{}
	if p.ChecksContainers {
		p.Containers = containers
	}
	policy, pd := agentpolicy.Finalize(p.PolicyFile, p.src, agentpolicy.PolicyData{Exec: p.exec, Containers: p.Containers}, agentpolicy.Options{Kata: p.Kata})
	d.Append(pd)
	if policy == nil {
		return false, d
	}
	doc := initdata.Document{Algorithm: initdata.Algorithm(p.Algorithm), AA: string(p.aa), CDH: string(p.cdh), Policy: string(policy)}
	text, err := initdata.Render(doc)
	if err != nil {
		d.Errorf(p.Pos, p.execPath, "render init-data: %v", err)
		return false, d
	}
	digests, err := initdata.ComputeDigests(doc.Algorithm, text)
	if err != nil {
		d.Errorf(p.Pos, p.execPath, "init-data digests: %v", err)
		return false, d
	}
	encoded := initdata.Encode(text)
	if warn, err := initdata.CheckAzureUserData(encoded); err != nil {
		d.Errorf(p.Pos, p.execPath, "%v", err)
		return false, d
	} else if warn != "" {
		d.Warnf(p.Pos, p.execPath, "%s", warn)
	}
	p.Policy, p.TOML, p.Encoded, p.Digests = policy, text, encoded, digests
	return true, d
}

// NamingTexts are the texts of a profile's own init-data that may name KBS resources: aa.toml and cdh.toml
// (the image security policy), the agent policy source and each command of the exec allow-list that the
// values add. The containers written into policy_data belong to the workloads, which name their own.
func (p *Profile) NamingTexts() []string {
	out := []string{string(p.aa) + "\n" + string(p.cdh) + "\n" + string(p.src)}
	for _, c := range p.exec {
		out = append(out, strings.Join(c.Args, " "))
	}
	return out
}
