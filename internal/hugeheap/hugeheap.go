// Package hugeheap asks the operating system to back the heap of a short-lived render with transparent huge
// pages (2 MiB) instead of 4 KiB pages.
//
// A cocogen command is a new process each time (the Argo CD plugin starts one per application and refresh), so
// its heap is always fresh memory, and every 4 KiB page of it costs a page fault the first time the program
// writes it. On the virtual machines measured for the README a fault costs about 12 µs: a 2,000-application
// render touches about 30 MB of heap, some 7,400 faults, and spent a third of its process time in them. A
// 2 MiB page costs one fault for 512 small ones.
//
// Linux gives a process huge pages on first touch where /sys/kernel/mm/transparent_hugepage/enabled is
// "always", or where it is "madvise" (the default of Ubuntu and Debian, among others) and the memory was advised
// with MADV_HUGEPAGE (Documentation/admin-guide/mm/transhuge.rst). Go's runtime does not advise its heap (it
// stopped in Go 1.21.1), so on a "madvise" system Prepare does: it allocates one large object, which the
// runtime maps from fresh address space without touching it, advises the 2 MiB-aligned part of it, and frees
// it at once with a collection. The runtime's page allocator hands out the lowest free addresses first, so the
// render's heap is then built in that advised range; the range keeps the advice when the runtime reuses it,
// because the runtime maps it only once (TestPrepareAdvisesTheHeapItThenUses checks both on the machine it
// runs on). Nothing depends on the advice being taken: where huge pages are "always" (the heap gets them
// anyway) or "never", or on other systems, Prepare does nothing and the heap is what it would have been.
//
// The costs: the collection, a few milliseconds at start, so only commands that render call Prepare; and the
// two reasons Go stopped advising. A long-running server's sparse heap may be filled out to whole huge pages
// by the kernel's khugepaged in the background (golang/go#64332); a command lives for a fraction of a second.
// And on a host whose free memory is fragmented, a fault in advised memory may stall while the kernel
// compacts memory for a huge page (golang/go#61718), where defrag is "madvise" (the default): a render
// touches about 15 such pages, each at most once. GODEBUG=disablethp=1 turns Prepare off, as it turns off huge
// pages for Go's heap.
package hugeheap

import (
	"os"
	"runtime"
	"strings"
	"unsafe"
)

// Size is how much address space Prepare advises: room for the heap of a 2,000-application render (about 30
// MB at its peak) twice over. Address space costs nothing until it is touched. It is not larger because the
// runtime counts free heap toward the memory limit the CLI sets (384 MiB), until its scavenger returns it.
const Size = 64 << 20

// hugePage is the size of a transparent huge page on amd64 and arm64 with 4 KiB base pages.
const hugePage = 2 << 20

// Prepare advises Size bytes of fresh heap address space for huge pages (see the package comment) and returns
// the advised range's first address and length, or 0, 0 when it advised nothing: huge pages disabled with
// GODEBUG=disablethp=1 (Go's own switch, respected here), a system where huge pages are not "madvise", or the
// advice refused.
// Call it once, early, before the heap holds much: it runs a collection.
func Prepare() (start uintptr, n int) {
	if disabled(os.Getenv("GODEBUG")) || !advisable() {
		return 0, 0
	}
	b := make([]byte, Size)
	off, n := inside(uintptr(unsafe.Pointer(unsafe.SliceData(b))), len(b))
	if n > 0 && advise(b[off:off+n]) == nil {
		start = uintptr(unsafe.Pointer(&b[off]))
	} else {
		n = 0
	}
	runtime.KeepAlive(b)
	b = nil
	// Free the object now, while the heap is small and a collection costs little, so that the next
	// allocations take its pages.
	runtime.GC()
	return start, n
}

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
