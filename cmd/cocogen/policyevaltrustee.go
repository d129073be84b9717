package main

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/cocogen/cocogen/internal/policyeval"
	"github.com/cocogen/cocogen/internal/trusteepolicy"
)

func newPolicyEvalTrusteeCommand(s streams) *cobra.Command {
	var f evalFlags
	var resource, tee, claims, gpuClaims, digest, at string
	var gpu bool
	cmd := &cobra.Command{
		Use:   "trustee --profile PROFILE --resource REPO/TYPE/TAG [--tee TEE] [--claims FILE] [--gpu [--gpu-claims FILE]] [--initdata-digest ALG:HEX [--at TIME]]",
		Short: "Decide whether Trustee releases a resource to a guest of an init-data profile",
		Long: `Trustee builds the input that Trustee 0.21's attestation service gives its attestation policy for a guest
started with the init-data of PROFILE on TEE, runs the rendered attestation policy (the attestation-policy
ConfigMap) with the rendered reference values (rvps-reference-values), issues the token claims as the EAR
broker does, then runs the rendered KBS resource policy (resource-policy) for REPO/TYPE/TAG. It prints the
trust vector, the token claims the resource policy sees, and whether the resource is released, with the
reason.

The guest is a sound one that matches every pinned reference value: its init-data binding (PCR 8 on Azure,
HOST_DATA on SEV-SNP, MRCONFIGID on TDX) is the profile's, its pod VM measurements the first pinned ones,
its firmware at the registered minimum, debugging off. --claims FILE (JSON, - for stdin) is merged over that
evidence as a JSON merge patch (RFC 7396; null removes a claim), e.g.
{"az-snp-vtpm": {"policy_debug_allowed": "true"}}.

TEE is one of ` + strings.Join(trusteepolicy.TEEs, ", ") + `; the default is az-snp-vtpm when the pattern runs
peer pods on Azure, on bare metal the first TEE of the metadata's hosts (snp, then tdx), else snp.

--gpu gives the guest an NVIDIA GPU (a Hopper GPU as Trustee's local NVIDIA verifier reports it, running
the first driver and VBIOS versions of global.coco.trustee.referenceValues.nvidiaGPU, with its pinned
measurements; or, when global.coco.baremetal.nvidiaVerifier is remote, the claims of NVIDIA's remote
attestation service for such a GPU, secure boot on and debugging disabled): its evidence is appraised by the rendered GPU attestation policy (attestation-policy-gpu) and
becomes the token's gpu0 submod beside cpu0. A resource with requires: [gpu] is released only with it.
--gpu-claims FILE (JSON, - for stdin) is merged over the GPU's evidence as --claims is over the CPU's, e.g.
{"nvidia": {"config": {"driver_version": "470.82.01"}}}; it implies --gpu.

--initdata-digest gives the guest other init-data than the profile renders now, by its digest as
cocogen.io/initdata-digest shows it: e.g. the previous init-data that global.coco.trustee.referenceValues.previous
keeps for pods started before a change. --at is the time of the attestation (YYYY-MM-DDTHH:MM:SSZ; default
now), which decides whether such a window is still open.`,
		Example: `  # Which profile gets kbsres1? (the debug profile, where oc exec works, must not)
  cocogen policy eval trustee --profile default --resource default/kbsres1/key1
  cocogen policy eval trustee --profile debug --resource default/kbsres1/key1

  # A pod started before the last policy change, after its window closed
  cocogen policy eval trustee --profile default --resource default/kbsres1/key1 \
    --initdata-digest sha256:6a4c0bf3... --at 2027-01-01T00:00:00Z

  # Bare metal: a SEV-SNP guest, then one whose SNP policy allows debugging (denied)
  cocogen policy eval trustee --cluster-group baremetal --tee snp --profile default --resource default/kbsres1/key1
  echo '{"snp": {"policy_debug_allowed": true}}' |
    cocogen policy eval trustee --cluster-group baremetal --tee snp --profile default --resource default/kbsres1/key1 --claims -

  # Bare metal with GPUs: a secret gated on CPU and GPU evidence, with and without a GPU, and with a GPU
  # that runs a driver the values do not list (denied)
  cocogen policy eval trustee --cluster-group baremetal-gpu --tee tdx --gpu --profile default --resource default/gpu-model-key/key
  cocogen policy eval trustee --cluster-group baremetal-gpu --tee tdx --profile default --resource default/gpu-model-key/key
  echo '{"nvidia": {"config": {"driver_version": "470.82.01"}}}' |
    cocogen policy eval trustee --cluster-group baremetal-gpu --tee tdx --gpu-claims - --profile default --resource default/gpu-model-key/key

  # A guest that allows debugging, on Azure TDX
  echo '{"az-tdx-vtpm": {"td_attributes": {"debug": true}}}' |
    cocogen policy eval trustee --profile default --resource default/kbsres1/key1 --tee az-tdx-vtpm --claims - -o json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if resource == "" {
				return usageError{err: errors.New("--resource is required: the KBS resource as REPO/TYPE/TAG, e.g. default/kbsres1/key1"), cmd: cmd}
			}
			if parts := strings.Split(resource, "/"); len(parts) != 3 || slices.Contains(parts, "") {
				return usageError{err: fmt.Errorf("invalid --resource %q: write REPO/TYPE/TAG, e.g. default/kbsres1/key1", resource), cmd: cmd}
			}
			if tee != "" && !slices.Contains(trusteepolicy.TEEs, tee) {
				return usageError{err: fmt.Errorf("invalid --tee %q (valid: %s)", tee, strings.Join(trusteepolicy.TEEs, ", ")), cmd: cmd}
			}
			if claims == "-" && gpuClaims == "-" {
				return usageError{err: errors.New("--claims and --gpu-claims cannot both read stdin"), cmd: cmd}
			}
			res, err := f.render(cmd, s)
			if err != nil {
				return err
			}
			o := policyeval.TrusteeOptions{Profile: f.profile, Resource: resource, TEE: tee, InitData: digest}
			if at != "" {
				t, err := time.Parse(time.RFC3339, at)
				if err != nil || !strings.HasSuffix(at, "Z") {
					return usageError{err: fmt.Errorf("invalid --at %q: write a UTC time, YYYY-MM-DDTHH:MM:SSZ", at), cmd: cmd}
				}
				o.At = t
			}
			if o.Claims, err = readClaims(s, claims, "the claims", "the guest's evidence"); err != nil {
				return err
			}
			o.GPU = gpu
			if o.GPUClaims, err = readClaims(s, gpuClaims, "the GPU claims", "the GPU's evidence"); err != nil {
				return err
			}
			r, err := policyeval.Trustee(commandContext(cmd), res, o)
			if err != nil {
				fmt.Fprintf(s.err, "error: %v\n", err)
				return &exitError{code: exitInvalid}
			}
			return policyeval.WriteTrustee(s.out, f.output, r)
		},
	}
	f.register(cmd)
	cmd.Flags().StringVar(&resource, "resource", "", "the KBS resource, REPO/TYPE/TAG (required)")
	cmd.Flags().StringVar(&tee, "tee", "", "the guest's TEE: "+strings.Join(trusteepolicy.TEEs, ", ")+" (default: the pattern's)")
	cmd.Flags().StringVar(&claims, "claims", "", "JSON merged over the guest's evidence (- for stdin)")
	cmd.Flags().BoolVar(&gpu, "gpu", false, "give the guest an NVIDIA GPU whose evidence comes beside the CPU's (the token's gpu0)")
	cmd.Flags().StringVar(&gpuClaims, "gpu-claims", "", "JSON merged over the GPU's evidence (- for stdin); implies --gpu")
	cmd.Flags().StringVar(&digest, "initdata-digest", "", "the digest (ALG:HEX) of the guest's init-data, instead of the profile's current one")
	cmd.Flags().StringVar(&at, "at", "", "the time of the attestation, YYYY-MM-DDTHH:MM:SSZ (default: now)")
	return cmd
}

// readClaims reads a JSON object of claims from file (- for stdin), a merge patch over the evidence named by
// over; nil when file is "".
func readClaims(s streams, file, what, over string) (map[string]any, error) {
	if file == "" {
		return nil, nil
	}
	v, err := readJSONFile(s, file)
	if err != nil {
		return nil, err
	}
	m, ok := v.(map[string]any)
	if !ok {
		fmt.Fprintf(s.err, "error: %s: %s must be a JSON object (a merge patch over %s)\n", file, what, over)
		return nil, &exitError{code: exitInvalid}
	}
	return m, nil
}
