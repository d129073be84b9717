//go:build ignore

// Measures what fresh memory costs a process on this machine: the time to touch every 4 KiB page of 64 MiB of
// new Go heap (one page fault each), of 64 MiB that the kernel populates in one call first (madvise
// MADV_POPULATE_WRITE, Linux 5.14 and later: no fault per page, the same work of finding and zeroing pages),
// and of 64 MiB mapped with transparent huge pages asked for (madvise MADV_HUGEPAGE; the kernel may still give
// small pages). Linux only. Not part of any build:
//
//	go run scripts/fresh-memory-cost.go
package main

import (
	"fmt"
	"syscall"
	"time"
	"unsafe"
)

const size = 64 << 20

func main() {
	start := time.Now()
	heap := make([]byte, size)
	for i := 0; i < size; i += 4096 {
		heap[i] = 1
	}
	d := time.Since(start)
	fmt.Printf("Go heap, 4 KiB pages: %v for %d MiB (%.1f µs per page)\n", d, size>>20, float64(d.Microseconds())/float64(size/4096))

	p, err := syscall.Mmap(-1, 0, size, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		panic(err)
	}
	const madvPopulateWrite = 23
	start = time.Now()
	if err := syscall.Madvise(p, madvPopulateWrite); err != nil {
		fmt.Printf("mmap with MADV_POPULATE_WRITE: %v (the kernel lacks it)\n", err)
	} else {
		for i := 0; i < size; i += 4096 {
			p[i] = 1
		}
		d = time.Since(start)
		fmt.Printf("mmap with MADV_POPULATE_WRITE: %v for %d MiB (%.1f µs per page)\n", d, size>>20, float64(d.Microseconds())/float64(size/4096))
	}

	const huge = 2 << 20
	m, err := syscall.Mmap(-1, 0, size+huge, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		panic(err)
	}
	off := int((uintptr(unsafe.Pointer(&m[0]))+huge-1)&^(huge-1) - uintptr(unsafe.Pointer(&m[0])))
	const madvHugepage = 14
	if err := syscall.Madvise(m[off:off+size], madvHugepage); err != nil {
		panic(err)
	}
	start = time.Now()
	for i := off; i < off+size; i += 4096 {
		m[i] = 1
	}
	fmt.Printf("mmap with MADV_HUGEPAGE: %v for %d MiB\n", time.Since(start), size>>20)
}
