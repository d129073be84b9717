// Package renderheap sets up the heap of a process that renders, before the render. A cocogen command is a
// new process each time (the Argo CD plugin starts one per application and refresh): its heap starts empty,
// all of it fresh memory, and it lives for a fraction of a second. Go's defaults suit a long-running server;
// two of them cost such a process much of its time, and Prepare changes both.
//
// Huge pages. Every 4 KiB page of fresh memory costs a page fault the first time the program writes it. On
// the virtual machines measured for the README a fault costs about 12 µs: a 2,000-application render touches
// about 30 MB of heap, some 7,400 faults, and a quarter of its CPU samples were in the kernel's fault path. A
// 2 MiB transparent huge page costs one fault for 512 small ones (32 MiB touched: 100 ms in 4 KiB pages, 2 ms
// in huge pages; the render as a process: 161 ms before, 98 ms after).
// Linux gives a process huge pages on first touch where /sys/kernel/mm/transparent_hugepage/enabled is
// "always", or where it is "madvise" (the default of Ubuntu and Debian, among others) and the memory was advised
// with MADV_HUGEPAGE (Documentation/admin-guide/mm/transhuge.rst). Go's runtime does not advise its heap (it
// stopped in Go 1.21.1), so on a "madvise" system Prepare does: it allocates one large object (the probe),
// which the runtime maps from fresh address space without touching it, advises the 2 MiB-aligned part of it,
// and frees it at once with a collection. The runtime's page allocator hands out the lowest free addresses
// first, so the render's heap is then built in that advised range; the range keeps the advice when the runtime
// reuses it, because the runtime maps it only once (TestPrepareAdvisesTheHeapItThenUses checks both on the
// machine it runs on). Where huge pages are "always" (the heap gets them anyway) or "never", or on other
// systems, nothing is advised. The costs are the two reasons Go stopped advising. A long-running server's
// sparse heap may be filled out to whole huge pages by the kernel's khugepaged in the background
// (golang/go#64332); a command does not live long enough. And on a host whose free memory is fragmented, a
// fault in advised memory may stall while the kernel compacts memory for a huge page (golang/go#61718), where
// defrag is "madvise" (the default): a render touches about 15 such pages, each at most once.
// GODEBUG=disablethp=1 turns the advice off, as it turns off huge pages for Go's heap.
//
// A collection floor. With GOGC at 100 the collector first runs when the heap reaches 4 MB and then whenever
// it doubles its live data; a render of the built-in pattern allocates 25 MB, mostly short-lived, and ran nine
// collections, each with its fixed cost of stopping and restarting every goroutine of the render. Prepare
// allocates a reserve of Floor bytes that the program never writes (so it takes no memory) and keeps it live,
// so that the collector paces from live data plus the reserve: the first collection comes after about Floor
// bytes of allocation, and a large render's heap still grows as with GOGC 100, by Floor more. GOGC set in the
// environment skips the reserve: whoever sets it chose the pace.
//
// When. The earlier Prepare runs, the more of the process's allocations land in huge pages and the less its
// collection has to mark. cocogen's commands that render have it run while the program's packages are still
// being initialised (package early), before OPA, kustomize and the commands allocate their tables; a command
// that finds the heap prepared leaves it (PrepareOnce).
package renderheap

import (
	"os"
	"runtime"
	"runtime/debug"
	"strings"
	"unsafe"
)

// Size is how much address space Prepare advises: room for the heap of a 2,000-application render (about 40
// MB at its peak with the floor, besides the reserve). Address space costs nothing until it is touched. It is
// not larger because the runtime counts free heap toward the memory limit the CLI sets (384 MiB), until its
// scavenger returns it.
const Size = 64 << 20

// Floor is the reserve Prepare keeps live. 32 MiB took the built-in pattern's render from nine
// collections to none and a 2,000-application render from six to one; its peak RSS went from 58 to 80 MiB
// and from 77 to 89 MiB (README, Performance). The reserve counts toward the memory limit.
const Floor = 32 << 20

