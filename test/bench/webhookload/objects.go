package main

import (
	"encoding/json"
	"fmt"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utiljson "k8s.io/apimachinery/pkg/util/json"

	"gitgate.dev/gitgate/provenance/index"
)

// Names of the synthetic repository the Index is built from.
const (
	sourceName = "bench"
	repoURL    = "https://git.example.com/platform/bench.git"
	commitSHA  = "9d3c1e0b9a8d6c5e4f3a2b1c0d9e8f7a6b5c4d3e"
	bigName    = "big"
	bigNS      = "shop"
)

// gitManifest is the big Deployment as Git declares it: three containers
// with 31 environment variables each, ports, mounts, probes, resources and
// a restricted securityContext, so that the whole policy library passes it
// (with a warning per container for tags without digests). As the API
// server sends it, with defaults, managedFields and status, it is about
// 10 KB of JSON, the object of issue 4's benchmark (a).
func gitManifest() map[string]any {
	labels := map[string]any{"app.kubernetes.io/name": bigName, "app.kubernetes.io/part-of": bigNS, "app.kubernetes.io/version": "3.2.1"}
	containers := []any{}
	for i, name := range []string{"api", "worker", "proxy"} {
		env := []any{}
		for j := range 30 {
			env = append(env, map[string]any{"name": fmt.Sprintf("SETTING_%s_%02d", name, j), "value": fmt.Sprintf("value-%d-%d", i, j)})
		}
		env = append(env, map[string]any{"name": "POD_NAME", "valueFrom": map[string]any{"fieldRef": map[string]any{"fieldPath": "metadata.name"}}})
		containers = append(containers, map[string]any{
			"name":  name,
			"image": fmt.Sprintf("registry.example.com/shop/%s:3.2.1", name),
			"args":  []any{"--port", fmt.Sprint(8080 + i), "--log-format", "json"},
			"ports": []any{
				map[string]any{"name": "http", "containerPort": 8080 + i},
				map[string]any{"name": "metrics", "containerPort": 9090 + i},
			},
			"env": env,
			"resources": map[string]any{
				"requests": map[string]any{"cpu": "250m", "memory": "256Mi"},
				"limits":   map[string]any{"memory": "512Mi"},
			},
			"volumeMounts":   []any{map[string]any{"name": "config", "mountPath": "/etc/shop"}, map[string]any{"name": "tmp", "mountPath": "/tmp"}},
			"livenessProbe":  map[string]any{"httpGet": map[string]any{"path": "/healthz", "port": 8080 + i}, "initialDelaySeconds": 5},
			"readinessProbe": map[string]any{"httpGet": map[string]any{"path": "/ready", "port": 8080 + i}},
			"securityContext": map[string]any{
				"allowPrivilegeEscalation": false, "readOnlyRootFilesystem": true,
				"capabilities": map[string]any{"drop": []any{"ALL"}},
			},
		})
	}
	return map[string]any{
		"apiVersion": "apps/v1", "kind": "Deployment",
		"metadata": map[string]any{"name": bigName, "namespace": bigNS, "labels": labels},
		"spec": map[string]any{
			"replicas": 3,
			"selector": map[string]any{"matchLabels": map[string]any{"app.kubernetes.io/name": bigName}},
			"template": map[string]any{
				"metadata": map[string]any{"labels": labels, "annotations": map[string]any{"prometheus.io/scrape": "true"}},
				"spec": map[string]any{
					"serviceAccountName": bigNS,
					"securityContext":    map[string]any{"runAsNonRoot": true, "runAsUser": 10001, "seccompProfile": map[string]any{"type": "RuntimeDefault"}},
					"containers":         containers,
					"volumes":            []any{map[string]any{"name": "config", "configMap": map[string]any{"name": bigNS}}, map[string]any{"name": "tmp", "emptyDir": map[string]any{}}},
				},
			},
		},
	}
}

