package renderheap

import (
	"os"

	"golang.org/x/sys/unix"
)

// advise asks Linux to back b with transparent huge pages on first touch (madvise(2), MADV_HUGEPAGE).
func advise(b []byte) error { return unix.Madvise(b, unix.MADV_HUGEPAGE) }

// advisable reports whether Linux gives huge pages to advised memory only (mode "madvise"): then the advice
// is what makes the difference.
func advisable() bool {
	b, err := os.ReadFile(modeFile)
	return err == nil && mode(string(b)) == "madvise"
}
