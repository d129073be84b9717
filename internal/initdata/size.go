package initdata

import "fmt"

// MaxAnnotationsSize is Kubernetes' limit on the annotations of one object: the sum of the lengths of every
// key and value must not exceed 256 KiB (apimachinery TotalAnnotationSizeLimitB). The API server rejects a
// larger object, so an init-data or policy annotation that is too big fails the apply, not the pod start.
const MaxAnnotationsSize = 256 << 10

// AnnotationsSize is the size Kubernetes counts for a set of annotations: the lengths of keys and values.
func AnnotationsSize(annotations map[string]string) int {
	n := 0
	for k, v := range annotations {
		n += len(k) + len(v)
	}
	return n
}

// CheckAnnotationsSize returns an error when the annotations of one object exceed MaxAnnotationsSize.
func CheckAnnotationsSize(annotations map[string]string) error {
	if n := AnnotationsSize(annotations); n > MaxAnnotationsSize {
		return fmt.Errorf("the annotations total %d bytes (keys and values), more than Kubernetes' limit of %d bytes (256 KiB): shrink the agent policy or move shared configuration to the default init-data", n, MaxAnnotationsSize)
	}
	return nil
}

// Azure peer pods: cloud-api-adaptor writes the encoded init-data (its own gzip+base64 of the same TOML)
// into the VM's cloud-config, then base64-encodes the whole cloud-config as the VM's user data, which Azure
// limits to 64 KiB after encoding (cloud-api-adaptor refuses to create the VM above it). The cloud-config
// also holds the agent and network configuration and the registry credentials (auth.json, up to 12 KiB).
const (
	// AzureUserDataLimit is the limit on the base64 user data of an Azure VM.
	AzureUserDataLimit = 64 << 10
	// AzureInitDataLimit is the largest encoded init-data that could fit at all: its base64 in the user data
	// takes 4/3 of its length, and 4/3 × 49152 = 65536 leaves no room for anything else.
	AzureInitDataLimit = AzureUserDataLimit / 4 * 3
	// AzureInitDataWarnSize is where a warning starts: above 32 KiB of encoded init-data, less than 16 KiB
	// is left for the rest of the cloud-config, about what the agent configuration, the network setup and a
	// full 12 KiB auth.json need.
	AzureInitDataWarnSize = 32 << 10
)

// CheckAzureUserData checks an encoded init-data (the annotation or INITDATA value) against the Azure
// user-data limit of peer pods. It returns an error when the value can never fit, and a warning (with a nil
// error) when it is large enough that the rest of the cloud-config may push the user data over the limit.
func CheckAzureUserData(encoded string) (warning string, err error) {
	switch n := len(encoded); {
	case n > AzureInitDataLimit:
		return "", fmt.Errorf("the encoded init-data is %d bytes: an Azure peer pod VM cannot start with it, because its user data (the base64 cloud-config that carries it) is limited to %d bytes, which leaves at most %d bytes for init-data", n, AzureUserDataLimit, AzureInitDataLimit)
	case n > AzureInitDataWarnSize:
		return fmt.Sprintf("the encoded init-data is %d bytes, more than %d: on Azure, peer pod VMs may fail to start because the user data that carries it is limited to %d bytes in total", n, AzureInitDataWarnSize, AzureUserDataLimit), nil
	}
	return "", nil
}
