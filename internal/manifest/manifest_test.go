package manifest

import (
	"bytes"
	"errors"
	"fmt"
	"testing"

	"github.com/cocogen/cocogen/internal/node"
)

func objects(n int) []Object {
	objs := make([]Object, n)
	for i := range objs {
		objs[i] = Object{
			Node: node.NewMap().Set("apiVersion", node.NewString("v1")).Set("kind", node.NewString("Namespace")).
				Set("metadata", node.NewMap().Set("name", node.NewString(fmt.Sprintf("ns-%05d", i)))),
			Source: fmt.Sprintf("values.yaml:%d:1 clusterGroup.namespaces", i+1),
		}
	}
	return objs
}

// TestWriteYAMLStreamsInOrder: the chunks encoded in parallel reach the writer in order, as one sequential
// encoding would write them, for streams of one chunk and of many.
func TestWriteYAMLStreamsInOrder(t *testing.T) {
	for _, n := range []int{0, 1, 255, 256, 257, 3000} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			objs := objects(n)
			var want bytes.Buffer
			encodeChunk(&want, objs)
			var got bytes.Buffer
			if err := WriteYAML(&got, objs); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got.Bytes(), want.Bytes()) {
				t.Errorf("parallel stream differs from the sequential encoding (%d vs %d bytes)", got.Len(), want.Len())
			}
			var joined bytes.Buffer
			EncodeYAML(&joined, objs)
			if !bytes.Equal(joined.Bytes(), want.Bytes()) {
				t.Errorf("EncodeYAML differs from the sequential encoding (%d vs %d bytes)", joined.Len(), want.Len())
			}
		})
	}
}

type failAfter struct {
	writes int
	err    error
}

func (f *failAfter) Write(p []byte) (int, error) {
	if f.writes == 0 {
		return 0, f.err
	}
	f.writes--
	return len(p), nil
}

// TestWriteYAMLStopsAtWriteError: a writer that fails (a closed pipe) ends the stream with its error.
func TestWriteYAMLStopsAtWriteError(t *testing.T) {
	boom := errors.New("broken pipe")
	for _, after := range []int{0, 1, 5} {
		w := &failAfter{writes: after, err: boom}
		if err := WriteYAML(w, objects(5000)); !errors.Is(err, boom) {
			t.Errorf("after %d writes: err = %v, want %v", after, err, boom)
		}
	}
}
