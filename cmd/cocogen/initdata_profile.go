package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/cocogen/cocogen/internal/pipeline"
)

// profileFlags select a rendered init-data profile of the pattern.
type profileFlags struct {
	source  sourceFlags
	profile string
	encoded bool
}

// renderProfile renders the pattern and returns one of its init-data profiles (the default one when no
// name is given).
func (f *profileFlags) renderProfile(s streams, diagFormat string) (*pipeline.Profile, error) {
	req, err := f.source.request(s.in)
	if err != nil {
		return nil, err
	}
	res, err := renderFor(s, req, diagFormat, false)
	if err != nil {
		return nil, err
	}
	if len(res.ProfileNames) == 0 {
		fmt.Fprintln(s.err, "error: the pattern declares no init-data profiles (global.coco.initdata.profiles)")
		return nil, &exitError{code: exitInvalid}
	}
	name := f.profile
	if name == "" {
		name = res.DefaultProfile
	}
	p, err := res.Profile(name)
	if err != nil {
		fmt.Fprintf(s.err, "error: %v\n", err)
		return nil, &exitError{code: exitInvalid}
	}
	return p, nil
}

func newInitDataRenderCommand(s streams) *cobra.Command {
	var f profileFlags
	var diagFormat string
	cmd := &cobra.Command{
		Use:   "render",
		Short: "Print the init-data TOML of a profile, exactly as it is encoded",
		Long: `Render builds an init-data profile of the pattern (global.coco.initdata.profiles) from its readable sources
— the agent policy under policies/agent/, the aa.toml and cdh.toml templates under policies/initdata/ filled
from the cluster metadata (KBS endpoint and trust anchor) — validates it and prints the TOML document whose
bytes are encoded into peer-pods-cm and the pod annotations. --encoded prints the encoded value instead.`,
		Example: `  cocogen initdata render --profile default
  cocogen initdata render --profile debug -m clusters/prod.yaml
  cocogen initdata render --profile default --encoded | cocogen initdata decode`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			p, err := f.renderProfile(s, diagFormat)
			if err != nil {
				return err
			}
			if f.encoded {
				_, err = fmt.Fprintln(s.out, p.Encoded)
				return err
			}
			_, err = s.out.Write(p.TOML)
			return err
		},
	}
	f.source.register(cmd.Flags())
	cmd.Flags().StringVar(&f.profile, "profile", "", "init-data profile (default: global.coco.initdata.default)")
	cmd.Flags().BoolVar(&f.encoded, "encoded", false, "print base64 of gzip(TOML), as it goes into annotations and peer-pods-cm")
	diagFormatFlag(cmd.Flags(), &diagFormat)
	return cmd
}

// profileDigests is the digest command's profile mode.
func profileDigests(s streams, f *profileFlags, diagFormat, output string) error {
	p, err := f.renderProfile(s, diagFormat)
	if err != nil {
		return err
	}
	return writeDigests(s.out, output, p.Digests)
}