// hugePage is the size of a transparent huge page on amd64 and arm64 with 4 KiB base pages.
const hugePage = 2 << 20

// Prepare sets up the heap for a render (see the package comment): it keeps the reserve of Floor bytes
// unless GOGC is set in the environment, and advises Size bytes of fresh heap address space for huge pages.
// It returns the advised range's first address and length, or 0, 0 when it advised nothing: huge pages
// disabled with GODEBUG=disablethp=1 (Go's own switch, respected here), a system where huge pages are not
// "madvise", or the advice refused. Call it once, early, before the heap holds much: it runs a collection.
func Prepare() (start uintptr, n int) {
	prepared = true
	// No collection while the reserve and the probe are allocated (each would start one); the one below
	// then sets the pace from the reserve.
	pct := debug.SetGCPercent(-1)
	defer debug.SetGCPercent(pct)
	thp := !disabled(os.Getenv("GODEBUG")) && advisable()
	if os.Getenv("GOGC") == "" {
		reserve, padding = make([]byte, Floor), nil
		if thp {
			padding = make([]byte, pad(uintptr(unsafe.Pointer(unsafe.SliceData(reserve)))+Floor))
		}
	}
	if thp {
		b := make([]byte, Size)
		off, m := inside(uintptr(unsafe.Pointer(unsafe.SliceData(b))), len(b))
		if m > 0 && advise(b[off:off+m]) == nil {
			start, n = uintptr(unsafe.Pointer(&b[off])), m
		}
		runtime.KeepAlive(b)
	}
	// Free the probe now, while the heap is small and a collection costs little, so that the next
	// allocations take its pages.
	runtime.GC()
	return start, n
}

// PrepareOnce calls Prepare unless the process has prepared its heap already: package early does it for the
// commands that render while the program's packages are initialised.
func PrepareOnce() {
	if !prepared {
		Prepare()
	}
}

// prepared is whether Prepare has run in this process.
var prepared bool

// reserve is the heap floor: never written, so it takes no memory, but live, so that the collector's pace
// (GOGC) counts it.
var reserve []byte

// padding, never written either, takes the rest of the huge page in which the reserve ends, so that the probe
// starts on a huge page boundary. The runtime places a large object that fits nowhere else at the end of the
// heap's used address space, fresh memory: the reserve there, then the padding, then the probe. Without the
// padding, the probe's first partial huge page cannot be advised, and the runtime fills that memory first
// after the collection, in small pages (the built-in pattern's render: 800 → 622 small-page faults in its
// heap with the padding; README, Performance, Earlier rounds).
var padding []byte

// pad returns how many bytes lie from end to the next huge page boundary.
func pad(end uintptr) int { return int((end+hugePage-1)&^(hugePage-1) - end) }

// inside returns the offset and length of the largest run of whole huge pages within [p, p+size).
func inside(p uintptr, size int) (off, n int) {
	first := (p + hugePage - 1) &^ (hugePage - 1)
	end := (p + uintptr(size)) &^ (hugePage - 1)
	if end <= first {
		return 0, 0
	}
	return int(first - p), int(end - first)
}

// disabled reports whether a GODEBUG value turns Go's use of transparent huge pages off (disablethp=1). As in
// the runtime, the last setting of a name wins.
func disabled(godebug string) bool {
	off := false
	for kv := range strings.SplitSeq(godebug, ",") {
		if name, value, ok := strings.Cut(strings.TrimSpace(kv), "="); ok && name == "disablethp" {
			off = value == "1"
		}
	}
	return off
}

// modeFile is where Linux says when it gives huge pages.
const modeFile = "/sys/kernel/mm/transparent_hugepage/enabled"

// mode returns the selected mode of the contents of modeFile ("always [madvise] never" selects madvise), or
// "" when there is none.
func mode(enabled string) string {
	for f := range strings.FieldsSeq(enabled) {
		if len(f) > 2 && f[0] == '[' && f[len(f)-1] == ']' {
			return f[1 : len(f)-1]
		}
	}
	return ""
}
