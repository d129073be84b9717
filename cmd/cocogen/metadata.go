package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/arm"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/spf13/cobra"
	"k8s.io/client-go/dynamic"

	"github.com/cocogen/cocogen/internal/azure"
	"github.com/cocogen/cocogen/internal/collect"
	"github.com/cocogen/cocogen/internal/diag"
	"github.com/cocogen/cocogen/internal/helmvalues"
	"github.com/cocogen/cocogen/internal/metadata"
	"github.com/cocogen/cocogen/internal/pipeline"
	"github.com/cocogen/cocogen/internal/repo"
	"github.com/cocogen/cocogen/internal/srcpos"
)

// metadataDeps are what the metadata commands reach outside the process through; tests replace them.
type metadataDeps struct {
	now     func() time.Time
	cluster func(kubeconfig, context string) (dynamic.Interface, string, error)
	azure   func(m *metadata.Metadata) (*azure.Client, error)
}

func newMetadataCommand(s streams) *cobra.Command {
	return newMetadataCommandWith(s, metadataDeps{now: time.Now, cluster: collect.Client, azure: azureClient})
}

// azureClient signs in with azidentity's default credential chain (environment, workload identity, managed
// identity, Azure CLI, …) in the metadata's tenant and cloud.
func azureClient(m *metadata.Metadata) (*azure.Client, error) {
	cfg, err := azure.CloudConfiguration(m.Azure.Cloud.Value)
	if err != nil {
		return nil, err
	}
	opts := azcore.ClientOptions{Cloud: cfg}
	cred, err := azidentity.NewDefaultAzureCredential(&azidentity.DefaultAzureCredentialOptions{ClientOptions: opts, TenantID: m.Azure.TenantID.Value})
	if err != nil {
		return nil, fmt.Errorf("azure credentials: %w", err)
	}
	return azure.NewClient(m.Azure.SubscriptionID.Value, cred, &arm.ClientOptions{ClientOptions: opts})
}

func newMetadataCommandWith(s streams, deps metadataDeps) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "metadata",
		Short: "Collect and check cluster metadata (domains, platform, Azure network facts, KBS trust anchor)",
		Long: `Cluster metadata are the facts about one target cluster that a render depends on: the apps domain,
platform and version, the Azure network facts that peer pods need (from the cloud controller's cloud.conf),
the KBS endpoint and its trust anchor, and the kata version. They live in a file in Git
(values/cluster-metadata.yaml for the built-in pattern); Argo CD plugin env entries COCOGEN_FACT_<KEY>
override single facts (COCOGEN_FACT_AZURE_LOCATION for azure.location), and --set global.* flags override
the values derived from them.

collect writes the file from a cluster; check validates it, and with --azure asks Azure whether the
confidential VM sizes exist in the region.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return cmd.Help()
		},
	}
	cmd.AddCommand(newMetadataCollectCommand(s, deps), newMetadataCheckCommand(s, deps))
	return cmd
}

// readInput reads an input file named on the command line, or stdin for "-". A file that is missing, unreadable or
// too large is an inputError (exit code 1, as for any other invalid input).
func readInput(in io.Reader, name string) ([]byte, string, error) {
	data, shown, err := readInputFile(in, name)
	if err != nil && name != "-" {
		err = inputError{err: err}
	}
	return data, shown, err
}

func readInputFile(in io.Reader, name string) ([]byte, string, error) {
	if name == "-" {
		data, err := io.ReadAll(io.LimitReader(in, repo.MaxFileBytes+1))
		if err != nil {
			return nil, "", fmt.Errorf("read stdin: %w", err)
		}
		if len(data) > repo.MaxFileBytes {
			return nil, "", fmt.Errorf("stdin is larger than %d bytes", repo.MaxFileBytes)
		}
		return data, "<stdin>", nil
	}
	st, err := os.Stat(name)
	if err != nil {
		return nil, "", err
	}
	if st.Size() > repo.MaxFileBytes {
		return nil, "", fmt.Errorf("%s is larger than %d bytes", name, repo.MaxFileBytes)
	}
	data, err := os.ReadFile(name)
	return data, name, err
}

// parseFacts reads --fact KEY=VALUE flags.
func parseFacts(args []string) ([]metadata.Override, error) {
	var out []metadata.Override
	for _, a := range args {
		o, err := metadata.ParseOverride(a, srcpos.Pos{File: "--fact"})
		if err != nil {
			return nil, usageError{err: fmt.Errorf("--fact: %w", err)}
		}
		out = append(out, o)
	}
	return out, nil
}

// printDiags writes diagnostics and returns exit code 1 as an error when one of them is an error.
func printDiags(s streams, format string, d *diag.List) error {
	if err := diag.Write(s.err, format, d.Sorted(), false); err != nil {
		return err
	}
	if d.HasErrors() {
		return &exitError{code: exitInvalid}
	}
	return nil
}

// ---- collect ----

type collectOptions struct {
	cloudConf  string
	kubeconfig string
	context    string
	base       string
	facts      []string
	outputFile string
	diagFormat string
}

func newMetadataCollectCommand(s streams, deps metadataDeps) *cobra.Command {
	o := &collectOptions{}
	cmd := &cobra.Command{
		Use:   "collect",
		Short: "Write a metadata file from a cluster's cloud.conf and, optionally, the live cluster",
		Long: `Collect writes a commented metadata file, meant to be reviewed and committed, from:

  1. an existing metadata file (-m), whose facts are kept unless a source below knows better;
  2. a live cluster (--kubeconfig, --context): the cloud controller's cloud.conf (ConfigMap
     openshift-cloud-controller-manager/cloud-conf), the Infrastructure platform, the Ingress apps domain
     and the ClusterVersion (the newest completed update, as Major.Minor);
  3. a cloud.conf file (--cloud-conf; - for stdin), which replaces the live cluster's cloud.conf;
  4. --fact KEY=VALUE flags (azure.location=eastus, git.repoURL=…).

