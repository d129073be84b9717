package renderheap

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"unsafe"
)

// TestPrepareAdvisesTheHeapItThenUses checks the two facts Prepare relies on, on this system: the advice is
// taken (the range's mappings carry the "hg" flag in /proc/self/smaps), and the runtime builds the next
// allocations in advised memory. If a Go release changes how it maps or reuses heap pages, this fails.
func TestPrepareAdvisesTheHeapItThenUses(t *testing.T) {
	if !advisable() {
		b, err := os.ReadFile(modeFile)
		t.Skipf("Prepare advises only where huge pages are \"madvise\"; %s: %q %v", modeFile, b, err)
	}
	t.Setenv("GODEBUG", "")
	start, n := Prepare()
	if n == 0 {
		t.Fatal("Prepare advised nothing")
	}
	if start%hugePage != 0 || n%hugePage != 0 || n < Size-2*hugePage {
		t.Fatalf("Prepare advised [%#x, +%d): want whole huge pages, about %d bytes", start, n, Size)
	}
	end := start + uintptr(n)
	maps := readMaps(t)
	for _, m := range maps {
		if m.lo < end && m.hi > start && !m.advised {
			t.Fatalf("mapping [%#x, %#x) in the advised range [%#x, %#x) lacks the hg flag", m.lo, m.hi, start, end)
		}
	}

	// Allocate 8 MiB in 64 KiB objects (kept alive) and count how many lie in memory advised for huge pages.
	// (A second Prepare in one process, as with go test -count=2, may advise a new range while the heap goes
	// on in the range the first one advised.)
	const each, total = 64 << 10, 8 << 20
	keep := make([][]byte, 0, total/each)
	for range total / each {
		keep = append(keep, make([]byte, each))
	}
	maps = readMaps(t)
	in := 0
	for _, b := range keep {
		p := uintptr(unsafe.Pointer(&b[0]))
		if i := slices.IndexFunc(maps, func(m mapping) bool { return p >= m.lo && p < m.hi }); i >= 0 && maps[i].advised {
			in++
		}
	}
	if in < len(keep)/2 {
		t.Fatalf("%d of %d new heap objects are in memory advised for huge pages; want most", in, len(keep))
	}
	t.Logf("%d of %d new 64 KiB objects are in memory advised for huge pages", in, len(keep))
}

// TestPrepareRespectsDisableTHP checks that GODEBUG=disablethp=1 keeps the heap as Go leaves it.
func TestPrepareRespectsDisableTHP(t *testing.T) {
	t.Setenv("GODEBUG", "disablethp=1")
	if start, n := Prepare(); n != 0 || start != 0 {
		t.Fatalf("Prepare with disablethp=1 advised [%#x, +%d)", start, n)
	}
}

type mapping struct {
	lo, hi  uintptr
	advised bool // VmFlags has hg (MADV_HUGEPAGE)
}

// readMaps returns the mappings of /proc/self/smaps.
func readMaps(t *testing.T) []mapping {
	t.Helper()
	data, err := os.ReadFile("/proc/self/smaps")
	if err != nil {
		t.Skipf("no /proc/self/smaps: %v", err)
	}
	var out []mapping
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line := sc.Text()
		if f, ok := strings.CutPrefix(line, "VmFlags:"); ok && len(out) > 0 {
			out[len(out)-1].advised = slices.Contains(strings.Fields(f), "hg")
			continue
		}
		var lo, hi uintptr
		if fields := strings.Fields(line); len(fields) > 0 && strings.Count(fields[0], "-") == 1 {
			if _, err := fmt.Sscanf(fields[0], "%x-%x", &lo, &hi); err == nil {
				out = append(out, mapping{lo: lo, hi: hi})
			}
		}
	}
	if len(out) == 0 {
		t.Fatal("/proc/self/smaps lists no mappings")
	}
	return out
}
