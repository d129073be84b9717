package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/cocogen/cocogen/internal/podvm"
)

func newPodVMPinCommand(s streams) *cobra.Command {
	var measurements, valuesFile, valuesDir, source, tee string
	var pcrs []int
	var add, print bool
	cmd := &cobra.Command{
		Use:   "pin --measurements FILE",
		Short: "Write the measurements of a pod VM image into the values as podVMPCRs",
		Long: `Pin reads the measurements of a pod VM image and writes the chosen vTPM PCRs into a values file as
global.coco.trustee.referenceValues.podVMPCRs, removing acceptUnpinnedPodVM. The rest of the file, comments
included, stays as it is; the referenceValues map must be written in block style.

FILE is the measurements.json of the OpenShift sandboxed containers dm-verity pod VM image
(/image/measurements.json in registry.redhat.io/openshift-sandboxed-containers/osc-dm-verity-image:<release>,
see README "Pinning the pod VM image"): {"measurements": {"sha256": {"pcr03": "0x...", ...}}}; - reads stdin.

By default PCRs 3, 9, 11 and 12 are pinned (boot loader configuration and code, unified kernel image, boot
events); PCRs 0 to 2 and 4 to 7 measure the Azure firmware, and PCR 8 binds the init-data, which cocogen
computes. With --add the values already pinned stay beside the new ones, so that pods of the old and the
new image both attest during an upgrade.

On bare metal (--tee snp or --tee tdx) the pod VM is bound by its launch measurements instead: FILE is then
the firmware reference values of the OpenShift release's Kata pod VM, as veritas computes them from the
release's kata-containers and edk2-ovmf packages (see README "Bare metal"), a JSON object with
snp_launch_measurement, or mr_td and optionally rtmr_1 and rtmr_2 (a sha384 hex value or a list). They are
written as snpLaunchMeasurements, or tdxMRTD, tdxRTMR1 and tdxRTMR2; acceptUnpinnedPodVM stays (the
attestation policy ignores it for a TEE that is pinned).`,
		Example: `  # Pin the pod VM image of the sandboxed containers release in use
  cocogen podvm pin --measurements measurements.json

  # During an upgrade: accept the old and the new image, and look before writing
  cocogen podvm pin --measurements measurements-1.14.json --add --print | diff values/values-global.yaml -

  # Bare metal: the SEV-SNP launch measurement and the TDX MR_TD and RTMRs of the release's pod VM
  cocogen podvm pin --tee snp --measurements firmware-reference-values.json
  cocogen podvm pin --tee tdx --measurements firmware-reference-values.json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if measurements == "" {
				return usageError{err: errors.New("--measurements is required: the measurements.json of the pod VM image"), cmd: cmd}
			}
			if valuesFile == "" {
				valuesFile = filepath.Join(valuesDir, "values-global.yaml")
			}
			var data []byte
			var err error
			shown := measurements
			if measurements == "-" {
				shown = "<stdin>"
				data, err = io.ReadAll(io.LimitReader(s.in, 8<<20))
			} else {
				data, err = os.ReadFile(measurements)
			}
			if err != nil {
				fmt.Fprintf(s.err, "error: %v\n", err)
				return &exitError{code: exitInvalid}
			}
			if tee != "" {
				return pinLaunch(s, cmd, tee, shown, data, valuesFile, source, add, print)
			}
			m, err := podvm.ReadMeasurements(data)
			if err != nil {
				fmt.Fprintf(s.err, "%s: error: %v\n", shown, err)
				return &exitError{code: exitInvalid}
			}
			selected, err := m.Select(pcrs)
			if err != nil {
				return usageError{err: fmt.Errorf("--pcr: %w", err), cmd: cmd}
			}
			src, err := os.ReadFile(valuesFile)
			if err != nil {
				fmt.Fprintf(s.err, "error: %v\n", err)
				return &exitError{code: exitInvalid}
			}
			if source == "" {
				source = filepath.Base(shown)
			}
			out, err := podvm.Pin(valuesFile, src, selected, source, add)
			if err != nil {
				fmt.Fprintf(s.err, "error: %v\n", err)
				return &exitError{code: exitInvalid}
			}
			var names []string
			for _, p := range selected {
				names = append(names, p.Name)
			}
			return writePinned(s, valuesFile, out, print, names)
		},
	}
	f := cmd.Flags()
	f.StringVar(&measurements, "measurements", "", "measurements.json of the pod VM image (- for stdin)")
	f.StringVar(&valuesDir, "values-dir", "values", "directory of values-global.yaml")
	f.StringVar(&valuesFile, "values", "", "values file to edit (default: values-global.yaml in --values-dir)")
	f.IntSliceVar(&pcrs, "pcr", podvm.DefaultPCRs, "PCRs to pin")
	f.BoolVar(&add, "add", false, "keep the values already pinned beside the new ones")
	f.BoolVar(&print, "print", false, "print the edited values file instead of writing it")
	f.StringVar(&tee, "tee", "", "pin the launch measurements of a bare-metal pod VM: "+strings.Join(podvm.LaunchTEEs, " or ")+" (default: the Azure vTPM PCRs)")
	f.StringVar(&source, "source", "", "what the measurements are of, for the comment above podVMPCRs (default: the file name)")
	return cmd
}

// pinLaunch writes the launch measurements of a bare-metal pod VM for tee into the values file.
func pinLaunch(s streams, cmd *cobra.Command, tee, shown string, data []byte, valuesFile, source string, add, print bool) error {
	if !slices.Contains(podvm.LaunchTEEs, tee) {
		return usageError{err: fmt.Errorf("invalid --tee %q (valid: %s)", tee, strings.Join(podvm.LaunchTEEs, ", ")), cmd: cmd}
	}
	if cmd.Flags().Changed("pcr") {
		return usageError{err: errors.New("--pcr picks vTPM PCRs of an Azure pod VM; with --tee the launch measurements are pinned"), cmd: cmd}
	}
	pins, err := podvm.ReadLaunch(data, tee)
	if err != nil {
		fmt.Fprintf(s.err, "%s: error: %v\n", shown, err)
		return &exitError{code: exitInvalid}
	}
	src, err := os.ReadFile(valuesFile)
	if err != nil {
		fmt.Fprintf(s.err, "error: %v\n", err)
		return &exitError{code: exitInvalid}
	}
	if source == "" {
		source = filepath.Base(shown)
	}
	out, err := podvm.PinLaunch(valuesFile, src, tee, pins, source, add)
	if err != nil {
		fmt.Fprintf(s.err, "error: %v\n", err)
		return &exitError{code: exitInvalid}
	}
	var names []string
	for _, p := range pins {
		names = append(names, p.Key)
	}
	return writePinned(s, valuesFile, out, print, names)
}

// writePinned prints the edited values file (--print) or writes it and says which measurements it pinned.
func writePinned(s streams, valuesFile string, out []byte, print bool, names []string) error {
	if printed, err := printOrWrite(s, valuesFile, out, print); printed || err != nil {
		return err
	}
	_, err := fmt.Fprintf(s.out, "%s: pinned %s\n", valuesFile, strings.Join(names, ", "))
	return err
}
