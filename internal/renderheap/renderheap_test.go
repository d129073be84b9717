package renderheap

import "testing"

func TestInside(t *testing.T) {
	for _, tc := range []struct {
		name   string
		p      uintptr
		size   int
		off, n int
	}{
		{"aligned", 4 * hugePage, 3 * hugePage, 0, 3 * hugePage},
		{"starts inside a page", 4*hugePage + 8192, 3 * hugePage, hugePage - 8192, 2 * hugePage},
		{"ends inside a page", 4 * hugePage, 3*hugePage - 4096, 0, 2 * hugePage},
		{"less than a whole page", 4*hugePage + 4096, hugePage, 0, 0},
		{"exactly one page, unaligned", 4*hugePage + 4096, 2 * hugePage, hugePage - 4096, hugePage},
		{"empty", 4 * hugePage, 0, 0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			off, n := inside(tc.p, tc.size)
			if off != tc.off || n != tc.n {
				t.Fatalf("inside(%#x, %d) = %d, %d; want %d, %d", tc.p, tc.size, off, n, tc.off, tc.n)
			}
			if n > 0 && ((tc.p+uintptr(off))%hugePage != 0 || n%hugePage != 0 || off+n > tc.size) {
				t.Fatalf("inside(%#x, %d) = %d, %d: not whole huge pages within the object", tc.p, tc.size, off, n)
			}
		})
	}
}

func TestDisabled(t *testing.T) {
	for godebug, want := range map[string]bool{
		"":                            false,
		"disablethp=1":                true,
		"disablethp=0":                false,
		"madvdontneed=1,disablethp=1": true,
		"disablethp=1, gctrace=1":     true,
		"disablethp=1,disablethp=0":   false,
		"disablethp=0,disablethp=1":   true,
		"xdisablethp=1":               false,
		"disablethp":                  false,
		"gctrace=1,madvdontneed=1":    false,
		" disablethp=1 ":              true,
	} {
		if got := disabled(godebug); got != want {
			t.Errorf("disabled(%q) = %v, want %v", godebug, got, want)
		}
	}
}

func TestMode(t *testing.T) {
	for enabled, want := range map[string]string{
		"always [madvise] never\n": "madvise",
		"[always] madvise never\n": "always",
		"always madvise [never]\n": "never",
		"always madvise never\n":   "",
		"":                         "",
		"[]":                       "",
	} {
		if got := mode(enabled); got != want {
			t.Errorf("mode(%q) = %q, want %q", enabled, got, want)
		}
	}
}

func TestPad(t *testing.T) {
	for _, tc := range []struct {
		end  uintptr
		want int
	}{
		{4 * hugePage, 0},
		{4*hugePage + 8192, hugePage - 8192},
		{4*hugePage - 1, 1},
	} {
		if got := pad(tc.end); got != tc.want {
			t.Errorf("pad(%#x) = %d, want %d", tc.end, got, tc.want)
		}
	}
}
