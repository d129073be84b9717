package main

import (
	"context"
	"fmt"
	"io"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	"k8s.io/apimachinery/pkg/util/httpstream"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/client-go/tools/remotecommand"

	"github.com/cocogen/cocogen/internal/secrets"
)

// kubeExec runs commands in pods through the API server's exec subresource (WebSocket, falling back to SPDY
// on servers that do not upgrade to it), as kubectl exec does.
type kubeExec struct {
	cfg    *rest.Config
	client rest.Interface
}

// kubeExecCluster connects to the cluster of a kubeconfig and context for the secrets commands.
func kubeExecCluster(kubeconfig, kubeContext string) (dynamic.Interface, secrets.Executor, string, error) {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	rules.ExplicitPath = kubeconfig
	cfg, err := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, &clientcmd.ConfigOverrides{CurrentContext: kubeContext}).ClientConfig()
	if err != nil {
		return nil, nil, "", fmt.Errorf("load kubeconfig: %w", err)
	}
	cfg.UserAgent = "cocogen-secrets"
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return nil, nil, "", fmt.Errorf("build a client for %s: %w", cfg.Host, err)
	}
	ex, err := newKubeExec(cfg)
	if err != nil {
		return nil, nil, "", err
	}
	return dyn, ex, cfg.Host, nil
}

// newKubeExec builds the executor from a client configuration: a REST client of the core API only.
func newKubeExec(cfg *rest.Config) (*kubeExec, error) {
	scheme := runtime.NewScheme()
	if err := corev1.AddToScheme(scheme); err != nil {
		return nil, err
	}
	core := rest.CopyConfig(cfg)
	core.APIPath = "/api"
	core.GroupVersion = &corev1.SchemeGroupVersion
	core.NegotiatedSerializer = serializer.NewCodecFactory(scheme).WithoutConversion()
	rc, err := rest.RESTClientFor(core)
	if err != nil {
		return nil, fmt.Errorf("build a client for %s: %w", cfg.Host, err)
	}
	return &kubeExec{cfg: cfg, client: rc}, nil
}

func (k *kubeExec) Exec(ctx context.Context, namespace, pod, container string, command []string, stdin io.Reader, stdout, stderr io.Writer) error {
	scheme := runtime.NewScheme()
	if err := corev1.AddToScheme(scheme); err != nil {
		return err
	}
	req := k.client.Post().Resource("pods").Namespace(namespace).Name(pod).SubResource("exec").
		VersionedParams(&corev1.PodExecOptions{
			Container: container, Command: command,
			Stdin: stdin != nil, Stdout: stdout != nil, Stderr: stderr != nil,
		}, runtime.NewParameterCodec(scheme))
	ws, err := remotecommand.NewWebSocketExecutor(k.cfg, "GET", req.URL().String())
	if err != nil {
		return err
	}
	spdy, err := remotecommand.NewSPDYExecutor(k.cfg, "POST", req.URL())
	if err != nil {
		return err
	}
	ex, err := remotecommand.NewFallbackExecutor(ws, spdy, httpstream.IsUpgradeFailure)
	if err != nil {
		return err
	}
	return ex.StreamWithContext(ctx, remotecommand.StreamOptions{Stdin: stdin, Stdout: stdout, Stderr: stderr})
}