Of cloud.conf, collect reads cloud, subscriptionId, tenantId, location, resourceGroup, vnetResourceGroup,
vnetName, subnetName and securityGroupName, and nothing else. The facts are validated before anything is
written: problems point at cloud.conf:line:col or at the cluster object, the exit code is 1 and no file is
written. The output file is replaced only when complete.`,
		Example: `  # From the cloud.conf of a cluster you are logged in to with oc
  oc get cm -n openshift-cloud-controller-manager cloud-conf -o jsonpath='{.data.cloud\.conf}' > cloud.conf
  cocogen metadata collect --cloud-conf cloud.conf --output-file clusters/prod.yaml

  # Everything the cluster can tell, over the pattern's existing metadata
  cocogen metadata collect --kubeconfig ~/.kube/config -m values/cluster-metadata.yaml --output-file values/cluster-metadata.yaml

  # Add the facts a cluster cannot know
  cocogen metadata collect --cloud-conf cloud.conf --fact git.repoURL=https://github.com/me/cocogen.git --fact git.targetRevision=main`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			live := cmd.Flags().Changed("kubeconfig") || cmd.Flags().Changed("context")
			warnDeprecated(cmd, s)
			return o.run(cmd.Context(), s, deps, live)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.cloudConf, "cloud-conf", "", "the cloud controller's cloud.conf JSON (- for stdin)")
	f.StringVar(&o.kubeconfig, "kubeconfig", "", "read a live cluster through this kubeconfig (\"\" with --context: $KUBECONFIG or ~/.kube/config)")
	f.StringVar(&o.context, "context", "", "kubeconfig context of the live cluster (default: the current context)")
	f.StringVarP(&o.base, "metadata", "m", "", "existing metadata file to start from (- for stdin)")
	f.StringArrayVar(&o.facts, "fact", nil, "set a fact, KEY=VALUE with KEY a metadata key such as azure.location (repeatable; wins over every source)")
	f.StringVar(&o.outputFile, "output-file", "-", "file to write, replaced only when complete (- for stdout)")
	deprecatedFileFlag(f, &o.outputFile, "output", "output-file")
	diagFormatFlag(f, &o.diagFormat)
	return cmd
}

