package main

import (
	"bytes"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/cocogen/cocogen/internal/node"
	"github.com/cocogen/cocogen/internal/review"
)

func newDecodeCommand(s streams) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "decode [FILE|-]",
		Short: "Rewrite the encoded fields of Kubernetes objects into readable text, with digests",
		Long: `Decode reads Kubernetes objects (YAML, any number of documents, or a List as 'oc get -o yaml' prints
it) from FILE or stdin and prints them again with every encoded field it recognises in readable form:

  - INITDATA of a ConfigMap (peer-pods-cm) and the io.katacontainers.config.hypervisor.cc_init_data and
    io.katacontainers.config.runtime.cc_init_data annotations of any object or pod template: the init-data
    TOML, headed by comments with its encoding and digests (the algorithm's digest, Azure PCR8, SNP HOST_DATA,
    TDX MRCONFIGID);
  - io.katacontainers.config.agent.policy annotations: the Rego;
  - reference_value of Trustee's rvps-reference-values ConfigMap: the stored reference values as JSON.

Keys are sorted and List items become documents of their own, so the output of a live cluster and of a render
compare line by line. Secrets are never decoded. Decoding twice gives the same text (decoded values start
with "# decoded by cocogen:"). A field that does not decode is an error: nothing is printed and the exit code
is 1. For a summary of one init-data value, see 'cocogen initdata decode'.`,
		Example: `  # What the cluster runs, next to what Git renders
  oc get cm peer-pods-cm -n openshift-sandboxed-containers-operator -o yaml > live.yaml
  cocogen decode live.yaml | diff - <(cocogen render --app sandbox | cocogen decode)

  # Every init-data annotation of the pods of a namespace
  oc get pods -n hello-openshift -o yaml | cocogen decode`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			name, in := "<stdin>", s.in
			if len(args) == 1 && args[0] != "-" {
				f, err := os.Open(args[0])
				if err != nil {
					return inputError{err: err}
				}
				defer f.Close()
				name, in = args[0], f
			}
			data, err := io.ReadAll(io.LimitReader(in, int64(node.DefaultLimits.MaxBytes)+1))
			if err != nil {
				return err
			}
			docs, err := node.ParseStream(name, data, node.DefaultLimits)
			if err != nil {
				fmt.Fprintf(s.err, "%v\n", err)
				return &exitError{code: exitInvalid}
			}
			out, problems := review.Decode(docs)
			if len(problems) > 0 {
				for _, p := range problems {
					fmt.Fprintf(s.err, "%s: error: %s\n", name, p)
				}
				return &exitError{code: exitInvalid}
			}
			var b bytes.Buffer
			for _, d := range out {
				b.WriteString("---\n")
				node.EncodeYAML(&b, d)
			}
			_, err = s.out.Write(b.Bytes())
			return err
		},
	}
	return cmd
}
