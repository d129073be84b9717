package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/cocogen/cocogen/internal/diag"
	"github.com/cocogen/cocogen/internal/initdata"
	"github.com/cocogen/cocogen/internal/srcpos"
)

// maxInitDataInput bounds what the initdata commands read, like every other input of cocogen.
const maxInitDataInput = 8 << 20

func newInitDataCommand(s streams) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "initdata",
		Short: "Decode init-data and compute its attestation digests",
		Long: `Init-data is the TOML document (version 0.1.0) that carries the Attestation Agent configuration
(aa.toml), the Confidential Data Hub configuration (cdh.toml) and the Kata agent policy (policy.rego) into a
confidential pod VM. It travels as standard base64 of gzip(TOML) in the pod annotation
io.katacontainers.config.hypervisor.cc_init_data (Kata 3.20 and later; io.katacontainers.config.runtime.cc_init_data
in Kata 3.16 to 3.19) and in the INITDATA key of the peer-pods-cm ConfigMap.

The TEE binds the document through its digest, the hash named by its algorithm key over the exact TOML
bytes. The digests printed are:

  <algorithm>     the digest itself, as the Kata agent and the Attestation Agent compute it
  snp-host-data   AMD SEV-SNP HOST_DATA: the digest cut, or zero-padded, to 32 bytes
  tdx-mrconfigid  Intel TDX MRCONFIGID: the digest cut, or zero-padded, to 48 bytes
  azure-pcr8      PCR 8 of an Azure confidential VM's vTPM after the peer pod VM extends it with the
                  first 32 bytes of the digest: sha256(32 zero bytes || digest[0:32])`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return cmd.Help()
		},
	}
	cmd.AddCommand(newInitDataRenderCommand(s), newInitDataDecodeCommand(s), newInitDataDigestCommand(s), newInitDataKeepCommand(s))
	return cmd
}

// initDataFlags are the flags the initdata commands share.
type initDataFlags struct {
	output     string
	diagFormat string
}

func (f *initDataFlags) register(cmd *cobra.Command) {
	outputFlag(cmd.Flags(), &f.output, "text", initDataFormats)
	diagFormatFlag(cmd.Flags(), &f.diagFormat)
}

func (f *initDataFlags) check(cmd *cobra.Command) error {
	return nil
}

func newInitDataDecodeCommand(s streams) *cobra.Command {
	var f initDataFlags
	cmd := &cobra.Command{
		Use:   "decode [FILE|-]",
		Short: "Print the readable init-data (or agent policy) behind an encoded value, with its digests",
		Long: `Decode reads FILE (or stdin when FILE is - or missing) and prints the readable content of every encoded
value in it, with the digests of each init-data document. FILE may hold:

  - one encoded value: base64 of gzip(TOML), plain base64 of the TOML (cloud-api-adaptor before v0.14.0),
    or the TOML itself;
  - Kubernetes objects (YAML, any number of documents): INITDATA of a ConfigMap such as peer-pods-cm, and
    the annotations io.katacontainers.config.hypervisor.cc_init_data,
    io.katacontainers.config.runtime.cc_init_data and io.katacontainers.config.agent.policy (base64 of the
    Rego text, without gzip) of any object or pod template. Each value is printed under the object and field
    it came from.

A value that does not decode, or a document the guest would refuse (version other than 0.1.0, an unknown
algorithm, a [data] value that is not a string, an unknown top-level key), is an error: the message goes to
stderr, nothing is printed on stdout and the exit code is 1. Warnings (the pre-3.20 annotation name, data
keys the guest ignores, sizes near the Kubernetes or Azure limits) go to stderr.`,
		Example: `  # The default init-data of peer pods
  oc get configmap peer-pods-cm -n openshift-sandboxed-containers-operator -o yaml | cocogen initdata decode

  # Every init-data and policy annotation of the pods in a namespace, as JSON
  oc get pods -n hello-openshift -o yaml | cocogen initdata decode -o json

  # One annotation value saved to a file
  cocogen initdata decode initdata.b64`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := f.check(cmd); err != nil {
				return err
			}
			name, data, err := readInitDataInput(s.in, args)
			if err != nil {
				return err
			}
			items, diags := decodeInput(name, data)
			return finishInitData(s, f.diagFormat, diags, func(w io.Writer) error { return writeDecoded(w, f.output, items) })
		},
	}
	f.register(cmd)
	return cmd
}

