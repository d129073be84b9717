//go:build !linux

package renderheap

import "errors"

// advise has nothing to ask outside Linux.
func advise([]byte) error { return errors.ErrUnsupported }

// advisable is false outside Linux.
func advisable() bool { return false }