func (o *collectOptions) run(ctx context.Context, s streams, deps metadataDeps, live bool) error {
	if o.cloudConf == "" && !live && o.base == "" && len(o.facts) == 0 {
		return usageError{err: errors.New("nothing to collect from: give --cloud-conf FILE and/or --kubeconfig FILE (or -m FILE, --fact KEY=VALUE)")}
	}
	if o.cloudConf == "-" && o.base == "-" {
		return usageError{err: errors.New("--cloud-conf and --metadata cannot both read stdin")}
	}
	facts, err := parseFacts(o.facts)
	if err != nil {
		return err
	}
	src := collect.Sources{Facts: facts}
	var from []string
	if o.base != "" {
		if src.Base, src.BaseName, err = readInput(s.in, o.base); err != nil {
			return fmt.Errorf("read metadata: %w", err)
		}
		from = append(from, "metadata "+src.BaseName)
	}
	d := &diag.List{}
	if live {
		client, server, err := deps.cluster(o.kubeconfig, o.context)
		if err != nil {
			return err
		}
		if ctx == nil {
			ctx = context.Background()
		}
		cl, cd, err := collect.ReadCluster(ctx, client)
		if err != nil {
			return fmt.Errorf("cluster %s: %w", server, err)
		}
		d.Append(cd)
		src.Cluster = cl
		from = append(from, "the cluster at "+server)
	}
	if o.cloudConf != "" {
		if src.CloudConf, src.CloudConfName, err = readInput(s.in, o.cloudConf); err != nil {
			return fmt.Errorf("read cloud.conf: %w", err)
		}
		from = append(from, "cloud.conf "+src.CloudConfName)
	}
	if len(facts) > 0 {
		from = append(from, "--fact flags")
	}
	m, md := collect.Metadata(src)
	d.Append(md)
	if err := printDiags(s, o.diagFormat, d); err != nil || m == nil {
		if err == nil {
			err = &exitError{code: exitInvalid}
		}
		return err
	}
	out := metadata.Format(m,
		"Cluster metadata: facts about one cluster, collected by `cocogen metadata collect` from",
		strings.Join(from, ", ")+".",
		"Review and commit it; collect again when the cluster changes, and validate it with `cocogen metadata check`.",
		"Commented keys are facts the sources did not know: fill them in or leave them out.")
	// The file must read back as the same facts, or it is cocogen's bug, not the user's input.
	if back, bd := metadata.Parse("collected metadata", out); back == nil || !maps.Equal(back.Facts(), m.Facts()) {
		return fmt.Errorf("internal error: the collected metadata does not read back: %v", bd.Err())
	}
	if o.outputFile == "-" || o.outputFile == "" {
		_, err := s.out.Write(out)
		return err
	}
	return writeFileAtomic(o.outputFile, out)
}

// writeFileAtomic writes data next to path and renames it into place, so that a reader (or a failure) never
// sees a partial file.
// printOrWrite prints an edited file on stdout (--print) or replaces the file with it; printed says which.
func printOrWrite(s streams, path string, data []byte, print bool) (printed bool, err error) {
	if print {
		_, err := s.out.Write(data)
		return true, err
	}
	return false, writeFileAtomic(path, data)
}

func writeFileAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// ---- check ----

type checkOptions struct {
	metadata     string
	repoRoot     string
	facts        []string
	azure        bool
	sizes        []string
	valuesDir    string
	clusterGroup string
	sets         []string
	setStrings   []string
	oldValues    []string
	output       string
	diagFormat   string
}

