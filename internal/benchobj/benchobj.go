// Package benchobj builds the large Deployment the admission benchmarks send:
// the webhook package's in-process benchmarks and the webhookload HTTPS load
// test measure the same object, so their numbers can be compared.
package benchobj

import "fmt"

// Name is the big Deployment's name.
const Name = "big"

// containers are the Deployment's container names, in order.
var containers = []string{"api", "worker", "proxy"}

// Manifest is the big Deployment in namespace ns as Git declares it: three
// containers with 31 environment variables each, ports, mounts, probes,
// resources and a restricted securityContext, so that the whole policy
// library passes it (with a warning per container for tags without
// digests). Whole numbers are int64, as Kubernetes decodes JSON, and no two
// places share a map, so callers may change the object freely.
func Manifest(ns string) map[string]any {
	cs := []any{}
	for i, name := range containers {
		cs = append(cs, container(i, name))
	}
	return map[string]any{
		"apiVersion": "apps/v1", "kind": "Deployment",
		"metadata": map[string]any{"name": Name, "namespace": ns, "labels": labels()},
		"spec": map[string]any{
			"replicas": int64(3),
			"selector": map[string]any{"matchLabels": map[string]any{"app.kubernetes.io/name": Name}},
			"template": map[string]any{
				"metadata": map[string]any{"labels": labels(), "annotations": map[string]any{"prometheus.io/scrape": "true"}},
				"spec": map[string]any{
					"serviceAccountName": "shop",
					"securityContext":    map[string]any{"runAsNonRoot": true, "runAsUser": int64(10001), "seccompProfile": map[string]any{"type": "RuntimeDefault"}},
					"containers":         cs,
					"volumes":            []any{map[string]any{"name": "config", "configMap": map[string]any{"name": "shop"}}, map[string]any{"name": "tmp", "emptyDir": map[string]any{}}},
				},
			},
		},
	}
}

func labels() map[string]any {
	return map[string]any{"app.kubernetes.io/name": Name, "app.kubernetes.io/part-of": "shop", "app.kubernetes.io/version": "3.2.1"}
}

// container is the i-th container, named name.
func container(i int, name string) map[string]any {
	env := []any{}
	for j := range 30 {
		env = append(env, map[string]any{"name": fmt.Sprintf("SETTING_%s_%02d", name, j), "value": fmt.Sprintf("value-%d-%d", i, j)})
	}
	env = append(env, map[string]any{"name": "POD_NAME", "valueFrom": map[string]any{"fieldRef": map[string]any{"fieldPath": "metadata.name"}}})
	port := int64(8080 + i)
	return map[string]any{
		"name":  name,
		"image": fmt.Sprintf("registry.example.com/shop/%s:3.2.1", name),
		"args":  []any{"--port", fmt.Sprint(port), "--log-format", "json"},
		"ports": []any{map[string]any{"name": "http", "containerPort": port}, map[string]any{"name": "metrics", "containerPort": int64(9090 + i)}},
		"env":   env,
		"resources": map[string]any{
			"requests": map[string]any{"cpu": "250m", "memory": "256Mi"},
			"limits":   map[string]any{"memory": "512Mi"},
		},
		"volumeMounts":   []any{map[string]any{"name": "config", "mountPath": "/etc/shop"}, map[string]any{"name": "tmp", "mountPath": "/tmp"}},
		"livenessProbe":  map[string]any{"httpGet": map[string]any{"path": "/healthz", "port": port}, "initialDelaySeconds": int64(5)},
		"readinessProbe": map[string]any{"httpGet": map[string]any{"path": "/ready", "port": port}},
		"securityContext": map[string]any{
			"allowPrivilegeEscalation": false, "readOnlyRootFilesystem": true,
			"capabilities": map[string]any{"drop": []any{"ALL"}},
		},
	}
}

// Live is Manifest(ns) as the API server stores it and sends it in an
// UPDATE: server-set metadata (with the given generation and
// resourceVersion, which tell an object and its old object apart),
// managedFields, the Deployment's and the pod spec's defaults, a status.
// With them it is about 10 KB of JSON, the object of issue 4's benchmark (a).
func Live(ns string, generation int64, resourceVersion string) map[string]any {
	obj := Manifest(ns)
	md := obj["metadata"].(map[string]any)
	md["uid"], md["resourceVersion"], md["generation"] = "0b7d6c5e-4f3a-4b2c-9d1e-0f9a8b7c6d5e", resourceVersion, generation
	md["creationTimestamp"] = "2025-01-02T03:04:05Z"
	md["annotations"] = map[string]any{"deployment.kubernetes.io/revision": "7"}
	md["managedFields"] = managedFields()
	spec := obj["spec"].(map[string]any)
	spec["revisionHistoryLimit"], spec["progressDeadlineSeconds"] = int64(10), int64(600)
	spec["strategy"] = map[string]any{"type": "RollingUpdate", "rollingUpdate": map[string]any{"maxSurge": "25%", "maxUnavailable": "25%"}}
	defaultPodSpec(spec["template"].(map[string]any)["spec"].(map[string]any))
	obj["status"] = map[string]any{
		"replicas": int64(3), "readyReplicas": int64(3), "updatedReplicas": int64(3), "availableReplicas": int64(3), "observedGeneration": generation,
		"conditions": []any{map[string]any{
			"type": "Available", "status": "True", "reason": "MinimumReplicasAvailable",
			"lastUpdateTime": "2025-01-02T03:05:00Z", "lastTransitionTime": "2025-01-02T03:05:00Z",
			"message": "Deployment has minimum availability.",
		}},
	}
	return obj
}

// managedFields is one server-side apply entry by gitgate owning the
// containers' main fields.
func managedFields() []any {
	fields := map[string]any{}
	for _, c := range containers {
		fields[fmt.Sprintf(`k:{"name":"%s"}`, c)] = map[string]any{
			".": map[string]any{}, "f:env": map[string]any{}, "f:image": map[string]any{},
			"f:ports": map[string]any{}, "f:resources": map[string]any{}, "f:securityContext": map[string]any{},
		}
	}
	return []any{map[string]any{
		"manager": "gitgate", "operation": "Apply", "apiVersion": "apps/v1", "time": "2025-01-02T03:04:05Z", "fieldsType": "FieldsV1",
		"fieldsV1": map[string]any{"f:spec": map[string]any{"f:template": map[string]any{"f:spec": map[string]any{"f:containers": fields}}}},
	}}
}

// defaultPodSpec sets the pod spec defaults the API server adds to the
// manifest's fields.
func defaultPodSpec(podSpec map[string]any) {
	podSpec["restartPolicy"], podSpec["dnsPolicy"], podSpec["schedulerName"] = "Always", "ClusterFirst", "default-scheduler"
	podSpec["terminationGracePeriodSeconds"] = int64(30)
	for _, c := range podSpec["containers"].([]any) {
		cm := c.(map[string]any)
		cm["imagePullPolicy"], cm["terminationMessagePath"], cm["terminationMessagePolicy"] = "IfNotPresent", "/dev/termination-log", "File"
		for _, p := range cm["ports"].([]any) {
			p.(map[string]any)["protocol"] = "TCP"
		}
		for _, probe := range []string{"livenessProbe", "readinessProbe"} {
			pm := cm[probe].(map[string]any)
			pm["timeoutSeconds"], pm["periodSeconds"], pm["successThreshold"], pm["failureThreshold"] = int64(1), int64(10), int64(1), int64(3)
			pm["httpGet"].(map[string]any)["scheme"] = "HTTP"
		}
	}
}
