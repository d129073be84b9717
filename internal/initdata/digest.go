package initdata

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
)

// Digests are the values an attestation policy compares init-data with, all computed from the exact TOML bytes
// that are encoded (never from a re-serialised form). Hex strings, lowercase.
type Digests struct {
	// Algorithm is the document's algorithm, which chose the hash below.
	Algorithm Algorithm `json:"algorithm"`
	// Digest is H_algorithm(TOML): what the Kata shim, the agent and the Attestation Agent compute.
	Digest string `json:"digest"`
	// SNPHostData is the AMD SEV-SNP HOST_DATA field (32 bytes): the digest cut to 32 bytes, or padded
	// with zero bytes at the end when shorter.
	SNPHostData string `json:"snpHostData"`
	// TDXMRConfigID is the Intel TDX MRCONFIGID field (48 bytes): the digest cut or zero-padded to 48 bytes
	// (a sha256 digest is followed by 16 zero bytes).
	TDXMRConfigID string `json:"tdxMrConfigId"`
	// AzurePCR8 is the sha256-bank PCR 8 of an Azure confidential VM's vTPM (az-snp-vtpm, az-tdx-vtpm) after
	// a peer pod VM extends it once, from zero, with the first 32 bytes of the digest:
	// sha256(32 zero bytes ‖ digest[0:32]).
	AzurePCR8 string `json:"azurePcr8"`
}

// Lengths of the TEE fields that bind init-data.
const (
	snpHostDataSize   = 32
	tdxMRConfigIDSize = 48
	pcrExtendSize     = 32 // the sha256 PCR bank takes a 32-byte digest
)

// ComputeDigests hashes tomlBytes with alg and derives the TEE binding values from the result. The rule for
// every binding is the one Kata (kata-types adjust_digest), the Attestation Agent and Trustee's verifiers
// share: cut a longer digest, pad a shorter one with zero bytes at the end. On Azure, cloud-api-adaptor's
// pod VM writes the hex digest and extends PCR 8 with its first 64 hex characters, so a sha384 or sha512
// digest still binds through its first 32 bytes.
func ComputeDigests(alg Algorithm, tomlBytes []byte) (Digests, error) {
	h := alg.hash()
	if h == nil {
		return Digests{}, fmt.Errorf("algorithm %q is not one of %s", alg, algorithmList())
	}
	h.Write(tomlBytes)
	return fromSum(alg, h.Sum(nil)), nil
}

// DigestsOf derives the TEE binding values from a digest already computed (lowercase hex of algorithm alg, as
// cocogen.io/initdata-digest shows it after the colon): the bindings of init-data that is no longer rendered.
func DigestsOf(alg Algorithm, digest string) (Digests, error) {
	h := alg.hash()
	if h == nil {
		return Digests{}, fmt.Errorf("algorithm %q is not one of %s", alg, algorithmList())
	}
	sum, err := hex.DecodeString(digest)
	if err != nil || len(sum) != h.Size() || hex.EncodeToString(sum) != digest {
		return Digests{}, fmt.Errorf("%q is not a %s digest (%d lowercase hex characters)", digest, alg, 2*h.Size())
	}
	return fromSum(alg, sum), nil
}

// fromSum derives the bindings of the digest sum.
func fromSum(alg Algorithm, sum []byte) Digests {
	pcr := sha256.New()
	pcr.Write(make([]byte, sha256.Size))
	pcr.Write(adjust(sum, pcrExtendSize))
	return Digests{
		Algorithm:     alg,
		Digest:        hex.EncodeToString(sum),
		SNPHostData:   hex.EncodeToString(adjust(sum, snpHostDataSize)),
		TDXMRConfigID: hex.EncodeToString(adjust(sum, tdxMRConfigIDSize)),
		AzurePCR8:     hex.EncodeToString(pcr.Sum(nil)),
	}
}

// adjust returns digest cut to n bytes, or padded with zero bytes at the end to n bytes.
func adjust(digest []byte, n int) []byte {
	out := make([]byte, n)
	copy(out, digest)
	return out
}