func newMetadataCheckCommand(s streams, deps metadataDeps) *cobra.Command {
	o := &checkOptions{}
	cmd := &cobra.Command{
		Use:   "check",
		Short: "Validate a metadata file and, with --azure, the confidential VM sizes against Azure",
		Long: `Check validates a metadata file as a render would (unknown keys, GUIDs, Azure region and resource
names, domains, versions) and reads the KBS trust anchor certificate it names: the file must hold PEM
certificates only, a CA in mode ca, the KBS certificate itself in mode leaf, none expired (a warning when one
expires within 30 days). It prints the peer-pods-cm entries derived from the Azure facts.

VM sizes are choices, not facts: they come from --size flags and, with --values-dir, from the values as
the render layers them for the cluster group with this metadata (value files in their real order,
templated file names, --set and --set-string): global.coco.azure.defaultVMFlavour and
global.coco.azure.VMFlavours, upstream's comma-separated list, which must have no spaces. The values must
then render: their problems are reported as render reports them. With --azure, check signs in with the Azure SDK's default credential chain
(environment, workload identity, managed identity, az login) and lists the compute resource SKUs of the
region: each size must exist there, must not be restricted for the subscription, and must be a confidential
size (AMD SEV-SNP or Intel TDX). It then prints the confidential sizes the region offers.

Problems are diagnostics with file:line:col on stderr and exit code 1.`,
		Example: `  # Validate the built-in pattern's metadata and its trust anchor
  cocogen metadata check

  # Check the sizes of the values (as cocogen render layers them) against Azure
  cocogen metadata check -m clusters/prod.yaml --values-dir values --azure

  # Which confidential sizes does westeurope offer, and is Standard_DC4as_v5 one of them?
  cocogen metadata check --azure --fact azure.location=westeurope --size Standard_DC4as_v5`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return o.run(cmd.Context(), s, deps)
		},
	}
	f := cmd.Flags()
	f.StringVarP(&o.metadata, "metadata", "m", filepath.Join("values", metadata.DefaultFile), "metadata file to check (- for stdin)")
	f.StringVar(&o.repoRoot, "repo-root", "", "repository root that kbs.trustAnchor.certificate (and, with --values-dir, the value files) are relative to (default: the nearest directory with .git above the metadata file, or the values directory)")
	f.StringArrayVar(&o.facts, "fact", nil, "set a fact, KEY=VALUE (repeatable; wins over the file)")
	f.BoolVar(&o.azure, "azure", false, "ask Azure whether the VM sizes exist in the region, are allowed for the subscription and are confidential")
	f.StringArrayVar(&o.sizes, "size", nil, "a VM size to check (repeatable)")
	f.StringVar(&o.valuesDir, "values-dir", "", "read the VM sizes from the values of this directory, layered as cocogen render layers them with this metadata")
	f.StringVar(&o.clusterGroup, "cluster-group", "", "with --values-dir: the cluster group (default: main.clusterGroupName from values-global.yaml)")
	f.StringArrayVar(&o.sets, "set", nil, "with --values-dir: set a value as render --set does (repeatable)")
	f.StringArrayVar(&o.setStrings, "set-string", nil, "with --values-dir: like --set, but the value is always a string")
	f.StringArrayVarP(&o.oldValues, "values", "f", nil, "removed: use --values-dir (the values as the render layers them)")
	_ = f.MarkHidden("values")
	outputFlag(f, &o.output, "text", []string{"text", "json"})
	diagFormatFlag(f, &o.diagFormat)
	return cmd
}

// checkReport is what check prints on stdout.
type checkReport struct {
	Metadata     string            `json:"metadata"`
	Facts        map[string]string `json:"facts"`
	PeerPods     map[string]string `json:"peerPods,omitempty"`
	TrustAnchor  *trustAnchorInfo  `json:"trustAnchor,omitempty"`
	VMSizes      []string          `json:"vmSizes,omitempty"`
	Location     string            `json:"location,omitempty"`
	Subscription string            `json:"subscriptionId,omitempty"`
	Sizes        []azure.Result    `json:"sizes,omitempty"`
	Confidential []azure.SKU       `json:"confidentialSizes,omitempty"`
}

type trustAnchorInfo struct {
	Mode        string `json:"mode"`
	Certificate string `json:"certificate,omitempty"`
	Subject     string `json:"subject,omitempty"`
	NotAfter    string `json:"notAfter,omitempty"`
}

