package initdata

import (
	"fmt"
	"strings"
)

// checkTOML10 refuses the TOML 1.1 syntax that BurntSushi/toml accepts but the guest's readers do not: the
// Kata agent parses init-data with the Rust toml crate 0.5 and cloud-api-adaptor with go-toml v2, both TOML
// 1.0. The 1.1 additions that can reach a document of strings are the \e and \xHH escapes in basic strings
// and inline tables spread over several lines or closed after a trailing comma (data = { … }). Optional
// seconds in times need no check: a date or time is never a valid value here. The input has already been
// parsed, so it is well-formed TOML 1.1.
func checkTOML10(s string) error {
	line := 1
	var open []byte // the brackets and braces open at this point, innermost last
	lastInTable := byte(0)
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\n':
			if len(open) > 0 && open[len(open)-1] == '{' {
				return fmt.Errorf("line %d: an inline table continues on the next line: that is TOML 1.1, and the guest reads TOML 1.0; keep it on one line or write a [table]", line)
			}
			line++
		case c == '#':
			for i+1 < len(s) && s[i+1] != '\n' {
				i++
			}
		case c == '[' || c == '{':
			open = append(open, c)
		case c == ']' || c == '}':
			if c == '}' && lastInTable == ',' {
				return fmt.Errorf("line %d: a comma before the closing } of an inline table: that is TOML 1.1, and the guest reads TOML 1.0", line)
			}
			if len(open) > 0 {
				open = open[:len(open)-1]
			}
		case c == '\'' || c == '"':
			delim := string(c)
			if strings.HasPrefix(s[i:], strings.Repeat(delim, 3)) {
				delim = strings.Repeat(delim, 3)
			}
			end, lines, err := skipString(s, i+len(delim), delim, line)
			if err != nil {
				return err
			}
			i, line = end-1, line+lines
		}
		if len(open) > 0 && open[len(open)-1] == '{' && c != ' ' && c != '\t' {
			lastInTable = c
		}
	}
	return nil
}

// skipString returns the offset just past the string that starts at i (after its opening delimiter) and the
// number of newlines in it, refusing the escapes TOML 1.1 added.
func skipString(s string, i int, delim string, line int) (end, lines int, err error) {
	basic := delim[0] == '"'
	for i < len(s) {
		if strings.HasPrefix(s[i:], delim) {
			end = i + len(delim)
			// A multi-line string may end with one or two quotes of its delimiter's kind.
			for n := 0; len(delim) == 3 && n < 2 && end < len(s) && s[end] == delim[0]; n++ {
				end++
			}
			return end, lines, nil
		}
		switch c := s[i]; {
		case c == '\n':
			lines++
		case c == '\\' && basic && i+1 < len(s):
			if e := s[i+1]; e == 'e' || e == 'x' {
				return 0, 0, fmt.Errorf("line %d: the escape \\%c is TOML 1.1, and the guest reads TOML 1.0; write \\u00XX instead", line+lines, e)
			}
			i++
			if s[i] == '\n' {
				lines++
			}
		}
		i++
	}
	return len(s), lines, nil
}
