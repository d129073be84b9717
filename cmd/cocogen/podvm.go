package main

import (
	"github.com/spf13/cobra"
)

// newPodVMCommand groups the commands about the pod VM image that Trustee accepts.
func newPodVMCommand(s streams) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "podvm",
		Short: "Pin the pod VM image that attestation accepts",
		Long: `On Azure, a peer pod runs in a confidential VM booted from the pod VM image that the host picks
(AZURE_IMAGE_ID in peer-pods-cm is written on the host side). Trustee's attestation policy affirms the image
only when its boot measurements, the vTPM PCRs, are pinned in global.coco.trustee.referenceValues.podVMPCRs.
Red Hat publishes a dm-verity pod VM image for each OpenShift sandboxed containers release together with
its measurements; these commands write them into the values.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return cmd.Help()
		},
	}
	cmd.AddCommand(newPodVMPinCommand(s))
	return cmd
}