func (o *checkOptions) run(ctx context.Context, s streams, deps metadataDeps) error {
	if len(o.oldValues) > 0 {
		return usageError{err: errors.New("-f/--values is gone: give --values-dir DIR (with --cluster-group, --set as for render), and the VM sizes are read from the values as cocogen render layers them")}
	}
	if o.valuesDir == "" && (o.clusterGroup != "" || len(o.sets) > 0 || len(o.setStrings) > 0) {
		return usageError{err: errors.New("--cluster-group, --set and --set-string choose values: give --values-dir too")}
	}
	facts, err := parseFacts(o.facts)
	if err != nil {
		return err
	}
	data, name, err := readInput(s.in, o.metadata)
	if err != nil {
		return fmt.Errorf("read metadata: %w", err)
	}
	d := &diag.List{}
	m, md := metadata.Load(name, data, facts)
	d.Append(md)
	if m == nil {
		return printDiags(s, o.diagFormat, d)
	}
	rep := checkReport{Metadata: name, Facts: m.Facts()}

	// The trust anchor, read inside the repository.
	if ta := m.KBS.TrustAnchor; ta.Certificate.Set && m.TrustAnchorMode() != "public" {
		info, err := o.trustAnchor(m, deps.now(), d)
		if err != nil {
			return err
		}
		rep.TrustAnchor = info
	} else if m.TrustAnchorMode() == "public" && m.KBS.TrustAnchor.Mode.Set {
		rep.TrustAnchor = &trustAnchorInfo{Mode: "public"}
	}

	var missing diag.List
	if pp, ok := m.PeerPods(&missing); ok {
		rep.PeerPods = map[string]string{"AZURE_REGION": pp.Region, "AZURE_RESOURCE_GROUP": pp.ResourceGroup, "AZURE_SUBNET_ID": pp.SubnetID, "AZURE_NSG_ID": pp.NSGID}
	} else if o.azure || m.Cluster.Platform.Value == "Azure" {
		d.Append(&missing) // an Azure cluster without the facts peer pods need
	}

	sizes := o.vmSizes(data, name, facts, d)
	for _, v := range sizes {
		rep.VMSizes = append(rep.VMSizes, v.Name)
	}

	if o.azure && !d.HasErrors() {
		rep.Location, rep.Subscription = m.Azure.Location.Value, m.Azure.SubscriptionID.Value
		client, err := deps.azure(m)
		if err != nil {
			return err
		}
		if ctx == nil {
			ctx = context.Background()
		}
		skus, err := client.VMSizes(ctx, rep.Location)
		if err != nil {
			return err
		}
		rep.Sizes = azure.Check(sizes, skus, rep.Location, rep.Subscription, d)
		rep.Confidential = azure.Confidential(skus)
	}

	var buf bytes.Buffer
	if o.output == "json" {
		enc := json.NewEncoder(&buf)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			return err
		}
	} else {
		writeCheckText(&buf, rep, o.azure)
	}
	if err := printDiags(s, o.diagFormat, d); err != nil {
		_, _ = s.out.Write(buf.Bytes())
		return err
	}
	_, err = s.out.Write(buf.Bytes())
	return err
}

func (o *checkOptions) trustAnchor(m *metadata.Metadata, now time.Time, d *diag.List) (*trustAnchorInfo, error) {
	rootDir := o.repoRoot
	if rootDir == "" {
		start := "."
		if o.metadata != "-" {
			start = filepath.Dir(o.metadata)
		}
		var err error
		if rootDir, _, err = repo.FindRoot(start); err != nil {
			return nil, err
		}
	}
	root, err := repo.Open(rootDir)
	if err != nil {
		return nil, err
	}
	defer root.Close()
	cert := m.KBS.TrustAnchor.Certificate
	pem, err := root.ReadFile(cert.Value)
	if err != nil {
		d.Errorf(cert.Pos, "kbs.trustAnchor.certificate", "cannot read %s in the repository %s: %v", cert.Value, rootDir, err)
		return nil, nil
	}
	ta, td := m.CheckTrustAnchor(pem, now)
	d.Append(td)
	if ta == nil {
		return nil, nil
	}
	info := &trustAnchorInfo{Mode: ta.Mode, Certificate: cert.Value}
	if len(ta.Certificates) > 0 {
		c := ta.Certificates[0]
		info.Subject = c.Subject.String()
		info.NotAfter = c.NotAfter.UTC().Format(time.DateOnly)
	}
	return info, nil
}

