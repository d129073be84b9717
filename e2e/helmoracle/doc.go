// Package helmoracle checks cocogen's Helm semantics against Helm itself: the --set parser against Helm's
// strvals, value-file merging and chart-default coalescing against Helm's CLI and chartutil, the template
// functions against the function map of Helm's engine, and the kind order against Helm's install order.
//
// It is a module of its own, beside e2e/ rather than in it: Helm v3.22 builds against Kubernetes 0.37, as
// cocogen does, whereas the e2e module pins Argo CD 2.14.21 and with it Kubernetes 0.31, so the two cannot
// share one build list; and cocogen's own module stays free of Helm. Run it with
//
//	cd e2e/helmoracle && go test ./...
//	cd e2e/helmoracle && go test -run '^$' -fuzz FuzzSet -fuzztime 1m
package helmoracle