// liveObject is the big Deployment as the API server stores it and sends it
// in an UPDATE: server-set metadata, managedFields, defaults and a status.
// generation tells the object and the old object apart.
func liveObject(generation int) (map[string]any, error) {
	obj, err := roundTrip(gitManifest())
	if err != nil {
		return nil, err
	}
	md := obj["metadata"].(map[string]any)
	md["uid"] = "0b7d6c5e-4f3a-4b2c-9d1e-0f9a8b7c6d5e"
	md["resourceVersion"] = fmt.Sprint(981273 + generation)
	md["generation"] = generation
	md["creationTimestamp"] = "2025-01-02T03:04:05Z"
	md["annotations"] = map[string]any{"deployment.kubernetes.io/revision": "7"}
	fields := map[string]any{}
	for _, c := range []string{"api", "worker", "proxy"} {
		fields[fmt.Sprintf(`k:{"name":"%s"}`, c)] = map[string]any{
			".": map[string]any{}, "f:env": map[string]any{}, "f:image": map[string]any{},
			"f:ports": map[string]any{}, "f:resources": map[string]any{}, "f:securityContext": map[string]any{},
		}
	}
	md["managedFields"] = []any{map[string]any{
		"manager": "gitgate", "operation": "Apply", "apiVersion": "apps/v1", "time": "2025-01-02T03:04:05Z", "fieldsType": "FieldsV1",
		"fieldsV1": map[string]any{"f:spec": map[string]any{"f:template": map[string]any{"f:spec": map[string]any{"f:containers": fields}}}},
	}}
	spec := obj["spec"].(map[string]any)
	spec["revisionHistoryLimit"], spec["progressDeadlineSeconds"] = 10, 600
	spec["strategy"] = map[string]any{"type": "RollingUpdate", "rollingUpdate": map[string]any{"maxSurge": "25%", "maxUnavailable": "25%"}}
	podSpec := spec["template"].(map[string]any)["spec"].(map[string]any)
	podSpec["restartPolicy"], podSpec["dnsPolicy"], podSpec["schedulerName"] = "Always", "ClusterFirst", "default-scheduler"
	podSpec["terminationGracePeriodSeconds"] = 30
	for _, c := range podSpec["containers"].([]any) {
		cm := c.(map[string]any)
		cm["imagePullPolicy"], cm["terminationMessagePath"], cm["terminationMessagePolicy"] = "IfNotPresent", "/dev/termination-log", "File"
		for _, p := range cm["ports"].([]any) {
			p.(map[string]any)["protocol"] = "TCP"
		}
		for _, probe := range []string{"livenessProbe", "readinessProbe"} {
			pm := cm[probe].(map[string]any)
			pm["timeoutSeconds"], pm["periodSeconds"], pm["successThreshold"], pm["failureThreshold"] = 1, 10, 1, 3
			pm["httpGet"].(map[string]any)["scheme"] = "HTTP"
		}
	}
	obj["status"] = map[string]any{
		"replicas": 3, "readyReplicas": 3, "updatedReplicas": 3, "availableReplicas": 3, "observedGeneration": generation,
		"conditions": []any{map[string]any{
			"type": "Available", "status": "True", "reason": "MinimumReplicasAvailable",
			"lastUpdateTime": "2025-01-02T03:05:00Z", "lastTransitionTime": "2025-01-02T03:05:00Z",
			"message": "Deployment has minimum availability.",
		}},
	}
	return obj, nil
}

// roundTrip is obj after a trip through JSON as Kubernetes decodes it
// (whole numbers as int64), the shape the renderer and the server see.
func roundTrip(obj map[string]any) (map[string]any, error) {
	b, err := json.Marshal(obj)
	if err != nil {
		return nil, fmt.Errorf("encode manifest: %w", err)
	}
	out := map[string]any{}
	if err := utiljson.Unmarshal(b, &out); err != nil {
		return nil, fmt.Errorf("decode manifest: %w", err)
	}
	return out, nil
}

// manifest is a Git object and the repository path that declares it.
type manifest struct {
	obj  map[string]any
	path string
}

// repository is a source that declares namespaces namespaces, each with a
// Namespace, a Deployment, a Service and a ConfigMap, plus namespace shop
// with the big Deployment.
func repository(namespaces int) []manifest {
	ms := []manifest{
		{map[string]any{"apiVersion": "v1", "kind": "Namespace", "metadata": map[string]any{"name": bigNS}}, "apps/shop/namespace.yaml"},
		{gitManifest(), "apps/shop/big.yaml"},
	}
	labels := map[string]any{"app.kubernetes.io/name": "web"}
	for i := range namespaces {
		ns := fmt.Sprintf("team-%03d", i)
		dir := "apps/" + ns + "/"
		ms = append(ms,
			manifest{map[string]any{"apiVersion": "v1", "kind": "Namespace", "metadata": map[string]any{"name": ns}}, dir + "namespace.yaml"},
			manifest{map[string]any{
				"apiVersion": "apps/v1", "kind": "Deployment",
				"metadata": map[string]any{"name": "web", "namespace": ns, "labels": labels},
				"spec": map[string]any{
					"replicas": 2, "selector": map[string]any{"matchLabels": labels},
					"template": map[string]any{"metadata": map[string]any{"labels": labels}, "spec": map[string]any{
						"containers": []any{map[string]any{"name": "web", "image": "registry.example.com/web:1.0"}},
					}},
				},
			}, dir + "web.yaml"},
			manifest{map[string]any{
				"apiVersion": "v1", "kind": "Service",
				"metadata": map[string]any{"name": "web", "namespace": ns, "labels": labels},
				"spec":     map[string]any{"selector": labels, "ports": []any{map[string]any{"port": 80, "targetPort": 8080}}},
			}, dir + "service.yaml"},
			manifest{map[string]any{
				"apiVersion": "v1", "kind": "ConfigMap",
				"metadata": map[string]any{"name": "web-config", "namespace": ns, "labels": labels},
				"data":     map[string]any{"LOG_LEVEL": "info"},
			}, dir + "config.yaml"},
		)
	}
	return ms
}

// buildIndex publishes repository(namespaces) as the webhook's desired
// state: the Index a mid-sized cluster's webhook looks objects up in.
func buildIndex(namespaces int) (*index.Store, error) {
	b := index.NewBuilder()
	for _, m := range repository(namespaces) {
		origin := index.Origin{Source: sourceName, Commit: commitSHA, Path: m.path, Signers: []string{"alice", "bob"}}
		obj, err := roundTrip(m.obj)
		if err != nil {
			return nil, fmt.Errorf("index %s: %w", m.path, err)
		}
		if _, err := b.Add(&unstructured.Unstructured{Object: obj}, origin); err != nil {
			return nil, fmt.Errorf("index %s: %w", m.path, err)
		}
	}
	store := index.NewStore()
	if err := store.Publish(sourceName, b.Build()); err != nil {
		return nil, fmt.Errorf("publish index: %w", err)
	}
	return store, nil
}