// vmSizes gathers the VM sizes to check: those of the values, read by a render of the pattern with this
// metadata (the real loader: value file order, templated file names, --set), then --size flags; each once,
// at the first place it is named.
func (o *checkOptions) vmSizes(md []byte, mdName string, facts []metadata.Override, d *diag.List) []metadata.VMSize {
	var out []metadata.VMSize
	if o.valuesDir != "" {
		req := pipeline.Request{ClusterGroup: o.clusterGroup, Sets: o.sets, SetStrings: o.setStrings, Metadata: md, MetadataName: mdName, Facts: facts}
		res, err := o.render(req)
		var de *diag.Diagnostics
		switch {
		case errors.As(err, &de):
			for _, x := range de.Items {
				d.Add(x)
			}
		case err != nil:
			d.Errorf(srcpos.Pos{File: o.valuesDir}, "", "%v", err)
		default:
			az := res.Azure
			if az.DefaultVMFlavour != "" {
				out = append(out, metadata.VMSize{Name: az.DefaultVMFlavour, Pos: az.DefaultPos})
			}
			for _, name := range az.VMFlavours {
				out = append(out, metadata.VMSize{Name: name, Pos: az.FlavoursPos})
			}
		}
	}
	for _, sz := range o.sizes {
		if v, ok := metadata.CheckVMSize(helmvalues.StringFromFlag(sz, srcpos.Pos{File: "--size"}), "", d); ok {
			out = append(out, v)
		}
	}
	seen := map[string]bool{}
	uniq := out[:0]
	for _, v := range out {
		if !seen[v.Name] {
			seen[v.Name] = true
			uniq = append(uniq, v)
		}
	}
	return uniq
}

func writeCheckText(w io.Writer, r checkReport, azureAsked bool) {
	fmt.Fprintf(w, "%s: %d facts\n", r.Metadata, len(r.Facts))
	if r.PeerPods != nil {
		fmt.Fprintln(w, "peer-pods-cm from the Azure facts:")
		for _, k := range slices.Sorted(maps.Keys(r.PeerPods)) {
			fmt.Fprintf(w, "  %s=%s\n", k, r.PeerPods[k])
		}
	}
	if ta := r.TrustAnchor; ta != nil {
		if ta.Mode == "public" {
			fmt.Fprintln(w, "KBS trust anchor: public CA (nothing embedded)")
		} else {
			fmt.Fprintf(w, "KBS trust anchor: mode %s, %s (%s, valid until %s)\n", ta.Mode, ta.Certificate, ta.Subject, ta.NotAfter)
		}
	}
	if len(r.VMSizes) > 0 && !azureAsked {
		fmt.Fprintf(w, "VM sizes (well-formed; --azure asks Azure about them): %s\n", strings.Join(r.VMSizes, ", "))
	}
	if !azureAsked || r.Location == "" {
		return
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	if len(r.Sizes) > 0 {
		fmt.Fprintf(w, "VM sizes in %s for subscription %s:\n", r.Location, r.Subscription)
		fmt.Fprintln(tw, "  SIZE\tSTATUS\tTEE")
		for _, x := range r.Sizes {
			fmt.Fprintf(tw, "  %s\t%s\t%s\n", x.Name, x.Status, x.TEE)
		}
		tw.Flush()
	}
	if len(r.Confidential) == 0 {
		fmt.Fprintf(w, "%s offers no confidential VM sizes (SNP or TDX) to this subscription\n", r.Location)
		return
	}
	fmt.Fprintf(w, "confidential VM sizes in %s:\n", r.Location)
	fmt.Fprintln(tw, "  SIZE\tTEE\tVCPUS\tMEMORY GB\tFAMILY\tRESTRICTED")
	for _, c := range r.Confidential {
		restricted := c.Reason
		if restricted == "" && c.Zones != "" {
			restricted = "zones " + c.Zones
		}
		if restricted == "" {
			restricted = "-"
		}
		fmt.Fprintf(tw, "  %s\t%s\t%d\t%s\t%s\t%s\n", c.Name, c.TEE, c.VCPUs, c.MemoryGB, c.Family, restricted)
	}
	tw.Flush()
}

// render renders the pattern of --values-dir (in the repository of --repo-root, else the nearest .git above it)
// for the values check: the repository is located on disk here, as for render.
func (o *checkOptions) render(req pipeline.Request) (*pipeline.Result, error) {
	loc, err := repo.Locate(o.repoRoot, o.valuesDir)
	if err != nil {
		return nil, err
	}
	req.At(loc, o.valuesDir)
	return pipeline.Render(req)
}
