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

// first is what the first Prepare of the test process did. TestMain calls it as a command does, before any
// test has run and before anything has been collected, so that the heap has no free gaps yet: the tests below
// check the facts Prepare relies on in the situation it is made for. (Later calls in the same process, as the
// other tests make, find gaps that earlier calls left, where the runtime puts new objects first.)
var first struct {
	ran      bool
	start    uintptr
	n        int
	notes    []string // why a check could not be made
	unhinted []mapping
	// reserveEnd and paddedAt are where the reserve ends and where the padding is; padding is its length.
	reserveEnd, paddedAt uintptr
	padding              int
	// in of total 64 KiB objects allocated right after Prepare lie in advised memory.
	in, total int
}

func TestMain(m *testing.M) {
	if advisable() && !disabled(os.Getenv("GODEBUG")) && os.Getenv("GOGC") == "" {
		recordFirstPrepare()
	}
	os.Exit(m.Run())
}

func recordFirstPrepare() {
	f := &first
	f.start, f.n = Prepare()
	f.ran = true
	f.reserveEnd = uintptr(unsafe.Pointer(unsafe.SliceData(reserve))) + Floor
	f.paddedAt, f.padding = uintptr(unsafe.Pointer(unsafe.SliceData(padding))), len(padding)
	maps, err := readMaps()
	if err != nil {
		f.notes = append(f.notes, err.Error())
		return
	}
	end := f.start + uintptr(f.n)
	for _, m := range maps {
		if m.lo < end && m.hi > f.start && !m.advised {
			f.unhinted = append(f.unhinted, m)
		}
	}
	// Allocate 8 MiB in 64 KiB objects (kept alive) and count how many lie in memory advised for huge pages.
	const each, total = 64 << 10, 8 << 20
	keep := make([][]byte, 0, total/each)
	for range total / each {
		keep = append(keep, make([]byte, each))
	}
	if maps, err = readMaps(); err != nil {
		f.notes = append(f.notes, err.Error())
		return
	}
	for _, b := range keep {
		p := uintptr(unsafe.Pointer(&b[0]))
		if i := slices.IndexFunc(maps, func(m mapping) bool { return p >= m.lo && p < m.hi }); i >= 0 && maps[i].advised {
			f.in++
		}
	}
	f.total = len(keep)
}

// skipUnlessPrepared skips a test of the first Prepare where it advised nothing by design.
func skipUnlessPrepared(t *testing.T) {
	t.Helper()
	if !first.ran {
		b, err := os.ReadFile(modeFile)
		t.Skipf("Prepare advises only where huge pages are \"madvise\" (and, as for a command with its defaults, neither GOGC nor GODEBUG=disablethp=1 is set); %s: %q %v", modeFile, b, err)
	}
	if len(first.notes) > 0 {
		t.Skipf("cannot inspect the mappings: %s", strings.Join(first.notes, "; "))
	}
}

// TestPrepareAdvisesTheHeapItThenUses checks the two facts Prepare relies on, on this system: the advice is
// taken (the range's mappings carry the "hg" flag in /proc/self/smaps), and the runtime builds the next
// allocations in advised memory. If a Go release changes how it maps or reuses heap pages, this fails.
func TestPrepareAdvisesTheHeapItThenUses(t *testing.T) {
	skipUnlessPrepared(t)
	f := first
	if f.n == 0 {
		t.Fatal("Prepare advised nothing")
	}
	if f.start%hugePage != 0 || f.n%hugePage != 0 || f.n < Size-2*hugePage {
		t.Fatalf("Prepare advised [%#x, +%d): want whole huge pages, about %d bytes", f.start, f.n, Size)
	}
	for _, m := range f.unhinted {
		t.Errorf("mapping [%#x, %#x) in the advised range [%#x, +%d) lacks the hg flag", m.lo, m.hi, f.start, f.n)
	}
	if f.in < f.total/2 {
		t.Fatalf("%d of %d new heap objects are in memory advised for huge pages; want most", f.in, f.total)
	}
	t.Logf("%d of %d new 64 KiB objects are in memory advised for huge pages", f.in, f.total)
}

// TestPaddingPutsTheProbeOnAHugePage checks that Prepare advises the probe from its first byte: the padding
// fills the huge page in which the reserve ends, and the probe follows on the next huge page boundary.
func TestPaddingPutsTheProbeOnAHugePage(t *testing.T) {
	skipUnlessPrepared(t)
	f := first
	if want := pad(f.reserveEnd); f.padding != want {
		t.Fatalf("padding of %d bytes after a reserve that ends at %#x; want %d", f.padding, f.reserveEnd, want)
	}
	if f.padding > 0 && f.paddedAt != f.reserveEnd {
		t.Fatalf("the padding is at %#x, not right after the reserve (%#x)", f.paddedAt, f.reserveEnd)
	}
	if want := f.reserveEnd + uintptr(f.padding); f.start != want || want%hugePage != 0 || f.n != Size {
		t.Fatalf("Prepare advised [%#x, +%d); want all of the probe, from the huge page boundary right after the reserve and its padding (%#x, +%d)", f.start, f.n, want, Size)
	}
}

// TestPrepareRespectsDisableTHP checks that GODEBUG=disablethp=1 keeps the heap as Go leaves it.
func TestPrepareRespectsDisableTHP(t *testing.T) {
	t.Setenv("GODEBUG", "disablethp=1")
	if start, n := Prepare(); n != 0 || start != 0 {
		t.Fatalf("Prepare with disablethp=1 advised [%#x, +%d)", start, n)
	}
	if len(padding) > 0 {
		// The padding only serves the probe: with nothing advised there is none.
		t.Fatalf("Prepare with disablethp=1 padded the reserve with %d bytes", len(padding))
	}
}

type mapping struct {
	lo, hi  uintptr
	advised bool // VmFlags has hg (MADV_HUGEPAGE)
}

// readMaps returns the mappings of /proc/self/smaps.
func readMaps() ([]mapping, error) {
	data, err := os.ReadFile("/proc/self/smaps")
	if err != nil {
		return nil, fmt.Errorf("no /proc/self/smaps: %v", err)
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
		return nil, fmt.Errorf("/proc/self/smaps lists no mappings")
	}
	return out, nil
}
