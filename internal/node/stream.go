package node

import (
	"bytes"
	"errors"
	"fmt"
	"io"

	"gopkg.in/yaml.v3"

	"github.com/cocogen/cocogen/internal/srcpos"
)

// ParseStream reads every document of a YAML stream (Kubernetes objects separated by ---). Empty documents
// are skipped. The limits apply to the stream as a whole: MaxBytes to the input, MaxNodes to the values of all
// documents together.
func ParseStream(file string, data []byte, lim Limits) (docs []*Node, err error) {
	if lim.MaxBytes > 0 && len(data) > lim.MaxBytes {
		return nil, &srcpos.Error{Pos: srcpos.Pos{File: file}, Msg: fmt.Sprintf("file is %d bytes, more than the limit of %d", len(data), lim.MaxBytes)}
	}
	defer func() {
		if r := recover(); r != nil {
			docs, err = nil, &srcpos.Error{Pos: srcpos.Pos{File: file}, Msg: fmt.Sprintf("invalid YAML: %v", r)}
		}
	}()
	c := converter{file: file, lim: lim}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for {
		var doc yaml.Node
		if err := dec.Decode(&doc); err != nil {
			if errors.Is(err, io.EOF) {
				return docs, nil
			}
			return nil, yamlError(file, err)
		}
		root := &doc
		if root.Kind == yaml.DocumentNode {
			if len(root.Content) == 0 {
				continue
			}
			root = root.Content[0]
		}
		n, err := c.convert(root, 0)
		if err != nil {
			return nil, err
		}
		if !n.IsNull() {
			docs = append(docs, n)
		}
	}
}
