package agentpolicy

import (
	"bytes"

	"github.com/cocogen/cocogen/internal/lazyre"
)

// A policy source may declare `package agent_policy` (what the guest queries) or a sub-package
// `package agent_policy.<name>`. Sub-packages let several policies live in one directory: OPA, and so
// `opa test policies/`, compiles every file of a directory together, and two policies in the same package would
// collide. The guest only ever receives one policy, and cocogen renders it with its package clause set to
// `package agent_policy` (Finalize); that one line is the only difference between the source and what is encoded
// apart from the exec allow-list. Validate checks a sub-package source as the rendered policy.
var subPackageRe = lazyre.New(`(?m)^([ \t]*package[ \t]+)agent_policy\.[A-Za-z_][A-Za-z0-9_]*([ \t]*(#.*)?)$`)

// guestPackage sets the package clause of a sub-package source to the package the guest queries. Line and
// column numbers of everything else stay the same.
func guestPackage(src []byte) []byte {
	if !subPackageRe.Match(src) {
		return src
	}
	loc := subPackageRe.FindSubmatchIndex(src)
	out := make([]byte, 0, len(src))
	out = append(out, src[:loc[3]]...)
	out = append(out, Package...)
	out = append(out, src[loc[4]:]...)
	return out
}

// IsSubPackage reports whether src declares a sub-package of agent_policy.
func IsSubPackage(src []byte) bool {
	return subPackageRe.Match(src) && !bytes.Equal(guestPackage(src), src)
}
