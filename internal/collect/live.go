package collect

import (
	"context"
	"fmt"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/cocogen/cocogen/internal/diag"
	"github.com/cocogen/cocogen/internal/metadata"
	"github.com/cocogen/cocogen/internal/srcpos"
)

// The objects a live cluster is read from. OpenShift's config.openshift.io types are read as unstructured
// objects, so that cocogen needs no OpenShift API module.
var (
	configMaps      = schema.GroupVersionResource{Version: "v1", Resource: "configmaps"}
	infrastructures = schema.GroupVersionResource{Group: "config.openshift.io", Version: "v1", Resource: "infrastructures"}
	ingresses       = schema.GroupVersionResource{Group: "config.openshift.io", Version: "v1", Resource: "ingresses"}
	clusterVersions = schema.GroupVersionResource{Group: "config.openshift.io", Version: "v1", Resource: "clusterversions"}
)

// CloudConfNamespace, CloudConfName and CloudConfKey locate the cloud controller's configuration, which is
// also where the upstream pattern's policies read the Azure facts from.
const (
	CloudConfNamespace = "openshift-cloud-controller-manager"
	CloudConfName      = "cloud-conf"
	CloudConfKey       = "cloud.conf"
)

// Source names used as positions of facts read from a live cluster.
const (
	SourceCloudConf      = CloudConfNamespace + "/" + CloudConfName + "/" + CloudConfKey
	SourceInfrastructure = "infrastructures.config.openshift.io/cluster"
	SourceIngress        = "ingresses.config.openshift.io/cluster"
	SourceClusterVersion = "clusterversions.config.openshift.io/version"
)

// Cluster is what a live cluster says about itself.
type Cluster struct {
	// Facts are cluster.platform, cluster.appsDomain and cluster.version, as far as the cluster has them.
	Facts []metadata.Override
	// CloudConf is the cloud controller's cloud.conf (nil when the ConfigMap does not exist: not Azure, or not
	// OpenShift); read it with CloudConf(SourceCloudConf, …).
	CloudConf []byte
}

// ReadCluster reads the facts of a live cluster. An object that does not exist or that the user may not read
// is a warning in d (the file then lacks that fact); any other API error is returned.
func ReadCluster(ctx context.Context, c dynamic.Interface) (*Cluster, *diag.List, error) {
	d := &diag.List{}
	out := &Cluster{}
	get := func(gvr schema.GroupVersionResource, ns, name, source string) (*unstructured.Unstructured, error) {
		var obj *unstructured.Unstructured
		var err error
		if ns != "" {
			obj, err = c.Resource(gvr).Namespace(ns).Get(ctx, name, metav1.GetOptions{})
		} else {
			obj, err = c.Resource(gvr).Get(ctx, name, metav1.GetOptions{})
		}
		switch {
		case err == nil:
			return obj, nil
		case apierrors.IsNotFound(err):
			d.Warnf(srcpos.Pos{File: source}, "", "not found on the cluster; its facts are left out")
			return nil, nil
		case apierrors.IsForbidden(err):
			d.Warnf(srcpos.Pos{File: source}, "", "you may not read it (%v); its facts are left out", err)
			return nil, nil
		}
		return nil, fmt.Errorf("read %s: %w", source, err)
	}

	cm, err := get(configMaps, CloudConfNamespace, CloudConfName, SourceCloudConf)
	if err != nil {
		return nil, nil, err
	}
	if cm != nil {
		s, found, _ := unstructured.NestedString(cm.Object, "data", CloudConfKey)
		if found {
			out.CloudConf = []byte(s)
		} else {
			d.Warnf(srcpos.Pos{File: SourceCloudConf}, "", "the ConfigMap has no key %s", CloudConfKey)
		}
	}

	infra, err := get(infrastructures, "", "cluster", SourceInfrastructure)
	if err != nil {
		return nil, nil, err
	}
	if infra != nil {
		// status.platformStatus.type is what the cluster runs on; spec.platformSpec.type is what was asked
		// for; status.platform is the field older releases set.
		for _, path := range [][]string{{"status", "platformStatus", "type"}, {"spec", "platformSpec", "type"}, {"status", "platform"}} {
			if s, _, _ := unstructured.NestedString(infra.Object, path...); s != "" {
				out.Facts = append(out.Facts, metadata.Override{Path: "cluster.platform", Value: s, Pos: srcpos.Pos{File: SourceInfrastructure}})
				break
			}
		}
	}

	ing, err := get(ingresses, "", "cluster", SourceIngress)
	if err != nil {
		return nil, nil, err
	}
	if ing != nil {
		if s, _, _ := unstructured.NestedString(ing.Object, "spec", "domain"); s != "" {
			out.Facts = append(out.Facts, metadata.Override{Path: "cluster.appsDomain", Value: s, Pos: srcpos.Pos{File: SourceIngress}})
		}
	}

	cv, err := get(clusterVersions, "", "version", SourceClusterVersion)
	if err != nil {
		return nil, nil, err
	}
	if cv != nil {
		if v := completedVersion(cv); v != "" {
			out.Facts = append(out.Facts, metadata.Override{Path: "cluster.version", Value: v, Pos: srcpos.Pos{File: SourceClusterVersion}})
		} else {
			d.Warnf(srcpos.Pos{File: SourceClusterVersion}, "", "no completed update in status.history; cluster.version is left out")
		}
	}
	return out, d, nil
}

// completedVersion returns Major.Minor of the newest completed entry of status.history (the list is newest
// first), or "".
func completedVersion(cv *unstructured.Unstructured) string {
	history, _, _ := unstructured.NestedSlice(cv.Object, "status", "history")
	for _, h := range history {
		entry, ok := h.(map[string]any)
		if !ok {
			continue
		}
		if state, _ := entry["state"].(string); state != "Completed" {
			continue
		}
		version, _ := entry["version"].(string)
		parts := strings.SplitN(version, ".", 3)
		if len(parts) < 2 {
			return version // left for metadata validation to reject with a position
		}
		return parts[0] + "." + parts[1]
	}
	return ""
}

// Client builds a dynamic client from a kubeconfig file ("" follows $KUBECONFIG and ~/.kube/config) and an
// optional context name. It also returns the API server's address, for messages.
func Client(kubeconfig, context string) (dynamic.Interface, string, error) {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	rules.ExplicitPath = kubeconfig
	cfg, err := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, &clientcmd.ConfigOverrides{CurrentContext: context}).ClientConfig()
	if err != nil {
		return nil, "", fmt.Errorf("load kubeconfig: %w", err)
	}
	cfg.UserAgent = "cocogen-metadata-collect"
	c, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return nil, "", fmt.Errorf("build a client for %s: %w", cfg.Host, err)
	}
	return c, cfg.Host, nil
}
