package trusteepolicy

import (
	"bytes"
	"fmt"

	"github.com/cocogen/cocogen/internal/lazyre"
)

// packageLineRe matches a package clause of the policy package or one sub-package of it, alone on its line
// but for a trailing comment. Group 1 is the sub-package suffix (".resource"), empty for `package policy`.
var packageLineRe = lazyre.New(`^[ \t]*package[ \t]+` + Package + `(\.[A-Za-z_][A-Za-z0-9_]*)?[ \t]*(?:#.*)?$`)

// Render returns the policy Trustee receives for the source src: a source that declares a sub-package
// (`package policy.resource`) gets `package policy`, the package Trustee queries; one that declares `package
// policy` is returned as it is. Nothing else changes, byte for byte, so lines and columns stay the same. The
// package clause must be the first line that is neither blank nor a comment, written on one line; any other
// package is an error.
func Render(src []byte) ([]byte, error) {
	start, end, lineNo := packageLine(src)
	if start < 0 {
		return nil, fmt.Errorf("the policy has no package clause: start it with `package %s` (or `package %s.<name>` in the source)", Package, Package)
	}
	line := bytes.TrimSuffix(src[start:end], []byte("\r"))
	m := packageLineRe.FindSubmatchIndex(line)
	if m == nil {
		return nil, fmt.Errorf("line %d: %q: the package must be `package %s` or `package %s.<name>`, on one line: Trustee queries data.%s", lineNo, line, Package, Package, Package)
	}
	out := make([]byte, 0, len(src))
	if m[2] < 0 {
		return append(out, src...), nil
	}
	out = append(out, src[:start+m[2]]...)
	return append(out, src[start+m[3]:]...), nil
}

// packageLine finds the first line of src that is neither blank nor a comment: its start and end offsets
// (without the newline) and its number. start is -1 when there is none.
func packageLine(src []byte) (start, end, lineNo int) {
	for start, lineNo = 0, 1; start < len(src); lineNo++ {
		end = start + bytes.IndexByte(src[start:], '\n')
		next := end + 1
		if end < start {
			end, next = len(src), len(src)
		}
		text := bytes.TrimSpace(src[start:end])
		if len(text) > 0 && text[0] != '#' {
			return start, end, lineNo
		}
		start = next
	}
	return -1, -1, 0
}