func newInitDataDigestCommand(s streams) *cobra.Command {
	var f initDataFlags
	var pf profileFlags
	cmd := &cobra.Command{
		Use:   "digest [FILE|-]",
		Short: "Print the attestation digests of an init-data profile or document",
		Long: `With --profile, digest renders that init-data profile of the pattern and prints its digests: the values
Trustee's reference values must hold for pods that run it. Otherwise it reads an init-data TOML document from
FILE (or stdin when FILE is - or missing), checks it as the guest would, and prints its digests. The digests
are computed over the document's bytes exactly as they are: a change of whitespace or key order is a different
document. An encoded value (base64 of gzip(TOML)) is accepted too; the digests are then those of the TOML
inside it.`,
		Example: `  cocogen initdata digest --profile default
  cocogen initdata digest --profile debug -o json | jq -r .azurePcr8
  cocogen initdata digest initdata.toml`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := f.check(cmd); err != nil {
				return err
			}
			if cmd.Flags().Changed("profile") {
				if len(args) > 0 {
					return usageError{err: fmt.Errorf("give either --profile or FILE, not both"), cmd: cmd}
				}
				return profileDigests(s, &pf, f.diagFormat, f.output)
			}
			name, data, err := readInitDataInput(s.in, args)
			if err != nil {
				return err
			}
			var diags diag.List
			pos := srcpos.Pos{File: name}
			var digests initdata.Digests
			if initdata.IsObjectStream(data) {
				diags.Errorf(pos, "", "this is Kubernetes YAML, not init-data: use cocogen initdata decode to read the init-data inside objects")
			} else if d, err := initdata.Decode(data); err != nil {
				diags.Errorf(pos, "", "%v", err)
			} else {
				for _, w := range d.Warnings {
					diags.Warnf(pos, "", "%s", w)
				}
				digests = d.Digests
			}
			return finishInitData(s, f.diagFormat, &diags, func(w io.Writer) error { return writeDigests(w, f.output, digests) })
		},
	}
	f.register(cmd)
	pf.source.register(cmd.Flags())
	cmd.Flags().StringVar(&pf.profile, "profile", "", "print the digests of this init-data profile of the pattern")
	return cmd
}

// readInitDataInput reads the file named by the only argument, or stdin for "-" or no argument.
func readInitDataInput(stdin io.Reader, args []string) (name string, data []byte, err error) {
	name = "<stdin>"
	r := stdin
	if len(args) == 1 && args[0] != "-" {
		name = args[0]
		f, err := os.Open(name)
		if err != nil {
			return "", nil, inputError{err: fmt.Errorf("read init-data: %w", err)}
		}
		defer f.Close()
		r = f
	}
	data, err = io.ReadAll(io.LimitReader(r, maxInitDataInput+1))
	if err != nil {
		return "", nil, fmt.Errorf("read init-data from %s: %w", name, err)
	}
	if len(data) > maxInitDataInput {
		return "", nil, fmt.Errorf("read init-data: %s is larger than %d bytes", name, maxInitDataInput)
	}
	return name, data, nil
}

// decodeInput decodes every encoded value of an input: the input itself, or the fields of the Kubernetes
// objects it holds.
func decodeInput(name string, data []byte) ([]decodedItem, *diag.List) {
	if !initdata.IsObjectStream(data) {
		diags := &diag.List{}
		pos := srcpos.Pos{File: name}
		d, err := initdata.Decode(data)
		if err != nil {
			diags.Errorf(pos, "", "%v", err)
			return nil, diags
		}
		item := decodedItem{Source: name, InitData: &d}
		if d.Encoding != initdata.EncodingTOML {
			item.EncodedSize = len(bytes.TrimSpace(data))
			checkAzure(diags, pos, "", string(bytes.TrimSpace(data)))
		}
		for _, w := range d.Warnings {
			diags.Warnf(pos, "", "%s", w)
		}
		return []decodedItem{item}, diags
	}
	fields, diags := initdata.Find(name, data)
	if len(fields) == 0 && !diags.HasErrors() {
		diags.Errorf(srcpos.Pos{File: name}, "", "found no encoded value: looked for %s in ConfigMaps and the annotations %s, %s and %s",
			initdata.ConfigMapKey, initdata.AnnotationInitData, initdata.AnnotationInitDataRuntime, initdata.AnnotationAgentPolicy)
	}
	var items []decodedItem
	for i := range fields {
		f := &fields[i]
		item := decodedItem{Source: f.String(), Field: f, EncodedSize: len(strings.TrimSpace(f.Value))}
		if f.Content == initdata.ContentAgentPolicy {
			rego, err := initdata.DecodeAgentPolicy([]byte(f.Value))
			if err != nil {
				diags.Errorf(f.Pos, f.String(), "%v", err)
				continue
			}
			item.Policy = &rego
			items = append(items, item)
			continue
		}
		d, err := initdata.Decode([]byte(f.Value))
		if err != nil {
			diags.Errorf(f.Pos, f.String(), "%v", err)
			continue
		}
		if d.Encoding == initdata.EncodingTOML {
			item.EncodedSize = 0
			diags.Warnf(f.Pos, f.String(), "holds TOML, not base64 of gzip(TOML): Kata and cloud-api-adaptor read only the encoded form")
		} else {
			checkAzure(diags, f.Pos, f.String(), strings.TrimSpace(f.Value))
		}
		for _, w := range d.Warnings {
			diags.Warnf(f.Pos, f.String(), "%s", w)
		}
		item.InitData = &d
		items = append(items, item)
	}
	return items, diags
}

// checkAzure warns when an encoded init-data is too big for the user data of an Azure peer pod VM.
func checkAzure(diags *diag.List, pos srcpos.Pos, path, encoded string) {
	warning, err := initdata.CheckAzureUserData(encoded)
	if err != nil {
		warning = err.Error()
	}
	if warning != "" {
		diags.Warnf(pos, path, "%s", warning)
	}
}

// finishInitData prints the diagnostics and, when there is no error, the output: all of it or nothing.
func finishInitData(s streams, diagFormat string, diags *diag.List, write func(io.Writer) error) error {
	if err := diag.Write(s.err, diagFormat, diags.Sorted(), false); err != nil {
		return err
	}
	if diags.HasErrors() {
		return &exitError{code: exitInvalid}
	}
	var buf bytes.Buffer
	if err := write(&buf); err != nil {
		return err
	}
	_, err := s.out.Write(buf.Bytes())
	return err
}
